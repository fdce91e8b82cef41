#!/usr/bin/env bats
# conventions.bats: every tool in build/bin against the shared rules of
# CONVENTIONS.md: --help and --version, exit 2 on an unknown flag, a man
# page that lints and names every flag of --help, a located error on a
# malformed line, exit 1 when stdout is /dev/full, and the hostile input
# of asin(7): a byte-order mark, a duplicate key, 1e999, a null group key,
# a closed stdout, usage errors under ASIN_LOG=json, --stats on failure.

load helper

tools() {
	local t
	for t in "$BUILD_DIR"/bin/asin-*; do
		[ -x "$t" ] && basename "$t"
	done
}

# The flags a tool needs to run at all, and one input line it accepts.
tool_args() {
	case $1 in
	asin-validate) echo "--schema $SCHEMAS/fact.schema.json" ;;
	asin-split) echo "--experiment e1 --variants control:50,treatment:50" ;;
	asin-uplift) echo "" ;;
	asin-fetch) echo "--replay $BATS_TEST_TMPDIR/empty-archive" ;;
	asin-rank) echo "score --model $FIXTURES/asin-rank/model.json" ;;
	asin-db) asin-db init "$BATS_TEST_TMPDIR/conv.db" &&
		echo "load --tee $BATS_TEST_TMPDIR/conv.db facts" ;;
	asin-registry) echo "log-runs --dry-run" ;;
	asin-shard) echo "-k asin --emit-key" ;;
	*) echo "" ;;
	esac
}

good_line() {
	case $1 in
	asin-uplift)
		echo '{"variant":"control","impressions":1000,"clicks":50,"conversions":5,"gmv":100,"spend":20}'
		echo '{"variant":"treatment","impressions":1000,"clicks":60,"conversions":7,"gmv":130,"spend":20}' ;;
	*) echo '{"asin":"B000000001","marketplace":"US","date":"2024-01-01","category":"Toys","price":9.99,"bsr":100,"rating":4.5,"review_count":10}' ;;
	esac
}

@test "there are tools to check" {
	[ -n "$(tools)" ]
}

@test "every tool: --help on stdout, exit 0, starts with usage:" {
	for t in $(tools); do
		run --separate-stderr "$t" --help
		[ "$status" -eq 0 ] || { echo "$t --help: exit $status"; return 1; }
		[ -z "$stderr" ] || { echo "$t --help wrote to stderr"; return 1; }
		[[ "$output" == usage:\ $t* ]] || { echo "$t --help: '${output%%$'\n'*}'"; return 1; }
		run --separate-stderr "$t" -h
		[ "$status" -eq 0 ] || { echo "$t -h: exit $status"; return 1; }
	done
}

@test "every tool: --version prints 'name VERSION'" {
	for t in $(tools); do
		run --separate-stderr "$t" --version
		[ "$status" -eq 0 ] || { echo "$t --version: exit $status"; return 1; }
		[[ "$output" =~ ^$t\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "$t: '$output'"; return 1; }
		run --separate-stderr "$t" -V
		[ "$status" -eq 0 ]
	done
}

@test "every tool: an unknown flag is exit 2 with the Try line" {
	for t in $(tools); do
		run --separate-stderr "$t" --no-such-flag
		[ "$status" -eq 2 ] || { echo "$t: exit $status"; return 1; }
		[ -z "$output" ] || { echo "$t wrote to stdout"; return 1; }
		[[ "$stderr" == *"Try '$t --help' for more information."* ]] ||
		    { echo "$t: $stderr"; return 1; }
	done
}

@test "every tool: a man page that lints and documents every flag" {
	for t in $(tools); do
		local m="$TOP/man/$t.1"
		[ -f "$m" ] || { echo "$t has no man page"; return 1; }
		run mandoc -Tlint -W warning "$m"
		[ -z "$output" ] || { echo "$output"; return 1; }
		local page flags f
		page=$(mandoc -Tascii "$m" | col -b)
		[[ "$page" == *"SEE ALSO"*"asin(7)"* ]] || { echo "$t.1: no asin(7) in SEE ALSO"; return 1; }
		[[ "$page" == *"EXIT STATUS"* ]] || { echo "$t.1: no EXIT STATUS"; return 1; }
		[[ "$page" == *"EXAMPLES"* ]] || { echo "$t.1: no EXAMPLES"; return 1; }
		flags=$("$t" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
		for f in $flags; do
			grep -qF -- "$f" <<<"$page" || { echo "$t: $f is in --help but not in $t.1"; return 1; }
		done
	done
}

@test "every tool: a malformed line is a located error, exit 1" {
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# reads ASINs: tested in asin-fetch.bats
		local in="$BATS_TEST_TMPDIR/bad.ndjson"
		{ good_line "$t"; echo '{"asin": "B000000002", oops}'; } >"$in"
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") "$in"
		[ "$status" -eq 1 ] || { echo "$t: exit $status: $stderr"; return 1; }
		local n
		n=$(wc -l <"$in")
		[[ "$stderr" == "$t: $in:$n: "* ]] || { echo "$t: '$stderr'"; return 1; }
	done
}

@test "every tool: writing to /dev/full is exit 1 with a message" {
	[ -w /dev/full ] || skip "no /dev/full"
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# needs an upstream: asin-fetch.bats
		local in="$BATS_TEST_TMPDIR/good.ndjson"
		good_line "$t" >"$in"
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") "$in"
		[ "$status" -eq 0 ] || { echo "$t: cannot run: $stderr"; return 1; }
		# shellcheck disable=SC2046
		run --separate-stderr sh -c "$t $(tool_args "$t") '$in' >/dev/full"
		[ "$status" -eq 1 ] || { echo "$t >/dev/full: exit $status"; return 1; }
		[[ "$stderr" == *"write error"* ]] || { echo "$t: '$stderr'"; return 1; }
	done
}

@test "every tool: a closed pipe is a quiet stop" {
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue
		local in="$BATS_TEST_TMPDIR/many.ndjson"
		for i in $(seq 1 3000); do good_line "$t"; done >"$in"
		# shellcheck disable=SC2046
		run --separate-stderr sh -c "$t $(tool_args "$t") '$in' | head -c 1 >/dev/null"
		[ -z "$stderr" ] || { echo "$t: '$stderr'"; return 1; }
	done
}

@test "every tool has a README line and a bats file" {
	for t in $(tools); do
		grep -q "$t" "$TOP/README.md" || { echo "$t not in README.md"; return 1; }
		ls "$TOP"/tests/"$t"*.bats >/dev/null 2>&1 || { echo "$t has no tests"; return 1; }
	done
}

# The shared accounting, through asin-validate with a schema that accepts
# any object, so only the record layer decides what is bad.
acct_input() {
	printf '%s\n' '{"a":1}' '{"a":' '' '[1]' '{"b":2}' >"$BATS_TEST_TMPDIR/in.ndjson"
	printf '\xff\n' >>"$BATS_TEST_TMPDIR/in.ndjson"
}

@test "--rejects: bad records become reject records, the run goes on" {
	acct_input
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" \
	    --rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 0
	assert_eq $'{"a":1}\n{"b":2}' "$output"
	assert_eq '{"in":5,"out":2,"rejected":3,"merged":0,"dropped":0}' "$(cat "$BATS_TEST_TMPDIR/st")" stats
	run jq -c '[.line, (.raw // .raw_base64)]' "$BATS_TEST_TMPDIR/rej"
	assert_eq $'[2,"{\\"a\\":"]\n[4,"[1]"]\n[6,"/w=="]' "$output" rejects
	run jq -r .error "$BATS_TEST_TMPDIR/rej"
	[[ "${lines[1]}" == "expected a JSON object, got array" ]]
	[[ "${lines[2]}" == "invalid UTF-8 at byte 1" ]]
}

@test "--max-rejects: a count and a percentage" {
	acct_input
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" \
	    --rejects /dev/null --max-rejects 1 "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 1
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in.ndjson:4: too many rejects: 2 (--max-rejects 1)" "$stderr"
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" \
	    --rejects /dev/null --max-rejects 50% "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 1
	assert_eq "asin-validate: too many rejects: 3 of 5 records (--max-rejects 50%)" "$stderr"
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" \
	    --rejects /dev/null --max-rejects 60% "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 0
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" --max-rejects 1x
	assert_status 2
	assert_eq "asin-validate: option --max-rejects: expected an integer of at least 0, got '1x'
Try 'asin-validate --help' for more information." "$stderr"
}

@test "ASIN_LOG=json: log lines are JSON objects" {
	printf '{"a":1}\n{"a"\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	ASIN_LOG=json run --separate-stderr asin-validate \
	    --schema "$FIXTURES/conventions/any.schema.json" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 1
	run jq -c '[.level, .tool, .source == "'"$BATS_TEST_TMPDIR/in.ndjson"'", .line, (.ts | test("^[0-9-]+T[0-9:.]+Z$"))]' <<<"$stderr"
	assert_eq '["error","asin-validate",true,2,true]' "$output"
}

@test "-v prints the summary line; -q and quiet runs print nothing" {
	printf '{"a":1}\n' >"$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr asin-validate -v --schema "$FIXTURES/conventions/any.schema.json" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 0
	assert_eq "asin-validate: 1 in, 1 out, 0 rejected, 0 merged, 0 dropped" "$stderr"
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_eq "" "$stderr"
}

@test "--max-line: an over-long line is a located error" {
	printf '{"a":1}\n{"a":"%s"}\n' "$(head -c 100 /dev/zero | tr '\0' x)" >"$BATS_TEST_TMPDIR/in.ndjson"
	run --separate-stderr asin-validate --max-line 64 --schema "$FIXTURES/conventions/any.schema.json" "$BATS_TEST_TMPDIR/in.ndjson"
	assert_status 1
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in.ndjson:2: line too long (see --max-line)" "$stderr"
	run --separate-stderr asin-validate --max-line 1Q --schema "$FIXTURES/conventions/any.schema.json"
	assert_status 2
}

@test "--stats into a FIFO writes through it and leaves it a FIFO" {
	local fifo="$BATS_TEST_TMPDIR/fifo"
	mkfifo "$fifo"
	cat "$fifo" >"$BATS_TEST_TMPDIR/got" &
	printf '{"a":1}\n' | asin-validate --schema "$FIXTURES/conventions/any.schema.json" --stats "$fifo" >/dev/null
	wait
	[ -p "$fifo" ]
	assert_eq '{"in":1,"out":1,"rejected":0,"merged":0,"dropped":0}' "$(cat "$BATS_TEST_TMPDIR/got")"
}

@test "a fatal reject keeps the records that passed before it" {
	printf '{"a":1}\n{"a":2}\n{bad\n{"a":3}\n' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr asin-validate --schema "$FIXTURES/conventions/any.schema.json" "$BATS_TEST_TMPDIR/in"
	assert_status 1
	assert_eq $'{"a":1}\n{"a":2}' "$output"
}

@test "a short flag means the same long flag in every tool" {
	local t pair letter long seen=""
	for t in $(tools); do
		while read -r pair; do
			letter=${pair%%,*}
			long=${pair#*, }
			case "$seen" in
			*"|$letter=$long|"*) ;;
			*"|$letter="*)
				echo "$t: $letter is $long here but ${seen#*|$letter=}" | cut -d'|' -f1
				return 1 ;;
			*) seen="$seen|$letter=$long|" ;;
			esac
		done < <("$t" --help | grep -oE -- '^ +-[a-zA-Z], --[a-z][a-z0-9-]*' | sed 's/^ *//')
	done
}

# --- no silent wrong result (asin(7), issue 10) ---------------------

# hostile_line TOOL KIND: good_line with one hostile change.
hostile_line() {
	local l
	# The next day, so that beside good_line it is another row, not a
	# second version of the same (asin, marketplace, date).
	l=$(good_line "$1" | head -1 | sed 's/"2024-01-01"/"2024-01-02"/')
	case $2 in
	bom) printf '\357\273\277%s\n' "$l" ;;
	dup) printf '{"zz":1,"zz":2,%s\n' "${l#\{}" ;;
	inf) case $1 in
	     asin-uplift) sed 's/"impressions":1000/"impressions":1e999/' <<<"$l" ;;
	     # a default feature: the fact row's price is not one
	     asin-zscore) sed 's/"price":9.99/"rank_drops_30":1e999/' <<<"$l" ;;
	     *) sed 's/"price":9.99/"price":1e999/' <<<"$l" ;;
	     esac ;;
	null) sed 's/"category":"Toys"/"category":null/' <<<"$l" ;;
	esac
}

# The message a tool gives for 1e999 in the field hostile_line sets, or
# "pass" for a tool that never reads that field as a number.
inf_message() {
	case $1 in
	asin-split) echo pass ;;
	asin-shard) echo pass ;;
	asin-validate) echo '.price: number is out of range' ;;
	asin-uplift) echo 'field "impressions": number 1e999 is out of range' ;;
	asin-zscore) echo 'field "rank_drops_30": number 1e999 is out of range' ;;
	*) echo 'field "price": number 1e999 is out of range' ;;
	esac
}

# The reject of a null category for a tool that groups by it, or "pass".
null_message() {
	case $1 in
	asin-zscore) echo 'key field "category" is null' ;;
	*) echo pass ;;
	esac
}

@test "every tool: a byte-order mark and a duplicate key are located errors; the flag takes the last" {
	local t in="$BATS_TEST_TMPDIR/h.ndjson"
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# reads ASINs: asin-fetch.bats
		{ hostile_line "$t" bom; good_line "$t"; } >"$in"
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") "$in"
		[ "$status" -eq 1 ] || { echo "$t bom: exit $status"; return 1; }
		assert_eq "$t: $in:1: byte-order mark at the start of the line (save the file as UTF-8 without BOM)" "$stderr" "$t bom" || return 1
		{ good_line "$t"; hostile_line "$t" dup; } >"$in"
		local n
		n=$(wc -l <"$in")
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") "$in"
		[ "$status" -eq 1 ] || { echo "$t dup: exit $status"; return 1; }
		assert_eq "$t: $in:$n: duplicate key \"zz\" at column 9" "$stderr" "$t dup" || return 1
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") --allow-duplicate-keys "$in"
		[ "$status" -eq 0 ] || { echo "$t --allow-duplicate-keys: exit $status: $stderr"; return 1; }
	done
}

@test "every tool: 1e999 is never an infinity, and a null group key is a reject with its reason" {
	local t want in="$BATS_TEST_TMPDIR/h.ndjson" kind
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue
		for kind in inf null; do
			want=$("${kind}_message" "$t")
			{ good_line "$t"; hostile_line "$t" "$kind"; } >"$in"
			# shellcheck disable=SC2046
			run --separate-stderr "$t" $(tool_args "$t") "$in"
			if [ "$want" = pass ]; then
				[ "$status" -eq 0 ] || { echo "$t $kind: exit $status: $stderr"; return 1; }
				continue
			fi
			[ "$status" -eq 1 ] || { echo "$t $kind: exit $status"; return 1; }
			assert_eq "$t: $in:$(wc -l <"$in"): $want" "$stderr" "$t $kind" || return 1
			# shellcheck disable=SC2046
			run --separate-stderr "$t" $(tool_args "$t") --rejects "$BATS_TEST_TMPDIR/rej" "$in"
			[ "$status" -eq 0 ] || { echo "$t $kind --rejects: exit $status"; return 1; }
			assert_eq "$want" "$(jq -r .error "$BATS_TEST_TMPDIR/rej")" "$t $kind reject" || return 1
		done
	done
}

@test "every tool: a closed stdout is a write error, never records in another file" {
	local t in="$BATS_TEST_TMPDIR/good.ndjson" rej="$BATS_TEST_TMPDIR/rej"
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# asin-fetch.bats, with --archive
		good_line "$t" >"$in"
		rm -f "$rej"
		# shellcheck disable=SC2046
		run --separate-stderr sh -c "$t $(tool_args "$t") --rejects '$rej' '$in' >&-"
		[ "$status" -eq 1 ] || { echo "$t >&-: exit $status"; return 1; }
		[[ "$stderr" == *"<stdout>: write error: Bad file descriptor"* ]] || { echo "$t: '$stderr'"; return 1; }
		[ ! -s "$rej" ] || { echo "$t wrote records into the rejects file:"; cat "$rej"; return 1; }
	done
}

@test "every tool: usage errors are one JSON object under ASIN_LOG=json" {
	local t
	for t in $(tools); do
		ASIN_LOG=json run --separate-stderr "$t" --no-such-flag
		[ "$status" -eq 2 ] || { echo "$t: exit $status"; return 1; }
		run jq -c '[.level, .tool, .msg, .hint]' <<<"$stderr"
		assert_eq "[\"error\",\"$t\",\"unknown option '--no-such-flag'\",\"Try '$t --help' for more information.\"]" "$output" "$t" || return 1
		run --separate-stderr "$t" --no-such-flag
		assert_eq "$t: unknown option '--no-such-flag'
Try '$t --help' for more information." "$stderr" "$t" || return 1
	done
}

@test "every tool: --stats is written when the run fails, and messages escape input bytes" {
	local t in st="$BATS_TEST_TMPDIR/st"
	in="$BATS_TEST_TMPDIR/$(printf 'in\033]0;x\007.ndjson')"
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# asin-fetch.bats
		{ good_line "$t"; echo '{"bad"'; } >"$in"
		rm -f "$st"
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") --stats "$st" "$in"
		[ "$status" -eq 1 ] || { echo "$t: exit $status"; return 1; }
		run jq -c '[.in, .rejected]' "$st"
		assert_eq "[$(($(wc -l <"$in"))),1]" "$output" "$t stats" || return 1
		[[ "$stderr" == "$t: $BATS_TEST_TMPDIR/in\\x1b]0;x\\x07.ndjson:"* ]] || { echo "$t: $stderr" | od -c | head; return 1; }
	done
}

@test "every tool: --keyed K strips K key fields; a line without them is a located error" {
	for t in $(tools); do
		[ "$t" = asin-fetch ] && continue	# reads ASINs: tested in asin-fetch.bats
		local in="$BATS_TEST_TMPDIR/plain.ndjson" kin="$BATS_TEST_TMPDIR/keyed.ndjson"
		good_line "$t" >"$in"
		sed 's/^/k1\tk 2\t/' "$in" >"$kin"
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") "$in"
		[ "$status" -eq 0 ] || { echo "$t: cannot run: $stderr"; return 1; }
		# asin-registry stamps a run without a time with the clock's
		# milliseconds: two runs differ there and nowhere else.
		local want
		want=$(sed -E 's/"start_time":[0-9]+/"start_time":T/g' <<<"$output")
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") --keyed 2 "$kin"
		[ "$status" -eq 0 ] || { echo "$t --keyed 2: exit $status: $stderr"; return 1; }
		output=$(sed -E 's/"start_time":[0-9]+/"start_time":T/g' <<<"$output")
		[ "$output" = "$want" ] || { echo "$t --keyed 2: '$output' != '$want'"; return 1; }
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") --keyed 3 "$kin"
		[ "$status" -eq 1 ] || { echo "$t --keyed 3: exit $status: $stderr"; return 1; }
		[[ "$stderr" == "$t: $kin:1: keyed line: fewer TAB-separated key fields than --keyed" ]] ||
		    { echo "$t: '$stderr'"; return 1; }
		# shellcheck disable=SC2046
		run --separate-stderr "$t" $(tool_args "$t") --keyed x "$kin"
		[ "$status" -eq 2 ] || { echo "$t --keyed x: exit $status"; return 1; }
	done
}

# hostile_file TOOL KIND: a file of the hostile corpus (issue 19) around
# the tool's good line G; H is G open for one more member.
hostile_file() {
	local g h n=10000
	g=$(good_line "$1" | head -1)
	h=${g%\}}
	h=${h/2024-01-01/2024-01-02}
	case $2 in
	deep) echo "$g"; printf '%s,"x":%s%s}\n' "$h" "$(printf "%${n}s" | tr ' ' '[')" "$(printf "%${n}s" | tr ' ' ']')"; echo "$g" ;;
	deepval) echo "$g"; printf '%s}\n' "$(sed "s/9.99/$(printf "%${n}s" | tr ' ' '{' | sed 's/{/{"a":/g')1$(printf "%${n}s" | tr ' ' '}')/" <<<"$h")" ;;
	toplevel) echo "$g"; printf "%${n}s\n" | tr ' ' '['; echo '[1,2]'; echo '"str"'; echo 'null' ;;
	nul) echo "$g"; printf '%s,"t":"a\0b"}\n' "$h"; printf '%s,"t\0":1}\n' "$h" ;;
	utf8) echo "$g"; printf '%s,"t":"a\377\376b"}\n' "$h"; printf '%s,"t":"\300\257 \355\240\200"}\n' "$h" ;;
	numbers) echo "$g"; sed 's/9.99/-0/' <<<"$h}"; sed 's/9.99/-0.0e-0/' <<<"$h}" | sed 's/2024-01-02/2024-01-03/'
		sed 's/9.99/1e999/' <<<"$h}" | sed 's/2024-01-02/2024-01-04/'; sed 's/9.99/-1e-999/' <<<"$h}" | sed 's/2024-01-02/2024-01-05/' ;;
	dupbom) echo "$g"; printf '{"zz":1,"zz":2,%s\n' "${h#\{}}"; printf '\357\273\277%s\n' "$g" ;;
	crlf) printf '%s\r\n' "$g" "$h}" ;;
	empty) : ;;
	nonl) printf '%s' "$g" ;;
	blank) printf '\n \n%s\n\t\n\n' "$g" ;;
	esac
}

# hostile_ok TOOL STATUS ERRFILE STATS: the run ended by exit 0 or 1 (and
# asin-fetch's 3, "some ASINs failed") with a message naming the tool; an
# exit 0 balances its --stats: in = out + rejected + merged + dropped (a
# fatal stop leaves the records an aggregating tool held in neither).
hostile_ok() {
	local t=$1 st=$2 err=$3 stats=$4
	case $st in
	0) # awk, not jq: this runs some 300 times
	   awk 'BEGIN { split("in out rejected merged dropped", n) }
	       { for (f = 1; f <= 5; f++) { m = match($0, "\"" n[f] "\":[0-9]+"); if (!m) exit 1
	           v[f] = substr($0, RSTART + length(n[f]) + 3, RLENGTH - length(n[f]) - 3) }
	       exit !(v[1] == v[2] + v[3] + v[4] + v[5]) }' "$stats" ||
	    { echo "stats do not balance: $(cat "$stats")"; return 1; } ;;
	1|3) [[ $(tail -n 1 "$err") == "$t: "* ]] || { echo "exit $st without a message: $(cat "$err")"; return 1; } ;;
	*) echo "exit $st: $(cat "$err")"; return 1 ;;
	esac
	if grep -q 'Sanitizer\|runtime error:' "$err"; then cat "$err"; return 1; fi
}

@test "every tool: the hostile corpus is a reject or a located error, and --stats balances" {
	local t k in st="$BATS_TEST_TMPDIR/st" e="$BATS_TEST_TMPDIR/err" err=0 rc
	local kinds="deep deepval toplevel nul utf8 numbers dupbom crlf empty nonl blank"
	# The corpus once per kind of good line: asin-uplift's and the rest's.
	mkdir -p "$BATS_TEST_TMPDIR/corpus"
	for k in $kinds; do
		hostile_file asin-uplift "$k" >"$BATS_TEST_TMPDIR/corpus/u-$k"
		hostile_file asin-zscore "$k" >"$BATS_TEST_TMPDIR/corpus/f-$k"
	done
	for t in $(tools); do
		for k in $kinds; do
			in="$BATS_TEST_TMPDIR/corpus/f-$k"
			[ "$t" = asin-uplift ] && in="$BATS_TEST_TMPDIR/corpus/u-$k"
			rm -f "$st"
			rc=0
			# shellcheck disable=SC2046
			timeout -s KILL 60 "$t" $(tool_args "$t") --rejects "$BATS_TEST_TMPDIR/rej" \
			    --stats "$st" "$in" >/dev/null 2>"$e" || rc=$?
			hostile_ok "$t" "$rc" "$e" "$st" || { echo "$t $k"; err=1; }
			# Without --rejects: the first bad line stops the run, located
			# (the all-good kinds ran so already).
			case $k in crlf|empty|nonl|blank) continue ;; esac
			[ "$t" = asin-fetch ] && continue	# 0.2 s a run: once is enough
			rc=0
			# shellcheck disable=SC2046
			timeout -s KILL 60 "$t" $(tool_args "$t") --stats "$st" "$in" >/dev/null 2>"$e" || rc=$?
			hostile_ok "$t" "$rc" "$e" "$st" || { echo "$t $k (no --rejects)"; err=1; }
		done
	done
	return "$err"
}

# HOSTILE_LINE_MB: 3 in make check, against --max-line 1M; 1024 under
# make hardening, against the default 16M; the line
# is made on the fly through a pipe, never a file.
@test "every tool: a line of HOSTILE_LINE_MB megabytes from a pipe is a located reject" {
	local t mb=${HOSTILE_LINE_MB:-3} max= st="$BATS_TEST_TMPDIR/st" rej="$BATS_TEST_TMPDIR/rej" g err=0 rc
	local e="$BATS_TEST_TMPDIR/err"
	[ "$mb" -lt 16 ] && max="--max-line 1M"
	for t in $(tools); do
		g=$(good_line "$t" | head -1)
		rm -f "$st"
		rc=0
		# shellcheck disable=SC2046
		timeout -s KILL 300 bash -c '
		    { echo "$1"; printf "%s,\"t\":\"" "${1%\}}"; head -c $(($2 * 1048576)) /dev/zero | tr "\0" x; printf "\"}\n"; echo "$1"; } |
		    "${@:3}"' _ "$g" "$mb" "$t" $(tool_args "$t") $max --rejects "$rej" --stats "$st" /dev/stdin >/dev/null 2>"$e" || rc=$?
		hostile_ok "$t" "$rc" "$e" "$st" || { echo "$t ${mb}M line"; err=1; continue; }
		[ "$(jq -r .error "$rej")" = "line too long (see --max-line)" ] || { echo "$t: $(head -c 200 "$rej")"; err=1; }
	done
	return "$err"
}
