# helper.bash: loaded by every bats file (load helper).  Puts the freshly
# built tools first in PATH and gives golden-file and exact-output checks.
bats_require_minimum_version 1.5.0

TOP="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
BUILD_DIR="$TOP/${BUILD:-build}"
PATH="$BUILD_DIR/bin:$BUILD_DIR/tests:$PATH"
FIXTURES="$TOP/tests/fixtures"
SCHEMAS="$TOP/schemas"
# Data under ../shared/data is optional: tests using it skip without it.
SHARED_DATA="${ASIN_SHARED_DATA:-$TOP/../shared/data}"
export LC_ALL=C TOP BUILD_DIR FIXTURES SCHEMAS SHARED_DATA
unset ASIN_LOG

# assert_eq EXPECTED ACTUAL [WHAT]: exact string equality with a diff.
assert_eq() {
	if [ "$1" != "$2" ]; then
		printf 'expected %s:\n%s\n--- got:\n%s\n' "${3:-output}" "$1" "$2" >&2
		diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2 || true
		return 1
	fi
}

# assert_status N: the last `run` exited with N.
assert_status() {
	if [ "$status" -ne "$1" ]; then
		printf 'expected exit %s, got %s\nstdout: %s\nstderr: %s\n' \
		    "$1" "$status" "$output" "${stderr:-}" >&2
		return 1
	fi
}

# golden_files BASE OUT ERR STATUS: compare a run's stdout file OUT, its
# stderr file ERR and its exit STATUS with BASE.out, BASE.err (none: stderr
# must be empty) and BASE.status (none: 0).  UPDATE_GOLDEN=1 rewrites the
# BASE files instead; review the change with git diff.
golden_files() {
	local base=$1 out=$2 err=$3 st=$4 want=0
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$out" "$base.out"
		if [ -s "$err" ]; then cp "$err" "$base.err"; else rm -f "$base.err"; fi
		if [ "$st" -ne 0 ]; then echo "$st" >"$base.status"; else rm -f "$base.status"; fi
		return 0
	fi
	[ -f "$base.status" ] && want=$(cat "$base.status")
	diff -u "$base.out" "$out" >&2 || return 1
	if [ -f "$base.err" ]; then diff -u "$base.err" "$err" >&2 || return 1
	else [ ! -s "$err" ] || { echo "unexpected stderr:" >&2; cat "$err" >&2; return 1; }
	fi
	[ "$st" -eq "$want" ] || { echo "exit $st, want $want" >&2; return 1; }
}

# golden NAME CMD...: run CMD with tests/fixtures/NAME.in on stdin and
# check it with golden_files against tests/fixtures/NAME.
golden() {
	local name="$1" st=0
	shift
	"$@" <"$FIXTURES/$name.in" >"$BATS_TEST_TMPDIR/golden.out" \
	    2>"$BATS_TEST_TMPDIR/golden.err" || st=$?
	golden_files "$FIXTURES/$name" "$BATS_TEST_TMPDIR/golden.out" \
	    "$BATS_TEST_TMPDIR/golden.err" "$st"
}

# need_shared DIR: skip unless ../shared/data/DIR exists.
need_shared() {
	[ -d "$SHARED_DATA/$1" ] || skip "shared data $1 absent ($SHARED_DATA/$1)"
}

# free_port: a TCP port the OS considers free on 127.0.0.1 right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $((20000 + RANDOM % 20000))
}
