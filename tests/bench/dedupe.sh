#!/bin/sh
# dedupe.sh: asin-dedupe (issue 11) against the peers a user would pick.
#   1. ROWS flat fact rows (default 1M, ~390 MB) with 5% same-day
#      re-fetches: asin-dedupe in memory and --sorted (on the same rows in
#      key order), DuckDB on one thread keeping the newest row per key
#      (QUALIFY row_number() ... ORDER BY fetched_at DESC = 1, in key
#      order) and pandas (sort, drop_duplicates, sort).  asin-dedupe also
#      checks every row against the fact schema and flags anomalies,
#      which the peers do not.
#   2. Keepa envelopes from the fake upstream through asin-fetch, about
#      400 days of history each, enough for ROWS day rows: asin-dedupe
#      --days 400 in memory and --sorted, against DuckDB reading the same
#      envelopes and taking the as-of value of every day of seven csv
#      series with an ASOF JOIN, one row per day and series (asin-dedupe
#      reads eleven series into one checked row per day), and pandas
#      doing the same with merge_asof (dedupe_keepa_pandas.py).
# Peers come from tests/bench/setup-peers.sh (run here when missing); they
# write to a file under $BENCH_OUT, asin-dedupe to /dev/null.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

B=$BENCH_OUT
ROWS=${ROWS:-1000000}
case $ROWS in 1000000) tag=1m ;; *) tag=$ROWS ;; esac
IN=$(bench_facts "dedupe_$tag" --seed 42 --rows "$ROWS" --days 100 \
    --dup-rate 0.05) || exit 1
SORTED=$(bench_facts "dedupe_${tag}_sorted" --seed 42 --rows "$ROWS" \
    --days 100 --dup-rate 0.05 --sorted) || exit 1
rows=$(file_rows "$IN")
bytes=$(file_bytes "$IN")

sh "$TOP/tests/bench/setup-peers.sh" >&2 || echo "bench: peers incomplete" >&2
have_duckdb=0
[ -d "$TOP/${BUILD:-build}/peers/node_modules/@duckdb/node-api" ] &&
    command -v node >/dev/null && have_duckdb=1
have_pandas=0
/usr/bin/python3 -c 'import pandas' 2>/dev/null && have_pandas=1

cat >"$B/dedupe_duckdb.sql" <<'SQL'
COPY (
  SELECT * FROM read_json('${IN}', format = 'newline_delimited')
  QUALIFY row_number() OVER (PARTITION BY asin, marketplace, date
                             ORDER BY fetched_at DESC) = 1
  ORDER BY asin, marketplace, date
) TO '${OUT}' (FORMAT json);
SQL

table_head "newest row per (asin, marketplace, date): $rows rows, $((bytes / 1000000)) MB, 5% re-fetches"
measure "asin-dedupe" "$rows" "$bytes" asin-dedupe "$IN"
measure "asin-dedupe --sorted (rows in key order)" "$rows" "$bytes" \
    asin-dedupe --sorted "$SORTED"
if [ $have_duckdb = 1 ]; then
	measure "duckdb-1t newest per key" "$rows" "$bytes" \
	    node "$TOP/tests/bench/zscore-duckdb.cjs" --threads 1 \
	    "$B/dedupe_duckdb.sql" IN="$IN" OUT="$B/dedupe_peer.json"
else
	printf '| %-46s | skipped: DuckDB not installed |\n' duckdb
fi
if [ $have_pandas = 1 ]; then
	measure "pandas newest per key" "$rows" "$bytes" /usr/bin/python3 \
	    "$TOP/tests/bench/dedupe_pandas.py" "$IN" "$B/dedupe_peer.json"
else
	printf '| %-46s | skipped: pandas not installed |\n' pandas
fi
rm -f "$B/dedupe_peer.json"
echo
ratio "asin-dedupe" "duckdb-1t newest per key"
ratio "asin-dedupe --sorted (rows in key order)" "duckdb-1t newest per key"
ratio "asin-dedupe" "pandas newest per key"

# Keepa envelopes: fetched once from the fake upstream and kept.
days=400
nenv=$(( (ROWS + days - 1) / days ))
KIN=$B/dedupe_keepa_$nenv.ndjson
if [ ! -s "$KIN" ]; then
	echo "bench: fetching $nenv Keepa envelopes from the fake upstream" >&2
	rm -f "$B/dedupe_up.port"
	fake-upstream --port-file "$B/dedupe_up.port" \
	    --now "$(date -u -d 2026-05-10T06:00:00Z +%s)" >/dev/null 2>&1 &
	up=$!
	i=0
	while [ ! -s "$B/dedupe_up.port" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	awk -v n="$nenv" 'BEGIN { for (i = 1; i <= n; i++) printf "B0%08d\n", i }' \
	    >"$B/dedupe_asins.txt"
	KEEPA_API_KEY=bench ASIN_ENV_FILE=/dev/null asin-fetch \
	    -b "http://127.0.0.1:$(cat "$B/dedupe_up.port")" --date 2026-05-10 \
	    "$B/dedupe_asins.txt" >"$KIN.tmp" && mv "$KIN.tmp" "$KIN"
	kill $up 2>/dev/null
	wait $up 2>/dev/null
fi
krows=$(asin-dedupe --days $days "$KIN" | wc -l | tr -d ' ')
kbytes=$(file_bytes "$KIN")

cat >"$B/dedupe_keepa_duckdb.sql" <<'SQL'
CREATE TABLE e AS SELECT asin, marketplace, unnest([
    {f: 'price_amazon', a: CAST(json_extract(payload, '$.csv[0]') AS BIGINT[])},
    {f: 'price_new', a: CAST(json_extract(payload, '$.csv[1]') AS BIGINT[])},
    {f: 'bsr', a: CAST(json_extract(payload, '$.csv[3]') AS BIGINT[])},
    {f: 'list_price', a: CAST(json_extract(payload, '$.csv[4]') AS BIGINT[])},
    {f: 'offers_new', a: CAST(json_extract(payload, '$.csv[11]') AS BIGINT[])},
    {f: 'rating', a: CAST(json_extract(payload, '$.csv[16]') AS BIGINT[])},
    {f: 'review_count', a: CAST(json_extract(payload, '$.csv[17]') AS BIGINT[])}
  ]) AS s
  FROM read_json('${IN}', format = 'newline_delimited',
    columns = {asin: 'VARCHAR', marketplace: 'VARCHAR', date: 'DATE', payload: 'JSON'});
CREATE TABLE pts AS
  SELECT asin, marketplace, f, a[2 * i + 1] AS t, a[2 * i + 2] AS v
    FROM (SELECT asin, marketplace, s.f AS f, s.a AS a,
                 unnest(range(len(s.a) // 2)) AS i FROM e);
CREATE TABLE d AS
  SELECT asin, marketplace, f, unnest(range(20583 - ${DAYS} + 1, 20584)) AS day
    FROM (SELECT DISTINCT asin, marketplace, f FROM pts);
COPY (
  SELECT d.asin, d.marketplace, d.day, d.f,
         CASE WHEN pts.v < 0 THEN NULL ELSE pts.v END AS v
    FROM d ASOF LEFT JOIN pts
      ON d.asin = pts.asin AND d.marketplace = pts.marketplace AND d.f = pts.f
     AND (d.day + 1) * 1440 - 1 - 21564000 >= pts.t
   ORDER BY 1, 2, 3, 4
) TO '${OUT}' (FORMAT json);
SQL

table_head "Keepa envelopes to day rows: $nenv envelopes, $krows rows, $((kbytes / 1000000)) MB"
measure "asin-dedupe --days $days (Keepa)" "$krows" "$kbytes" \
    asin-dedupe --days $days "$KIN"
measure "asin-dedupe --days $days --sorted (Keepa)" "$krows" "$kbytes" \
    asin-dedupe --days $days --sorted "$KIN"
if [ $have_duckdb = 1 ]; then
	measure "duckdb-1t as-of 7 series (Keepa)" "$krows" "$kbytes" \
	    node "$TOP/tests/bench/zscore-duckdb.cjs" --threads 1 \
	    "$B/dedupe_keepa_duckdb.sql" IN="$KIN" OUT="$B/dedupe_peer.json" \
	    DAYS=$days
fi
if [ $have_pandas = 1 ]; then
	measure "pandas as-of 7 series (Keepa)" "$krows" "$kbytes" \
	    /usr/bin/python3 "$TOP/tests/bench/dedupe_keepa_pandas.py" "$KIN" \
	    "$B/dedupe_peer.json" $days
else
	printf '| %-46s | skipped: pandas not installed |\n' pandas
fi
rm -f "$B/dedupe_peer.json"
echo
ratio "asin-dedupe --days $days (Keepa)" "duckdb-1t as-of 7 series (Keepa)"
ratio "asin-dedupe --days $days --sorted (Keepa)" "duckdb-1t as-of 7 series (Keepa)"
ratio "asin-dedupe --days $days (Keepa)" "pandas as-of 7 series (Keepa)"
