#!/usr/bin/env bats
# genfacts: the deterministic fact-row generator behind the benchmarks.
load helper

FIELDS='asin,marketplace,date,category,price,currency,bsr,rating,review_count,title,bullet_count,image_count,has_aplus,fetched_at'

@test "genfacts: the same arguments give byte-identical output" {
	genfacts --seed 9 --rows 3000 --dup-rate 0.05 >"$BATS_TEST_TMPDIR/a"
	genfacts --seed 9 --rows 3000 --dup-rate 0.05 >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	genfacts --seed 10 --rows 3000 --dup-rate 0.05 >"$BATS_TEST_TMPDIR/c"
	! cmp -s "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
}

@test "genfacts: --rows gives exactly that many lines" {
	assert_eq 1234 "$(genfacts --rows 1234 | wc -l | tr -d ' ')"
	assert_eq 0 "$(genfacts --rows 0 | wc -c | tr -d ' ')"
	assert_eq 1234 "$(genfacts --rows 1234 --sorted | wc -l | tr -d ' ')"
}

@test "genfacts: every line is a JSON object with the fields in order" {
	genfacts --seed 3 --rows 2000 >"$BATS_TEST_TMPDIR/f"
	jq -e -c 'type == "object"' "$BATS_TEST_TMPDIR/f" >/dev/null
	run jq -r '[keys_unsorted[]] | join(",")' "$BATS_TEST_TMPDIR/f"
	assert_status 0
	assert_eq "$FIELDS" "$(printf '%s\n' "$output" | sort -u)"
}

@test "genfacts: values follow the record conventions" {
	genfacts --seed 5 --rows 5000 --days 5 >"$BATS_TEST_TMPDIR/f"
	# Exit status of jq -e is that of the last value: fold with all.
	jq -e -s 'all(.[];
	    (.asin | test("^B0[A-Z0-9]{8}$")) and
	    (.marketplace | IN("US", "DE", "GB", "JP", "FR")) and
	    (.date | test("^2024-[0-9]{2}-[0-9]{2}$")) and
	    (.price > 0) and (.bsr >= 1) and (.review_count >= 0) and
	    ((.rating == null) == (.review_count == 0)) and
	    ({"US":"USD","DE":"EUR","GB":"GBP","JP":"JPY","FR":"EUR"}[.marketplace] == .currency) and
	    (.fetched_at[0:10] == .date))' "$BATS_TEST_TMPDIR/f" >/dev/null
	# 40 categories, non-ASCII titles, escaped quotes in titles.
	run jq -r .category "$BATS_TEST_TMPDIR/f"
	assert_eq 40 "$(printf '%s\n' "$output" | sort -u | wc -l | tr -d ' ')"
	grep -q 'ü\|é\|ステンレス' "$BATS_TEST_TMPDIR/f"
	grep -q '[0-9]\\"' "$BATS_TEST_TMPDIR/f"
	# Prices keep two decimals (7.80 stays 7.80), JPY is whole.
	grep -q '"price":[0-9]*\.[0-9]0,' "$BATS_TEST_TMPDIR/f"
	! grep '"currency":"JPY"' "$BATS_TEST_TMPDIR/f" | grep -q '"price":[0-9]*\.'
}

@test "genfacts: review counts never decrease within a series" {
	genfacts --seed 4 --asins 50 --days 40 --dup-rate 0 --sorted |
	    jq -r '[.asin, .marketplace, .review_count] | @tsv' |
	    awk -F'\t' '$1 $2 == k && $3 < last { bad = 1 } { k = $1 $2; last = $3 }
	        END { exit bad }'
}

@test "genfacts: --sorted orders by asin, marketplace, date" {
	genfacts --seed 2 --rows 3000 --sorted |
	    jq -r '[.asin, .marketplace, .date] | @tsv' >"$BATS_TEST_TMPDIR/k"
	LC_ALL=C sort -c -t "$(printf '\t')" -k1,1 -k2,2 -k3,3 "$BATS_TEST_TMPDIR/k"
	# The default order is day-major.
	genfacts --seed 2 --rows 3000 | jq -r .date >"$BATS_TEST_TMPDIR/d"
	LC_ALL=C sort -c "$BATS_TEST_TMPDIR/d"
	run ! LC_ALL=C sort -c -t "$(printf '\t')" -k1,1 -k2,2 -k3,3 \
	    <(genfacts --seed 2 --rows 3000 | jq -r '[.asin, .marketplace, .date] | @tsv')
}

@test "genfacts: --sorted writes the same rows as day-major order" {
	genfacts --seed 8 --asins 120 --days 20 | LC_ALL=C sort >"$BATS_TEST_TMPDIR/a"
	genfacts --seed 8 --asins 120 --days 20 --sorted | LC_ALL=C sort >"$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "genfacts: --dup-rate adds same-day re-fetches" {
	genfacts --seed 6 --rows 4000 --dup-rate 0 |
	    jq -r '[.asin, .marketplace, .date] | @tsv' >"$BATS_TEST_TMPDIR/k0"
	assert_eq 4000 "$(LC_ALL=C sort -u "$BATS_TEST_TMPDIR/k0" | wc -l | tr -d ' ')"
	genfacts --seed 6 --rows 4000 --dup-rate 0.2 |
	    jq -r '[.asin, .marketplace, .date] | @tsv' >"$BATS_TEST_TMPDIR/k1"
	n=$(LC_ALL=C sort -u "$BATS_TEST_TMPDIR/k1" | wc -l)
	[ "$n" -lt 3800 ] && [ "$n" -gt 3000 ]
}

@test "genfacts: --bad-rate corrupts rows in place and leaves the rest" {
	genfacts --seed 7 --rows 5000 >"$BATS_TEST_TMPDIR/good"
	genfacts --seed 7 --rows 5000 --bad-rate 0.05 >"$BATS_TEST_TMPDIR/bad"
	assert_eq 5000 "$(wc -l <"$BATS_TEST_TMPDIR/bad" | tr -d ' ')"
	# Only corrupted lines differ, and each is one of the bad kinds.
	paste -d '\n' "$BATS_TEST_TMPDIR/good" "$BATS_TEST_TMPDIR/bad" |
	    awk 'NR % 2 { g = $0; next } $0 != g' >"$BATS_TEST_TMPDIR/diff"
	n=$(wc -l <"$BATS_TEST_TMPDIR/diff")
	[ "$n" -gt 150 ] && [ "$n" -lt 350 ]
	jq -R -r 'try (fromjson |
	    if .price == null then "null_price"
	    elif .price < 0 then "neg_price"
	    elif .bsr == 0 then "bsr_zero"
	    elif has("asin") | not then "missing_asin"
	    else "none" end) catch "malformed"' \
	    "$BATS_TEST_TMPDIR/diff" | sort | uniq -c >"$BATS_TEST_TMPDIR/kinds"
	if grep -q none "$BATS_TEST_TMPDIR/kinds"; then false; fi
	kinds=$(awk '{ print $2 }' "$BATS_TEST_TMPDIR/kinds")
	assert_eq "bsr_zero malformed missing_asin neg_price null_price" \
	    "$(echo $kinds)"
}

@test "genfacts: --start sets the first day" {
	run genfacts --rows 3 --asins 1 --days 3 --start 2023-12-31 --dup-rate 0
	assert_status 0
	assert_eq "2023-12-31
2024-01-01
2024-01-02" "$(printf '%s\n' "$output" | jq -r .date)"
}

@test "genfacts: bad flags are usage errors" {
	run genfacts --start 2024-02-30
	assert_status 2
	assert_eq "genfacts: option --start: expected a date YYYY-MM-DD, got '2024-02-30'
Try 'genfacts --help' for more information." "$output"
	run genfacts --bad-rate 1
	assert_status 2
	run genfacts --rows -1
	assert_status 2
	run genfacts --nope
	assert_status 2
	run genfacts extra
	assert_status 2
}

@test "genfacts: running out of series is an error" {
	run genfacts --rows 5 --asins 1 --days 2 --dup-rate 0
	assert_status 1
	[[ "$output" == *"only 2 of 5 rows"* ]]
}

@test "genfacts: --help and --version" {
	run genfacts --help
	assert_status 0
	[[ "$output" == "usage: genfacts "* ]]
	run genfacts --version
	assert_status 0
	[[ "$output" == "genfacts "[0-9]* ]]
}
