#!/bin/sh
# scaleout.sh: the day's three keyed stages (dedupe, feat, zscore) end to
# end on the 2 cores here, on ROWS generated fact rows (ROWS=10000000 is
# the issue's 10M-row day: 100k ASINs x 100 days), in the same run:
#   single process    asin-dedupe | asin-feat | asin-zscore
#   sharded           pipelines/scale-out/shard-parallel.sh: asin-shard by
#                     asin into 8 partitions, dedupe | feat two at a time
#                     under GNU parallel, merge; then zscore the same way
#                     partitioned by date and merged by its key
#   DuckDB, 2 threads the same three stages in one SQL statement
#                     (scaleout-duckdb.sql through zscore-duckdb.cjs): the
#                     newest row per (asin, marketplace, date); the four
#                     30-day features asin-zscore ranks on by default
#                     (BSR log slope, rank drops, review velocity, BSR log
#                     momentum) over calendar-day windows; robust z of
#                     each by (date, marketplace, category), their sum
#                     and the rank in the group (no back-off)
# asin-feat computes ~70 features a row by default; the rows marked
# "4 features" ask it for the peer's four only (--windows 30 --features
# ...), the like-for-like comparison.  The suite's outputs are compared
# byte for byte (sharded against single) before timing.  SCALEOUT_FULL=0
# leaves out the all-features rows (the 10M-row day then takes about a
# third of the time).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1
peer_available parallel || exit 0
W=$BENCH_OUT/scaleout
SP=$TOP/pipelines/scale-out/shard-parallel.sh
FEAT4="asin-feat --windows 30 --features bsr_log_slope,rank_drops,review_velocity,bsr_log_mom"
SHARDED='set -e
rm -rf "$1"; mkdir -p "$1"
"$2" -k asin -m asin -c "asin-dedupe | $4" -w "$1/feat" -n 8 -j 2 "$3" "$1/feat.ndjson"
"$2" -k date -m date,marketplace,category -c asin-zscore -w "$1/z" -n 8 -j 2 "$1/feat.ndjson" "$1/out.ndjson"
cat "$1/out.ndjson"'
SINGLE='asin-dedupe "$1" | $2 | asin-zscore'

sh "$TOP/tests/bench/setup-peers.sh" >&2 || echo "bench: peers incomplete" >&2
have_duckdb=0
[ -d "$TOP/${BUILD:-build}/peers/node_modules/@duckdb/node-api" ] &&
    command -v node >/dev/null && have_duckdb=1

FULL=${SCALEOUT_FULL:-1}
feats="asin-feat"
[ "$FULL" = 0 ] && feats=
for feat in ${feats:+"$feats"} "$FEAT4"; do
	sh -c "$SINGLE" sh "$IN" "$feat" >"$W.single" || exit 1
	sh -c "$SHARDED" sh "$W" "$SP" "$IN" "$feat" | cmp -s - "$W.single" || {
		echo "bench: the sharded pipeline differs from the single process ($feat)" >&2
		exit 1
	}
done
rm -f "$W.single"

table_head "scale-out: dedupe, feat, zscore on $rows rows, $((bytes / 1000000)) MB ($name)"
echo "(load average at the start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
echo
if [ "$FULL" != 0 ]; then
	measure "single process: dedupe | feat | zscore" "$rows" "$bytes" \
	    sh -c "$SINGLE" sh "$IN" asin-feat
	measure "asin-shard + parallel -j2, 8 partitions" "$rows" "$bytes" \
	    sh -c "$SHARDED" sh "$W" "$SP" "$IN" asin-feat
fi
measure "single process, 4 features" "$rows" "$bytes" \
    sh -c "$SINGLE" sh "$IN" "$FEAT4"
measure "asin-shard + parallel -j2, 4 features" "$rows" "$bytes" \
    sh -c "$SHARDED" sh "$W" "$SP" "$IN" "$FEAT4"
if [ $have_duckdb = 1 ]; then
	measure "duckdb-2t dedupe, 4 features, zscore" "$rows" "$bytes" \
	    node "$TOP/tests/bench/zscore-duckdb.cjs" --threads 2 \
	    "$TOP/tests/bench/scaleout-duckdb.sql" IN="$IN" OUT="$W.duckdb.json"
	rm -f "$W.duckdb.json"
else
	printf '| %-46s | skipped: DuckDB not installed |\n' duckdb
fi
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
echo
[ "$FULL" != 0 ] &&
    ratio "asin-shard + parallel -j2, 8 partitions" "single process: dedupe | feat | zscore"
ratio "asin-shard + parallel -j2, 4 features" "single process, 4 features"
[ $have_duckdb = 1 ] &&
    ratio "asin-shard + parallel -j2, 4 features" "duckdb-2t dedupe, 4 features, zscore"
rm -rf "$W"
