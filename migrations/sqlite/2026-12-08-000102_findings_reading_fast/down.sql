DROP TRIGGER findings_stamp_delete;
DROP TRIGGER findings_stamp_update;
DROP TRIGGER findings_stamp_insert;
DELETE FROM change_stamps WHERE name = 'findings';
DROP INDEX findings_money;
DROP INDEX findings_app_order;
