#!/usr/bin/env bats
# fuzz-findings: what the fuzz targets in tests/fuzz/ found, reproduced
# through the tools, so each fix stays in make check even where clang is
# missing (tests/fuzz.bats then skips).  Each test names its target.
load helper

@test "fuzz-findings: dedupe: a Keepa lastUpdate past 9999 is a located reject" {
	# keepa_unix() overflowed (UBSan) turning it into source_last_update
	printf '%s\n' '{"asin":"B0TEST0001","marketplace":"US","date":"2026-05-10","status":"ok","provider":"keepa","payload":{"lastUpdate":999999999999999999,"csv":[]}}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr asin-dedupe "$BATS_TEST_TMPDIR/in"
	assert_status 1
	assert_eq "" "$output"
	assert_eq "asin-dedupe: $BATS_TEST_TMPDIR/in:1: keepa payload: lastUpdate: Keepa minute 999999999999999999 is outside the years 1970 to 9999" "$stderr"
}

@test "fuzz-findings: schema: a pile of quantifiers is refused at load" {
	# \d{2,}+++... made glibc's regcomp take gigabytes
	printf '%s\n' '{"properties":{"s":{"pattern":"(?:ab|c)+?\\d{2,}++++++++++++++++++++"}}}' >"$BATS_TEST_TMPDIR/s.json"
	run --separate-stderr asin-validate -s "$BATS_TEST_TMPDIR/s.json" /dev/null
	assert_status 1
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/s.json: .properties.s.pattern: nothing to repeat" "$stderr"
	printf '%s\n' '{"pattern":"(a{1000}){1000}"}' >"$BATS_TEST_TMPDIR/t.json"
	run --separate-stderr asin-validate -s "$BATS_TEST_TMPDIR/t.json" /dev/null
	assert_status 1
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/t.json: .pattern: pattern too large once its repeats are expanded" "$stderr"
}
