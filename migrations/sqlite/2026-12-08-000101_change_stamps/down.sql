DROP TRIGGER accounts_stamp_delete;
DROP TRIGGER accounts_stamp_update;
DROP TRIGGER accounts_stamp_insert;
DROP TABLE change_stamps;
