DROP TRIGGER findings_stamp ON findings;
DELETE FROM change_stamps WHERE name = 'findings';
DROP INDEX findings_money;
DROP INDEX findings_app_order;
