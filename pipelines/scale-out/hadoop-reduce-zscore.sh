#!/bin/bash
# hadoop-reduce-zscore.sh - Hadoop Streaming (or Spark pipe) reducer for
# zscore: stdin is "date<TAB>marketplace<TAB>record" lines from
# `asin-shard -k date,marketplace --emit-key`, partitioned on the first
# field (the back-off root; --keyed 2 strips both); stdout is scored rows in key order.
set -euo pipefail
PATH=.:$PATH
asin-zscore --keyed 2
