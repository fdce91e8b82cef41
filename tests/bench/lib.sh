# lib.sh: sourced by every tests/bench/*.sh fragment.  One measure line per
# command: the median of $RUNS runs (default 3) of wall time, CPU time and
# peak RSS (GNU time), as a row of the table that `make bench` prints.
#
#   measure LABEL ROWS BYTES CMD...   run CMD (a shell string is fine:
#                                     measure x 1 1 sh -c '... | ...')
#   ratio LABEL_A LABEL_B             print "LABEL_A is N.NNx faster than B"
#
# Results also go to $BENCH_OUT/results.tsv (label, wall, cpu, rss_mb).
RUNS=${RUNS:-3}
BENCH_OUT=${BENCH_OUT:-$TOP/build/bench}
mkdir -p "$BENCH_OUT"
: "${TOP:?TOP must be set by tests/bench/run.sh}"
PATH="$TOP/${BUILD:-build}/bin:$TOP/${BUILD:-build}/tests:$PATH"
export LC_ALL=C

measure() {
	label=$1 rows=$2 bytes=$3
	shift 3
	tf=$(mktemp)
	: >"$tf.all"
	i=0
	while [ $i -lt "$RUNS" ]; do
		if ! /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >/dev/null 2>"$tf.err"; then
			echo "bench: $label failed:" >&2
			tail -5 "$tf.err" >&2
			rm -f "$tf" "$tf.all" "$tf.err"
			return 1
		fi
		tail -1 "$tf" >>"$tf.all"
		i=$((i + 1))
	done
	med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
	wall=$(awk '{ print $1 }' "$tf.all" | med)
	cpu=$(awk '{ print $2 + $3 }' "$tf.all" | med)
	rss=$(awk '{ print $4 }' "$tf.all" | med)
	awk -v label="$label" -v rows="$rows" -v bytes="$bytes" -v wall="$wall" \
	    -v cpu="$cpu" -v rss="$rss" -v out="$BENCH_OUT/results.tsv" 'BEGIN {
		if (wall <= 0) wall = 0.001
		printf "| %-46s | %8.2f | %8.2f | %10.0f | %8.1f | %8.0f |\n",
		    label, wall, cpu, rows / wall, bytes / wall / 1e6, rss / 1024
		printf "%s\t%.3f\t%.3f\t%.1f\n", label, wall, cpu, rss / 1024 >> out
	}'
	rm -f "$tf" "$tf.all" "$tf.err"
}

table_head() {
	echo
	echo "### $1"
	echo "| command | wall s | CPU s | rows/s | MB/s | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|"
}

ratio() {
	awk -F'\t' -v a="$1" -v b="$2" '
	$1 == a { ta = $2 } $1 == b { tb = $2 }
	END { if (ta > 0 && tb > 0) printf "ratio: %s is %.2fx faster than %s\n", a, tb / ta, b }' \
	    "$BENCH_OUT/results.tsv"
}
