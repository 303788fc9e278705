-- Connections to vendors' admin APIs, their sync runs, OAuth sign-in states, and what syncs
-- bring beyond seats: licence pools (purchased/consumed per SKU) and third-party app grants.
-- Keep schema-identical with migrations/postgres.

CREATE TABLE connections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connector TEXT NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT,
    settings TEXT NOT NULL,
    secrets TEXT NOT NULL,
    schedule TEXT NOT NULL,
    status TEXT NOT NULL,
    next_sync_at TIMESTAMP,
    sync_lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP
);
CREATE UNIQUE INDEX connections_name ON connections (name);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    heartbeat_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    seen BIGINT NOT NULL,
    added BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    api_calls BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX sync_runs_connection ON sync_runs (connection_id, status);

CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY NOT NULL,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    verifier TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE TABLE licence_pools (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    app_id BIGINT NOT NULL REFERENCES apps (id),
    subscription_id BIGINT REFERENCES subscriptions (id),
    sku TEXT NOT NULL,
    name TEXT,
    purchased BIGINT,
    consumed BIGINT,
    last_seen_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE UNIQUE INDEX licence_pools_sku ON licence_pools (connection_id, app_id, sku);

CREATE TABLE app_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id BIGINT NOT NULL REFERENCES connections (id),
    client_id TEXT NOT NULL,
    app_name TEXT NOT NULL,
    scopes TEXT,
    user_key TEXT NOT NULL,
    person_id BIGINT REFERENCES people (id),
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP
);
CREATE UNIQUE INDEX app_grants_key ON app_grants (connection_id, client_id, user_key);

-- Seats and people a connection brought in; no foreign key, so down.sql can drop the columns.
ALTER TABLE accounts ADD COLUMN connection_id BIGINT;
ALTER TABLE accounts ADD COLUMN activity_tracked BOOLEAN NOT NULL DEFAULT TRUE;
-- Whether the holder used their licence's premium features lately (null: unknown); for downgrades.
ALTER TABLE accounts ADD COLUMN premium_used BOOLEAN;
CREATE INDEX accounts_connection_id ON accounts (connection_id, last_seen_at);
ALTER TABLE people ADD COLUMN source_connection_id BIGINT;
ALTER TABLE people ADD COLUMN last_synced_at TIMESTAMP;
