#!/usr/bin/env bats
# pipelines/scale-out/shard-parallel.sh: GNU parallel over asin-shard
# partitions gives the single run's bytes, resumes after a failed job, and
# a failing first command of a stage's pipe fails its job.
load helper

setup() {
	T=$BATS_TEST_TMPDIR
	command -v parallel >/dev/null || skip "GNU parallel is not installed (make deps)"
	SP="$TOP/pipelines/scale-out/shard-parallel.sh"
	genfacts --seed 11 --asins 80 --days 40 --dup-rate 0.05 >"$T/facts"
}

@test "shard-parallel.sh: dedupe | feat on 7 partitions, two jobs at a time, equals the single run" {
	asin-dedupe "$T/facts" | asin-feat >"$T/single"
	run -0 "$SP" -k asin -m asin -c 'asin-dedupe | asin-feat' -w "$T/w" -n 7 -j 2 "$T/facts" "$T/out"
	cmp "$T/out" "$T/single"
	# One joblog line per partition, every exit 0.
	assert_eq "7 0" "$(tail -n +2 "$T/w/joblog" | awk -F'\t' '{n++; s+=$7} END {print n, s}')"
	# zscore: partition by the back-off root, merge by the key.
	asin-zscore "$T/single" >"$T/zsingle"
	run -0 "$SP" -k date -m date,marketplace,category -c asin-zscore \
	    -w "$T/wz" -n 3 "$T/single" "$T/zout"
	cmp "$T/zout" "$T/zsingle"
}

@test "shard-parallel.sh: a failed job leaves no output; the rerun resumes and finishes" {
	asin-dedupe "$T/facts" | asin-feat >"$T/single"
	: >"$T/fail-once"
	stage="if [ -e '$T/fail-once' ]; then rm '$T/fail-once'; exit 7; fi; asin-dedupe | asin-feat"
	run "$SP" -k asin -m asin -c "$stage" -w "$T/w" -n 5 -j 1 "$T/facts" "$T/out"
	assert_status 7
	[ ! -e "$T/out" ]
	[ ! -e "$T/w/parts/part-00000.ndjson.out" ]
	[ -z "$(ls "$T"/w/parts/*.tmp 2>/dev/null)" ]
	run -0 "$SP" -k asin -m asin -c "$stage" -w "$T/w" -n 5 -j 1 "$T/facts" "$T/out"
	cmp "$T/out" "$T/single"
	# The partitions that had finished did not run again.
	assert_eq 5 "$(tail -n +2 "$T/w/joblog" | awk -F'\t' '$7 == 0' | wc -l | tr -d ' ')"
}

@test "shard-parallel.sh: the first command of a failing pipe fails the job" {
	printf '%s\n' '{"asin":"B1","marketplace":"US","date":"2024-01-01"}' '{"bad"' >"$T/in"
	run "$SP" -k asin -m asin -c 'asin-dedupe | cat' -w "$T/w" -n 2 "$T/in" "$T/out"
	[ "$status" -ne 0 ]
	[ ! -e "$T/out" ]
}
