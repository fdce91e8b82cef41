#!/bin/sh
# uplift.sh: asin-uplift --unit asin on 10M per-ASIN rows (ROWS to change)
# against the pandas user's way in the same run: chunked read_json,
# groupby sums of the per-unit moments, delta method and statsmodels z
# (tests/uplift/peer_pandas.py).  Also asin-uplift on variant aggregates
# and the cat floor.  The pandas peer runs once (RUNS=1): it takes minutes.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

ROWS=${ROWS:-10000000}
IN=$BENCH_OUT/uplift_$ROWS.ndjson
gen=$(command -v uplift-gen) || { echo "bench: uplift-gen not built (make unit)" >&2; exit 1; }
want="$(cksum <"$gen" | cut -d' ' -f1) -n $ROWS -k 3 --seed 42"
if [ ! -s "$IN" ] || [ "$(cat "$IN.args" 2>/dev/null)" != "$want" ]; then
	echo "bench: generating $IN" >&2
	rm -f "$IN" "$IN.args"
	uplift-gen -n "$ROWS" -k 3 --seed 42 >"$IN.tmp" && mv "$IN.tmp" "$IN" &&
	    echo "$want" >"$IN.args" || { rm -f "$IN.tmp"; exit 1; }
fi
rows=$(file_rows "$IN")
bytes=$(file_bytes "$IN")

table_head "uplift: $rows per-ASIN rows, 3 variants, $((bytes / 1000000)) MB"
measure "cat" "$rows" "$bytes" cat "$IN"
measure "asin-uplift --unit asin" "$rows" "$bytes" asin-uplift --unit asin "$IN"
measure "asin-uplift --unit asin --by category --t-test" "$rows" "$bytes" \
    asin-uplift --unit asin --by category --t-test "$IN"
if /usr/bin/python3 -c 'import pandas, statsmodels, scipy' 2>/dev/null; then
	runs=$RUNS
	RUNS=1
	measure "pandas groupby + statsmodels (chunked)" "$rows" "$bytes" \
	    /usr/bin/python3 "$TOP/tests/uplift/peer_pandas.py" "$IN"
	RUNS=$runs
	ratio "asin-uplift --unit asin" "pandas groupby + statsmodels (chunked)"
else
	printf '| %-46s | skipped: /usr/bin/python3 lacks pandas or statsmodels |\n' pandas
fi
