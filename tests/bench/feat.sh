#!/bin/sh
# feat.sh: asin-feat (issue 12) against DuckDB window functions on one
# thread and pandas rolling, on ROWS generated fact rows without
# re-fetches (default 1M: 10k series x 100 days, ~390 MB), in the same run:
#   - the peers compute 7- and 30-day price mean and standard deviation
#     and the 30-day BSR log slope over calendar-day windows;
#   - asin-feat computes the same (--windows 7,30 --features, plus the
#     coverages it always writes; price_cv is the std over the mean), and its full default
#     set (7, 30, 90 days: ~70 features a row), in the hash mode on the
#     day-major input and on the input in key order, and with --sorted;
#   - peak RSS of each: --sorted holds one series at a time.
# The peers write their output to a file under $BENCH_OUT; asin-feat
# writes to standard output (/dev/null).
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

# The same rows in key order: the lines start with asin, marketplace and
# date, fixed-width, so a byte sort of the lines is the key order.
SORTED=$B/${name}_amd.ndjson
if [ ! -s "$SORTED" ] || [ "$SORTED" -ot "$IN" ]; then
	sort -S 25% "$IN" >"$SORTED.tmp" && mv "$SORTED.tmp" "$SORTED"
fi

table_head "7- and 30-day price mean/std and 30-day BSR slope: $rows rows, $((bytes / 1000000)) MB"
F=price_mean,price_cv,bsr_log_slope
measure "asin-feat --windows 7,30 --features $F" "$rows" "$bytes" \
    asin-feat --windows 7,30 --features $F "$IN"
measure "asin-feat --windows 7,30 --features $F --sorted" "$rows" "$bytes" \
    asin-feat --windows 7,30 --features $F --sorted "$SORTED"
measure "asin-feat (7,30,90, all features)" "$rows" "$bytes" \
    asin-feat "$IN"
measure "asin-feat --sorted (7,30,90, all features)" "$rows" "$bytes" \
    asin-feat --sorted "$SORTED"
measure "asin-feat --sorted --as-of the last day" "$rows" "$bytes" \
    asin-feat --sorted --as-of 2024-04-09 "$SORTED"
if [ $have_duckdb = 1 ]; then
	measure "duckdb-1t windows" "$rows" "$bytes" \
	    node "$TOP/tests/bench/feat-duckdb.cjs" --threads 1 "$IN" "$B/feat_peer.json"
	measure "duckdb-2t windows" "$rows" "$bytes" \
	    node "$TOP/tests/bench/feat-duckdb.cjs" --threads 2 "$IN" "$B/feat_peer.json"
else
	printf '| %-46s | skipped: DuckDB not installed |\n' duckdb
fi
if [ $have_pandas = 1 ]; then
	measure "pandas rolling" "$rows" "$bytes" \
	    /usr/bin/python3 "$TOP/tests/bench/feat_pandas.py" "$IN" "$B/feat_peer.json"
else
	printf '| %-46s | skipped: pandas not installed |\n' pandas
fi
rm -f "$B/feat_peer.json"
echo
ratio "asin-feat --windows 7,30 --features $F" "duckdb-1t windows"
ratio "asin-feat --windows 7,30 --features $F --sorted" "duckdb-1t windows"
ratio "asin-feat (7,30,90, all features)" "duckdb-1t windows"
ratio "asin-feat --windows 7,30 --features $F" "pandas rolling"
asin-feat --sorted --stats "$B/feat_sorted.stats" "$SORTED" >/dev/null
asin-feat --stats "$B/feat_hash.stats" "$IN" >/dev/null
echo
echo "rows held at once: --sorted $(sed 's/.*"peak_rows":\([0-9]*\).*/\1/' "$B/feat_sorted.stats"), hash mode $(sed 's/.*"peak_rows":\([0-9]*\).*/\1/' "$B/feat_hash.stats")"
