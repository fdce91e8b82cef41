#!/bin/sh
# demo.sh - `make demo`: the daily job once, end to end, on this machine
# alone.  A fake Keepa API on 127.0.0.1 serves a generated catalogue (a
# few thousand ASINs in three marketplaces and six categories, 120 days
# of history, a handful of planted breakouts), so no key and no network
# are needed.  Everything lands in $BUILD/demo/.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
PATH="$TOP/$BUILD/bin:$TOP/$BUILD/tests:$PATH"
export LC_ALL=C PATH
W="$TOP/$BUILD/demo"
CAT="$TOP/$BUILD/demo-catalog"
DAY=${DEMO_DAY:-2026-05-10}
ASINS_N=${DEMO_ASINS:-3000}
rm -rf "$W"
mkdir -p "$W"
say() { printf '\n== %s\n' "$*"; }

say "1. the catalogue: $ASINS_N ASINs, 120 days of Keepa-shaped history up to $DAY"
args="--asins $ASINS_N --days 120 --end $DAY --seed 13 $(cksum <"$TOP/tests/tools/demo-catalog.py")"
if [ "$(cat "$CAT/.args" 2>/dev/null)" != "$args" ]; then
	rm -rf "$CAT" "$CAT.tmp"
	python3 "$TOP/tests/tools/demo-catalog.py" --out "$CAT.tmp" \
	    --asins "$ASINS_N" --days 120 --end "$DAY" --seed 13
	echo "$args" >"$CAT.tmp/.args"
	mv "$CAT.tmp" "$CAT"
	echo "generated into $BUILD/demo-catalog/"
else
	echo "reusing $BUILD/demo-catalog/"
fi
echo "planted breakouts:"
sed 's/^/  /' "$CAT/breakouts.ndjson"

say "2. a fake Keepa API on 127.0.0.1 serving it (port chosen by the OS)"
now=$(date -u -d "$DAY + 1 day 04:00" +%s)
fake-upstream --files "$CAT" --port-file "$W/port" --now "$now" \
    --log "$W/upstream.log" >/dev/null 2>"$W/upstream.err" &
upstream=$!
trap 'kill $upstream 2>/dev/null || :' EXIT INT TERM
i=0
while [ ! -s "$W/port" ]; do
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "demo: fake upstream did not start" >&2; exit 1; }
	kill -0 $upstream 2>/dev/null ||
	    { cat "$W/upstream.err" >&2; echo "demo: fake upstream died" >&2; exit 1; }
	sleep 0.1
done
port=$(cat "$W/port")
echo "listening on 127.0.0.1:$port"

# The daily job, as cron runs it, with the demo's paths.  The watch list
# is new, so its first run asks Keepa for the whole history
# (DEDUPE_DAYS=120); later days need only the last 30.
daily() {
	KEEPA_API_KEY=demo-key make --no-print-directory -s \
	    -f "$TOP/pipelines/daily.mk" DAY="$DAY" ASINS="$CAT/asins.ndjson" \
	    DATA="$W/data" DB="$W/asin.db" EXPORTS="$W/exports" \
	    ARCHIVE="$W/data/archive" BASE_URL="http://127.0.0.1:$port" \
	    DEDUPE_DAYS=120 EXPERIMENT=demo-main-image \
	    VARIANTS=control:50,treatment:50 "$@"
}

say "3. the daily job for $DAY: make -f pipelines/daily.mk daily"
D="$W/data/$DAY"
daily fetch
printf 'fetch:   %s\n' "$(jq -c '{requested, ok, missing, failed, requests, retries}' "$D/fetch.stats")"
printf '         refused before sending: %s\n' "$(jq -r '"\(.raw) (\(.error))"' "$D/fetch.rejects")"
daily dedupe 2>"$W/dedupe.err" || { cat "$W/dedupe.err" >&2; exit 1; }
printf 'dedupe:  %s\n' "$(jq -c '{rows_out, coverage: .coverage.rate, missing: .coverage.missing, gates: [.gates[] | "\(.gate) \(if .ok then "ok" else "FAILED" end)"]}' "$D/quality.json")"
daily daily
printf 'load:    %s fact rows, %s feature rows, %s scores in the database\n' \
    "$(jq .written "$D/load-facts.stats")" "$(jq .written "$D/load-features.stats")" \
    "$(jq .written "$D/load-scores.stats")"
printf 'history: %s rows read back for asin-feat (%s days), %s feature rows for %s\n' \
    "$(jq .in "$D/feat.stats")" "$(asin-db query "$W/asin.db" 'SELECT count(DISTINCT date) AS n FROM facts' | jq .n)" \
    "$(jq .out "$D/feat.stats")" "$DAY"
dayc=$(echo "$DAY" | tr -d -)
csv="$W/exports/top_candidates_$dayc.csv"
report="$W/exports/report_$dayc.html"

say "4. the day's top 3 candidates per category (* = a planted breakout)"
jq -r '"\(.marketplace) \(.asin)"' "$CAT/breakouts.ndjson" >"$W/planted.txt"
asin-db query --sql-file "$TOP/pipelines/sql/top_candidates.sql" \
    --param day="$DAY" --param top=3 "$W/asin.db" |
    jq -r --rawfile planted "$W/planted.txt" '
	def n(d): if . == null then "-" else (. * d | round) / d | tostring end;
	def cut(k): if . == null then "-" elif length > k then .[:k-1] + "~" else . end;
	[.marketplace, .category, .rank,
	 .asin + (if (.marketplace + " " + .asin) as $k |
	     $planted | split("\n") | index([$k]) != null then " *" else "" end),
	 (.score | n(100)), (.bsr_last // "-"),
	 (if .bsr_log_slope_30 == null then "-"
	  else ((-.bsr_log_slope_30 * 30 | exp * 10 | round) / 10 | tostring) + "x" end),
	 (.review_velocity_30 | n(10)), (.title | cut(36))] | @tsv' |
    { printf 'MKT\tCATEGORY\t#\tASIN\tSCORE\tBSR\tBSR 30d\tREVIEWS/DAY\tTITLE\n'; cat; } |
    column -t -s "$(printf '\t')"
echo
echo "BSR 30d: how many times better the rank got over 30 days (the fitted slope)."
found=$(asin-db query --param day="$DAY" "$W/asin.db" \
    "SELECT marketplace, asin FROM scores WHERE date = :day AND group_rank = 1" |
    jq -r '"\(.marketplace) \(.asin)"' | grep -cxF -f "$W/planted.txt" || :)
echo "planted breakouts ranked first in their category: $found of $(wc -l <"$W/planted.txt")"

say "5. asin-split put the day's candidates into experiment demo-main-image"
jq -r .variant "$D/assigned.ndjson" | sort | uniq -c

say "6. asin-uplift: two weeks of per-ASIN results (simulated) for those ASINs"
uplift-gen --assigned "$D/assigned.ndjson" --seed 11 --lift 0.08 >"$W/results.ndjson"
asin-uplift --unit asin --control control --format markdown "$W/results.ndjson" >"$W/uplift.md"
cat "$W/uplift.md"

say "done: the files are in $BUILD/demo/"
echo "database: $BUILD/demo/asin.db   (asin-db query $BUILD/demo/asin.db 'SELECT * FROM top_candidates')"
echo "CSV:      $BUILD/demo/exports/$(basename "$csv")"
echo "report:   $BUILD/demo/exports/$(basename "$report")   (open it in a browser)"
