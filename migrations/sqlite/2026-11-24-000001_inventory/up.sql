-- Inventory core: people, apps, subscriptions (with past terms), accounts; audit log; API tokens.
-- Keep schema-identical with migrations/postgres (tests/storage compares them).

CREATE TABLE people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    department TEXT,
    title TEXT,
    manager_email TEXT,
    status TEXT NOT NULL,
    left_on DATE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX people_email ON people (email);
CREATE INDEX people_manager_email ON people (manager_email);

CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    vendor TEXT,
    category TEXT,
    website TEXT,
    domains TEXT NOT NULL,
    owner_email TEXT,
    technical_owner_email TEXT,
    billing_owner_email TEXT,
    status TEXT NOT NULL,
    notes TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX apps_name ON apps (lower(name));

CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps (id),
    plan TEXT NOT NULL,
    seats_purchased BIGINT,
    unit_price_cents BIGINT,
    currency TEXT NOT NULL,
    billing_frequency TEXT NOT NULL,
    term_start DATE NOT NULL,
    term_end DATE,
    renewal_type TEXT NOT NULL,
    notice_days INTEGER,
    opt_out_date DATE,
    owner_email TEXT,
    cost_centre TEXT,
    status TEXT NOT NULL,
    term_number INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX subscriptions_app_id ON subscriptions (app_id);

CREATE TABLE subscription_terms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id),
    term_number INTEGER NOT NULL,
    plan TEXT NOT NULL,
    seats_purchased BIGINT,
    unit_price_cents BIGINT,
    currency TEXT NOT NULL,
    billing_frequency TEXT NOT NULL,
    term_start DATE NOT NULL,
    term_end DATE,
    renewal_type TEXT NOT NULL,
    notice_days INTEGER,
    opt_out_date DATE,
    recorded_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX subscription_terms_number ON subscription_terms (subscription_id, term_number);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id BIGINT NOT NULL REFERENCES apps (id),
    subscription_id BIGINT REFERENCES subscriptions (id),
    person_id BIGINT REFERENCES people (id),
    external_id TEXT,
    email TEXT,
    username TEXT,
    name TEXT,
    role TEXT,
    licence TEXT,
    status TEXT NOT NULL,
    billable BOOLEAN NOT NULL,
    vendor_created_at TIMESTAMP,
    last_active_at TIMESTAMP,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX accounts_external_id ON accounts (app_id, external_id);
CREATE INDEX accounts_person_id ON accounts (person_id);
CREATE INDEX accounts_email ON accounts (email);
CREATE INDEX accounts_subscription_id ON accounts (subscription_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    email TEXT,
    token_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
