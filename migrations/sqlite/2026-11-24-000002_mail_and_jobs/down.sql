DROP TABLE jobs;
DROP TABLE renewal_reminders;
DROP TABLE outbox;
ALTER TABLE api_tokens DROP COLUMN scope;
ALTER TABLE subscriptions DROP COLUMN no_action_needed;
ALTER TABLE subscriptions DROP COLUMN reminder_days;
