#!/bin/sh
# install-deps.sh: `make deps`.  Installs from Debian exactly the packages
# that are missing; a no-op (no apt-get at all) when everything is there.
pkgs="gcc make pkg-config libjq-dev jq libcurl4-openssl-dev libsqlite3-dev
sqlite3 bats bats-assert bats-support mandoc python3 ca-certificates
python3-scipy python3-statsmodels curl bsdextrautils
python3-sklearn python3-xgboost parallel openssh-server openssh-client rsync
libpq-dev postgresql-15 postgresql-client-15 perl"
missing=
for p in $pkgs; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$s" = installed ] || missing="$missing $p"
done
# Optional: chromium (about 350 MB) for asin-report's browser tests, which
# skip without it; ASIN_NO_BROWSER=1 leaves it out, and a failed install
# does not fail make deps.
if [ -z "${ASIN_NO_BROWSER:-}" ] && [ "$(id -u)" -eq 0 ] &&
    ! command -v chromium >/dev/null 2>&1; then
	echo "make deps: installing chromium for the browser tests" >&2
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends chromium >/dev/null 2>&1 ||
	  { apt-get update -q >/dev/null 2>&1 &&
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends chromium >/dev/null 2>&1; }; } ||
	    echo "make deps: no chromium; the browser tests will skip" >&2
fi
# Optional: docker-compose, for `compose config` of deploy/'s stacks
# (tests/deploy.bats skips without any compose); a failure is not fatal.
if [ "$(id -u)" -eq 0 ] && ! command -v docker-compose >/dev/null 2>&1 &&
    ! docker compose version >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends docker-compose >/dev/null 2>&1 ||
	    echo "make deps: no docker-compose; the compose tests will skip" >&2
fi
# Optional: redis-server and redis-tools, for the central token bucket
# test of asin-fetch --acquire-cmd (tests/asin-fetch-quota.bats skips
# without them); a failure is not fatal.
if [ "$(id -u)" -eq 0 ] && ! command -v redis-server >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends redis-server redis-tools >/dev/null 2>&1 ||
	    echo "make deps: no redis-server; the Redis quota test will skip" >&2
fi
# Optional: clang and its libFuzzer runtime, for make fuzz and the seed
# runs of tests/fuzz.bats (which skip without them); not fatal either.
if [ "$(id -u)" -eq 0 ] && { ! command -v clang >/dev/null 2>&1 ||
    ! dpkg-query -W -f='${db:Status-Status}' libclang-rt-14-dev 2>/dev/null |
    grep -q '^installed$'; }; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends clang libclang-rt-14-dev >/dev/null 2>&1 ||
	    echo "make deps: no clang/libFuzzer; the fuzz tests will skip" >&2
fi
[ -z "$missing" ] && exit 0
echo "make deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "make deps: not root; run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q && apt-get install -y -q --no-install-recommends $missing
