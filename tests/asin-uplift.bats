#!/usr/bin/env bats
# asin-uplift: golden outputs for variant-level and unit-level input, the
# table and markdown reports, segments and corrections, every bad input
# and degenerate arm; order invariance of --unit asin; the gbstats
# fixtures; a random cross-check against uplift_reference.py.
load helper

F="$FIXTURES/asin-uplift"
REF="$SHARED_DATA/../tools/uplift_reference.py"

# up NAME INPUT ARGS...: run asin-uplift ARGS on INPUT.in (a fixture, or
# "-" for the file $BATS_TEST_TMPDIR/in) and compare stdout, stderr and
# the exit status with NAME.out, NAME.err and NAME.status.
# UPDATE_GOLDEN=1 rewrites them.
up() {
	local name=$1 in=$2 st=0 src
	shift 2
	if [ "$in" = - ]; then src=$BATS_TEST_TMPDIR/in; else src=$F/$in.in; fi
	asin-uplift "$@" <"$src" >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" || st=$?
	golden_files "$F/$name" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$st"
}

# err_is WANT ARGS...: asin-uplift ARGS on $BATS_TEST_TMPDIR/in fails
# with exactly WANT on stderr, nothing on stdout, and status $ST (1).
err_is() {
	local want=$1
	shift
	run -"${ST:-1}" --separate-stderr asin-uplift "$@" <"$BATS_TEST_TMPDIR/in"
	assert_eq "$want" "$stderr" stderr
	assert_eq "" "$output" stdout
}

two_arms() {
	cat >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	{"variant":"control","impressions":1000,"clicks":20,"conversions":2,"gmv":50,"spend":10}
	{"variant":"B","impressions":1000,"clicks":30,"conversions":3,"gmv":70,"spend":12}
	EOF
}

@test "help and version" {
	run -0 asin-uplift --help
	[[ "${lines[0]}" == "usage: asin-uplift [-hqVv] [-c NAME] [-u variant|asin] [--by FIELD]" ]]
	[[ "$output" == *"--t-test "* ]]
	run -0 asin-uplift -V
	[[ "$output" =~ ^asin-uplift\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "variant-level rows: repeated variants are summed; golden ndjson" {
	up variant variant
}

@test "the proportion test is statsmodels' pooled z; CI is unpooled Wald" {
	two_arms
	run -0 asin-uplift "$BATS_TEST_TMPDIR/in"
	# statsmodels 0.13.5: proportions_ztest([30,20], [1000,1000],
	# prop_var=False) and confint_proportions_2indep(method='wald'); the
	# exact values (mpmath) are p 0.152078080792975264 and CI
	# [-0.0036776841814615648, 0.0236776841814615653]: statsmodels and we
	# are each within 2 ulp, on different sides
	ctr=$(printf '%s\n' "$output" | grep '"metric":"ctr"')
	[[ "$ctr" == *'"z":1.4322297480788655,'* ]]
	[[ "$ctr" == *'"p_value":0.15207808079297527,'* ]]
	[[ "$ctr" == *'"ci_abs":[-0.003677684181461565,0.023677684181461562]'* ]]
}

@test "unit-level moments switch every ratio to the delta method" {
	up units units
	up units-t units --t-test
}

@test "table and markdown reports" {
	up variant-table variant --format table
	up variant-md variant --format markdown --correction holm
}

@test "per-ASIN rows: golden output with segments and corrections" {
	uplift-gen -n 400 -k 3 --seed 11 --categories 2 >"$BATS_TEST_TMPDIR/in"
	up asin - --unit asin
	up asin-by - --unit asin --by category --correction bh
}

@test "per-ASIN rows: shuffled or split input gives the same bytes" {
	uplift-gen -n 3000 -k 3 --seed 5 --categories 3 >"$BATS_TEST_TMPDIR/a"
	asin-uplift --unit asin --by category "$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/want"
	shuf --random-source=<(yes 7) "$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/b"
	! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run -0 asin-uplift --unit asin --by category "$BATS_TEST_TMPDIR/b"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/want")" "$output"
	tac "$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/r"
	split -n l/3 "$BATS_TEST_TMPDIR/r" "$BATS_TEST_TMPDIR/part."
	run -0 asin-uplift --unit asin --by category "$BATS_TEST_TMPDIR"/part.ac \
	    "$BATS_TEST_TMPDIR"/part.aa "$BATS_TEST_TMPDIR"/part.ab
	assert_eq "$(cat "$BATS_TEST_TMPDIR/want")" "$output"
}

@test "per-ASIN rows equal the same moments given as aggregates" {
	cat >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	{"asin":"B000000001","variant":"control","impressions":100,"clicks":3,"conversions":1,"gmv":20.5,"spend":2}
	{"asin":"B000000002","variant":"control","impressions":300,"clicks":5,"conversions":0,"gmv":0,"spend":4}
	{"asin":"B000000003","variant":"control","impressions":50,"clicks":2,"conversions":1,"gmv":10,"spend":1.5}
	{"asin":"B000000004","variant":"B","impressions":120,"clicks":6,"conversions":2,"gmv":41,"spend":3}
	{"asin":"B000000005","variant":"B","impressions":260,"clicks":4,"conversions":1,"gmv":12.25,"spend":2.5}
	{"asin":"B000000006","variant":"B","impressions":90,"clicks":3,"conversions":0,"gmv":0,"spend":1}
	EOF
	asin-uplift --unit asin "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/want"
	cat >"$BATS_TEST_TMPDIR/agg" <<-'EOF'
	{"variant":"control","units":3,"impressions":450,"clicks":10,"conversions":2,"gmv":30.5,"spend":7.5,"impressions_sq":102500,"clicks_sq":38,"conversions_sq":2,"gmv_sq":520.25,"spend_sq":22.25,"clicks_x_impressions":1900,"conversions_x_clicks":5,"gmv_x_impressions":2550,"gmv_x_spend":56}
	{"variant":"B","units":3,"impressions":470,"clicks":13,"conversions":3,"gmv":53.25,"spend":6.5,"impressions_sq":90100,"clicks_sq":61,"conversions_sq":5,"gmv_sq":1831.0625,"spend_sq":16.25,"clicks_x_impressions":2030,"conversions_x_clicks":16,"gmv_x_impressions":8105,"gmv_x_spend":153.625}
	EOF
	run -0 asin-uplift "$BATS_TEST_TMPDIR/agg"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/want")" "$output"
}

@test "rows outside the experiment are skipped and counted" {
	two_arms
	echo '{"variant":null,"in_experiment":false,"impressions":5}' >>"$BATS_TEST_TMPDIR/in"
	run -0 asin-uplift --stats "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":3,"out":0,"rejected":0,"merged":3,"dropped":0,"records_written":5,"excluded":1}' \
	    "$(cat "$BATS_TEST_TMPDIR/st")"
}

@test "degenerate arms: zero impressions, zero clicks, clicks above impressions" {
	up degenerate degenerate
	run -0 asin-uplift "$F/degenerate.in"
	[[ "$output" != *NaN* && "$output" != *nan* && "$output" != *inf* ]]
}

@test "sums of squares that contradict the sums are named, not tested" {
	up inconsistent inconsistent
}

@test "sample-ratio mismatch is flagged; weights change the expectation" {
	uplift-gen -n 2000 -k 2 --seed 3 --skew 0.2 >"$BATS_TEST_TMPDIR/in"
	run -0 asin-uplift --unit asin "$BATS_TEST_TMPDIR/in"
	assert_eq '{"record":"srm","field":"units","variants":["A","control"],"counts":[1206,794],"weights":[1,1],"chi2":84.872,"df":1,"p_value":3.183191682183359e-20,"threshold":0.001,"srm_detected":true,"note":null}' \
	    "${lines[0]}"
	run -0 asin-uplift --unit asin --weights 0.6,0.4 "$BATS_TEST_TMPDIR/in"
	[[ "${lines[0]}" == *'"srm_detected":false,'* ]]
}

@test "Holm and Benjamini-Hochberg adjust over every test of the run" {
	up units-holm units --correction holm
	run -0 asin-uplift --correction bh "$F/units.in"
	[[ "$output" == *'"p_value_adj":'*'"correction":"bh"'* ]]
}

@test "bad records: located errors, or rejects and go on" {
	two_arms
	printf '%s\n' '{"variant":"B","impressions":"many"}' '{bad json' \
	    '{"variant":"B","gmv":-5}' '{"variant":["x"]}' '{"impressions":3}' \
	    >>"$BATS_TEST_TMPDIR/in"
	err_is 'asin-uplift: <stdin>:3: field "impressions": expected number, got string'
	run -0 --separate-stderr asin-uplift --rejects "$BATS_TEST_TMPDIR/rej" \
	    "$BATS_TEST_TMPDIR/in"
	assert_eq "" "$stderr"
	run -0 jq -c '[.line, .error]' "$BATS_TEST_TMPDIR/rej"
	assert_eq '[3,"field \"impressions\": expected number, got string"]' "${lines[0]}"
	# the parser's own wording after the prefix is the record layer's
	[[ "${lines[1]}" == '[4,"invalid JSON at column '* ]]
	assert_eq '[5,"field \"gmv\": negative value -5"]
[6,"field \"variant\": expected string, got array"]
[7,"field \"variant\": missing"]' "$(printf '%s\n' "${lines[@]:2}")"
	run -0 jq -c '.raw' "$BATS_TEST_TMPDIR/rej"
	assert_eq '"{bad json"' "${lines[1]}"
}

@test "per-ASIN rows need every metric field" {
	echo '{"asin":"B000000001","variant":"control","impressions":3,"clicks":1,"conversions":0,"gmv":0}' \
	    >"$BATS_TEST_TMPDIR/in"
	err_is 'asin-uplift: <stdin>:1: field "spend": missing' --unit asin
	echo '{"variant":"control","impressions":3,"clicks":1,"conversions":0,"gmv":null,"spend":1}' \
	    >"$BATS_TEST_TMPDIR/in"
	err_is 'asin-uplift: <stdin>:1: field "gmv": expected number, got null' --unit asin
	echo '{"variant":"control","impressions":3,"clicks":1,"conversions":0,"gmv":1e200,"spend":1}' \
	    >"$BATS_TEST_TMPDIR/in"
	err_is 'asin-uplift: <stdin>:1: field "gmv": value 1e+200 above 1e150' --unit asin
}

@test "a missing control, a single variant, no input, wrong weights" {
	two_arms
	err_is "asin-uplift: control variant 'ctl' not in input (have B, control)" --control ctl
	err_is "asin-uplift: --weights has 3 values for 2 variants" --weights 1,1,1
	head -1 "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/one"
	mv "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/in"
	err_is "asin-uplift: need at least two variants"
	: >"$BATS_TEST_TMPDIR/in"
	err_is "asin-uplift: no input records in the experiment"
	printf '%s\n' '{"variant":"control","category":"x"}' '{"variant":"B","category":"x"}' \
	    '{"variant":"B","category":"y"}' '{"variant":"C","category":"y"}' >"$BATS_TEST_TMPDIR/in"
	err_is "asin-uplift: segment \"y\": control variant 'control' not in input (have B, C)" --by category
}

@test "usage errors exit 2 with the Try line" {
	two_arms
	ST=2 err_is "asin-uplift: option --format: expected ndjson, table or markdown, got 'csv'
Try 'asin-uplift --help' for more information." --format csv
	ST=2 err_is "asin-uplift: option --unit: expected variant or asin, got 'day'
Try 'asin-uplift --help' for more information." --unit day
	ST=2 err_is "asin-uplift: option --correction: expected none, holm or bh, got 'bonf'
Try 'asin-uplift --help' for more information." --correction bonf
	ST=2 err_is "asin-uplift: option --roas-n-field: unknown field 'asins'
Try 'asin-uplift --help' for more information." --roas-n-field asins
	run -2 --separate-stderr asin-uplift --alpha 2 "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == "asin-uplift: option --alpha: "* ]]
	ST=2 err_is "asin-uplift: option --weights: no weight is positive
Try 'asin-uplift --help' for more information." --weights 0,0
	run -2 --separate-stderr asin-uplift --weights 1,,2 "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == "asin-uplift: option --weights: "* ]]
}

@test "a full disk is exit 1 with a message" {
	two_arms
	run -1 --separate-stderr sh -c 'asin-uplift "$1" >/dev/full' sh "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == "asin-uplift: <stdout>: write error"* ]]
}

@test "gbstats fixtures (t tests, proportions, ratios, Holm, BH, SRM)" {
	need_shared gbstats
	run -0 uplift-gbstats "$SHARED_DATA/gbstats"
	[[ "${lines[-1]}" == "# "*" passed, 0 failed, "* ]]
	[[ "$output" != *"not ok"* ]]
}

@test "random inputs agree with uplift_reference.py to 1e-9" {
	[ -f "$REF" ] || skip "uplift_reference.py absent ($REF)"
	/usr/bin/python3 -c 'import scipy, statsmodels' 2>/dev/null ||
	    skip "/usr/bin/python3 lacks scipy or statsmodels"
	run -0 /usr/bin/python3 "$TOP/tests/uplift/crosscheck.py" "$REF" \
	    "$BUILD_DIR/bin/asin-uplift" 14 1
	[[ "${lines[-1]}" == "crosscheck: 14 cases, "*" values compared, 0 differences" ]]
}

@test "--partial and --merge: exact sums, and partials of another run are bad records" {
	uplift-gen -n 300 -k 2 --seed 4 --categories 2 >"$BATS_TEST_TMPDIR/in"
	asin-uplift --unit asin --partial "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/p"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/p")" -eq 2 ]
	run -0 asin-uplift --unit asin --merge "$BATS_TEST_TMPDIR/p"
	assert_eq "$(asin-uplift --unit asin "$BATS_TEST_TMPDIR/in")" "$output"
	# An empty shard is an empty partial.
	run -0 asin-uplift --unit asin --partial </dev/null
	assert_eq "" "$output"
	run -1 --separate-stderr asin-uplift --merge "$BATS_TEST_TMPDIR/p"
	assert_eq "asin-uplift: $BATS_TEST_TMPDIR/p:1: partial of a run with --unit \"asin\", this run has --unit variant" "$stderr"
	run -1 --separate-stderr asin-uplift --unit asin --by category --merge "$BATS_TEST_TMPDIR/p"
	assert_eq "asin-uplift: $BATS_TEST_TMPDIR/p:1: partial of a run without --by, this run has --by category" "$stderr"
	run -1 --separate-stderr asin-uplift --unit asin --merge "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-uplift: $BATS_TEST_TMPDIR/in:1: not an asin-uplift --partial record (\"record\":\"uplift_partial\")" "$stderr"
	echo '{"record":"uplift_partial","unit":"variant","variant":"control","sums":{"clicks":[1,"x"]}}' >"$BATS_TEST_TMPDIR/bad"
	run -1 --separate-stderr asin-uplift --merge "$BATS_TEST_TMPDIR/bad"
	assert_eq "asin-uplift: $BATS_TEST_TMPDIR/bad:1: field \"sums.clicks\": expected an array of at most 48 finite numbers or null" "$stderr"
	run -1 --separate-stderr asin-uplift --merge </dev/null
	assert_eq "asin-uplift: no partial records to merge" "$stderr"
	run -2 --separate-stderr asin-uplift --partial --merge </dev/null
	assert_eq "asin-uplift: --partial and --merge exclude each other (merge the partials, then evaluate)
Try 'asin-uplift --help' for more information." "$stderr"
	run -2 --separate-stderr asin-uplift --partial --format table </dev/null
	assert_eq "asin-uplift: --partial writes NDJSON sums; --format is for the evaluation
Try 'asin-uplift --help' for more information." "$stderr"
}

@test "--merge adds variant-level partials: the sums of every row, rounded once" {
	cat >"$BATS_TEST_TMPDIR/a" <<-'EOF'
	{"variant":"control","impressions":1000,"clicks":20,"conversions":2,"gmv":0.1,"spend":10}
	{"variant":"B","impressions":1000,"clicks":30,"conversions":3,"gmv":0.2,"spend":12}
	EOF
	cat >"$BATS_TEST_TMPDIR/b" <<-'EOF'
	{"variant":"control","impressions":1000,"clicks":20,"conversions":2,"gmv":0.2,"spend":1e-17}
	{"variant":"B","impressions":1000,"clicks":30,"conversions":3,"gmv":0.1,"spend":12}
	EOF
	asin-uplift --partial "$BATS_TEST_TMPDIR/a" >"$BATS_TEST_TMPDIR/a.p"
	asin-uplift --partial "$BATS_TEST_TMPDIR/b" >"$BATS_TEST_TMPDIR/b.p"
	run -0 asin-uplift --merge "$BATS_TEST_TMPDIR/b.p" "$BATS_TEST_TMPDIR/a.p"
	assert_eq "$(asin-uplift "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b")" "$output"
	# 10 + 1e-17 and 0.1 + 0.2 are no doubles: the partial keeps the parts.
	cat "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/a" | grep control | asin-uplift --partial >"$BATS_TEST_TMPDIR/c.p"
	assert_eq '{"record":"uplift_partial","unit":"variant","variant":"control","sums":{"impressions":[2000],"clicks":[40],"conversions":[4],"gmv":[-2.7755575615628914e-17,0.30000000000000004],"spend":[1e-17,10]}}' "$(cat "$BATS_TEST_TMPDIR/c.p")"
}
