-- Findings read by app and summed without visiting their rows (whose evidence makes them large):
-- an app's findings in the list's order walk that app's part of one index (the app page: 21 ms
-- -> 0.3 ms at 1M seats, SQLite), and the savings to act on are summed from a covering index
-- (the dashboard and summary: 10 ms -> 2 ms).
-- Keep schema-identical with the other backend's folder of the same name.
CREATE INDEX findings_app_order ON findings (app_id, sort_savings DESC, risk_rank DESC, id);
CREATE INDEX findings_money ON findings
    (status, app_id, currency, monthly_savings_cents, annual_savings_cents, counted_elsewhere);
-- Findings get a change stamp like the seats (see 2026-12-08-000101_change_stamps): the sums
-- of the findings to act on are remembered until a finding changes.
INSERT INTO change_stamps (name, stamp) VALUES ('findings', floor(random() * 9007199254740992)::bigint);
CREATE TRIGGER findings_stamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON findings
    FOR EACH STATEMENT EXECUTE FUNCTION change_stamp_bump();
