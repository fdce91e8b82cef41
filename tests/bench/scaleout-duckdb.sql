-- scaleout-duckdb.sql: the DuckDB peer of tests/bench/scaleout.sh: the day's
-- dedupe, four 30-day features and robust z by (date, marketplace, category)
-- in one statement; run by zscore-duckdb.cjs with IN= and OUT=.
SET preserve_insertion_order = false;
COPY (
  WITH d AS (
    SELECT * FROM read_json('${IN}', format = 'newline_delimited')
    QUALIFY row_number() OVER (PARTITION BY asin, marketplace, date
                               ORDER BY fetched_at DESC) = 1
  ), b AS (
    SELECT *, CAST(date AS DATE) AS _d,
           CAST(date_diff('day', DATE '1970-01-01', CAST(date AS DATE)) AS DOUBLE) AS _x,
           CASE WHEN bsr > 0 THEN ln(bsr) END AS _lb,
           CASE WHEN bsr < 0.9 * lag(bsr) OVER (PARTITION BY asin, marketplace ORDER BY date)
                THEN 1 ELSE 0 END AS _drop
    FROM d
  ), f AS (
    SELECT b.*,
      regr_slope(_lb, _x) OVER w30 AS bsr_log_slope_30,
      sum(_drop) OVER w30 AS rank_drops_30,
      (review_count - first_value(review_count) OVER w30) / 30.0 AS review_velocity_30,
      ln(median(bsr) OVER wl7) - ln(median(bsr) OVER wf7) AS bsr_log_mom_30
    FROM b
    WINDOW
      w30 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW),
      wl7 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW),
      wf7 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND INTERVAL 23 DAYS PRECEDING)
  ), t AS MATERIALIZED (
    SELECT *, -bsr_log_slope_30 AS _f1, ln(1 + rank_drops_30) AS _f2,
           CASE WHEN review_velocity_30 > -1 THEN ln(1 + review_velocity_30) END AS _f3,
           -bsr_log_mom_30 AS _f4
    FROM f
  ), s AS (
    SELECT date, marketplace, category,
           median(_f1) AS m1, mad(_f1) AS d1, median(_f2) AS m2, mad(_f2) AS d2,
           median(_f3) AS m3, mad(_f3) AS d3, median(_f4) AS m4, mad(_f4) AS d4,
           count(*) AS group_n
    FROM t GROUP BY date, marketplace, category
  ), z AS (
    SELECT t.* EXCLUDE (_d, _x, _lb, _drop, _f1, _f2, _f3, _f4),
      CASE WHEN s.d1 > 0 THEN (t._f1 - s.m1) / (1.4826 * s.d1) END AS z_bsr_log_slope_30,
      CASE WHEN s.d2 > 0 THEN (t._f2 - s.m2) / (1.4826 * s.d2) END AS z_log1p_rank_drops_30,
      CASE WHEN s.d3 > 0 THEN (t._f3 - s.m3) / (1.4826 * s.d3) END AS z_log1p_review_velocity_30,
      CASE WHEN s.d4 > 0 THEN (t._f4 - s.m4) / (1.4826 * s.d4) END AS z_bsr_log_mom_30,
      s.group_n
    FROM t JOIN s ON t.date = s.date AND t.marketplace = s.marketplace
                 AND t.category IS NOT DISTINCT FROM s.category
  ), sc AS (
    SELECT *, coalesce(z_bsr_log_slope_30, 0) + coalesce(z_log1p_rank_drops_30, 0) +
              coalesce(z_log1p_review_velocity_30, 0) + coalesce(z_bsr_log_mom_30, 0) AS score
    FROM z
  )
  SELECT *, rank() OVER (PARTITION BY date, marketplace, category ORDER BY score DESC) AS group_rank
  FROM sc
) TO '${OUT}' (FORMAT json);
