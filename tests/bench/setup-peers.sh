#!/bin/sh
# setup-peers.sh: install the peers the benchmarks compare against, when
# missing.  DuckDB comes from the npm package @duckdb/node-api (its
# platform package ships libduckdb) into $BUILD/peers; pandas from Debian
# (python3-pandas, for /usr/bin/python3).  Idempotent; never run by
# `make check`.  Prints nothing when everything is already there.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
PEERS=${PEERS_DIR:-$TOP/${BUILD:-build}/peers}
DUCKDB_VERSION=${DUCKDB_VERSION:-1.5.6-r.1}

mkdir -p "$PEERS"
if [ ! -d "$PEERS/node_modules/@duckdb/node-api" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		echo "setup-peers: npm missing; install nodejs and npm" >&2
		exit 1
	fi
	(cd "$PEERS" &&
	    { [ -f package.json ] || npm init -y >/dev/null; } &&
	    npm install --no-audit --no-fund --silent \
	        "@duckdb/node-api@$DUCKDB_VERSION" >/dev/null)
fi

if ! /usr/bin/python3 -c 'import pandas' 2>/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    python3-pandas python3-numpy >/dev/null
	else
		echo "setup-peers: pandas missing; apt-get install python3-pandas" >&2
		exit 1
	fi
fi
command -v /usr/bin/time >/dev/null 2>&1 || {
	echo "setup-peers: GNU time missing; apt-get install time" >&2
	exit 1
}
