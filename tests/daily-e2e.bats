#!/usr/bin/env bats
# daily-e2e.bats: the daily job with the real tools against the fake
# Keepa upstream serving a small generated catalogue (300 ASINs, three
# marketplaces, six categories, six planted breakouts): three days in a
# row into one database, a kill -9 mid-stage and the rerun, and a
# finished day that a rerun leaves alone.
load helper

END=2026-05-10
D1=2026-05-08
D2=2026-05-09

setup_file() {
	command -v python3 >/dev/null || skip "no python3"
	local c="$BATS_FILE_TMPDIR/cat"
	python3 "$TOP/tests/tools/demo-catalog.py" --out "$c" --asins 300 \
	    --days 120 --end "$END" --seed 13 >/dev/null
	fake-upstream --files "$c" --port-file "$BATS_FILE_TMPDIR/port" \
	    --now "$(date -u -d "$END + 1 day 04:00" +%s)" \
	    >/dev/null 2>"$BATS_FILE_TMPDIR/upstream.err" 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/upstream.pid"
	local i=0
	while [ ! -s "$BATS_FILE_TMPDIR/port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$BATS_FILE_TMPDIR/upstream.err" >&2; return 1; }
		sleep 0.1
	done
}

teardown_file() {
	[ -s "$BATS_FILE_TMPDIR/upstream.pid" ] &&
	    kill "$(cat "$BATS_FILE_TMPDIR/upstream.pid")" 2>/dev/null || :
}

# mk [VAR=value...] TARGET: the daily job in the current directory, its
# files under data/, exports/ and asin.db.
mk() {
	KEEPA_API_KEY=test-key make --no-print-directory -s \
	    -f "$TOP/pipelines/daily.mk" ASINS="$BATS_FILE_TMPDIR/cat/asins.ndjson" \
	    BASE_URL="http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/port")" \
	    DB=asin.db "$@"
}

q() {
	asin-db query "${DB:-asin.db}" "$@"
}

# tables DB: every table's rows in key order, one line each.
tables() {
	local t
	for t in products fetch_log facts features scores assignments; do
		echo "== $t"
		sqlite3 "$1" "SELECT * FROM $t ORDER BY 1, 2, 3, 4"
	done
}

@test "daily e2e: three days in a row: rows per table, unique keys, features from the history read back, breakouts on top" {
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr mk backfill FROM=$D1 TO=$END
	# The first day has no previous quality report: a warning, no more.
	assert_eq "asin-dedupe: data/2026-05-07/quality.json: no previous report, so no row change" "$stderr"
	# 300 products; every day 301 envelopes (one ASIN the upstream does
	# not know) and 300 feature and score rows; facts: the 30 days the
	# first fetch reaches back, and one new day per later fetch.
	run -0 q "SELECT (SELECT count(*) FROM products) AS products,
	    (SELECT count(*) FROM fetch_log) AS fetch_log,
	    (SELECT count(*) FROM facts) AS facts,
	    (SELECT count(DISTINCT date) FROM facts) AS fact_days,
	    (SELECT min(date) FROM facts) AS first,
	    (SELECT count(*) FROM features) AS features,
	    (SELECT count(*) FROM scores) AS scores,
	    (SELECT count(DISTINCT experiment) FROM assignments) AS experiments"
	assert_eq '{"products":300,"fetch_log":903,"facts":9600,"fact_days":32,"first":"2026-04-09","features":900,"scores":900,"experiments":3}' "$output"
	local d n
	for d in $D1 $D2 $END; do
		n=$(wc -l <data/$d/candidates.ndjson)
		[ "$n" -gt 100 ]
		run -0 q --param e=daily-$d "SELECT count(*) AS n FROM assignments WHERE experiment = :e"
		assert_eq "{\"n\":$n}" "$output"
		run -0 jq -c '{gates: [.gates[].ok], rows_out}' data/$d/quality.json
		assert_eq '{"gates":[true,true,true],"rows_out":9000}' "$output"
	done
	# No key twice in any table.
	run -0 q "SELECT
	    (SELECT count(*) FROM (SELECT 1 FROM facts GROUP BY asin, marketplace, date HAVING count(*) > 1)) +
	    (SELECT count(*) FROM (SELECT 1 FROM features GROUP BY asin, marketplace, date HAVING count(*) > 1)) +
	    (SELECT count(*) FROM (SELECT 1 FROM scores GROUP BY asin, marketplace, date HAVING count(*) > 1)) +
	    (SELECT count(*) FROM (SELECT 1 FROM fetch_log GROUP BY asin, marketplace, date, provider HAVING count(*) > 1)) +
	    (SELECT count(*) FROM (SELECT 1 FROM assignments GROUP BY experiment, asin HAVING count(*) > 1)) AS dups"
	assert_eq '{"dups":0}' "$output"
	# The features of the third day come from every fact row in the
	# database, not from the day's fetch: asin-feat read 32 days back,
	# the 90-day window holds 32 days, and the 30-day review velocity
	# needs the review count of 30 days before, which only the first
	# day's fetch reached.
	assert_eq '{"in":9600,"out":300,"rejected":0}' "$(jq -c '{in, out, rejected}' data/$END/feat.stats)"
	run -0 q --param d=$END "SELECT count(*) AS n,
	    sum(json_extract(extra, '\$.coverage_90') = 32.0 / 90) AS cov90,
	    sum(review_velocity_30 IS NOT NULL) AS rv30 FROM features WHERE date = :d"
	assert_eq '{"n":300,"cov90":300,"rv30":300}' "$output"
	run -0 q --param d=$D1 "SELECT sum(review_velocity_30 IS NOT NULL) AS rv30 FROM features WHERE date = :d"
	assert_eq '{"rv30":0}' "$output"
	# Each planted breakout is first in its marketplace and category.
	local mkt cat asin
	[ "$(wc -l <"$BATS_FILE_TMPDIR/cat/breakouts.ndjson")" -eq 6 ]
	while IFS=$'\t' read -r mkt cat asin; do
		run -0 q --param d=$END --param m="$mkt" --param c="$cat" \
		    "SELECT asin FROM scores WHERE date = :d AND marketplace = :m AND category = :c AND group_rank = 1"
		assert_eq "{\"asin\":\"$asin\"}" "$output" "the first of $mkt $cat"
	done < <(jq -r '[.marketplace, .category, .asin] | @tsv' "$BATS_FILE_TMPDIR/cat/breakouts.ndjson")
	# The CSV and the report of each day.
	for d in $D1 $D2 $END; do
		head -1 exports/top_candidates_${d//-/}.csv | grep -q '^date,marketplace,category,rank,asin,title,score,'
		grep -q '<title>Breakout candidates '"$d"'</title>' exports/report_${d//-/}.html
	done
}

@test "daily e2e: a finished day does nothing when run again" {
	cd "$BATS_TEST_TMPDIR"
	mk DAY=$END daily 2>/dev/null
	tables asin.db >before
	run -0 mk -q DAY=$END daily
	run -0 --separate-stderr mk DAY=$END daily
	assert_eq "" "$output"
	assert_eq "" "$stderr"
	run -0 mk backfill FROM=$END TO=$END
	assert_eq "" "$output"
	tables asin.db >after
	cmp before after
}

@test "daily e2e: kill -9 mid-stage and the rerun lose nothing and duplicate nothing" {
	cd "$BATS_TEST_TMPDIR"
	# Fetch once: every later stage depends only on the envelopes, so a
	# clean run over a copy of them is what the killed runs must end at.
	mkdir a b
	(cd a && mk DAY=$END fetch)
	mkdir -p b/data/$END
	cp a/data/$END/envelopes.ndjson a/data/$END/fetch.stats \
	    a/data/$END/fetch.rejects b/data/$END/
	local t0 t1 ms
	t0=$(date +%s%N)
	(cd b && mk DAY=$END daily 2>/dev/null)
	t1=$(date +%s%N)
	ms=$(( (t1 - t0) / 1000000 ))
	# Kill the job after a sixth of a clean run's time, six times, each
	# run going on from where the last left off.
	local k pid killed=0
	for k in 1 2 3 4 5 6; do
		(cd a && exec setsid bash -c 'KEEPA_API_KEY=x exec "$@"' mk \
		    make --no-print-directory -s -f "$TOP/pipelines/daily.mk" \
		    ASINS="$BATS_FILE_TMPDIR/cat/asins.ndjson" DB=asin.db \
		    BASE_URL=http://127.0.0.1:9 DAY=$END daily) >/dev/null 2>&1 &
		pid=$!
		sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 6000 }')"
		kill -9 -- -$pid 2>/dev/null || :
		wait $pid || :
		# Killed before the day was done?
		(cd a && mk -q DAY=$END daily) || killed=$((killed + 1))
	done
	[ $killed -ge 2 ]
	(cd a && mk DAY=$END daily 2>/dev/null)
	# The rerun replaced every temporary file a kill left.
	run -0 find a -name '*.tmp*'
	assert_eq "" "$output"
	tables a/asin.db >a.tables
	tables b/asin.db >b.tables
	cmp a.tables b.tables
	local f
	for f in facts.ndjson history.ndjson features.ndjson scores.ndjson \
	    candidates.ndjson assigned.ndjson quality.json; do
		cmp a/data/$END/$f b/data/$END/$f
	done
	cmp a/exports/top_candidates_20260510.csv b/exports/top_candidates_20260510.csv
	cmp a/exports/report_20260510.html b/exports/report_20260510.html
	run -0 sqlite3 a/asin.db "PRAGMA integrity_check"
	assert_eq ok "$output"
}

@test "daily e2e: a quality gate stops the run before the load, quality.json says which" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr mk DAY=$END MIN_COVERAGE=1 daily
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"--min-coverage 1"* ]] || { echo "$stderr"; return 1; }
	run -0 jq -c '[.gates[] | select(.ok | not) | .gate], .coverage.missing' data/$END/quality.json
	assert_eq '["--min-coverage 1"]
["B0MISS0001"]' "$output"
	[ ! -e data/$END/facts.ndjson ] && [ ! -e data/$END/facts.ndjson.tmp ]
	[ ! -e asin.db ]
	# Relaxed for the day, the rerun goes on from the envelopes.
	run -0 mk DAY=$END daily
	[ -s exports/top_candidates_20260510.csv ]
}
