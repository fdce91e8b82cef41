#!/usr/bin/env bats
# The fault walk (tests/tools/faultwalk.sh): a small run of every tool,
# each of its I/O and allocation calls failed in turn by the LD_PRELOAD
# shim tests/tools/faultinject.c.  Every faulted run ends with the clean
# result or a message and a non-zero exit, never a crash, a hang or a half
# written file.  make check walks the short form (every I/O call, 12 of
# the malloc family), make hardening (FAULT_WALK=full) every call.  The
# cases tried per tool go to $BUILD/hardening/faultwalk.txt.
load helper

# Each run of the file writes its own record.
setup_file() {
	rm -f "$BUILD_DIR/hardening/faultwalk.txt"
}

setup() {
	[ -f "$BUILD_DIR/tests/faultinject.so" ] || skip "no faultinject.so (make unit builds it)"
	if ldd "$BUILD_DIR/bin/asin-zscore" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		skip "sanitizer build: the fault walk needs glibc's own malloc"
	fi
	unset WALK_PREP WALK_FILES WALK_NORM WALK_STATE WALK_STDIN WALK_RERUN
	cd "$BATS_TEST_TMPDIR" || return 1
}

# walk NAME CMD...: the walk of one run, with the WALK_* parameters
# (see tests/tools/faultwalk.sh) set by the test.
walk() {
	local f
	for f in "${WALK_PREP:-}" "${WALK_STATE:-}" "${WALK_NORM:-}"; do
		[ -n "$f" ] && [ "$(type -t "$f")" = function ] && export -f "$f"
	done
	export WALK_PREP WALK_FILES WALK_NORM WALK_STATE WALK_STDIN WALK_RERUN BATS_TEST_TMPDIR
	bash "$TOP/tests/tools/faultwalk.sh" "$@"
}

@test "fault walk: asin-zscore with --stats and --rejects" {
	WALK_STDIN="$FIXTURES/asin-zscore/bad.in"
	WALK_FILES="st.json"
	walk asin-zscore asin-zscore --rejects rej --stats st.json
}

@test "fault walk: asin-validate" {
	WALK_FILES="st.json"
	walk asin-validate asin-validate -s "$FIXTURES/asin-validate/listing.schema.json" \
	    --stats st.json --rejects rej "$FIXTURES/asin-validate/good.ndjson" "$FIXTURES/asin-validate/bad.ndjson"
}

@test "fault walk: asin-dedupe with a report" {
	WALK_STDIN="$FIXTURES/asin-dedupe/merge.in"
	WALK_FILES="st.json rep.json"
	walk asin-dedupe asin-dedupe --stats st.json --report rep.json --rejects rej
}

@test "fault walk: asin-feat" {
	WALK_STDIN="$FIXTURES/asin-feat/hand.in"
	WALK_FILES="st.json"
	walk asin-feat asin-feat --windows 3,5 --stats st.json
}

@test "fault walk: asin-split" {
	WALK_FILES="st.json"
	walk asin-split asin-split -e price-test --seed price-test-2024 \
	    --variants a:20,b:30,c:50 --coverage 0.8 --stats st.json "$FIXTURES/asin-split/mixed.in"
}

@test "fault walk: asin-uplift" {
	WALK_STDIN="$FIXTURES/asin-uplift/units.in"
	WALK_FILES="st.json"
	walk asin-uplift asin-uplift --stats st.json
}

@test "fault walk: asin-shard into partition files, then merged" {
	genfacts --seed 7 --asins 12 --days 3 --dup-rate 0.05 >"$BATS_TEST_TMPDIR/facts"
	shard_prep() { mkdir p; }
	WALK_PREP=shard_prep
	WALK_FILES="st.json $(printf 'p/part-%05d.ndjson ' 0 1 2)"
	WALK_RERUN=1
	walk asin-shard asin-shard -k asin,marketplace -n 3 -o p --stats st.json "$BATS_TEST_TMPDIR/facts"
	unset WALK_PREP WALK_RERUN
	WALK_FILES=st.json
	jq -c -s 'sort_by(.asin, .marketplace)[]' "$BATS_TEST_TMPDIR/facts" >"$BATS_TEST_TMPDIR/sorted"
	walk asin-shard asin-shard -k asin,marketplace --merge --stats st.json "$BATS_TEST_TMPDIR/sorted" "$BATS_TEST_TMPDIR/sorted"
}

db_rows() {
	cat <<'R'
{"asin":"B000000001","marketplace":"US","date":"2026-05-01","category":"Toys","price":9.99,"bsr":100,"rating":4.5,"review_count":10,"deal_active":true,"anomalies":["price_jump"],"sub_cat":"Leaf \u00e9","foo":{"a":[1,2]}}
{"asin":"B000000002","marketplace":"GB","date":"2026-05-01","bsr":7,"price":12,"deal_active":false}
{"asin":"B000000003","marketplace":"US","date":"2026-05-02","bsr":9,"price":1.5}
R
}

@test "fault walk: asin-db load (the rerun completes the table) and query" {
	db_rows >"$BATS_TEST_TMPDIR/rows"
	asin-db init "$BATS_TEST_TMPDIR/t.db"
	db_prep() { cp "$BATS_TEST_TMPDIR/t.db" t.db; }
	db_state() { sqlite3 t.db "PRAGMA integrity_check; SELECT asin, marketplace, date, price, bsr, extra FROM facts ORDER BY 1, 2, 3"; }
	WALK_PREP=db_prep WALK_STATE=db_state WALK_RERUN=1 WALK_FILES=st.json
	walk asin-db asin-db load --batch 2 --stats st.json t.db facts "$BATS_TEST_TMPDIR/rows"
	asin-db load "$BATS_TEST_TMPDIR/t.db" facts "$BATS_TEST_TMPDIR/rows"
	unset WALK_RERUN WALK_STATE
	WALK_FILES=
	walk asin-db asin-db query t.db "SELECT asin, price, bsr FROM facts ORDER BY asin"
}

TRAIN_ARGS="--label label --group date,category --features price,bsr,rating,review_count --min-leaf 5 --trees 3 --no-runs"

@test "fault walk: asin-rank train, score and eval" {
	local F="$FIXTURES/asin-rank"
	WALK_FILES=m.json
	# shellcheck disable=SC2086
	walk asin-rank asin-rank train $TRAIN_ARGS -o m.json "$F/train.ndjson"
	WALK_FILES=
	walk asin-rank asin-rank score --model "$F/model.json" "$F/valid.ndjson"
	rank_prep() { mkdir ev; }
	WALK_PREP=rank_prep
	WALK_FILES="ev/metrics.json ev/lift_curve.csv"
	walk asin-rank asin-rank eval --label label --score s --group q --k 1,3 --output-dir ev --no-runs "$F/eval.ndjson"
}

@test "fault walk: asin-registry register and promote" {
	export SOURCE_DATE_EPOCH=1764000000 USER=ana ASIN_CARD_TEMPLATE="$SCHEMAS/model-card.md.tmpl"
	unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_TRACKING_TOKEN
	local FX="$FIXTURES/asin-registry"
	reg_prep() { touch m1.json; }
	WALK_PREP=reg_prep
	WALK_FILES=runs/registry.json
	walk asin-registry asin-registry register --name rank --artifact-uri m1.json \
	    --signature "$FX/sig-v1.json" --metric ndcg@10=0.71 \
	    --data-span 2024-01-01:2024-03-31 --feature-version 1.0.0
	mkdir "$BATS_TEST_TMPDIR/r1" && (cd "$BATS_TEST_TMPDIR/r1" && touch m1.json &&
	    asin-registry register --name rank --artifact-uri m1.json \
	    --signature "$FX/sig-v1.json" --metric ndcg@10=0.71 \
	    --data-span 2024-01-01:2024-03-31 --feature-version 1.0.0 >/dev/null)
	reg_prep2() { cp -a "$BATS_TEST_TMPDIR/r1/." .; }
	# A promotion that failed after its commit (the stdout write) stays
	# made: registry.json is the old or the new one, never a mix.
	WALK_PREP=reg_prep2
	walk asin-registry asin-registry promote --name rank --version 1 --to production
}

@test "fault walk: asin-report with every section" {
	local F="$FIXTURES/asin-report"
	WALK_FILES=r.html
	walk asin-report asin-report --days 10 --history "$F/history.ndjson" --uplift "$F/uplift.ndjson" \
	    --metrics "$F/eval" --model "$F/model.json" -o r.html "$F/candidates.ndjson"
}

@test "fault walk: asin-fetch against the fake upstream, with an archive" {
	export KEEPA_API_KEY=kp-secret-7f3a9c2e51 ASIN_FETCH_SEED=7
	unset ASIN_ENV_FILE ASIN_FETCH_BASE_URL ASIN_PROVIDERS
	fake-upstream --port-file "$BATS_TEST_TMPDIR/port" >/dev/null 2>&1 3>&- &
	UP_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$BATS_TEST_TMPDIR/port" ] && break
		sleep 0.05
	done
	printf 'B%09d\n' 1 2 3 4 5 >"$BATS_TEST_TMPDIR/in"
	# A reset connection is retried: one more attempt, the same payload.
	fetch_norm() { sed 's/"fetched_at":"[0-9T:Z-]*"/"fetched_at":"T"/; s/"attempts":[0-9]*/"attempts":A/'; }
	# What the archive holds: which files, and the journal's batches.
	fetch_state() { find arc -type f ! -name '*.lock' | sort; jq -c '.ids' arc/2026-05-10/keepa-small/journal.ndjson 2>/dev/null | sort -u; }
	WALK_NORM=fetch_norm WALK_STATE=fetch_state WALK_RERUN=1
	# A run compiles the profile's jq programs (0.2 s): the short form
	# samples 10 I/O calls and 5 allocations, the full one 600 of each.
	local st=0
	export FAULT_IO_CAP=${FAULT_IO_CAP:-10} FAULT_CAP=${FAULT_CAP:-5} FAULT_FULL_CAP=${FAULT_FULL_CAP:-600}
	walk asin-fetch asin-fetch -p "$FIXTURES/asin-fetch/keepa-small.json" \
	    -b "http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")" --batch 2 -j 1 --retry-base 0.01 --retry-cap 0.02 \
	    --archive arc --date 2026-05-10 "$BATS_TEST_TMPDIR/in" || st=$?
	kill "$UP_PID"
	wait "$UP_PID" 2>/dev/null || :
	return "$st"
}
