DROP TABLE signin_links;
DROP TABLE sessions;
DROP TABLE user_roles;
DROP TABLE users;
