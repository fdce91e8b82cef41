-- db-0003-feat-names.sql: asin-db schema version 3: the features
-- table's label columns under the names asin-feat writes with its
-- default --label-horizon 14 (gain_14, ...), not label_*: a column
-- named differently from the field never fills, and the label went to
-- extra.  Labels of other horizons stay in extra.  Also columns for the
-- fields that say why a feature is null or where it came from.
-- Both views over features are made again: PostgreSQL fixes the columns
-- of "f.*" when a view is created, so they would keep the old names.
DROP VIEW training_set;
DROP VIEW latest_features;
ALTER TABLE features RENAME COLUMN label_gain TO gain_14;
ALTER TABLE features RENAME COLUMN label_breakout TO breakout_14;
ALTER TABLE features RENAME COLUMN label_grade TO grade_14;
ALTER TABLE features RENAME COLUMN label_promo_driven TO promo_driven_14;
ALTER TABLE features ADD COLUMN label_excluded_14 BOOLEAN;
ALTER TABLE features ADD COLUMN bsr_coverage_30 REAL;
ALTER TABLE features ADD COLUMN bsr_null_30 TEXT;
ALTER TABLE features ADD COLUMN rank_drops_src_30 TEXT;
ALTER TABLE features ADD COLUMN feat_version TEXT;

-- Feature rows whose 14-day forward label is known, with the product's
-- category and brand: what a ranking model trains on.
CREATE VIEW training_set AS
SELECT f.*, p.brand AS product_brand, p.bsr_cat AS product_bsr_cat
FROM features AS f
LEFT JOIN products AS p ON p.asin = f.asin AND p.marketplace = f.marketplace
WHERE f.grade_14 IS NOT NULL OR f.gain_14 IS NOT NULL;

-- The newest feature row of each ASIN and marketplace.
CREATE VIEW latest_features AS
SELECT f.*
FROM features AS f
WHERE f.date = (SELECT max(g.date) FROM features AS g
    WHERE g.asin = f.asin AND g.marketplace = f.marketplace);
