#!/usr/bin/env bats
# asin-dedupe: exact rows for merges, every anomaly kind, Keepa histories
# (own small fixtures of the samples' shape), SP-API items, --map, every
# gate, --sorted against the in-memory mode, the bad inputs of
# CONVENTIONS.md section 6, and, when ../shared is there, the real Keepa
# samples alone and through asin-fetch and the fake upstream.
load helper

FX="$FIXTURES/asin-dedupe"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	unset ASIN_SCHEMAS
	UP_PID=
}

teardown() {
	if [ -n "$UP_PID" ]; then
		kill "$UP_PID" 2>/dev/null || true
		wait "$UP_PID" 2>/dev/null || true
	fi
}

# row ASIN DATE: the output row of ASIN on DATE from $output.
row() {
	jq -c --arg a "$1" --arg d "$2" 'select(.asin == $a and .date == $d)' <<<"$output"
}

@test "asin-dedupe: rows of one key merge field by field, newest fetched_at first" {
	golden asin-dedupe/merge asin-dedupe --stats st.json
	# 9 in: 2 folded into B0MERGE001 US 05-10, 1 exact duplicate, 1 tie
	assert_eq '{"in":9,"out":5,"rejected":0,"merged":4,"dropped":0}' "$(cat st.json)"
	# The input order does not matter.
	run -0 sh -c "tac '$FX/merge.in' | asin-dedupe"
	assert_eq "$(cat "$FX/merge.out")" "$output"
	run -0 asin-validate -s "$SCHEMAS/fact.schema.json" "$FX/merge.out"
}

@test "asin-dedupe: every anomaly kind is flagged, bad values nulled and kept" {
	golden asin-dedupe/anomalies asin-dedupe
	# Running the output through again changes nothing.
	asin-dedupe <"$FX/anomalies.in" | asin-dedupe >again
	cmp again "$FX/anomalies.out"
	# --max-price-jump and --stale-hours move the thresholds.
	run -0 asin-dedupe --max-price-jump 5 --stale-hours 100 "$FX/anomalies.in"
	assert_eq '["category_change"]' "$(row B0ANOM0001 2026-05-04 | jq -c .anomalies)"
	run -0 asin-dedupe --max-price-jump 2.9 "$FX/anomalies.in"
	assert_eq '["price_jump"]' "$(row B0ANOM0002 2026-05-02 | jq -c .anomalies)"
}

@test "asin-dedupe: --drop-anomalies sends those rows to --rejects" {
	run -0 --separate-stderr asin-dedupe --drop-anomalies price_jump,stale \
	    --rejects rej.ndjson --stats st.json "$FX/anomalies.in"
	assert_eq 7 "${#lines[@]}"
	assert_eq '{"in":8,"out":7,"rejected":1,"merged":0,"dropped":0}' "$(cat st.json)"
	assert_eq '"dropped for anomaly price_jump stale (--drop-anomalies)" 2026-05-04' \
	    "$(jq -r '"\(.error | tojson) \(.raw | fromjson | .date)"' rej.ndjson)"
	run -2 --separate-stderr asin-dedupe --drop-anomalies stale "$FX/anomalies.in"
	assert_eq "asin-dedupe: option --drop-anomalies needs --rejects FILE: dropped rows go there
Try 'asin-dedupe --help' for more information." "$stderr"
	run -2 --separate-stderr asin-dedupe --drop-anomalies stale,odd --rejects r "$FX/anomalies.in"
	assert_eq "asin-dedupe: option --drop-anomalies: unknown anomaly kind 'odd'
Try 'asin-dedupe --help' for more information." "$stderr"
}

@test "asin-dedupe: Keepa histories as the value at the end of each day" {
	golden asin-dedupe/keepa asin-dedupe --days 5 --report rep.json
	assert_eq '{"records":5,"envelopes":5,"rows_in":9,"rows_out":6,"dropped":3,"envelopes_by_status":{"failed":1,"invalid":1,"missing":1,"ok":2},"envelope_reasons":{"failed: HTTP 503 (3 attempts)":1,"missing: not in the answer":1}}' \
	    "$(jq -c '{records, envelopes, rows_in, rows_out, dropped, envelopes_by_status, envelope_reasons}' rep.json)"
	run -0 asin-validate -s "$SCHEMAS/fact.schema.json" "$FX/keepa.out"
	# --days 1: only the envelope's own day.
	run -0 asin-dedupe "$FX/keepa.in"
	assert_eq "B0TEST0001 2026-05-05
B0TEST0002 2026-05-05" "$(jq -r '"\(.asin) \(.date)"' <<<"$output")"
	assert_eq "$(sed -n 5p "$FX/keepa.out")" "${lines[0]}"
}

@test "asin-dedupe: an SP-API catalog item is one row for the fetch day" {
	golden asin-dedupe/spapi asin-dedupe
}

@test "asin-dedupe: --map turns a templated payload into rows that merge" {
	golden asin-dedupe/map asin-dedupe --days 2 --map "$TOP/schemas/maps/reviews-template.jq"
	# PROVIDER=FILE beats the built-in mapping for that provider.
	printf '.payload | {bsr: 7, title: "from jq"}\n' >k.jq
	run -0 asin-dedupe --map keepa=k.jq --map "$TOP/schemas/maps/reviews-template.jq" "$FX/map.in"
	assert_eq '{"asin":"B0TEST0001","bsr":7,"title":"from jq","review_count":140,"source":"reviews-template"}' \
	    "$(jq -c 'select(.asin == "B0TEST0001") | {asin, bsr, title, review_count, source}' <<<"$output")"
	# A program's errors and non-object results are rejects.
	printf '.payload | if .asin == "B0TEST0006" then error("no rows for this one") else 5 end\n' >bad.jq
	run -0 --separate-stderr asin-dedupe --map bad.jq --rejects rej.ndjson --stats st.json "$FX/map.in"
	assert_eq '--map bad.jq: expected objects, got number
--map bad.jq: no rows for this one' "$(jq -r .error rej.ndjson)"
	assert_eq '{"in":3,"out":1,"rejected":2,"merged":0,"dropped":0}' "$(cat st.json)"
	printf '.payload | {' >syntax.jq
	run -1 --separate-stderr asin-dedupe --map syntax.jq "$FX/map.in"
	assert_eq "asin-dedupe: syntax.jq: jq program does not compile: syntax error, unexpected \$end (Unix shell quoting issues?) at <top-level>, line 1" "$stderr"
	run -1 --separate-stderr asin-dedupe --map nothere.jq "$FX/map.in"
	assert_eq "asin-dedupe: nothere.jq: cannot open jq program: No such file or directory" "$stderr"
}

@test "asin-dedupe: --sorted gives the bytes of the in-memory mode" {
	local f
	for f in merge anomalies keepa map; do
		asin-dedupe --days 3 --map "$TOP/schemas/maps/reviews-template.jq" "$FX/$f.in" >mem
		# the same records, ordered by asin, marketplace, date
		jq -c . "$FX/$f.in" 2>/dev/null | jq -sc 'sort_by(.asin, .marketplace, .date) | .[]' >sorted.in
		asin-dedupe --sorted --days 3 --map "$TOP/schemas/maps/reviews-template.jq" sorted.in >srt
		cmp mem srt
	done
	run -1 --separate-stderr asin-dedupe --sorted "$FX/merge.in"
	assert_eq "asin-dedupe: $FX/merge.in:2: input not sorted by asin, marketplace, date: B0MERGE001 US 2026-05-10 after B0MERGE002 US 2026-05-10 (drop --sorted)" "$stderr"
}

@test "asin-dedupe: bad input is a located reject, nothing lost" {
	run -0 --separate-stderr asin-dedupe --rejects rej.ndjson --stats st.json "$FX/bad.in"
	assert_eq '{"asin":"B0GOOD0001","marketplace":"US","date":"2026-05-10","bsr":10,"anomalies":[]}
{"asin":"B0GOOD0002","marketplace":"US","date":"2026-05-10","bsr":12,"anomalies":[]}' "$output"
	assert_eq "$(sed "s|@FX@|$FX|g" "$FX/bad.rejects")" "$(cat rej.ndjson)"
	assert_eq '{"in":19,"out":2,"rejected":17,"merged":0,"dropped":0}' "$(cat st.json)"
	# Without --rejects the first bad line stops the run; the row before it is out.
	run -1 --separate-stderr asin-dedupe "$FX/bad.in"
	assert_eq "asin-dedupe: $FX/bad.in:2: invalid JSON at column 69: unexpected end of input" "$stderr"
	# A line beyond --max-line.
	{ head -1 "$FX/bad.in"; printf '{"asin":"%s"}\n' "$(head -c 200 /dev/zero | tr '\0' A)"; } >long.in
	run -1 --separate-stderr asin-dedupe --max-line 100 long.in
	assert_eq "asin-dedupe: long.in:2: line too long (see --max-line)" "$stderr"
	# --max-rejects as a count.
	run -1 --separate-stderr asin-dedupe --rejects rej.ndjson --max-rejects 3 "$FX/bad.in"
	assert_eq "asin-dedupe: $FX/bad.in:5: too many rejects: 4 (--max-rejects 3)" "$stderr"
}

@test "asin-dedupe: the quality report" {
	printf 'B0ANOM0001\n# a comment\n{"asin":"B0ANOM0002","marketplace":"US"}\n  B0ANOM0009  \nB0ANOM0001\n' >expect.txt
	printf '{"rows_out":10}\n' >prev.json
	run -0 --separate-stderr asin-dedupe -v --report rep.json --expect expect.txt \
	    --previous-report prev.json "$FX/anomalies.in"
	assert_eq "asin-dedupe: report: 8 records, 0 envelopes, 8 rows out, 0 merged, 0 rejected, 11 anomalies, coverage 0.6666666666666666
asin-dedupe: 8 in, 8 out, 0 rejected, 0 merged, 0 dropped" "$stderr"
	assert_eq "$(cat "$FX/report.json")" "$(cat rep.json)"
	run -1 --separate-stderr asin-dedupe --expect bad.txt "$FX/anomalies.in"
	assert_eq "asin-dedupe: bad.txt: cannot open: No such file or directory" "$stderr"
	printf 'B0ANOM0001\nnot-an-asin\n' >bad.txt
	run -1 --separate-stderr asin-dedupe --expect bad.txt "$FX/anomalies.in"
	assert_eq "asin-dedupe: bad.txt:2: --expect: expected an ASIN (10 upper-case letters or digits), got 'not-an-asin'" "$stderr"
	run -0 --separate-stderr asin-dedupe --report rep.json --previous-report none.json "$FX/anomalies.in"
	assert_eq "asin-dedupe: none.json: no previous report, so no row change" "$stderr"
	assert_eq null "$(jq -c .previous rep.json)"
	printf '{"rows":1}' >prev.json
	run -1 --separate-stderr asin-dedupe --previous-report prev.json "$FX/anomalies.in"
	assert_eq 'asin-dedupe: prev.json: previous report has no "rows_out" count' "$stderr"
}

@test "asin-dedupe: a bad line of --expect is a located reject, counted" {
	printf 'B0ANOM0001\nnot-an-asin\n{"asin":1}\n{"asin":"B0ANOM0002"\nB0ANOM0009\n' >expect.txt
	run -1 --separate-stderr asin-dedupe --rejects rej.ndjson --stats st.json \
	    --report rep.json --expect expect.txt --min-coverage 0.6 "$FX/anomalies.in"
	assert_eq 8 "${#lines[@]}"
	assert_eq '{"source":"expect.txt","line":2,"error":"--expect: expected an ASIN (10 upper-case letters or digits), got '"'not-an-asin'"'","raw":"not-an-asin"}
{"source":"expect.txt","line":3,"error":"--expect: expected an \"asin\" of 10 characters","raw":"{\"asin\":1}"}
{"source":"expect.txt","line":4,"error":"--expect: invalid JSON: Unfinished JSON term at EOF at line 1, column 20","raw":"{\"asin\":\"B0ANOM0002\""}' "$(cat rej.ndjson)"
	assert_eq '{"in":11,"out":8,"rejected":3,"merged":0,"dropped":0}' "$(cat st.json)"
	assert_eq '{"rows_in":11,"rejected":3,"reasons":{"--expect: expected an \"asin\" of N characters":1,"--expect: expected an ASIN (N upper-case letters or digits), got '"'not-an-asin'"'":1,"--expect: invalid JSON: Unfinished JSON term at EOF at line N, column N":1},"coverage":{"expected":2,"covered":1,"rate":0.5,"missing":["B0ANOM0009"]}}' \
	    "$(jq -c '{rows_in, rejected, reasons: .rejects_by_reason, coverage}' rep.json)"
	assert_eq 'asin-dedupe: gate --min-coverage 0.6 failed: coverage 0.5 (1 of 2 expected ASINs have a row)' "$stderr"
}

@test "asin-dedupe: each gate fails the run after the rows and the report" {
	printf 'B0ANOM0001\nB0ANOM0002\nB0ANOM0009\n' >expect.txt
	run -1 --separate-stderr asin-dedupe --report rep.json --expect expect.txt \
	    --min-coverage 0.9 "$FX/anomalies.in"
	assert_eq 8 "${#lines[@]}"
	assert_eq "asin-dedupe: gate --min-coverage 0.9 failed: coverage 0.6666666666666666 (2 of 3 expected ASINs have a row)" "$stderr"
	assert_eq '[{"gate":"--min-coverage 0.9","value":0.6666666666666666,"limit":0.9,"ok":false}]' "$(jq -c .gates rep.json)"
	run -0 asin-dedupe --expect expect.txt --min-coverage 0.6 "$FX/anomalies.in"
	run -1 --separate-stderr asin-dedupe --max-null-rate price=0.1 --max-null-rate bsr=0.5 "$FX/anomalies.in"
	assert_eq 8 "${#lines[@]}"
	assert_eq "asin-dedupe: gate --max-null-rate price=0.1 failed: price is null in 0.125 of the rows (1 of 8)" "$stderr"
	run -1 --separate-stderr asin-dedupe --max-anomaly-rate stale=0.1 --max-anomaly-rate price_jump=0.5 "$FX/anomalies.in"
	assert_eq "asin-dedupe: gate --max-anomaly-rate stale=0.1 failed: stale in 0.125 of the rows (1 of 8)" "$stderr"
	# a field the report does not list by default
	run -1 --separate-stderr asin-dedupe --max-null-rate reviews_7d=0.5 "$FX/anomalies.in"
	assert_eq "asin-dedupe: gate --max-null-rate reviews_7d=0.5 failed: reviews_7d is null in 1 of the rows (8 of 8)" "$stderr"
	run -2 --separate-stderr asin-dedupe --min-coverage 0.5 "$FX/anomalies.in"
	assert_eq "asin-dedupe: option --min-coverage needs --expect FILE
Try 'asin-dedupe --help' for more information." "$stderr"
	run -2 --separate-stderr asin-dedupe --max-anomaly-rate stale=2 "$FX/anomalies.in"
	[[ "$stderr" == "asin-dedupe: option --max-anomaly-rate: expected a number from 0 to 1, got '2'"* ]]
	run -2 --separate-stderr asin-dedupe --max-null-rate price "$FX/anomalies.in"
	assert_eq "asin-dedupe: option --max-null-rate: expected NAME=RATE, got 'price'
Try 'asin-dedupe --help' for more information." "$stderr"
}

@test "asin-dedupe: --partial fragments of asin shards merge to the single run's report" {
	# Every kind of count: merges, anomalies, Keepa envelopes by status,
	# SP-API, rejects; a watch list with a bad line; lines asin-shard
	# cannot route (no asin) are left out of both sides.
	cat "$FX/merge.in" "$FX/anomalies.in" "$FX/keepa.in" "$FX/spapi.in" "$FX/bad.in" >all0.in
	mkdir one && asin-shard -k asin -n 1 -o one --rejects shard.rej all0.in
	mv one/part-00000.ndjson all.in
	printf 'B0ANOM0001\nB0MERGE001\nB0TEST0001\nB0TEST0003\nnot-an-asin\nB0NONE0001\n' >expect.txt
	printf '{"rows_out":30}\n' >prev.json
	local gates="--min-coverage 0.5 --max-null-rate price=0.9 --max-null-rate reviews_7d=1 --max-anomaly-rate stale=0.01"
	run -1 asin-dedupe --days 3 --rejects rej --report single.json --expect expect.txt \
	    --previous-report prev.json $gates all.in
	local n i
	for n in 1 2 3 7; do
		rm -rf parts && mkdir parts && asin-shard -k asin -n $n -o parts all.in
		for i in parts/part-*.ndjson; do
			# the whole watch list in every shard; --max-null-rate adds its field
			asin-dedupe --days 3 --rejects rej --partial --report "$i.frag" \
			    --expect expect.txt --max-null-rate reviews_7d=1 "$i" >/dev/null
		done
		run -1 --separate-stderr asin-dedupe --merge-reports --report merged.json \
		    --previous-report prev.json $gates parts/*.frag
		assert_eq "asin-dedupe: gate --max-anomaly-rate stale=0.01 failed: stale in 0.09523809523809523 of the rows (2 of 21)" "$stderr"
		cmp single.json merged.json
	done
	# The watch list sharded with the rows: coverage is still the whole list's.
	printf '{"asin":"%s"}\n' B0ANOM0001 B0MERGE001 B0TEST0001 B0TEST0003 B0NONE0001 >expect.ndjson
	asin-dedupe --days 3 --rejects rej --report single.json --expect expect.ndjson all.in >/dev/null
	rm -rf parts wl && mkdir parts wl && asin-shard -k asin -n 3 -o parts all.in && asin-shard -k asin -n 3 -o wl expect.ndjson
	for i in 00000 00001 00002; do
		asin-dedupe --days 3 --rejects rej --partial --report "f$i" --expect "wl/part-$i.ndjson" \
		    "parts/part-$i.ndjson" >/dev/null
	done
	run -0 asin-dedupe --merge-reports --report merged.json f00000 f00001 f00002
	cmp single.json merged.json
	assert_eq '{"expected":5,"covered":3,"rate":0.6,"missing":["B0NONE0001","B0TEST0003"]}' "$(jq -c .coverage merged.json)"
	# A fragment of fragments merges the same.
	run -0 asin-dedupe --merge-reports --partial --report f01 f00000 f00001
	run -0 asin-dedupe --merge-reports --report merged.json f01 f00002
	cmp single.json merged.json
	# What is not a fragment, or fragments that disagree.
	run -1 --separate-stderr asin-dedupe --merge-reports single.json
	assert_eq "asin-dedupe: single.json: not a report fragment (write one with --partial --report FILE)" "$stderr"
	asin-dedupe --partial --report nx.frag "$FX/merge.in" >/dev/null
	run -1 --separate-stderr asin-dedupe --merge-reports f00000 nx.frag
	assert_eq "asin-dedupe: nx.frag: fragment lacks --expect, unlike f00000" "$stderr"
	run -1 --separate-stderr asin-dedupe --merge-reports --max-null-rate reviews_7d=1 nx.frag
	assert_eq 'asin-dedupe: nx.frag: fragment has no count "reviews_7d"' "$stderr"
	run -1 --separate-stderr asin-dedupe --merge-reports --min-coverage 0.5 nx.frag
	assert_eq "asin-dedupe: option --min-coverage: the fragments were written without --expect" "$stderr"
	run -2 --separate-stderr asin-dedupe --partial "$FX/merge.in"
	assert_eq "asin-dedupe: option --partial needs --report FILE
Try 'asin-dedupe --help' for more information." "$stderr"
	run -2 --separate-stderr asin-dedupe --merge-reports --expect expect.txt f00000
	assert_eq "asin-dedupe: option --expect: with --merge-reports the fragments carry the watch list
Try 'asin-dedupe --help' for more information." "$stderr"
}

# since_rows D: the rows on stdin dated D or later (the date read from
# the row's bytes, which are passed on untouched, unlike jq's numbers).
since_rows() {
	awk -v d="$1" 'match($0, /"date":"[^"]*"/) { if (substr($0, RSTART + 8, 10) >= d) print; next } { print }'
}

# no_first_anomalies: the rows on stdin (asin-dedupe's output: sorted,
# asin and marketplace first) with the "anomalies" member (always the
# last) taken off the first row of each asin and marketplace, the only
# row whose row-to-row anomalies --since may change.
no_first_anomalies() {
	awk '{ k = substr($0, 1, index($0, "\"date\":")) }
	    k != p { sub(/,"anomalies":\[[^]]*\]}$/, "}") }
	    { p = k; print }'
}

@test "asin-dedupe: --since D gives the run's rows from D on, the first day's row-to-row anomalies aside" {
	local D=2024-01-15
	# Re-fetches to merge, and on day D a tenfold price (price_jump on D
	# and D+1), another category (category_change on D and D+1), a fall
	# of review_count (review_count_fall on D only) and a rating out of
	# range (a row-alone anomaly, kept with --since), each on one series.
	genfacts --seed 11 --asins 40 --days 30 --dup-rate 0.05 | jq -c --arg d $D '
	    if .date != $d then .
	    elif .asin == "B00XJEMYHM" then .price *= 10
	    elif .asin == "B01I8E2A4V" and .marketplace == "FR" then .category = "Other"
	    elif .asin == "B01I8E2A4V" and .marketplace == "US" then .review_count = 0
	    elif .asin == "B02ASEZ7TC" then .rating = 9
	    else . end' >facts
	asin-dedupe --stats st0.json facts >full
	run -0 asin-dedupe --since $D --stats st.json --report rep.json facts
	printf '%s\n' "$output" >cut
	# Every row on or after D, byte for byte, but the anomalies of the
	# first row kept of each series: that row has no previous row now.
	since_rows $D <full | no_first_anomalies >want
	no_first_anomalies <cut | cmp - want
	# ... and those anomalies do differ: D's price_jump, category_change
	# and review_count_fall are gone, D+1's (against D) and the row-alone
	# kind stay.
	! since_rows $D <full | cmp -s - cut
	assert_eq "B00XJEMYHM GB 2024-01-15 price_jump
B00XJEMYHM GB 2024-01-16 price_jump
B01I8E2A4V FR 2024-01-15 category_change
B01I8E2A4V FR 2024-01-16 category_change
B01I8E2A4V US 2024-01-15 review_count_fall
B02ASEZ7TC DE 2024-01-15 rating_out_of_range" \
	    "$(jq -r 'select(.date >= "2024-01-15" and .date <= "2024-01-16" and .anomalies != []) | "\(.asin) \(.marketplace) \(.date) \(.anomalies | join(","))"' full)"
	assert_eq "B00XJEMYHM GB 2024-01-16 price_jump
B01I8E2A4V FR 2024-01-16 category_change
B02ASEZ7TC DE 2024-01-15 rating_out_of_range" \
	    "$(jq -r 'select(.anomalies != []) | "\(.asin) \(.marketplace) \(.date) \(.anomalies | join(","))"' cut)"
	# Nothing before D is out.
	assert_eq "$D" "$(jq -r .date cut | sort | head -1)"
	# The counts: the rows dated before D are dropped, and only they.
	local before
	before=$(since_rows $D <facts | wc -l)
	before=$(($(wc -l <facts) - before))
	[ "$before" -gt 500 ]
	assert_eq "$(wc -l <facts) $(wc -l <cut) 0 $before" \
	    "$(jq -r '"\(.in) \(.out) \(.rejected) \(.dropped)"' st.json)"
	assert_eq "$(jq '.in' st.json)" "$(jq '.out + .rejected + .merged + .dropped' st.json)"
	# the merges of the days kept are the run's merges of those days
	[ "$(jq .merged st.json)" -gt 0 ] && [ "$(jq .merged st.json)" -lt "$(jq .merged st0.json)" ]
	assert_eq "{\"records\":$(wc -l <facts),\"rows_in\":$(wc -l <facts),\"rows_out\":$(wc -l <cut),\"dropped\":$before,\"before_since\":$before}" \
	    "$(jq -c '{records, rows_in, rows_out, dropped, before_since}' rep.json)"
	# Without --since nothing is before it.
	asin-dedupe --report rep0.json facts >/dev/null
	assert_eq '0 0' "$(jq -r '"\(.dropped) \(.before_since)"' rep0.json)"
	# --sorted on sorted input: the same bytes and counts.
	jq -sc 'sort_by(.asin, .marketplace, .date) | .[]' facts >sorted.in
	asin-dedupe --sorted --since $D --stats st2.json sorted.in | cmp - cut
	cmp st.json st2.json
	# A day before all the input leaves out nothing.
	asin-dedupe --since 2023-12-31 facts | cmp - full
}

@test "asin-dedupe: --since leaves out the rows an envelope builds before it" {
	# keepa.in: an ok envelope of 2026-05-05 with 5 days of histories,
	# another with 1, three envelopes that are not ok (dropped by status).
	asin-dedupe --days 5 --report rep0.json "$FX/keepa.in" >full
	run -0 asin-dedupe --days 5 --since 2026-05-04 --stats st.json --report rep.json "$FX/keepa.in"
	assert_eq 'B0TEST0001 2026-05-04 []
B0TEST0001 2026-05-05 ["bsr_lost"]
B0TEST0002 2026-05-05 ["stale"]' "$(jq -r '"\(.asin) \(.date) \(.anomalies | tojson)"' <<<"$output")"
	assert_eq '{"in":9,"out":3,"rejected":0,"merged":0,"dropped":6}' "$(cat st.json)"
	assert_eq '{"rows_built":6,"rows_in":9,"dropped":6,"before_since":3,"envelopes_by_status":{"failed":1,"invalid":1,"missing":1,"ok":2}}' \
	    "$(jq -c '{rows_built, rows_in, dropped, before_since, envelopes_by_status}' rep.json)"
	# The rows kept are the run's, but for the first day's category_change
	# (its bsr_cat against 05-03's, a row left out now); bsr_lost comes
	# from the history, stale from the row alone: both stay.
	assert_eq '["category_change"]' "$(jq -c 'select(.date == "2026-05-04") | .anomalies' full)"
	printf '%s\n' "$output" | cmp - <(since_rows 2026-05-04 <full | sed '1s/"anomalies":\["category_change"\]/"anomalies":[]/')
	# A row a --map program builds takes the envelope's date, and is cut by it.
	run -0 asin-dedupe --days 2 --map "$TOP/schemas/maps/reviews-template.jq" \
	    --since 2026-05-05 --stats st.json "$FX/map.in"
	assert_eq "$(since_rows 2026-05-05 <"$FX/map.out")" "$output"
	assert_eq '{"in":4,"out":2,"rejected":0,"merged":1,"dropped":1}' "$(cat st.json)"
}

@test "asin-dedupe: --since leaves out only well-formed dates before it; a bad row is still a located reject" {
	cat >in.ndjson <<-'IN'
	{"asin":"B0SINCE001","marketplace":"US","date":"2024-01-01","bsr":5}
	{"asin":"B0SINCE002","marketplace":"US","date":"2023-13-01","bsr":5}
	{"asin":"B0SINCE003","marketplace":"US","date":"2024-13-01","bsr":5}
	{"asin":"B0SINCE004","marketplace":"US","date":"x","bsr":5}
	{"asin":"B0SINCE005","marketplace":"US","date":"2024-02-30","bsr":5}
	{"asin":"B0SINCE006","marketplace":"US","date":"2024\u002d01\u002d01","bsr":5}
	{"asin":"B0SINCE007","marketplace":"US","date":20240101,"bsr":5}
	{"asin":"B0SINCE008","marketplace":"US","bsr":5}
	{"asin":"B0SINCE013","marketplace":"US","date":"2024-01-01T00:00:00Z","bsr":5}
	{"asin":"B0SINCE009","marketplace":"US","date":"2024-01-01","bsr":5
	{"asin":"B0SINCE010","marketplace":"US","date":"2024-01-01","date":"2024-01-02","bsr":5}
	{"asin":"B0SINCE011","marketplace":"US","date":"2024-01-01","bsr":"five"}
	{"asin":"B0SINCE012","marketplace":"US","date":"2024-06-01","bsr":5}
	IN
	asin-dedupe --rejects rej0.ndjson in.ndjson >/dev/null
	run -0 --separate-stderr asin-dedupe --since 2024-03-01 --rejects rej.ndjson --stats st.json in.ndjson
	assert_eq '{"asin":"B0SINCE012","marketplace":"US","date":"2024-06-01","bsr":5,"anomalies":[]}' "$output"
	# Malformed, impossible, escaped, non-string and missing dates, on
	# either side of the day, a day with a time after it, and a line that is no JSON or has a
	# member twice: rejected as without --since, with the same message.
	assert_eq "2 3 4 5 6 7 8 9 10 11" "$(jq -r .line rej.ndjson | paste -sd ' ')"
	cmp rej.ndjson <(jq -c 'select(.line <= 11)' rej0.ndjson)
	assert_eq 'field "date": expected a real day YYYY-MM-DD, got "2024-13-01"' "$(jq -r 'select(.line == 3) | .error' rej.ndjson)"
	# Lines 1 and 12 are dated before the day: left out before any check
	# of their other members (line 12's bsr is never looked at).
	assert_eq '{"in":13,"out":1,"rejected":10,"merged":0,"dropped":2}' "$(cat st.json)"
	# Without --rejects, the first bad date stops the run, located.
	run -1 --separate-stderr asin-dedupe --since 2024-03-01 in.ndjson
	assert_eq 'asin-dedupe: in.ndjson:2: field "date": expected a real day YYYY-MM-DD, got "2023-13-01"' "$stderr"
	assert_eq '' "$output"
}

@test "asin-dedupe: a bad --since, or --since with --merge-reports, is a usage error" {
	local d
	for d in 2024-02-30 yesterday 2024-1-05 ""; do
		run -2 --separate-stderr asin-dedupe --since "$d" "$FX/merge.in"
		assert_eq "asin-dedupe: option --since: expected a date YYYY-MM-DD, got '$d'
Try 'asin-dedupe --help' for more information." "$stderr"
		assert_eq '' "$output"
	done
	asin-dedupe --partial --report f.frag "$FX/merge.in" >/dev/null
	run -2 --separate-stderr asin-dedupe --merge-reports --since 2024-01-01 f.frag
	assert_eq "asin-dedupe: option --since: with --merge-reports the fragments were cut already
Try 'asin-dedupe --help' for more information." "$stderr"
	# a leap day is a day
	run -0 asin-dedupe --since 2024-02-29 "$FX/merge.in"
	assert_eq "$(cat "$FX/merge.out")" "$output"
}

@test "asin-dedupe: --since --partial fragments of asin shards merge to the single --since run's report" {
	local D=2026-05-04 n i
	# Flat rows across D, Keepa envelopes whose rows straddle it, an ASIN
	# with rows before D only (missing from the coverage), bad dates.
	genfacts --seed 5 --asins 30 --days 30 --start 2026-04-20 --dup-rate 0.05 >all0.in
	cat "$FX/keepa.in" >>all0.in
	printf '%s\n' '{"asin":"B0OLD00001","marketplace":"US","date":"2026-04-01","bsr":5}' \
	    '{"asin":"B0OLD00002","marketplace":"US","date":"2026-13-01","bsr":5}' >>all0.in
	mkdir one && asin-shard -k asin -n 1 -o one all0.in
	mv one/part-00000.ndjson all.in
	printf 'B0OLD00001\nB0TEST0001\nB0TEST0002\n' >expect.txt
	run -0 asin-dedupe --days 5 --since $D --rejects rej --report single.json --expect expect.txt all.in
	assert_eq '{"rejected":1,"before_since":'"$(($(jq -r 'select(.date < "2026-05-04" and .provider == null) | .date' all.in | wc -l) + 3))"',"missing":["B0OLD00001"]}' \
	    "$(jq -c '{rejected, before_since, missing: .coverage.missing}' single.json)"
	for n in 2 3; do
		rm -rf parts && mkdir parts && asin-shard -k asin -n $n -o parts all.in
		for i in parts/part-*.ndjson; do
			asin-dedupe --days 5 --since $D --rejects rej --partial --report "$i.frag" \
			    --expect expect.txt "$i" >/dev/null
		done
		assert_eq 2 "$(jq .asin_dedupe_fragment parts/part-00000.ndjson.frag)"
		assert_eq "$(jq .before_since single.json)" "$(jq -s 'map(.before_since) | add' parts/*.frag)"
		run -0 asin-dedupe --merge-reports --report merged.json parts/*.frag
		cmp single.json merged.json
	done
	# A fragment of fragments merges the same.
	run -0 asin-dedupe --merge-reports --partial --report f01 parts/part-00000.ndjson.frag parts/part-00001.ndjson.frag
	run -0 asin-dedupe --merge-reports --report merged.json f01 parts/part-00002.ndjson.frag
	cmp single.json merged.json
	# A fragment of the version before before_since is refused.
	jq -c '.asin_dedupe_fragment = 1 | del(.before_since)' f01 >old.frag
	run -1 --separate-stderr asin-dedupe --merge-reports old.frag parts/part-00002.ndjson.frag
	assert_eq "asin-dedupe: old.frag: report fragment version 1, this asin-dedupe reads 2" "$stderr"
	# The report names the day; fragments cut at other days are refused.
	assert_eq '"2026-05-04"' "$(jq .since merged.json)"
	asin-dedupe --days 5 --since 2026-05-05 --rejects rej --partial --report later.frag \
	    --expect expect.txt parts/part-00002.ndjson >/dev/null
	run -1 --separate-stderr asin-dedupe --merge-reports f01 later.frag
	assert_eq "asin-dedupe: later.frag: fragment cut at another --since day than f01" "$stderr"
	asin-dedupe --days 5 --rejects rej --partial --report whole.frag \
	    --expect expect.txt parts/part-00002.ndjson >/dev/null
	assert_eq null "$(jq .since whole.frag)"
	run -1 --separate-stderr asin-dedupe --merge-reports f01 whole.frag
	assert_eq "asin-dedupe: whole.frag: fragment cut at another --since day than f01" "$stderr"
}

@test "asin-dedupe: the schema is found beside the tool, or named" {
	run -1 --separate-stderr asin-dedupe --schema nothere.json "$FX/merge.in"
	assert_eq "asin-dedupe: nothere.json: No such file or directory" "$stderr"
	ASIN_SCHEMAS="$TOP/schemas" run -0 asin-dedupe "$FX/merge.in"
	assert_eq "$(cat "$FX/merge.out")" "$output"
}

# The real samples, never copied into the project.
keepa_envelopes() {
	local f
	for f in product_B0D8W1YVBX.json products_multi_asin_full_history_sanitized.json \
	    product_history_B001GZ6QEC.json product_history_empty_B001GZ6QEC.json; do
		jq -c '.products[] | {asin, marketplace: "US", provider: "keepa", endpoint: "product",
		    date: "2026-05-10", fetched_at: "2026-05-10T05:00:00Z", status: "ok",
		    http_status: 200, attempts: 1, batch: "0123456789abcdef", payload: .}' \
		    "$SHARED_DATA/keepa/$f"
	done
}

# as_of FILE ASIN I DAY: csv[I] of ASIN in FILE as of the end of DAY, by jq.
as_of() {
	jq --arg a "$2" --argjson i "$3" --arg d "$4" '
	    (($d + "T23:59:59Z" | fromdate) / 60 - 21564000) as $e
	    | .products[] | select(.asin == $a) | .csv[$i] as $s
	    | (if ($i == 18) then 3 else 2 end) as $k
	    | [range(0; $s | length; $k) | select($s[.] <= $e)] | last
	    | $s[. + 1] + (if $k == 3 and $s[. + 1] >= 0 then ([$s[. + 2], 0] | max) else 0 end)' "$1"
}

@test "asin-dedupe: Keepa samples: section 1.8's as-of values for B0D8W1YVBX on 2026-05-09" {
	need_shared keepa
	local K="$SHARED_DATA/keepa/product_B0D8W1YVBX.json"
	keepa_envelopes >env.ndjson
	run -0 asin-dedupe --days 40 env.ndjson
	local r
	r=$(row B0D8W1YVBX 2026-05-09)
	assert_eq '{"bsr":25,"rating":4.3,"review_count":11597,"bsr_cat":3760911}' \
	    "$(jq -c '{bsr, rating, review_count, bsr_cat}' <<<"$r")"
	# the price fields against jq's own as-of reading of the sample
	assert_eq "$(as_of "$K" B0D8W1YVBX 18 2026-05-09)" "$(jq '.price_buybox * 100 | round' <<<"$r")"
	assert_eq "$(as_of "$K" B0D8W1YVBX 1 2026-05-09)" "$(jq '.price_new * 100 | round' <<<"$r")"
	assert_eq "$(as_of "$K" B0D8W1YVBX 4 2026-05-09)" "$(jq '.list_price * 100 | round' <<<"$r")"
	assert_eq "$(as_of "$K" B0D8W1YVBX 11 2026-05-09)" "$(jq '.offers_new' <<<"$r")"
	assert_eq "$(as_of "$K" B0D8W1YVBX 0 2026-05-09)" "$(jq '.price_amazon // -1' <<<"$r")"
	# review_count 9790 thirty days before (section 1.8)
	assert_eq 9790 "$(row B0D8W1YVBX 2026-04-09 | jq .review_count)"
	# B0F7XPYCSJ: the -1 rank at Keepa minute 8052940 is a null bsr with
	# bsr_lost from that day on, never before.
	local lost
	lost=$(date -u -d @$(((8052940 + 21564000) * 60)) +%F)
	assert_eq "$lost" "$(jq -r 'select(.asin == "B0F7XPYCSJ" and (.anomalies | index("bsr_lost"))) | .date' <<<"$output" | head -1)"
	assert_eq '[]' "$(jq -c --arg d "$lost" 'select(.asin == "B0F7XPYCSJ" and .date >= $d and .bsr != null)' <<<"$output" | jq -sc .)"
	assert_eq 16310091 "$(row B0F7XPYCSJ "$lost" | jq .bsr_cat)"
	# the empty history (merged with the synthetic one of the same ASIN)
	# gives rows and no crash; alone, one all-null row for the fetch day
	jq -c 'select(.asin == "B001GZ6QEC")' env.ndjson | tail -1 >empty.ndjson
	run -0 asin-dedupe --days 40 empty.ndjson
	assert_eq '{"date":"2026-05-10","bsr":null,"price":null,"bsr_events":0,"anomalies":[]}' \
	    "$(jq -c '{date, bsr, price, bsr_events, anomalies}' <<<"$output")"
	run -0 asin-validate -s "$SCHEMAS/fact.schema.json" <<<"$output"
}

@test "asin-dedupe: asin-fetch | asin-dedupe against the fake upstream serving the samples" {
	need_shared keepa
	export KEEPA_API_KEY=kp-secret-7f3a9c2e51 ASIN_FETCH_SEED=7
	rm -f port
	fake-upstream --port-file port --files "$SHARED_DATA/keepa" >/dev/null 2>up.err 3>&- &
	UP_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s port ] && break
		sleep 0.05
	done
	printf 'B0D8W1YVBX\nB0F7XPYCSJ\nB001GZ6QEC\nB000000001\n' >in
	run -0 --separate-stderr sh -c "asin-fetch -b http://127.0.0.1:$(cat port) --batch 1 --date 2026-05-10 in |
	    asin-dedupe --days 2 --report rep.json --expect in"
	assert_eq '{"bsr":25,"rating":4.3,"review_count":11597}' "$(row B0D8W1YVBX 2026-05-09 | jq -c '{bsr, rating, review_count}')"
	assert_eq "B001GZ6QEC 2026-05-09
B001GZ6QEC 2026-05-10
B0D8W1YVBX 2026-05-09
B0D8W1YVBX 2026-05-10
B0F7XPYCSJ 2026-05-09
B0F7XPYCSJ 2026-05-10" "$(jq -r '"\(.asin) \(.date)"' <<<"$output")"
	assert_eq '{"ok":3,"missing":1,"rate":0.75,"gone":["B000000001"]}' \
	    "$(jq -c '{ok: .envelopes_by_status.ok, missing: .envelopes_by_status.missing, rate: .coverage.rate, gone: .coverage.missing}' rep.json)"
}

@test "asin-dedupe: --help lists every flag the man page documents" {
	run -0 asin-dedupe --help
	local f
	for f in $(grep -oE '^\.Fl [a-z-]+' "$TOP/man/asin-dedupe.1" | awk '{ print $2 }' | sort -u); do
		[[ "$output" == *"-$f"* ]] || { echo "man page flag -$f not in --help"; return 1; }
	done
}
