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
# Results also go to $BENCH_OUT/results.tsv, one line per measure: label,
# wall s, CPU s, peak RSS MB, then rows, bytes, rows/s, MB/s and the
# fragment name ($BENCH_NAME); ratio lines go to $BENCH_OUT/ratios.tsv.
# Knobs: RUNS (runs per measure), BENCH_TIMEOUT (seconds a run may take,
# default 1800; past it the row says TIMEOUT).
: "${TOP:?TOP must be set (tests/bench/run.sh sets it)}"
RUNS=${RUNS:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1800}
BENCH_OUT=${BENCH_OUT:-$TOP/${BUILD:-build}/bench}
BENCH_NAME=${BENCH_NAME:-$(basename "$0" .sh)}
mkdir -p "$BENCH_OUT"
PATH="$TOP/${BUILD:-build}/bin:$TOP/${BUILD:-build}/tests:$PATH"
export LC_ALL=C PATH

if [ ! -x /usr/bin/time ]; then
	echo "bench: GNU time is missing (apt-get install time)" >&2
	exit 1
fi

# Wall time from the clock in nanoseconds: GNU time's %e has only 10 ms
# steps, too coarse for the fast rows (cat of 400 MB takes ~80 ms).
now_ns() {
	date +%s%N
}

measure() {
	label=$1 rows=$2 bytes=$3
	shift 3
	tf=$(mktemp)
	: >"$tf.all"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		t0=$(now_ns)
		timeout "$BENCH_TIMEOUT" /usr/bin/time -f '%U %S %M' -o "$tf" \
		    "$@" >/dev/null 2>"$tf.err"
		rc=$?
		t1=$(now_ns)
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
		echo "$t0 $t1 $(tail -1 "$tf")" >>"$tf.all"
		i=$((i + 1))
	done
	awk -v label="$label" -v rows="$rows" -v bytes="$bytes" \
	    -v out="$BENCH_OUT/results.tsv" -v frag="$BENCH_NAME" '
	function med(a, n,    i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return a[int((n + 1) / 2)]
	}
	{
		w[NR] = ($2 - $1) / 1e9
		c[NR] = $3 + $4
		r[NR] = $5
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
	awk -F'\t' -v a="$1" -v b="$2" -v out="$BENCH_OUT/ratios.tsv" '
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
	}' "$BENCH_OUT/results.tsv"
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
		rm -f "$f" "$f.args"
		genfacts "$@" >"$f.tmp" && mv "$f.tmp" "$f" &&
		    echo "$want" >"$f.args" || {
			rm -f "$f.tmp"
			echo "bench: genfacts $* failed" >&2
			return 1
		}
	fi
	echo "$f"
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
