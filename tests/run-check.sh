#!/bin/sh
# run-check.sh: the test part of `make check` and `make sanitize`.  Runs
# every C unit test (TAP), every bats file (TAP) and mandoc -Tlint on every
# man page, then prints one line "N passed, N failed" over all of them.
# Exits 1 if anything failed or if nothing ran.
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM

for t in "$BUILD"/tests/unit/*; do
	[ -x "$t" ] || continue
	echo "# unit: $t"
	"$t" || echo "not ok - $t exited with status $?"
done >>"$log" 2>&1

for m in man/*.1 man/*.7; do
	[ -f "$m" ] || continue
	if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$out" ]; then
		echo "ok - mandoc -Tlint $m"
	else
		echo "not ok - mandoc -Tlint $m"; echo "$out" | sed 's/^/# /'
	fi
done >>"$log"

# Bats files run side by side, one per core (BATS_JOBS=1: one at a time);
# the tests inside a file keep their order, as their setup_file expects.
jobs=${BATS_JOBS:-$(nproc 2>/dev/null || echo 1)}
if [ "$jobs" -gt 1 ] && command -v parallel >/dev/null 2>&1; then
	bats --tap --jobs "$jobs" --no-parallelize-within-files \
	    tests/*.bats >>"$log" 2>&1
else
	bats --tap tests/*.bats >>"$log" 2>&1
fi

cat "$log"
# bats prints "ok N # skip" for skipped tests; count those apart.
pass=$(grep -E '^ok ' "$log" | grep -vc ' # skip')
skip=$(grep -E '^ok .* # skip' "$log" | wc -l)
fail=$(grep -cE '^not ok ' "$log")
echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
