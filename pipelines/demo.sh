#!/bin/sh
# demo.sh - `make demo`: the daily job once, end to end, on this machine
# alone.  A fake Keepa API on 127.0.0.1 stands in for the real one, so no
# key and no network are needed.  Everything lands in $BUILD/demo/.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
PATH="$TOP/$BUILD/bin:$TOP/$BUILD/tests:$PATH"
export LC_ALL=C PATH
W="$TOP/$BUILD/demo"
rm -rf "$W"
mkdir -p "$W"
say() { printf '\n== %s\n' "$*"; }

say "1. a fake Keepa API on 127.0.0.1 (port chosen by the OS)"
fake-upstream --port-file "$W/port" --now 1778371200 --log "$W/upstream.log" \
    >/dev/null 2>"$W/upstream.err" &
upstream=$!
trap 'kill $upstream 2>/dev/null || :' EXIT INT TERM
i=0
while [ ! -s "$W/port" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: fake upstream did not start" >&2; exit 1; }
	sleep 0.05
done
port=$(cat "$W/port")
echo "listening on 127.0.0.1:$port"

say "2. the watch list: generated ASINs, one unknown upstream, one invalid, one malformed"
genfacts --seed 7 --asins 300 --days 1 | jq -r .asin | sort -u >"$W/asins.txt"
printf 'B0MISS0001\nB0INVL0001\nnot-an-asin\n' >>"$W/asins.txt"
wc -l <"$W/asins.txt"

say "3. asin-fetch: Keepa profile, archived, resumable (exit 3 = partial)"
st=0
KEEPA_API_KEY=demo-key asin-fetch -b "http://127.0.0.1:$port" \
    --archive "$W/raw" --date 2026-05-10 --rejects "$W/fetch.rejects" \
    --stats "$W/fetch.stats" -q "$W/asins.txt" >"$W/envelopes.ndjson" || st=$?
[ $st -eq 0 ] || [ $st -eq 3 ]
echo "exit status $st"
jq -c '{requested, ok, missing, invalid, failed, requests, retries}' "$W/fetch.stats"
echo "rejected before sending: $(jq -r .raw "$W/fetch.rejects")"
asin-validate --schema "$TOP/schemas/fetch-envelope.schema.json" \
    "$W/envelopes.ndjson" >/dev/null && echo "every envelope matches schemas/fetch-envelope.schema.json"
echo "rerun of the same day sends no request:"
KEEPA_API_KEY=demo-key asin-fetch -b "http://127.0.0.1:$port" \
    --archive "$W/raw" --date 2026-05-10 --stats "$W/fetch2.stats" \
    --rejects /dev/null -q "$W/asins.txt" >/dev/null || [ $? -eq 3 ]
jq -c '{requests, batches}' "$W/fetch2.stats"

say "4. facts for 30 days (generated until asin-dedupe joins the suite), scored"
genfacts --seed 7 --rows 60000 --days 30 --start 2026-04-11 >"$W/facts.ndjson"
asin-validate --schema "$TOP/schemas/fact.schema.json" "$W/facts.ndjson" |
    asin-zscore -k date,marketplace,category --features=-log:bsr,-price \
    --min-group 8 --top 3 --explain >"$W/scored.ndjson"
jq -c 'select(.date == "2026-05-10") | {asin, marketplace, category, bsr, price, score, group_rank}' \
    "$W/scored.ndjson" | head -5
jq -c 'select(.date == "2026-05-10")' "$W/scored.ndjson" >"$W/candidates.ndjson"
echo "$(wc -l <"$W/candidates.ndjson") candidates on 2026-05-10"

say "5. asin-split: the candidates into a GrowthBook-compatible experiment"
asin-split --experiment demo-main-image --variants control:50,treatment:50 \
    --stats "$W/split.stats" "$W/candidates.ndjson" >"$W/assigned.ndjson"
jq -r .variant "$W/assigned.ndjson" | sort | uniq -c

say "6. asin-uplift: two weeks of per-ASIN results (simulated), the readout"
uplift-gen -n 4000 -k 2 --seed 11 --lift 0.08 >"$W/results.ndjson"
asin-uplift --unit asin --format markdown "$W/results.ndjson" >"$W/report.md"
cat "$W/report.md"

say "done: the files are in $BUILD/demo/"
