-- scaleout-daily-duckdb.sql: the DuckDB peer of the daily rows of
-- tests/bench/scaleout.sh: the day ${DAY}'s feature rows only, as the
-- daily job asks (asin-feat --as-of), then their robust z.  Run by
-- zscore-duckdb.cjs with IN=, OUT= and DAY=.
--
-- Written as a DuckDB user would for one day: the scan keeps only the 31
-- days the day's windows read (D-30 for the review delta), the newest
-- fetch of each (asin, marketplace, date) wins, and each series is one
-- GROUP BY with FILTERed aggregates instead of window functions over the
-- whole history.  Same definitions as asin-feat (calendar-day windows,
-- the coverage rule 0.6, no feature across a category change) and
-- asin-zscore (exact median and MAD, the mean-deviation fallback, back-off
-- to (marketplace) then the day below 8 rows, ranks within the own group);
-- scaleout.sh checks the values against the suite's on a small input.
SET preserve_insertion_order = false;
COPY (
  WITH r AS (
    SELECT *, CAST(date AS DATE) AS _d
    FROM read_json('${IN}', format = 'newline_delimited')
    WHERE CAST(date AS DATE) BETWEEN DATE '${DAY}' - 30 AND DATE '${DAY}'
  ), d AS (
    -- The newest fetch of the day (what DuckDB makes of QUALIFY
    -- row_number() = 1, whose rewrite fails on this query in 1.5.6).
    SELECT unnest(arg_max(r, fetched_at)) FROM r
    GROUP BY asin, marketplace, date
  ), b AS (
    -- A daily rank drop: the BSR below the calendar day before's.
    SELECT *,
      CASE WHEN lag(_d) OVER w = _d - 1 AND bsr < lag(bsr) OVER w
           THEN 1 ELSE 0 END AS _drop
    FROM d
    WINDOW w AS (PARTITION BY asin, marketplace ORDER BY _d)
  ), s AS (
    SELECT asin AS _a, marketplace AS _m,
      count(bsr) FILTER (_d >= DATE '${DAY}' - 29) AS nb,
      count(DISTINCT category) FILTER (_d >= DATE '${DAY}' - 29
          AND bsr IS NOT NULL) AS ncat,
      regr_slope(ln(bsr), CAST(_d - DATE '${DAY}' AS DOUBLE))
          FILTER (_d >= DATE '${DAY}' - 29) AS slope,
      sum(_drop) FILTER (_d >= DATE '${DAY}' - 29) AS drops,
      median(bsr) FILTER (_d >= DATE '${DAY}' - 6) AS m1,
      count(bsr) FILTER (_d >= DATE '${DAY}' - 6) AS n1,
      median(bsr) FILTER (_d <= DATE '${DAY}' - 23
          AND _d >= DATE '${DAY}' - 29) AS m2,
      count(bsr) FILTER (_d <= DATE '${DAY}' - 23
          AND _d >= DATE '${DAY}' - 29) AS n2,
      count(review_count) FILTER (_d >= DATE '${DAY}' - 29) AS nr,
      any_value(review_count) FILTER (_d = DATE '${DAY}') AS r1,
      any_value(review_count) FILTER (_d = DATE '${DAY}' - 30) AS r0
    FROM b GROUP BY asin, marketplace
  ), f AS (
    SELECT b.* EXCLUDE (_d, _drop),
      CASE WHEN ncat <= 1 AND nb >= 18 THEN slope END AS bsr_log_slope_30,
      CASE WHEN ncat <= 1 AND nb >= 18 AND n1 >= 5 AND n2 >= 5
           THEN ln(m1) - ln(m2) END AS bsr_log_mom_30,
      CASE WHEN ncat <= 1 AND nb >= 18 THEN drops END AS rank_drops_30,
      CASE WHEN nr >= 18 AND r1 >= r0 THEN (r1 - r0) / 30 END
          AS review_velocity_30
    FROM b JOIN s ON b.asin = s._a AND b.marketplace = s._m
    WHERE b._d = DATE '${DAY}'
  ), t AS MATERIALIZED (
    SELECT *, -bsr_log_slope_30 AS _f1, ln(1 + rank_drops_30) AS _f2,
           ln(1 + review_velocity_30) AS _f3, -bsr_log_mom_30 AS _f4
    FROM f
  ), tl AS (
    -- Every row in its group and in the two parents back-off may take.
    SELECT 0 AS lvl, marketplace || chr(31) || category AS gk, * FROM t
    UNION ALL SELECT 1, marketplace, * FROM t
    UNION ALL SELECT 2, '', * FROM t
  ), st AS (
    SELECT lvl, gk, count(*) AS n,
      median(_f1) AS md1, mad(_f1) AS mad1, median(_f2) AS md2,
      mad(_f2) AS mad2, median(_f3) AS md3, mad(_f3) AS mad3,
      median(_f4) AS md4, mad(_f4) AS mad4
    FROM tl GROUP BY lvl, gk
  ), ma AS (
    SELECT lvl, gk, avg(abs(_f1 - md1)) AS a1, avg(abs(_f2 - md2)) AS a2,
      avg(abs(_f3 - md3)) AS a3, avg(abs(_f4 - md4)) AS a4
    FROM st JOIN tl USING (lvl, gk) GROUP BY lvl, gk
  ), sc AS (
    -- The scale: 1.4826 MAD, else 1.253314 times the mean absolute
    -- deviation from the median, else none (z 0).
    SELECT st.*,
      CASE WHEN mad1 > 0 THEN 1.4826 * mad1 WHEN a1 > 0 THEN 1.253314 * a1 END AS s1,
      CASE WHEN mad2 > 0 THEN 1.4826 * mad2 WHEN a2 > 0 THEN 1.253314 * a2 END AS s2,
      CASE WHEN mad3 > 0 THEN 1.4826 * mad3 WHEN a3 > 0 THEN 1.253314 * a3 END AS s3,
      CASE WHEN mad4 > 0 THEN 1.4826 * mad4 WHEN a4 > 0 THEN 1.253314 * a4 END AS s4
    FROM st JOIN ma USING (lvl, gk)
  ), pick AS (
    -- The row's own group, or the first parent with 8 rows.
    SELECT t.*, g0.n AS group_n,
      CASE WHEN g0.n >= 8 THEN 0 WHEN g1.n >= 8 THEN 1 ELSE 2 END AS z_backoff
    FROM t
    JOIN sc g0 ON g0.lvl = 0 AND g0.gk = t.marketplace || chr(31) || t.category
    JOIN sc g1 ON g1.lvl = 1 AND g1.gk = t.marketplace
  ), z AS (
    SELECT p.* EXCLUDE (_f1, _f2, _f3, _f4, group_n, z_backoff),
      CASE WHEN _f1 IS NOT NULL THEN coalesce((_f1 - md1) / s1, 0) END
          AS z_bsr_log_slope_30,
      CASE WHEN _f2 IS NOT NULL THEN coalesce((_f2 - md2) / s2, 0) END
          AS z_log1p_rank_drops_30,
      CASE WHEN _f3 IS NOT NULL THEN coalesce((_f3 - md3) / s3, 0) END
          AS z_log1p_review_velocity_30,
      CASE WHEN _f4 IS NOT NULL THEN coalesce((_f4 - md4) / s4, 0) END
          AS z_bsr_log_mom_30,
      group_n, z_backoff
    FROM pick p JOIN sc ON sc.lvl = p.z_backoff AND sc.gk =
        CASE p.z_backoff WHEN 0 THEN p.marketplace || chr(31) || p.category
                         WHEN 1 THEN p.marketplace ELSE '' END
  ), scored AS (
    SELECT *,
      CASE WHEN coalesce(z_bsr_log_slope_30, z_log1p_rank_drops_30,
                         z_log1p_review_velocity_30, z_bsr_log_mom_30) IS NOT NULL
           THEN coalesce(z_bsr_log_slope_30, 0) + coalesce(z_log1p_rank_drops_30, 0) +
                coalesce(z_log1p_review_velocity_30, 0) + coalesce(z_bsr_log_mom_30, 0)
      END AS score
    FROM z
  )
  SELECT *,
    CASE WHEN score IS NOT NULL THEN rank() OVER g END AS group_rank,
    CASE WHEN score IS NOT NULL
         THEN rank() OVER g / count(score) OVER (PARTITION BY marketplace, category)
    END AS group_pct
  FROM scored
  WINDOW g AS (PARTITION BY marketplace, category ORDER BY score DESC NULLS LAST)
) TO '${OUT}' (FORMAT json);
