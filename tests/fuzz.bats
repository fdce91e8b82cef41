#!/usr/bin/env bats
# fuzz: every libFuzzer target in tests/fuzz/ builds (clang, the suite's
# -Werror flags, ASan and UBSan) and runs over its seed corpus without a
# finding: no fuzzing (-runs=0), so a regression on a seed, among them
# the inputs of past findings, fails make check.  `make fuzz` fuzzes.
# Skips when clang or its libFuzzer runtime (libclang-rt-14-dev) is
# missing.  Built in $BUILD/fuzz at -O0 to stay quick.
load helper
export ASIN_SCHEMAS="$SCHEMAS"

setup_file() {
	local t="$BATS_FILE_TMPDIR/probe"
	FUZZ_DIR="$BUILD_DIR/fuzz"
	export FUZZ_DIR
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	    'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' \
	    >"$t.c"
	if ! command -v clang >/dev/null ||
	    ! clang -fsanitize=fuzzer -o "$t" "$t.c" >/dev/null 2>&1; then
		export FUZZ_SKIP=1
		return 0
	fi
	local bins=
	for f in "$TOP"/tests/fuzz/*.c; do
		bins="$bins $FUZZ_DIR/$(basename "$f" .c)"
	done
	make -C "$TOP" -s -j2 BUILD="${BUILD:-build}" FUZZ_BUILD="$FUZZ_DIR" \
	    FUZZ_OPT='-O0 -g0' $bins >"$BATS_FILE_TMPDIR/make.log" 2>&1 ||
	    { cat "$BATS_FILE_TMPDIR/make.log" >&3; return 1; }
}

setup() {
	[ -z "${FUZZ_SKIP:-}" ] ||
	    skip "no clang with libFuzzer (apt-get install clang libclang-rt-14-dev)"
}

# seeds NAME: run target NAME over tests/fuzz/NAME.seed only.
seeds() {
	local opts=
	[ -f "$TOP/tests/fuzz/$1.options" ] && opts=$(cat "$TOP/tests/fuzz/$1.options")
	# A target's own __asan_default_options() (the model loader's leak
	# checks are off) is not overridden by make sanitize's ASAN_OPTIONS.
	ASAN_OPTIONS= run "$FUZZ_DIR/$1" $opts -runs=0 -rss_limit_mb=2048 \
	    -artifact_prefix="$BATS_TEST_TMPDIR/" "$TOP/tests/fuzz/$1.seed"
	if [ "$status" -ne 0 ]; then
		printf '%s\n' "$output" | grep -v '^#' | tail -40 >&2
		return 1
	fi
	[[ "$output" == *"Done "*" runs in "* ]]
}

@test "fuzz: every target has a seed corpus and a test here" {
	for f in "$TOP"/tests/fuzz/*.c; do
		n=$(basename "$f" .c)
		[ -n "$(ls "$TOP/tests/fuzz/$n.seed")" ]
		grep -q "^	seeds $n\$" "$BATS_TEST_FILENAME"
	done
}

@test "fuzz: scan (the record scanner against a reference and libjq)" {
	seeds scan
}

@test "fuzz: schema (schema documents and instances, two roads)" {
	seeds schema
}

@test "fuzz: keepa (a Keepa product to day rows)" {
	seeds keepa
}

@test "fuzz: dedupe (asin-dedupe's Keepa and SP-API mappings)" {
	seeds dedupe
}

@test "fuzz: extract (asin-fetch's records from a response body)" {
	seeds extract
}

@test "fuzz: http (asin-fetch's handling of a raw HTTP answer)" {
	seeds http
}

@test "fuzz: model (asin-rank's model file loader)" {
	seeds model
}

@test "fuzz: gbexp (asin-split's experiment definitions)" {
	seeds gbexp
}

@test "fuzz: registry (the local registry file)" {
	seeds registry
}
