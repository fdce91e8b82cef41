#!/bin/sh
# report.sh: asin-report (issue 18) on CANDS candidates (default 10,000)
# with 120-day BSR histories from generated fact rows: the time to write
# the page, its size, and the time headless chromium takes to load it
# (Navigation Timing: navigation start to the load event, and to
# DOMContentLoaded), median of $RUNS loads, beside the same browser loading
# the page of the 6-candidate test fixture in the same run.  No peer
# writes this page; the parse floor of the same facts (cat) is the row to
# compare the writing with.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

CANDS=${CANDS:-10000}
FACTS=$(bench_facts "report_facts_$CANDS" --seed 42 \
    --asins $((CANDS * 106 / 100)) --days 120 --dup-rate 0) || exit 1
CAND=$BENCH_OUT/report_cand_$CANDS.ndjson
last=$(tail -n 1 "$FACTS" | sed 's/.*"date":"\([0-9-]*\)".*/\1/')
grep "\"date\":\"$last\"" "$FACTS" | head -n "$CANDS" |
    asin-zscore --min-group 1 --explain \
    -f -log:bsr,log1p:review_count,-price,rating >"$CAND.tmp" &&
    mv "$CAND.tmp" "$CAND" || exit 1
rows=$(($(file_rows "$FACTS") + $(file_rows "$CAND")))
bytes=$(($(file_bytes "$FACTS") + $(file_bytes "$CAND")))
PAGE=$BENCH_OUT/report_$CANDS.html

machine_line
table_head "asin-report: $(file_rows "$CAND") candidates, 120-day histories ($(file_rows "$FACTS") fact rows)"
measure "cat (read floor)" "$rows" "$bytes" cat "$FACTS" "$CAND"
measure "asin-report --history" "$rows" "$bytes" \
    asin-report --history "$FACTS" "$CAND"
asin-report --history "$FACTS" "$CAND" -o "$PAGE" || exit 1
echo "page: $(file_bytes "$PAGE") bytes ($(file_bytes "$PAGE" |
    awk '{ printf "%.2f MB", $1 / 1e6 }'))"

CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	echo "browser load: skipped (no chromium)"
	exit 0
fi
# load_ms PAGE: "load dcl" in ms for one headless load of PAGE.
load_ms() {
	sed 's|</body>|<script>addEventListener("load",function(){var t=performance.timing;document.documentElement.setAttribute("data-ms",(t.loadEventStart-t.navigationStart)+" "+(t.domContentLoadedEventEnd-t.navigationStart));});</script></body>|' \
	    "$1" >"$1.timed.html"
	timeout 300 "$CHROME" --headless --no-sandbox --disable-gpu \
	    --no-first-run --user-data-dir="$BENCH_OUT/report-profile" \
	    --proxy-server=127.0.0.1:9 --dump-dom "file://$1.timed.html" \
	    2>/dev/null | sed -n 's/.*data-ms="\([0-9]*\) \([0-9]*\)".*/\1 \2/p'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
SMALL=$BENCH_OUT/report_small.html
asin-report --days 10 --history "$TOP/tests/fixtures/asin-report/history.ndjson" \
    "$TOP/tests/fixtures/asin-report/candidates.ndjson" -o "$SMALL" || exit 1
for p in "$PAGE" "$SMALL"; do
	: >"$BENCH_OUT/report-loads"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		load_ms "$p" >>"$BENCH_OUT/report-loads"
		i=$((i + 1))
	done
	echo "browser load of $(basename "$p"): load event" \
	    "$(cut -d' ' -f1 "$BENCH_OUT/report-loads" | median) ms," \
	    "DOMContentLoaded $(cut -d' ' -f2 "$BENCH_OUT/report-loads" | median) ms" \
	    "(median of $RUNS; load $(cut -d' ' -f1 /proc/loadavg))"
done
