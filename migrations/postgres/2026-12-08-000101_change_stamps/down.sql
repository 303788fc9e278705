DROP TRIGGER accounts_stamp ON accounts;
DROP FUNCTION change_stamp_bump();
DROP TABLE change_stamps;
