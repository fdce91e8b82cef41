#!/bin/sh
# shard-parallel.sh - run a keyed stage of the suite over N hash partitions
# with GNU parallel, on this machine or on the hosts of an sshloginfile,
# and write the single run's bytes.
#
# usage: shard-parallel.sh -k PKEY -m MKEY -c STAGE -w WORKDIR [-n N]
#            [-j JOBS] [-S SSHLOGINFILE] [-b BINDIR] IN OUT
#
#   -k PKEY   partition key (asin for dedupe and feat; date,marketplace
#             for zscore with its default key)
#   -m MKEY   the key the stage's output is ordered by (asin;
#             date,marketplace,category for zscore)
#   -c STAGE  the shell command run on each partition, stdin to stdout,
#             e.g. 'asin-dedupe | asin-feat'
#   -w DIR    work directory: partitions, outputs, the joblog.  Run the
#             same command again after a failure: finished partitions are
#             kept, parallel --resume-failed reruns only the others.
#   -n N      partitions (default 16)
#   -j JOBS   jobs at once per host (default: one per core)
#   -S FILE   GNU parallel sshloginfile: run on those hosts; the asin-*
#             binaries of BINDIR are shipped once per host (--basefile),
#             each partition travels there and its output back
#             (--transferfile, --return, --cleanup) in a private remote
#             work directory (--workdir ..., or $SHARD_REMOTE_WORKDIR)
#   -b DIR    where the asin-* binaries are (default: from PATH)
#
# Every output is written to a temporary and renamed only on success, so a
# failed or killed job leaves no partial output behind (parallel --return
# brings back whatever file exists, even after a failure), and OUT appears
# only when the whole run succeeded.
set -eu

n=16 jobs= slf= bindir= pkey= mkey= stage= work=
while getopts k:m:c:w:n:j:S:b: opt; do
	case $opt in
	k) pkey=$OPTARG ;;
	m) mkey=$OPTARG ;;
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
if [ $# -ne 2 ] || [ -z "$pkey" ] || [ -z "$mkey" ] || [ -z "$stage" ] ||
    [ -z "$work" ]; then
	echo "usage: shard-parallel.sh -k PKEY -m MKEY -c STAGE -w WORKDIR" \
	    "[-n N] [-j JOBS] [-S SSHLOGINFILE] [-b BINDIR] IN OUT" >&2
	exit 2
fi
in=$1 out=$2
[ -n "$bindir" ] && PATH=$bindir:$PATH && export PATH
case $in in /*) ;; *) in=$PWD/$in ;; esac
case $out in /*) ;; *) out=$PWD/$out ;; esac

mkdir -p "$work/parts"
cd "$work"
# 1. Partition once; the files appear together (asin-shard renames them
# into place only when complete), so their presence means done.
if [ ! -e parts/part-00000.ndjson ]; then
	asin-shard -k "$pkey" -n "$n" -o parts "$in"
fi
ls parts/part-*.ndjson | grep -v '\.out$' >parts.list

# 2. The stage on every partition, under bash with pipefail: a stage is
# often a pipe, and a failing first command must fail the job.
PARALLEL_SHELL=bash
export PARALLEL_SHELL
# The stage on every partition.  A rerun resumes: the joblog and the
# argument list are unchanged, so --resume-failed runs only what failed
# or never ran.
set -- --joblog joblog --resume-failed --halt soon,fail=1
[ -n "$jobs" ] && set -- "$@" -j "$jobs"
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
	cmd="set -o pipefail; PATH=\$PWD:\$PATH; ASIN_SCHEMAS=\$PWD; export ASIN_SCHEMAS; ( $stage ) <{} >{}.out.tmp"
	cmd="$cmd && mv {}.out.tmp {}.out || { s=\$?; rm -f {}.out.tmp; exit \$s; }"
else
	cmd="set -o pipefail; ( $stage ) <{} >{}.out.tmp"
	cmd="$cmd && mv {}.out.tmp {}.out || { s=\$?; rm -f {}.out.tmp; exit \$s; }"
fi
parallel "$@" "$cmd" <parts.list

# 3. Merge the key-ordered outputs back into the single run's order.
sed 's/$/.out/' parts.list | xargs asin-shard -k "$mkey" --merge >"$out.tmp"
mv "$out.tmp" "$out"
