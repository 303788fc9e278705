-- A run that skipped unreadable records says how many and which (the first few), and
-- organisation-wide app grants (admin consent for every user) are kept as such.
-- Keep schema-identical with the other backend's folder of the same name.
ALTER TABLE sync_runs ADD COLUMN skipped BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN skipped_records TEXT NOT NULL DEFAULT '[]';
ALTER TABLE app_grants ADD COLUMN organisation_wide BOOLEAN NOT NULL DEFAULT FALSE;
