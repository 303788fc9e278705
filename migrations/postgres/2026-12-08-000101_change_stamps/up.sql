-- A stamp per table that changes with every write to it, in the same transaction: figures
-- computed over a million seats (renewals' seat use, coverage, seats in use per app) are kept
-- in memory under the stamp they were computed at and reused until it changes. The stamp is
-- random, not a counter, so two databases (or a rolled-back write) never share one by chance.
-- Keep schema-identical with the other backend's folder of the same name.
CREATE TABLE change_stamps (
    name TEXT PRIMARY KEY NOT NULL,
    stamp BIGINT NOT NULL
);
INSERT INTO change_stamps (name, stamp) VALUES ('accounts', floor(random() * 9007199254740992)::bigint);
-- One update per statement, not per seat: a page of a sync is one statement.
CREATE FUNCTION change_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_stamps SET stamp = floor(random() * 9007199254740992)::bigint WHERE name = TG_TABLE_NAME;
    RETURN NULL;
END
$$;
CREATE TRIGGER accounts_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION change_stamp_bump();
