#!/bin/sh
# shard-parallel.sh - run a keyed stage of the suite over N hash partitions
# with GNU parallel, on this machine or on the hosts of an sshloginfile,
# and write the single run's bytes.
#
# usage: shard-parallel.sh -k PKEY -m MKEY -c STAGE -w WORKDIR [-n N]
#            [-j JOBS] [-S SSHLOGINFILE] [-b BINDIR] IN OUT
#        shard-parallel.sh -k PKEY -r KEY2[/N2] -c STAGE -w WORKDIR [-n N]
#            [-j JOBS] IN OUTDIR
#        shard-parallel.sh -m MKEY -c STAGE -w WORKDIR [-j JOBS] INDIR OUT
#
#   -k PKEY   partition key (asin for dedupe and feat; date for zscore
#             with its default key)
#   -m MKEY   the key the stage's output is ordered by (asin;
#             date,marketplace,category for zscore): the outputs are
#             merged by it into OUT, or to standard output when OUT is -
#   -r KEY2[/N2]  instead of merging, split each partition's output by
#             KEY2 into N2 parts (default N) and gather them in OUTDIR:
#             the input of a next stage partitioned by KEY2, without
#             the merge, the file and the re-partition pass between them
#             (dedupe | feat by asin, then zscore by date).  A run whose
#             OUTDIR exists is complete and does nothing.
#   INDIR     an OUTDIR of -r: already partitioned (no -k); partition j
#             is part j of every sub-directory, read in place
#   -c STAGE  the shell command run on each partition, stdin to stdout,
#             e.g. 'asin-dedupe | asin-feat --sorted'; where STAGE says
#             {in}, the partition's files are its operands there instead
#             of its stdin ('asin-zscore {in}': a tool maps a file, and
#             reads a pipe at the cost of a copy).  Where STAGE says
#             {shard}, no partition is written: each of the N jobs reads
#             the whole IN (named where STAGE says {in}) and picks its
#             own shard, {shard} being I/N ('asin-dedupe --shard {shard}
#             {in} | asin-feat --sorted'); no -k, no -S.  On one box
#             that saves the partition pass, which writes IN once more
#             before any job can start.
#   -w DIR    work directory: partitions, outputs, the joblog.  Run the
#             same command again after a failure: finished partitions are
#             kept, parallel --resume-failed reruns only the others.
#   -n N      partitions (default 16)
#   -j JOBS   jobs at once per host (default: one per core)
#   -S FILE   GNU parallel sshloginfile: run on those hosts; the asin-*
#             binaries of BINDIR are shipped once per host (--basefile),
#             each partition travels there and its output back
#             (--transferfile, --return, --cleanup) in a private remote
#             work directory (--workdir ..., or $SHARD_REMOTE_WORKDIR).
#             Not with -r or INDIR, which read and write in place.
#   -b DIR    where the asin-* binaries are (default: from PATH)
#
# Every output is written to a temporary and renamed only on success, so a
# failed or killed job leaves no partial output behind (parallel --return
# brings back whatever file exists, even after a failure), and OUT appears
# only when the whole run succeeded.  The partitions are scratch: written
# without fsync (asin-shard --no-sync), rebuilt from IN when missing.
set -eu

n=16 jobs= slf= bindir= pkey= mkey= stage= work= resplit=
while getopts k:m:r:c:w:n:j:S:b: opt; do
	case $opt in
	k) pkey=$OPTARG ;;
	m) mkey=$OPTARG ;;
	r) resplit=$OPTARG ;;
	c) stage=$OPTARG ;;
	w) work=$OPTARG ;;
	n) n=$OPTARG ;;
	j) jobs=$OPTARG ;;
	S) slf=$OPTARG ;;
	b) bindir=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
usage() {
	echo "usage: shard-parallel.sh [-k PKEY] (-m MKEY | -r KEY2[/N2])" \
	    "-c STAGE -w WORKDIR [-n N] [-j JOBS] [-S SSHLOGINFILE]" \
	    "[-b BINDIR] IN OUT" >&2
	exit 2
}
[ $# -eq 2 ] && [ -n "$stage" ] && [ -n "$work" ] || usage
# Exactly one of -m and -r says what becomes of the outputs.
[ -n "$mkey" ] && [ -n "$resplit" ] && usage
[ -z "$mkey" ] && [ -z "$resplit" ] && usage
in=$1 out=$2
indir=0
[ -d "$in" ] && indir=1
# A stage that picks its own shard reads IN whole, on this machine.
pick=0
case $stage in *'{shard}'*) pick=1 ;; esac
if [ $pick = 1 ] && { [ $indir = 1 ] || [ -n "$pkey" ] || [ -n "$slf" ]; }
then
	echo "shard-parallel.sh: a {shard} stage picks its shard from a" \
	    "file IN: no -k, no -S, no directory input" >&2
	exit 2
fi
# A file input needs the key to partition it; a directory is partitioned.
[ $indir = 0 ] && [ $pick = 0 ] && [ -z "$pkey" ] && usage
[ $indir = 1 ] && [ -n "$pkey" ] && {
	echo "shard-parallel.sh: $in is a directory of partitions: no -k" >&2
	exit 2
}
if [ -n "$slf" ] && { [ $indir = 1 ] || [ -n "$resplit" ]; }; then
	echo "shard-parallel.sh: -S takes a file input and -m" >&2
	exit 2
fi
if [ "$out" = - ] && [ -n "$resplit" ]; then
	echo "shard-parallel.sh: -r writes a directory, not standard output" >&2
	exit 2
fi
rkey=${resplit%%/*} rn=$n
case $resplit in */*) rn=${resplit#*/} ;; esac
[ -n "$bindir" ] && PATH=$bindir:$PATH && export PATH
case $in in /*) ;; *) in=$PWD/$in ;; esac
case $out in -|/*) ;; *) out=$PWD/$out ;; esac
# -r: OUTDIR appears only complete, so its presence means done.
[ -n "$resplit" ] && [ -d "$out" ] && exit 0

# A string as one shell word for the jobs' bash.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

mkdir -p "$work/parts"
cd "$work"
if [ $pick = 1 ]; then
	# 1. No partitions: job j is named after the partition it would
	# have read, and reads IN.
	i=0
	: >parts.list
	while [ $i -lt "$n" ]; do
		printf 'parts/part-%05d.ndjson\n' $i >>parts.list
		i=$((i + 1))
	done
	files=$(quote "$in")
elif [ $indir = 0 ]; then
	# 1. Partition once; the files appear together (asin-shard renames
	# them into place only when complete), so their presence means done.
	if [ ! -e parts/part-00000.ndjson ]; then
		asin-shard -k "$pkey" -n "$n" --no-sync -o parts "$in"
	fi
	ls parts/part-*.ndjson >parts.list
	files='{}'
else
	# Partition j is part j of each sub-directory: the jobs read them
	# where they are, named after them in parts/.
	ls "$in"/*/part-*.ndjson | sed 's:.*/:parts/:' | sort -u >parts.list
	[ -s parts.list ] || {
		echo "shard-parallel.sh: no part-*.ndjson under $in/*/" >&2
		exit 1
	}
	files="$(quote "$in")/*/{/}"
fi

# The stage reads the files named where it says {in}, else its stdin.
case $stage in
*'{in}'*)
	rest=$stage stage=
	while :; do
		case $rest in
		*'{in}'*)
			stage="$stage${rest%%\{in\}*}$files"
			rest=${rest#*\{in\}}
			;;
		*)
			break
			;;
		esac
	done
	stage=$stage$rest from= into=
	;;
*'{shard}'*)
	echo "shard-parallel.sh: a {shard} stage names IN with {in}" >&2
	exit 2
	;;
*)
	if [ $indir = 0 ]; then
		from= into='<{}'
	else
		from="cat $files |" into=
	fi
	;;
esac

# {shard}: I/N, I from the job's partition name (set by the job's bash).
rest=$stage stage=
while :; do
	case $rest in
	*'{shard}'*)
		stage="$stage${rest%%\{shard\}*}\$shard/$n"
		rest=${rest#*\{shard\}}
		;;
	*)
		break
		;;
	esac
done
stage=$stage$rest
setj=
[ $pick = 1 ] && setj='shard={/.}; shard=$((10#${shard#part-})); '

# 2. The stage on every partition, under bash with pipefail: a stage is
# often a pipe, and a failing first command must fail the job.
PARALLEL_SHELL=bash
export PARALLEL_SHELL
# The stage on every partition.  A rerun resumes: the joblog and the
# argument list are unchanged, so --resume-failed runs only what failed
# or never ran.
set -- --joblog joblog --resume-failed --halt soon,fail=1
[ -n "$jobs" ] && set -- "$@" -j "$jobs"
pre=
if [ -n "$slf" ]; then
	# Binaries once per host (the /./ puts them in the remote work
	# directory itself); each job in its own remote directory, removed
	# afterwards ($SHARD_REMOTE_WORKDIR overrides parallel's "...").
	bd=$(command -v asin-shard | xargs dirname)
	for b in "$bd"/asin-*; do
		set -- "$@" --basefile "$bd/./${b##*/}"
	done
	# The schemas the tools read (asin-dedupe's fact schema), beside them.
	sd=${ASIN_SCHEMAS:-}
	[ -z "$sd" ] && [ -d "$bd/../../schemas" ] && sd=$bd/../../schemas
	[ -z "$sd" ] && [ -d "$bd/../share/asin-tools/schemas" ] &&
	    sd=$bd/../share/asin-tools/schemas
	if [ -n "$sd" ]; then
		for b in "$sd"/*.json; do
			set -- "$@" --basefile "$sd/./${b##*/}"
		done
	fi
	set -- "$@" --sshloginfile "$slf" \
	    --workdir "${SHARD_REMOTE_WORKDIR:-...}" \
	    --transferfile {} --return {}.out --cleanup
	pre='PATH=$PWD:$PATH; ASIN_SCHEMAS=$PWD; export ASIN_SCHEMAS; '
fi
if [ -n "$resplit" ]; then
	# Each output split by the next stage's key as it leaves the stage:
	# a directory of parts, renamed into place when whole.
	cmd="set -o pipefail; ${pre}${setj}rm -rf {}.out.tmp; mkdir {}.out.tmp &&"
	cmd="$cmd $from ( $stage ) $into | asin-shard -k $(quote "$rkey")"
	cmd="$cmd -n $(quote "$rn") --no-sync -o {}.out.tmp"
	cmd="$cmd && mv {}.out.tmp {}.out || { s=\$?; rm -rf {}.out.tmp; exit \$s; }"
else
	cmd="set -o pipefail; ${pre}${setj}$from ( $stage ) $into >{}.out.tmp"
	cmd="$cmd && mv {}.out.tmp {}.out || { s=\$?; rm -f {}.out.tmp; exit \$s; }"
fi
parallel "$@" "$cmd" <parts.list

# 3. The outputs: each partition's parts gathered under OUTDIR (moved,
# so a rerun after an interrupted gathering moves the rest), or merged
# back into the single run's order.
if [ -n "$resplit" ]; then
	mkdir -p "$out.tmp"
	while read -r p; do
		if [ -d "$p.out" ]; then
			mv "$p.out" "$out.tmp/${p##*/}"
		fi
	done <parts.list
	mv "$out.tmp" "$out"
elif [ "$out" = - ]; then
	sed 's/$/.out/' parts.list | xargs asin-shard -k "$mkey" --merge
else
	sed 's/$/.out/' parts.list | xargs asin-shard -k "$mkey" --merge \
	    >"$out.tmp"
	mv "$out.tmp" "$out"
fi
