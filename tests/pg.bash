# pg.bash: a throw-away PostgreSQL 15 for the tests (load pg after
# helper).  pg_start starts Debian's PostgreSQL 15 in a temporary
# directory on a free 127.0.0.1 port, as the unprivileged postgres (or
# nobody) user when the tests run as root, and exports PG_URI, a URI of
# an empty database; pg_stop stops it and removes the directory.  Both
# belong in setup_file/teardown_file; pg_newdb gives a test its own
# database.  Without PostgreSQL the tests skip (make deps installs it).
# POSIX sh too: tests/bench/pg.sh sources it (with its own free_port).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_as CMD...: run CMD as the server's user.
pg_as() {
	if [ -n "${PG_USER:-}" ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

# pg_missing: why PostgreSQL cannot run here (empty: it can).
pg_missing() {
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] ||
	    { echo "PostgreSQL 15 not installed ($PG_BIN; make deps installs postgresql-15)"; return; }
	command -v psql >/dev/null 2>&1 ||
	    { echo "psql not installed (postgresql-client-15)"; return; }
	if [ "$(id -u)" -eq 0 ] && ! command -v runuser >/dev/null 2>&1; then
		echo "running as root without runuser"
	fi
}

pg_start() {
	local why port
	why=$(pg_missing)
	if [ -n "$why" ]; then
		export PG_SKIP="$why"
		return 0
	fi
	PG_USER=
	if [ "$(id -u)" -eq 0 ]; then
		PG_USER=postgres
		id postgres >/dev/null 2>&1 || PG_USER=nobody
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/asin-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	[ -z "$PG_USER" ] || chown "$PG_USER" "$PG_DIR"
	port=$(free_port)
	# Tests need no durability; PG_DURABLE=1 (the bench) keeps the
	# server's defaults.
	PG_OPTS=
	[ -n "${PG_DURABLE:-}" ] ||
	    PG_OPTS="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
	export PG_USER PG_DIR PG_PORT=$port
	if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U asin -A trust \
	    -E UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1; then
		export PG_SKIP="initdb failed: $(tail -1 "$PG_DIR/initdb.log")"
		return 0
	fi
	if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" \
	    -w -t 30 -o "-p $port -h 127.0.0.1 -k $PG_DIR $PG_OPTS" \
	    start >/dev/null 2>&1; then
		export PG_SKIP="PostgreSQL did not start: $(tail -1 "$PG_DIR/server.log" 2>/dev/null)"
		return 0
	fi
	export PG_BASE="postgresql://asin@127.0.0.1:$port"
	export PG_URI="$PG_BASE/postgres"
}

pg_stop() {
	[ -n "${PG_DIR:-}" ] || return 0
	if [ -f "$PG_DIR/data/postmaster.pid" ]; then
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop \
		    >/dev/null 2>&1 || true
	fi
	rm -rf "$PG_DIR"
}

# pg_need: skip this test without a server.
pg_need() {
	[ -z "${PG_SKIP:-}" ] || skip "$PG_SKIP"
	[ -n "${PG_URI:-}" ] || skip "PostgreSQL not started"
}

# pg_newdb NAME: create an empty database NAME; echo its URI.
pg_newdb() {
	psql -q -X -v ON_ERROR_STOP=1 "$PG_URI" -c "CREATE DATABASE $1" >/dev/null &&
	    echo "$PG_BASE/$1"
}
