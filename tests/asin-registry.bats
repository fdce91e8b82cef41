#!/usr/bin/env bats
# asin-registry in local mode: exact records, the promotion contract, cards,
# dry-run run tracking, two concurrent writers and kill -9 during writes.
load helper

FX="$FIXTURES/asin-registry"

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	unset MLFLOW_TRACKING_URI MLFLOW_TRACKING_USERNAME MLFLOW_TRACKING_PASSWORD MLFLOW_TRACKING_TOKEN
	export SOURCE_DATE_EPOCH=1764000000 USER=ana ASIN_CARD_TEMPLATE="$SCHEMAS/model-card.md.tmpl"
	touch m1.json m2.json m3.json
}

reg1() {
	asin-registry register --name rank --artifact-uri m1.json \
	    --signature "$FX/sig-v1.json" --metric ndcg@10=0.71 \
	    --data-span 2024-01-01:2024-03-31 --feature-version 1.0.0 "$@"
}

reg2() {
	asin-registry register --name rank --artifact-uri m2.json \
	    --signature "$FX/sig-v2.json" --metric ndcg@10=0.75 \
	    --data-span 2024-01-08:2024-04-07 --feature-version 1.1.0 "$@"
}

SIG1='{"inputs":[{"name":"bsr_log_slope_30","type":"double","required":true},{"name":"rank_drops_30","type":"long","required":true},{"name":"review_velocity_30","type":"double","required":true},{"name":"price","type":"double","required":false}],"outputs":[{"name":"rank_score","type":"double","required":true}]}'

@test "register: one exact record, numbered per name, in runs/registry.json" {
	run --separate-stderr reg1
	assert_status 0
	assert_eq '{"name":"rank","version":1,"created_at":"2025-11-24T16:00:00Z","artifact_uri":"m1.json","metrics":{"ndcg@10":0.71},"data_span":{"from":"2024-01-01","to":"2024-03-31"},"feature_version":"1.0.0","signature":'"$SIG1"',"run_id":null,"description":null,"content_key":"63a8bec1c9a16864","registered_by":"ana","status":"active","aliases":[]}' "$output"
	[ -z "$stderr" ]
	[ "$(jq -r '.models.rank.versions | length' runs/registry.json)" = 1 ]
	run --separate-stderr asin-registry register --name other --artifact-uri m2.json --signature "$FX/sig-v2.json"
	assert_status 0
	[ "$(jq -c '[.version,.data_span,.feature_version,.metrics]' <<<"$output")" = '[1,null,null,{}]' ]
}

@test "register: the same content again is the same version, said on stderr" {
	reg1 >/dev/null
	cp runs/registry.json before.json
	run --separate-stderr reg1
	assert_status 0
	[ "$(jq .version <<<"$output")" = 1 ]
	assert_eq "asin-registry: rank: same content as version 1: not registered again" "$stderr"
	cmp before.json runs/registry.json
	run --separate-stderr reg1 -q
	[ -z "$stderr" ]
	run --separate-stderr reg1 --metric ndcg@10=0.72
	[ "$(jq .version <<<"$output")" = 2 ]
}

@test "register --model: signature, metrics, span and feature version from an asin-rank model" {
	cp "$FX/model.json" model.json
	run --separate-stderr asin-registry register --name rank --artifact-uri model.json --model model.json --run-id r1 --description weekly
	assert_status 0
	# asin-rank's number/integer become double/long, every input required
	assert_eq '{"name":"rank","version":1,"created_at":"2025-11-24T16:00:00Z","artifact_uri":"model.json","metrics":{"train_ndcg@10":0.9501028245705803,"valid_ndcg@10":0.8123},"data_span":{"from":"2024-03-01","to":"2024-03-28"},"feature_version":"1.0.0","signature":'"${SIG1/\"required\":false/\"required\":true}"',"run_id":"r1","description":"weekly","content_key":"CK","registered_by":"ana","status":"active","aliases":[]}' "$(sed 's/"content_key":"[0-9a-f]\{16\}"/"content_key":"CK"/' <<<"$output")"
	# flags beat the model; eval's metrics.json adds the holdout metrics
	run --separate-stderr asin-registry register --name rank --artifact-uri model.json --model model.json \
	    --feature-version 2.0.0 --data-span 2024-01-01:2024-01-31 --metrics-file "$FX/eval/metrics.json" --metric map=0.7
	assert_status 0
	assert_eq '[2,"2.0.0",{"from":"2024-01-01","to":"2024-01-31"},{"train_ndcg@10":0.9501028245705803,"valid_ndcg@10":0.8123,"ndcg@1":0.5,"ndcg@10":0.7634,"map":0.7}]' \
	    "$(jq -c '[.version,.feature_version,.data_span,.metrics]' <<<"$output")"
	echo '{"format":"other"}' >bad.json
	run --separate-stderr asin-registry register --name rank --artifact-uri model.json --model bad.json
	assert_status 1
	assert_eq 'asin-registry: bad.json: not an asin-rank model (no "format": "asin-rank-model")' "$stderr"
}

@test "register: bad flags and bad signatures are located errors" {
	run --separate-stderr asin-registry register --artifact-uri m1.json --signature "$FX/sig-v1.json"
	assert_status 2
	assert_eq "asin-registry: register needs --name
Try 'asin-registry --help' for more information." "$stderr"
	run --separate-stderr asin-registry register --name rank --artifact-uri m1.json
	assert_status 2
	[[ "$stderr" == "asin-registry: register needs --signature or --model"* ]]
	run --separate-stderr reg1 --metric ndcg@10=high
	assert_status 2
	[[ "$stderr" == "asin-registry: --metric 'ndcg@10=high': expected NAME=NUMBER"* ]]
	run --separate-stderr asin-registry register --name rank --artifact-uri m1.json --signature "$FX/sig-v1.json" --data-span 2024-03-01:2024-01-01
	assert_status 2
	[[ "$stderr" == "asin-registry: --data-span '2024-03-01:2024-01-01': expected FROM:TO with FROM <= TO"* ]]
	run --separate-stderr asin-registry register --name 'ra nk' --artifact-uri m1.json --signature "$FX/sig-v1.json"
	assert_status 2
	echo '{"inputs":[{"name":"a","type":"float64"}],"outputs":[]}' >s.json
	run --separate-stderr asin-registry register --name rank --artifact-uri m1.json --signature s.json
	assert_status 1
	assert_eq 'asin-registry: s.json: signature: inputs[0] "a": type must be one of boolean, integer, long, float, double, string, binary, datetime' "$stderr"
	echo '{"inputs":[{"name":"a","type":"double"},{"name":"a","type":"long"}],"outputs":[]}' >s.json
	run --separate-stderr asin-registry register --name rank --artifact-uri m1.json --signature s.json
	assert_eq 'asin-registry: s.json: signature: inputs: duplicate name "a"' "$stderr"
	echo '{"inputs":[{"name":"a","type":"double"}' >s.json
	run --separate-stderr asin-registry register --name rank --artifact-uri m1.json --signature s.json
	assert_status 1
	[[ "$stderr" == "asin-registry: s.json: "* ]]
	run --separate-stderr asin-registry register --name rank --artifact-uri gone.json --signature "$FX/sig-v1.json"
	assert_status 1
	assert_eq "asin-registry: --artifact-uri gone.json: no such file (register the artifact after writing it)" "$stderr"
	[ ! -e runs/registry.json ]
}

@test "promote: a changed signature exits 1 naming every added, removed and retyped feature" {
	reg1 >/dev/null
	reg2 >/dev/null
	run --separate-stderr asin-registry promote --name rank --version 1 --to production
	assert_status 0
	assert_eq '{"ts":"2025-11-24T16:00:00Z","action":"promote","name":"rank","version":1,"stage":"production","previous":null,"by":"ana","forced":false,"changes":"first holder","note":null}' "$output"
	cp runs/registry.json before.json
	run --separate-stderr asin-registry promote --name rank --version 2 --to production
	assert_status 1
	[ -z "$output" ]
	assert_eq 'asin-registry: rank: promote version 2 to production refused: signature differs from version 1 (production): retyped feature "rank_drops_30" (long -> double); added feature "bsr_log_mom_30" (double); removed feature "price"; feature version 1.0.0 -> 1.1.0 (--force overrides)' "$stderr"
	cmp before.json runs/registry.json
	[ "$(asin-registry resolve rank@production)" = m1.json ]
}

@test "promote: the pipeline's declared feature version and a moved feature are refused too" {
	reg1 >/dev/null
	run --separate-stderr asin-registry promote --name rank --version 1 --to staging --feature-version 1.1.0
	assert_status 1
	assert_eq 'asin-registry: rank: promote version 1 to staging refused: feature version 1.0.0, the pipeline declares 1.1.0 (--force overrides)' "$stderr"
	asin-registry promote --name rank --version 1 --to staging --feature-version 1.0.0 >/dev/null
	jq '.inputs |= [.[1], .[0], .[2], .[3]]' "$FX/sig-v1.json" >moved.json
	asin-registry register --name rank --artifact-uri m3.json --signature moved.json --feature-version 1.0.0 >/dev/null
	run --separate-stderr asin-registry promote --name rank --version 2 --to staging
	assert_status 1
	assert_eq 'asin-registry: rank: promote version 2 to staging refused: signature differs from version 1 (staging): moved feature "rank_drops_30" (2 -> 1); moved feature "bsr_log_slope_30" (1 -> 2) (--force overrides)' "$stderr"
	run --separate-stderr asin-registry promote --name rank --version 1 --to staging
	assert_status 1
	assert_eq 'asin-registry: rank: version 1 already holds staging' "$stderr"
	run --separate-stderr asin-registry promote --name rank --version 9 --to staging
	assert_status 1
	assert_eq 'asin-registry: rank: no version 9' "$stderr"
	run --separate-stderr asin-registry promote --name rank --version 2 --to prod
	assert_status 2
	run --separate-stderr asin-registry promote --name rank --version x --to staging
	assert_status 2
}

@test "promote --force: archives the previous holder and says so in the history" {
	reg1 >/dev/null
	reg2 >/dev/null
	asin-registry promote --name rank --version 1 --to production >/dev/null
	run --separate-stderr asin-registry promote --name rank --version 2 --to production --force --note "new momentum feature" --by bo
	assert_status 0
	assert_eq '{"ts":"2025-11-24T16:00:00Z","action":"promote","name":"rank","version":2,"stage":"production","previous":1,"by":"bo","forced":true,"changes":"signature differs from version 1 (production): retyped feature \"rank_drops_30\" (long -> double); added feature \"bsr_log_mom_30\" (double); removed feature \"price\"; feature version 1.0.0 -> 1.1.0","note":"new momentum feature"}' "$output"
	[[ "$stderr" == "asin-registry: rank: version 2 promoted to production by --force: signature differs"* ]]
	run --separate-stderr asin-registry list --name rank --format table
	assert_eq 'VERSION  STATUS    ALIASES              FEATURES  DATA_SPAN              CREATED               ARTIFACT_URI
1        archived  production-previous  1.0.0     2024-01-01:2024-03-31  2025-11-24T16:00:00Z  m1.json
2        active    production           1.1.0     2024-01-08:2024-04-07  2025-11-24T16:00:00Z  m2.json' "$output"
	[ "$(asin-registry resolve rank@production)" = m2.json ]
	[ "$(asin-registry resolve rank@production-previous)" = m1.json ]
	[ "$(jq -c '[.version,.status,.aliases,.archived_at]' <<<"$(asin-registry show rank@1)")" = '[1,"archived",["production-previous"],"2025-11-24T16:00:00Z"]' ]
	[ "$(jq -c '[.models.rank.history[] | [.action, .version, .forced]]' runs/registry.json)" = '[["register",1,null],["register",2,null],["promote",1,false],["promote",2,true]]' ]
}

@test "list, show and resolve: NDJSON, a table, and located errors" {
	reg1 >/dev/null
	reg2 >/dev/null
	run --separate-stderr asin-registry list --name rank
	assert_status 0
	[ "$(jq -c '[.version,.aliases]' <<<"$output" | tr '\n' ' ')" = '[1,[]] [2,[]] ' ]
	[ "$(asin-registry show rank | jq .version)" = 2 ]
	[ "$(asin-registry show rank@latest | jq .version)" = 2 ]
	[ "$(asin-registry resolve rank@1)" = m1.json ]
	run --separate-stderr asin-registry show rank@2 --format table
	assert_eq 'VERSION  STATUS  ALIASES  FEATURES  DATA_SPAN              CREATED               ARTIFACT_URI
2        active  -        1.1.0     2024-01-08:2024-04-07  2025-11-24T16:00:00Z  m2.json' "$output"
	run --separate-stderr asin-registry resolve rank@production
	assert_status 1
	assert_eq 'asin-registry: rank@production: no version holds production' "$stderr"
	run --separate-stderr asin-registry show rank@7
	assert_status 1
	assert_eq 'asin-registry: rank@7: no such version' "$stderr"
	run --separate-stderr asin-registry show 'rank@a b'
	assert_status 2
	run --separate-stderr asin-registry list --name nobody
	assert_status 0
	[ -z "$output" ]
	run --separate-stderr asin-registry show
	assert_status 2
	assert_eq "asin-registry: show takes one NAME[@VERSION|@ALIAS] operand
Try 'asin-registry --help' for more information." "$stderr"
	run --separate-stderr asin-registry list --name rank --to production
	assert_status 2
	assert_eq "asin-registry: list does not take --to
Try 'asin-registry --help' for more information." "$stderr"
	run --separate-stderr asin-registry frobnicate
	assert_status 2
	run --separate-stderr asin-registry
	assert_status 2
}

@test "a registry file that is not one is a clear error, not a reset" {
	mkdir -p runs
	echo '{"models":' >runs/registry.json
	run --separate-stderr reg1
	assert_status 1
	[[ "$stderr" == "asin-registry: runs/registry.json: not a registry file: "* ]]
	echo '{"format":"asin-registry","format_version":9,"models":{}}' >runs/registry.json
	run --separate-stderr asin-registry list --name rank
	assert_status 1
	assert_eq "asin-registry: runs/registry.json: format_version newer than 1; upgrade asin-registry" "$stderr"
	[ "$(cat runs/registry.json)" = '{"format":"asin-registry","format_version":9,"models":{}}' ]
}

@test "a registry file of the wrong shape is refused, not crashed on" {
	mkdir -p runs
	echo '{"format":"asin-registry","format_version":1,"models":{"rank":{"versions":{}}}}' >runs/registry.json
	run --separate-stderr asin-registry list --name rank
	assert_status 1
	assert_eq 'asin-registry: runs/registry.json: not a registry file: model "rank": expected versions, aliases and history' "$stderr"
	echo '{"format":"asin-registry","format_version":1,"models":{"rank":{"versions":[],"aliases":{"production":3},"history":[]}}}' >runs/registry.json
	run --separate-stderr reg1
	assert_status 1
	assert_eq 'asin-registry: runs/registry.json: not a registry file: model "rank": an alias names no version' "$stderr"
	echo '{"format":"asin-registry","format_version":1,"models":{"rank":{"versions":[{"version":2}],"aliases":{},"history":[]}}}' >runs/registry.json
	run --separate-stderr asin-registry show rank
	assert_status 1
	assert_eq 'asin-registry: runs/registry.json: not a registry file: model "rank": versions are not numbered 1..n' "$stderr"
}

@test "register --metrics-file: a null metric is left out with a warning" {
	echo '{"model":{"ndcg@10":0.7,"recall@10":null}}' >m.json
	run --separate-stderr reg1 --metrics-file m.json
	assert_status 0
	assert_eq 'asin-registry: m.json: metric "recall@10" is null, not a number: left out' "$stderr"
	[ "$(jq -c .metrics <<<"$output")" = '{"ndcg@10":0.71}' ]
}

@test "--registry-file and --local: the file named, even with MLflow configured" {
	MLFLOW_TRACKING_URI=http://127.0.0.1:9 reg1 --local --registry-file reg/r.json >/dev/null
	[ "$(jq '.models.rank.versions[0].version' reg/r.json)" = 1 ]
	[ ! -e runs/registry.json ]
	run --separate-stderr env MLFLOW_TRACKING_URI=./mlruns asin-registry list --name rank
	assert_status 2
	[[ "$stderr" == "asin-registry: tracking URI './mlruns': asin-registry talks to an MLflow server over http(s); use --local for a file"* ]]
}

@test "two concurrent writers: every version kept, numbers 1..N without gaps" {
	local i
	writer() {
		for i in $(seq 1 15); do
			asin-registry register --name rank --artifact-uri m1.json \
			    --signature "$FX/sig-v1.json" --metric "w$1=$i" >/dev/null || return 1
		done
	}
	writer 1 & local a=$!
	writer 2 & local b=$!
	wait "$a"
	wait "$b"
	[ "$(jq -c '[.models.rank.versions[].version]' runs/registry.json)" = "$(seq 1 30 | jq -sc .)" ]
	[ "$(jq '[.models.rank.versions[].metrics | keys[0]] | group_by(.) | map(length)' -c runs/registry.json)" = '[15,15]' ]
	[ "$(jq '.models.rank.history | length' runs/registry.json)" = 30 ]
}

@test "kill -9 during writes leaves a whole registry file, and the next writer goes on" {
	local i n
	# a registry large enough that each write takes a while
	for i in $(seq 1 40); do reg1 --metric "seed=$i" >/dev/null; done
	for i in $(seq 1 12); do
		( while :; do reg1 --metric "k=$RANDOM$RANDOM" >/dev/null 2>&1; done ) &
		local loop=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		# kill the loop and whatever register it is running, mid-write or
		# not; stopped first, so that it starts no writer in between
		kill -STOP "$loop" 2>/dev/null || true
		pkill -9 -P "$loop" 2>/dev/null || true
		kill -9 "$loop" 2>/dev/null || true
		wait "$loop" 2>/dev/null || true
		cp runs/registry.json snap.json
		jq -e '.format == "asin-registry"' snap.json >/dev/null
		n=$(jq '.models.rank.versions | length' snap.json)
		[ "$(jq -c '[.models.rank.versions[].version]' snap.json)" = "$(seq 1 "$n" | jq -sc .)" ]
	done
	run --separate-stderr reg1 --metric final=1
	assert_status 0
	[ "$(jq .version <<<"$output")" = $((n + 1)) ]
	asin-registry list --name rank | jq -e . >/dev/null
}

@test "card: every known field filled, the rest marked blanks, history per promotion" {
	reg1 --run-id run-7 >/dev/null
	reg2 >/dev/null
	asin-registry promote --name rank --version 1 --to production >/dev/null
	asin-registry promote --name rank --version 2 --to production --force --by bo >/dev/null
	run --separate-stderr asin-registry card rank@2 --eval "$FX/eval"
	assert_status 0
	[ -z "$stderr" ]
	printf '%s\n' "$output" | sed 's/written by asin-registry [0-9.]* on$/written by asin-registry V on/' >card.md
	golden_files "$FX/card" card.md /dev/null 0
	run --separate-stderr asin-registry card rank@production -o out/card.md
	assert_status 1
	assert_eq "asin-registry: out/card.md: cannot write: No such file or directory" "$stderr"
	mkdir out
	asin-registry card rank@production -o out/card.md
	grep -q '^# rank, version 2$' out/card.md
	grep -q '_\[to fill: owners\]_' out/card.md
	printf 'x {{nope}}\n' >bad.tmpl
	run --separate-stderr asin-registry card rank@2 --template bad.tmpl
	assert_status 1
	assert_eq 'asin-registry: bad.tmpl: line 1: unknown placeholder {{nope}}' "$stderr"
}

@test "log-runs --dry-run: the MLflow batches of asin-rank's runs index" {
	run --separate-stderr asin-registry log-runs --dry-run "$FX/runs.ndjson"
	assert_status 0
	[ -z "$stderr" ]
	golden_files "$FX/runs-dry" <(printf '%s\n' "$output") /dev/null 0
	[ "$(head -1 <<<"$output" | jq -c '[.metrics[].key]')" = '["ndcg_at_10.train","ndcg_at_10.valid"]' ]
	run --separate-stderr asin-registry log-runs "$FX/runs.ndjson"
	assert_status 1
	assert_eq "asin-registry: log-runs pushes to MLflow tracking: set MLFLOW_TRACKING_URI or --tracking-uri (or --dry-run)" "$stderr"
	printf '%s\n' '{"ts":"2024-04-01T06:00:00Z","command":"train"}' '{"ts":' >bad.ndjson
	run --separate-stderr asin-registry log-runs --dry-run bad.ndjson
	assert_status 1
	[[ "$stderr" == "asin-registry: bad.ndjson:2: invalid JSON at column 7: unexpected end of input" ]]
	printf '%s\n' '{"ts":"yesterday","command":"train"}' >bad.ndjson
	run --separate-stderr asin-registry log-runs --dry-run bad.ndjson
	assert_eq "asin-registry: bad.ndjson:1: field \"ts\": expected YYYY-MM-DDTHH:MM:SSZ, got 'yesterday'" "$stderr"
	mkdir -p runs
	cp "$FX/runs.ndjson" runs/index.ndjson
	[ "$(asin-registry log-runs --dry-run | wc -l)" = 2 ]
}

# rows: deterministic feature rows with a label and a baseline score.
rows() {
	awk -v seed="$1" 'BEGIN { srand(seed); for (d = 1; d <= 6; d++) for (c = 0; c < 3; c++) for (i = 0; i < 12; i++) {
		b = int(rand() * 50000) + 100; l = (b < 10000) ? 2 : (b < 25000 ? 1 : 0)
		printf "{\"asin\":\"B%09d\",\"marketplace\":\"US\",\"date\":\"2024-03-%02d\",\"category\":\"C%d\",\"price\":%.2f,\"bsr\":%d,\"rating\":%.1f,\"review_count\":%d,\"score\":%.3f,\"breakout_14\":%d}\n",
		    d * 100 + c * 12 + i, d, c, 5 + rand() * 50, b, 3 + rand() * 2, int(rand() * 3000), -b / 50000, l } }'
}

@test "pipelines/train.mk: train, eval, register, promote, card; a changed signature stops it" {
	command -v asin-rank >/dev/null || skip "asin-rank is not on this branch (build/bin/asin-rank absent)"
	rows 3 >train.ndjson
	rows 4 >holdout.ndjson
	local mk=(make -s -f "$TOP/pipelines/train.mk" TRAIN=train.ndjson HOLDOUT=holdout.ndjson
	    FEATURE_VERSION=1.0.0 "TRAIN_FLAGS=--trees 5 --min-leaf 3")
	run "${mk[@]}" WEEK=2024-W14 FEATURES=price,bsr,rating,review_count
	assert_status 0
	[ "$(asin-registry resolve rank@production)" = models/rank-2024-W14/model.json ]
	[ "$(jq -c '[.version,.stage,.note]' models/rank-2024-W14/promoted.json)" = '[1,"production","weekly 2024-W14"]' ]
	grep -q '^# rank, version 1$' models/rank-2024-W14/card.md
	grep -q '^| ndcg@10 | ndcg_at_10 | ' models/rank-2024-W14/card.md
	[ "$(asin-registry log-runs --dry-run | jq -r '.tags[] | select(.key == "asin.command") | .value' | tr '\n' ' ')" = 'train eval ' ]
	run "${mk[@]}" WEEK=2024-W15 FEATURES=price,bsr,rating
	[ "$status" -ne 0 ]
	[[ "$output" == *'asin-registry: rank: promote version 2 to production refused: signature differs from version 1 (production): removed feature "review_count" (--force overrides)'* ]]
	[ ! -e models/rank-2024-W15/promoted.json ]
	[ "$(asin-registry resolve rank@production)" = models/rank-2024-W14/model.json ]
	run "${mk[@]}" WEEK=2024-W15 FEATURES=price,bsr,rating PROMOTE_FLAGS=--force
	assert_status 0
	[ "$(asin-registry resolve rank@production)" = models/rank-2024-W15/model.json ]
}
