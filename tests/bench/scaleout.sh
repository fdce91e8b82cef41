#!/bin/sh
# scaleout.sh: the day's three keyed stages (dedupe, feat, zscore) end to
# end on the 2 cores here, on ROWS generated fact rows (ROWS=10000000 is
# the issue's 10M-row day), in the same run:
#   single process    asin-dedupe | asin-feat | asin-zscore
#   sharded           pipelines/scale-out/shard-parallel.sh: asin-shard by
#                     asin into 8 partitions, dedupe | feat two at a time
#                     under GNU parallel, merge; then zscore the same way
#                     partitioned by date and merged by its key
# The two outputs are compared byte for byte before timing.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1
peer_available parallel || exit 0
W=$BENCH_OUT/scaleout
SP=$TOP/pipelines/scale-out/shard-parallel.sh
SHARDED='set -e
rm -rf "$1"; mkdir -p "$1"
"$2" -k asin -m asin -c "asin-dedupe | asin-feat" -w "$1/feat" -n 8 -j 2 "$3" "$1/feat.ndjson"
"$2" -k date -m date,marketplace,category -c asin-zscore -w "$1/z" -n 8 -j 2 "$1/feat.ndjson" "$1/out.ndjson"
cat "$1/out.ndjson"'
SINGLE='asin-dedupe "$1" | asin-feat | asin-zscore'

sh -c "$SINGLE" sh "$IN" >"$W.single" || exit 1
sh -c "$SHARDED" sh "$W" "$SP" "$IN" | cmp -s - "$W.single" || {
	echo "bench: the sharded pipeline differs from the single process" >&2
	exit 1
}
rm -f "$W.single"

table_head "scale-out: dedupe, feat, zscore on $rows rows, $((bytes / 1000000)) MB ($name)"
measure "single process: dedupe | feat | zscore" "$rows" "$bytes" \
    sh -c "$SINGLE" sh "$IN"
measure "asin-shard + parallel -j2, 8 partitions" "$rows" "$bytes" \
    sh -c "$SHARDED" sh "$W" "$SP" "$IN"
echo
ratio "asin-shard + parallel -j2, 8 partitions" "single process: dedupe | feat | zscore"
rm -rf "$W"
