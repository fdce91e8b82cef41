#!/usr/bin/env bats
# asin-fetch against the fake upstream (tests/tools/fake-upstream.c) on
# 127.0.0.1: exact envelopes, one per ASIN under every fault the server can
# inject, the request rate measured from the server's own log, Retry-After,
# Keepa token exhaustion, LWA, kill -9 and resume, replay, the archive
# lock, secrets kept out of everything, and the real Keepa samples served
# from files with their payloads byte for byte.
load helper

FX="$FIXTURES/asin-fetch"
SMALL="$FX/keepa-small.json"
KEY="kp-secret-7f3a9c2e51"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export KEEPA_API_KEY="$KEY" ASIN_FETCH_SEED=7
	unset ASIN_ENV_FILE ASIN_FETCH_BASE_URL ASIN_PROVIDERS
	UP_PID=
}

teardown() {
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || true
		wait "$UP_PID" 2>/dev/null || true
	fi
}

# upstream ARGS...: start the fake upstream, set BASE and UP_LOG.
upstream() {
	# A test that starts a second upstream stops the first.
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || true
		wait "$UP_PID" 2>/dev/null || true
	fi
	UP_LOG="$BATS_TEST_TMPDIR/requests.log"
	rm -f "$BATS_TEST_TMPDIR/port"
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

# asins N [PREFIX]: N ASINs B000000001.. (or with another 2-letter start).
asins() {
	awk -v n="$1" -v p="${2:-B0}" 'BEGIN { for (i = 1; i <= n; i++) printf "%s%08d\n", p, i }'
}

# The one field that changes from run to run.
norm() {
	sed 's/"fetched_at":"[0-9T:Z-]*"/"fetched_at":"T"/'
}

# payloads: the payload bytes of each envelope, as written.
payloads() {
	awk '{ i = index($0, "\"payload\":"); print substr($0, i + 10, length($0) - i - 10) }'
}

@test "asin-fetch: exact envelopes, rejects, duplicates merged, stats" {
	upstream
	cp "$FX/basic.in" basic.in
	run -3 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --date 2026-05-10 \
	    --rejects rej.ndjson --stats stats.json basic.in
	assert_eq "$(cat "$FX/basic.out")" "$(norm <<<"$output")"
	assert_eq "asin-fetch: 1 of 5 ASINs missing or failed" "$stderr" stderr
	assert_eq "$(cat "$FX/basic.rejects")" "$(cat rej.ndjson)" rejects
	assert_eq '{"in":10,"out":5,"rejected":3,"merged":2,"dropped":0,"requested":5,"ok":3,"missing":1,"invalid":1,"failed":0,"batches":2,"requests":2,"retries":0,"archived":0,"unexpected":0}' "$(cat stats.json)" stats
	# The envelopes keep their schema.
	run -0 asin-validate -s "$SCHEMAS/fetch-envelope.schema.json" <<<"$output"
	assert_eq 5 "${#lines[@]}"
}

@test "asin-fetch: a bad line without --rejects is a located error, exit 1" {
	cp "$FX/basic.in" basic.in
	run -1 --separate-stderr asin-fetch -b http://127.0.0.1:9 basic.in
	assert_eq "asin-fetch: basic.in:4: invalid ASIN \"b00000000x\": expected 10 characters A-Z or 0-9" "$stderr"
	assert_eq "" "$output"
}

@test "asin-fetch: usage errors exit 2 with the Try line; no secrets on argv" {
	run -2 --separate-stderr asin-fetch --key "$KEY"
	[[ "$stderr" == *"Try 'asin-fetch --help' for more information."* ]]
	run -2 --separate-stderr asin-fetch -b http://127.0.0.1:1/v1 /dev/null
	assert_eq "asin-fetch: option --base-url: only scheme, host and port; the profile keeps its path
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch -b http://127.0.0.1: /dev/null
	assert_eq "asin-fetch: option --base-url: bad port in 'http://127.0.0.1:'
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch -b ftp://x /dev/null
	assert_eq "asin-fetch: option --base-url: expected http://host[:port] or https://host[:port], got 'ftp://x'
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch --batch 101 /dev/null
	assert_eq "asin-fetch: option --batch: keepa takes at most 100 ASINs per request
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch --archive a --replay b /dev/null
	assert_eq "asin-fetch: --archive and --replay exclude each other
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch --date 2026-13-01 /dev/null
	assert_eq "asin-fetch: option --date: expected a calendar date YYYY-MM-DD, got '2026-13-01'
Try 'asin-fetch --help' for more information." "$stderr"
	# strptime took 2026-02-30, and the envelopes then failed their own schema.
	run -2 --separate-stderr asin-fetch --date 2026-02-30 /dev/null
	assert_eq "asin-fetch: option --date: expected a calendar date YYYY-MM-DD, got '2026-02-30'
Try 'asin-fetch --help' for more information." "$stderr"
	run -2 --separate-stderr asin-fetch -m ZZ /dev/null
	assert_eq "asin-fetch: option --marketplace: unknown marketplace 'ZZ'
Try 'asin-fetch --help' for more information." "$stderr"
}

@test "asin-fetch: unknown provider, broken profile, unset key are fatal" {
	run -1 --separate-stderr asin-fetch -p nosuch /dev/null
	[[ "$stderr" == "asin-fetch: provider 'nosuch' not found (looked in: "* ]]
	jq '.items_path = ".products[[["' "$SMALL" >bad.json
	run -1 --separate-stderr asin-fetch -p ./bad.json /dev/null
	[[ "$stderr" == "asin-fetch: ./bad.json: member \"items_path\": invalid jq program: "* ]]
	printf 'KEEPA_API_KEY=ok-value-1\nnot a line with secret-9z\n' >bad.env
	run -1 --separate-stderr asin-fetch --env-file bad.env /dev/null
	assert_eq "asin-fetch: bad.env:2: expected NAME=VALUE" "$stderr"
	run -1 --separate-stderr asin-fetch --env-file missing.env /dev/null
	assert_eq "asin-fetch: missing.env: No such file or directory" "$stderr"
	jq '.throttle.bursts = 2' "$SMALL" >typo.json
	run -1 --separate-stderr asin-fetch -p typo.json /dev/null
	assert_eq 'asin-fetch: typo.json: member "throttle.bursts": unknown member' "$stderr"
	echo B000000001 >one
	unset KEEPA_API_KEY
	run -1 --separate-stderr asin-fetch -b http://127.0.0.1:9 one
	assert_eq "asin-fetch: provider keepa: KEEPA_API_KEY is not set: put it in the environment or the env file" "$stderr"
	assert_eq "" "$output"
}

@test "asin-fetch: every ASIN ends in exactly one envelope under injected faults" {
	upstream --fault 500@B000000003x2 --fault 503ra=1@B000000007 \
	    --fault truncate@B000000011 --fault reset@B000000015 \
	    --fault badjson@B000000019x0 --fault slow=900@B000000023 \
	    --fault 404@B000000027 --fault empty@B000000031x0 \
	    --fault 429@B000000035
	asins 48 >in
	asins 48 | tac >>in
	run -3 --separate-stderr asin-fetch -b "$BASE" --batch 4 -j 4 --retries 2 \
	    --retry-base 0.05 --timeout 0.5 --stats stats.json in
	assert_eq "asin-fetch: 12 of 48 ASINs missing or failed" "$stderr"
	asin-validate -s "$SCHEMAS/fetch-envelope.schema.json" <<<"$output" >/dev/null
	assert_eq "$(asins 48)" "$(jq -r .asin <<<"$output")" "one envelope per ASIN, in order"
	assert_eq "$(printf 'failed\t12\nok\t36')" \
	    "$(jq -r .status <<<"$output" | sort | uniq -c | awk '{ print $2 "\t" $1 }')"
	# Why each batch failed, and the attempts it took.
	assert_eq "B000000017	invalid JSON in response: Unmatched '}' at line 1, column 61478 (3 attempts)	3
B000000025	HTTP 404	1
B000000029	invalid JSON in response: Expected JSON value (3 attempts)	3" \
	    "$(jq -r 'select(.status == "failed") | [.asin, .reason, .attempts] | @tsv' <<<"$output" | awk -F'\t' 'NR % 4 == 1')"
	# Transient faults cost a retry and then succeed.
	assert_eq "B000000001 3
B000000005 2
B000000009 2
B000000013 2
B000000021 2
B000000033 2" "$(jq -r 'select(.status == "ok" and .attempts > 1) | "\(.asin) \(.attempts)"' <<<"$output" | awk 'NR % 4 == 1')"
	jq -e '.in == 96 and .merged == 48 and .requested == 48 and
	    .requested == .ok + .missing + .invalid + .failed and .out == 48' stats.json
}

@test "asin-fetch: the request rate never exceeds --qpm/--burst (server log)" {
	upstream --lwa id-1:sec-2:ref-3 --rps 10 --burst 2
	asins 24 >in
	export LWA_CLIENT_ID=id-1 LWA_CLIENT_SECRET=sec-2 LWA_REFRESH_TOKEN=ref-3
	run -0 --separate-stderr asin-fetch -p spapi-catalog -b "$BASE" --batch 1 -j 4 \
	    --qpm 600 --burst 2 in
	assert_eq 24 "$(jq -r 'select(.status == "ok") | .asin' <<<"$output" | wc -l | tr -d ' ')"
	# The server saw no 429, and no window of requests went faster than
	# burst + rate * span (25 ms for arrival jitter).
	assert_eq 0 "$(awk '$5 == 429' "$UP_LOG" | wc -l | tr -d ' ')" "429s"
	assert_eq 24 "$(grep -c ' /catalog/' "$UP_LOG")" "requests"
	run -0 awk '$4 == "/catalog/2022-04-01/items" { t[n++] = $1 } END {
		for (i = 0; i < n; i++) for (j = i; j < n; j++)
			if (j - i + 1 > 2 + 10 * (t[j] - t[i] + 25) / 1000) { print "too fast:", i, j; bad = 1 }
		exit bad }' "$UP_LOG"
	# One LWA exchange for the whole run: the token is cached.
	assert_eq 1 "$(grep -c ' /auth/o2/token ' "$UP_LOG")"
}

@test "asin-fetch: Keepa tokens: paced from tokensLeft/refillRate, exhaustion waits" {
	upstream --tokens 8 --refill 1200 --fault tokens@B000000009
	asins 24 >in
	run -0 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 2 -j 4 in
	assert_eq 24 "$(jq -r 'select(.status == "ok") | .asin' <<<"$output" | wc -l | tr -d ' ')"
	# Only the injected exhaustion answered 429; the retry of that batch
	# did not count as an attempt against --retries.
	assert_eq "429 B000000009 tokens" "$(awk '$5 != 200 { print $5, $7, $8 }' "$UP_LOG")"
	assert_eq 13 "$(wc -l <"$UP_LOG" | tr -d ' ')"
}

@test "asin-fetch: Retry-After is obeyed, as seconds and as an HTTP-date" {
	upstream --fault 429ra=1@B000000001 --fault 429date=2@B000000002 \
	    --fault 503ra=1@B000000003
	asins 3 >in
	run -0 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 1 -j 3 --retry-base 0 in
	# Two requests per ASIN, the second no sooner than the server asked
	# (an HTTP-date has whole seconds: "2 s from now" is more than 1 s).
	assert_eq "2 B000000001
2 B000000002
2 B000000003" "$(awk '{ print $7 }' "$UP_LOG" | sort | uniq -c | awk '{ print $1, $2 }')"
	run -0 awk '{ if ($7 in t) { d = $1 - t[$7]; if (d < 990 || d > 3000) { print $7, d; exit 1 } } else t[$7] = $1 }' "$UP_LOG"
}

@test "asin-fetch: a Retry-After beyond --max-wait and a spent --max-time fail batches" {
	upstream --delay 250 --fault 429ra=100@B000000001
	asins 8 >in
	SECONDS=0
	run -3 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 1 -j 1 --max-wait 5 \
	    --max-time 1 in
	[ "$SECONDS" -lt 4 ]
	assert_eq "$(asins 8)" "$(jq -r .asin <<<"$output")"
	assert_eq "HTTP 429 with Retry-After 100 s, beyond --max-wait" "$(jq -r 'select(.asin == "B000000001") | .reason' <<<"$output")"
	# Some went through before the budget was spent, the rest failed.
	jq -e -s '(map(select(.status == "ok")) | length) >= 1 and
	    (map(select(.reason == "time budget (--max-time) exhausted")) | length) >= 1 and
	    all(.status == "ok" or .status == "failed")' <<<"$output"
}

@test "asin-fetch: malformed bodies end as failed envelopes, never a crash" {
	upstream --fault badjson@B000000001x0 --fault empty@B000000002x0 \
	    --fault truncate@B000000003x0 --fault reset@B000000004x0
	asins 5 >in
	run -3 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 1 --retries 1 --retry-base 0.01 in
	assert_eq "B000000001	failed	invalid JSON in response: Expected separator between values at line 1, column 452 (2 attempts)
B000000002	failed	invalid JSON in response: Expected JSON value (2 attempts)
B000000003	failed	transfer closed with 440 bytes remaining to read (2 attempts)
B000000004	failed	Empty reply from server (2 attempts)
B000000005	ok	" "$(jq -r '[.asin, .status, .reason] | @tsv' <<<"$output")"
}

@test "asin-fetch: payment or auth failure aborts the run, every ASIN accounted" {
	upstream --fault 402@B000000005
	asins 12 >in
	run -1 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 4 -j 1 in
	assert_eq "asin-fetch: HTTP 402 from keepa-small: payment required; stopping the run (check the account and its credentials)" "$stderr"
	assert_eq "ok 4
failed 8" "$(jq -r .status <<<"$output" | uniq -c | awk '{ print $2, $1 }')"
	assert_eq "aborted: HTTP 402 from keepa-small: payment required; stopping the run (check the account and its credentials)" \
	    "$(jq -r 'select(.status == "failed") | .reason' <<<"$output" | sort -u)"
	upstream --key right-key-1234
	run -1 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" in
	assert_eq "asin-fetch: HTTP 401 from keepa-small: unauthorized; stopping the run (check the account and its credentials)" "$stderr"
}

@test "asin-fetch: kill -9 mid-run, rerun fetches only unfinished batches; replay" {
	upstream --delay 120
	asins 20 >in
	asin-fetch -p "$SMALL" -b "$BASE" --batch 2 -j 1 --archive arc --date 2026-05-10 in >first.out 2>/dev/null 3>&- &
	local pid=$! done1 n1 i
	for i in $(seq 1 100); do
		[ "$(cat arc/2026-05-10/keepa-small/journal.ndjson 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	done1=$(wc -l <arc/2026-05-10/keepa-small/journal.ndjson)
	n1=$(wc -l <"$UP_LOG")
	[ "$done1" -ge 3 ] && [ "$done1" -lt 10 ]
	run -0 --separate-stderr asin-fetch -p "$SMALL" -b "$BASE" --batch 2 -j 2 --archive arc --date 2026-05-10 -v in
	# The rerun asked only for the batches the journal did not have.
	assert_eq $((10 - done1)) $(($(wc -l <"$UP_LOG") - n1)) "requests in the rerun"
	assert_eq "$(asins 20)" "$(jq -r 'select(.status == "ok") | .asin' <<<"$output")"
	assert_eq 10 "$(wc -l <arc/2026-05-10/keepa-small/journal.ndjson | tr -d ' ')"
	[[ "$stderr" == *"requested 20 = ok 20 + missing 0 + invalid 0 + failed 0; $((10 - done1)) requests, 0 retries, $((2 * done1)) from the archive"* ]]
	[ -z "$(find arc -name '*.tmp.*')" ]
	# Replay: the same bytes with no network at all.
	local rerun="$output"
	kill "$UP_PID"
	run -0 --separate-stderr asin-fetch -p "$SMALL" --replay arc --batch 2 --date 2026-05-10 in
	assert_eq "$rerun" "$output"
	# A third run with the archive complete sends nothing.
	run -0 --separate-stderr asin-fetch -p "$SMALL" -b http://127.0.0.1:9 --batch 2 --archive arc --date 2026-05-10 in
	assert_eq "$rerun" "$output"
}

@test "asin-fetch: a raw response is archived exactly as received" {
	upstream
	asins 3 >in
	run -0 asin-fetch -p "$SMALL" -b "$BASE" --archive arc --date 2026-05-10 in
	local f
	f=$(jq -r .file arc/2026-05-10/keepa-small/journal.ndjson)
	curl -s "$BASE/product?key=x&domain=1&asin=B000000001,B000000002,B000000003&days=3&rating=1" >direct
	cmp direct "arc/2026-05-10/keepa-small/$f"
	jq -e '.http_status == 200 and .attempts == 1 and (.ids | length) == 3 and
	    (.url | test("key=REDACTED&"))' arc/2026-05-10/keepa-small/journal.ndjson
	# --force fetches again (one more request after ours and curl's); the
	# journal keeps both lines, the later wins.
	run -0 asin-fetch -p "$SMALL" -b "$BASE" --archive arc --date 2026-05-10 --force in
	assert_eq 3 "$(wc -l <"$UP_LOG" | tr -d ' ')"
	assert_eq 2 "$(wc -l <arc/2026-05-10/keepa-small/journal.ndjson | tr -d ' ')"
	# A damaged archive file is a failed envelope on replay, not a crash.
	printf '{"products":[' >"arc/2026-05-10/keepa-small/$f"
	run -3 --separate-stderr asin-fetch -p "$SMALL" --replay arc --date 2026-05-10 in
	assert_eq "archive: invalid JSON in response: Unfinished JSON term at EOF at line 1, column 13" \
	    "$(jq -r .reason <<<"$output" | sort -u)"
}

@test "asin-fetch: the archive lock stops a second run; replay of nothing" {
	mkdir -p arc/2026-05-10/keepa
	echo B000000001 >in
	run -1 --separate-stderr flock arc/2026-05-10/keepa/.lock \
	    asin-fetch -b http://127.0.0.1:9 --archive arc --date 2026-05-10 in
	assert_eq "asin-fetch: arc/2026-05-10/keepa: archive in use by another run" "$stderr"
	run -3 --separate-stderr asin-fetch --replay empty --date 2026-05-10 in
	assert_eq '{"asin":"B000000001","marketplace":"US","provider":"keepa","endpoint":"product","date":"2026-05-10","fetched_at":"T","status":"failed","reason":"not in the archive","http_status":null,"attempts":0,"batch":"3a3564c1af815152"}' "$(norm <<<"$output")"
}

@test "asin-fetch: no secret in output, logs, archive, stats or errors" {
	unset KEEPA_API_KEY
	printf 'KEEPA_API_KEY=%s\nLWA_CLIENT_ID=lwa-id-8d1e\nLWA_CLIENT_SECRET="lwa-secret-77ab"\nexport LWA_REFRESH_TOKEN=lwa-refresh-c3f0\n' "$KEY" >secrets.env
	asins 4 >in
	upstream --key "$KEY" --fault 500@B000000002 --fault truncate@B000000003
	ASIN_ENV_FILE=secrets.env asin-fetch -v -b "$BASE" --batch 1 --retry-base 0 --archive arc \
	    --stats s1.json in >k.out 2>k.err
	kill "$UP_PID"
	upstream --lwa lwa-id-8d1e:lwa-secret-77ab:lwa-refresh-c3f0 --fault 403@B000000003
	ASIN_LOG=json asin-fetch -v --env-file secrets.env -p spapi-catalog -b "$BASE" --batch 1 \
	    --retry-base 0 --archive arc --stats s2.json in >s.out 2>s.err
	# Both runs did real work and logged their URLs.
	assert_eq 8 "$(cat k.out s.out | jq -r 'select(.status == "ok") | .asin' | wc -l | tr -d ' ')"
	grep -q 'key=REDACTED' k.err
	grep -q '"level":"info"' s.err
	# The 403 made a second LWA exchange; its token is redacted too.
	assert_eq 2 "$(grep -c ' /auth/o2/token ' "$UP_LOG")"
	# A wrong secret is refused without being shown.
	LWA_CLIENT_SECRET=wrong-secret-0001 run -1 --separate-stderr asin-fetch --env-file secrets.env \
	    -p spapi-catalog -b "$BASE" in
	assert_eq 'asin-fetch: LWA token exchange failed: HTTP 401: {"error":"invalid_client","error_description":"Client authentication failed"}' "$stderr"
	for s in "$KEY" lwa-id-8d1e lwa-secret-77ab lwa-refresh-c3f0 wrong-secret-0001 'Atza|fake' 'Atza%7Cfake'; do
		run grep -rlF -- "$s" k.out k.err s.out s.err s1.json s2.json arc
		assert_eq "" "$output" "files holding $s"
	done
}

@test "asin-fetch: a generic templated profile with a bearer token" {
	upstream --bearer tok-5e6f7a8b
	asins 3 >in
	ASIN_FETCH_BASE_URL=$BASE ASIN_API_TOKEN=tok-5e6f7a8b run -0 --separate-stderr \
	    asin-fetch -p reviews-template --date 2026-05-10 in
	assert_eq '{"asin":"B000000001","marketplace":"US","provider":"reviews-template","endpoint":"reviews","date":"2026-05-10","fetched_at":"T","status":"ok","http_status":200,"attempts":1,"batch":"4cee26b2a26ef676","payload":{"asin":"B000000001","review_count":1239,"rating":4.3,"reviews_7d":20}}' "$(norm <<<"$output" | head -1)"
	ASIN_API_TOKEN=wrong-token run -1 --separate-stderr asin-fetch -p reviews-template -b "$BASE" in
	assert_eq "asin-fetch: HTTP 401 from reviews-template: unauthorized; stopping the run (check the account and its credentials)" "$stderr"
}

@test "asin-fetch: Keepa samples served from files keep their payload bytes" {
	need_shared keepa
	local K="$SHARED_DATA/keepa"
	upstream --files "$K"
	# One request for two ASINs: the pretty-printed multi-product file.
	printf 'B0F7XPYCSJ\nB0D8W1YVBX\n' >in
	run -0 --separate-stderr asin-fetch -b "$BASE" in
	assert_eq "B0D8W1YVBX ok
B0F7XPYCSJ ok" "$(jq -r '"\(.asin) \(.status)"' <<<"$output")"
	# Same values as the sample's items, and the numbers as written there
	# (libjq would print 12.0 as 12), only the white space between tokens gone.
	assert_eq "$(jq -cS '.products[]' "$K/products_multi_asin_full_history_sanitized.json")" \
	    "$(payloads <<<"$output" | jq -cS .)"
	assert_eq 1 "$(payloads <<<"$output" | grep -c '"referralFeePercentage":12.0,')"
	# One ASIN per request: the single-product files, compared byte for byte
	# with the bytes between "products":[ and ]} in the file itself.
	printf 'B0D8W1YVBX\nB001GZ6QEC\n' >in
	run -0 --separate-stderr asin-fetch -b "$BASE" --batch 1 in
	assert_eq "$(sed 's/^.*"products":\[//; s/\]}$//' "$K/product_B0D8W1YVBX.json")" "$(payloads <<<"$output" | sed -n 2p)"
	assert_eq "$(jq -c '.products[0]' "$K/product_history_B001GZ6QEC.json")" "$(payloads <<<"$output" | sed -n 1p)"
	# Alone, B0F7XPYCSJ comes back in the two-product file: the extra item
	# is counted and dropped.
	echo B0F7XPYCSJ >in
	run -0 --separate-stderr asin-fetch -b "$BASE" --stats st.json in
	assert_eq "B0F7XPYCSJ ok" "$(jq -r '"\(.asin) \(.status)"' <<<"$output")"
	jq -e '.unexpected == 1 and .ok == 1' st.json
	# An ASIN the samples lack is missing, not an error.
	echo B000000001 >in
	run -3 --separate-stderr asin-fetch -b "$BASE" in
	assert_eq missing "$(jq -r .status <<<"$output")"
}

@test "asin-fetch: --help lists every flag the man page documents" {
	run -0 asin-fetch --help
	local f
	for f in $(grep -oE '^\.Fl [a-z-]+' "$TOP/man/asin-fetch.1" | awk '{ print $2 }' | sort -u); do
		[[ "$output" == *"-$f"* ]] || { echo "man page flag -$f not in --help"; return 1; }
	done
}

@test "asin-fetch: no silent wrong result (issue 10): closed stdout, raw bytes, empty input, full disk" {
	upstream
	asins 2 >ids.txt
	# A closed stdout must not make the archive's lock file fd 1.
	run -1 --separate-stderr sh -c 'asin-fetch -b "$1" --archive ar --date 2026-05-10 ids.txt >&-' sh "$BASE"
	assert_eq "asin-fetch: <stdout>: write error: Bad file descriptor" "$stderr"
	[ ! -s ar/2026-05-10/keepa/.lock ]
	# Input bytes in messages are escaped: no escape sequence reaches a terminal.
	run -1 --separate-stderr sh -c "printf 'AB\\033[31mRED\\007\\n' | asin-fetch -b http://127.0.0.1:9"
	assert_eq 'asin-fetch: <stdin>:1: invalid ASIN "AB\x1b[31mRED\x07": expected 10 characters A-Z or 0-9' "$stderr"
	run -1 --separate-stderr sh -c "printf '\\357\\273\\277B000000001\\n' | asin-fetch -b http://127.0.0.1:9"
	assert_eq 'asin-fetch: <stdin>:1: byte-order mark at the start of the line (save the file as UTF-8 without BOM)' "$stderr"
	# Empty input: nothing to fetch, nothing sorted (UBSan: qsort(NULL, 0)).
	run -0 --separate-stderr asin-fetch -b http://127.0.0.1:9 --stats st.json </dev/null
	assert_eq "" "$output"
	assert_eq '{"in":0,"out":0,"rejected":0,"merged":0,"dropped":0,"requested":0,"ok":0,"missing":0,"invalid":0,"failed":0,"batches":0,"requests":0,"retries":0,"archived":0,"unexpected":0}' "$(cat st.json)"
	# A full disk after fetching: exit 1, the counts so far in --stats,
	# and no libjq state lost on the way out (LeakSanitizer in make sanitize).
	[ -w /dev/full ] || skip "no /dev/full"
	run -1 --separate-stderr sh -c 'asin-fetch -b "$1" --stats st2.json ids.txt >/dev/full' sh "$BASE"
	assert_eq "asin-fetch: <stdout>: write error: No space left on device" "$stderr"
	assert_eq '{"in":2,"out":0,"rejected":0,"merged":0,"dropped":0}' "$(cat st2.json)"
}
