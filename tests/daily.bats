#!/usr/bin/env bats
# daily.bats: the daily job's scaffolding: settings from config.mk that
# the environment and the command line override, the DAY check, backfill's
# operands, a finished day that does nothing, the Airflow DAG that
# byte-compiles, and the stage files written through temporary names.
load helper

mk() {
	make --no-print-directory -f "$TOP/pipelines/daily.mk" "$@"
}

@test "daily.mk: settings come from config.mk, the environment wins, the command line wins over both" {
	cd "$BATS_TEST_TMPDIR"
	touch asins.txt
	run -0 mk -n DAY=2026-05-10 history
	[[ "$output" == *"asin-db init data/asin.db"* ]] || { echo "$output"; return 1; }
	[[ "$output" == *"--param from=2026-01-11 --param to=2026-05-10 data/asin.db"* ]]
	DB=/tmp/elsewhere.db HISTORY_DAYS=30 run -0 mk -n DAY=2026-05-10 history
	[[ "$output" == *"--param from=2026-04-11 --param to=2026-05-10 /tmp/elsewhere.db"* ]] || { echo "$output"; return 1; }
	DB=/tmp/elsewhere.db run -0 mk -n DAY=2026-05-10 DB=cli.db history
	[[ "$output" == *" cli.db >"* ]] || { echo "$output"; return 1; }
}

@test "daily.mk: DAY must be a date; backfill needs FROM and TO" {
	cd "$BATS_TEST_TMPDIR"
	run -2 --separate-stderr mk DAY=2026-5-1
	[[ "$stderr" == *"DAY must be YYYY-MM-DD, got '2026-5-1'"* ]] || { echo "$stderr"; return 1; }
	run --separate-stderr mk DAY=2026-05-01 backfill FROM=2026-05-01
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"backfill needs FROM=YYYY-MM-DD TO=YYYY-MM-DD"* ]]
}

@test "daily.mk: a finished day does nothing, a missing stage file is made again" {
	cd "$BATS_TEST_TMPDIR"
	touch asins.txt
	local d=data/2026-05-10 f
	mkdir -p "$d" exports
	for f in envelopes.ndjson facts.ndjson load-facts.stats history.ndjson \
	    features.ndjson load-features.stats scores.ndjson load-scores.stats \
	    candidates.ndjson assigned.ndjson; do
		touch "$d/$f"
		sleep 0.01
	done
	touch exports/top_candidates_20260510.csv exports/report_20260510.html
	run -0 mk -q DAY=2026-05-10 daily
	# A later watch list does not refetch a finished day.
	sleep 0.01
	touch asins.txt
	run -0 mk -q DAY=2026-05-10 daily
	rm "$d/scores.ndjson"
	run -0 mk -n DAY=2026-05-10 daily
	[[ "$output" == *"asin-zscore"* ]] && [[ "$output" != *"asin-fetch"* ]] && [[ "$output" != *"asin-feat"* ]] ||
	    { echo "$output"; return 1; }
}

@test "daily.mk: backfill runs every day of the range in order" {
	cd "$BATS_TEST_TMPDIR"
	touch asins.txt
	run -0 mk -n backfill FROM=2026-02-27 TO=2026-03-02
	# asin-fetch's --date, the first on its line (asin-report's is not).
	run -0 sed -n 's/^ *\(--date 20[0-9-]*\) .*/\1/p' <<<"$output"
	assert_eq "--date 2026-02-27
--date 2026-02-28
--date 2026-03-01
--date 2026-03-02" "$output"
}

@test "daily.mk: a failed stage leaves no half file" {
	cd "$BATS_TEST_TMPDIR"
	printf 'B000000001\n' >asins.txt
	run --separate-stderr env -u KEEPA_API_KEY make --no-print-directory \
	    -f "$TOP/pipelines/daily.mk" DAY=2026-05-10 BASE_URL=http://127.0.0.1:9 fetch
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"asin-fetch: provider keepa: KEEPA_API_KEY is not set"* ]] || { echo "$stderr"; return 1; }
	[ ! -e data/2026-05-10/envelopes.ndjson ]
	[ ! -e data/2026-05-10/envelopes.ndjson.tmp ]
}

@test "the Airflow DAG byte-compiles, one task per stage of daily.mk" {
	command -v python3 >/dev/null || skip "no python3"
	python3 -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
	    "$TOP/pipelines/asin_daily_dag.py" "$BATS_TEST_TMPDIR/dag.pyc"
	local stages targets
	stages=$(sed -n 's/^    ("\([a-z]*\)", [0-9]*),.*/\1/p' "$TOP/pipelines/asin_daily_dag.py" | tr '\n' ' ')
	targets=$(sed -n 's/^\.PHONY: daily \(.*\) \\$/\1/p' "$TOP/pipelines/daily.mk")
	assert_eq "$targets " "$stages"
}
