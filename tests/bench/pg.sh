#!/bin/sh
# pg.sh: asin-db on PostgreSQL (issue 17) against psql's \copy, in the
# same run, on a throw-away PostgreSQL 15 (tests/pg.bash, the server's
# default durability: fsync on).  On ROWS generated fact rows without
# re-fetches (default 1M):
#   - load into an empty facts table: asin-db load (NDJSON, types
#     checked, COPY into a staging table and one upsert per 50000 rows)
#     against psql \copy of the same rows as CSV (every column of the
#     table, in order) straight into the table (no upsert: a plain COPY
#     is the floor an upsert cannot beat);
#   - the same asin-db load again over the full table (a rerun: every
#     row unchanged);
#   - every row back: asin-db query --csv against psql \copy (SELECT ...)
#     TO STDOUT CSV.
# Where asin-db's wall time goes (1M rows, 50000 a batch, the server's
# log_min_duration_statement = 0, summed per statement; a loaded 2-core
# machine): the upsert (INSERT ... SELECT DISTINCT ON ... ON CONFLICT
# ... WHERE IS DISTINCT FROM) 81 s, the COPY into the TEMP staging table
# 35 s (it runs while the client parses, so it holds the client's 5.5 s
# of CPU), the CHECK query that finds refused rows 9.7 s, the 20
# COMMITs 3.8 s, TRUNCATE 0.1 s.  The upsert is the gap to \copy: a
# speculative insertion into the key's B-tree per row.  The staging
# table is already TEMP (no WAL) and the COPY text; synchronous_commit
# off would save part of the commits only and could lose rows --tee
# already passed on a server crash, so it stays on.
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
