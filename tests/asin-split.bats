#!/usr/bin/env bats
# asin-split: GrowthBook-compatible assignment.  Exact output on a mixed
# input, every flag error, agreement with vectors the published npm SDK
# produced (tests/fixtures/asin-split/sdk-vectors.json), the conformance
# run over ../shared/data/growthbook, and the uniformity and independence
# of the buckets.
load helper

FX="$FIXTURES/asin-split"
VEC="$FX/sdk-vectors.json"
PRICE=(-e price-test --seed price-test-2024 --variants a:20,b:30,c:50 --coverage 0.8)

# ids N SEED: N synthetic ASINs (tests/growthbook/ids.awk).
ids() {
	awk -v n="$1" -v s="$2" -f "$TOP/tests/growthbook/ids.awk"
}

# chi2_buckets: Pearson chi-square of the "bucket" values over 10 bins,
# and the row count.
chi2_buckets() {
	awk -F'"bucket":' '{ split($2, a, ","); b[int(a[1] * 10)]++ } END {
		for (i = 0; i < 10; i++) c += (b[i] - NR / 10) ^ 2 / (NR / 10)
		printf "%.0f %d\n", c, NR }'
}

@test "asin-split: --help and --version" {
	run -0 --separate-stderr asin-split --help
	assert_eq "usage: asin-split [-hqVv] [-e KEY] [--variants LIST] [--coverage F]" "${lines[0]}"
	[[ "$output" == *"      --config FILE     read experiments from a JSON file"* ]]
	[[ "$output" == *"--max-line SIZE"* ]]
	run -0 asin-split -V
	[[ "$output" =~ ^asin-split\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "asin-split: records and bare IDs, exact bytes" {
	run -0 --separate-stderr asin-split "${PRICE[@]}" "$FX/mixed.in"
	assert_eq "$(cat "$FX/mixed.out")" "$output"
	assert_eq "" "$stderr" stderr
}

@test "asin-split: same assignment from flags and from a JSON file" {
	asin-split "${PRICE[@]}" <"$FX/mixed.in" >"$BATS_TEST_TMPDIR/flags"
	asin-split --config "$FX/experiments.json" <"$FX/mixed.in" |
	    grep '"experiment":"price-test"' >"$BATS_TEST_TMPDIR/file"
	cmp "$BATS_TEST_TMPDIR/flags" "$BATS_TEST_TMPDIR/file"
}

@test "asin-split: a file of experiments gives one line per experiment" {
	run -0 --separate-stderr asin-split --config "$FX/experiments.json" "$FX/mixed.in"
	assert_eq 24 "${#lines[@]}" lines
	assert_eq '{"asin":"B0ZWOC3PGZ","category":"Toys","price":9.5,"variant":null,"variation_id":null,"in_experiment":false,"bucket":0.5768,"experiment":"bycat","hash_version":2}' "${lines[4]}"
	assert_eq '{"asin":"B0C1O7F8T2","variant":null,"variation_id":null,"in_experiment":false,"bucket":null,"experiment":"legacy","hash_version":1}' "${lines[2]}"
}

@test "asin-split: --only-in drops excluded lines and --stats counts them" {
	run -0 --separate-stderr asin-split --only-in --stats "$BATS_TEST_TMPDIR/s.json" \
	    -e t --variants control,treatment --coverage 0.5 "$FX/mixed.in"
	assert_eq 5 "${#lines[@]}" lines
	[[ "$output" != *'"in_experiment":false'* ]]
	# chi2 = 2 * 1.5^2 / 2.5
	assert_eq '{"in":8,"out":5,"rejected":0,"merged":0,"dropped":3,"lines_out":5,"experiments":[{"experiment":"t","in":5,"not_in":3,"variants":[{"variant":"control","count":4,"expected":2.5},{"variant":"treatment","count":1,"expected":2.5}],"chi2":1.8,"df":1,"p":0.17971249487899987}]}' \
	    "$(cat "$BATS_TEST_TMPDIR/s.json")"
}

@test "asin-split: --stats expects per-rule weights, -v prints the sample-ratio line" {
	ids 1000 11 | sed 's/.*/{"asin":"&","category":"Books"}/' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr asin-split -v --stats "$BATS_TEST_TMPDIR/s.json" \
	    -e bycat --seed bycat-2024 --by category --rule 'Books=20,80@0.5' \
	    --rule '*=90,10@0.3' "$BATS_TEST_TMPDIR/in"
	assert_eq 'asin-split: experiment bycat: 617 in (control 201, treatment 416), 383 not in; sample ratio chi2 0.4404, df 1, p 0.5069
asin-split: 1000 in, 1000 out, 0 rejected, 0 merged, 0 dropped' "$stderr"
	# Books units outside the 50% fall through to the catch-all rule, as
	# a GrowthBook feature's next rule would take them.
	grep -q '"experiments":\[{"experiment":"bycat","in":617,"not_in":383,' "$BATS_TEST_TMPDIR/s.json"
}

@test "asin-split: a skewed input warns of a sample ratio mismatch" {
	ids 400 3 | asin-split -e t >"$BATS_TEST_TMPDIR/a"
	grep '"variation_id":0' "$BATS_TEST_TMPDIR/a" | cut -d'"' -f4 >"$BATS_TEST_TMPDIR/ctl"
	run -0 --separate-stderr asin-split -e t "$BATS_TEST_TMPDIR/ctl" "$BATS_TEST_TMPDIR/ctl" <(ids 400 3)
	[[ "$stderr" =~ ^asin-split:\ experiment\ t:\ sample\ ratio\ mismatch:\ chi2\ [0-9.]+,\ df\ 1,\ p\ [0-9.e-]+$ ]]
	run -0 --separate-stderr asin-split -q -e t "$BATS_TEST_TMPDIR/ctl" "$BATS_TEST_TMPDIR/ctl" <(ids 400 3)
	assert_eq "" "$stderr" stderr
}

@test "asin-split: --rules reads a weights table, one rule a line" {
	# Comments, blank lines and blanks around a rule are fine.
	printf '# category weights and coverage\nBooks=20,80@0.5\n\n  Toys=50,50\t\n*=90,10@0.3\n' >"$BATS_TEST_TMPDIR/rules"
	ids 300 9 | awk '{ c = NR % 3 ? (NR % 3 == 1 ? "Books" : "Toys") : "Garden"
	    printf "{\"asin\":\"%s\",\"category\":\"%s\"}\n", $1, c }' >"$BATS_TEST_TMPDIR/in"
	asin-split -e bycat --by category --rule 'Books=20,80@0.5' --rule 'Toys=50,50' \
	    --rule '*=90,10@0.3' "$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/flags"
	run -0 --separate-stderr asin-split -e bycat --by category --rules "$BATS_TEST_TMPDIR/rules" "$BATS_TEST_TMPDIR/in"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/flags")" "$output"
	printf 'Books=20,80\n\nToys=1,2,3\n' >"$BATS_TEST_TMPDIR/rules"
	run -2 --separate-stderr asin-split -e bycat --by category --rules "$BATS_TEST_TMPDIR/rules" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/rules:3: expected 2 weights, got 'Toys=1,2,3'
Try 'asin-split --help' for more information." "$stderr"
	printf 'Books@2\n' >"$BATS_TEST_TMPDIR/rules"
	run -2 --separate-stderr asin-split -e bycat --by category --rules "$BATS_TEST_TMPDIR/rules" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/rules:1: expected a coverage from 0 to 1, got '2'
Try 'asin-split --help' for more information." "$stderr"
	run -1 --separate-stderr asin-split -e bycat --by category --rules "$BATS_TEST_TMPDIR/none" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/none: No such file or directory" "$stderr"
}

@test "asin-split: --log appends one audit line per assignment" {
	printf 'B0C1O7F8T2\n{"asin":"B0NIAGQY8F","category":"Books"}\n' >"$BATS_TEST_TMPDIR/in"
	for i in 1 2; do
		asin-split --log "$BATS_TEST_TMPDIR/log" -e bycat --seed bycat-2024 \
		    --by category --rule 'Books=20,80@0.5' "$BATS_TEST_TMPDIR/in" >/dev/null
	done
	run -0 sed 's/"time":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z"/"time":T/' "$BATS_TEST_TMPDIR/log"
	assert_eq 4 "${#lines[@]}" lines
	assert_eq "{\"id\":\"B0C1O7F8T2\",\"experiment\":\"bycat\",\"seed\":\"bycat-2024\",\"hash_version\":2,\"bucket\":null,\"variation_id\":null,\"variant\":null,\"in_experiment\":false,\"weights\":[0.2,0.8],\"coverage\":0.5,\"rule\":null,\"source\":\"$BATS_TEST_TMPDIR/in\",\"line\":1,\"time\":T}" "${lines[0]}"
	assert_eq "{\"id\":\"B0NIAGQY8F\",\"experiment\":\"bycat\",\"seed\":\"bycat-2024\",\"hash_version\":2,\"bucket\":0.5405,\"variation_id\":1,\"variant\":\"treatment\",\"in_experiment\":true,\"weights\":[0.2,0.8],\"coverage\":0.5,\"rule\":\"Books\",\"source\":\"$BATS_TEST_TMPDIR/in\",\"line\":2,\"time\":T}" "${lines[3]}"
}

@test "asin-split: a bad record stops the run, --rejects keeps going" {
	printf 'B0C1O7F8T2\n{"sku":1}\n{"asin":[1]}\nB0\001X\n{"asin":"B0ZWOC3PGZ"\nB0NIAGQY8F\n' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr asin-split -e t "$BATS_TEST_TMPDIR/in"
	# The lines before the bad one are out, nothing after it.
	assert_eq 1 "${#lines[@]}" lines
	assert_eq "asin-split: $BATS_TEST_TMPDIR/in:2: field \"asin\": missing" "$stderr"
	run -0 --separate-stderr asin-split -e t --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/in"
	assert_eq 2 "${#lines[@]}" lines
	assert_eq "" "$stderr" stderr
	run -0 sed 's/^{"source":"[^"]*",//; s/,"raw".*//' "$BATS_TEST_TMPDIR/rej"
	assert_eq '"line":2,"error":"field \"asin\": missing"
"line":3,"error":"field \"asin\": expected string, got array"
"line":4,"error":"bare ID: control character"
"line":5,"error":"invalid JSON at column 21: unexpected end of input"' "$output"
}

@test "asin-split: invalid UTF-8 in a bare ID is a located error" {
	run -1 --separate-stderr asin-split -e t < <(printf 'B0C1O7F8T2\ncaf\351\n')
	assert_eq "asin-split: <stdin>:2: bare ID: invalid UTF-8" "$stderr"
}

@test "asin-split: --unicode chooses the SDK whose non-ASCII hashing to follow" {
	# café under seed asin-split: JavaScript 0.0864, Go 0.6828 (v2).
	for m in utf16:0.0864 utf8:0.6828 codepoint:0.0864; do
		run -0 asin-split -e e --seed asin-split --unicode "${m%%:*}" < <(printf 'caf\303\251\n')
		[[ "$output" == *"\"bucket\":${m#*:},"* ]] || { echo "$m: $output"; false; }
	done
}

@test "asin-split: --id-field, namespaces and explicit ranges from flags" {
	# hash("__pricing", id, 1): 0.919, 0.832, 0.682
	run -0 asin-split -e ns --id-field sku --namespace pricing:0.7-1 --hash-version 1 \
	    < <(printf '{"sku":"B0C1O7F8T2"}\n{"sku":"B0ZWOC3PGZ"}\nB0NIAGQY8F\n')
	assert_eq '{"sku":"B0C1O7F8T2","variant":"treatment","variation_id":1,"in_experiment":true,"bucket":0.982,"experiment":"ns","hash_version":1}
{"sku":"B0ZWOC3PGZ","variant":"control","variation_id":0,"in_experiment":true,"bucket":0.483,"experiment":"ns","hash_version":1}
{"sku":"B0NIAGQY8F","variant":null,"variation_id":null,"in_experiment":false,"bucket":null,"experiment":"ns","hash_version":1}' "$output"
	run -0 asin-split -e r --ranges 0.9-1,0-0.5 < <(printf 'B0C1O7F8T2\nB0ZWOC3PGZ\n')
	assert_eq '{"asin":"B0C1O7F8T2","variant":null,"variation_id":null,"in_experiment":false,"bucket":0.6199,"experiment":"r","hash_version":2}
{"asin":"B0ZWOC3PGZ","variant":"treatment","variation_id":1,"in_experiment":true,"bucket":0.343,"experiment":"r","hash_version":2}' "$output"
}

@test "asin-split: flag errors are usage errors" {
	local try="Try 'asin-split --help' for more information."
	set -f	# '*' is a rule value here, not a glob
	while IFS='|' read -r args msg; do
		# shellcheck disable=SC2086
		run -2 --separate-stderr asin-split $args </dev/null
		assert_eq "asin-split: $msg
$try" "$stderr" "stderr of: $args"
		assert_eq "" "$output"
	done <<'EOF'
|expected -e KEY or --config FILE
-e x --config y|options --config and -e are exclusive
--config y --coverage 1|options --variants, --coverage, --seed, --namespace, --ranges and --by go with -e, not --config
-e x --rule a|options --rule and --rules need --by FIELD
-e x --by c|option --by needs --rule or --rules
-e x --hash-version 3|option --hash-version: expected an integer from 1 to 2, got '3'
-e x --coverage 1.5|option --coverage: expected a number from 0 to 1, got '1.5'
-e x --variants a|option --variants: expected at least 2 variants, got 'a'
-e x --variants a:1,b|option --variants: give a weight to every variant or to none, got 'a:1,b'
-e x --variants a:1,b:-1|option --variants: expected a weight >= 0, got '-1'
-e x --variants a:0,b:0|option --variants: the weights sum to 0
-e x --namespace 0-1|option --namespace: expected NS:START-END, got '0-1'
-e x --namespace ns:0.5-0.2|option --namespace: expected START-END with 0 <= START <= END <= 1, got '0.5-0.2'
-e x --ranges 0-0.5|option --ranges: expected 2 ranges, one per variant, got 1
-e x --by c --rule a=1,2,3|option --rule: expected 2 weights, got 'a=1,2,3'
-e x --by c --rule *=1,1 --rule *|option --rule: '*' given twice
-e x --unicode latin1|option --unicode: expected utf16, utf8 or codepoint, got 'latin1'
-e x --bogus|unknown option '--bogus'
-e x --variants a:50,a:50|experiment "x": variations: "a" twice
-e x --variants a,b --ranges 0-0.6,0.5-1|experiment "x": ranges 1 and 2 overlap
-e x --variants a,b,c --ranges 0-0.2,0.3-0.5,0.1-0.25|experiment "x": ranges 1 and 3 overlap
-e x --seed|option '--seed' needs an argument
--check|option --check: expected vector files
EOF
}

@test "asin-split: bad definition files fail with the file and experiment named" {
	while IFS='|' read -r json msg; do
		printf '%s\n' "$json" >"$BATS_TEST_TMPDIR/e.json"
		run -1 --separate-stderr asin-split --config "$BATS_TEST_TMPDIR/e.json" </dev/null
		assert_eq "asin-split: $BATS_TEST_TMPDIR/e.json: $msg" "$stderr" "for $json"
	done <<'EOF'
{"key":"k","variations":[0,1],"weights":[0.7,0.6]}|experiment "k": weights sum to 1.3, not 1 (the SDK would use equal weights)
{"key":"k","variations":[0,1],"force":1}|experiment "k": unknown field "force"
{"key":"k","variations":[0,1],"ranges":[[0,0.5]]}|experiment "k": 1 ranges for 2 variations
{"key":"k","variations":[0,1],"ranges":[[0,0.5],[0.4,1]]}|experiment "k": ranges 1 and 2 overlap
{"key":"k","variations":[0,0]}|experiment "k": variations: "0" twice
{"key":"k","variations":[0,1],"filters":[{"ranges":[[0,1]]}]}|experiment "k": filter 1: seed: expected a string
[]|expected an experiment object or a non-empty array of them
EOF
	printf '[{"key":"a","variations":[0,1]},{"key":"b","variations":[0,1]},{"key":"a","variations":[0,1]}]\n' >"$BATS_TEST_TMPDIR/e.json"
	run -1 --separate-stderr asin-split --config "$BATS_TEST_TMPDIR/e.json" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/e.json: experiment \"a\": defined twice; rules of one experiment must be adjacent" "$stderr"
	printf '[{"key":"a","variations":[0,1]},{"key":"a","variations":[0,2]}]\n' >"$BATS_TEST_TMPDIR/e.json"
	run -1 --separate-stderr asin-split --config "$BATS_TEST_TMPDIR/e.json" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/e.json: experiment \"a\": its rules must share the variations and the hash attribute" "$stderr"
	printf '{"key":' >"$BATS_TEST_TMPDIR/e.json"
	run -1 --separate-stderr asin-split --config "$BATS_TEST_TMPDIR/e.json" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/e.json: Unfinished JSON term at EOF at line 1, column 7" "$stderr"
	run -1 --separate-stderr asin-split --config "$BATS_TEST_TMPDIR/nonexistent.json" </dev/null
	assert_eq "asin-split: $BATS_TEST_TMPDIR/nonexistent.json: No such file or directory" "$stderr"
}

@test "asin-split: a write error on stdout is exit 1" {
	run -1 --separate-stderr sh -c 'printf "B0C1O7F8T2\n" | asin-split -e t >/dev/full'
	assert_eq "asin-split: <stdout>: write error: No space left on device" "$stderr"
}

@test "asin-split: --check passes every SDK-derived vector" {
	run -0 asin-split --check "$VEC"
	assert_eq "$VEC: 576 passed, 0 failed, 0 skipped
576 passed, 0 failed, 0 skipped" "$output"
}

@test "asin-split: --check reports a vector that disagrees" {
	sed 's/\["asin-split","B0C1O7F8T2",2,0.793\]/["asin-split","B0C1O7F8T2",2,0.794]/' "$VEC" >"$BATS_TEST_TMPDIR/v.json"
	run -1 asin-split --check "$BATS_TEST_TMPDIR/v.json"
	assert_eq "FAIL $BATS_TEST_TMPDIR/v.json: hash (asin-split, B0C1O7F8T2, v2): got 0.79300000000000004" "${lines[0]}"
	assert_eq "575 passed, 1 failed, 0 skipped" "${lines[-1]}"
}

@test "asin-split: the tool assigns as the npm SDK ran each experiment" {
	# Every experiment of the run vectors through -f (GrowthBook's default
	# hash version is 1, ours is 2: say it), compared with the SDK's value.
	local d="$BATS_TEST_TMPDIR"
	jq -r '.run[] | [.[2].key, .[1].attributes.id,
	    (if .[4] then .[3] | tostring else "out" end),
	    (.[2] | .hashVersion //= 1 | .hashAttribute = "asin" | tojson)] | @tsv' "$VEC" |
	    awk -F'\t' -v d="$d" '{ print $2 > (d "/" $1 ".in"); print $3 > (d "/" $1 ".want")
		print $4 > (d "/" $1 ".json") }'
	n=0
	for f in "$d"/*.in; do
		k=${f%.in}
		head -1 "$k.json" >"$k.def"
		asin-split --config "$k.def" "$f" |
		    sed 's/.*"variant":\("\{0,1\}\)\([^",]*\)\1,.*"in_experiment":\([a-z]*\),.*/\2 \3/; s/.* false$/out/; s/ true$//' |
		    diff "$k.want" - || { echo "experiment $k"; false; }
		n=$((n + 1))
	done
	assert_eq 8 "$n" experiments
	# The same from flags, for the experiments flags can express.
	asin-split "${PRICE[@]}" "$d/price-test.in" |
	    sed 's/.*"variant":\("\{0,1\}\)\([^",]*\)\1,.*"in_experiment":\([a-z]*\),.*/\2 \3/; s/.* false$/out/; s/ true$//' |
	    diff "$d/price-test.want" -
	asin-split -e ns-v1 --variants 0,1 --hash-version 1 --namespace pricing:0.5-1 --coverage 0.5 "$d/ns-v1.in" |
	    sed 's/.*"variant":\("\{0,1\}\)\([^",]*\)\1,.*"in_experiment":\([a-z]*\),.*/\2 \3/; s/.* false$/out/; s/ true$//' |
	    diff "$d/ns-v1.want" -
}

@test "asin-split: --by category assigns as a GrowthBook feature with a rule per category" {
	for f in bycat:"--rule Books=20,80@0.5 --rule Toys=50,50@1 --rule *=90,10@0.3" \
	    strict:"--rule Books --rule Games=70,30@0.6"; do
		key=${f%%:*}
		jq -r --arg k "$key" '.feature[] | select(.[2] == $k) | .[1].attributes |
		    {asin: .id, category} | tojson' "$VEC" >"$BATS_TEST_TMPDIR/in"
		jq -r --arg k "$key" '.feature[] | select(.[2] == $k) | .[3] |
		    if .experimentResult then "\(.value) \(.experimentResult.bucket)" else "out" end' \
		    "$VEC" >"$BATS_TEST_TMPDIR/want"
		# shellcheck disable=SC2086
		asin-split -e bycat --seed bycat-2024 --by category ${f#*:} "$BATS_TEST_TMPDIR/in" |
		    jq -r 'if .in_experiment then "\(.variant) \(.bucket)" else "out" end' >"$BATS_TEST_TMPDIR/got"
		diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got" || { echo "feature $key"; false; }
		# The feature's own rules, conditions and all, through -f.
		jq -c --arg k "$key" '[.feature[] | select(.[2] == $k)][0][1].features[$k].rules |
		    map(del(.id) | .hashAttribute = "asin")' "$VEC" >"$BATS_TEST_TMPDIR/e.json"
		asin-split --config "$BATS_TEST_TMPDIR/e.json" "$BATS_TEST_TMPDIR/in" |
		    jq -r 'if .in_experiment then "\(.variant) \(.bucket)" else "out" end' |
		    diff "$BATS_TEST_TMPDIR/want" -
	done
}

@test "asin-split: GrowthBook conformance vectors (../shared/data/growthbook)" {
	need_shared growthbook
	local d="$SHARED_DATA/growthbook"
	run -0 asin-split --check "$d/hash.json" "$d/getBucketRange.json" \
	    "$d/chooseVariation.json" "$d/inNamespace.json" "$d/getEqualWeights.json" \
	    "$d/run-assignment-subset.json" "$d/feature-assignment-subset.json" \
	    "$d/asin-sdk-generated.json"
	assert_eq "1369 passed, 0 failed, 0 skipped" "${lines[-1]}"
	# The full SDK suites: what needs more than assignment is skipped.
	run -0 asin-split --check "$d/run.json" "$d/feature.json"
	assert_eq "91 passed, 0 failed, 37 skipped" "${lines[-1]}"
}

@test "asin-split: buckets are uniform over 100k synthetic ASINs" {
	# chi-square over 10 bins, df 9: below 27.88 is p > 0.001.
	ids 100000 42 >"$BATS_TEST_TMPDIR/ids"
	for v in 1 2; do
		read -r c n < <(asin-split -e uniform --hash-version $v "$BATS_TEST_TMPDIR/ids" | chi2_buckets)
		assert_eq 100000 "$n" "rows (v$v)"
		[ "$c" -lt 28 ] || { echo "v$v random ids: chi2 $c"; false; }
		read -r c n < <(awk 'BEGIN { for (i = 1; i <= 100000; i++)
		    printf "B%09d\n", i }' | asin-split -e uniform --hash-version $v | chi2_buckets)
		[ "$c" -lt 28 ] || { echo "v$v sequential ids: chi2 $c"; false; }
	done
	asin-split -e uniform --stats "$BATS_TEST_TMPDIR/s.json" "$BATS_TEST_TMPDIR/ids" >/dev/null
	p=$(grep -o '"p":[0-9.e-]*' "$BATS_TEST_TMPDIR/s.json" | cut -d: -f2)
	awk -v p="$p" 'BEGIN { exit !(p > 0.001) }'
}

@test "asin-split: experiments whose keys differ in one character are independent under v2" {
	ids 100000 7 >"$BATS_TEST_TMPDIR/ids"
	for v in 1 2; do
		printf '[{"key":"price-test-a","hashVersion":%d,"variations":[0,1]},{"key":"price-test-b","hashVersion":%d,"variations":[0,1]}]\n' $v $v >"$BATS_TEST_TMPDIR/e.json"
		agree=$(asin-split --config "$BATS_TEST_TMPDIR/e.json" "$BATS_TEST_TMPDIR/ids" |
		    grep -o '"variation_id":[01]' | paste - - | awk '$1 == $2 { s++ } END { printf "%.4f", s / NR }')
		eval "agree_v$v=$agree"
	done
	# v2: 50% +- 1 point (6 standard errors); v1 is the SDK's known skew.
	awk -v a="$agree_v2" 'BEGIN { exit !(a > 0.49 && a < 0.51) }' || { echo "v2 agreement $agree_v2"; false; }
	awk -v a="$agree_v1" 'BEGIN { exit !(a < 0.49) }' || { echo "v1 agreement $agree_v1"; false; }
}

@test "asin-split: the committed vectors are what the npm SDK derives today" {
	[ -d "$TOP/build/gb-node/node_modules/@growthbook/growthbook" ] ||
	    skip "npm @growthbook/growthbook not installed in build/gb-node (see tests/growthbook/derive-vectors.js)"
	command -v node >/dev/null || skip "node absent"
	NODE_PATH="$TOP/build/gb-node/node_modules" node "$TOP/tests/growthbook/derive-vectors.js" |
	    cmp - "$VEC"
	# And the SDK's assignment of 20k IDs, line for line, both versions.
	ids 20000 5 >"$BATS_TEST_TMPDIR/ids"
	for v in 1 2; do
		NODE_PATH="$TOP/build/gb-node/node_modules" node "$TOP/tests/growthbook/assign.js" \
		    e-$v s-$v $v <"$BATS_TEST_TMPDIR/ids" >"$BATS_TEST_TMPDIR/sdk"
		asin-split -e e-$v --seed s-$v --hash-version $v "$BATS_TEST_TMPDIR/ids" |
		    cmp - "$BATS_TEST_TMPDIR/sdk"
	done
}

@test "--partial and --merge: the shards' counts give the single run's --stats" {
	genfacts --seed 3 --asins 200 --days 3 >"$BATS_TEST_TMPDIR/f"
	local sa=(-e e1 --variants control:30,treatment:70 --coverage 0.8)
	asin-split "${sa[@]}" --stats "$BATS_TEST_TMPDIR/single" "$BATS_TEST_TMPDIR/f" >/dev/null
	asin-shard -k asin -n 3 -o "$BATS_TEST_TMPDIR" "$BATS_TEST_TMPDIR/f"
	for f in "$BATS_TEST_TMPDIR"/part-*.ndjson; do
		asin-split "${sa[@]}" --partial --stats "$f.st" "$f" >/dev/null
	done
	run -0 --separate-stderr asin-split -v --merge "$BATS_TEST_TMPDIR"/part-*.st
	assert_eq "$(cat "$BATS_TEST_TMPDIR/single")" "$output"
	[[ "$stderr" == "asin-split: experiment e1: "*" in (control "*", treatment "*"), "*" not in; sample ratio chi2 "* ]]
	grep -qF '"partial":{"version":1,"experiments":[{"experiment":"e1","variants":["control","treatment"],"not_in":' "$BATS_TEST_TMPDIR/part-00000.ndjson.st"
	# Another definition does not merge.
	asin-split -e e1 --variants control:50,treatment:50 --partial --stats "$BATS_TEST_TMPDIR/other" "$BATS_TEST_TMPDIR/f" >/dev/null
	run -1 --separate-stderr asin-split --merge "$BATS_TEST_TMPDIR/part-00000.ndjson.st" "$BATS_TEST_TMPDIR/other"
	assert_eq "asin-split: $BATS_TEST_TMPDIR/other: partial of other experiment definitions than $BATS_TEST_TMPDIR/part-00000.ndjson.st (experiment \"e1\")" "$stderr"
	run -1 --separate-stderr asin-split --merge "$BATS_TEST_TMPDIR/single"
	assert_eq "asin-split: $BATS_TEST_TMPDIR/single: not an asin-split --partial --stats file (no \"partial\" member)" "$stderr"
	run -2 --separate-stderr asin-split -e e1 --partial "$BATS_TEST_TMPDIR/f"
	assert_eq "asin-split: option --partial writes the --stats file: give --stats FILE
Try 'asin-split --help' for more information." "$stderr"
	run -2 --separate-stderr asin-split -e e1 --merge "$BATS_TEST_TMPDIR/single"
	assert_eq "asin-split: option --merge takes only --partial --stats files (the merged counts go to standard output)
Try 'asin-split --help' for more information." "$stderr"
}

@test "--merge: the sample-ratio warning comes after the merge, never from a shard" {
	# Control units twice: a mismatch in the whole input and in a shard.
	ids 400 3 | asin-split -e t >"$BATS_TEST_TMPDIR/a"
	grep '"variation_id":0' "$BATS_TEST_TMPDIR/a" | cut -d'"' -f4 >"$BATS_TEST_TMPDIR/ctl"
	{ cat "$BATS_TEST_TMPDIR/ctl" "$BATS_TEST_TMPDIR/ctl"; ids 400 3; } >"$BATS_TEST_TMPDIR/ids"
	split -n l/2 "$BATS_TEST_TMPDIR/ids" "$BATS_TEST_TMPDIR/x."
	for f in "$BATS_TEST_TMPDIR"/x.a?; do
		run -0 --separate-stderr asin-split -e t --partial --stats "$f.st" "$f"
		assert_eq "" "$stderr"
	done
	run -0 --separate-stderr asin-split -e t "$BATS_TEST_TMPDIR/x.aa"
	[[ "$stderr" == "asin-split: experiment t: sample ratio mismatch: chi2 "* ]]
	run -0 --separate-stderr asin-split --merge "$BATS_TEST_TMPDIR"/x.a?.st
	[[ "$stderr" =~ ^asin-split:\ experiment\ t:\ sample\ ratio\ mismatch:\ chi2\ [0-9.]+,\ df\ 1,\ p\ [0-9.e-]+$ ]]
}
