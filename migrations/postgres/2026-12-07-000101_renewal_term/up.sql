-- The contract term a renewal runs for, in months (issue 15): independent of how often the
-- contract is billed. Null = as long as the current term.
ALTER TABLE subscriptions ADD COLUMN renewal_term_months INTEGER;
