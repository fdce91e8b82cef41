#!/usr/bin/env bats
# asin-db on PostgreSQL: a real PostgreSQL 15 (tests/pg.bash) gets the
# same init, load, query, rerun and kill -9 tests as the SQLite file of
# asin-db.bats, and every query's output is compared byte for byte with
# the same query on SQLite.  Skips with a message without PostgreSQL.
load helper
load pg

setup_file() {
	pg_start
}

teardown_file() {
	pg_stop
}

setup() {
	pg_need
	# A database of this test's own, and an SQLite file beside it.
	PG=$(pg_newdb "t$BATS_SUITE_TEST_NUMBER")
	SQ="$BATS_TEST_TMPDIR/t.db"
	asin-db init "$PG"
	asin-db init "$SQ"
}

rows() {
	cat <<'EOF2'
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","category":"Toys","price":9.99,"bsr":100,"rating":4.5,"review_count":10,"deal_active":true,"anomalies":["price_jump"],"bsr_cat":165793011,"sub_cat":"Leaf \u00e9","foo":{"a":[1,2]},"bar":"q\"x"}
{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":7,"price":12,"deal_active":false,"title":"tab\there, back\\slash\nnewline","bsr_cat":"cat-7","sub_cat":2.5,"list_price":1e-7}
EOF2
}

# same ARGS...: asin-db ARGS on SQLite and on PostgreSQL (the operand DB
# stands for the database) write the same bytes and exit alike; the
# stderr of both is the same once the database's name is DB.
same() {
	local a=() b=() x
	for x in "$@"; do
		if [ "$x" = DB ]; then a+=("$SQ"); b+=("$PG"); else a+=("$x"); b+=("$x"); fi
	done
	local sa=0 sb=0
	asin-db "${a[@]}" >"$BATS_TEST_TMPDIR/sq.out" 2>"$BATS_TEST_TMPDIR/sq.err" </dev/null || sa=$?
	asin-db "${b[@]}" >"$BATS_TEST_TMPDIR/pg.out" 2>"$BATS_TEST_TMPDIR/pg.err" </dev/null || sb=$?
	[ -s "$BATS_TEST_TMPDIR/sq.out" ] || [ -s "$BATS_TEST_TMPDIR/sq.err" ] ||
	    { echo "no output on SQLite: $*"; return 1; }
	cmp "$BATS_TEST_TMPDIR/sq.out" "$BATS_TEST_TMPDIR/pg.out" >&2 ||
	    { diff "$BATS_TEST_TMPDIR/sq.out" "$BATS_TEST_TMPDIR/pg.out" | head -4 | cut -c1-200
	      head -1 "$BATS_TEST_TMPDIR/sq.out" | fold -w 100 >"$BATS_TEST_TMPDIR/a"
	      head -1 "$BATS_TEST_TMPDIR/pg.out" | fold -w 100 >"$BATS_TEST_TMPDIR/b"
	      diff "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"; return 1; }
	assert_eq "$(sed "s|$SQ|DB|g" "$BATS_TEST_TMPDIR/sq.err")" \
	    "$(sed "s|$PG|DB|g" "$BATS_TEST_TMPDIR/pg.err")" stderr
	assert_eq "$sa" "$sb" "exit status"
}

# load_both TABLE FILE [ARGS...]: load FILE into TABLE of both.
load_both() {
	local t=$1 f=$2
	shift 2
	asin-db load "$@" "$SQ" "$t" "$f"
	asin-db load "$@" "$PG" "$t" "$f"
}

psql_q() {
	psql -X -A -t -q "$PG" -c "$1"
}

@test "asin-db-pg init: every table and view, the migrations recorded, twice is a no-op" {
	PG=$(pg_newdb fresh)
	run -0 --separate-stderr asin-db init -v "$PG"
	assert_eq "asin-db: $PG: schema version 3 (3 migrations applied)" "$stderr"
	run -0 psql_q "SELECT CASE c.relkind WHEN 'r' THEN 'table' ELSE 'view' END || ' ' || relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') ORDER BY 1"
	assert_eq "table assignments
table categories
table facts
table features
table fetch_log
table marketplaces
table model_runs
table products
table schema_migrations
table scores
table uplift
view latest_features
view top_candidates
view training_set" "$output"
	run -0 psql_q "SELECT version || ' ' || name FROM schema_migrations ORDER BY version"
	assert_eq $'1 db-0001-tables\n2 db-0002-views\n3 db-0003-feat-names' "$output"
	run -0 psql_q "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'facts'::regclass AND attname IN ('bsr', 'bsr_cat', 'price', 'deal_active', 'anomalies') ORDER BY attnum"
	assert_eq $'bigint\njsonb\ndouble precision\nboolean\njson' "$output"
	run -0 --separate-stderr asin-db init -v "$PG"
	assert_eq "asin-db: $PG: schema version 3 (0 migrations applied)" "$stderr"
}

@test "asin-db-pg: two inits at once migrate once" {
	PG=$(pg_newdb twice)
	asin-db init "$PG" & asin-db init "$PG" & wait %1 && wait %2
	run -0 psql_q "SELECT count(*) FROM schema_migrations"
	assert_eq 3 "$output"
}

@test "asin-db-pg load and query: the same bytes as on SQLite, NDJSON and CSV" {
	rows >"$BATS_TEST_TMPDIR/in"
	load_both facts "$BATS_TEST_TMPDIR/in"
	same query DB "SELECT * FROM facts ORDER BY asin"
	same query --csv DB "SELECT * FROM facts ORDER BY asin"
	same query DB "SELECT asin, bsr_cat, sub_cat, title, list_price, extra FROM facts ORDER BY asin DESC"
	same query DB "SELECT count(*) AS n, sum(bsr) AS s, count(price) AS p, max(price) AS mx FROM facts"
	same query --param m=GB DB "SELECT asin, deal_active FROM facts WHERE marketplace = :m"
	run -0 asin-db query "$PG" "SELECT asin, bsr_cat, sub_cat, title FROM facts ORDER BY asin"
	assert_eq '{"asin":"B000000001","bsr_cat":165793011,"sub_cat":"Leaf é","title":null}
{"asin":"B000000002","bsr_cat":"cat-7","sub_cat":2.5,"title":"tab\there, back\\slash\nnewline"}' "$output"
}

@test "asin-db-pg load: a rerun changes nothing; a changed row is updated in place; the last of a key in a batch wins" {
	rows >"$BATS_TEST_TMPDIR/in"
	asin-db load "$PG" facts "$BATS_TEST_TMPDIR/in"
	run -0 asin-db load --stats "$BATS_TEST_TMPDIR/st" "$PG" facts "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":2,"out":2,"rejected":0,"merged":0,"dropped":0,"written":0,"unchanged":2}' "$(cat "$BATS_TEST_TMPDIR/st")"
	printf '%s\n' '{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":5}' \
	    '{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":6}' |
	    asin-db load --stats "$BATS_TEST_TMPDIR/st" "$PG" facts
	assert_eq '{"in":2,"out":2,"rejected":0,"merged":0,"dropped":0,"written":1,"unchanged":1}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 asin-db query "$PG" "SELECT count(*) AS n, sum(bsr) AS s, count(price) AS p FROM facts"
	assert_eq '{"n":2,"s":106,"p":1}' "$output"
}

@test "asin-db-pg load: every bad row is the same located reject as on SQLite" {
	cat >"$BATS_TEST_TMPDIR/in" <<'EOF2'
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":"12"}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1.5}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","price":1e999}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","deal_active":1}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr_cat":[1]}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","category":7}
{"asin":"B000000001","marketplace":"US","bsr":1}
{"asin":"B000000001","marketplace":"US","date":null}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1,"bsr":2}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","x":1,"x":2}
[1,2]
{"asin":"B000000001",
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1e2}
EOF2
	local t=$BATS_TEST_TMPDIR
	asin-db load --rejects "$t/sq.rej" --stats "$t/sq.st" "$SQ" facts "$t/in"
	asin-db load --rejects "$t/pg.rej" --stats "$t/pg.st" "$PG" facts "$t/in"
	assert_eq '{"in":13,"out":1,"rejected":12,"merged":0,"dropped":0,"written":1,"unchanged":0}' "$(cat "$t/pg.st")"
	cmp "$t/sq.st" "$t/pg.st"
	cmp "$t/sq.rej" "$t/pg.rej"
	run -0 jq -r '"\(.line): \(.error)"' "$t/pg.rej"
	assert_eq '1: field "bsr": expected integer, got string
2: field "bsr": expected integer, got 1.5
3: field "price": number 1e999 is out of range
4: field "deal_active": expected boolean, got number
5: field "bsr_cat": expected scalar, got array
6: field "category": expected string, got number
7: key field "date": missing
8: NOT NULL constraint failed: facts.date
9: duplicate key "bsr" at column 69
10: duplicate key "x" at column 67
11: expected a JSON object, got array
12: invalid JSON at column 22: unexpected end of input' "$output"
	same load DB facts "$BATS_TEST_TMPDIR/in"
	same query DB "SELECT asin, bsr FROM facts"
	run -0 asin-db query "$PG" "SELECT asin, bsr FROM facts"
	assert_eq '{"asin":"B000000001","bsr":100}' "$output"
}

# check_rows: rows the tables' CHECKs refuse among good ones: a bad row
# before and after a good one of its key, a row the record layer
# rejects in between, the same row again in a later batch.
check_rows() {
	cat <<'EOF2'
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1}
{"asin":"b000000002","marketplace":"US","date":"2026-05-01","bsr":2}
{"asin":"B000000003","marketplace":"us","date":"2026-05-01","bsr":3}
{"asin":"B000000003","marketplace":"US","date":"2026-05-01","bsr":4}
{"asin":"B000000004","marketplace":"US","date":"2026-05-01","bsr":"5"}
{"asin":"B000000005","marketplace":"US","date":"2026-05-01","bsr":6}
{"asin":"B000000005","marketplace":"US","date":"2026-5-01","bsr":7}
{"asin":"B000000005","marketplace":"U","date":"2026-05-01","bsr":8}
{"asin":"B000000006","marketplace":"GB","date":"2026-05-01","bsr":9}
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1}
{"asin":"B00000007","marketplace":"US","date":"2026-05-01","bsr":11}
EOF2
}

@test "asin-db-pg load: a row a CHECK refuses is a reject in SQLite's words; the rest of its batch is stored; --tee passes stored rows only" {
	check_rows >"$BATS_TEST_TMPDIR/in"
	local t=$BATS_TEST_TMPDIR b
	for b in 50000 4 1; do
		rm -f "$SQ"
		asin-db init "$SQ"
		PG=$(pg_newdb "t${BATS_SUITE_TEST_NUMBER}_$b")
		asin-db init "$PG"
		same load --batch "$b" --tee --rejects "$t/rej" --stats "$t/st" DB facts "$t/in"
		asin-db load --batch "$b" --tee --rejects "$t/sq.rej" --stats "$t/sq.st" "$SQ" facts "$t/in" >/dev/null
		asin-db load --batch "$b" --tee --rejects "$t/pg.rej" --stats "$t/pg.st" "$PG" facts "$t/in" >"$t/pg.tee"
		# Same stored rows on both (the last load ran twice: unchanged).
		assert_eq '{"in":11,"out":5,"rejected":6,"merged":0,"dropped":0,"written":0,"unchanged":5}' "$(cat "$t/pg.st")"
		cmp "$t/sq.st" "$t/pg.st"
		cmp "$t/sq.rej" "$t/pg.rej"
		same query DB "SELECT asin, marketplace, bsr FROM facts ORDER BY asin"
	done
	run -0 jq -r '"\(.line): \(.error)"' "$t/pg.rej"
	assert_eq "2: CHECK constraint failed: length(asin) = 10 AND
	    asin NOT GLOB '*[^A-Z0-9]*'
3: CHECK constraint failed: marketplace GLOB '[A-Z][A-Z]'
5: field \"bsr\": expected integer, got string
7: CHECK constraint failed: date GLOB
	    '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'
8: CHECK constraint failed: marketplace GLOB '[A-Z][A-Z]'
11: CHECK constraint failed: length(asin) = 10 AND
	    asin NOT GLOB '*[^A-Z0-9]*'" "$output"
	run -0 jq -c '[.asin, .bsr]' "$t/pg.tee"
	assert_eq '["B000000001",1]
["B000000003",4]
["B000000005",6]
["B000000006",9]
["B000000001",1]' "$output"
	run -0 asin-db query "$PG" "SELECT asin, bsr FROM facts ORDER BY asin"
	assert_eq '{"asin":"B000000001","bsr":1}
{"asin":"B000000003","bsr":4}
{"asin":"B000000005","bsr":6}
{"asin":"B000000006","bsr":9}' "$output"
}

@test "asin-db-pg load: a refused row that ends the run (no --rejects, --max-rejects) stores and tees what SQLite does, no row after it" {
	check_rows >"$BATS_TEST_TMPDIR/in"
	local t=$BATS_TEST_TMPDIR
	same load --batch 50000 --tee --stats "$t/st" DB facts "$t/in"
	assert_eq "asin-db: $t/in:2: CHECK constraint failed: length(asin) = 10 AND\x0a\x09    asin NOT GLOB '*[^A-Z0-9]*'" "$(cat "$t/pg.err")"
	same query DB "SELECT asin, marketplace, bsr FROM facts ORDER BY asin"
	assert_eq '{"asin":"B000000001","marketplace":"US","bsr":1}' "$(cat "$t/pg.out")"
	same load --batch 50000 --tee --rejects "$t/rej" --max-rejects 3 --stats "$t/st" DB facts "$t/in"
	assert_eq "asin-db: $t/in:7: too many rejects: 4 (--max-rejects 3)" "$(cat "$t/pg.err")"
	same query DB "SELECT asin, marketplace, bsr FROM facts ORDER BY asin"
	assert_eq '{"asin":"B000000001","marketplace":"US","bsr":1}
{"asin":"B000000003","marketplace":"US","bsr":4}
{"asin":"B000000005","marketplace":"US","bsr":6}' "$(cat "$t/pg.out")"
	asin-db load --batch 3 --rejects "$t/sq.rej" --max-rejects 3 --stats "$t/sq.st" "$SQ" facts "$t/in" 2>/dev/null || true
	asin-db load --batch 3 --rejects "$t/pg.rej" --max-rejects 3 --stats "$t/pg.st" "$PG" facts "$t/in" 2>/dev/null || true
	cmp "$t/sq.st" "$t/pg.st"
	cmp "$t/sq.rej" "$t/pg.rej"
	assert_eq '{"in":7,"out":3,"rejected":4,"merged":0,"dropped":0}' "$(cat "$t/pg.st")"
}

@test "asin-db-pg load: a constraint added by hand (a unique index) is found row by row, in SQLite's words" {
	psql_q "CREATE UNIQUE INDEX facts_title ON facts (title)"
	sqlite3 "$SQ" "CREATE UNIQUE INDEX facts_title ON facts (title)"
	local t=$BATS_TEST_TMPDIR i
	for i in 1 2 3 4 5 6 7 8 9; do
		echo "{\"asin\":\"B00000000$i\",\"marketplace\":\"US\",\"date\":\"2026-05-01\",\"title\":\"t$((i % 4))\"}"
	done >"$t/in"
	same load --batch 6 --tee --rejects "$t/rej" DB facts "$t/in"
	asin-db load --batch 6 --rejects "$t/sq.rej" --stats "$t/sq.st" "$SQ" facts "$t/in"
	asin-db load --batch 6 --rejects "$t/pg.rej" --stats "$t/pg.st" "$PG" facts "$t/in"
	cmp "$t/sq.rej" "$t/pg.rej"
	cmp "$t/sq.st" "$t/pg.st"
	run -0 jq -r '"\(.line): \(.error)"' "$t/pg.rej"
	assert_eq '5: UNIQUE constraint failed: facts.title
6: UNIQUE constraint failed: facts.title
7: UNIQUE constraint failed: facts.title
8: UNIQUE constraint failed: facts.title
9: UNIQUE constraint failed: facts.title' "$output"
	same query DB "SELECT asin, title FROM facts ORDER BY asin"
}

@test "asin-db-pg: table names are checked, values COPY-escaped, never pasted" {
	run -2 --separate-stderr asin-db load "$PG" "facts; DROP TABLE facts" </dev/null
	assert_eq "asin-db: $PG: no table 'facts; DROP TABLE facts' (tables: products, categories, marketplaces, fetch_log, facts, features, scores, assignments, uplift, model_runs)
Try 'asin-db --help' for more information." "$stderr"
	run -2 --separate-stderr asin-db load "$PG" schema_migrations </dev/null
	echo '{"experiment":"x'"'"'); DROP TABLE facts; --\\.\n\\N","asin":"B000000001","variant":"control"}' >"$BATS_TEST_TMPDIR/in"
	load_both assignments "$BATS_TEST_TMPDIR/in"
	same query --param a=B000000001 DB "SELECT experiment FROM assignments WHERE asin = :a"
	run -0 asin-db query "$PG" "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":0}' "$output"
}

@test "asin-db-pg query: --param binds :name (not inside quotes, comments or :: casts), usage errors as on SQLite" {
	rows >"$BATS_TEST_TMPDIR/in"
	load_both facts "$BATS_TEST_TMPDIR/in"
	same query --param m=GB --param d=2026-05-01 DB \
	    "SELECT asin, ':m' AS lit FROM facts /* :x */ WHERE marketplace = :m AND date = :d -- :y"
	run -0 asin-db query --param n=7 "$PG" "SELECT asin FROM facts WHERE bsr::text = :n"
	assert_eq '{"asin":"B000000002"}' "$output"
	same query DB "SELECT 1 AS one WHERE :m"
	same query --param z=1 DB "SELECT 1 AS one"
	same query --param z DB "SELECT 1 AS one"
	same query DB ""
	run -1 --separate-stderr asin-db query "$PG" "SELECT nope FROM facts"
	assert_eq "asin-db: $PG: SQL: column \"nope\" does not exist" "$stderr"
	run -1 --separate-stderr asin-db query "$PG" "DELETE FROM facts"
	assert_eq "asin-db: $PG: SQL: cannot execute DELETE in a read-only transaction" "$stderr"
	printf -- '-- how many\nSELECT count(*) AS n\nFROM facts;\n' >"$BATS_TEST_TMPDIR/q.sql"
	same query --sql-file "$BATS_TEST_TMPDIR/q.sql" DB
	# What is not a SELECT runs without a cursor.
	run -0 asin-db query --csv "$PG" "SHOW TimeZone"
	assert_eq $'TimeZone\nUTC' "$output"
}

@test "asin-db-pg: a database newer than the tool is refused for writing, readable; an empty one needs init" {
	psql_q "INSERT INTO schema_migrations VALUES (9, 'db-0009-future', 'x')"
	run -1 --separate-stderr asin-db load "$PG" facts </dev/null
	assert_eq "asin-db: $PG: schema version 9 is newer than this asin-db (3): use a newer asin-db" "$stderr"
	run -0 asin-db query "$PG" "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":0}' "$output"
	PG=$(pg_newdb empty)
	run -1 --separate-stderr asin-db query "$PG" "SELECT 1"
	assert_eq "asin-db: $PG: not an asin-db database (run 'asin-db init $PG')" "$stderr"
}

@test "asin-db-pg: a refused connection names the URI without its password" {
	local port
	port=$(free_port)
	run -1 --separate-stderr asin-db query "postgresql://me:s3cret@127.0.0.1:$port/x" "SELECT 1"
	[[ "$stderr" == "asin-db: postgresql://me:***@127.0.0.1:$port/x: cannot connect: "* ]] || { echo "$stderr"; return 1; }
	[[ "$stderr" != *s3cret* ]]
}

@test "asin-db-pg: the PG* environment stands in for the URI's parts" {
	PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=asin PGDATABASE="t$BATS_SUITE_TEST_NUMBER" \
	    run -0 asin-db query postgresql:// "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":0}' "$output"
}

@test "asin-db-pg: the views read what the tables hold, as on SQLite" {
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","title":"Kite","brand":"Acme"}' >"$BATS_TEST_TMPDIR/p"
	load_both products "$BATS_TEST_TMPDIR/p"
	for d in 01 02; do
		for a in 1 2 3; do
			echo '{"asin":"B00000000'$a'","marketplace":"US","date":"2026-05-'$d'","category":"Toys","score":'$a'.5,"group_rank":'$((4 - a))',"group_n":3,"bsr_log_slope_30":-0.0'$a'}'
		done
	done >"$BATS_TEST_TMPDIR/sc"
	echo '{"asin":"B000000001","marketplace":"US","date":"2026-05-01","label_grade":2}' >"$BATS_TEST_TMPDIR/lab"
	load_both scores "$BATS_TEST_TMPDIR/sc"
	load_both features "$BATS_TEST_TMPDIR/sc"
	load_both features "$BATS_TEST_TMPDIR/lab"
	same query DB "SELECT * FROM top_candidates"
	same query DB "SELECT * FROM latest_features ORDER BY asin"
	same query --csv DB "SELECT * FROM training_set ORDER BY asin, date"
	run -0 asin-db query "$PG" "SELECT date, group_rank, asin, title, score FROM top_candidates"
	assert_eq '{"date":"2026-05-02","group_rank":1,"asin":"B000000003","title":null,"score":3.5}
{"date":"2026-05-02","group_rank":2,"asin":"B000000002","title":null,"score":2.5}
{"date":"2026-05-02","group_rank":3,"asin":"B000000001","title":"Kite","score":1.5}' "$output"
}

@test "asin-db-pg load: batches of new rows go straight into the table; a batch the table refuses is staged and upserted, and every later one; counts and rows as on SQLite" {
	# --batch 3: batch 1 is new (straight into the table); batch 2's
	# last row updates a row of batch 1 (the table refuses the COPY:
	# staged); batch 3 is new but staged (the load met a held key).
	printf '{"asin":"B00000000%d","marketplace":"US","date":"2026-05-01","bsr":%d}\n' \
	    1 1 2 2 3 3 4 4 5 5 1 6 7 7 8 8 9 9 >"$BATS_TEST_TMPDIR/in"
	run -0 asin-db load --batch 3 --stats "$BATS_TEST_TMPDIR/pg.st" "$PG" facts "$BATS_TEST_TMPDIR/in"
	asin-db load --batch 3 --stats "$BATS_TEST_TMPDIR/sq.st" "$SQ" facts "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":9,"out":9,"rejected":0,"merged":0,"dropped":0,"written":9,"unchanged":0}' "$(cat "$BATS_TEST_TMPDIR/pg.st")"
	assert_eq "$(cat "$BATS_TEST_TMPDIR/sq.st")" "$(cat "$BATS_TEST_TMPDIR/pg.st")"
	same query DB "SELECT asin, bsr FROM facts ORDER BY asin"
	run -0 asin-db query "$PG" "SELECT count(*) AS n, sum(bsr) AS s FROM facts"
	assert_eq '{"n":8,"s":44}' "$output"
	# A key twice in one batch of new rows: the COPY is refused (no
	# duplicate key stored), the last of the key wins.
	printf '{"asin":"B00000001%d","marketplace":"US","date":"2026-05-01","bsr":%d}\n' \
	    1 1 2 2 1 3 | asin-db load --stats "$BATS_TEST_TMPDIR/st" "$PG" facts
	assert_eq '{"in":3,"out":3,"rejected":0,"merged":0,"dropped":0,"written":2,"unchanged":1}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 asin-db query "$PG" "SELECT asin, bsr FROM facts WHERE asin > 'B00000001' ORDER BY asin"
	assert_eq '{"asin":"B000000011","bsr":3}
{"asin":"B000000012","bsr":2}' "$output"
}

@test "asin-db-pg load: a batch past the 64 MB kept for a refused COPY stages its rest; the rest is upserted over the rows COPYed" {
	# 1100 rows of 64 kB: the first ~1050 go straight into the table,
	# the rest of the batch is staged; its last row updates row 1.
	local pad
	pad=$(head -c 64000 /dev/zero | tr '\0' x)
	awk -v pad="$pad" 'BEGIN { for (i = 1; i <= 1100; i++)
	    printf "{\"asin\":\"B%09d\",\"marketplace\":\"US\",\"date\":\"2026-05-01\",\"bsr\":%d,\"title\":\"%s\"}\n", i, i, pad
	    printf "{\"asin\":\"B%09d\",\"marketplace\":\"US\",\"date\":\"2026-05-01\",\"bsr\":7}\n", 1 }' >"$BATS_TEST_TMPDIR/in"
	run -0 asin-db load --batch 5000 --stats "$BATS_TEST_TMPDIR/st" "$PG" facts "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":1101,"out":1101,"rejected":0,"merged":0,"dropped":0,"written":1101,"unchanged":0}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 asin-db query "$PG" "SELECT count(*) AS n, sum(bsr) AS s, min(length(title)) AS t FROM facts"
	assert_eq '{"n":1100,"s":605556,"t":64000}' "$output"
	run -0 asin-db query "$PG" "SELECT bsr FROM facts WHERE asin = 'B000000001'"
	assert_eq '{"bsr":7}' "$output"
}

@test "asin-db-pg load: kill -9 mid-load leaves whole batches; the rerun loses and duplicates nothing; SQLite holds the same" {
	genfacts --seed 3 --rows 100000 --days 60 --dup-rate 0 >"$BATS_TEST_TMPDIR/in"
	local want
	want=$(jq -r '[.asin, .marketplace, .date] | @tsv' "$BATS_TEST_TMPDIR/in" | sort -u | wc -l)
	asin-db load --batch 1000 "$PG" facts "$BATS_TEST_TMPDIR/in" &
	local pid=$! n=0 i=0
	while [ "$n" -lt 2000 ] && [ $i -lt 400 ]; do
		sleep 0.02
		n=$(psql_q "SELECT count(*) FROM facts" 2>/dev/null || echo 0)
		i=$((i + 1))
	done
	kill -9 "$pid"
	wait "$pid" || :
	n=$(psql_q "SELECT count(*) FROM facts")
	[ "$n" -lt "$want" ] || { echo "the load finished before the kill ($n rows)"; return 1; }
	[ $((n % 1000)) -eq 0 ] || { echo "$n rows: not whole batches"; return 1; }
	asin-db load --stats "$BATS_TEST_TMPDIR/st" "$PG" facts "$BATS_TEST_TMPDIR/in"
	run -0 jq -c '[.in, .written + .unchanged, .unchanged >= '"$n"']' "$BATS_TEST_TMPDIR/st"
	assert_eq "[100000,100000,true]" "$output"
	assert_eq "$want" "$(psql_q "SELECT count(*) FROM facts")"
	asin-db load "$SQ" facts "$BATS_TEST_TMPDIR/in"
	same query DB "SELECT * FROM facts ORDER BY asin, marketplace, date"
	same query --csv DB "SELECT marketplace, count(*) AS n, sum(bsr) AS bsr, min(price) AS lo, max(price) AS hi FROM facts GROUP BY marketplace ORDER BY marketplace"
}

@test "asin-db-pg: the daily job on PostgreSQL exports and stores the same as on SQLite" {
	for t in asin-fetch asin-dedupe asin-feat asin-zscore asin-split fake-upstream; do
		command -v "$t" >/dev/null || skip "$t not built"
	done
	cd "$BATS_TEST_TMPDIR"
	python3 "$TOP/tests/tools/demo-catalog.py" --out cat --asins 120 \
	    --days 120 --end 2026-05-10 --seed 13 >/dev/null
	# The catalogue's watch list plants a bad line for the demo; this
	# test is about the database.
	grep -v not-an-asin cat/asins.ndjson >watch.ndjson
	fake-upstream --files cat --port-file port \
	    --now "$(date -u -d '2026-05-11 04:00' +%s)" >/dev/null 2>up.err 3>&- &
	local up=$! i=0 b db
	while [ ! -s port ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s port ] || { cat up.err; kill $up; return 1; }
	for b in sq pg; do
		if [ $b = sq ]; then
			db=$SQ
		else
			# The same envelopes (fetched_at is the fetch's clock):
			# the job keeps a finished stage and goes on from it.
			db=$PG
			mkdir -p pg/data/2026-05-10
			cp -p sq/data/2026-05-10/envelopes.ndjson pg/data/2026-05-10/
		fi
		KEEPA_API_KEY=demo-key make --no-print-directory -s \
		    -f "$TOP/pipelines/daily.mk" DAY=2026-05-10 \
		    ASINS=watch.ndjson DATA=$b/data DB="$db" \
		    EXPORTS=$b/exports ARCHIVE=$b/data/archive \
		    BASE_URL="http://127.0.0.1:$(cat port)" EXPERIMENT=t \
		    VARIANTS=control:50,treatment:50 MIN_COVERAGE=0 daily \
		    >$b.log 2>&1 || { cat $b.log; kill $up; return 1; }
	done
	kill $up
	cmp sq/exports/top_candidates_20260510.csv pg/exports/top_candidates_20260510.csv
	[ "$(wc -l <pg/exports/top_candidates_20260510.csv)" -gt 1 ]
	cmp sq/data/2026-05-10/assigned.ndjson pg/data/2026-05-10/assigned.ndjson
	same query DB "SELECT * FROM facts ORDER BY asin, marketplace, date"
	same query DB "SELECT * FROM products ORDER BY asin, marketplace"
	same query DB "SELECT * FROM features ORDER BY asin, marketplace, date"
	same query DB "SELECT * FROM scores ORDER BY asin, marketplace, date"
	same query DB "SELECT * FROM assignments ORDER BY experiment, asin"
	same query DB "SELECT * FROM fetch_log ORDER BY asin, marketplace, date, provider"
	same query --csv DB "SELECT * FROM top_candidates"
}
