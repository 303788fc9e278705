DROP TABLE savings_entries;
DROP TABLE app_sources;
