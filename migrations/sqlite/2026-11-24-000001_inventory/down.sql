DROP TABLE api_tokens;
DROP TABLE audit_log;
DROP TABLE accounts;
DROP TABLE subscription_terms;
DROP TABLE subscriptions;
DROP TABLE apps;
DROP TABLE people;
