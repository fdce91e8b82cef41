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

@test "fuzz-findings: model: out-of-range numbers in a model file are refused" {
	# (int)1e300 as a feature, a count, and a threshold no float holds
	# were undefined behaviour, and the last wrote inf into the export
	local small='{"format":"asin-rank-model","format_version":1,"objective":"regression","signature":{"features":["a","b"],"label":"y","group":[]},"params":{"label_gain":[]},"base_score":0.5,"trees":[{"feature":[F,-1,-1],"threshold":[T,0,0],"default_left":[1,0,0],"left":[1,-1,-1],"right":[2,-1,-1],"value":[0,-1,1],"gain":[1,0,0],"hess":[2,1,1],"count":[C,1,1]}]}'
	local m="$BATS_TEST_TMPDIR/m.json" f t c want
	printf '{"a":1,"b":2}\n' >"$BATS_TEST_TMPDIR/in"
	for f in 1e300:2.5:2 1:1e300:2 1:2.5:1e300 1.5:2.5:2; do
		IFS=: read -r f t c <<<"$f"
		s=${small/F/$f}; s=${s/T/$t}; s=${s/C/$c}
		printf '%s\n' "$s" >"$m"
		run --separate-stderr asin-rank score --model "$m" "$BATS_TEST_TMPDIR/in"
		assert_status 1
		case $t:$c in
		1e300:*) want="tree 0[0]: number out of range" ;;
		*:1e300) want="tree 0[0]: expected an integer from 0 to 9007199254740992" ;;
		*) want="tree 0[0]: expected an integer from -2147483648 to 2147483647" ;;
		esac
		assert_eq "asin-rank: $m: $want" "$stderr"
	done
}

@test "fuzz-findings: model: a format_version no int holds is refused" {
	# found by the model target: (int)1e101 was undefined behaviour
	printf '%s\n' '{"format":"asin-rank-model","format_version":1e101,"objective":"lambdarank"}' >"$BATS_TEST_TMPDIR/m.json"
	printf '{"a":1}\n' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr asin-rank score --model "$BATS_TEST_TMPDIR/m.json" "$BATS_TEST_TMPDIR/in"
	assert_status 1
	assert_eq "asin-rank: $BATS_TEST_TMPDIR/m.json: bad model format version 1e+101" "$stderr"
}
