# lib.sh: sourced by every tests/bench/*.sh fragment (run.sh sets TOP and
# BUILD; a fragment run alone sets TOP itself).  One measure line per
# command: the median of $RUNS runs (default 3) of wall time, CPU time
# (user + sys, children included) and peak RSS (GNU time %M: the largest
# single process, not the sum over a pipeline), as a row of the table that
# `make bench` prints.
#
#   table_head TITLE                  start a table
#   measure LABEL ROWS BYTES CMD...   run CMD with stdout to /dev/null (a
#                                     shell string is fine:
#                                     measure x 1 1 sh -c '... | ...')
#   ratio LABEL_A LABEL_B             print "ratio: A is N.NNx faster than B
#                                     (CPU time: M.MMx)" (or slower), from
#                                     this run's results
#   peer_available CMD...             0 if every CMD is installed; else a
#                                     "skipped" row and 1
#   bench_facts NAME GENFACTS-ARGS... print the path of $BENCH_OUT/NAME.ndjson,
#                                     generating it with genfacts unless it
#                                     is there from the same arguments
#   file_rows FILE, file_bytes FILE   line count and size of FILE
#   machine_line                      one line: CPU, cores, memory, load,
#                                     versions
#
# Results also go to $BENCH_RESULTS/results.tsv, one line per measure:
# label, wall s, CPU s, peak RSS MB, then rows, bytes, rows/s, MB/s and
# the fragment name ($BENCH_NAME); ratio lines go to ratios.tsv beside it.
# run.sh gives each run its own BENCH_RESULTS folder, so runs started at
# the same time (by several people on one checkout) keep apart; data in
# $BENCH_OUT is shared and replaced atomically.
# Knobs: RUNS (runs per measure), BENCH_TIMEOUT (seconds a run may take,
# default 1800; past it the row says TIMEOUT).
: "${TOP:?TOP must be set (tests/bench/run.sh sets it)}"
RUNS=${RUNS:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
BENCH_OUT=${BENCH_OUT:-$TOP/${BUILD:-build}/bench}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_OUT}
BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}
mkdir -p "$BENCH_OUT" "$BENCH_RESULTS"
PATH="$TOP/${BUILD:-build}/bin:$TOP/${BUILD:-build}/tests:$PATH"
export LC_ALL=C PATH

# The timer: build/tests/benchtime (nanosecond wall clock, microsecond
# CPU times, built by `make unit`), else GNU time, whose 10 ms steps are
# too coarse for the fast rows (cat of 400 MB takes ~40 ms).  Either way
# one line "wall user sys maxrss_kb" per run.
# timeout(1) signals its whole process group, so a pipeline under sh -c
# dies with it.
if command -v benchtime >/dev/null 2>&1; then
	BENCH_TIMER=benchtime
elif [ -x /usr/bin/time ]; then
	BENCH_TIMER=gnu
else
	echo "bench: no timer: run make unit (benchtime) or install GNU time" >&2
	exit 1
fi

timed() {
	out=$1
	shift
	if [ "$BENCH_TIMER" = benchtime ]; then
		timeout "$BENCH_TIMEOUT" benchtime -o "$out" "$@"
	else
		timeout "$BENCH_TIMEOUT" /usr/bin/time -f '%e %U %S %M' \
		    -o "$out" "$@"
	fi
}

measure() {
	label=$1 rows=$2 bytes=$3
	shift 3
	tf=$(mktemp)
	: >"$tf.all"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		timed "$tf" "$@" >/dev/null 2>"$tf.err"
		rc=$?
		if [ "$rc" -eq 124 ]; then
			printf '| %-46s | TIMEOUT after %s s |\n' "$label" \
			    "$BENCH_TIMEOUT"
			rm -f "$tf" "$tf.all" "$tf.err"
			return 1
		fi
		if [ "$rc" -ne 0 ]; then
			echo "bench: $label failed (exit $rc):" >&2
			grep -v '^Command exited with' "$tf.err" | tail -5 >&2
			printf '| %-46s | FAILED (exit %s) |\n' "$label" "$rc"
			rm -f "$tf" "$tf.all" "$tf.err"
			return 1
		fi
		tail -1 "$tf" >>"$tf.all"
		i=$((i + 1))
	done
	awk -v label="$label" -v rows="$rows" -v bytes="$bytes" \
	    -v out="$BENCH_RESULTS/results.tsv" -v frag="$BENCH_NAME" '
	function med(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return a[int((n + 1) / 2)]
	}
	{
		w[NR] = $1
		c[NR] = $2 + $3
		r[NR] = $4
	}
	END {
		wall = med(w, NR); cpu = med(c, NR); rss = med(r, NR) / 1024
		if (wall <= 0)
			wall = 0.001
		printf "| %-46s | %8.3f | %8.2f | %10.0f | %8.1f | %8.0f |\n",
		    label, wall, cpu, rows / wall, bytes / wall / 1e6, rss
		printf "%s\t%.3f\t%.3f\t%.1f\t%d\t%d\t%.0f\t%.1f\t%s\n", label,
		    wall, cpu, rss, rows, bytes, rows / wall,
		    bytes / wall / 1e6, frag >> out
	}' "$tf.all"
	rm -f "$tf" "$tf.all" "$tf.err"
}

table_head() {
	echo
	echo "### $1"
	echo
	busy_note
	echo "| command | wall s | CPU s | rows/s | MB/s | peak RSS MB |"
	echo "|---|---:|---:|---:|---:|---:|"
}

# The last result of each label wins, so a label measured again by a
# later fragment is compared with that fragment's own peers.  The ratio is
# of wall times; the CPU-time ratio follows, steadier on a busy machine.
ratio() {
	awk -F'\t' -v a="$1" -v b="$2" -v out="$BENCH_RESULTS/ratios.tsv" '
	$1 == a { ta = $2; ca = $3 } $1 == b { tb = $2; cb = $3 }
	END {
		if (ta > 0 && tb > 0) {
			cr = ca > 0 && cb > 0 ? sprintf("%.2fx", cb / ca) : "n/a"
			if (tb >= ta)
				printf "ratio: %s is %.2fx faster than %s " \
				    "(CPU time: %s)\n", a, tb / ta, b, cr
			else
				printf "ratio: %s is %.2fx slower than %s " \
				    "(CPU time: %s)\n", a, ta / tb, b, cr
			printf "%s\t%s\t%.3f\t%s\n", a, b, tb / ta, cr >> out
		} else
			printf "ratio: %s vs %s: not measured\n", a, b
	}' "$BENCH_RESULTS/results.tsv"
}

# Other jobs on the machine stretch wall times, not CPU times: say so
# when the load average is above the core count.
busy_note() {
	awk -v cores="$(nproc)" '{
		if ($1 > cores)
			printf "(busy machine: load average %s on %d cores; wall " \
			    "times include waiting, compare CPU s)\n\n", $1, cores
	}' /proc/loadavg 2>/dev/null
}

peer_available() {
	for p in "$@"; do
		if ! command -v "$p" >/dev/null 2>&1; then
			printf '| %-46s | skipped: %s not installed |\n' "$p" "$p"
			return 1
		fi
	done
	return 0
}

file_rows() {
	wc -l <"$1" | tr -d ' '
}

file_bytes() {
	wc -c <"$1" | tr -d ' '
}

# Data is generated once and kept under $BENCH_OUT; NAME.args records the
# arguments and a checksum of the genfacts binary, so other arguments or
# a changed generator regenerate it (1M rows take about 1.5 s).
bench_facts() {
	name=$1
	shift
	f=$BENCH_OUT/$name.ndjson
	gf=$(command -v genfacts) || {
		echo "bench: genfacts not built (make unit)" >&2
		return 1
	}
	want="$(cksum <"$gf" | cut -d' ' -f1) $*"
	if [ ! -s "$f" ] || [ "$(cat "$f.args" 2>/dev/null)" != "$want" ]; then
		echo "bench: generating $f (genfacts $*)" >&2
		# A temp file and rename: a run reading the old file meanwhile
		# never sees half of the new one.
		if ! genfacts "$@" >"$f.tmp.$$"; then
			rm -f "$f.tmp.$$"
			echo "bench: genfacts $* failed" >&2
			return 1
		fi
		mv -f "$f.tmp.$$" "$f"
		echo "$want" >"$f.args.tmp.$$" && mv -f "$f.args.tmp.$$" "$f.args"
	fi
	echo "$f"
}

# facts_input [nodup]: the shared fact-row input of the fragments, $ROWS
# rows (default 1M), seed 42, 100 days, 2% re-fetches (none with nodup:
# data that stands for deduped facts).  Generated once and reused; sets
# IN, name (facts_1m, facts_1m_nodup, facts_N...), rows and bytes.
facts_input() {
	ROWS=${ROWS:-1000000}
	case $ROWS in 1000000) name=facts_1m ;; *) name=facts_$ROWS ;; esac
	dup=0.02
	if [ "${1:-}" = nodup ]; then
		name=${name}_nodup
		dup=0
	fi
	IN=$(bench_facts "$name" --seed 42 --rows "$ROWS" --days 100 \
	    --dup-rate "$dup") || return 1
	rows=$(file_rows "$IN")
	bytes=$(file_bytes "$IN")
}

machine_line() {
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null |
	    head -1)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' \
	    /proc/meminfo 2>/dev/null)
	jqv=$(jq --version 2>/dev/null)
	ccv=$(${CC:-cc} --version 2>/dev/null | head -1)
	load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
	echo "machine: ${cpu:-unknown CPU}, $(nproc) cores, ${mem:-? GiB}," \
	    "load ${load:-?}; ${jqv:-no jq}; ${ccv:-no cc}; RUNS=$RUNS"
}
