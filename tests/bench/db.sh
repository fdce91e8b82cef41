#!/bin/sh
# db.sh: asin-db (issue 13) against sqlite3's own shell, in the same run.
# On ROWS generated fact rows without re-fetches (default 1M, ~390 MB):
#   - load into an empty facts table: asin-db load (NDJSON, upsert by key,
#     types checked, 50000 rows a transaction) against sqlite3's .import of
#     the same rows as CSV (every column of the table, in order) into the
#     same schema, both in WAL mode; the file size after each;
#   - the same load again over the full table (a rerun: every row equal);
#   - both loads again with the rows in key order (asin, marketplace, date);
#   - every row back: asin-db query (NDJSON, types kept, extra spread)
#     against sqlite3 -json.
# The CSV is made once from the NDJSON with jq, in the same row order:
# both loads insert the same keys in the same (by day, so random) order.
# sqlite3 stores an empty CSV field as '' where asin-db stores null.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input nodup || exit 1
B=$BENCH_OUT
peer_available sqlite3 || exit 0

T=$B/db_template.db
rm -f "$T" "$T-wal" "$T-shm"
asin-db init "$T" || exit 1

# to_csv NDJSON CSV: the rows as CSV in the same order, every column of
# the facts table in its order (booleans 1/0, fields without a column as
# the extra JSON text), made once per input and columns (CSV.args).
cols=$(sqlite3 "$T" "SELECT group_concat(name, ' ') FROM pragma_table_info('facts')")
to_csv() {
	want="$(cat "$1.args" 2>/dev/null) $cols"
	[ -s "$2" ] && [ "$(cat "$2.args" 2>/dev/null)" = "$want" ] && return 0
	prog='def v: if . == null then "" elif . == true then 1
	    elif . == false then 0 elif type == "array" or type == "object"
	    then tojson else . end; ['
	sep=
	for c in $cols; do
		[ "$c" = extra ] && continue
		prog="$prog$sep(.$c | v)"
		sep=,
	done
	del=$(echo "$cols" | sed 's/ extra$//; s/\([a-z_]*\)/.\1/g; s/ /, /g')
	prog="$prog, (del($del) | if length == 0 then \"\" else tojson end)] | @csv"
	jq -r "$prog" "$1" >"$2.tmp" && mv "$2.tmp" "$2" &&
	    echo "$want" >"$2.args"
}
CSV=$B/${name}_inorder.csv
to_csv "$IN" "$CSV" || exit 1
csv_bytes=$(file_bytes "$CSV")

OURS=$B/db_ours.db
PEER=$B/db_peer.db
L_OURS="asin-db load (NDJSON, $((bytes / 1000000)) MB)"
L_PEER="sqlite3 .import (CSV, $((csv_bytes / 1000000)) MB)"
table_head "load $rows fact rows into an empty facts table (key asin, marketplace, date; WAL)"
measure "$L_OURS" "$rows" "$bytes" \
    sh -c "rm -f '$OURS'*; cp '$T' '$OURS' && asin-db load '$OURS' facts '$IN'"
measure "$L_PEER" "$rows" "$csv_bytes" \
    sh -c "rm -f '$PEER'*; cp '$T' '$PEER' && sqlite3 '$PEER' '.import --csv $CSV facts'"
measure "asin-db load again (a rerun: every row unchanged)" "$rows" "$bytes" \
    asin-db load "$OURS" facts "$IN"
echo
echo "file size: asin-db $(($(file_bytes "$OURS") / 1000000)) MB," \
    "sqlite3 .import $(($(file_bytes "$PEER") / 1000000)) MB;" \
    "rows: $(sqlite3 "$OURS" 'SELECT count(*) FROM facts') and" \
    "$(sqlite3 "$PEER" 'SELECT count(*) FROM facts')"
ratio "$L_OURS" "$L_PEER"
echo

# The same rows in key order, as a deduper sorting by asin, marketplace,
# date writes them: inserts append to the key's B-tree.
SIN=$(bench_facts "${name}_sorted" --seed 42 --rows "$rows" --days 100 \
    --dup-rate 0 --sorted) || exit 1
SCSV=$B/${name}_sorted.csv
to_csv "$SIN" "$SCSV" || exit 1
L_OURS_S="asin-db load, rows in key order"
L_PEER_S="sqlite3 .import, rows in key order"
table_head "load $rows fact rows in key order into an empty facts table"
measure "$L_OURS_S" "$rows" "$bytes" \
    sh -c "rm -f '$OURS'*; cp '$T' '$OURS' && asin-db load '$OURS' facts '$SIN'"
measure "$L_PEER_S" "$rows" "$csv_bytes" \
    sh -c "rm -f '$PEER'*; cp '$T' '$PEER' && sqlite3 '$PEER' '.import --csv $SCSV facts'"
echo
ratio "$L_OURS_S" "$L_PEER_S"
echo

table_head "every fact row back out of the file as JSON ($rows rows)"
measure "asin-db query (NDJSON)" "$rows" "$bytes" \
    asin-db query "$OURS" "SELECT * FROM facts"
measure "sqlite3 -json" "$rows" "$bytes" \
    sqlite3 -json "$OURS" "SELECT * FROM facts"
measure "asin-db query --csv" "$rows" "$bytes" \
    asin-db query --csv "$OURS" "SELECT * FROM facts"
measure "sqlite3 -csv" "$rows" "$bytes" \
    sqlite3 -csv "$OURS" "SELECT * FROM facts"
echo
ratio "asin-db query (NDJSON)" "sqlite3 -json"
ratio "asin-db query --csv" "sqlite3 -csv"
rm -f "$PEER"* "$T"*
