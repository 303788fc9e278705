-- Whether a finding's savings are counted, wholly or in part, in another finding (its evidence
-- says `deduplicated` or names `savings_counted_in`), kept at refresh time so the savings
-- summary sums columns instead of reading every evidence document.
-- Keep schema-identical with the other backend's folder of the same name.
ALTER TABLE findings ADD COLUMN counted_elsewhere BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE findings SET counted_elsewhere = COALESCE(
    json_type(evidence, '$.deduplicated') IS NOT NULL
    OR (json_type(evidence, '$.savings_counted_in') = 'array'
        AND json_array_length(evidence, '$.savings_counted_in') > 0), FALSE);
