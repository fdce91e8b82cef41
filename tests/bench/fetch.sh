# fetch.sh: asin-fetch against the fake upstream with no rate limit, next
# to plain curl over the same URLs.  10,000 ASINs (ROWS), Keepa-shaped
# answers with 30 days of history (a bench copy of the keepa profile with
# days=30; the shipped one asks for 400).  The server runs apart, so the
# CPU column is the client's alone.
. "$TOP/tests/bench/lib.sh"

N=${ROWS:-10000}
W=$BENCH_OUT/fetch
rm -rf "$W"
mkdir -p "$W"
jq '.name = "keepa-bench" | .url |= sub("days=400"; "days=30")' \
    "$TOP/schemas/providers/keepa.json" >"$W/keepa-bench.json"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++) printf "B%09d\n", i }' >"$W/asins"

fake-upstream --port-file "$W/port" >/dev/null 2>&1 &
UP=$!
trap 'kill $UP 2>/dev/null' EXIT INT TERM
i=0
while [ ! -s "$W/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
BASE="http://127.0.0.1:$(cat "$W/port")"
export KEEPA_API_KEY=bench-key ASIN_ENV_FILE=/dev/null

# The same URLs asin-fetch sends: batches of 100, and one ASIN each.
Q="key=bench-key&domain=1&stats=90&rating=1&days=30"
awk -v b="$BASE/product?$Q" '{ ids = ids (NR % 100 == 1 ? "" : ",") $1 }
    NR % 100 == 0 { print b "&asin=" ids; ids = "" }
    END { if (ids != "") print b "&asin=" ids }' "$W/asins" >"$W/urls100"
awk -v b="$BASE/product?$Q" '{ print b "&asin=" $1 }' "$W/asins" >"$W/urls1"
sed 's/^/url = "/; s/$/"\noutput = "\/dev\/null"/' "$W/urls1" >"$W/curl1.cfg"
bytes=$(xargs -n 50 curl -s <"$W/urls100" | wc -c)

table_head "asin-fetch: $N ASINs, fake upstream, no rate limit"
measure "asin-fetch batch 100, -j 4" "$N" "$bytes" \
    asin-fetch -p "$W/keepa-bench.json" -b "$BASE" --qpm 0 -j 4 "$W/asins"
measure "xargs -P 4 curl, same 100 URLs" "$N" "$bytes" \
    sh -c "xargs -P 4 -n 1 curl -s -o /dev/null <'$W/urls100'"
measure "curl loop, same 100 URLs" "$N" "$bytes" \
    sh -c "while read -r u; do curl -s -o /dev/null \"\$u\"; done <'$W/urls100'"
measure "asin-fetch batch 1, -j 8" "$N" "$bytes" \
    asin-fetch -p "$W/keepa-bench.json" -b "$BASE" --qpm 0 -j 8 --batch 1 "$W/asins"
measure "curl --parallel, same $N URLs" "$N" "$bytes" \
    curl -s --parallel --parallel-max 8 -K "$W/curl1.cfg"
ratio "asin-fetch batch 100, -j 4" "xargs -P 4 curl, same 100 URLs"
ratio "asin-fetch batch 1, -j 8" "curl --parallel, same $N URLs"
# The client's CPU per ASIN, the figure that says who is the bottleneck.
awk -F'\t' -v n="$N" '$9 == "fetch" {
	printf "CPU per ASIN: %-34s %7.1f us\n", $1, $3 / n * 1e6 }' "$BENCH_RESULTS/results.tsv"
