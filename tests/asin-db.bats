#!/usr/bin/env bats
# asin-db: the schema and its migrations (init, upgrade, a newer file
# refused), load (upsert by key, types checked, extra fields kept, every
# bad row located, rerun changes nothing, kill -9 and rerun), query
# (types kept, extra spread back, CSV, bound parameters).
load helper

DB() { echo "$BATS_TEST_TMPDIR/t.db"; }

# usage_is MSG ARGS...: asin-db ARGS is a usage error saying MSG.
usage_is() {
	local msg=$1
	shift
	run -2 --separate-stderr asin-db "$@" </dev/null
	assert_eq "" "$output" stdout
	assert_eq "asin-db: $msg
Try 'asin-db --help' for more information." "$stderr" stderr
}

rows() {
	cat <<'EOF'
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","category":"Toys","price":9.99,"bsr":100,"rating":4.5,"review_count":10,"deal_active":true,"anomalies":["price_jump"],"bsr_cat":165793011,"sub_cat":"Leaf \u00e9","foo":{"a":[1,2]},"bar":"q\"x"}
{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":7,"price":12,"deal_active":false}
EOF
}

@test "asin-db: --help lists every flag" {
	run -0 --separate-stderr asin-db --help
	assert_eq "usage: asin-db init DB" "${lines[0]}"
	for f in --batch --tee --csv --param --sql-file --rejects --stats; do
		[[ "$output" == *"$f"* ]] || { echo "no $f"; return 1; }
	done
}

@test "asin-db init: every table and view, schema version recorded, twice is a no-op" {
	run -0 --separate-stderr asin-db init -v "$(DB)"
	assert_eq "asin-db: $(DB): schema version 3 (3 migrations applied)" "$stderr"
	run -0 sqlite3 "$(DB)" "SELECT type || ' ' || name FROM sqlite_master WHERE type IN ('table','view') ORDER BY type, name"
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
	run -0 sqlite3 "$(DB)" "PRAGMA user_version; PRAGMA journal_mode; SELECT version || ' ' || name FROM schema_migrations"
	assert_eq $'3\nwal\n1 db-0001-tables\n2 db-0002-views\n3 db-0003-feat-names' "$output"
	run -0 --separate-stderr asin-db init -v "$(DB)"
	assert_eq "asin-db: $(DB): schema version 3 (0 migrations applied)" "$stderr"
}

@test "asin-db init upgrades a version-1 file and keeps its rows" {
	sqlite3 "$(DB)" ".read $TOP/schemas/db-0001-tables.sql" \
	    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)" \
	    "INSERT INTO schema_migrations VALUES (1, 'db-0001-tables', 'x')" \
	    "INSERT INTO facts (asin, marketplace, date, bsr) VALUES ('B000000001', 'US', '2026-05-01', 5)" \
	    "PRAGMA user_version = 1"
	run -1 --separate-stderr asin-db load "$(DB)" facts </dev/null
	assert_eq "asin-db: $(DB): schema version 1 is older than this asin-db (3): run 'asin-db init $(DB)' to upgrade it" "$stderr"
	run -0 --separate-stderr asin-db init -v "$(DB)"
	assert_eq "asin-db: $(DB): schema version 3 (2 migrations applied)" "$stderr"
	run -0 asin-db query "$(DB)" "SELECT asin, marketplace, date FROM latest_features UNION ALL SELECT asin, bsr, date FROM facts"
	assert_eq '{"asin":"B000000001","marketplace":5,"date":"2026-05-01"}' "$output"
}

@test "asin-db: a file newer than the tool is refused for writing, readable" {
	asin-db init "$(DB)"
	sqlite3 "$(DB)" "PRAGMA user_version = 9"
	run -1 --separate-stderr asin-db load "$(DB)" facts </dev/null
	assert_eq "asin-db: $(DB): schema version 9 is newer than this asin-db (3): use a newer asin-db" "$stderr"
	run -1 --separate-stderr asin-db init "$(DB)"
	assert_eq "asin-db: $(DB): schema version 9 is newer than this asin-db (3): use a newer asin-db" "$stderr"
	run -0 asin-db query "$(DB)" "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":0}' "$output"
}

@test "asin-db: a missing, empty or foreign file is a clear error" {
	run -1 --separate-stderr asin-db load "$BATS_TEST_TMPDIR/none.db" facts </dev/null
	assert_eq "asin-db: $BATS_TEST_TMPDIR/none.db: cannot open: unable to open database file" "$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/none.db" ]
	sqlite3 "$(DB)" "CREATE TABLE t (a)"
	run -1 --separate-stderr asin-db query "$(DB)" "SELECT 1"
	assert_eq "asin-db: $(DB): not an asin-db database (run 'asin-db init $(DB)')" "$stderr"
	echo "not a database at all, not at all, no" >"$BATS_TEST_TMPDIR/junk"
	run -1 --separate-stderr asin-db query "$BATS_TEST_TMPDIR/junk" "SELECT 1"
	assert_eq "asin-db: $BATS_TEST_TMPDIR/junk: not an SQLite database: file is not a database" "$stderr"
}

@test "asin-db load and query: types kept, extra fields kept and spread back" {
	asin-db init "$(DB)"
	rows >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr asin-db load --stats "$BATS_TEST_TMPDIR/st" "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	assert_eq "" "$output"
	assert_eq '{"in":2,"out":2,"rejected":0,"merged":0,"dropped":0,"written":2,"unchanged":0}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 asin-db query "$(DB)" "SELECT asin, date, bsr, price, deal_active, anomalies, bsr_cat, sub_cat, extra FROM facts ORDER BY asin"
	assert_eq '{"asin":"B000000001","date":"2026-05-01","bsr":100,"price":9.99,"deal_active":true,"anomalies":["price_jump"],"bsr_cat":165793011,"sub_cat":"Leaf é","foo":{"a":[1,2]},"bar":"q\"x"}
{"asin":"B000000002","date":"2026-05-01","bsr":7,"price":12,"deal_active":false,"anomalies":null,"bsr_cat":null,"sub_cat":null}' "$output"
	run -0 sqlite3 "$(DB)" "SELECT typeof(bsr), typeof(price), typeof(bsr_cat), typeof(sub_cat), extra FROM facts ORDER BY asin LIMIT 1"
	assert_eq 'integer|real|integer|text|{"foo":{"a":[1,2]},"bar":"q\"x"}' "$output"
}

@test "asin-db query --csv: a header, RFC 4180 quoting, empty nulls" {
	asin-db init "$(DB)"
	rows | asin-db load "$(DB)" facts
	run -0 asin-db query --csv "$(DB)" "SELECT asin, bsr, price, deal_active, anomalies, extra FROM facts ORDER BY asin"
	assert_eq 'asin,bsr,price,deal_active,anomalies,extra
B000000001,100,9.99,true,"[""price_jump""]","{""foo"":{""a"":[1,2]},""bar"":""q\""x""}"
B000000002,7,12,false,,' "$output"
}

@test "asin-db load: a rerun changes nothing; a changed row is updated in place" {
	asin-db init "$(DB)"
	rows >"$BATS_TEST_TMPDIR/in"
	asin-db load "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	sqlite3 "$(DB)" .dump >"$BATS_TEST_TMPDIR/dump1"
	run -0 asin-db load --stats "$BATS_TEST_TMPDIR/st" "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":2,"out":2,"rejected":0,"merged":0,"dropped":0,"written":0,"unchanged":2}' "$(cat "$BATS_TEST_TMPDIR/st")"
	sqlite3 "$(DB)" .dump >"$BATS_TEST_TMPDIR/dump2"
	cmp "$BATS_TEST_TMPDIR/dump1" "$BATS_TEST_TMPDIR/dump2"
	echo '{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":6}' |
	    asin-db load --stats "$BATS_TEST_TMPDIR/st" "$(DB)" facts
	assert_eq '{"in":1,"out":1,"rejected":0,"merged":0,"dropped":0,"written":1,"unchanged":0}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 asin-db query "$(DB)" "SELECT count(*) AS n, sum(bsr) AS s, count(price) AS p FROM facts"
	assert_eq '{"n":2,"s":106,"p":1}' "$output"
}

@test "asin-db load: every bad row is a located reject, the good ones load" {
	asin-db init "$(DB)"
	cat >"$BATS_TEST_TMPDIR/in" <<'EOF'
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
{"asin":"b000000001","marketplace":"US","date":"2026-05-01"}
{"asin":"B000000001","marketplace":"US","date":"May 1"}
[1,2]
{"asin":"B000000001",
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":1e2}
EOF
	run -0 --separate-stderr asin-db load --rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	assert_eq '{"in":15,"out":1,"rejected":14,"merged":0,"dropped":0,"written":1,"unchanged":0}' "$(cat "$BATS_TEST_TMPDIR/st")"
	run -0 jq -r '"\(.line): \(.error)"' "$BATS_TEST_TMPDIR/rej"
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
11: CHECK constraint failed: length(asin) = 10 AND
	    asin NOT GLOB '"'"'*[^A-Z0-9]*'"'"'
12: CHECK constraint failed: date GLOB
	    '"'"'[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'"'"'
13: expected a JSON object, got array
14: invalid JSON at column 22: unexpected end of input' "$output"
	run -0 asin-db query "$(DB)" "SELECT asin, bsr FROM facts"
	assert_eq '{"asin":"B000000001","bsr":100}' "$output"
}

@test "asin-db load: without --rejects the first bad row stops, rows before it stay" {
	asin-db init "$(DB)"
	{ rows; echo '{"asin":"B000000003","marketplace":"US","date":"2026-05-01","bsr":"x"}'; } >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr asin-db load "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	assert_eq "asin-db: $BATS_TEST_TMPDIR/in:3: field \"bsr\": expected integer, got string" "$stderr"
	run -0 asin-db query "$(DB)" "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":2}' "$output"
}

@test "asin-db: table names are checked, values bound, never pasted" {
	asin-db init "$(DB)"
	usage_is "$(DB): no table 'facts; DROP TABLE facts' (tables: products, categories, marketplaces, fetch_log, facts, features, scores, assignments, uplift, model_runs)" \
	    load "$(DB)" "facts; DROP TABLE facts"
	usage_is "$(DB): no table 'schema_migrations' (tables: products, categories, marketplaces, fetch_log, facts, features, scores, assignments, uplift, model_runs)" \
	    load "$(DB)" schema_migrations
	echo '{"experiment":"x'"'"'); DROP TABLE facts; --","asin":"B000000001","variant":"control"}' |
	    asin-db load "$(DB)" assignments
	run -0 asin-db query "$(DB)" "SELECT experiment FROM assignments WHERE asin = :a" --param a=B000000001
	assert_eq '{"experiment":"x'"'"'); DROP TABLE facts; --"}' "$output"
	run -0 asin-db query "$(DB)" "SELECT count(*) AS n FROM facts"
	assert_eq '{"n":0}' "$output"
}

@test "asin-db query: --param binds, a missing or unused one is a usage error, SQL errors are clear" {
	asin-db init "$(DB)"
	rows | asin-db load "$(DB)" facts
	run -0 asin-db query --param m=GB --param d=2026-05-01 "$(DB)" \
	    "SELECT asin FROM facts WHERE marketplace = :m AND date = @d"
	assert_eq '{"asin":"B000000002"}' "$output"
	usage_is 'SQL parameter :m has no value (--param m=VALUE)' query "$(DB)" "SELECT 1 WHERE :m"
	usage_is 'option --param: the SQL has no parameter :z' query --param z=1 "$(DB)" "SELECT 1"
	usage_is "option --param: expected NAME=VALUE, got 'z'" query --param z "$(DB)" "SELECT 1"
	usage_is 'the SQL holds more than one statement' query "$(DB)" "SELECT 1; SELECT 2"
	run -1 --separate-stderr asin-db query "$(DB)" "SELECT nope FROM facts"
	assert_eq "asin-db: $(DB): SQL: no such column: nope" "$stderr"
	run -1 --separate-stderr asin-db query "$(DB)" "DELETE FROM facts"
	assert_eq "asin-db: $(DB): SQL: attempt to write a readonly database" "$stderr"
	printf 'SELECT count(*) AS n\nFROM facts;\n' >"$BATS_TEST_TMPDIR/q.sql"
	run -0 asin-db query --sql-file "$BATS_TEST_TMPDIR/q.sql" "$(DB)"
	assert_eq '{"n":2}' "$output"
}

@test "asin-db: usage errors" {
	usage_is "missing command: init, load or query"
	usage_is "unknown command 'drop': init, load or query" drop x
	usage_is "init takes one operand, the database file" init
	usage_is "load needs a database file and a table" load x
	usage_is "--batch and --tee are options of load" query --tee x "SELECT 1"
	usage_is "--csv, --param and --sql-file are options of query" load --csv x facts
	usage_is "option --batch: expected an integer from 1 to 100000000, got '0'" load --batch 0 x facts
}

@test "asin-db load --tee: rows pass through, rejects do not" {
	asin-db init "$(DB)"
	{ rows; echo '{"asin":"B000000003"}'; } >"$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr asin-db load --tee --rejects /dev/null "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	assert_eq "$(rows)" "$output"
}

@test "asin-db: the views read what the tables hold" {
	asin-db init "$(DB)"
	printf '%s\n' '{"asin":"B000000001","marketplace":"US","title":"Kite","brand":"Acme"}' |
	    asin-db load "$(DB)" products
	for d in 01 02; do
		for a in 1 2 3; do
			echo '{"asin":"B00000000'$a'","marketplace":"US","date":"2026-05-'$d'","category":"Toys","score":'$a'.5,"group_rank":'$((4 - a))',"group_n":3,"bsr_log_slope_30":-0.0'$a'}'
		done
	done >"$BATS_TEST_TMPDIR/sc"
	asin-db load "$(DB)" scores "$BATS_TEST_TMPDIR/sc"
	asin-db load "$(DB)" features "$BATS_TEST_TMPDIR/sc"
	run -0 asin-db query "$(DB)" "SELECT date, category, group_rank, asin, title, score FROM top_candidates"
	assert_eq '{"date":"2026-05-02","category":"Toys","group_rank":1,"asin":"B000000003","title":null,"score":3.5}
{"date":"2026-05-02","category":"Toys","group_rank":2,"asin":"B000000002","title":null,"score":2.5}
{"date":"2026-05-02","category":"Toys","group_rank":3,"asin":"B000000001","title":"Kite","score":1.5}' "$output"
	run -0 asin-db query "$(DB)" "SELECT asin, date, bsr_log_slope_30 FROM latest_features ORDER BY asin"
	assert_eq '{"asin":"B000000001","date":"2026-05-02","bsr_log_slope_30":-0.01}
{"asin":"B000000002","date":"2026-05-02","bsr_log_slope_30":-0.02}
{"asin":"B000000003","date":"2026-05-02","bsr_log_slope_30":-0.03}' "$output"
	echo '{"asin":"B000000001","marketplace":"US","date":"2026-05-01","grade_14":2}' | asin-db load "$(DB)" features
	run -0 asin-db query "$(DB)" "SELECT asin, date, grade_14, product_brand FROM training_set"
	assert_eq '{"asin":"B000000001","date":"2026-05-01","grade_14":2,"product_brand":"Acme"}' "$output"
}

@test "asin-db load: kill -9 mid-load leaves whole batches; the rerun loses and duplicates nothing" {
	asin-db init "$(DB)"
	genfacts --seed 3 --rows 300000 --days 60 --dup-rate 0 >"$BATS_TEST_TMPDIR/in"
	local want
	want=$(jq -r '[.asin, .marketplace, .date] | @tsv' "$BATS_TEST_TMPDIR/in" | sort -u | wc -l)
	asin-db load --batch 1000 "$(DB)" facts "$BATS_TEST_TMPDIR/in" &
	local pid=$! n=0 i=0
	while [ "$n" -lt 2000 ] && [ $i -lt 400 ]; do
		sleep 0.02
		n=$(sqlite3 "$(DB)" "SELECT count(*) FROM facts" 2>/dev/null || echo 0)
		i=$((i + 1))
	done
	kill -9 "$pid"
	wait "$pid" || :
	run -0 sqlite3 "$(DB)" "PRAGMA integrity_check"
	assert_eq ok "$output"
	n=$(sqlite3 "$(DB)" "SELECT count(*) FROM facts")
	[ "$n" -lt "$want" ] || { echo "the load finished before the kill ($n rows)"; return 1; }
	[ $((n % 1000)) -eq 0 ] || { echo "$n rows: not whole batches"; return 1; }
	asin-db load --stats "$BATS_TEST_TMPDIR/st" "$(DB)" facts "$BATS_TEST_TMPDIR/in"
	run -0 jq -c '[.in, .written + .unchanged, .unchanged >= '"$n"']' "$BATS_TEST_TMPDIR/st"
	assert_eq "[300000,300000,true]" "$output"
	assert_eq "$want" "$(sqlite3 "$(DB)" "SELECT count(*) FROM facts")"
	assert_eq "" "$(sqlite3 "$(DB)" "SELECT asin FROM facts GROUP BY asin, marketplace, date HAVING count(*) > 1")"
}
