#!/usr/bin/env node
// feat-duckdb.cjs: the DuckDB peer of tests/bench/feat.sh.
//
//   node feat-duckdb.cjs [--threads N] IN.ndjson OUT.json
//
// Per (asin, marketplace), over calendar-day windows (RANGE ... INTERVAL,
// so a missing day is missing, as in asin-feat): 7- and 30-day price mean
// and population standard deviation, and the 30-day OLS slope of ln(bsr)
// on the day; every row written back with the five columns.  The module
// is looked up in $DUCKDB_MODULES, else build/peers/node_modules.
'use strict';
const path = require('path');

const top = path.resolve(__dirname, '..', '..');
const mods = process.env.DUCKDB_MODULES ||
  path.join(top, process.env.BUILD || 'build', 'peers', 'node_modules');
const { DuckDBInstance } = require(path.join(mods, '@duckdb', 'node-api'));

function q(s) { return "'" + s.replace(/'/g, "''") + "'"; }

async function main() {
  const args = process.argv.slice(2);
  let threads = null;
  if (args[0] === '--threads') { args.shift(); threads = args.shift(); }
  const [src, dst] = args;
  const db = await DuckDBInstance.create(':memory:',
    threads ? { threads: String(threads) } : {});
  const con = await db.connect();
  await con.run(`
COPY (
  SELECT t.* EXCLUDE (_d, _x),
    avg(price) OVER w7 AS price_mean_7,
    stddev_pop(price) OVER w7 AS price_std_7,
    avg(price) OVER w30 AS price_mean_30,
    stddev_pop(price) OVER w30 AS price_std_30,
    regr_slope(ln(bsr), _x) OVER w30 AS bsr_log_slope_30
  FROM (SELECT *, CAST(date AS DATE) AS _d,
          CAST(date_diff('day', DATE '1970-01-01', CAST(date AS DATE)) AS DOUBLE) AS _x
        FROM read_json(${q(src)}, format = 'newline_delimited')) t
  WINDOW
    w7 AS (PARTITION BY asin, marketplace ORDER BY _d
           RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW),
    w30 AS (PARTITION BY asin, marketplace ORDER BY _d
           RANGE BETWEEN INTERVAL 29 DAYS PRECEDING AND CURRENT ROW)
) TO ${q(dst)} (FORMAT json)`);
}
main().catch(e => { console.error(String((e && e.message) || e)); process.exit(1); });
