#!/usr/bin/env bats
# asin-report: the structure of the page for each set of inputs (golden
# outlines, see fixtures/asin-report/outline.py), escaping of everything
# taken from input, missing values, the counts, every error, number
# formats, and the size of a 10,000-candidate page.  The page in a real
# browser: asin-report-browser.bats.
load helper

F="$FIXTURES/asin-report"

# outline NAME ARGS...: asin-report ARGS, its page's outline (the version
# written as VERSION) against NAME.out, stderr and status as golden_files.
outline() {
	local name=$1 st=0 v
	shift
	v=$(asin-report --version)
	v=${v#asin-report }
	asin-report "$@" >"$BATS_TEST_TMPDIR/page" 2>"$BATS_TEST_TMPDIR/err" </dev/null || st=$?
	python3 "$F/outline.py" <"$BATS_TEST_TMPDIR/page" |
	    sed "s/asin-report $v/asin-report VERSION/" >"$BATS_TEST_TMPDIR/out"
	golden_files "$F/$name" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" "$st"
}

all_inputs() {
	echo --days 10 --history "$F/history.ndjson" --uplift "$F/uplift.ndjson" \
	    --metrics "$F/eval" --model "$F/model.json" "$F/candidates.ndjson"
}

@test "asin-report: every section, golden outline" {
	# shellcheck disable=SC2046
	outline full $(all_inputs)
}

@test "asin-report: candidates without history have no sparkline column" {
	outline cand-only --top 2 "$F/candidates.ndjson"
}

@test "asin-report: only the inputs given make sections; stdin is not read then" {
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01"}' >"$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr asin-report --uplift "$F/uplift.ndjson" <"$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<section id="experiments"'* ]]
	[[ "$output" != *'<section id="candidates"'* ]]
	[[ "$output" != *'<section id="model"'* ]]
	outline model-only --metrics "$F/eval" --model "$F/model.json"
	run -0 --separate-stderr asin-report --model "$F/model.json"
	[[ "$output" == *'<section id="model"'* ]]
	[[ "$output" != *'<h3>Lift curve</h3>'* ]]
	run -0 --separate-stderr asin-report <"$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<section id="candidates"'* ]]
	[[ "$output" == *'<b>B000000001</b>'* ]]
}

@test "asin-report: the same inputs give the same bytes; -o writes them" {
	# shellcheck disable=SC2046
	asin-report $(all_inputs) >"$BATS_TEST_TMPDIR/a"
	# shellcheck disable=SC2046
	asin-report $(all_inputs) -o "$BATS_TEST_TMPDIR/b"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run -1 --separate-stderr asin-report --uplift "$F/uplift.ndjson" -o "$BATS_TEST_TMPDIR/no/such/dir/x.html"
	[[ "$stderr" == "asin-report: $BATS_TEST_TMPDIR/no/such/dir/x.html: No such file or directory" ]]
}

@test "asin-report: a title with <script>, quotes and & is text" {
	run -0 --separate-stderr asin-report "$F/candidates.ndjson"
	[[ "$output" == *'<small>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Bob&#39;s &quot;best&quot; &amp; co</small>'* ]]
	# Only the page's own two scripts.
	assert_eq 2 "$(grep -o '<script' <<<"$output" | wc -l)" "script tags"
	printf '%s\n' '{"asin":"B0000000<1","marketplace":"U\"S","date":"2024-01-01","category":"<b>Toys</b>","title":"a\u0000b\u007fc"}' >"$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr asin-report --title "x</title><script>alert(1)</script>" "$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<title>x&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>'* ]]
	[[ "$output" == *'<option value="&lt;b&gt;Toys&lt;/b&gt;">&lt;b&gt;Toys&lt;/b&gt;</option>'* ]]
	[[ "$output" == *'<b>B0000000&lt;1</b> <small>a'$'\xef\xbf\xbd''b'$'\xef\xbf\xbd''c</small><td>&lt;b&gt;Toys&lt;/b&gt;<td>U&quot;S<td class=na>'* ]]
	assert_eq 2 "$(grep -o '<script' <<<"$output" | wc -l)" "script tags"
	printf '%s\n' '{"asin":"B0000000\u00001","marketplace":"US","date":"2024-01-01"}' >"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:1: field \"asin\": holds a NUL character" "$stderr"
}

@test "asin-report: bytes that are not UTF-8 show as U+FFFD, or are a located reject" {
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01"}' >"$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr asin-report --title $'caf\xe9 \xff' "$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<h1>caf'$'\xef\xbf\xbd'' '$'\xef\xbf\xbd''</h1>'* ]]
	printf '{"asin":"B000000002","marketplace":"US","date":"2024-01-01","title":"caf\xe9"}\n' >>"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:2: invalid UTF-8 at byte 73" "$stderr"
	assert_eq "" "$output"
	run -0 --separate-stderr asin-report --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<b>B000000001</b>'* ]]
	[[ "$output" != *'B000000002'* ]]
	run jq -c '[.line, .error]' "$BATS_TEST_TMPDIR/rej"
	assert_eq '[2,"invalid UTF-8 at byte 73"]' "$output"
}

@test "asin-report: a missing value is shown as missing, never as zero" {
	# shellcheck disable=SC2046
	run -0 --separate-stderr asin-report $(all_inputs)
	# Garlic press has no price anywhere; B000000006 no score, no history.
	[[ "$output" == *'<b>B000000005</b> <small>Garlic press</small><td>Kitchen<td>US<td>0.00<td>1,400<td><svg'*'</svg><td class=na>missing<td>75 <i>0</i><td>4.2<td class=up>+0.67<td class=dn>-0.67'* ]]
	[[ "$output" == *'<tr><td class=na>missing<td><b>B000000006</b> <small>Hose 20 m</small><td>Garden<td>US<td class=na>missing<td class=na>missing<td class=na>no history<td class=na>missing'* ]]
	# The roas rows of asin-uplift have no interval and no p-value.
	[[ "$output" == *'<td>roas<td class=n data-v=4.000333333333334>4<td class=n data-v=4.6001666666666665>4.6<td class=n data-v=0.14994583784684595>+14.99%<td class=na>missing<td class=na>missing<td class=na>not tested'* ]]
	[[ "$output" != *'$0.00'* ]]
}

@test "asin-report: --stats counts every record of every input" {
	# shellcheck disable=SC2046
	run -0 --separate-stderr asin-report -v --stats "$BATS_TEST_TMPDIR/st" $(all_inputs)
	assert_eq "asin-report: 67 in, 15 out, 0 rejected, 50 merged, 2 dropped" "$stderr"
	assert_eq '{"in":67,"out":15,"rejected":0,"merged":50,"dropped":2}' "$(cat "$BATS_TEST_TMPDIR/st")"
	# --top 1: the best of Kitchen and Toys; Garden's has no score.
	run -0 --separate-stderr asin-report --top 1 -v "$F/candidates.ndjson"
	assert_eq "asin-report: 7 in, 2 out, 0 rejected, 0 merged, 5 dropped" "$stderr"
}

@test "asin-report: ranks within marketplace and category, ties share, duplicates merge" {
	printf '%s\n' \
	    '{"asin":"B000000001","marketplace":"US","date":"2024-01-01","category":"T","score":2}' \
	    '{"asin":"B000000002","marketplace":"US","date":"2024-01-01","category":"T","score":3}' \
	    '{"asin":"B000000003","marketplace":"US","date":"2024-01-01","category":"T","score":2}' \
	    '{"asin":"B000000004","marketplace":"US","date":"2024-01-01","category":"T","score":1}' \
	    '{"asin":"B000000002","marketplace":"US","date":"2024-01-01","category":"T","score":0}' \
	    '{"asin":"B000000005","marketplace":"DE","date":"2024-01-01","category":"T","score":0}' >"$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr asin-report -v --top 2 "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: 6 in, 4 out, 0 rejected, 1 merged, 1 dropped" "$stderr"
	grep -o '^<tr><td>[0-9]*<td><b>B[0-9]*' <<<"$output" >"$BATS_TEST_TMPDIR/rows"
	assert_eq $'<tr><td>1<td><b>B000000005\n<tr><td>1<td><b>B000000002\n<tr><td>2<td><b>B000000001\n<tr><td>2<td><b>B000000003' "$(cat "$BATS_TEST_TMPDIR/rows")"
}

@test "asin-report: numbers for people: thousands, currencies, percentages" {
	printf '%s\n' \
	    '{"asin":"B000000001","marketplace":"DE","date":"2024-01-01","price":1234.5,"bsr":1234567,"review_count":12345,"score":1.005}' \
	    '{"asin":"B000000002","marketplace":"JP","date":"2024-01-01","price":1999,"score":-0.5}' \
	    '{"asin":"B000000003","marketplace":"GB","date":"2024-01-01","price":7.5}' \
	    '{"asin":"B000000004","marketplace":"ZZ","date":"2024-01-01","price":7.5}' >"$BATS_TEST_TMPDIR/c"
	run -0 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	[[ "$output" == *'<td>DE<td>1.00<td>1,234,567<td>€1,234.50<td>12,345<td class=na>missing'* ]]
	[[ "$output" == *'<td>JP<td>-0.50<td class=na>missing<td>¥1,999<td class=na>missing'* ]]
	[[ "$output" == *'<td>GB<td class=na>missing<td class=na>missing<td>£7.50'* ]]
	[[ "$output" == *'<td>ZZ<td class=na>missing<td class=na>missing<td>7.50'* ]]
	run -0 --separate-stderr asin-report --uplift "$F/uplift.ndjson"
	[[ "$output" == *'sample ratio on impressions (100,000 / 99,000 / 100,000): χ² = 6.689, p = 0.03528: <span class=up>ok</span>'* ]]
	[[ "$output" == *'<p class=decision>B moves ctr by +10.00% (95% CI +3.41% to +16.59%). </p>'* ]]
}

@test "asin-report: the decision says no when the sample ratio is off" {
	sed 's/"srm_detected":false/"srm_detected":true/' "$F/uplift.ndjson" >"$BATS_TEST_TMPDIR/u"
	run -0 --separate-stderr asin-report --uplift "$BATS_TEST_TMPDIR/u"
	[[ "$output" == *'<span class=srm-bad>mismatch: the split is broken; do not trust the results below</span>'* ]]
	[[ "$output" == *'<p class=decision>No decision: the sample ratio check failed, so the assignment or the logging is broken. B moves ctr'* ]]
	grep -v '"significant":true' "$F/uplift.ndjson" >"$BATS_TEST_TMPDIR/u"
	run -0 --separate-stderr asin-report --uplift "$BATS_TEST_TMPDIR/u"
	[[ "$output" == *'<p class=decision>No metric differs significantly from the control at the 95% level after correction.</p>'* ]]
}

@test "asin-report: bad records are located errors or rejects" {
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01","price":"x"}' >"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:1: field \"price\": expected number, got string" "$stderr"
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-02-30"}' >"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:1: field \"date\": expected a date YYYY-MM-DD" "$stderr"
	printf '%s\n' '{"asin":"B000000001","date":"2024-02-03"}' >"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:1: field \"marketplace\": missing" "$stderr"
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01","explain":[1]}' >"$BATS_TEST_TMPDIR/c"
	run -1 --separate-stderr asin-report "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/c:1: field \"explain\": expected object, got array" "$stderr"
	printf '%s\n' '{"record":"srm","p_value":0.5}' '{"record":"table"}' >"$BATS_TEST_TMPDIR/u"
	run -1 --separate-stderr asin-report --uplift "$BATS_TEST_TMPDIR/u"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/u:2: field \"record\": expected \"srm\" or \"metric\"" "$stderr"
	printf '%s\n' '{"record":"metric","variant":"B","metric":"ctr","rel_uplift":"big"}' >"$BATS_TEST_TMPDIR/u"
	run -1 --separate-stderr asin-report --uplift "$BATS_TEST_TMPDIR/u"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/u:1: field \"rel_uplift\": expected number, got string" "$stderr"
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01"}' >"$BATS_TEST_TMPDIR/c"
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","date":"2024-01-01","bsr":true}' >"$BATS_TEST_TMPDIR/h"
	run -1 --separate-stderr asin-report --history "$BATS_TEST_TMPDIR/h" "$BATS_TEST_TMPDIR/c"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/h:1: field \"bsr\": expected number, got boolean" "$stderr"
}

@test "asin-report: unreadable or malformed asin-rank files name the file" {
	run -1 --separate-stderr asin-report --metrics "$BATS_TEST_TMPDIR/none"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/none/metrics.json: No such file or directory" "$stderr"
	mkdir "$BATS_TEST_TMPDIR/ev"
	cp "$F/eval/metrics.json" "$BATS_TEST_TMPDIR/ev/"
	printf 'k,recall\n1,0.5\n' >"$BATS_TEST_TMPDIR/ev/lift_curve.csv"
	run -1 --separate-stderr asin-report --metrics "$BATS_TEST_TMPDIR/ev"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/ev/lift_curve.csv:1: expected the header k,recall,baseline_recall,lift" "$stderr"
	printf 'k,recall,baseline_recall,lift\n1,0.5,,\n2,x,,\n' >"$BATS_TEST_TMPDIR/ev/lift_curve.csv"
	run -1 --separate-stderr asin-report --metrics "$BATS_TEST_TMPDIR/ev"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/ev/lift_curve.csv:3: field 2: expected a number" "$stderr"
	printf '{"model":' >"$BATS_TEST_TMPDIR/ev/metrics.json"
	run -1 --separate-stderr asin-report --metrics "$BATS_TEST_TMPDIR/ev"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/ev/metrics.json: invalid JSON at column 10: unexpected end of input" "$stderr"
	printf '{"format":"other"}' >"$BATS_TEST_TMPDIR/m"
	run -1 --separate-stderr asin-report --model "$BATS_TEST_TMPDIR/m"
	assert_eq "asin-report: $BATS_TEST_TMPDIR/m: not an asin-rank model (member \"format\" is not \"asin-rank-model\")" "$stderr"
}

@test "asin-report: usage errors" {
	run -2 --separate-stderr asin-report --date 2024-13-01 </dev/null
	assert_eq "asin-report: option --date: expected a date YYYY-MM-DD, got '2024-13-01'
Try 'asin-report --help' for more information." "$stderr"
	run -2 --separate-stderr asin-report --history "$F/history.ndjson" --uplift "$F/uplift.ndjson"
	assert_eq "asin-report: option --history needs candidates
Try 'asin-report --help' for more information." "$stderr"
	run -2 --separate-stderr asin-report --days 0 </dev/null
	[[ "$stderr" == "asin-report: option --days: expected an integer from 1 to 3660, got '0'"* ]]
	run -2 --separate-stderr asin-report --score '.a[' </dev/null
	[[ "$stderr" == "asin-report: "*".a["* ]]
}

@test "asin-report: 10,000 candidates with 120-day histories make a page under 5 MB" {
	# Candidates are the last day's rows of the same generated facts.
	genfacts --asins 10600 --days 120 --dup-rate 0 | grep '"date":"2024-04-29"' |
	    head -n 10000 | asin-zscore --min-group 1 --explain \
	    -f -log:bsr,log1p:review_count,-price,rating >"$BATS_TEST_TMPDIR/c"
	assert_eq 10000 "$(wc -l <"$BATS_TEST_TMPDIR/c")" candidates
	genfacts --asins 10600 --days 120 --dup-rate 0 |
	    asin-report -v --history - -o "$BATS_TEST_TMPDIR/p.html" "$BATS_TEST_TMPDIR/c"
	size=$(wc -c <"$BATS_TEST_TMPDIR/p.html")
	echo "# page: $size bytes" >&3
	[ "$size" -lt 5000000 ]
	assert_eq 10000 "$(grep -c '^<tr><td>' "$BATS_TEST_TMPDIR/p.html")" rows
	assert_eq 10000 "$(grep -o '<svg viewBox="0 0 29 11" role=img aria-label="BSR [0-9,]* to [0-9,]*, best [0-9,]*, [0-9]* days">' "$BATS_TEST_TMPDIR/p.html" | wc -l)" sparklines
}
