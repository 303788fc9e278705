-- A stamp per table that changes with every write to it, in the same transaction: figures
-- computed over a million seats (renewals' seat use, coverage, seats in use per app) are kept
-- in memory under the stamp they were computed at and reused until it changes. The stamp is
-- random, not a counter, so two databases (or a rolled-back write) never share one by chance.
-- Keep schema-identical with the other backend's folder of the same name.
CREATE TABLE change_stamps (
    name TEXT PRIMARY KEY NOT NULL,
    stamp BIGINT NOT NULL
);
INSERT INTO change_stamps (name, stamp) VALUES ('accounts', random());
-- SQLite has row triggers only; one small update per seat written.
CREATE TRIGGER accounts_stamp_insert AFTER INSERT ON accounts
BEGIN UPDATE change_stamps SET stamp = random() WHERE name = 'accounts'; END;
CREATE TRIGGER accounts_stamp_update AFTER UPDATE ON accounts
BEGIN UPDATE change_stamps SET stamp = random() WHERE name = 'accounts'; END;
CREATE TRIGGER accounts_stamp_delete AFTER DELETE ON accounts
BEGIN UPDATE change_stamps SET stamp = random() WHERE name = 'accounts'; END;
