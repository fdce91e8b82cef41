#!/usr/bin/env bats
# Kill tests: kill -9 at seeded random points of asin-fetch with an
# archive, asin-db load and asin-rank train, then a rerun to the end; the
# result must equal an uninterrupted run.  KILL_ROUNDS rounds per tool (3
# in make check, 20 under make hardening), KILL_SEED (plus the test number) picks the points
# (the seed and the delays of each round go to $BUILD/hardening/kill.txt,
# so a failing round can be replayed).  The single hand-placed kills of
# tests/asin-db.bats, asin-fetch.bats and asin-registry.bats stay there.
load helper

KILL_ROUNDS=${KILL_ROUNDS:-3}
KILL_SEED=${KILL_SEED:-19}

# Each run of the file writes its own record.
setup_file() {
	rm -f "$BUILD_DIR/hardening/kill.txt"
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	RANDOM=$((KILL_SEED + BATS_TEST_NUMBER))
	UP_PID=
	mkdir -p "$BUILD_DIR/hardening"
}

teardown() {
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || :
		wait "$UP_PID" 2>/dev/null || :
	fi
}

# kill_after MS CMD...: start CMD, kill -9 it after MS milliseconds (if it
# still runs); says "killed" or "finished".
kill_after() {
	local ms=$1 pid
	shift
	"$@" >/dev/null 2>&1 3>&- &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	if kill -9 "$pid" 2>/dev/null; then echo killed; else echo finished; fi
	wait "$pid" 2>/dev/null || :
}

# record TOOL LIST: the rounds of one tool, for the report.
record() {
	echo "$1: seed $KILL_SEED, $KILL_ROUNDS rounds, kill at ms (outcome): $2" \
	    >>"$BUILD_DIR/hardening/kill.txt"
}

@test "kill -9: asin-db load, then the rerun, equals an uninterrupted load" {
	genfacts --seed 3 --rows 10000 --days 30 --dup-rate 0 >in
	asin-db init clean.db
	asin-db load --batch 500 clean.db facts in
	local q="PRAGMA integrity_check; SELECT asin, marketplace, date, price, bsr, rating, review_count, extra FROM facts ORDER BY 1, 2, 3"
	sqlite3 clean.db "$q" >want
	local r ms how log=
	for ((r = 0; r < KILL_ROUNDS; r++)); do
		ms=$((RANDOM % 600))
		rm -f t.db t.db-wal t.db-shm
		asin-db init t.db
		how=$(kill_after "$ms" asin-db load --batch 500 t.db facts in)
		log="$log $ms($how)"
		[ "$(sqlite3 t.db 'PRAGMA integrity_check')" = ok ] || { echo "round $r: damaged after kill at $ms ms"; return 1; }
		asin-db load --batch 500 t.db facts in
		sqlite3 t.db "$q" >got
		cmp want got || { echo "round $r (kill at $ms ms): the rerun differs"; diff want got | head; return 1; }
	done
	record asin-db-load "$log"
}

@test "kill -9: asin-rank train, then the rerun, writes the uninterrupted model" {
	local args=(--label label --group date,category --features price,bsr,rating,review_count
	    --min-leaf 5 --trees 300 --no-runs)
	asin-rank train "${args[@]}" -o want.json "$FIXTURES/asin-rank/train.ndjson"
	local r ms how log=
	for ((r = 0; r < KILL_ROUNDS; r++)); do
		ms=$((RANDOM % 400))
		rm -f m.json
		how=$(kill_after "$ms" asin-rank train "${args[@]}" -o m.json "$FIXTURES/asin-rank/train.ndjson")
		log="$log $ms($how)"
		# Killed, the model is absent or whole: never a torn file.
		if [ -e m.json ]; then cmp want.json m.json || { echo "round $r: torn model after kill at $ms ms"; return 1; }; fi
		asin-rank train "${args[@]}" -o m.json "$FIXTURES/asin-rank/train.ndjson"
		cmp want.json m.json || { echo "round $r (kill at $ms ms): the rerun differs"; return 1; }
	done
	record asin-rank-train "$log"
}

@test "kill -9: asin-fetch with an archive, then the rerun, equals an uninterrupted fetch" {
	export KEEPA_API_KEY=kp-secret-7f3a9c2e51 ASIN_FETCH_SEED=7
	unset ASIN_ENV_FILE ASIN_FETCH_BASE_URL ASIN_PROVIDERS
	fake-upstream --port-file port --delay 40 >/dev/null 2>&1 3>&- &
	UP_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s port ] && break
		sleep 0.05
	done
	printf 'B%09d\n' $(seq 1 20) >in
	local f=(asin-fetch -p "$FIXTURES/asin-fetch/keepa-small.json" -b "http://127.0.0.1:$(cat port)"
	    --batch 2 -j 1 --qpm 60000 --burst 20 --date 2026-05-10 in)
	norm() { sed 's/"fetched_at":"[0-9T:Z-]*"/"fetched_at":"T"/'; }
	"${f[@]}" --archive clean | norm >want
	local r ms how log=
	for ((r = 0; r < KILL_ROUNDS; r++)); do
		ms=$((RANDOM % 900))
		rm -rf arc
		how=$(kill_after "$ms" "${f[@]}" --archive arc)
		log="$log $ms($how)"
		"${f[@]}" --archive arc | norm >got
		cmp want got || { echo "round $r (kill at $ms ms): the rerun differs"; diff want got | head -4; return 1; }
		# The archive holds each batch once, as the clean one does.
		[ "$(jq -c .ids arc/2026-05-10/keepa-small/journal.ndjson | sort -u | wc -l)" -eq 10 ] ||
		    { echo "round $r: the journal lacks batches"; return 1; }
	done
	record asin-fetch-archive "$log"
}
