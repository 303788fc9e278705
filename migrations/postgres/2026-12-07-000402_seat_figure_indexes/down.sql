DROP INDEX accounts_coverage;
DROP INDEX accounts_seat_use;
