#!/usr/bin/env bats
# recbench: the record-layer benchmark driver must do the work it times.
load helper

@test "recbench: rw appends price_x2 to every record, bytes kept" {
	genfacts --seed 1 --rows 200 >"$BATS_TEST_TMPDIR/in"
	recbench --mode rw "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out"
	assert_eq 200 "$(wc -l <"$BATS_TEST_TMPDIR/out" | tr -d ' ')"
	# The original bytes, then the new field: 7.80 stays 7.80.
	sed 's/,"price_x2":[^,}]*}$/}/' "$BATS_TEST_TMPDIR/out" |
	    cmp - "$BATS_TEST_TMPDIR/in"
	jq -e -s 'all(.[]; .price_x2 == .price * 2)' "$BATS_TEST_TMPDIR/out" >/dev/null
}

@test "recbench: read, parse, get and jv print nothing and succeed" {
	genfacts --seed 1 --rows 200 >"$BATS_TEST_TMPDIR/in"
	for m in read parse get jv; do
		run recbench --mode "$m" "$BATS_TEST_TMPDIR/in"
		assert_status 0
		assert_eq "" "$output" "$m output"
	done
}

@test "recbench: every mode sees every record (-v)" {
	genfacts --seed 1 --rows 150 >"$BATS_TEST_TMPDIR/in"
	for m in read parse get rw jv; do
		run --separate-stderr recbench -v --mode "$m" "$BATS_TEST_TMPDIR/in"
		assert_status 0
		[[ "$stderr" == "recbench: mode $m: 150 records"* ]]
	done
}

@test "recbench: a bad record is a located error" {
	run recbench --mode get <<<'{"asin":"B000000001","price":"x","bsr":1}'
	assert_status 1
	assert_eq 'recbench: <stdin>:1: field "price": expected number, got string' "$output"
	run recbench --mode parse <<<'{"asin":'
	assert_status 1
	[[ "$output" == "recbench: <stdin>:1: "* ]]
	run recbench --mode fast
	assert_status 2
}
