#!/usr/bin/env bats
# asin-feat: golden outputs on hand-made histories (gaps, nulls from -1
# sentinels, a category switch, a deal, a review purge, a one-day history),
# values derived by hand, no look-ahead, --sorted = hash mode, day
# selection, the feature contract, and every bad input.
load helper

FX="$FIXTURES/asin-feat"

# near EXPECTED ACTUAL: equal within 1e-12 relative.
near() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d;
	    m = a < 0 ? -a : a; if (m < 1) m = 1;
	    if (d > 1e-12 * m) { print "expected " a ", got " b; exit 1 } }'
}

# row ASIN DATE: the row of FILE $out for that asin and date.
row() {
	jq -c --arg a "$1" --arg d "$2" 'select(.asin == $a and .date == $d)' "$out"
}

# gen N SEED: N series of generated facts with gaps, switches and purges.
gen() {
	genfacts --asins "$1" --days 70 --seed "$2" --dup-rate 0 --bad-rate 0 |
	    /usr/bin/python3 "$TOP/tests/tools/feat_oracle.py" mutate "$2" | jq -c .
}

@test "asin-feat: golden output on hand-made histories" {
	golden asin-feat/hand asin-feat --windows 3,5
}

@test "asin-feat: golden labels: a deal, a breakout, a flat series" {
	golden asin-feat/labels asin-feat --windows 7 --label-horizon 7
}

@test "asin-feat: gaps are missing days, not shifts (values by hand)" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 3,5 "$FX/hand.in" >"$out"
	local r
	r=$(row A000000001 2024-01-08)
	# Days 4, 5, 7, 8 of 4..8; BSR 6400 / 2^(d-1), so ln BSR falls ln 2 a day.
	assert_eq '0.8 0.8 250 2 "daily" 0.4' \
	    "$(jq -r '"\(.coverage_5) \(.bsr_coverage_5) \(.bsr_median_5) \(.rank_drops_5) \(.rank_drops_src_5|tojson) \(.drops_per_day_5)"' <<<"$r")"
	near -0.6931471805599453 "$(jq .bsr_log_slope_5 <<<"$r")"
	# Days 4 5 7 8 lie -2 -1 1 2 from their mean: sd = sqrt(2.5) ln 2.
	near 1.0959619221467064 "$(jq .bsr_cv_5 <<<"$r")"
	# Day 4's window of 3 has days 2 and 4: two points, 2/3 covered.
	r=$(row A000000001 2024-01-04)
	near 0.6666666666666666 "$(jq .coverage_3 <<<"$r")"
	near -0.6931471805599453 "$(jq .bsr_log_slope_3 <<<"$r")"
	# Review velocity needs the count of day D-N itself: day 3 is missing.
	assert_eq 'null null' "$(jq -r '"\(.review_velocity_5) \(.review_drop_5)"' <<<"$r")"
	r=$(row A000000001 2024-01-05)
	assert_eq '10 0.25 false 0' \
	    "$(jq -r '"\(.review_velocity_3) \(.review_growth_pct_3) \(.review_drop_3) \(.rating_delta_3)"' <<<"$r")"
}

@test "asin-feat: a one-day history: row-level features only" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 3,5 "$FX/hand.in" >"$out"
	local r
	r=$(row A000000002 2024-01-08)
	# Every component of the listing score is at its maximum.
	assert_eq '500 10 9 0.5 5' "$(jq -r '"\(.bsr_last) \(.lqs) \(.age_days) \(.discount_vs_list) \(.rating_last)"' <<<"$r")"
	assert_eq '"coverage" "coverage" null null null null' \
	    "$(jq -r '[.bsr_null_3, .bsr_null_5, .bsr_median_3, .bsr_log_slope_5, .price_mean_5, .rank_drops_3] | map(tojson) | join(" ")' <<<"$r")"
	near 0.3333333333333333 "$(jq .coverage_3 <<<"$r")"
}

@test "asin-feat: nulls (the -1 sentinels) are out of stock, not zero" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 3,5 "$FX/hand.in" >"$out"
	local r
	r=$(row B000000001 2024-01-05)
	# Prices 10, -, 12, -, 10: in stock 3 of 5 days.
	assert_eq '0.6 0.4 0.2 0 null 250 0.6' \
	    "$(jq -r '"\(.price_coverage_5) \(.oos_pct_5) \(.price_range_pct_5) \(.price_changes_5) \(.bsr_last) \(.bsr_median_5) \(.bsr_coverage_5)"' <<<"$r")"
	near 10.666666666666666 "$(jq .price_mean_5 <<<"$r")"
	# Population sd of 10, 12, 10 over their mean.
	near 0.08838834764831845 "$(jq .price_cv_5 <<<"$r")"
	# Window 3 (days 3..5) has two prices and two ranks: 2/3 covered.
	assert_eq '11 null 225' "$(jq -r '"\(.price_mean_3) \(.bsr_null_3) \(.bsr_median_3)"' <<<"$r")"
}

@test "asin-feat: a category switch nulls the BSR features of the windows it is in" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 3,5 "$FX/hand.in" >"$out"
	assert_eq '"category_change" null null null null' \
	    "$(row C000000001 2024-01-05 | jq -r '[.bsr_null_5, .bsr_median_5, .bsr_log_slope_5, .bsr_cv_5, .rank_drops_5] | map(tojson) | join(" ")')"
	assert_eq '"category_change" 5' "$(row C000000001 2024-01-04 | jq -r '"\(.bsr_null_3|tojson) \(.price_mean_3)"')"
	# Before the switch the window is whole; the price features never care.
	assert_eq 'null 200 0' "$(row C000000001 2024-01-03 | jq -r '"\(.bsr_null_3) \(.bsr_median_3) \(.rank_drops_3)"')"
}

@test "asin-feat: a review purge flags review_drop and nulls the velocity" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 2,3 "$FX/hand.in" >"$out"
	# Counts 100 110 120 60 70.
	assert_eq '10 0.2 false' "$(row F000000001 2024-01-03 | jq -r '"\(.review_velocity_2) \(.review_growth_pct_2) \(.review_drop_2)"')"
	assert_eq 'null null true null true' "$(row F000000001 2024-01-04 | jq -r '"\(.review_velocity_2) \(.review_growth_pct_2) \(.review_drop_2) \(.review_velocity_3) \(.review_drop_3)"')"
	assert_eq 'true null' "$(row F000000001 2024-01-05 | jq -r '"\(.review_drop_3) \(.review_accel)"')"
	# review_accel is the first window's velocity minus the second's.
	printf '{"asin":"R000000001","marketplace":"US","date":"2024-01-0%d","review_count":%d}\n' 1 10 2 20 3 40 4 80 |
	    asin-feat --windows 1,2 >"$out"
	assert_eq '40 30 10' "$(row R000000001 2024-01-04 | jq -r '"\(.review_velocity_1) \(.review_velocity_2) \(.review_accel)"')"
}

@test "asin-feat: labels: gain, breakout, grade, promo_driven (by hand)" {
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 7 --label-horizon 7 "$FX/labels.in" >"$out"
	# BSR 1000 for days 1-7, then 100: the 7-day medians are 1000 and 100.
	near 2.302585092994046 "$(row D000000001 2024-01-07 | jq .gain_7)"
	assert_eq 'true 3 true false' "$(row D000000001 2024-01-07 | jq -r '"\(.breakout_7) \(.grade_7) \(.promo_driven_7) \(.label_excluded_7)"')"
	# The same without the deal on day 9 is a breakout that is no promotion.
	assert_eq 'true 3 false' "$(row E000000001 2024-01-07 | jq -r '"\(.breakout_7) \(.grade_7) \(.promo_driven_7)"')"
	assert_eq '0 false 0' "$(row G000000001 2024-01-07 | jq -r '"\(.gain_7) \(.breakout_7) \(.grade_7)"')"
	# Day 15's future window (16..22) has 6 of 7 days: covered; day 17's
	# (18..24) has 4: no labels.
	assert_eq '0 false 0 false' "$(row D000000001 2024-01-15 | jq -r '"\(.gain_7) \(.breakout_7) \(.grade_7) \(.promo_driven_7)"')"
	assert_eq 'null null null null' "$(row D000000001 2024-01-17 | jq -r '"\(.gain_7) \(.breakout_7) \(.grade_7) \(.promo_driven_7)"')"
	# --bsr-cap flags the rows to leave out of training.
	asin-feat --windows 7 --label-horizon 7 --bsr-cap 4000 "$FX/labels.in" >"$out"
	assert_eq 'true false' "$(jq -r 'select(.date == "2024-01-07" and .asin != "D000000001") | .label_excluded_7' "$out" | sort -r | tr '\n' ' ' | sed 's/ $//')"
}

@test "asin-feat: no row carries a label unless asked" {
	run -0 asin-feat "$FX/labels.in"
	[[ "$output" != *gain_* && "$output" != *breakout* && "$output" != *promo_driven* ]]
}

@test "asin-feat: breakout needs the top q of the category; --top-q 1 turns it off" {
	out="$BATS_TEST_TMPDIR/o"
	# With q 0.01 the cutoff is the lowest future median: D and E share it.
	asin-feat --windows 7 --label-horizon 7 --top-q 0.01 "$FX/labels.in" >"$out"
	assert_eq 'true' "$(row E000000001 2024-01-07 | jq -r .breakout_7)"
	# Move G into the lead: D and E are no longer in the top 1%.
	sed 's/"bsr":5000/"bsr":10/' "$FX/labels.in" | asin-feat --windows 7 --label-horizon 7 --top-q 0.01 >"$out"
	assert_eq 'false 3' "$(row E000000001 2024-01-07 | jq -r '"\(.breakout_7) \(.grade_7)"')"
	sed 's/"bsr":5000/"bsr":10/' "$FX/labels.in" | asin-feat --windows 7 --label-horizon 7 --top-q 1 >"$out"
	assert_eq 'true' "$(row E000000001 2024-01-07 | jq -r .breakout_7)"
}

@test "asin-feat: rank drops prefer Keepa's count, then the day's event counts" {
	printf '%s\n' '{"asin":"K000000001","marketplace":"US","date":"2024-01-01","bsr":50,"bsr_drops":4}' \
	    '{"asin":"K000000001","marketplace":"US","date":"2024-01-02","bsr":40,"bsr_drops":3,"sales_rank_drops_30":35}' \
	    '{"asin":"K000000001","marketplace":"US","date":"2024-01-03","bsr":60,"bsr_drops":null}' >"$BATS_TEST_TMPDIR/k"
	run -0 asin-feat --windows 3,30 "$BATS_TEST_TMPDIR/k"
	assert_eq '7 local 35 keepa
7 local null null' "$(jq -r 'select(.date > "2024-01-01") | "\(.rank_drops_3) \(.rank_drops_src_3) \(.rank_drops_30) \(.rank_drops_src_30)"' <<<"$output")"
	# Without event counts: day-to-day improvements, at least --min-drop.
	sed 's/,"bsr_drops":[0-9a-z]*//' "$BATS_TEST_TMPDIR/k" >"$BATS_TEST_TMPDIR/k2"
	run -0 asin-feat --windows 3 "$BATS_TEST_TMPDIR/k2"
	assert_eq '1 daily' "$(jq -r 'select(.date == "2024-01-03") | "\(.rank_drops_3) \(.rank_drops_src_3)"' <<<"$output")"
	run -0 asin-feat --windows 3 --min-drop 0.25 "$BATS_TEST_TMPDIR/k2"
	assert_eq '0 daily' "$(jq -r 'select(.date == "2024-01-03") | "\(.rank_drops_3) \(.rank_drops_src_3)"' <<<"$output")"
}

@test "asin-feat: --units-calibration adds est_units per category" {
	printf '%s\n' '{"default":{"a":0,"b":1},"categories":{"Toys":{"a":7.600902459542082,"b":1}}}' >"$BATS_TEST_TMPDIR/cal"
	out="$BATS_TEST_TMPDIR/o"
	asin-feat --windows 5 --units-calibration "$BATS_TEST_TMPDIR/cal" "$FX/hand.in" >"$out"
	# F000000001: BSR 1000 in Toys for 5 days: 2000/1000 units a day.
	near 10 "$(row F000000001 2024-01-05 | jq .est_units_5)"
	run -0 asin-feat --windows 5 "$FX/hand.in"
	[[ "$output" != *est_units* ]]
	printf '{"categories":{"Toys":{"a":"x"}}}\n' >"$BATS_TEST_TMPDIR/bad"
	run -2 --separate-stderr asin-feat --units-calibration "$BATS_TEST_TMPDIR/bad" "$FX/hand.in"
	assert_eq "asin-feat: $BATS_TEST_TMPDIR/bad: curve \"Toys\": expected numbers a and b
Try 'asin-feat --help' for more information." "$stderr"
}

@test "asin-feat: no feature looks past its day" {
	local d=$BATS_TEST_TMPDIR D
	gen 30 11 >"$d/in"
	for D in 2024-01-09 2024-02-01 2024-02-20 2024-03-10; do
		asin-feat --as-of "$D" "$d/in" >"$d/full"
		jq -c --arg d "$D" 'select(.date <= $d)' "$d/in" | asin-feat --as-of "$D" >"$d/cut"
		[ -s "$d/full" ]
		cmp "$d/full" "$d/cut"
	done
	# The check can fail: labels do look ahead, and the cut changes them.
	asin-feat --as-of 2024-02-01 --label-horizon 14 --top-q 1 "$d/in" >"$d/full"
	jq -c 'select(.date <= "2024-02-01")' "$d/in" | asin-feat --as-of 2024-02-01 --label-horizon 14 --top-q 1 >"$d/cut"
	! cmp -s "$d/full" "$d/cut"
}

@test "asin-feat: --sorted gives the hash mode's bytes; input order never matters" {
	local d=$BATS_TEST_TMPDIR
	gen 40 5 >"$d/in"
	asin-feat --label-horizon 14 --top-q 1 "$d/in" >"$d/hash"
	jq -c '[.asin, .marketplace, .date] as $k | [$k, .] ' "$d/in" | sort | jq -c '.[1]' >"$d/sorted.in"
	asin-feat --sorted --label-horizon 14 --top-q 1 --stats "$d/st" "$d/sorted.in" >"$d/sorted"
	cmp "$d/hash" "$d/sorted"
	tac "$d/in" | asin-feat --label-horizon 14 --top-q 1 >"$d/rev"
	cmp "$d/hash" "$d/rev"
	# One history held at a time.
	[ "$(jq .peak_rows "$d/st")" -le 70 ]
	# A row out of order stops --sorted with its location.
	tac "$d/sorted.in" >"$d/rev.in"
	run -1 --separate-stderr asin-feat --sorted "$d/rev.in"
	[[ "$stderr" == "asin-feat: $d/rev.in:"*": "*"sort"* ]]
}

@test "asin-feat: --as-of and --since write only those days, counted as dropped" {
	local d=$BATS_TEST_TMPDIR
	asin-feat --windows 3,5 "$FX/hand.in" >"$d/all"
	run -0 asin-feat --windows 3,5 --as-of 2024-01-05,2024-01-02 --stats "$d/st" "$FX/hand.in"
	assert_eq "$(grep -E '"date":"2024-01-0[25]"' "$d/all")" "$output"
	assert_eq '{"in":22,"out":8,"rejected":0,"merged":0,"dropped":14,"duplicates":0,"peak_rows":22,"feat_version":"1.0.0"}' "$(cat "$d/st")"
	run -0 asin-feat --windows 3,5 --since 2024-01-07 "$FX/hand.in"
	assert_eq "$(grep -E '"date":"2024-01-0[78]"' "$d/all")" "$output"
	run -2 --separate-stderr asin-feat --since 2024-01-07 --as-of 2024-01-01
	assert_eq "asin-feat: options --as-of and --since exclude each other
Try 'asin-feat --help' for more information." "$stderr"
	run -2 --separate-stderr asin-feat --as-of 2024-02-30
	assert_eq "asin-feat: option --as-of: expected a date YYYY-MM-DD, got '2024-02-30'
Try 'asin-feat --help' for more information." "$stderr"
}

@test "asin-feat: a second run over its own output changes nothing" {
	local d=$BATS_TEST_TMPDIR
	asin-feat --windows 3,5 "$FX/hand.in" >"$d/1"
	asin-feat --windows 3,5 "$d/1" >"$d/2"
	cmp "$d/1" "$d/2"
}

@test "asin-feat: rows of the same asin, marketplace and date are both rejected" {
	local d=$BATS_TEST_TMPDIR
	{ cat "$FX/hand.in"; grep '"C000000001".*"2024-01-02"' "$FX/hand.in" | sed 's/"price":5.0/"price":6.0/'; } >"$d/in"
	run -0 --separate-stderr asin-feat --windows 3,5 --rejects "$d/rej" --stats "$d/st" "$d/in"
	assert_eq 2 "$(wc -l <"$d/rej" | tr -d ' ')"
	assert_eq "duplicate row for this asin, marketplace and date 2024-01-02 (asin-dedupe merges them)" "$(jq -r .error "$d/rej" | sort -u)"
	assert_eq '{"in":23,"out":21,"rejected":2,"merged":0,"dropped":0,"duplicates":2,"peak_rows":23,"feat_version":"1.0.0"}' "$(cat "$d/st")"
	# Without --rejects the first duplicate stops the run with its location.
	run -1 --separate-stderr asin-feat "$d/in"
	[[ "$stderr" == "asin-feat: $d/in:"*": duplicate row for this asin, marketplace and date 2024-01-02 (asin-dedupe merges them)" ]]
	# A copy byte for byte is the same row seen twice: merged, not rejected.
	{ cat "$FX/hand.in"; grep '"C000000001".*"2024-01-02"' "$FX/hand.in"; } >"$d/in2"
	run -0 --separate-stderr asin-feat --windows 3,5 --stats "$d/st" "$d/in2"
	assert_eq "$(asin-feat --windows 3,5 "$FX/hand.in")" "$output"
	assert_eq '{"in":23,"out":22,"rejected":0,"merged":1,"dropped":0,"duplicates":0,"peak_rows":23,"feat_version":"1.0.0"}' "$(cat "$d/st")"
}

@test "asin-feat: bad records are located rejects" {
	local d=$BATS_TEST_TMPDIR
	printf '%s\n' '{"asin":"A000000001","marketplace":"US","date":"2024-01-01","bsr":1}' \
	    '{"asin":"a000000001","marketplace":"US","date":"2024-01-01"}' \
	    '{"asin":"A000000001","marketplace":"usa","date":"2024-01-01"}' \
	    '{"asin":"A000000001","marketplace":"US","date":"2024-02-30"}' \
	    '{"asin":"A000000001","marketplace":"US","date":"2024-01-02","bsr":"12"}' \
	    '{"asin":"A000000001","marketplace":"US","date":"2024-01-03","has_video":1}' \
	    '{"asin":"A000000001","marketplace":"US","date":"2024-01-04","listed_since":"yesterday"}' \
	    '{"marketplace":"US","date":"2024-01-05"}' >"$d/in"
	run -0 --separate-stderr asin-feat --rejects "$d/rej" "$d/in"
	assert_eq 1 "${#lines[@]}"
	assert_eq '2: field "asin": expected 10 characters A-Z 0-9
3: field "marketplace": expected 2 letters A-Z
4: field "date": expected a date YYYY-MM-DD
5: field "bsr": expected number, got string
6: field "has_video": expected boolean, got number
7: field "listed_since": expected a date YYYY-MM-DD
8: field "asin": missing' "$(jq -r '"\(.line): \(.error)"' "$d/rej")"
	run -1 --separate-stderr asin-feat "$d/in"
	assert_eq "asin-feat: $d/in:2: field \"asin\": expected 10 characters A-Z 0-9" "$stderr"
}

@test "asin-feat: usage errors" {
	run -2 --separate-stderr asin-feat --windows 30,7
	assert_eq "asin-feat: option --windows: expected ascending distinct lengths, got '30,7'" "${stderr%%$'\n'*}"
	run -2 --separate-stderr asin-feat --windows 0
	[[ "$stderr" == "asin-feat: option --windows: expected an integer from 1 to 3660, got '0'"* ]]
	run -2 --separate-stderr asin-feat --min-coverage 1.5
	[[ "$stderr" == "asin-feat: option --min-coverage: "* ]]
	run -2 --separate-stderr asin-feat --lqs-weights speed=1
	[[ "$stderr" == "asin-feat: option --lqs-weights: no component named 'speed'"* ]]
	run -2 --separate-stderr asin-feat --sorted --label-horizon 14
	assert_eq "asin-feat: option --label-horizon: breakout's top-q test needs every ASIN at once; with --sorted give --top-q 1" "${stderr%%$'\n'*}"
	run -2 --separate-stderr asin-feat --top-q 0
	[[ "$stderr" == "asin-feat: option --top-q: expected a number above 0 and at most 1, got '0'"* ]]
}

@test "asin-feat: --lqs-weights renormalise over the components present" {
	out="$BATS_TEST_TMPDIR/o"
	# Only the title weighs: C000000001 has no title, so no score at all.
	asin-feat --windows 3 --lqs-weights title=1,bullets=0,bullet_len=0,images=0,video=0,aplus=0,rating=0,reviews=0 "$FX/hand.in" >"$out"
	assert_eq '10 null' "$(row A000000002 2024-01-08 | jq -r .lqs) $(row C000000001 2024-01-05 | jq -r .lqs)"
	# Reviews alone: 10 log10(1 + 110) / 3 for A000000001 on day 1.
	asin-feat --windows 3 --lqs-weights title=0,bullets=0,bullet_len=0,images=0,video=0,aplus=0,rating=0,reviews=2 "$FX/hand.in" >"$out"
	near 6.81774326262219 "$(row A000000001 2024-01-01 | jq .lqs)"
}

@test "asin-feat: the feature schema is the contract of the rows" {
	local d=$BATS_TEST_TMPDIR s="$SCHEMAS/feature.schema.json"
	printf '{"default":{"a":8.58,"b":0.87}}\n' >"$d/cal"
	gen 10 3 | asin-feat --label-horizon 14 --units-calibration "$d/cal" >"$d/out"
	run -0 --separate-stderr asin-validate --schema "$s" "$d/out"
	# Every key the tool writes is in the schema, and the versions agree.
	assert_eq "$(jq -r '.properties | keys[]' "$s" | grep -vE '^(asin|marketplace|date)$' | sort)" \
	    "$(head -1 "$d/out" | jq -r 'keys[]' | grep -Ff <(jq -r '.properties | keys[]' "$s") | grep -vE '^(asin|marketplace|date)$' | sort)"
	assert_eq "$(jq -r '."x-feature-version"' "$s")" "$(head -1 "$d/out" | jq -r .feat_version)"
	gen 10 3 | asin-feat | head -1 | jq -r 'keys[]' >"$d/keys"
	for k in $(jq -r '.required[]' "$s"); do grep -qx "$k" "$d/keys" || { echo "required $k not written"; return 1; }; done
}

@test "asin-feat: --features writes only those, the coverages always" {
	run -0 asin-feat --windows 3,5 --features bsr_log_slope,lqs "$FX/hand.in"
	local sel='select(.asin == "F000000001" and .date == "2024-01-02")'
	assert_eq 'bsr_coverage_3 bsr_coverage_5 bsr_log_slope_3 bsr_log_slope_5 coverage_3 coverage_5 feat_version lqs price_coverage_3 price_coverage_5' \
	    "$(jq -r "$sel | keys[]" <<<"$output" | grep -vxFf <(jq -r "$sel | keys[]" "$FX/hand.in") | sort | tr '\n' ' ' | sed 's/ $//')"
	# The values are those of the full run.
	assert_eq "$(asin-feat --windows 3,5 "$FX/hand.in" | jq -c '[.bsr_log_slope_3, .bsr_log_slope_5, .lqs]')" \
	    "$(jq -c '[.bsr_log_slope_3, .bsr_log_slope_5, .lqs]' <<<"$output")"
	run -2 --separate-stderr asin-feat --features bsr_log_slope_30
	assert_eq "asin-feat: option --features: no feature named 'bsr_log_slope_30'" "${stderr%%$'\n'*}"
}
