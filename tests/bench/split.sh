# split.sh: asin-split against the GrowthBook SDK in Node assigning the
# same IDs (10M by default; ROWS to change) in the same run.  Both write
# the same NDJSON, byte for byte (checked below on the first 100k), so
# the comparison is like for like.  The SDK, npm @growthbook/growthbook,
# is installed into $BUILD/gb-node on first use, never into the tree.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

ROWS=${ROWS:-10000000}
SDK_VERSION=1.8.0
ids="$BENCH_OUT/split-ids-$ROWS.txt"
recs="$BENCH_OUT/split-recs-1000000.ndjson"
gbnode="$TOP/${BUILD:-build}/gb-node"

# Synthetic ASINs, "B0" + 8 of [0-9A-Z] (tests/growthbook/ids.awk).
if [ ! -s "$ids" ]; then
	awk -v n="$ROWS" -v s=12345 -f "$TOP/tests/growthbook/ids.awk" \
	    >"$ids.tmp.$$" && mv "$ids.tmp.$$" "$ids"
fi
if [ ! -s "$recs" ]; then
	head -1000000 "$ids" | awk '{ c = NR % 3 == 0 ? "Books" : NR % 3 == 1 ? "Toys" : "Garden"
	    printf "{\"asin\":\"%s\",\"category\":\"%s\",\"price\":%d.99}\n", $1, c, NR % 50 }' \
	    >"$recs.tmp.$$" && mv "$recs.tmp.$$" "$recs"
fi
bytes=$(file_bytes "$ids")
rbytes=$(file_bytes "$recs")
nrecs=$(file_rows "$recs")

if [ ! -d "$gbnode/node_modules/@growthbook/growthbook" ] &&
    command -v npm >/dev/null; then
	mkdir -p "$gbnode"
	npm install --prefix "$gbnode" --no-audit --no-fund --silent \
	    "@growthbook/growthbook@$SDK_VERSION" >&2 ||
	    echo "bench split: npm install failed; the SDK peer is skipped" >&2
fi
have_sdk=0
if command -v node >/dev/null &&
    [ -d "$gbnode/node_modules/@growthbook/growthbook" ]; then
	have_sdk=1
	export NODE_PATH="$gbnode/node_modules"
	head -100000 "$ids" | asin-split -e bench --seed bench >"$BENCH_RESULTS/split-c.out"
	head -100000 "$ids" | node "$TOP/tests/growthbook/assign.js" bench bench 2 \
	    >"$BENCH_RESULTS/split-node.out"
	if cmp -s "$BENCH_RESULTS/split-c.out" "$BENCH_RESULTS/split-node.out"; then
		echo "same output as the SDK on the first 100000 IDs: yes"
	else
		echo "same output as the SDK on the first 100000 IDs: NO" >&2
	fi
fi

table_head "asin-split: $ROWS IDs, one experiment (hash v2, 50/50)"
measure "asin-split, bare IDs" "$ROWS" "$bytes" \
    asin-split -e bench --seed bench "$ids"
measure "asin-split, 1M JSON records, 3 rules by category" "$nrecs" "$rbytes" \
    asin-split -e bench --seed bench --by category --rule 'Books=20,80@0.5' \
    --rule 'Toys=50,50' --rule '*=90,10@0.3' --stats "$BENCH_RESULTS/split-stats.json" "$recs"
if [ "$have_sdk" = 1 ]; then
	measure "GrowthBook SDK $SDK_VERSION in Node, bare IDs" "$ROWS" "$bytes" \
	    sh -c 'exec node "$1/tests/growthbook/assign.js" bench bench 2 <"$2"' sh "$TOP" "$ids"
	ratio "asin-split, bare IDs" "GrowthBook SDK $SDK_VERSION in Node, bare IDs"
else
	printf '| %-46s | skipped: node or npm @growthbook/growthbook unavailable |\n' \
	    "GrowthBook SDK $SDK_VERSION in Node"
fi
