#!/bin/sh
# validate.sh: asin-validate with schemas/fact.schema.json against what a
# user would otherwise run, on the same generated fact rows in one run:
#   cat, jq -c .            the I/O and libjq parse floors
#   jq select(...)          the fact schema's rules hand-written as a jq
#                           filter (no calendar check of dates)
#   python jsonschema       the reference validator (4.x, Draft 2020-12
#                           with format checks), line by line, on at most
#                           100k rows because it is slow
#   asin-validate           first violation, --all-errors, and an input
#                           with 5% bad rows going to --rejects
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1
BAD=$(bench_facts "${name}_bad5" --seed 42 --rows "$ROWS" --days 100 \
    --dup-rate 0.02 --bad-rate 0.05) || exit 1
SCHEMA=$TOP/schemas/fact.schema.json

JQ_RULES='select(
    (.asin | type == "string" and test("^[A-Z0-9]{10}$")) and
    (.marketplace | type == "string" and test("^[A-Z]{2}$")) and
    (.date | type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")) and
    (.price | . == null or (type == "number" and . > 0)) and
    (.currency | . == null or (type == "string" and test("^[A-Z]{3}$"))) and
    (.bsr | . == null or (type == "number" and . == floor and . >= 1)) and
    (.rating | . == null or (type == "number" and . >= 1 and . <= 5)) and
    (.review_count | . == null or (type == "number" and . == floor and . >= 0)) and
    (.bullet_count | . == null or (type == "number" and . == floor and . >= 0)) and
    (.image_count | . == null or (type == "number" and . == floor and . >= 0)) and
    (.has_aplus | . == null or type == "boolean") and
    (.category | . == null or (type == "string" and length >= 1)) and
    (.title | . == null or type == "string") and
    (.fetched_at | . == null or (type == "string" and
        test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"))))'

PY_VALIDATE='
import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(s)
v = cls(s, format_checker=cls.FORMAT_CHECKER)
out = sys.stdout
for line in open(sys.argv[2], encoding="utf-8"):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if v.is_valid(rec):
        out.write(line)
'

table_head "validate: $rows rows, $((bytes / 1000000)) MB ($name)"
measure "cat" "$rows" "$bytes" cat "$IN"
measure "jq -c ." "$rows" "$bytes" jq -c . "$IN"
measure "jq -c select(fact rules)" "$rows" "$bytes" jq -c "$JQ_RULES" "$IN"
measure "asin-validate" "$rows" "$bytes" \
    asin-validate --schema "$SCHEMA" "$IN"
measure "asin-validate --all-errors" "$rows" "$bytes" \
    asin-validate --all-errors --schema "$SCHEMA" "$IN"
measure "asin-validate, 5% bad, --rejects" "$rows" "$(file_bytes "$BAD")" \
    asin-validate --schema "$SCHEMA" --rejects /dev/null "$BAD"
echo
ratio "asin-validate" "jq -c ."
ratio "asin-validate" "jq -c select(fact rules)"

if peer_available python3 && python3 -c 'import jsonschema' 2>/dev/null; then
	small=$ROWS
	[ "$small" -gt 100000 ] && small=100000
	SMALL=$(bench_facts "facts_$small" --seed 42 --rows "$small" \
	    --days 100 --dup-rate 0.02) || exit 1
	srows=$(file_rows "$SMALL")
	sbytes=$(file_bytes "$SMALL")
	table_head "validate against python jsonschema: $srows rows"
	measure "python jsonschema (${srows} rows)" "$srows" "$sbytes" \
	    python3 -c "$PY_VALIDATE" "$SCHEMA" "$SMALL"
	measure "asin-validate (${srows} rows)" "$srows" "$sbytes" \
	    asin-validate --schema "$SCHEMA" "$SMALL"
	echo
	ratio "asin-validate (${srows} rows)" "python jsonschema (${srows} rows)"
	# The two validators must agree on the same input.
	if ! python3 -c "$PY_VALIDATE" "$SCHEMA" "$SMALL" |
	    cmp -s - "$SMALL"; then
		echo "bench: python jsonschema rejects rows asin-validate passes" >&2
		exit 1
	fi
else
	echo
	echo "python3 with jsonschema not installed: that peer is skipped"
fi
