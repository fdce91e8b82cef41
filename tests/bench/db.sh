#!/bin/sh
# db.sh: asin-db (issue 13) against sqlite3's own shell, in the same run.
# On ROWS generated fact rows without re-fetches (default 1M, ~390 MB):
#   - load into an empty facts table: asin-db load (NDJSON, upsert by key,
#     types checked, 50000 rows a transaction) against sqlite3's .import of
#     the same rows as CSV (every column of the table, in order) into the
#     same schema, both in WAL mode; the file size after each;
#   - the same load again over the full table (a rerun: every row equal);
#   - every row back: asin-db query (NDJSON, types kept, extra spread)
#     against sqlite3 -json.
# The CSV is made once from the loaded table (asin-db query --csv), so
# both loads store the same values.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input nodup || exit 1
B=$BENCH_OUT
peer_available sqlite3 || exit 0

T=$B/db_template.db
rm -f "$T" "$T-wal" "$T-shm"
asin-db init "$T" || exit 1
CSV=$B/${name}_facts.csv
if [ ! -s "$CSV" ] || [ "$CSV" -ot "$IN" ]; then
	rm -f "$B/db_csv.db"*
	cp "$T" "$B/db_csv.db"
	asin-db load "$B/db_csv.db" facts "$IN" &&
	    asin-db query --csv "$B/db_csv.db" "SELECT * FROM facts" |
	    tail -n +2 >"$CSV.tmp" && mv "$CSV.tmp" "$CSV" || exit 1
	rm -f "$B/db_csv.db"*
fi
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
