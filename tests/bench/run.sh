#!/bin/sh
# run.sh: `make bench`.  Runs every tests/bench/*.sh fragment but lib.sh and
# setup-*.sh, each of which prints its own tables through lib.sh.  BENCH
# names a subset (BENCH="record zscore"); ROWS sets the data size where a
# fragment takes one.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
export TOP BUILD=${BUILD:-build}
BENCH_OUT=${BENCH_OUT:-$TOP/$BUILD/bench}
export BENCH_OUT
mkdir -p "$BENCH_OUT"
: >"$BENCH_OUT/results.tsv"
echo "asin-tools benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
for f in "$TOP"/tests/bench/*.sh; do
	n=$(basename "$f" .sh)
	case $n in lib|run|setup-*) continue ;; esac
	if [ -n "${BENCH:-}" ]; then
		case " $BENCH " in *" $n "*) ;; *) continue ;; esac
	fi
	echo
	echo "## $n"
	sh "$f" || echo "bench $n failed" >&2
done
