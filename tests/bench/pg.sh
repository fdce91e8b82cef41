#!/bin/sh
# pg.sh: asin-db on PostgreSQL (issue 17) against psql's \copy, in the
# same run, on a throw-away PostgreSQL 15 (tests/pg.bash, the server's
# default durability: fsync on).  On ROWS generated fact rows without
# re-fetches (default 1M):
#   - load into an empty facts table: asin-db load (NDJSON, types
#     checked, every row new: COPY straight into the table, a COMMIT
#     per 50000 rows) against psql \copy of the same rows as CSV
#     (every column of the table, in order) straight into the table
#     (no upsert: a plain COPY is the floor an upsert cannot beat);
#   - the same asin-db load again over the full table (a rerun: every
#     row unchanged; the first batch's COPY is refused, so all of them
#     go through the staging table and one upsert per 50000 rows);
#   - every row back: asin-db query --csv against psql \copy (SELECT ...)
#     TO STDOUT CSV.
# Where asin-db's wall time went (server log, log_min_duration_statement
# = 0; a loaded 2-core machine) when every batch was staged: on 1M rows
# the upsert (INSERT ... SELECT DISTINCT ON ... ON CONFLICT ... WHERE IS
# DISTINCT FROM) 81 s, the COPY into the TEMP staging table 35 s, the
# CHECK query 9.7 s, 20 COMMITs 3.8 s; on 200k rows: COPY into the stage
# 1.8 s, the upsert 3.6 s, against 3.3 s for psql's COPY straight into
# facts.  Each row was parsed and written twice, and the upsert alone
# costs what the whole COPY does.  So while every row of a load is new,
# asin-db COPYs its batches straight into the table (the table checks
# them) and stages only from the first batch the table refuses: 108 s
# against psql's 61 s (0.56x) became 34.2 s against 29.7 s (0.87x, load
# 9.4, same run).  What is left: the client's NDJSON parse (2.9 s CPU
# against psql's 0.6 s, overlapped with the server) and a COMMIT (a WAL
# flush) every 50000 rows instead of one.  The rerun is all upsert.  The
# server keeps fsync and synchronous_commit on: a COMMIT that returned
# is durable, and --tee passes only rows of such batches.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input nodup || exit 1
B=$BENCH_OUT
peer_available psql || exit 0
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PG_DURABLE=1
. "$TOP/tests/pg.bash"
pg_start
if [ -n "${PG_SKIP:-}" ]; then
	printf '| %-46s | skipped: %s |\n' "PostgreSQL" "$PG_SKIP"
	exit 0
fi
trap pg_stop EXIT INT TERM
U=$PG_URI
asin-db init "$U" || exit 1
q() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$U" -c "$1"
}

# The rows as CSV in the same order, every column of facts in its order:
# JSONB columns as JSON text, JSON ones too, nulls as empty unquoted
# fields (NULL to COPY), fields without a column as the extra object.
cols=$(q "SELECT string_agg(attname || ':' || replace(format_type(atttypid, NULL), ' ', '_'), ' ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'facts'::regclass AND attnum > 0 AND NOT attisdropped")
CSV=$B/${name}_pg.csv
if [ ! -s "$CSV" ] || [ "$(cat "$CSV.args" 2>/dev/null)" != "$(cat "$IN.args") $cols" ]; then
	prog='['
	sep=
	del=
	for ct in $cols; do
		c=${ct%%:*}
		t=${ct#*:}
		[ "$c" = extra ] && continue
		case $t in
		json|jsonb) e="(.$c | if . == null then null else tojson end)" ;;
		*) e=".$c" ;;
		esac
		prog="$prog$sep$e"
		del="$del$sep.$c"
		sep=,
	done
	prog="$prog, (del($del) | if length == 0 then null else tojson end)] | @csv"
	jq -r "$prog" "$IN" >"$CSV.tmp" && mv "$CSV.tmp" "$CSV" &&
	    echo "$(cat "$IN.args") $cols" >"$CSV.args" || exit 1
fi
csv_bytes=$(file_bytes "$CSV")

L_OURS="asin-db load (NDJSON, $((bytes / 1000000)) MB)"
L_PEER="psql \\copy (CSV, $((csv_bytes / 1000000)) MB)"
table_head "load $rows fact rows into an empty PostgreSQL facts table (key asin, marketplace, date)"
measure "$L_OURS" "$rows" "$bytes" \
    sh -c "psql -X -q '$U' -c 'TRUNCATE facts' && asin-db load '$U' facts '$IN'"
measure "$L_PEER" "$rows" "$csv_bytes" \
    sh -c "psql -X -q '$U' -c 'TRUNCATE facts' && psql -X -q -v ON_ERROR_STOP=1 '$U' -c \"\\\\copy facts FROM '$CSV' WITH (FORMAT csv)\""
# The last measure left the CSV's rows: load ours once more for the rerun.
psql -X -q "$U" -c 'TRUNCATE facts' && asin-db load "$U" facts "$IN" || exit 1
measure "asin-db load again (a rerun: every row unchanged)" "$rows" "$bytes" \
    asin-db load "$U" facts "$IN"
echo
echo "rows: $(q 'SELECT count(*) FROM facts'); table size:" \
    "$(q "SELECT pg_size_pretty(pg_total_relation_size('facts'))")"
ratio "$L_OURS" "$L_PEER"
echo

table_head "every fact row back out of PostgreSQL as CSV ($rows rows)"
measure "asin-db query --csv" "$rows" "$bytes" \
    asin-db query --csv "$U" "SELECT * FROM facts"
measure "psql \\copy (SELECT * FROM facts) TO STDOUT CSV" "$rows" "$bytes" \
    psql -X -q "$U" -c "\\copy (SELECT * FROM facts) TO STDOUT WITH (FORMAT csv, HEADER)"
measure "asin-db query (NDJSON)" "$rows" "$bytes" \
    asin-db query "$U" "SELECT * FROM facts"
echo
ratio "asin-db query --csv" "psql \\copy (SELECT * FROM facts) TO STDOUT CSV"
