-- db-0002-views.sql: asin-db schema version 2, the views dashboards and
-- training read.

-- The newest feature row of every ASIN in every marketplace.
CREATE VIEW latest_features AS
SELECT f.*
FROM features AS f
WHERE f.date = (SELECT max(g.date) FROM features AS g
    WHERE g.asin = f.asin AND g.marketplace = f.marketplace);

-- The ten best-scored ASINs of each marketplace and category on the
-- newest day scored, with the product's title and brand.
CREATE VIEW top_candidates AS
SELECT s.date, s.marketplace, s.category, s.group_rank, s.asin,
    p.title, p.brand, s.score, s.group_n
FROM scores AS s
LEFT JOIN products AS p ON p.asin = s.asin AND p.marketplace = s.marketplace
WHERE s.date = (SELECT max(date) FROM scores) AND s.group_rank <= 10
ORDER BY s.marketplace, s.category, s.group_rank, s.asin;

-- Feature rows whose forward label is known, with the product's
-- category and brand: what a ranking model trains on.
CREATE VIEW training_set AS
SELECT f.*, p.brand AS product_brand, p.bsr_cat AS product_bsr_cat
FROM features AS f
LEFT JOIN products AS p ON p.asin = f.asin AND p.marketplace = f.marketplace
WHERE f.label_grade IS NOT NULL OR f.label_gain IS NOT NULL;
