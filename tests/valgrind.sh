#!/bin/sh
# valgrind.sh: small runs of every tool, the bats suite's small cases,
# under valgrind memcheck (make valgrind, part of make hardening).  Any
# invalid read or write, use of an uninitialised value or definite leak
# fails the run (--error-exitcode).  No suppressions: libjq, libcurl,
# SQLite and OpenSSL leave no definite leak in these runs (possible and
# still-reachable blocks, their one-time state, are not counted).
# Prints one line per run and "N runs, N failed".
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind is not installed" >&2; exit 1; }
B="$top/$BUILD/bin"
F="$top/tests/fixtures"
S="$top/schemas"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "$up" ] && kill "$up" 2>/dev/null' EXIT INT TERM
up=
runs=0 failed=0

# vg NAME CMD...: one run under memcheck in $tmp (stdin from $IN).
vg() {
	name=$1
	shift
	runs=$((runs + 1))
	if (cd "$tmp" && valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite "$@" <"${IN:-/dev/null}" \
	    >"$tmp/out" 2>"$tmp/err"); then
		echo "ok - valgrind $name"
	else
		st=$?
		# A tool's own failure exit is fine; memcheck's 99 is not.
		if [ "$st" -ne 99 ] && ! grep -q '^==[0-9]*==' "$tmp/err"; then
			echo "ok - valgrind $name (exit $st)"
			return
		fi
		failed=$((failed + 1))
		echo "not ok - valgrind $name"
		sed 's/^/# /' "$tmp/err" | head -60
	fi
}

IN=$F/asin-zscore/bad.in vg zscore "$B/asin-zscore" --rejects rej --stats st.json
IN=$F/asin-dedupe/keepa.in vg dedupe "$B/asin-dedupe" --days 5 --report rep.json
IN=$F/asin-feat/labels.in vg feat "$B/asin-feat" --windows 7 --label-horizon 7
vg validate "$B/asin-validate" -s "$F/asin-validate/listing.schema.json" --rejects rej \
    "$F/asin-validate/good.ndjson" "$F/asin-validate/bad.ndjson"
vg split "$B/asin-split" --config "$F/asin-split/experiments.json" "$F/asin-split/mixed.in"
IN=$F/asin-uplift/units.in vg uplift "$B/asin-uplift"
"$B/asin-db" init "$tmp/t.db" || exit 1
vg db-load "$B/asin-db" load "$tmp/t.db" facts "$F/asin-dedupe/merge.out"
vg db-query "$B/asin-db" query "$tmp/t.db" "SELECT asin, price FROM facts ORDER BY asin"
vg rank-train "$B/asin-rank" train --label label --group date,category \
    --features price,bsr,rating,review_count --min-leaf 5 --trees 3 --no-runs \
    -o m.json "$F/asin-rank/train.ndjson"
vg rank-score "$B/asin-rank" score --model "$F/asin-rank/model.json" "$F/asin-rank/valid.ndjson"
vg rank-eval "$B/asin-rank" eval --label label --score s --group q --k 1,3 \
    --output-dir ev --no-runs "$F/asin-rank/eval.ndjson"
touch "$tmp/m1.json"
SOURCE_DATE_EPOCH=1764000000 USER=ana ASIN_CARD_TEMPLATE="$S/model-card.md.tmpl" \
    vg registry-register "$B/asin-registry" register --name rank --artifact-uri m1.json \
    --signature "$F/asin-registry/sig-v1.json" --metric ndcg@10=0.71
SOURCE_DATE_EPOCH=1764000000 USER=ana \
    vg registry-promote "$B/asin-registry" promote --name rank --version 1 --to production
vg report "$B/asin-report" --days 10 --history "$F/asin-report/history.ndjson" \
    --uplift "$F/asin-report/uplift.ndjson" --metrics "$F/asin-report/eval" \
    --model "$F/asin-report/model.json" -o r.html "$F/asin-report/candidates.ndjson"
"$top/$BUILD/tests/genfacts" --seed 7 --asins 12 --days 3 >"$tmp/facts"
mkdir -p "$tmp/p"
vg shard "$B/asin-shard" -k asin,marketplace -n 3 -o p "$tmp/facts"
# asin-fetch against the fake upstream, with an archive.
"$top/$BUILD/tests/fake-upstream" --port-file "$tmp/port" >/dev/null 2>&1 &
up=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
printf 'B%09d\n' 1 2 3 4 5 >"$tmp/asins"
KEEPA_API_KEY=kp-secret-7f3a9c2e51 ASIN_FETCH_SEED=7 vg fetch "$B/asin-fetch" \
    -p "$F/asin-fetch/keepa-small.json" -b "http://127.0.0.1:$(cat "$tmp/port")" \
    --batch 2 -j 2 --archive arc --date 2026-05-10 asins

echo
echo "$runs runs, $failed failed"
[ "$failed" -eq 0 ]
