-- Findings read from indexed columns: the list's order (annual savings, -1 when unknown; the
-- rule's risk rank) and a brief evidence for lists, kept at refresh time; seats of an app listed
-- by (app_id, id) without sorting the whole app.
-- Keep schema-identical with the other backend's folder of the same name.
ALTER TABLE findings ADD COLUMN sort_savings BIGINT NOT NULL DEFAULT -1;
ALTER TABLE findings ADD COLUMN risk_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN evidence_brief TEXT;
UPDATE findings SET sort_savings = COALESCE(annual_savings_cents, -1),
    risk_rank = COALESCE((evidence::jsonb #>> '{risk,rank}')::bigint, 0);
CREATE INDEX findings_order ON findings (sort_savings DESC, risk_rank DESC, id);
CREATE INDEX accounts_app_id ON accounts (app_id, id);
