#!/usr/bin/env bats
# asin-fetch: one API quota shared by several workers of a crawl, measured
# from the fake upstream's own log: --workers N (or ASIN_FETCH_WORKERS)
# divides the rate, the burst and the server's figures (SP-API's
# x-amzn-RateLimit-Limit, Keepa's tokensLeft/refillRate/refillIn); the
# --acquire-cmd hook grants requests or stops the run; the Redis token
# bucket of pipelines/ keeps N workers under one limit.
load helper

KEY="kp-secret-7f3a9c2e51"
SMALL="$FIXTURES/asin-fetch/keepa-small.json"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export KEEPA_API_KEY="$KEY" ASIN_FETCH_SEED=7
	export LWA_CLIENT_ID=id-1 LWA_CLIENT_SECRET=sec-2 LWA_REFRESH_TOKEN=ref-3
	unset ASIN_ENV_FILE ASIN_FETCH_BASE_URL ASIN_PROVIDERS ASIN_FETCH_WORKERS
	UP_PID= REDIS_PID=
}

teardown() {
	local p
	for p in $UP_PID $REDIS_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# upstream ARGS...: start the fake upstream, set BASE and UP_LOG.
upstream() {
	UP_LOG="$BATS_TEST_TMPDIR/requests.log"
	: >"$UP_LOG"
	fake-upstream --port-file "$BATS_TEST_TMPDIR/port" --log "$UP_LOG" \
	    "$@" >/dev/null 2>"$BATS_TEST_TMPDIR/upstream.err" 3>&- &
	UP_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.05
	done
	BASE="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")"
}

# lists N K: N ASINs dealt into K lists ids.0 .. ids.K-1.
lists() {
	awk -v n="$1" -v k="$2" 'BEGIN { for (i = 1; i <= n; i++) {
		f = "ids." (i % k); printf "B0%08d\n", i >> f } }'
}

# workers K ARGS...: K asin-fetch processes at once, worker i on ids.i;
# fails unless each exits 0 with every ASIN "ok".
workers() {
	local k=$1 i pids= rc=0
	shift
	for i in $(seq 0 $((k - 1))); do
		asin-fetch "$@" "ids.$i" >"out.$i" 2>"err.$i" 3>&- &
		pids="$pids $!"
	done
	for i in $pids; do wait "$i" || rc=1; done
	[ "$rc" -eq 0 ] || { cat err.*; return 1; }
	for i in $(seq 0 $((k - 1))); do
		assert_eq "$(wc -l <"ids.$i")" "$(jq -r 'select(.status == "ok") | .asin' "out.$i" | wc -l)"
	done
}

# under RPS BURST PATH: no window of requests to PATH in the server log
# went faster than BURST + RPS * span (25 ms for arrival jitter).
under() {
	awk -v r="$1" -v b="$2" -v p="$3" '$4 == p { t[n++] = $1 } END {
		for (i = 0; i < n; i++) for (j = i; j < n; j++)
			if (j - i + 1 > b + r * (t[j] - t[i] + 25) / 1000) { print "too fast:", i, j; bad = 1 }
		exit bad }' "$UP_LOG"
}

# late_count K CODE: answers with CODE to requests that were not the first
# of their worker (worker i of K asks for the ids of ids.i, see lists; the
# log's seventh field is a request's first id).  By worker, not by line:
# a worker that starts late sends its first request after others' second.
late_count() {
	awk -v k="$1" -v c="$2" '$7 != "-" {
		w = (substr($7, 3) + 0) % k
		if (seen[w]++ && $5 == c) n++ } END { print n + 0 }' "$UP_LOG"
}

status_count() {
	awk -v c="$1" '$5 == c' "$UP_LOG" | wc -l | tr -d ' '
}

@test "--workers 3: three crawls share SP-API's quota and its rate header, no 429" {
	upstream --lwa id-1:sec-2:ref-3 --rps 10 --burst 3
	lists 36 3
	workers 3 -p spapi-catalog -b "$BASE" --batch 1 -j 4 --qpm 600 --burst 3 --workers 3
	assert_eq 0 "$(status_count 429)" "429s"
	assert_eq 36 "$(grep -c ' /catalog/' "$UP_LOG")" "requests"
	under 10 3 /catalog/2022-04-01/items
	# ASIN_FETCH_WORKERS does the same for recipes that export it.
	: >"$UP_LOG"
	sleep 0.5
	ASIN_FETCH_WORKERS=3 workers 3 -p spapi-catalog -b "$BASE" --batch 1 -j 4 --qpm 600 --burst 3
	assert_eq 0 "$(status_count 429)" "429s"
	under 10 3 /catalog/2022-04-01/items
}

@test "without --workers the same three crawls overdraw the quota (the check above can fail)" {
	upstream --lwa id-1:sec-2:ref-3 --rps 10 --burst 3
	lists 36 3
	workers 3 -p spapi-catalog -b "$BASE" --batch 1 -j 4 --qpm 600 --burst 3 --retry-base 0.05 --retries 40
	[ "$(status_count 429)" -gt 0 ]
}

@test "--workers 3 on Keepa: tokensLeft, refillRate and refillIn are the account's, shared" {
	upstream --tokens 6 --refill 1200
	lists 30 3
	workers 3 -p "$SMALL" -b "$BASE" --batch 2 -j 4 --workers 3
	# Each worker's first request is its probe (before it, nothing says
	# where the bucket stands), so three probes may overdraw; after its
	# probe, no worker meets a 429.
	assert_eq 0 "$(late_count 3 429)" "429s after the probes"
	assert_eq $((15 + $(status_count 429))) "$(grep -c ' /product' "$UP_LOG")" "requests"
	# Alone, each takes the whole account's figures and overdraws.
	: >"$UP_LOG"
	sleep 1
	workers 3 -p "$SMALL" -b "$BASE" --batch 2 -j 4
	[ "$(late_count 3 429)" -gt 0 ]
}

@test "--acquire-cmd: runs before every request with its cost; a refusal stops the run" {
	upstream
	lists 6 1
	cat >hook <<-'SH'
	#!/bin/sh
	echo "granted $ASIN_FETCH_PROVIDER $ASIN_FETCH_COST" >>"$HOOK_LOG"
	echo "a hook's stdout is never a record"
	SH
	chmod +x hook
	export HOOK_LOG="$BATS_TEST_TMPDIR/hook.log"
	run -0 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 2 --acquire-cmd ./hook ids.0
	assert_eq 3 "$(wc -l <"$HOOK_LOG")"
	assert_eq "granted keepa-small 4" "$(sort -u "$HOOK_LOG")"
	assert_eq 6 "$(jq -r 'select(.status == "ok") | .asin' <<<"$output" | wc -l | tr -d ' ')"
	[[ "$stderr" == *"a hook's stdout is never a record"* ]]
	assert_eq 3 "$(grep -c ' /product' "$UP_LOG")"
	# The second request is refused: the run stops, nothing more is sent.
	: >"$UP_LOG"
	: >"$HOOK_LOG"
	cat >hook <<-'SH'
	#!/bin/sh
	echo x >>"$HOOK_LOG"
	[ "$(wc -l <"$HOOK_LOG")" -lt 2 ]
	SH
	run -1 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 2 -j 1 --acquire-cmd ./hook ids.0
	assert_eq "asin-fetch: --acquire-cmd exited with status 1: no token granted, stopping the run" "${stderr##*$'\n'}"
	assert_eq 1 "$(grep -c ' /product' "$UP_LOG")"
	run -2 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --acquire-cmd '' ids.0
	[[ "$stderr" == "asin-fetch: option --acquire-cmd: empty command"* ]]
	run -2 --separate-stderr asin-fetch --workers 0 ids.0
	[[ "$stderr" == "asin-fetch: option --workers: expected an integer from 1 to 100000, got '0'"* ]]
}

@test "pipelines/scale-out/redis-acquire.sh: three crawls drawn from one Redis bucket stay under it" {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	    skip "no redis-server/redis-cli (apt-get install redis-server redis-tools) for the central bucket"
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
	    --dir "$BATS_TEST_TMPDIR" >redis.log 2>&1 3>&- &
	REDIS_PID=$!
	local i
	for i in $(seq 1 50); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -p "$port" ping >/dev/null 2>&1 || skip "redis-server did not start: $(tail -1 redis.log)"
	upstream --lwa id-1:sec-2:ref-3 --rps 10 --burst 3
	# Uneven shards: the bucket, not a static split, shares the quota.
	awk 'BEGIN { for (i = 1; i <= 40; i++) printf "B0%08d\n", i }' | awk '{ print > (NR <= 4 ? "ids.0" : NR <= 12 ? "ids.1" : "ids.2") }'
	# The bucket under the server's 10/s, burst 3: requests
	# reach the server some milliseconds after their grant, more on a
	# loaded machine.
	REDIS_PORT=$port ASIN_QUOTA_RATE=8 ASIN_QUOTA_BURST=1 \
	    workers 3 -p spapi-catalog -b "$BASE" --batch 1 -j 4 --qpm 6000 --burst 10 \
	    --acquire-cmd "$TOP/pipelines/scale-out/redis-acquire.sh"
	assert_eq 0 "$(status_count 429)" "429s"
	assert_eq 40 "$(grep -c ' /catalog/' "$UP_LOG")" "requests"
	under 10 3 /catalog/2022-04-01/items
	# Redis gone: the hook fails and the crawl stops, it does not go on unpaced.
	kill "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=
	REDIS_PORT=$port ASIN_QUOTA_RATE=10 run -1 --separate-stderr asin-fetch -p spapi-catalog \
	    -b "$BASE" --batch 1 --acquire-cmd "$TOP/pipelines/scale-out/redis-acquire.sh" ids.0
	[[ "$stderr" == *"redis-acquire.sh: redis-cli: "*"Connection refused"* ]]
	assert_eq "asin-fetch: --acquire-cmd exited with status 1: no token granted, stopping the run" "${stderr##*$'\n'}"
}
