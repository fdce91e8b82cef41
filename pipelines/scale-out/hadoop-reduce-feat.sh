#!/bin/bash
# hadoop-reduce-feat.sh - Hadoop Streaming (or Spark pipe) reducer for the
# dedupe and feat stages: stdin is "asin<TAB>record" lines from
# `asin-shard -k asin --emit-key`, grouped by key in any order within a
# key (--keyed 1 strips the key); stdout is fact rows with features, ordered by asin.  A script
# because -reducer cannot hold a pipe; pipefail so any failure fails the
# task.  The binaries are shipped with -files into the working directory.
set -euo pipefail
PATH=.:$PATH
asin-dedupe --keyed 1 | asin-feat
