#!/usr/bin/env bash
# faultwalk.sh NAME CMD...: the fault walk of tests/faultwalk.bats, run as
# its own bash (bats traces every command, which makes a loop of a few
# thousand runs crawl).  The WALK_* parameters come from the environment
# (functions named there exported with export -f).  A run of a
# tool is made once clean under the fault injector
# ($BUILD_DIR/tests/faultinject.so) in counting mode, then again failing
# its Nth call, for N over the calls of that run.  Every faulted run must
#   - end by exit(), status 1..125: no signal, no timeout, no sanitizer;
#   - when it exits 0: write stdout and every file byte for byte as the
#     clean run did (a fault that is retried or harmless changes nothing);
#   - when it fails: say so on stderr, last line "TOOL: ...", and leave
#     each file it writes whole (temp + rename) absent or complete, and
#     no temporary behind; with WALK_RERUN set, a clean rerun in the same
#     place must then give the clean run's result.
# FAULT_WALK=full (make hardening) walks every call; the short form (make
# check) walks every I/O call and FAULT_CAP calls of the malloc family,
# evenly spaced over the run.  Cases tried per tool are appended to
# $BUILD_DIR/hardening/faultwalk.txt.

BUILD_DIR=${BUILD_DIR:?}
BATS_TEST_TMPDIR=${BATS_TEST_TMPDIR:?}
FAULT_SO="$BUILD_DIR/tests/faultinject.so"
FAULT_WALK=${FAULT_WALK:-short}
FAULT_CAP=${FAULT_CAP:-12}
FAULT_IO=read,write,writev,pread,pwrite,fsync,fdatasync,ftruncate,rename,renameat,open,openat,close,mmap,fread,fwrite,fflush,fclose,recv,send
FAULT_MEM=malloc,calloc,realloc
# Short writes: the Nth write writes half its bytes and says so.
FAULT_SHORTW=write,writev,pwrite

WALK_PREP=${WALK_PREP:-:}
WALK_FILES=${WALK_FILES:-}
WALK_NORM=${WALK_NORM:-cat}
WALK_STATE=${WALK_STATE:-}
WALK_STDIN=${WALK_STDIN:-/dev/null}
WALK_RERUN=${WALK_RERUN:-}
WALK_TIMEOUT=${WALK_TIMEOUT:-30}

# walk_run DIR CALLS N CMD...: one run in a fresh DIR under the shim
# (N=0 counts); leaves out, err, status and report in DIR.
walk_run() {
	local dir=$1 calls=$2 n=$3 st=0
	shift 3
	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && $WALK_PREP) || return 1
	local short=0
	[ "$calls" = "$FAULT_SHORTW" ] && short=1
	(cd "$dir" && env LD_PRELOAD="$FAULT_SO" FAULT_CALL="$calls" FAULT_SHORT=$short \
	    FAULT_N="$n" FAULT_REPORT=report FAULT_LOG=faults FAULT_PROG="$WALK_TOOL" \
	    timeout -s KILL "$WALK_TIMEOUT" "$@" <"$WALK_STDIN" >out 2>err) || st=$?
	echo "$st" >"$dir/status"
}

# walk_result DIR: stdout (normalised), each whole file and the state.
walk_result() {
	local dir=$1 f
	(
		cd "$dir" || exit 1
		$WALK_NORM <out
		for f in $WALK_FILES; do
			printf '== %s\n' "$f"
			if [ -e "$f" ]; then cat "$f"; else echo '(absent)'; fi
		done
		if [ -n "$WALK_STATE" ]; then
			echo '== state'
			$WALK_STATE
		fi
	)
}

# walk_case WORK CALLS N CMD...: one faulted case; prints a reason and
# returns 1 if it broke a rule.
walk_case() {
	local work=$1 calls=$2 n=$3 dir st f last
	shift 3
	local cls=mem
	[ "$calls" = "$FAULT_IO" ] && cls=io
	[ "$calls" = "$FAULT_SHORTW" ] && cls=short
	dir="$work/run"
	walk_run "$dir" "$calls" "$n" "$@" || { echo "N=$n: prep failed"; return 1; }
	st=$(cat "$dir/status")
	if [ "$st" -ge 126 ] || grep -q 'Sanitizer\|runtime error:\|Segmentation\|core dumped' "$dir/err"; then
		echo "$cls N=$n: status $st ($(cat "$dir/faults" 2>/dev/null))"
		sed 's/^/  /' "$dir/err"
		return 1
	fi
	if [ "$st" -eq 0 ]; then
		walk_result "$dir" >"$work/got"
		if ! cmp -s "$work/clean" "$work/got"; then
			echo "$cls N=$n: exit 0 but a different result ($(cat "$dir/faults" 2>/dev/null))"
			diff "$work/clean" "$work/got" | head -10
			return 1
		fi
		return 0
	fi
	last=$(tail -n 1 "$dir/err")
	case $last in
	"$WALK_TOOL: "?*) ;;
	*)
		echo "$cls N=$n: exit $st without a message ($(cat "$dir/faults" 2>/dev/null)): $last"
		return 1 ;;
	esac
	for f in $WALK_FILES; do
		[ -e "$dir/$f" ] || continue
		cmp -s "$dir/$f" "$work/clean-files/$f" && continue
		cmp -s "$dir/$f" "$work/prep-files/$f" 2>/dev/null && continue
		# --stats is written on every exit: whole, with other counts.
		if [[ $f == st.json ]] && [ "$(head -c 1 "$dir/$f")" = "{" ] &&
		    [ "$(tail -c 2 "$dir/$f" | od -An -c | tr -d ' ')" = '}\n' ]; then
			continue
		fi
		echo "$cls N=$n: $f half written after: $last"
		return 1
	done
	if [ -n "$(find "$dir" -name '*.tmp.*' -o -name '*.tmp' | head -1)" ]; then
		echo "$cls N=$n: a temporary left behind after: $last: $(find "$dir" -name '*.tmp*')"
		return 1
	fi
	if [ -n "$WALK_RERUN" ]; then
		# The rerun keeps what the failed run left: no prep.
		(cd "$dir" && timeout -s KILL "$WALK_TIMEOUT" "$@" <"$WALK_STDIN" >out 2>err) || {
			echo "$cls N=$n: the rerun after '$last' failed: $(cat "$dir/err")"
			return 1
		}
		# With a state, the state; else the whole result.
		if [ -n "$WALK_STATE" ]; then
			(cd "$dir" && $WALK_STATE) >"$work/got"
		else
			walk_result "$dir" >"$work/got"
		fi
		if ! cmp -s "$work/clean-rerun" "$work/got"; then
			echo "$cls N=$n: the rerun after '$last' differs from a clean run"
			diff "$work/clean" "$work/got" | head -10
			return 1
		fi
	fi
	return 0
}

# walk_ns COUNT: the N to try for a class of COUNT calls.
walk_ns() {
	local c=$1 cap=$2 i
	# The full walk is every call, or FAULT_FULL_CAP of them if set.
	[ "$FAULT_WALK" = full ] && cap=${FAULT_FULL_CAP:-$c}
	if [ "$c" -le "$cap" ]; then
		seq 1 "$c"
	else
		for ((i = 0; i < cap; i++)); do echo $((1 + i * c / cap)); done
	fi
}

# walk NAME CMD...: the walk of one run of a tool (named NAME in the
# record), with the WALK_* parameters set by the caller.
walk() {
	local name=$1 work="$BATS_TEST_TMPDIR/walk" calls count n bad=0 tried=0 failed=0 f cls line
	shift
	WALK_TOOL=$1
	rm -rf "$work"
	mkdir -p "$work"
	# The clean run, counted for each class.
	walk_run "$work/c0" "$FAULT_IO" 0 "$@"
	[ "$(cat "$work/c0/status")" -eq 0 ] || {
		echo "the clean run failed:"; cat "$work/c0/err"; return 1
	}
	walk_result "$work/c0" >"$work/clean"
	if [ -n "$WALK_STATE" ]; then
		(cd "$work/c0" && $WALK_STATE) >"$work/clean-rerun"
	else
		cp "$work/clean" "$work/clean-rerun"
	fi
	# The files as the clean run left them, and as the prep made them.
	mkdir -p "$work/p0"
	(cd "$work/p0" && $WALK_PREP)
	for f in $WALK_FILES; do
		mkdir -p "$work/clean-files/$(dirname "$f")" "$work/prep-files/$(dirname "$f")"
		cp "$work/c0/$f" "$work/clean-files/$f"
		[ -e "$work/p0/$f" ] && cp "$work/p0/$f" "$work/prep-files/$f"
	done
	line="$name"
	for cls in io short mem; do
		case $cls in
		io) calls=$FAULT_IO ;;
		short) calls=$FAULT_SHORTW ;;
		mem) calls=$FAULT_MEM ;;
		esac
		walk_run "$work/c1" "$calls" 0 "$@"
		count=$(awk '{ print $2 }' "$work/c1/report")
		local cap=$FAULT_CAP
		[ $cls != mem ] && cap=${FAULT_IO_CAP:-400}
		for n in $(walk_ns "$count" "$cap"); do
			tried=$((tried + 1))
			walk_case "$work" "$calls" "$n" "$@" >"$work/why" || {
				bad=$((bad + 1))
				cat "$work/why"
				[ "$bad" -ge 5 ] && break 2
			}
			[ "$(cat "$work/run/status")" -ne 0 ] && failed=$((failed + 1))
		done
		line="$line $cls $(walk_ns "$count" "$cap" | wc -l)/$count"
	done
	mkdir -p "$BUILD_DIR/hardening"
	echo "$line: $tried cases, $failed failed cleanly, $bad broke a rule ($FAULT_WALK)" \
	    >>"$BUILD_DIR/hardening/faultwalk.txt"
	[ "$bad" -eq 0 ]
}

walk "$@"
