#!/usr/bin/env bats
# asin-feat against tests/tools/feat_oracle.py, an independent Python
# computation of the same definitions, on generated histories with gaps,
# nulls, category switches, deals, review purges, Keepa counts and event
# counts: every feature of every row within 1e-9.
load helper

ORACLE="$TOP/tests/tools/feat_oracle.py"

setup() {
	[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 absent"
	IN="$BATS_TEST_TMPDIR/in"
	genfacts --asins 24 --days 110 --seed 21 --dup-rate 0 --bad-rate 0 |
	    /usr/bin/python3 "$ORACLE" mutate 21 >"$IN"
}

# check FLAGS -- ORACLE-FLAGS
check() {
	local a=() o=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	asin-feat "${a[@]}" "$IN" >"$BATS_TEST_TMPDIR/c"
	/usr/bin/python3 "$ORACLE" features "$@" <"$IN" >"$BATS_TEST_TMPDIR/p"
	run -0 /usr/bin/python3 "$ORACLE" compare "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/p"
	[[ "$output" == *", 0 differ" ]]
}

@test "asin-feat crosscheck: default windows" {
	check -- 
}

@test "asin-feat crosscheck: other windows and coverage" {
	check --windows 5,14,60 --min-coverage 0.5 -- --windows 5,14,60 --min-coverage 0.5
}

@test "asin-feat crosscheck: labels with the category cross-section" {
	check --label-horizon 14 -- --label-horizon 14
	# The data has breakouts, promotions and both kinds of null.
	grep -q '"breakout_14":true' "$BATS_TEST_TMPDIR/c"
	grep -q '"promo_driven_14":true' "$BATS_TEST_TMPDIR/c"
	grep -q '"bsr_null_30":"category_change"' "$BATS_TEST_TMPDIR/c"
	grep -q '"review_drop_30":true' "$BATS_TEST_TMPDIR/c"
	grep -q '"rank_drops_src_30":"keepa"' "$BATS_TEST_TMPDIR/c"
	grep -q '"rank_drops_src_30":"local"' "$BATS_TEST_TMPDIR/c"
	grep -q '"rank_drops_src_30":"daily"' "$BATS_TEST_TMPDIR/c"
}

@test "asin-feat crosscheck: est_units and labels without the top-q test" {
	printf '{"default":{"a":8.58,"b":0.87}}\n' >"$BATS_TEST_TMPDIR/cal"
	check --units-calibration "$BATS_TEST_TMPDIR/cal" --label-horizon 7 --top-q 1 -- \
	    --units 8.58,0.87 --label-horizon 7 --top-q 1
}

@test "asin-feat crosscheck: the comparison can fail" {
	asin-feat "$IN" >"$BATS_TEST_TMPDIR/c"
	/usr/bin/python3 "$ORACLE" features <"$IN" >"$BATS_TEST_TMPDIR/p"
	# One median off by a factor of ten in one row.
	awk '!done && /"bsr_median_30":[0-9]/ { sub(/"bsr_median_30":/, "\"bsr_median_30\":1"); done = 1 } { print }' \
	    "$BATS_TEST_TMPDIR/c" >"$BATS_TEST_TMPDIR/c2"
	run -1 /usr/bin/python3 "$ORACLE" compare "$BATS_TEST_TMPDIR/c2" "$BATS_TEST_TMPDIR/p"
	[[ "$output" == *", 1 differ"* ]]
}
