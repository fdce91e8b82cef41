#!/bin/bash
# hadoop-reduce-zscore.sh - Hadoop Streaming (or Spark pipe) reducer for
# zscore: stdin is "date<TAB>marketplace<TAB>record" lines from
# `asin-shard -k date,marketplace --emit-key`, partitioned on the first
# field (the back-off root); stdout is scored rows in key order.
set -euo pipefail
PATH=.:$PATH
cut -f3- | asin-zscore
