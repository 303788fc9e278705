-- Approval workflows: requests, their approval steps (one set per submission round), the
-- request history, and the approval policy (every version kept, the highest in force).
-- Keep schema-identical with migrations/postgres.

CREATE TABLE requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    requester_email TEXT NOT NULL,
    name TEXT,
    vendor TEXT,
    website TEXT,
    purpose TEXT,
    seats BIGINT,
    annual_cost_cents BIGINT,
    currency TEXT,
    data_class TEXT NOT NULL,
    needed_by DATE,
    app_id BIGINT REFERENCES apps (id),
    subscription_id BIGINT REFERENCES subscriptions (id),
    finding_id BIGINT REFERENCES findings (id),
    account_ids TEXT NOT NULL,
    category TEXT NOT NULL,
    known_vendor BOOLEAN NOT NULL,
    advice TEXT,
    advice_response TEXT,
    outcome TEXT,
    round INTEGER NOT NULL,
    policy_version INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX requests_requester ON requests (requester_email);
CREATE INDEX requests_status ON requests (status);

CREATE TABLE approval_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    round INTEGER NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    approvers TEXT NOT NULL,
    note TEXT,
    sla_hours INTEGER NOT NULL,
    escalate_after_hours INTEGER NOT NULL,
    fallback TEXT NOT NULL,
    pending_since TIMESTAMP,
    decided_at TIMESTAMP,
    decided_by TEXT,
    comment TEXT,
    reminded_at TIMESTAMP,
    escalated_at TIMESTAMP
);
CREATE UNIQUE INDEX approval_steps_position ON approval_steps (request_id, round, position);
CREATE INDEX approval_steps_status ON approval_steps (status);

CREATE TABLE request_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    step TEXT,
    comment TEXT,
    details TEXT
);
CREATE INDEX request_events_request ON request_events (request_id);

CREATE TABLE workflow_policies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER NOT NULL,
    text TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX workflow_policies_version ON workflow_policies (version);
