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

# The daily job, as cron runs it, with the demo's paths.
daily() {
	KEEPA_API_KEY=demo-key make --no-print-directory -s \
	    -f "$TOP/pipelines/daily.mk" DAY="$DAY" ASINS="$CAT/asins.ndjson" \
	    DATA="$W/data" DB="$W/asin.db" EXPORTS="$W/exports" \
	    ARCHIVE="$W/data/archive" BASE_URL="http://127.0.0.1:$port" \
	    EXPERIMENT=demo-main-image VARIANTS=control:50,treatment:50 "$@"
}

say "3. the daily job for $DAY: make -f pipelines/daily.mk (fetch, dedupe, load, features, scores, export)"
D="$W/data/$DAY"
daily fetch
jq -c '{requested, ok, missing, failed, requests, retries}' "$D/fetch.stats"
echo "rejected before sending: $(jq -r .raw "$D/fetch.rejects")"
if command -v asin-dedupe >/dev/null && command -v asin-feat >/dev/null; then
	daily daily
else
	# Until asin-dedupe and asin-feat join this branch the scores come
	# from generated fact rows, loaded and exported through the same
	# database and query.
	echo "asin-dedupe and asin-feat are not built: scoring generated facts"
	asin-db init "$W/asin.db"
	genfacts --seed 7 --rows 60000 --days 30 --start "$(date -u -d "$DAY - 29 days" +%F)" |
	    asin-db load --tee "$W/asin.db" facts |
	    asin-zscore -k date,marketplace,category --features=-log:bsr,-price \
	    --min-group 8 --explain >"$W/scored.ndjson"
	asin-db load "$W/asin.db" scores "$W/scored.ndjson"
	mkdir -p "$W/exports"
	q() {
		asin-db query --sql-file "$TOP/pipelines/sql/top_candidates.sql" \
		    --param day="$DAY" --param top=20 "$@" "$W/asin.db"
	}
	q --csv >"$W/exports/top_candidates_$(echo "$DAY" | tr -d -).csv"
	q >"$D/candidates.ndjson"
	asin-split --experiment demo-main-image --variants control:50,treatment:50 \
	    "$D/candidates.ndjson" | asin-db load --tee "$W/asin.db" assignments \
	    >"$D/assigned.ndjson"
fi
csv="$W/exports/top_candidates_$(echo "$DAY" | tr -d -).csv"

say "4. the day's top candidates per category"
asin-db query --param day="$DAY" "$W/asin.db" \
    "SELECT marketplace, category, group_rank, asin, score FROM scores
     WHERE date = :day AND group_rank <= 3
     ORDER BY marketplace, category, group_rank" |
    jq -r '[.marketplace, .category, .group_rank, .asin,
        (.score * 100 | round / 100)] | @tsv' |
    { printf 'MKT\tCATEGORY\tRANK\tASIN\tSCORE\n'; cat; } | column -t -s "$(printf '\t')"
echo
echo "database: $BUILD/demo/asin.db  (asin-db query $BUILD/demo/asin.db \"SELECT * FROM top_candidates\")"
echo "CSV:      $BUILD/demo/exports/$(basename "$csv")"

say "5. asin-split put the candidates into experiment demo-main-image"
jq -r .variant "$D/assigned.ndjson" | sort | uniq -c

say "6. asin-uplift: two weeks of per-ASIN results (simulated) for those ASINs"
uplift-gen --assigned "$D/assigned.ndjson" --seed 11 --lift 0.08 >"$W/results.ndjson"
asin-uplift --unit asin --control control --format markdown "$W/results.ndjson" >"$W/report.md"
cat "$W/report.md"

say "done: the files are in $BUILD/demo/"
