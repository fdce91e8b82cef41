#!/usr/bin/env bats
# asin-zscore: robust group z-scores, score, rank; golden fixtures for the
# fallbacks, back-off, clipping, directions, weights and ties, every bad
# input, --sorted, the config file, and a cross-check against an
# independent Python oracle on generated rows.
load helper

F="$FIXTURES/asin-zscore"

# zs NAME INPUT ARGS...: run asin-zscore ARGS on INPUT (a fixture name) and
# compare stdout with NAME.out, stderr with NAME.err (empty when absent)
# and the exit status with NAME.status (0 when absent).
# UPDATE_GOLDEN=1 rewrites them.
zs() {
	local name=$1 in=$2 st=0
	shift 2
	(cd "$F" && asin-zscore "$@" <"$in.in") >"$BATS_TEST_TMPDIR/out" \
	    2>"$BATS_TEST_TMPDIR/err" || st=$?
	golden_files "$F/$name" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$st"
}

# usage_is MSG ARGS...: asin-zscore ARGS is a usage error saying MSG.
usage_is() {
	local msg=$1
	shift
	run -2 --separate-stderr asin-zscore "$@" </dev/null
	assert_eq "" "$output" stdout
	assert_eq "asin-zscore: $msg
Try 'asin-zscore --help' for more information." "$stderr" stderr
}

@test "asin-zscore: --help lists every flag and starts with the synopsis" {
	run -0 --separate-stderr asin-zscore --help
	assert_eq "usage: asin-zscore [-k fields] [-f features] [-w weights] [--clip C]" \
	    "${lines[0]}"
	for f in --key --features --weights --clip --min-group --top --sorted \
	    --explain --config --rejects --max-rejects --stats; do
		[[ "$output" == *"$f"* ]] || { echo "no $f"; return 1; }
	done
}

@test "asin-zscore: default features, back-off one and two levels, nulls" {
	zs basic basic
}

@test "asin-zscore: MAD 0 falls back to the mean deviation; no spread is z 0 and flagged" {
	zs fallback fallback -f price,rating --min-group 1
}

@test "asin-zscore: equal scores share a rank, ties in byte order, null score last" {
	zs ties ties -f price
}

@test "asin-zscore: --top keeps the best N of each group, ties included" {
	zs ties-top ties -f price --top 1 --stats "$BATS_TEST_TMPDIR/st"
	assert_eq '{"in":6,"out":3,"rejected":0,"merged":0,"dropped":3,"backed_off":6,"flat":0,"peak_rows":6}' \
	    "$(cat "$BATS_TEST_TMPDIR/st")"
	zs basic-top basic --top 2
}

@test "asin-zscore: a direction flips z; --clip limits it" {
	zs direction ties -f -price --min-group 1
	zs clip basic -f bsr_log_slope_30,-rank_drops_30 --clip 1
	# Reversed, every z is the negation of the plain one.
	assert_eq "$(asin-zscore -f price --min-group 1 "$F/ties.in" |
	    jq -c '[.asin, (if .z_price == null then null else 0 - .z_price end)]' |
	    sort)" \
	    "$(asin-zscore -f -price --min-group 1 "$F/ties.in" |
	    jq -c '[.asin, .z_price]' | sort)"
}

@test "asin-zscore: --weights and weights from the config file" {
	zs weights basic -w log1p_rank_drops_30=2,bsr_log_mom_30=0,bsr_log_slope_30=-1
	zs config basic --config weights.json
	# A flag beats the config: weight 0 from the flag, 5 in the file.
	zs config-flag basic --config weights.json -w bsr_log_slope_30=0 --top 1
}

@test "asin-zscore: --explain gives each feature's part of the score" {
	zs explain fallback -f price,rating --explain --min-group 1 --top 2
}

@test "asin-zscore: --min-group 1 never backs off; -k picks the groups" {
	zs nobackoff basic --min-group 1 -f rank_drops_30
	zs key basic -k marketplace -f rank_drops_30
}

@test "asin-zscore: every kind of bad line is a located reject" {
	zs bad bad -f price,log:bsr --min-group 1 --rejects "$BATS_TEST_TMPDIR/rej"
	diff -u "$F/bad.rejects" "$BATS_TEST_TMPDIR/rej"
	# Without --rejects the first bad line stops the run.
	zs bad-stop bad -f price,log:bsr
	zs bad-max bad -f price,log:bsr --rejects /dev/null --max-rejects 3
}

@test "asin-zscore: a line longer than --max-line is rejected" {
	local in="$BATS_TEST_TMPDIR/long"
	{ head -1 "$F/ties.in"; printf '{"date":"x","pad":"%0200d"}\n' 0; } >"$in"
	run -1 --separate-stderr asin-zscore -f price --max-line 150 "$in"
	assert_eq "" "$output"
	[[ "$stderr" == "asin-zscore: $in:2: "*"line"* ]] || { echo "$stderr"; return 1; }
}

@test "asin-zscore: empty input, blank lines, an empty object with -k" {
	run -0 --separate-stderr asin-zscore </dev/null
	assert_eq "" "$output"
	run -0 --separate-stderr asin-zscore -f a -k k --min-group 1 <<<'
{"k":"x","a":1}

{"k":"x"}'
	assert_eq '{"k":"x","a":1,"z_a":0,"score":0,"group_n":2,"group_rank":1,"group_pct":1,"z_backoff":0,"z_flat":["a"]}
{"k":"x","z_a":null,"score":null,"group_n":2,"group_rank":null,"group_pct":null,"z_backoff":0}' "$output"
	run -0 asin-zscore -f a -k k <<<'{ "k" : "\u0000y" , "a" : 2 }  '
	assert_eq '{ "k" : "\u0000y" , "a" : 2 ,"z_a":0,"score":0,"group_n":1,"group_rank":1,"group_pct":1,"z_backoff":0,"z_flat":["a"]}  ' "$output"
}

@test "asin-zscore: fields we add are replaced, never duplicated" {
	run -0 asin-zscore -f price --min-group 1 "$F/ties.in"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/once"
	run -0 asin-zscore -f price --min-group 1 "$BATS_TEST_TMPDIR/once"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/twice"
	assert_eq "$(jq -c 'del(.price)' "$BATS_TEST_TMPDIR/once")" \
	    "$(jq -c 'del(.price)' "$BATS_TEST_TMPDIR/twice")"
	# jq keeps the last of duplicate keys: count them in the text.
	[ "$(grep -o '"score"' "$BATS_TEST_TMPDIR/twice" | wc -l)" -eq 6 ]
}

@test "asin-zscore: --sorted gives the bytes of the hash mode and refuses unsorted input" {
	local d=$BATS_TEST_TMPDIR
	genfacts --seed 11 --rows 3000 --days 3 >"$d/f"
	# Our own output is in key order: feed it back sorted.
	asin-zscore -f price --min-group 1 "$d/f" >"$d/sorted"
	asin-zscore -f price,log:bsr "$d/sorted" >"$d/hash"
	asin-zscore -f price,log:bsr --sorted "$d/sorted" >"$d/stream"
	cmp "$d/hash" "$d/stream"
	cat "$d/sorted" | asin-zscore -f price,log:bsr --sorted --min-group 1 \
	    --stats "$d/st" >"$d/stream1"
	asin-zscore -f price,log:bsr --min-group 1 "$d/sorted" | cmp - "$d/stream1"
	# One group at a time: the largest group bounds the rows held.
	big=$(jq -r '[.date,.marketplace,.category]|@tsv' "$d/f" | sort | uniq -c |
	    sort -n | tail -1 | awk '{ print $1 }')
	assert_eq "$big" "$(jq .peak_rows "$d/st")"
	run -1 --separate-stderr asin-zscore --sorted -f price "$F/basic.in"
	assert_eq "" "$output"
	assert_eq "asin-zscore: $F/basic.in:3: input not sorted by key: [\"2024-01-01\",\"US\",\"Toys\"] after [\"2024-01-02\",\"DE\",\"Toys\"]" "$stderr"
	assert_eq 'asin-zscore: <stdin>:2: input not sorted by key: ["2024-01-01","DE","Toys"] after ["2024-01-01","US","Toys"]' \
	    "$(asin-zscore --sorted -k date,marketplace,category -f price 2>&1 >/dev/null <<'EOF'
{"date":"2024-01-01","marketplace":"US","category":"Toys","price":1}
{"date":"2024-01-01","marketplace":"DE","category":"Toys","price":1}
EOF
)"
}

@test "asin-zscore: output depends only on the set of rows" {
	local d=$BATS_TEST_TMPDIR
	genfacts --seed 12 --rows 3000 --days 3 --dup-rate 0.05 >"$d/f"
	asin-zscore -f price,-log:bsr,rating "$d/f" >"$d/a"
	tac "$d/f" | asin-zscore -f price,-log:bsr,rating >"$d/b"
	cmp "$d/a" "$d/b"
	# Split by the back-off root (date), run each part, concatenate.
	for day in 2024-01-01 2024-01-02 2024-01-03; do
		grep "\"date\":\"$day\"" "$d/f" | asin-zscore -f price,-log:bsr,rating
	done >"$d/c"
	cmp "$d/a" "$d/c"
}

@test "asin-zscore: agrees with an independent oracle to 1e-12" {
	command -v python3 >/dev/null || skip "python3 absent"
	local d=$BATS_TEST_TMPDIR o="$TOP/tests/zscore/oracle.py"
	local feats='price,-log:bsr,log1p:review_count,rating,-bullet_count,image_count'
	genfacts --seed 5 --rows 4000 --days 4 --dup-rate 0.02 >"$d/f"
	asin-zscore -f "$feats" -w price=0.5,log_bsr=2 --clip 2.5 "$d/f" >"$d/1"
	run -0 python3 "$o" -f "$feats" -w price=0.5,log_bsr=2 --clip 2.5 "$d/f" "$d/1"
	assert_eq "ok: 4000 rows" "$output"
	asin-zscore -f "$feats" --min-group 30 --top 3 "$d/f" >"$d/2"
	run -0 python3 "$o" -f "$feats" --min-group 30 --top 3 "$d/f" "$d/2"
	[[ "$output" == "ok: "* ]] || { echo "$output"; return 1; }
	asin-zscore -f "$feats" -k marketplace,category --min-group 1 "$d/f" >"$d/3"
	run -0 python3 "$o" -f "$feats" -k marketplace,category --min-group 1 "$d/f" "$d/3"
	assert_eq "ok: 4000 rows" "$output"
	# The oracle can fail: a changed z must be caught.
	sed '5s/"z_price":[-0-9.e]*/"z_price":0.5/' "$d/1" >"$d/1bad"
	run -1 python3 "$o" -f "$feats" -w price=0.5,log_bsr=2 --clip 2.5 "$d/f" "$d/1bad"
	[[ "$output" == "row 5: z_price 0.5, want "* ]] || { echo "$output"; return 1; }
}

@test "asin-zscore: usage errors name the flag" {
	usage_is "option --top: expected an integer from 1 to 1000000000, got '0'" --top 0
	usage_is "option --min-group: expected an integer from 1 to 1000000000, got 'x'" --min-group x
	usage_is "option --clip: expected a positive number, got '0'" --clip 0
	usage_is "option --weights: no feature named 'nope'" -f price -w nope=1
	usage_is "option --weights: expected NAME=WEIGHT, got 'price'" -f price -w price
	usage_is "option --weights: weight of 'price': expected a number, got 'x'" -f price -w price=x
	usage_is "option --features: feature 'price' given twice" -f price,+price
	usage_is "option --features: a feature named 'flat' would clash with z_flat" -f flat
	usage_is "option --features: '.a[': expected an index or a quoted key inside []" -f '.a['
	usage_is "$F/bad-config.json: unknown setting \"wieghts\"" --config "$F/bad-config.json"
	usage_is "$F/bad.in: invalid JSON: Invalid numeric literal at line 2, column 28" --config "$F/bad.in"
	usage_is "$F/weights.json: no feature named 'bsr_log_slope_30'" --config "$F/weights.json" -f rating
}
