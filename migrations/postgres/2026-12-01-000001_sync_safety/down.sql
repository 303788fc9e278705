ALTER TABLE app_grants DROP COLUMN organisation_wide;
ALTER TABLE sync_runs DROP COLUMN skipped_records;
ALTER TABLE sync_runs DROP COLUMN skipped;
