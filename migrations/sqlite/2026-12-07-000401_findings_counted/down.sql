ALTER TABLE findings DROP COLUMN counted_elsewhere;
