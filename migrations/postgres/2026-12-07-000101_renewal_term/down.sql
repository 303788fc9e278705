ALTER TABLE subscriptions DROP COLUMN renewal_term_months;
