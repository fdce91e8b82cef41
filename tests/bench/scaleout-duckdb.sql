-- scaleout-duckdb.sql: the DuckDB peer of the backfill rows of
-- tests/bench/scaleout.sh: every day's feature rows, then their robust z
-- by (date, marketplace, category), in one statement; run by
-- zscore-duckdb.cjs with IN= and OUT=.
--
-- The newest fetch of each (asin, marketplace, date) wins; the four
-- 30-day features asin-zscore ranks on by default over calendar-day RANGE
-- windows, with asin-feat's rules (coverage 0.6 of the window's days, no
-- feature across a category change, rank drops as days below the day
-- before, review velocity from day D-30); their robust z with
-- asin-zscore's (exact median and MAD, the mean-deviation fallback,
-- back-off to (date, marketplace) then (date) below 8 rows, ranks within
-- the own group).  scaleout.sh checks the values against the suite's on
-- a small input.  Memory: at 10M rows DuckDB's default limit (80% of
-- RAM) let it grow to 20 GB and the kernel killed it on this shared 24 GB
-- machine, so it gets 10 GB and spills the rest to TMP.
SET preserve_insertion_order = false;
SET memory_limit = '10GB';
SET temp_directory = '${TMP}';
COPY (
  WITH d AS (
    SELECT * FROM read_json('${IN}', format = 'newline_delimited')
    QUALIFY row_number() OVER (PARTITION BY asin, marketplace, date
                               ORDER BY fetched_at DESC) = 1
  ), b AS (
    SELECT *, CAST(date AS DATE) AS _d,
      CAST(date_diff('day', DATE '1970-01-01', CAST(date AS DATE)) AS DOUBLE) AS _x,
      CASE WHEN lag(CAST(date AS DATE)) OVER w = CAST(date AS DATE) - 1
                AND bsr < lag(bsr) OVER w THEN 1 ELSE 0 END AS _drop
    FROM d
    WINDOW w AS (PARTITION BY asin, marketplace ORDER BY date)
  ), f AS (
    SELECT b.* EXCLUDE (_x, _drop),
      count(bsr) OVER w30 AS _nb,
      min(category) FILTER (bsr IS NOT NULL) OVER w30 IS DISTINCT FROM
          max(category) FILTER (bsr IS NOT NULL) OVER w30 AS _chg,
      regr_slope(ln(bsr), _x) OVER w30 AS _slope,
      sum(_drop) OVER w30 AS _drops,
      median(bsr) OVER wl7 AS _m1, count(bsr) OVER wl7 AS _n1,
      median(bsr) OVER wf7 AS _m2, count(bsr) OVER wf7 AS _n2,
      count(review_count) OVER w30 AS _nr,
      max(review_count) OVER wd30 AS _r0
    FROM b
    WINDOW
      w30 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW),
      wl7 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW),
      wf7 AS (PARTITION BY asin, marketplace ORDER BY _d
              RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND INTERVAL 23 DAYS PRECEDING),
      wd30 AS (PARTITION BY asin, marketplace ORDER BY _d
               RANGE BETWEEN INTERVAL 30 DAYS PRECEDING AND INTERVAL 30 DAYS PRECEDING)
  ), t AS MATERIALIZED (
    SELECT f.* EXCLUDE (_d, _nb, _chg, _slope, _drops, _m1, _n1, _m2, _n2, _nr, _r0),
      CASE WHEN NOT _chg AND _nb >= 18 THEN _slope END AS bsr_log_slope_30,
      CASE WHEN NOT _chg AND _nb >= 18 AND _n1 >= 5 AND _n2 >= 5
           THEN ln(_m1) - ln(_m2) END AS bsr_log_mom_30,
      CASE WHEN NOT _chg AND _nb >= 18 THEN _drops END AS rank_drops_30,
      CASE WHEN _nr >= 18 AND review_count >= _r0
           THEN (review_count - _r0) / 30 END AS review_velocity_30,
      -bsr_log_slope_30 AS _f1, ln(1 + rank_drops_30) AS _f2,
      ln(1 + review_velocity_30) AS _f3, -bsr_log_mom_30 AS _f4
    FROM f
  ), tl AS (
    -- Every row in its group and in the two parents back-off may take.
    SELECT 0 AS lvl, CAST(date AS VARCHAR) || chr(31) || marketplace || chr(31) || category
        AS gk, _f1, _f2, _f3, _f4 FROM t
    UNION ALL SELECT 1, CAST(date AS VARCHAR) || chr(31) || marketplace, _f1, _f2, _f3, _f4 FROM t
    UNION ALL SELECT 2, CAST(date AS VARCHAR), _f1, _f2, _f3, _f4 FROM t
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
    JOIN sc g0 ON g0.lvl = 0
        AND g0.gk = CAST(t.date AS VARCHAR) || chr(31) || t.marketplace || chr(31) || t.category
    JOIN sc g1 ON g1.lvl = 1 AND g1.gk = CAST(t.date AS VARCHAR) || chr(31) || t.marketplace
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
        CASE p.z_backoff
        WHEN 0 THEN CAST(p.date AS VARCHAR) || chr(31) || p.marketplace || chr(31) || p.category
        WHEN 1 THEN CAST(p.date AS VARCHAR) || chr(31) || p.marketplace
        ELSE CAST(p.date AS VARCHAR) END
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
         THEN rank() OVER g / count(score) OVER (PARTITION BY date, marketplace, category)
    END AS group_pct
  FROM scored
  WINDOW g AS (PARTITION BY date, marketplace, category
               ORDER BY score DESC NULLS LAST)
) TO '${OUT}' (FORMAT json);
