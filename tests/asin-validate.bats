#!/usr/bin/env bats
# asin-validate: records a JSON Schema accepts pass through byte for byte;
# the others are located errors or rejects that name the field and rule.
load helper

FX="$FIXTURES/asin-validate"
LS="$FIXTURES/asin-validate/listing.schema.json"
GOOD='{"asin":"B000000001","marketplace":"US","date":"2024-01-01"}'

# An empty input file: the tests do not rely on /dev/null being a device.
setup() {
	EMPTY=$BATS_TEST_TMPDIR/empty
	: >"$EMPTY"
}

# v ARGS...: run asin-validate on the fact schema.
v() {
	asin-validate --schema "$SCHEMAS/fact.schema.json" "$@"
}

@test "asin-validate: valid records pass through byte for byte" {
	run -0 --separate-stderr asin-validate -s "$LS" "$FX/good.ndjson"
	assert_eq "$(cat "$FX/good.ndjson")" "$output"
	assert_eq "" "$stderr" stderr
	# Same bytes, not just the same JSON: 7.80, 1.5e3, 4.0 and the
	# spacing stay as they came.
	asin-validate -s "$LS" <"$FX/good.ndjson" | cmp - "$FX/good.ndjson"
}

@test "asin-validate: the first bad record stops the run, after the valid prefix" {
	run -1 --separate-stderr asin-validate -s "$LS" <"$FX/bad.ndjson"
	assert_eq "$GOOD" "$output"
	assert_eq 'asin-validate: <stdin>:2: .asin: pattern ^[A-Z0-9]{10}$, got "b000000002"' "$stderr"
}

@test "asin-validate: the first violation by default, every one with --all-errors" {
	sed -n 3p "$FX/bad.ndjson" >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr asin-validate -s "$LS" "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:1: .marketplace: enum [\"US\",\"GB\",\"DE\",\"FR\",\"JP\"], got \"XX\"" "$stderr"
	run -1 --separate-stderr asin-validate -a -s "$LS" "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:1: .marketplace: enum [\"US\",\"GB\",\"DE\",\"FR\",\"JP\"], got \"XX\"; .date: format date, got \"2023-02-29\"; .price: exclusiveMinimum 0, got 0; .bsr: type integer, got number 0.5" "$stderr"
	run -1 --separate-stderr asin-validate --all-errors -s "$LS" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == *"; .bsr: type integer, got number 0.5" ]]
}

@test "asin-validate: --rejects keeps going and names the field and rule of each" {
	run -0 --separate-stderr asin-validate -a -s "$LS" \
	    --rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/stats" \
	    <"$FX/bad.ndjson"
	assert_eq "$GOOD"$'\n''{"asin":"B000000011","marketplace":"US","date":"2024-01-01"}' "$output"
	assert_eq "" "$stderr" stderr
	diff -u "$FX/bad.rejects" "$BATS_TEST_TMPDIR/rej"
	assert_eq '{"in":11,"out":2,"rejected":9,"merged":0,"dropped":0}' "$(cat "$BATS_TEST_TMPDIR/stats")"
}

@test "asin-validate: --max-rejects stops past the limit" {
	run -1 --separate-stderr asin-validate -s "$LS" \
	    --rejects "$BATS_TEST_TMPDIR/rej" --max-rejects 2 <"$FX/bad.ndjson"
	assert_eq 'asin-validate: <stdin>:4: too many rejects: 3 (--max-rejects 2)' "$stderr"
	assert_eq "$GOOD" "$output"
	assert_eq 3 "$(wc -l <"$BATS_TEST_TMPDIR/rej" | tr -d ' ')"
}

@test "asin-validate: the fact schema accepts genfacts rows and rejects its corruptions" {
	genfacts --seed 7 --rows 3000 >"$BATS_TEST_TMPDIR/f"
	v "$BATS_TEST_TMPDIR/f" | cmp - "$BATS_TEST_TMPDIR/f"
	genfacts --seed 7 --rows 3000 --bad-rate 0.1 >"$BATS_TEST_TMPDIR/b"
	v --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/b" >"$BATS_TEST_TMPDIR/out"
	local out rej
	out=$(wc -l <"$BATS_TEST_TMPDIR/out")
	rej=$(wc -l <"$BATS_TEST_TMPDIR/rej")
	assert_eq 3000 "$((out + rej))" "out + rejected"
	[ "$rej" -gt 100 ]
	# Null prices are allowed (no offer that day); negative prices, bsr 0,
	# a missing asin and cut-off lines are not.
	run jq -r '.error | sub(", got .*"; "") | sub(" at column [0-9]+"; "")' "$BATS_TEST_TMPDIR/rej"
	assert_eq '.asin: required
.bsr: minimum 1
.price: exclusiveMinimum 0
invalid JSON: invalid number
invalid JSON: unexpected end of input' "$(printf '%s\n' "$output" | sed 's/, missing$//' | sort -u)"
}

@test "asin-validate: the fact schema on the key fields" {
	run -1 --separate-stderr v -a <<-'EOF'
	{"asin":"B0000000011","marketplace":"us","date":"2024-1-1","bsr":0,"rating":5.5,"deal_active":1,"fetched_at":"2024-01-01T10:00:00"}
	EOF
	assert_eq 'asin-validate: <stdin>:1: .asin: pattern ^[A-Z0-9]{10}$, got "B0000000011"; .marketplace: pattern ^[A-Z]{2}$, got "us"; .date: format date, got "2024-1-1"; .bsr: minimum 1, got 0; .rating: maximum 5, got 5.5; .deal_active: type boolean or null, got number 1; .fetched_at: format date-time, got "2024-01-01T10:00:00"' "$stderr"
	run -0 --separate-stderr v <<-'EOF'
	{"asin":"B000000001","marketplace":"UK","date":"2024-01-01","bsr":null,"price":null,"rating":null,"listed_since":"2019-05-04","source":"keepa","fetched_at":"2024-01-01T10:00:00Z","bsr_cat":172282,"sub_cat":"Kopfhörer","feature_x_7d":0.5}
	EOF
}

@test "asin-validate: the fetch envelope schema" {
	local s="$SCHEMAS/fetch-envelope.schema.json"
	[ -f "$s" ] || skip "no schemas/fetch-envelope.schema.json"
	run -0 --separate-stderr asin-validate -a -s "$s" \
	    --rejects "$BATS_TEST_TMPDIR/rej" "$FX/envelopes.ndjson"
	assert_eq "$(head -3 "$FX/envelopes.ndjson")" "$output"
	run jq -r '[.line, .error] | @tsv' "$BATS_TEST_TMPDIR/rej"
	assert_eq '4	.marketplace: enum ["US","GB","DE","FR","IT","ES","JP","CA","MX","IN","BR"], got "UK"; .status: enum ["ok","invalid","missing","failed"], got "done"; .http_status: maximum 599, got 700; .attempts: minimum 0, got -1; .batch: pattern ^[0-9a-f]{16}$, got "0123456789ABCDEF"; .payload: type object, got array; .token: additionalProperties false, got "x"
5	.http_status: required, missing' "$output"
}

# --- hostile input (CONVENTIONS.md section 6) ------------------------

@test "asin-validate: a line beyond --max-line is a located error" {
	{ echo "$GOOD"; printf '{"asin":"%0200d"}\n' 0; echo "$GOOD"; } >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v --max-line 100 "$BATS_TEST_TMPDIR/in"
	assert_eq "$GOOD" "$output"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:2: line too long (see --max-line)" "$stderr"
	run -0 --separate-stderr v --max-line 100 --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/in"
	assert_eq "$GOOD"$'\n'"$GOOD" "$output"
	run jq -r '[.line, .error] | @tsv' "$BATS_TEST_TMPDIR/rej"
	assert_eq $'2\tline too long (see --max-line)' "$output"
}

@test "asin-validate: deep nesting is an error naming the depth limit, not a crash" {
	python3 -c 'print("{\"a\":" * 300 + "1" + "}" * 300)' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "" "$output"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:1: invalid JSON at column 1281: nesting deeper than 256" "$stderr"
	python3 -c 'print("{\"a\":" + "[" * 100000 + "]" * 100000 + "}")' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:1: invalid JSON at column 261: nesting deeper than 256" "$stderr"
}

@test "asin-validate: invalid UTF-8 is a located error with the byte offset" {
	printf '%s\n{"asin":"B00000000\xff","marketplace":"US","date":"2024-01-01"}\n' "$GOOD" >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v <"$BATS_TEST_TMPDIR/in"
	assert_eq 'asin-validate: <stdin>:2: invalid UTF-8 at byte 19' "$stderr"
	assert_eq "$GOOD" "$output"
	# Overlong encodings and surrogates are invalid too.
	printf '{"asin":"\xc0\xaf"}\n{"asin":"\xed\xa0\x80"}\n' >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr v --rejects "$BATS_TEST_TMPDIR/rej" <"$BATS_TEST_TMPDIR/in"
	run jq -r '.error' "$BATS_TEST_TMPDIR/rej"
	assert_eq $'invalid UTF-8 at byte 10\ninvalid UTF-8 at byte 10' "$output"
}

@test "asin-validate: binary junk is rejected, kept in base64 in the rejects file" {
	printf '\x00\x01\x02\xfe junk\n' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:1: invalid UTF-8 at byte 4" "$stderr"
	run -0 --separate-stderr v --rejects "$BATS_TEST_TMPDIR/rej" "$BATS_TEST_TMPDIR/in"
	assert_eq "" "$output"
	run jq -r '.raw_base64 | @base64d' "$BATS_TEST_TMPDIR/rej"
	[ "$(jq -r .raw_base64 "$BATS_TEST_TMPDIR/rej")" = "AAEC/iBqdW5r" ]
	# A NUL inside otherwise valid JSON text.
	printf '{"asin":"B000000001",\x00"date":"2024-01-01"}\n' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v <"$BATS_TEST_TMPDIR/in"
	assert_eq 'asin-validate: <stdin>:1: invalid JSON at column 22: expected a string as member name' "$stderr"
}

@test "asin-validate: a duplicate key is refused; --allow-duplicate-keys checks the last" {
	# sqlite3's json_extract reads the first value, jq the last: passing
	# such a line on would hand the consumer a value never checked.
	run -1 --separate-stderr v <<<'{"price":-1,"price":5}'
	assert_eq 'asin-validate: <stdin>:1: duplicate key "price" at column 13' "$stderr"
	assert_eq "" "$output"
	if command -v sqlite3 >/dev/null; then
		run sqlite3 :memory: "select json_extract('{\"price\":-1,\"price\":5}', '\$.price')"
		assert_eq "-1" "$output" "sqlite3 reads the first"
	fi
	line='{"asin":"bad","asin":"B000000001","marketplace":"US","date":"2024-01-01"}'
	run -1 --separate-stderr v --rejects "$BATS_TEST_TMPDIR/rej" --max-rejects 0 <<<"$line"
	assert_eq "duplicate key \"asin\" at column 15" "$(jq -r .error "$BATS_TEST_TMPDIR/rej")"
	run -1 --separate-stderr v <<<'{"a":{"b":[{"x":1,"x":2}]},"asin":"B000000001","marketplace":"US","date":"2024-01-01"}'
	assert_eq 'asin-validate: <stdin>:1: duplicate key "x" at column 19' "$stderr"
	run -0 --separate-stderr v --allow-duplicate-keys <<<"$line"
	assert_eq "$line" "$output"
	run -1 --separate-stderr v --allow-duplicate-keys <<<'{"asin":"B000000001","asin":"bad","marketplace":"US","date":"2024-01-01"}'
	assert_eq 'asin-validate: <stdin>:1: .asin: pattern ^[A-Z0-9]{10}$, got "bad"' "$stderr"
}

@test "asin-validate: a line that is not an object is a located error" {
	local in want
	for in in '[1,2]' '"B000000001"' 'null' '42' 'true'; do
		case $in in
		\[*) want=array ;; \"*) want=string ;; null) want=null ;;
		42) want=number ;; true) want=boolean ;;
		esac
		run -1 --separate-stderr v <<<"$in"
		assert_eq "asin-validate: <stdin>:1: expected a JSON object, got $want" "$stderr"
	done
	run -1 --separate-stderr v <<<'{"a":1} {"b":2}'
	assert_eq 'asin-validate: <stdin>:1: invalid JSON at column 9: unexpected data after the value' "$stderr"
}

@test "asin-validate: a truncated line is a located error" {
	printf '%s\n{"asin":"B000000002","mark\n' "$GOOD" >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "$GOOD" "$output"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:2: invalid JSON at column 27: unexpected end of input" "$stderr"
	# A last line without its newline is a whole record.
	printf '%s' "$GOOD" >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "$GOOD" "$output"
}

@test "asin-validate: CRLF is accepted, blank lines skipped but counted" {
	printf '%s\r\n\r\n   \n%s\r\n{"asin":1,"marketplace":"US","date":"2024-01-01"}\r\n' "$GOOD" "$GOOD" >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/in"
	assert_eq "$GOOD"$'\n'"$GOOD" "$output"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/in:5: .asin: type string, got number 1" "$stderr"
	v "$BATS_TEST_TMPDIR/in" 2>/dev/null | od -c | grep -q '\\r' && return 1
	true
}

@test "asin-validate: NaN and huge numbers that libjq reads are not valid numbers" {
	# NaN is not JSON: the record scanner rejects it where libjq 1.6 read it.
	run -1 --separate-stderr v <<<'{"asin":"B000000001","marketplace":"US","date":"2024-01-01","price":NaN}'
	assert_eq 'asin-validate: <stdin>:1: invalid JSON at column 69: invalid literal' "$stderr"
	run -1 --separate-stderr v <<<'{"asin":"B000000001","marketplace":"US","date":"2024-01-01","bsr":1e999}'
	assert_eq 'asin-validate: <stdin>:1: .bsr: number is out of range' "$stderr"
	run -1 --separate-stderr v <<<'{"asin":"B000000001","marketplace":"US","date":"2024-01-01","price":-1e999}'
	assert_eq 'asin-validate: <stdin>:1: .price: number is out of range' "$stderr"
}

# --- files, schemas and usage ----------------------------------------

@test "asin-validate: several files are read in turn and errors name the file" {
	echo "$GOOD" >"$BATS_TEST_TMPDIR/a"
	printf '%s\n{"asin":"B000000002"}\n' "$GOOD" >"$BATS_TEST_TMPDIR/b"
	run -1 --separate-stderr v "$BATS_TEST_TMPDIR/a" - "$BATS_TEST_TMPDIR/b" <<<"$GOOD"
	assert_eq "$GOOD"$'\n'"$GOOD"$'\n'"$GOOD" "$output"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/b:2: .marketplace: required, missing" "$stderr"
}

@test "asin-validate: --schema is required; usage errors exit 2" {
	run -2 --separate-stderr asin-validate
	assert_eq "" "$output"
	assert_eq "asin-validate: option --schema is required
Try 'asin-validate --help' for more information." "$stderr"
	run -2 --separate-stderr asin-validate --schema
	[[ "$stderr" == *"Try 'asin-validate --help' for more information." ]]
}

@test "asin-validate: a schema that cannot be used is exit 1 naming the file and the place" {
	local s="$BATS_TEST_TMPDIR/s.json"
	run -1 --separate-stderr asin-validate -s "$BATS_TEST_TMPDIR/none.json" <"$EMPTY"
	assert_eq "asin-validate: $BATS_TEST_TMPDIR/none.json: No such file or directory" "$stderr"
	echo '{"type":"object",' >"$s"
	run -1 --separate-stderr asin-validate -s "$s" <"$EMPTY"
	assert_eq "asin-validate: $s: invalid JSON: Unfinished JSON term at EOF at line 2, column 0" "$stderr"
	: >"$s"
	run -1 --separate-stderr asin-validate -s "$s" <"$EMPTY"
	assert_eq "asin-validate: $s: invalid JSON: Expected JSON value" "$stderr"
	echo '{"properties":{"price":{"type":"number","multipleOf":0.01}}}' >"$s"
	run -1 --separate-stderr asin-validate -s "$s" <"$EMPTY"
	assert_eq "asin-validate: $s: .properties.price: unsupported keyword \"multipleOf\"" "$stderr"
	echo '{"properties":{"asin":{"pattern":"^(?!B0)"}}}' >"$s"
	run -1 --separate-stderr asin-validate -s "$s" <"$EMPTY"
	assert_eq "asin-validate: $s: .properties.asin.pattern: lookaround and named groups are not supported" "$stderr"
	echo '{"properties":{"d":{"format":"email"}}}' >"$s"
	run -1 --separate-stderr asin-validate -s "$s" <"$EMPTY"
	assert_eq "asin-validate: $s: .properties.d.format: unsupported format \"email\"" "$stderr"
	# A schema is checked before any input is read.
	run -1 --separate-stderr asin-validate -s "$s" "$BATS_TEST_TMPDIR/no-such-input"
	assert_eq "asin-validate: $s: .properties.d.format: unsupported format \"email\"" "$stderr"
}

@test "asin-validate: the shipped schemas load" {
	local f
	for f in "$SCHEMAS"/*.schema.json; do
		run -0 --separate-stderr asin-validate -s "$f" <"$EMPTY"
		assert_eq "" "$stderr" "$f"
	done
}

@test "asin-validate: --help names every flag" {
	run -0 --separate-stderr asin-validate --help
	[[ "${output%%$'\n'*}" == "usage: asin-validate -s SCHEMA [-a] [-hqVv] [--rejects FILE]" ]]
	[[ "$output" == *"-s, --schema FILE"* ]]
	[[ "$output" == *"-a, --all-errors"* ]]
}
