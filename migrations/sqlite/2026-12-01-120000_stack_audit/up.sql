-- The quarterly stack audit: audits with their frozen snapshot (summary plus rows per sheet, in
-- chunks), access reviews with one item per seat, and owner check-ins per app and quarter.
-- Keep schema-identical with migrations/postgres.

CREATE TABLE audits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quarter TEXT NOT NULL,
    taken_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    previous_id BIGINT REFERENCES audits (id),
    summary TEXT NOT NULL,
    stackward_version TEXT NOT NULL
);
CREATE INDEX audits_quarter ON audits (quarter);

CREATE TABLE audit_chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_id BIGINT NOT NULL REFERENCES audits (id),
    sheet TEXT NOT NULL,
    position BIGINT NOT NULL,
    rows_count BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_chunks_position ON audit_chunks (audit_id, sheet, position);

CREATE TABLE access_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    due_on DATE NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    reminded_at TIMESTAMP,
    closed_at TIMESTAMP,
    closed_by TEXT
);

CREATE TABLE review_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id BIGINT NOT NULL REFERENCES access_reviews (id),
    app_id BIGINT NOT NULL REFERENCES apps (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    person_email TEXT,
    person_status TEXT,
    role TEXT,
    last_active_at TIMESTAMP,
    dormant BOOLEAN,
    dormant_reason TEXT,
    reviewers TEXT NOT NULL,
    decision TEXT,
    decided_by TEXT,
    decided_at TIMESTAMP,
    by_default BOOLEAN NOT NULL,
    comment TEXT,
    request_id BIGINT REFERENCES requests (id)
);
CREATE INDEX review_items_review ON review_items (review_id, app_id);

CREATE TABLE check_ins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    quarter TEXT NOT NULL,
    app_id BIGINT NOT NULL REFERENCES apps (id),
    owner_email TEXT NOT NULL,
    seats_bought BIGINT,
    seats_active BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    answered_by TEXT,
    still_needed BOOLEAN,
    seats_right BOOLEAN,
    seats_wanted BIGINT,
    renewal_intention TEXT,
    comment TEXT
);
CREATE UNIQUE INDEX check_ins_quarter_app ON check_ins (quarter, app_id);
CREATE INDEX check_ins_owner ON check_ins (owner_email);
