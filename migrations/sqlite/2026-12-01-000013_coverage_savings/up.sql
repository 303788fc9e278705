-- Data coverage and the savings ledger (issue 13).
-- Keep schema-identical with the other backend's tree (tests/storage compares them).

-- How an app's seats and usage are known when no connection brings them: the last way seats
-- were entered by hand or file (csv | manual) and usage was fed (push | csv).
CREATE TABLE app_sources (
    app_id BIGINT PRIMARY KEY NOT NULL REFERENCES apps (id),
    seats_source TEXT,
    seats_updated_at TIMESTAMP,
    usage_source TEXT,
    usage_updated_at TIMESTAMP
);

-- Money saved (realised) or not spent (avoided), one row per action, unique by its key so that
-- nothing is counted twice however often an action is completed or recorded.
CREATE TABLE savings_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    app_id BIGINT REFERENCES apps (id),
    subscription_id BIGINT REFERENCES subscriptions (id),
    request_id BIGINT,
    term_number INTEGER,
    seats_before BIGINT,
    seats_after BIGINT,
    unit_price_cents BIGINT,
    annual_cents BIGINT NOT NULL,
    currency TEXT NOT NULL,
    contract_lowered BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    actor TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX savings_entries_key ON savings_entries (entry_key);
CREATE INDEX savings_entries_recorded_at ON savings_entries (recorded_at);
