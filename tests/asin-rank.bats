#!/usr/bin/env bats
# asin-rank on small fixtures of its own: every subcommand and flag, the
# metric conventions pinned to exact values (checked once against
# ltr_reference.py's functions), determinism, the model file, the runs
# index, and bad input (labels out of range, a group of one, all-equal
# labels, non-finite and missing features, a model from a newer version).
load helper

F="$FIXTURES/asin-rank"
TRAIN_ARGS="--label label --group date,category --features price,bsr,rating,review_count --min-leaf 5 --trees 10 --no-runs"

# usage_is MSG ARGS...: asin-rank ARGS is a usage error saying MSG.
usage_is() {
	local msg=$1
	shift
	run -2 --separate-stderr asin-rank "$@" </dev/null
	assert_eq "" "$output" stdout
	assert_eq "asin-rank: $msg
Try 'asin-rank --help' for more information." "$stderr" stderr
}

# fails_with MSG ARGS...: asin-rank ARGS exits 1 saying exactly MSG.
fails_with() {
	local msg=$1
	shift
	run -1 --separate-stderr asin-rank "$@"
	assert_eq "asin-rank: $msg" "$stderr" stderr
}

@test "asin-rank: --help shows every subcommand" {
	run -0 --separate-stderr asin-rank --help
	assert_eq "usage: asin-rank train --label FIELD --group FIELDS" "${lines[0]}"
	for c in "asin-rank score" "asin-rank eval" "asin-rank explain" "asin-rank export"; do
		[[ "$output" == *"$c"* ]] || { echo "no $c"; return 1; }
	done
}

@test "asin-rank: usage errors" {
	usage_is "expected a command: train, score, eval, explain or export"
	usage_is "unknown command 'fit': expected train, score, eval, explain or export" fit
	usage_is "train needs -o MODEL" train --label l --group g --features a
	usage_is "train needs --label FIELD" train -o m.json
	usage_is "train needs --group FIELDS (the query key)" train -o m.json --label l --features a
	usage_is "train needs one of --features and --features-from" train -o m.json --label l --group g
	usage_is "option --score does not apply to 'asin-rank train'" train --score x
	usage_is "option --trees: expected an integer from 1 to 100000, got '0'" train --trees 0
	usage_is "option --bins: expected an integer from 2 to 255, got '256'" train --bins 256
	usage_is "option --objective: expected lambdarank, pairwise or regression, got 'ndcg'" train --objective ndcg
	usage_is "option --ties: expected input or average, got 'random'" eval --ties random
	usage_is "option --format: expected xgboost or libsvm, got 'onnx'" export --format onnx
	usage_is "--early-stop needs --valid or --valid-frac" train -o m --label l --group g --features a --early-stop 5
	usage_is "option --early-stop-metric: expected ndcg@K or map@K, got 'auc'" train -o m --label l --group g --features a --early-stop-metric auc
	usage_is "option --label-gain: gains must not decrease with the label" train -o m --label l --group g --features a --label-gain 0,3,1
	usage_is "score needs --model FILE" score
	usage_is "eval needs --label, --score, --group and --output-dir" eval --label l
}

@test "asin-rank: train is deterministic and independent of group order" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank train $TRAIN_ARGS -o a.json "$F/train.ndjson"
	asin-rank train $TRAIN_ARGS -o b.json "$F/train.ndjson"
	cmp a.json b.json
	# the same groups in reverse order, rows kept in order within each
	jq -sc 'group_by([.date, .category]) | reverse | .[][]' "$F/train.ndjson" >shuffled.ndjson
	asin-rank train $TRAIN_ARGS -o c.json shuffled.ndjson
	cmp <(jq -c 'del(.training.inputs)' a.json) <(jq -c 'del(.training.inputs)' c.json)
}

@test "asin-rank: the model file holds signature, span, curve, importance, binning" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank train $TRAIN_ARGS -o m.json "$F/train.ndjson"
	run -0 jq -c '[.format, .format_version, .objective, .signature.features, .signature.label,
	    .signature.group, .training.rows, .training.groups, .training.span,
	    (.curve | length), (.trees | length), (.binning | length),
	    (.feature_importance | map(.feature) | sort), .params.leaves, .params.truncation]' m.json
	assert_eq '["asin-rank-model",1,"lambdarank",["price","bsr","rating","review_count"],"label",["date","category"],228,14,{"field":"date","from":"2024-03-01","to":"2024-03-07"},10,10,4,["bsr","price","rating","review_count"],31,30]' "$output"
	# the training curve rises
	run -0 jq '.curve[9].train > .curve[0].train' m.json
	assert_eq true "$output"
}

@test "asin-rank: score adds rank_score; --group adds rank_in_group" {
	cd "$BATS_TEST_TMPDIR"
	head -3 "$F/valid.ndjson" >in.ndjson
	run -0 --separate-stderr asin-rank score --model "$F/model.json" in.ndjson
	assert_eq "$(head -3 "$F/valid.ndjson" | jq -c .)" "$(jq -c 'del(.rank_score)' <<<"$output")"
	run -0 jq -s 'map(.rank_score | type) | unique' <<<"$output"
	assert_eq '[
  "number"
]' "$output"
	# rank_in_group is 1..n by descending score within each group
	run -0 --separate-stderr asin-rank score --model "$F/model.json" --group date "$F/valid.ndjson"
	run -0 jq -sc 'group_by(.date) | map((sort_by(-.rank_score) | map(.rank_in_group)) == [range(1; length + 1)]) | all' <<<"$output"
	assert_eq true "$output"
}

@test "asin-rank: score equals the model's trees on every row, pinned" {
	run -0 --separate-stderr asin-rank score --model "$F/model.json" "$F/valid.ndjson"
	assert_eq "$(cat "$F/valid.scores")" "$(jq -r .rank_score <<<"$output")"
}

@test "asin-rank: a feature that does not fit the signature is a located error" {
	printf '%s\n' '{"price":1,"bsr":2,"rating":3,"review_count":4}' '{"price":"9.99","bsr":2,"rating":3,"review_count":4}' >"$BATS_TEST_TMPDIR/in"
	fails_with "$BATS_TEST_TMPDIR/in:2: field \"price\": expected number, got string" score --model "$F/model.json" "$BATS_TEST_TMPDIR/in"
	printf '%s\n' '{"price":1,"bsr":2,"rating":3}' >"$BATS_TEST_TMPDIR/in"
	fails_with "$BATS_TEST_TMPDIR/in:1: field \"review_count\": missing (null marks a missing value; see --absent-as-missing)" score --model "$F/model.json" "$BATS_TEST_TMPDIR/in"
	run -0 --separate-stderr asin-rank score --absent-as-missing --model "$F/model.json" "$BATS_TEST_TMPDIR/in"
	printf '%s\n' '{"price":1,"bsr":2,"rating":3,"review_count":1e999}' >"$BATS_TEST_TMPDIR/in"
	fails_with "$BATS_TEST_TMPDIR/in:1: field \"review_count\": number 1e999 is out of range" score --model "$F/model.json" "$BATS_TEST_TMPDIR/in"
	# NaN is not JSON: the record layer refuses it
	printf '%s\n' '{"price":NaN,"bsr":2,"rating":3,"review_count":4}' >"$BATS_TEST_TMPDIR/in"
	run -1 --separate-stderr asin-rank score --model "$F/model.json" "$BATS_TEST_TMPDIR/in"
	[[ "$stderr" == "asin-rank: $BATS_TEST_TMPDIR/in:1: invalid JSON"* ]]
}

@test "asin-rank: null features are missing values with a learned side" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank train $TRAIN_ARGS -o m.json "$F/train.ndjson"
	# rating is null in some training rows; null rows score without error
	run -0 --separate-stderr asin-rank score --model m.json <<<'{"price":10,"bsr":100,"rating":null,"review_count":5}'
	run -0 jq '.rank_score | type' <<<"$output"
	assert_eq '"number"' "$output"
}

@test "asin-rank: labels out of range, fractional, negative" {
	cd "$BATS_TEST_TMPDIR"
	jq -c 'if .asin == "B000000908" then .label = 31 else . end' "$F/train.ndjson" >big.ndjson
	fails_with "big.ndjson:1: field \"label\": label 31 is beyond 30, the largest --label-gain exp2 allows" \
	    train $TRAIN_ARGS -o m.json big.ndjson
	run -0 --separate-stderr asin-rank train $TRAIN_ARGS --label-gain linear -o m.json big.ndjson
	fails_with "big.ndjson:1: field \"label\": label 31 is beyond 3, the largest --label-gain 0,1,3,7 allows" \
	    train $TRAIN_ARGS --label-gain 0,1,3,7 -o m.json big.ndjson
	jq -c 'if .asin == "B000000908" then .label = 1.5 else . end' "$F/train.ndjson" >frac.ndjson
	fails_with "frac.ndjson:1: field \"label\": label 1.5 is not a non-negative integer" train $TRAIN_ARGS -o m.json frac.ndjson
	jq -c 'if .asin == "B000000908" then .label = -1 else . end' "$F/train.ndjson" >neg.ndjson
	fails_with "neg.ndjson:1: field \"label\": label -1 is not a non-negative integer" train $TRAIN_ARGS -o m.json neg.ndjson
	jq -c 'if .asin == "B000000908" then .label = "2" else . end' "$F/train.ndjson" >str.ndjson
	fails_with "str.ndjson:1: field \"label\": expected number, got string" train $TRAIN_ARGS -o m.json str.ndjson
}

@test "asin-rank: --rejects keeps training past bad rows and counts them" {
	cd "$BATS_TEST_TMPDIR"
	{ head -5 "$F/train.ndjson"; echo '{"date":"2024-03-01","category":"Toys","label":9,"price":"x"}'; tail -n +6 "$F/train.ndjson"; } >in.ndjson
	run -0 --separate-stderr asin-rank train $TRAIN_ARGS --label-gain linear --rejects rej.ndjson --stats st.json -o m.json in.ndjson
	assert_eq '{"in":229,"out":228,"rejected":1,"merged":0,"dropped":0}' "$(cat st.json)"
	assert_eq '[6,"field \"price\": expected number, got string"]' "$(jq -c '[.line, .error]' rej.ndjson)"
}

@test "asin-rank: all-equal labels and groups of one leave nothing to rank" {
	cd "$BATS_TEST_TMPDIR"
	jq -c '.label = 1' "$F/train.ndjson" >flat.ndjson
	fails_with "no group has two different labels: nothing to rank" train $TRAIN_ARGS -o m.json flat.ndjson
	# every row its own group
	fails_with "no group has two different labels: nothing to rank" \
	    train --label label --group asin --features price,bsr --no-runs -o m.json "$F/train.ndjson"
	# a group of one among real groups is harmless
	{ cat "$F/train.ndjson"; echo '{"date":"2030-01-01","category":"Solo","label":3,"price":1,"bsr":2,"rating":3,"review_count":4}'; } >solo.ndjson
	run -0 --separate-stderr asin-rank train $TRAIN_ARGS -o m.json solo.ndjson
	assert_eq '[15,229]' "$(jq -c '[.training.groups, .training.rows]' m.json)"
}

@test "asin-rank: a model from a newer version is refused" {
	cd "$BATS_TEST_TMPDIR"
	jq -c '.format_version = 2' "$F/model.json" >new.json
	fails_with "new.json: model format version 2 is newer than this asin-rank reads (1): upgrade asin-rank" score --model new.json /dev/null
	echo '{"format":"other"}' >other.json
	fails_with "other.json: not an asin-rank model (no \"format\": \"asin-rank-model\")" explain --model other.json
	jq -c '.trees[0].left[0] = 0' "$F/model.json" >bad.json
	fails_with "bad.json: tree 0, node 0: bad feature or child" explain --model bad.json
}

@test "asin-rank: --valid, --valid-frac and early stopping" {
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr asin-rank train $TRAIN_ARGS --trees 60 --valid "$F/valid.ndjson" --early-stop 5 -o m.json "$F/train.ndjson"
	run -0 jq -c '[.training.valid.rows, .training.best_iteration == (.trees | length),
	    .training.trees_grown == .training.best_iteration + 5 or .training.trees_grown == 60,
	    (.curve | map(.valid | type) | unique), .metrics.valid == .curve[.training.best_iteration - 1].valid]' m.json
	assert_eq '[84,true,true,["number"],true]' "$output"
	run -0 --separate-stderr asin-rank train $TRAIN_ARGS --valid-frac 0.25 -o f.json "$F/train.ndjson"
	assert_eq '[10,4,228]' "$(jq -c '[.training.groups, .training.valid.groups, .training.rows + .training.valid.rows]' f.json)"
}

@test "asin-rank: --seed drives bagging and feature sampling" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank train $TRAIN_ARGS --bagging-fraction 0.5 --feature-fraction 0.5 --seed 1 -o a.json "$F/train.ndjson"
	asin-rank train $TRAIN_ARGS --bagging-fraction 0.5 --feature-fraction 0.5 --seed 1 -o b.json "$F/train.ndjson"
	asin-rank train $TRAIN_ARGS --bagging-fraction 0.5 --feature-fraction 0.5 --seed 2 -o c.json "$F/train.ndjson"
	cmp a.json b.json
	! cmp -s <(jq .trees a.json) <(jq .trees c.json)
}

@test "asin-rank: objectives, leaves, depth, bins, l2 change the trees" {
	cd "$BATS_TEST_TMPDIR"
	for o in lambdarank pairwise regression; do
		asin-rank train $TRAIN_ARGS --objective $o -o $o.json "$F/train.ndjson"
		assert_eq "\"$o\"" "$(jq .objective $o.json)"
	done
	! cmp -s <(jq .trees lambdarank.json) <(jq .trees pairwise.json)
	asin-rank train $TRAIN_ARGS --leaves 4 --max-depth 2 --bins 8 --l2 1 --lr 0.3 --truncation 5 --sigma 2 -o s.json "$F/train.ndjson"
	run -0 jq -c '[(.trees | map(.feature | map(select(. < 0)) | length) | max), (.binning | map(length) | max)]' s.json
	assert_eq '[4,7]' "$output"
}

@test "asin-rank: --features-from a feature schema, with its version" {
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr asin-rank train --label label --group date,category --features-from "$F/feature.schema.json" \
	    --min-leaf 5 --trees 3 --no-runs -o m.json "$F/train.ndjson"
	assert_eq '[["bsr","price","rating","review_count"],"2024.03-1"]' "$(jq -c '[.signature.features, .signature.feature_schema_version]' m.json)"
	jq -c 'del(."x-feature-version") | .version = 7' "$F/feature.schema.json" >v.json
	asin-rank train --label label --group date,category --features-from v.json --min-leaf 5 --trees 3 --no-runs -o m.json "$F/train.ndjson"
	assert_eq '"7"' "$(jq -c .signature.feature_schema_version m.json)"
	echo '{"type":"object"}' >none.json
	fails_with "none.json: no \"properties\" object (or \"x-features\" list)" train --label label --group date --features-from none.json -o m.json "$F/train.ndjson"
}

@test "asin-rank: eval pins every metric convention" {
	cd "$BATS_TEST_TMPDIR"
	run -0 --separate-stderr asin-rank eval --label label --score s --group q --baseline-score-column base --k 1,3 --output-dir ev --no-runs "$F/eval.ndjson"
	assert_eq '' "$stderr"
	assert_eq '{"ndcg@1":0.8333333333333333,"ndcg@3":0.8481117424936503,"ndcg_tieavg@1":0.8333333333333333,"ndcg_tieavg@3":0.8616340799999053,"map":0.8972222222222221,"map@1_lgb":1,"map@1_xgb":0.7083333333333334,"map@3_lgb":0.8472222222222221,"map@3_xgb":0.8472222222222221,"recall@1":0.611111111111111,"recall@3":0.8888888888888888,"precision@1":0.75,"precision@3":0.41666666666666663}' \
	    "$(jq -c .model ev/metrics.json)"
	assert_eq '[13,4,1,1,"input order",1]' "$(jq -c '[.rows, .queries, .n_queries_empty, .n_queries_without_relevant, .conventions.tie_rule, .conventions.empty_query_value]' ev/metrics.json)"
	# --ties average: ndcg@k becomes the tie-averaged form
	asin-rank eval --label label --score s --group q --k 1,3 --ties average --output-dir av --no-runs "$F/eval.ndjson"
	assert_eq '[0.8616340799999053,"average",null]' "$(jq -c '[.model."ndcg@3", .conventions.tie_rule, .lift]' av/metrics.json)"
	# lift is model over baseline
	run -0 jq -c '[.lift."ndcg@3" == (.model."ndcg@3" / .baseline_metrics."ndcg@3")]' ev/metrics.json
	assert_eq '[true]' "$output"
}

@test "asin-rank: eval writes metrics.csv, lift_curve.csv and an SVG chart" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank eval --label label --score s --group q --baseline-score-column base --k 1,3 --output-dir ev --no-runs "$F/eval.ndjson"
	assert_eq "metric,model,baseline,lift
ndcg@1,0.8333333333333333,0.5,1.6666666666666665" "$(head -2 ev/metrics.csv)"
	assert_eq 14 "$(wc -l <ev/metrics.csv)"
	assert_eq "k,recall,baseline_recall,lift
1,0.611111111111111,0.3333333333333333,1.8333333333333333
2,0.611111111111111,0.611111111111111,1" "$(head -3 ev/lift_curve.csv)"
	# cut-offs 1..the largest group (6)
	assert_eq 7 "$(wc -l <ev/lift_curve.csv)"
	head -c 40 ev/lift_curve.svg | grep -q '^<svg xmlns="http://www.w3.org/2000/svg"'
	[ "$(grep -c '<polyline' ev/lift_curve.svg)" -eq 2 ]
	if /usr/bin/python3 -c 'import xml.dom.minidom' 2>/dev/null; then
		/usr/bin/python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' ev/lift_curve.svg
	fi
}

@test "asin-rank: eval bad input: a missing score, labels beyond the gains" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' '{"q":"a","label":1,"s":1}' '{"q":"a","label":0}' >in
	fails_with "in:2: field \"s\": missing (null marks a missing value; see --absent-as-missing)" eval --label label --score s --group q --output-dir ev --no-runs in
	printf '%s\n' '{"q":"a","label":40,"s":1}' >in
	fails_with "in:1: field \"label\": label 40 is beyond 30, the largest --label-gain exp2 allows" eval --label label --score s --group q --output-dir ev --no-runs in
	run -0 --separate-stderr asin-rank eval --label-gain linear --label label --score s --group q --output-dir ev --no-runs in
}

@test "asin-rank: every train and eval appends to the runs index" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank train --label label --group date,category --features price,bsr --min-leaf 5 --trees 3 -o m.json "$F/train.ndjson"
	asin-rank eval --label label --score s --group q --output-dir ev "$F/eval.ndjson"
	asin-rank eval --label label --score s --group q --output-dir ev --runs other/runs.ndjson "$F/eval.ndjson"
	run -0 jq -c '[.command, (.ts | test("^[0-9-]+T[0-9:]+Z$")), .model // .output_dir, .rows, (.params.trees // .metrics."ndcg@1")]' runs/index.ndjson
	assert_eq '["train",true,"m.json",228,3]
["eval",true,"ev",13,0.8333333333333333]' "$output"
	assert_eq 1 "$(wc -l <other/runs.ndjson)"
	asin-rank eval --label label --score s --group q --output-dir ev --no-runs "$F/eval.ndjson"
	assert_eq 2 "$(wc -l <runs/index.ndjson)"
}

@test "asin-rank: explain prints the importances by gain" {
	run -0 --separate-stderr asin-rank explain --model "$F/model.json"
	assert_eq "$(cat "$F/explain.out")" "$output"
}

@test "asin-rank: export --format libsvm, and training on libsvm" {
	cd "$BATS_TEST_TMPDIR"
	asin-rank export --format libsvm --label label --group q --features s,base -o e.svm "$F/eval.ndjson"
	assert_eq "0 1:0.5 2:1
2 1:0.5 2:2
1 1:0.9 2:3" "$(head -3 e.svm)"
	assert_eq "4 2 1 6" "$(tr '\n' ' ' <e.svm.query | sed 's/ $//')"
	printf '%s\n' '{"d":"x","label":1,"r":1}' '{"d":"x","label":0,"r":2}' '{"d":"x","label":0,"r":null}' >null.ndjson
	fails_with "row 3 of group \"x\": feature \"r\" is missing, which libsvm cannot say" \
	    export --format libsvm --label label --group d --features r -o r.svm null.ndjson
	asin-rank export --format libsvm --label label --group date,category --features price,bsr,rating,review_count -o t.svm --absent-as-missing <(jq -c '.rating //= 0' "$F/train.ndjson")
	run -0 --separate-stderr asin-rank train --libsvm --min-leaf 5 --trees 5 --no-runs -o s.json t.svm
	assert_eq '[["f1","f2","f3","f4"],14]' "$(jq -c '[.signature.features, .training.groups]' s.json)"
	run -0 --separate-stderr asin-rank score --libsvm --model s.json t.svm
	assert_eq 228 "${#lines[@]}"
}

@test "asin-rank: export --format xgboost loads in XGBoost with the same scores" {
	/usr/bin/python3 -c 'import xgboost' 2>/dev/null || skip "python3-xgboost absent (make deps installs it)"
	cd "$BATS_TEST_TMPDIR"
	asin-rank train $TRAIN_ARGS -o m.json "$F/train.ndjson"
	asin-rank export --model m.json --format xgboost -o x.json
	asin-rank score --model m.json "$F/valid.ndjson" >scored.ndjson
	run -0 /usr/bin/python3 "$TOP/tests/rank/xgbcheck.py" x.json scored.ndjson
	[[ "$output" == "rows 84 max rel "* ]]
}

@test "asin-rank: batched scores equal the row-at-a-time ones, mask tables and tree walks" {
	cd "$BATS_TEST_TMPDIR"
	# 624 rows (batches of 256 and a part): members reordered, escaped
	# names, null features, rank_score already there (replaced in place)
	cat "$F/train.ndjson" "$F/valid.ndjson" "$F/train.ndjson" "$F/valid.ndjson" |
	    jq -c '. + {id: input_line_number} |
		if .id % 7 == 0 then .rating = null else . end |
		if .id % 5 == 0 then to_entries | reverse | from_entries else . end |
		if .id % 13 == 0 then .rank_score = "old" else . end' |
	    sed '11~11s/"price"/"pr\\u0069ce"/' >in.ndjson
	for leaves in 8 48; do
		# 48 leaves do not fit the 32-bit masks: the walk scores them
		asin-rank train $TRAIN_ARGS --min-leaf 1 --leaves $leaves -o m.json "$F/train.ndjson"
		run -0 --separate-stderr asin-rank score --model m.json in.ndjson
		jq -c '[.id, .rank_score]' <<<"$output" >plain
		assert_eq "$(seq 624)" "$(jq '.[0]' plain)" "input order"
		run -0 jq -s 'map(select(.[1] | type != "number")) | length' plain
		assert_eq 0 "$output"
		run -0 --separate-stderr asin-rank score --model m.json --group category in.ndjson
		jq -c '[.id, .rank_score]' <<<"$output" | sort -t, -k1.2n >grouped
		assert_eq "$(cat grouped)" "$(cat plain)" "leaves $leaves"
	done
	# a row that had rank_score has it once, replaced
	run -0 --separate-stderr asin-rank score --model m.json in.ndjson
	assert_eq 1 "$(sed -n 65p <<<"$output" | grep -o rank_score | wc -l)"
}

@test "asin-rank: a bad row inside a batch: the rows before it are written, then the error" {
	cd "$BATS_TEST_TMPDIR"
	sed -n 1,150p "$F/train.ndjson" >in.ndjson
	echo '{"price":"x","bsr":1,"rating":1,"review_count":1}' >>in.ndjson
	sed -n 151,228p "$F/train.ndjson" >>in.ndjson
	run -1 --separate-stderr asin-rank score --model "$F/model.json" in.ndjson
	assert_eq 150 "$(grep -c rank_score <<<"$output")"
	assert_eq "asin-rank: in.ndjson:151: field \"price\": expected number, got string" "$stderr"
	run -0 --separate-stderr asin-rank score --model "$F/model.json" --rejects rej.ndjson --stats st.json in.ndjson
	assert_eq 228 "$(grep -c rank_score <<<"$output")"
	assert_eq '{"in":229,"out":228,"rejected":1,"merged":0,"dropped":0}' "$(jq -c . st.json)"
	assert_eq 151 "$(jq .line rej.ndjson)"
}
