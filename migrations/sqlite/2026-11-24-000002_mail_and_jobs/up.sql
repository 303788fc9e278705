-- Renewal reminders, the mail outbox, scheduled jobs, and calendar-feed tokens.
-- Keep schema-identical with migrations/postgres.

ALTER TABLE subscriptions ADD COLUMN reminder_days TEXT;
ALTER TABLE subscriptions ADD COLUMN no_action_needed BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'api';

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE UNIQUE INDEX outbox_dedupe_key ON outbox (dedupe_key);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE renewal_reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id),
    deadline DATE NOT NULL,
    stage_days INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    outbox_id BIGINT REFERENCES outbox (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX renewal_reminders_stage ON renewal_reminders (subscription_id, deadline, stage_days);

CREATE TABLE jobs (
    name TEXT PRIMARY KEY NOT NULL,
    schedule TEXT NOT NULL,
    lease_holder TEXT,
    lease_until TIMESTAMP,
    last_period TEXT,
    last_started_at TIMESTAMP,
    last_finished_at TIMESTAMP,
    last_duration_ms BIGINT,
    last_outcome TEXT,
    last_error TEXT,
    next_run_at TIMESTAMP
);
