#!/usr/bin/env bats
# asin-registry in MLflow mode against the fake MLflow server
# (tests/tools/fake-mlflow.py) on 127.0.0.1: the calls and their bodies in
# order, as the reference documents them; RESOURCE_ALREADY_EXISTS, 404,
# 429 with Retry-After, 5xx and a dropped version-create answer; auth and
# redaction; aliases as stages; run tracking pushed twice.
load helper

FX="$FIXTURES/asin-registry"

setup() {
	command -v python3 >/dev/null || skip "python3 absent: the fake MLflow server needs it"
	cd "$BATS_TEST_TMPDIR" || return 1
	unset MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_TRACKING_TOKEN
	export SOURCE_DATE_EPOCH=1764000000 USER=ana ASIN_CARD_TEMPLATE="$SCHEMAS/model-card.md.tmpl"
	export MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0.01 MLFLOW_HTTP_REQUEST_MAX_RETRIES=3
	SRV_PID=
	LOG="$BATS_TEST_TMPDIR/calls.ndjson"
	CTL="$BATS_TEST_TMPDIR/control.json"
}

teardown() {
	if [ -n "${SRV_PID:-}" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
}

# server [ARGS]: start the fake MLflow, export MLFLOW_TRACKING_URI.
server() {
	rm -f port
	: >"$LOG"
	python3 "$TOP/tests/tools/fake-mlflow.py" --port-file port --log "$LOG" --control "$CTL" "$@" \
	    2>server.err 3>&- &
	SRV_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s port ] && break
		sleep 0.05
	done
	[ -s port ]
	export MLFLOW_TRACKING_URI="http://127.0.0.1:$(cat port)"
}

# calls: "METHOD endpoint" per logged request, from line $1 on (default 1).
calls() {
	tail -n +"${1:-1}" "$LOG" | jq -r '"\(.method) \(.path | sub("^/api/2.0/mlflow/"; ""))"'
}

reg1() {
	asin-registry register --name rank --artifact-uri s3://models/rank/1/model.json \
	    --signature "$FX/sig-v1.json" --metric ndcg@10=0.71 --metric 'recall@50=0.9' \
	    --data-span 2024-01-01:2024-03-31 --feature-version 1.0.0 "$@"
}

reg2() {
	asin-registry register --name rank --artifact-uri s3://models/rank/2/model.json \
	    --signature "$FX/sig-v2.json" --metric ndcg@10=0.75 --feature-version 1.1.0 "$@"
}

@test "register: create model, search, create version with the contract as tags" {
	server
	run --separate-stderr reg1 --run-id 0123abc --description weekly
	assert_status 0
	[ -z "$stderr" ]
	assert_eq "POST registered-models/create
GET model-versions/search
POST model-versions/create
GET registered-models/get
POST registered-models/set-tag" "$(calls)"
	assert_eq '{"name":"rank"}' "$(sed -n 1p "$LOG" | jq -c .body)"
	assert_eq '{"filter":"name='"'"'rank'"'"'","max_results":"1000"}' "$(sed -n 2p "$LOG" | jq -c .query)"
	local create
	create=$(sed -n 3p "$LOG")
	assert_eq "application/json" "$(jq -r .content_type <<<"$create")"
	assert_eq '["description","name","run_id","source","tags"]' "$(jq -c '.body | keys' <<<"$create")"
	assert_eq '["s3://models/rank/1/model.json","0123abc","weekly"]' "$(jq -c '.body | [.source,.run_id,.description]' <<<"$create")"
	assert_eq '{"asin.content_key":"CK","asin.data_span":"2024-01-01:2024-03-31","asin.feature_version":"1.0.0","asin.metric.ndcg_at_10":"0.71","asin.metric.recall_at_50":"0.9","asin.metric_names":"{\"ndcg_at_10\":\"ndcg@10\",\"recall_at_50\":\"recall@50\"}","asin.registered_by":"ana","asin.signature":"SIG","asin.signature_key":"SK"}' \
	    "$(jq -cS '.body.tags | from_entries | .["asin.content_key"] = "CK" | .["asin.signature_key"] = "SK" | .["asin.signature"] = "SIG"' <<<"$create")"
	# the signature tag is the compact JSON of the checked signature
	assert_eq "$(jq -c .signature <<<"$output")" "$(jq -r '.body.tags | from_entries | .["asin.signature"]' <<<"$create")"
	# the record reads back the same as in local mode, metric names included
	[ "$(jq -c '[.version,.artifact_uri,.metrics,.data_span,.feature_version,.run_id,.description,.status,.aliases]' <<<"$output")" = \
	    '[1,"s3://models/rank/1/model.json",{"ndcg@10":0.71,"recall@50":0.9},{"from":"2024-01-01","to":"2024-03-31"},"1.0.0","0123abc","weekly","active",[]]' ]
	[ "$(jq -c .signature <<<"$output")" = "$(jq -c .signature <<<"$(asin-registry --local register --name rank --artifact-uri s3://x --signature "$FX/sig-v1.json")")" ]
	[ "$(sed -n 5p "$LOG" | jq -c '.body | [.name,.key,(.value | fromjson | [.action,.version,.by])]')" = '["rank","asin.history.000001",["register",1,"ana"]]' ]
}

@test "register: an existing name (400 or 409 RESOURCE_ALREADY_EXISTS) is fine; the same content is not registered twice" {
	server
	reg1 >/dev/null
	: >"$LOG"
	run --separate-stderr reg1
	assert_status 0
	assert_eq "asin-registry: rank: same content as version 1: not registered again" "$stderr"
	assert_eq "POST registered-models/create
GET model-versions/search
GET registered-models/get" "$(calls)"
	echo '{"fail":[{"path":"registered-models/create","status":409,"error_code":"RESOURCE_ALREADY_EXISTS"}]}' >"$CTL"
	run --separate-stderr reg2
	assert_status 0
	[ "$(jq .version <<<"$output")" = 2 ]
	echo '{"fail":[{"path":"registered-models/create","status":400,"error_code":"INVALID_PARAMETER_VALUE","times":9}]}' >"$CTL"
	run --separate-stderr reg2 --metric x=1
	assert_status 1
	assert_eq "asin-registry: registered-models/create: HTTP 400 INVALID_PARAMETER_VALUE: injected failure" "$stderr"
}

@test "a dropped answer to a version create does not make a second version" {
	server
	reg1 >/dev/null
	echo '{"drop_after_create":1}' >"$CTL"
	run --separate-stderr reg2
	assert_status 0
	[ "$(jq .version <<<"$output")" = 2 ]
	[ "$(grep -c '"path": "/api/2.0/mlflow/model-versions/create"' "$LOG")" = 2 ]
	rm "$CTL"
	[ "$(asin-registry list --name rank | jq -sc 'map(.version)')" = '[1,2]' ]
	[ "$(asin-registry card rank@2 | grep -c '| register | 2 | registered | ana |')" = 1 ]
}

@test "429 with Retry-After waits as told; 5xx is retried; a lasting 5xx fails naming the call" {
	server
	echo '{"fail":[{"path":"model-versions/search","status":429,"retry_after":"1","times":1,"error_code":"REQUEST_LIMIT_EXCEEDED"},{"path":"registered-models/create","status":503,"times":2}]}' >"$CTL"
	local t0=$SECONDS
	run --separate-stderr reg1
	assert_status 0
	[ $((SECONDS - t0)) -ge 1 ]
	assert_eq "POST registered-models/create
POST registered-models/create
POST registered-models/create
GET model-versions/search
GET model-versions/search
POST model-versions/create
GET registered-models/get
POST registered-models/set-tag" "$(calls)"
	echo '{"fail":[{"path":"model-versions/get","status":500,"times":99,"error_code":"INTERNAL_ERROR"}]}' >"$CTL"
	run --separate-stderr asin-registry show rank@1
	assert_status 1
	assert_eq "asin-registry: rank@1: HTTP 500 INTERNAL_ERROR: injected failure" "$stderr"
	[ "$(grep -c model-versions/get "$LOG")" = 4 ]
	echo '{"fail":[{"path":"model-versions/create","status":503,"times":99}]}' >"$CTL"
	: >"$LOG"
	run --separate-stderr reg2
	assert_status 1
	assert_eq "asin-registry: model-versions/create: HTTP 503 TEMPORARILY_UNAVAILABLE: injected failure" "$stderr"
	# each create was preceded by a search for its content key
	[ "$(calls | grep -c 'POST model-versions/create')" = 4 ]
	[ "$(calls | grep -B2 'POST model-versions/create' | grep -c 'GET model-versions/search')" = 4 ]
}

@test "404: an unknown version or model is a clear error; a server without aliases is named" {
	server
	run --separate-stderr asin-registry show rank@3
	assert_status 1
	assert_eq "asin-registry: rank@3: no such version" "$stderr"
	reg1 >/dev/null
	run --separate-stderr asin-registry show rank@9
	assert_status 1
	assert_eq "asin-registry: rank@9: no such version" "$stderr"
	run --separate-stderr asin-registry resolve rank@production
	assert_status 1
	assert_eq "asin-registry: rank@production: no version holds production" "$stderr"
	echo '{"no_aliases":1}' >"$CTL"
	run --separate-stderr asin-registry resolve rank@production
	assert_status 1
	assert_eq "asin-registry: rank@production: the server lacks model aliases (HTTP 404 on registered-models/alias); MLflow 2.3 or later is needed" "$stderr"
	run --separate-stderr asin-registry --tracking-uri http://127.0.0.1:1 list --name rank
	assert_status 1
	[[ "$stderr" == "asin-registry: GET http://127.0.0.1:1/api/2.0/mlflow/model-versions/search: "*"(after retries)" ]]
}

@test "promote: checks read-only, moves the alias, archives the previous holder, reads it back" {
	server
	reg1 >/dev/null
	reg2 >/dev/null
	asin-registry promote --name rank --version 1 --to production >/dev/null
	local n
	n=$(($(wc -l <"$LOG") + 1))
	run --separate-stderr asin-registry promote --name rank --version 2 --to production
	assert_status 1
	assert_eq 'asin-registry: rank: promote version 2 to production refused: signature differs from version 1 (production): retyped feature "rank_drops_30" (long -> double); added feature "bsr_log_mom_30" (double); removed feature "price"; feature version 1.0.0 -> 1.1.0 (--force overrides)' "$stderr"
	# nothing but reads
	[ -z "$(calls "$n" | grep -v '^GET ')" ]
	n=$(($(wc -l <"$LOG") + 1))
	run --separate-stderr asin-registry promote --name rank --version 2 --to production --force --by bo
	assert_status 0
	assert_eq "GET model-versions/get
GET registered-models/get
GET registered-models/alias
GET registered-models/get
POST model-versions/set-tag
POST model-versions/set-tag
POST registered-models/alias
POST model-versions/set-tag
POST registered-models/alias
POST model-versions/set-tag
POST model-versions/set-tag
GET registered-models/get
POST registered-models/set-tag
GET registered-models/alias
GET registered-models/get" "$(calls "$n")"
	assert_eq '{"alias":"production","name":"rank","version":"2"}
{"alias":"production-previous","name":"rank","version":"1"}' "$(tail -n +"$n" "$LOG" | jq -c 'select(.method == "POST" and (.path | endswith("/alias"))) | .body')"
	assert_eq '{"key":"asin.status","name":"rank","value":"archived","version":"1"}' \
	    "$(tail -n +"$n" "$LOG" | jq -c 'select(.body.key == "asin.status" and .body.version == "1") | .body')"
	[ "$(asin-registry resolve rank@production)" = s3://models/rank/2/model.json ]
	run --separate-stderr asin-registry list --name rank --format table
	assert_eq 'VERSION  STATUS    ALIASES              FEATURES  DATA_SPAN              CREATED               ARTIFACT_URI
1        archived  production-previous  1.0.0     2024-01-01:2024-03-31  2025-11-24T16:00:00Z  s3://models/rank/1/model.json
2        active    production           1.1.0     -                      2025-11-24T16:00:01Z  s3://models/rank/2/model.json' "$output"
	run --separate-stderr asin-registry card rank@production
	[[ "$output" == *'| 2025-11-24T16:00:00Z | production | 1 -> 2 | **forced**: signature differs from version 1 (production): retyped feature "rank_drops_30" (long -> double); added feature "bsr_log_mom_30" (double); removed feature "price"; feature version 1.0.0 -> 1.1.0 | bo |'* ]]
}

@test "--alias-map and --mlflow-stages: champion alias and the deprecated stage on request" {
	server
	reg1 >/dev/null
	run --separate-stderr asin-registry --alias-map production=champion,staging=challenger promote --name rank --version 1 --to production --mlflow-stages
	assert_status 0
	[ "$(jq -r .stage <<<"$output")" = champion ]
	assert_eq '{"archive_existing_versions":true,"name":"rank","stage":"Production","version":"1"}' \
	    "$(jq -c 'select(.path | endswith("transition-stage")) | .body' "$LOG")"
	[ "$(asin-registry resolve rank@champion)" = s3://models/rank/1/model.json ]
	[ "$(asin-registry --alias-map production=champion,staging=challenger show rank@production | jq -c .aliases)" = '["champion"]' ]
	run --separate-stderr asin-registry --alias-map prod=x list --name rank
	assert_status 2
	: >"$LOG"
	asin-registry promote --name rank --version 1 --to staging >/dev/null
	[ -z "$(grep transition-stage "$LOG")" ]
}

@test "search pages are followed; a pending registration is waited for" {
	server
	echo '{"page_size":2}' >"$CTL"
	local i
	for i in 1 2 3; do reg1 --metric "i=$i" >/dev/null; done
	[ "$(asin-registry list --name rank | jq -sc 'map(.version)')" = '[1,2,3]' ]
	[ "$(jq -r 'select(.path | endswith("model-versions/search")) | .query.page_token // "-"' "$LOG" | tail -2 | tr '\n' ' ')" = '- 2 ' ]
	echo '{"pending_first":1}' >"$CTL"
	run --separate-stderr reg1 --metric i=4
	assert_status 0
	[ "$(jq .version <<<"$output")" = 4 ]
	# pending on the first get, ready on the second
	[ "$(grep -c 'model-versions/get' "$LOG")" = 2 ]
}

@test "auth: Basic from username and password, else Bearer; secrets never printed" {
	server --auth basic:ana:s3cr3t-pw
	MLFLOW_TRACKING_USERNAME=ana MLFLOW_TRACKING_PASSWORD=s3cr3t-pw reg1 >/dev/null
	[ "$(jq -r .authorization "$LOG" | sort -u)" = Basic ]
	run --separate-stderr env MLFLOW_TRACKING_TOKEN=tok-9 asin-registry -v list --name rank
	assert_status 1
	assert_eq "asin-registry: rank: HTTP 403: permission denied (check MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)" "$(tail -1 <<<"$stderr")"
	run --separate-stderr asin-registry list --name rank
	assert_status 1
	assert_eq "asin-registry: rank: HTTP 401: not authenticated (check MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN)" "$stderr"
	teardown
	server --auth bearer:tok-9
	MLFLOW_TRACKING_TOKEN=tok-9 reg1 >/dev/null
	[ "$(jq -r .authorization "$LOG" | sort -u)" = Bearer ]
	# a password in the URI is not shown either
	run --separate-stderr env MLFLOW_TRACKING_URI="http://u:pw-77@127.0.0.1:$(cat port)" asin-registry -v show rank@1
	[[ "$stderr" != *pw-77* ]]
	[[ "$stderr" == *"http://***@127.0.0.1:"* ]]
}

@test "log-runs: experiment, run, batches with mapped names; pushing again logs nothing" {
	server
	run --separate-stderr asin-registry log-runs --experiment weekly "$FX/runs.ndjson"
	assert_status 0
	[ -z "$stderr" ]
	assert_eq '{"run_key":"5f7aed5eddb9f7e6","experiment_id":"1","run_id":"00000000000000000000000000000001","status":"logged"}
{"run_key":"29a2dbe301db4909","experiment_id":"1","run_id":"00000000000000000000000000000002","status":"logged"}' "$output"
	assert_eq "GET experiments/get-by-name
POST experiments/create
POST runs/search
POST runs/create
POST runs/log-batch
POST runs/update
GET experiments/get-by-name
POST runs/search
POST runs/create
POST runs/log-batch
POST runs/update" "$(calls)"
	assert_eq '{"experiment_id":"1","run_name":"train-5f7aed5eddb9f7e6","start_time":1711951200000,"tags":[{"key":"asin.run_key","value":"5f7aed5eddb9f7e6"}]}' \
	    "$(jq -c 'select(.path | endswith("runs/create")) | .body' "$LOG" | head -1)"
	assert_eq '[["ndcg_at_10.train","ndcg_at_10.valid"],["objective","trees","lr","leaves","label_gain"]]' \
	    "$(jq -c 'select(.path | endswith("log-batch")) | .body | [[.metrics[].key],[.params[].key]]' "$LOG" | head -1)"
	assert_eq '{"end_time":1711951200000,"run_id":"00000000000000000000000000000001","status":"FINISHED"}' \
	    "$(jq -c 'select(.path | endswith("runs/update")) | .body' "$LOG" | head -1)"
	: >"$LOG"
	run --separate-stderr asin-registry log-runs --experiment weekly "$FX/runs.ndjson"
	assert_status 0
	[ "$(jq -r .status <<<"$output" | tr '\n' ' ')" = 'present present ' ]
	[ -z "$(calls | grep -E 'runs/(create|log-batch)')" ]
}

@test "log-runs: a run created but not finished is completed, not duplicated" {
	server
	echo '{"fail":[{"path":"runs/update","status":400,"error_code":"INVALID_PARAMETER_VALUE"}]}' >"$CTL"
	run --separate-stderr asin-registry log-runs "$FX/runs.ndjson"
	assert_status 1
	assert_eq "asin-registry: $FX/runs.ndjson:1: runs/update: HTTP 400 INVALID_PARAMETER_VALUE: injected failure" "$stderr"
	rm "$CTL"
	run --separate-stderr asin-registry log-runs "$FX/runs.ndjson"
	assert_status 0
	[ "$(grep -c 'runs/create' "$LOG")" = 2 ]
	[ "$(jq -r .run_id <<<"$output" | head -1)" = 00000000000000000000000000000001 ]
}
