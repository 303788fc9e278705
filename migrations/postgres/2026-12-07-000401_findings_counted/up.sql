-- Whether a finding's savings are counted, wholly or in part, in another finding (its evidence
-- says `deduplicated` or names `savings_counted_in`), kept at refresh time so the savings
-- summary sums columns instead of reading every evidence document.
-- Keep schema-identical with the other backend's folder of the same name.
ALTER TABLE findings ADD COLUMN counted_elsewhere BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE findings SET counted_elsewhere = COALESCE(
    evidence::jsonb ? 'deduplicated'
    OR (jsonb_typeof(evidence::jsonb -> 'savings_counted_in') = 'array'
        AND jsonb_array_length(evidence::jsonb -> 'savings_counted_in') > 0), FALSE);
