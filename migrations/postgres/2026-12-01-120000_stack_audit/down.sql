DROP TABLE check_ins;
DROP TABLE review_items;
DROP TABLE access_reviews;
DROP TABLE audit_chunks;
DROP TABLE audits;
