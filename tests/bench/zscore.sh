#!/bin/sh
# zscore.sh: asin-zscore (issue 5) against the peers of performance.md T3.
# On ROWS generated fact rows without re-fetches (default 1M, ~390 MB),
# z of price and ln(bsr) appended to every row, in the same run:
#   - by marketplace,category (T3) and by date,marketplace,category:
#     asin-zscore (record scanner, and libjq via ASIN_PARSER=jq), DuckDB on
#     one thread (median/mad by group, joined back); for T3 also DuckDB
#     on 2 threads and pandas groupby().transform('median');
#   - asin-zscore with the default back-off (--min-group 8) and the full
#     breakout output (score, rank) is the same pass: its rows say so;
#   - memory of --sorted on the same rows in key order: one group held
#     (--min-group 1), one day held (back-off on), against the hash mode.
# The peers compute no score, rank or back-off: asin-zscore runs with
# --min-group 1 to match them, and still ranks every group.
# Peers come from tests/bench/setup-peers.sh (run here when missing).
# The peers write their output to a file under $BENCH_OUT, as in
# performance.md; asin-zscore writes to standard output (/dev/null).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input nodup || exit 1
B=$BENCH_OUT

sh "$TOP/tests/bench/setup-peers.sh" >&2 || echo "bench: peers incomplete" >&2
have_duckdb=0
[ -d "$TOP/${BUILD:-build}/peers/node_modules/@duckdb/node-api" ] &&
    command -v node >/dev/null && have_duckdb=1
have_pandas=0
/usr/bin/python3 -c 'import pandas' 2>/dev/null && have_pandas=1

cat >"$B/zscore_duckdb.sql" <<'SQL'
COPY (
  WITH t AS MATERIALIZED (
    SELECT *, ln(bsr) AS _lb FROM read_json('${IN}', format = 'newline_delimited')
  ), s AS (
    SELECT ${KEYS},
           median(_lb) AS m1, mad(_lb) AS d1,
           median(price) AS m2, mad(price) AS d2
    FROM t GROUP BY ${KEYS}
  )
  SELECT t.* EXCLUDE (_lb),
         CASE WHEN s.d1 > 0 THEN (t._lb - s.m1) / (1.4826 * s.d1) END AS z_log_bsr,
         CASE WHEN s.d2 > 0 THEN (t.price - s.m2) / (1.4826 * s.d2) END AS z_price
  FROM t JOIN s USING (${KEYS})
) TO '${OUT}' (FORMAT json);
SQL

# group_by KEYS [full]: one table for one grouping; with full, also
# DuckDB on 2 threads and pandas (slow: ~20 s and 6 GB a run), which
# the T3 grouping gets.
group_by() {
	keys=$1 full=${2:-}
	table_head "robust z of price and ln(bsr) by $keys: $rows rows, $((bytes / 1000000)) MB"
	measure "asin-zscore -k $keys" "$rows" "$bytes" \
	    asin-zscore -k "$keys" -f price,log:bsr --min-group 1 "$IN"
	measure "asin-zscore -k $keys (libjq)" "$rows" "$bytes" \
	    env ASIN_PARSER=jq asin-zscore -k "$keys" -f price,log:bsr \
	    --min-group 1 "$IN"
	if [ $have_duckdb = 1 ]; then
		measure "duckdb-1t by $keys" "$rows" "$bytes" \
		    node "$TOP/tests/bench/zscore-duckdb.cjs" --threads 1 \
		    "$B/zscore_duckdb.sql" IN="$IN" OUT="$B/zscore_peer.json" KEYS="$keys"
		[ -n "$full" ] && measure "duckdb-2t by $keys" "$rows" "$bytes" \
		    node "$TOP/tests/bench/zscore-duckdb.cjs" --threads 2 \
		    "$B/zscore_duckdb.sql" IN="$IN" OUT="$B/zscore_peer.json" KEYS="$keys"
	else
		printf '| %-46s | skipped: DuckDB not installed |\n' duckdb
	fi
	if [ -z "$full" ]; then
		:
	elif [ $have_pandas = 1 ]; then
		measure "pandas by $keys" "$rows" "$bytes" /usr/bin/python3 \
		    "$TOP/tests/bench/zscore_pandas.py" "$keys" "$IN" "$B/zscore_peer.json"
	else
		printf '| %-46s | skipped: pandas not installed |\n' pandas
	fi
	rm -f "$B/zscore_peer.json"
	echo
	ratio "asin-zscore -k $keys" "duckdb-1t by $keys"
	ratio "asin-zscore -k $keys (libjq)" "duckdb-1t by $keys"
	[ -n "$full" ] && ratio "asin-zscore -k $keys" "pandas by $keys"
}

group_by marketplace,category full
group_by date,marketplace,category

# The same rows in key order: our own output without the fields it added
# (price is the only feature, so the line ends in the z_price... tail).
SORTED=$B/${name}_dmc.ndjson
if [ ! -s "$SORTED" ] || [ "$SORTED" -ot "$IN" ]; then
	asin-zscore -f price --min-group 1 "$IN" |
	    sed 's/,"z_price":[^{]*}$/}/' >"$SORTED.tmp" && mv "$SORTED.tmp" "$SORTED"
fi
table_head "memory: the rows in key order (date,marketplace,category), z of price and ln(bsr)"
measure "hash mode, --min-group 1" "$rows" "$bytes" \
    asin-zscore -f price,log:bsr --min-group 1 "$SORTED"
measure "--sorted --min-group 1 (one group held)" "$rows" "$bytes" \
    asin-zscore -f price,log:bsr --min-group 1 --sorted "$SORTED"
measure "--sorted, back-off on (one day held)" "$rows" "$bytes" \
    asin-zscore -f price,log:bsr --sorted "$SORTED"
measure "hash mode, back-off on, --top 20 --explain" "$rows" "$bytes" \
    asin-zscore -f price,log:bsr --top 20 --explain "$SORTED"
asin-zscore -f price,log:bsr --min-group 1 --sorted --stats "$B/zscore_sorted.stats" \
    "$SORTED" >/dev/null
asin-zscore -f price,log:bsr --sorted --stats "$B/zscore_sorted_day.stats" \
    "$SORTED" >/dev/null
echo
echo "rows held at once: --sorted --min-group 1: $(sed 's/.*"peak_rows":\([0-9]*\).*/\1/' "$B/zscore_sorted.stats");" \
    "--sorted with back-off: $(sed 's/.*"peak_rows":\([0-9]*\).*/\1/' "$B/zscore_sorted_day.stats")"
