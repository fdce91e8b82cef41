#!/bin/sh
# run.sh: `make bench`.  Runs every tests/bench/*.sh fragment but lib.sh,
# run.sh and setup-*.sh, each of which prints its own tables through
# lib.sh, then a summary of every ratio.  BENCH names a subset
# (BENCH="record zscore"); ROWS sets the data size where a fragment takes
# one; RUNS the runs per measurement.  Output is Markdown on stdout;
# results stay in $BENCH_OUT/runs/<time>-<pid>/ (results.tsv and
# ratios.tsv), the latest run's also in $BENCH_OUT.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
BENCH_OUT=${BENCH_OUT:-$TOP/$BUILD/bench}
export TOP BUILD BENCH_OUT
BENCH_RESULTS=$BENCH_OUT/runs/$(date -u +%Y%m%dT%H%M%SZ)-$$
export BENCH_RESULTS
. "$TOP/tests/bench/lib.sh"
: >"$BENCH_RESULTS/results.tsv"
: >"$BENCH_RESULTS/ratios.tsv"

echo "# asin-tools benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
machine_line
status=0
for f in "$TOP"/tests/bench/*.sh; do
	n=$(basename "$f" .sh)
	case $n in lib|run|setup-*) continue ;; esac
	if [ -n "${BENCH:-}" ]; then
		case " $BENCH " in *" $n "*) ;; *) continue ;; esac
	fi
	echo
	echo "## $n"
	if ! BENCH_NAME=$n sh "$f"; then
		echo "bench $n failed" >&2
		status=1
	fi
done

if [ -s "$BENCH_RESULTS/ratios.tsv" ]; then
	echo
	echo "## Summary: ratios (time of B / time of A)"
	echo
	echo "| A | B | wall | CPU |"
	echo "|---|---|---:|---:|"
	awk -F'\t' '{ printf "| %s | %s | %.2fx | %s |\n", $1, $2, $3, $4 }' \
	    "$BENCH_RESULTS/ratios.tsv"
fi
cp "$BENCH_RESULTS/results.tsv" "$BENCH_RESULTS/ratios.tsv" "$BENCH_OUT/"
exit $status
