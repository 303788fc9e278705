-- Findings with their lifecycle, exclusions, and the per-app inactivity threshold.
-- Keep schema-identical with migrations/postgres.

ALTER TABLE apps ADD COLUMN inactive_days INTEGER;

CREATE TABLE findings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    app_id BIGINT REFERENCES apps (id),
    subscription_id BIGINT REFERENCES subscriptions (id),
    status TEXT NOT NULL,
    seats BIGINT,
    monthly_savings_cents BIGINT,
    annual_savings_cents BIGINT,
    currency TEXT,
    explanation TEXT NOT NULL,
    evidence TEXT NOT NULL,
    subject_key TEXT NOT NULL,
    dismissed_subject_key TEXT,
    dismiss_reason TEXT,
    snoozed_until DATE,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX findings_fingerprint ON findings (fingerprint);
CREATE INDEX findings_status ON findings (status);

CREATE TABLE finding_exclusions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT REFERENCES apps (id),
    account_id BIGINT REFERENCES accounts (id),
    kind TEXT,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
