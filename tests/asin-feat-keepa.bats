#!/usr/bin/env bats
# asin-feat conformance on the real Keepa sample (reference/data-sources.md
# section 1.8): asin-fetch against the fake upstream serving the sample,
# asin-dedupe backfilling the daily fact rows (with bsr_drops, the day's
# share of the rank drops counted on Keepa's events), asin-feat on day
# 2026-05-09.  Skips only without ../shared.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	UP_PID=
}

teardown() {
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || true
		wait "$UP_PID" 2>/dev/null || true
	fi
}

@test "asin-feat: Keepa B0D8W1YVBX through asin-fetch | asin-dedupe | asin-feat" {
	need_shared keepa
	fake-upstream --port-file port --files "$SHARED_DATA/keepa" >/dev/null 2>upstream.err 3>&- &
	UP_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s port ] && break
		sleep 0.05
	done
	echo B0D8W1YVBX >in
	KEEPA_API_KEY=kp-test asin-fetch -b "http://127.0.0.1:$(cat port)" --batch 1 \
	    --date 2026-05-10 in >env.ndjson
	asin-dedupe --days 120 env.ndjson >facts.ndjson
	# The 30 days of the window carry their drops, and they add up.
	assert_eq '30 34' "$(jq -rs 'map(select(.date >= "2026-04-10" and .date <= "2026-05-09") | .bsr_drops) | "\(length) \(add)"' facts.ndjson)"
	run -0 --separate-stderr asin-feat --as-of 2026-05-09 facts.ndjson
	assert_eq 1 "${#lines[@]}"
	# Section 1.8: slope -0.02714 per day, 60.23 reviews a day, 34 drops
	# counted on Keepa's events inside the window ending D 23:59.
	assert_eq '25 44.5 -2714 6023 34 local' "$(jq -r '"\(.bsr_last) \(.bsr_median_30) \(.bsr_log_slope_30 * 100000 | round) \(.review_velocity_30 * 100 | round) \(.rank_drops_30) \(.rank_drops_src_30)"' <<<"$output")"
	assert_eq '4.3' "$(jq -r .rating_last <<<"$output")"
	# On the fetch day Keepa's own counts (stats.salesRankDrops30/90, the
	# windows ending at lastUpdate 2026-05-10 04:02) win: 35 and 75.
	run -0 --separate-stderr asin-feat --as-of 2026-05-10 facts.ndjson
	assert_eq '35 keepa 75 keepa' "$(jq -r '"\(.rank_drops_30) \(.rank_drops_src_30) \(.rank_drops_90) \(.rank_drops_src_90)"' <<<"$output")"
	# Without bsr_drops only day-to-day improvements are left: a lower bound.
	run -0 --separate-stderr asin-feat --as-of 2026-05-09 <(jq -c 'del(.bsr_drops)' facts.ndjson)
	assert_eq '11 daily' "$(jq -r '"\(.rank_drops_30) \(.rank_drops_src_30)"' <<<"$output")"
}
