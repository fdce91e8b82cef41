#!/bin/sh
# rank.sh: asin-rank (issue 14).  In the same run:
#   - 100 trees on LightGBM's rank.train (3005 rows, 300 features) beside
#     XGBoost 1.7 hist on 1 thread (rank_xgb.py), both timed as whole runs
#     (read, bin, train, write); the training-only times of both are
#     printed too, ours from train -v (LightGBM measured 0.26 s here for
#     100 rounds, reference/ranking.md);
#   - a synthetic NDJSON set of ROWS rows (default 1M) in ROWS/100 groups,
#     10 features: training time and peak RSS (the memory bound);
#   - scoring those rows with the 100-tree model (goal: >= 1M rows/s),
#     beside the record layer's floor on the same file: recbench parse
#     (read and validate every line, nothing else), which no tool that
#     checks its input can beat.
# Skips the LightGBM-data part when ../shared/data/ltr is absent, and the
# XGBoost row when python3-xgboost is.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

B=$BENCH_OUT
ROWS=${ROWS:-1000000}
LTR=${ASIN_SHARED_DATA:-$TOP/../shared/data}/ltr

if [ -f "$LTR/rank.train" ]; then
	rows=$(file_rows "$LTR/rank.train")
	bytes=$(file_bytes "$LTR/rank.train")
	table_head "100 trees on rank.train ($rows rows, 300 features, 201 groups), 1 thread"
	measure "asin-rank train rank.train" "$rows" "$bytes" \
	    asin-rank train --libsvm --no-runs -o "$B/rank_m.json" "$LTR/rank.train"
	if /usr/bin/python3 -c 'import xgboost, sklearn' 2>/dev/null; then
		measure "xgboost-1.7 hist 1t rank.train" "$rows" "$bytes" \
		    /usr/bin/python3 "$TOP/tests/bench/rank_xgb.py" "$LTR/rank.train"
		echo
		/usr/bin/python3 "$TOP/tests/bench/rank_xgb.py" "$LTR/rank.train" 2>&1 |
		    sed 's/^/note: /'
		ratio "asin-rank train rank.train" "xgboost-1.7 hist 1t rank.train"
	else
		printf '| %-46s | skipped: python3-xgboost not installed |\n' xgboost
	fi
	echo
	# training alone (boosting, no reading, binning or writing), the
	# best of RUNS, as LightGBM's and XGBoost's figures are
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		asin-rank train -v --libsvm --no-runs -o "$B/rank_m.json" \
		    "$LTR/rank.train" 2>&1 |
		    sed -n 's/.*boost \([0-9.]*\) (\([0-9.]*\)).*/\1 \2/p'
		i=$((i + 1))
	done | sort -n | head -1 | awk '{ printf "note: asin-rank " \
	    "train-only %.3f s (CPU %.3f s), best of %d\n", $1, $2, n }' \
	    n="$RUNS"
else
	echo "rank.sh: $LTR absent: the rank.train comparison is skipped"
fi

# The synthetic set: ROWS rows, 100 per group, labels 0..4 from a noisy
# score of the features, generated once per ROWS.
IN=$B/rank_synth_$ROWS.ndjson
if [ ! -s "$IN" ]; then
	awk -v n="$ROWS" 'BEGIN {
		srand(42)
		for (i = 0; i < n; i++) {
			s = 0
			line = sprintf("{\"qid\":\"g%05d\",", int(i / 100))
			for (f = 1; f <= 10; f++) {
				v = rand()
				s += (f <= 3 ? v * (4 - f) : 0)
				line = line sprintf("\"f%d\":%.4f,", f, v)
			}
			l = int((s + rand() * 2) / 1.6)
			if (l > 4) l = 4
			printf "%s\"label\":%d}\n", line, l
		}
	}' >"$IN.tmp" && mv "$IN.tmp" "$IN"
fi
rows=$(file_rows "$IN")
bytes=$(file_bytes "$IN")
table_head "synthetic: $rows rows in $((rows / 100)) groups, 10 features, 100 trees"
measure "asin-rank train synthetic" "$rows" "$bytes" \
    asin-rank train --label label --group qid \
    --features f1,f2,f3,f4,f5,f6,f7,f8,f9,f10 --no-runs \
    -o "$B/rank_synth_m.json" "$IN"
measure "asin-rank score synthetic (100 trees)" "$rows" "$bytes" \
    asin-rank score --model "$B/rank_synth_m.json" "$IN"
measure "recbench parse synthetic (record layer floor)" "$rows" "$bytes" \
    recbench --mode parse "$IN"
echo
ratio "asin-rank score synthetic (100 trees)" \
    "recbench parse synthetic (record layer floor)"
