-- top_candidates.sql: the day's best-scored ASINs of each marketplace and
-- category, with what a person checks first.
-- Parameters: :day (YYYY-MM-DD) and :top (candidates per category).
SELECT s.date, s.marketplace, s.category, s.group_rank AS rank, s.asin,
    p.title, s.score, f.bsr_last, f.bsr_log_slope_30,
    f.review_velocity_30, f.price_cv_30, s.group_n
FROM scores AS s
LEFT JOIN products AS p ON p.asin = s.asin AND p.marketplace = s.marketplace
LEFT JOIN features AS f
    ON f.asin = s.asin AND f.marketplace = s.marketplace AND f.date = s.date
WHERE s.date = :day AND s.group_rank <= CAST(:top AS INTEGER)
ORDER BY s.marketplace, s.category, s.group_rank, s.asin
