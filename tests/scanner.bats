#!/usr/bin/env bats
# scanner: the record scanner (common/scan.c) against libjq 1.6, value by
# value, through scandiff.  The conformance cases are in tests/unit/scan.c;
# the fuzz target in tests/fuzz/scan.c.
load helper

@test "scanner: generated records and mutations agree with libjq" {
	run --separate-stderr scandiff --gen 4000 --seed 7
	assert_status 0
	[[ "$output" == "36000 texts, "*", no disagreement" ]]
	[ -z "$stderr" ]
}

@test "scanner: genfacts rows, clean and corrupted, agree with libjq" {
	genfacts --seed 5 --rows 3000 --bad-rate 0.05 >"$BATS_TEST_TMPDIR/f"
	run --separate-stderr scandiff "$BATS_TEST_TMPDIR/f"
	assert_status 0
	[[ "$output" == "3000 texts, "*", 0 lax in libjq, no disagreement" ]]
}

@test "scanner: where libjq 1.6 is lax the scanner is strict, and says so" {
	printf '%s\n' '01' '[1.]' 'nan' '"\udc00"' '{"a":1}' >"$BATS_TEST_TMPDIR/lax"
	printf '"\xc0\x80"\n' >>"$BATS_TEST_TMPDIR/lax"
	run --separate-stderr scandiff "$BATS_TEST_TMPDIR/lax"
	assert_status 0
	assert_eq "6 texts, 1 accepted, 2 values equal, 5 lax in libjq, no disagreement" "$output"
}

@test "scanner: whole documents of the shared samples agree with libjq" {
	need_shared keepa
	local f n=0
	for f in "$SHARED_DATA"/keepa/*.json "$SHARED_DATA"/sp-api/*.json \
	    "$SHARED_DATA"/gbstats/*.json "$SHARED_DATA"/growthbook/*.json; do
		[ -f "$f" ] || continue
		run --separate-stderr scandiff --doc "$f"
		assert_status 0
		[[ "$output" == "1 texts, 1 accepted, "*", no disagreement" ]]
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "scanner: scandiff refuses a bad flag" {
	run --separate-stderr scandiff --gen x
	assert_status 2
}
