DROP TABLE finding_exclusions;
DROP TABLE findings;
ALTER TABLE apps DROP COLUMN inactive_days;
