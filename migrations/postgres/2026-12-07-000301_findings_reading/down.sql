DROP INDEX accounts_app_id;
DROP INDEX findings_order;
ALTER TABLE findings DROP COLUMN evidence_brief;
ALTER TABLE findings DROP COLUMN risk_rank;
ALTER TABLE findings DROP COLUMN sort_savings;
