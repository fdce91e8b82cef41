#!/bin/sh
# scaleout.sh: the keyed stages (dedupe, feat, zscore) end to end on the 2
# cores here, on ROWS generated fact rows (ROWS=10000000 is the issue's
# 10M-row day: 100k ASINs x 100 days), two ways a day is computed:
#   backfill  every day's feature rows, zscored by day
#   daily     what pipelines/daily.mk does each day: the history read,
#             only the last day's feature rows written (asin-feat
#             --as-of DAY), those zscored; asin-dedupe --since leaves
#             out the days before the windows' reach (DAY - 30 for the
#             30-day features, DAY - 90 for all), as the peer's scan
#             does (one row reads every day, for the difference)
# and for each, in the same run:
#   single process    asin-dedupe | asin-feat --sorted [--as-of] |
#                     asin-zscore (dedupe writes asin, marketplace, date
#                     order, so feat holds one series at a time)
#   sharded           pipelines/scale-out/shard-parallel.sh, 8 partitions
#                     by asin, two jobs at a time under GNU parallel.
#                     Backfill: dedupe | feat on each partition, its output
#                     split by date as it leaves (-r), then zscore on the
#                     date partitions in place, merged to stdout.  Daily:
#                     the few rows of the day merged by asin, one zscore;
#                     and, without the partition pass, two jobs that
#                     each read the whole file and pick their shard
#                     (asin-dedupe --shard, shard-parallel.sh's {shard}).
#   DuckDB, 2 threads the same three stages in one SQL statement through
#                     zscore-duckdb.cjs: backfill scaleout-duckdb.sql
#                     (RANGE windows), daily scaleout-daily-duckdb.sql
#                     (only the 31 days the day's windows read, one GROUP
#                     BY per series); the four 30-day features asin-zscore
#                     ranks on by default (BSR log slope, rank drops,
#                     review velocity, BSR log momentum) with asin-feat's
#                     rules, and their robust z with asin-zscore's
# asin-feat computes ~70 features a row by default; the rows marked
# "4 features" ask it for the peer's four only (--windows 30 --features
# ...), the like-for-like comparison.  Before timing: the sharded outputs
# are compared byte for byte with the single process's, and on a small
# input (200k rows, 60 days) each peer's values with ours
# (scaleout_check.py).  SCALEOUT_FULL=0 leaves out the all-features rows;
# SCALEOUT_RUN=backfill or daily times one of the two; SCALEOUT_CHECK=0
# skips the checks (they take as long as the timed runs: for a 10M-row
# timing after a checked run of another size).
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1
peer_available parallel || exit 0
W=$BENCH_OUT/scaleout
SP=$TOP/pipelines/scale-out/shard-parallel.sh
FEAT4="asin-feat --windows 30 --features bsr_log_slope,rank_drops,review_velocity,bsr_log_mom"
# genfacts writes day by day: the last line is of the last day.
DAY=$(tail -n 1 "$IN" | sed -n 's/.*"date":"\([0-9-]*\)".*/\1/p')
B_SINGLE='asin-dedupe "$1" | $2 --sorted | asin-zscore'
B_SHARDED='set -e
rm -rf "$1"; mkdir -p "$1"
"$2" -k asin -r date -c "asin-dedupe | $4 --sorted" -w "$1/feat" -n 8 -j 2 \
    "$3" "$1/byday"
"$2" -m date,marketplace,category -c "asin-zscore {in}" -w "$1/z" -j 2 \
    "$1/byday" -'
# The daily run reads only the days its windows reach (asin-dedupe
# --since: DAY - 30 for the 30-day features, DAY - 90 for all of them),
# as the DuckDB peer's scan does; D_WHOLE is the same without the cut,
# which the checks below compare it with.
D_WHOLE='asin-dedupe "$1" | $2 --sorted --as-of "$3" | asin-zscore'
# The backfill without the partition pass: $5 jobs (2 by default) pick
# their shard, each output split into 8 date parts for zscore.  With one
# job it is the single process whose output fits in memory: feat's rows
# come in asin order, so a plain asin-zscore holds all of them (more
# than 24 GB for every feature of the 10M-row day).
B_PICKED='set -e
rm -rf "$1"; mkdir -p "$1"
"$2" -r date/8 -c "asin-dedupe --shard {shard} {in} | $4 --sorted" \
    -w "$1/feat" -n "${5:-2}" -j "${5:-2}" "$3" "$1/byday"
"$2" -m date,marketplace,category -c "asin-zscore {in}" -w "$1/z" \
    -j "${5:-2}" "$1/byday" -'
D_SINGLE='asin-dedupe --since "$4" "$1" | $2 --sorted --as-of "$3" |
    asin-zscore'
# Partitioned by asin-shard (8 files, 2 jobs at a time), or each of 2
# jobs picking its shard from the whole file (asin-dedupe --shard).
D_SHARDED='set -e -o pipefail
rm -rf "$1"; mkdir -p "$1"
"$2" -k asin -m asin -c "asin-dedupe --since $6 | $4 --sorted --as-of $5" \
    -w "$1/feat" -n 8 -j 2 "$3" - | asin-zscore'
D_PICKED='set -e -o pipefail
rm -rf "$1"; mkdir -p "$1"
"$2" -m asin -c "asin-dedupe --shard {shard} --since $6 {in} |
    $4 --sorted --as-of $5" -w "$1/feat" -n 2 -j 2 "$3" - | asin-zscore'
# The first day each feature set's windows read.
since_of() {
	case $1 in *--windows\ 30*) back=30 ;; *) back=90 ;; esac
	date -u -d "$DAY - $back days" +%F
}
DUCK=$TOP/tests/bench/zscore-duckdb.cjs

sh "$TOP/tests/bench/setup-peers.sh" >&2 || echo "bench: peers incomplete" >&2
have_duckdb=0
[ -d "$TOP/${BUILD:-build}/peers/node_modules/@duckdb/node-api" ] &&
    command -v node >/dev/null && have_duckdb=1

FULL=${SCALEOUT_FULL:-1}
RUN=${SCALEOUT_RUN:-backfill daily}
feats="asin-feat"
[ "$FULL" = 0 ] && feats=
checks="$feats $FEAT4"
[ "${SCALEOUT_CHECK:-1}" = 0 ] && checks=
for feat in ${checks:+${feats:+"$feats"} "$FEAT4"}; do
	case $RUN in *backfill*)
		sh -c "$B_SINGLE" sh "$IN" "$feat" >"$W.single" || exit 1
		# asin-shard partitions, then the picks with 2 jobs and 1.
		for jobs in partitions 2 1; do
			b=$B_PICKED
			[ "$jobs" = partitions ] && b=$B_SHARDED
			sh -c "$b" sh "$W" "$SP" "$IN" "$feat" "$jobs" |
			    cmp -s - "$W.single" || {
				echo "bench: the sharded backfill differs" \
				    "from the single process ($feat)" >&2
				exit 1
			}
		done
	esac
	case $RUN in *daily*)
		since=$(since_of "$feat")
		sh -c "$D_SINGLE" sh "$IN" "$feat" "$DAY" "$since" \
		    >"$W.single" || exit 1
		sh -c "$D_WHOLE" sh "$IN" "$feat" "$DAY" |
		    cmp -s - "$W.single" || {
			echo "bench: the daily run with --since $since differs" \
			    "from the run over every day ($feat)" >&2
			exit 1
		}
		for d in "$D_SHARDED" "$D_PICKED"; do
			bash -c "$d" sh "$W" "$SP" "$IN" "$feat" "$DAY" \
			    "$since" | cmp -s - "$W.single" || {
				echo "bench: the sharded daily run differs" \
				    "from the single process ($feat)" >&2
				exit 1
			}
		done
	esac
done
rm -f "$W.single"

# The peers compute what we do: their values against ours on a small
# input whose groups are small enough for back-off.
if [ -n "$checks" ] && [ $have_duckdb = 1 ] && command -v python3 >/dev/null
then
	CK=$(bench_facts scaleout_check --seed 42 --rows 200000 --days 60 \
	    --dup-rate 0.02) || exit 1
	ckday=$(tail -n 1 "$CK" | sed -n 's/.*"date":"\([0-9-]*\)".*/\1/p')
	for r in $RUN; do
		if [ "$r" = daily ]; then
			sh -c "$D_SINGLE" sh "$CK" "$FEAT4" "$ckday" \
			    "$(DAY=$ckday; since_of "$FEAT4")" >"$W.ours"
			sql=scaleout-daily-duckdb.sql
		else
			sh -c "$B_SINGLE" sh "$CK" "$FEAT4" >"$W.ours"
			sql=scaleout-duckdb.sql
		fi &&
		    node "$DUCK" --threads 2 "$TOP/tests/bench/$sql" \
		    IN="$CK" OUT="$W.peer" DAY="$ckday" TMP="$W.duckdb.tmp" &&
		    python3 "$TOP/tests/bench/scaleout_check.py" "$W.ours" \
		    "$W.peer" >&2 || {
			echo "bench: the DuckDB $r run differs from ours" >&2
			exit 1
		}
	done
	rm -rf "$W.ours" "$W.peer" "$W.duckdb.tmp"
fi

table_head "scale-out: dedupe, feat, zscore on $rows rows, $((bytes / 1000000)) MB ($name), daily = $DAY"
echo "(load average at the start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
echo
case $RUN in *backfill*)
	if [ "$FULL" != 0 ]; then
		measure "backfill: single process" "$rows" "$bytes" \
		    sh -c "$B_PICKED" sh "$W" "$SP" "$IN" asin-feat 1
		measure "backfill: asin-shard + parallel -j2" "$rows" "$bytes" \
		    sh -c "$B_SHARDED" sh "$W" "$SP" "$IN" asin-feat
	fi
	measure "backfill: single process, 4 features" "$rows" "$bytes" \
	    sh -c "$B_SINGLE" sh "$IN" "$FEAT4"
	measure "backfill: asin-shard + parallel -j2, 4 features" "$rows" \
	    "$bytes" sh -c "$B_SHARDED" sh "$W" "$SP" "$IN" "$FEAT4"
	measure "backfill: --shard picks + parallel -j2, 4 features" "$rows" \
	    "$bytes" sh -c "$B_PICKED" sh "$W" "$SP" "$IN" "$FEAT4"
	if [ $have_duckdb = 1 ]; then
		measure "backfill: duckdb-2t, 4 features" "$rows" "$bytes" \
		    node "$DUCK" --threads 2 \
		    "$TOP/tests/bench/scaleout-duckdb.sql" IN="$IN" \
		    OUT="$W.duckdb.json" TMP="$W.duckdb.tmp"
		rm -rf "$W.duckdb.json" "$W.duckdb.tmp"
	fi
esac
case $RUN in *daily*)
	s90=$(since_of asin-feat) s30=$(since_of "$FEAT4")
	if [ "$FULL" != 0 ]; then
		measure "daily: single process" "$rows" "$bytes" \
		    sh -c "$D_SINGLE" sh "$IN" asin-feat "$DAY" "$s90"
		measure "daily: --shard picks + parallel -j2" "$rows" "$bytes" \
		    bash -c "$D_PICKED" sh "$W" "$SP" "$IN" asin-feat "$DAY" \
		    "$s90"
	fi
	measure "daily: single process, every day read, 4 features" \
	    "$rows" "$bytes" sh -c "$D_WHOLE" sh "$IN" "$FEAT4" "$DAY"
	measure "daily: single process, 4 features" "$rows" "$bytes" \
	    sh -c "$D_SINGLE" sh "$IN" "$FEAT4" "$DAY" "$s30"
	measure "daily: asin-shard + parallel -j2, 4 features" "$rows" "$bytes" \
	    bash -c "$D_SHARDED" sh "$W" "$SP" "$IN" "$FEAT4" "$DAY" "$s30"
	measure "daily: --shard picks + parallel -j2, 4 features" "$rows" \
	    "$bytes" bash -c "$D_PICKED" sh "$W" "$SP" "$IN" "$FEAT4" "$DAY" \
	    "$s30"
	if [ $have_duckdb = 1 ]; then
		measure "daily: duckdb-2t, 4 features" "$rows" "$bytes" \
		    node "$DUCK" --threads 2 \
		    "$TOP/tests/bench/scaleout-daily-duckdb.sql" IN="$IN" \
		    OUT="$W.duckdb.json" DAY="$DAY"
		rm -f "$W.duckdb.json"
	fi
esac
[ $have_duckdb = 1 ] ||
    printf '| %-46s | skipped: DuckDB not installed |\n' duckdb
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null))"
echo
for r in backfill daily; do
	case $RUN in *$r*) ;; *) continue ;; esac
	best="$r: --shard picks + parallel -j2"
	[ "$FULL" != 0 ] && [ $r = daily ] && ratio "$best" "$r: single process"
	[ "$FULL" != 0 ] && [ $r = backfill ] &&
	    ratio "$r: asin-shard + parallel -j2" "$r: single process"
	[ $r = backfill ] && ratio "$r: asin-shard + parallel -j2, 4 features" \
	    "$r: duckdb-2t, 4 features"
	ratio "$best, 4 features" "$r: single process, 4 features"
	[ $have_duckdb = 1 ] && ratio "$best, 4 features" \
	    "$r: duckdb-2t, 4 features"
	[ $r = daily ] && ratio "$r: single process, 4 features" \
	    "$r: single process, every day read, 4 features"
done
rm -rf "$W"
exit 0
