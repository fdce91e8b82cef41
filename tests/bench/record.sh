#!/bin/sh
# record.sh: the record layer (issue 2, item 7).  On one generated file of
# ROWS fact rows (default 1M, about 390 MB), in the same run:
#   cat                     the I/O floor
#   jq -c .                 the peer: parse and re-serialise every row
#   recbench jv             libjq's streaming parser alone: the libjq
#                           ceiling the layer is held to
#   recbench read|parse|get the layer stage by stage (line reader, parser,
#                           three typed gets)
#   recbench rw             read, get asin/price/bsr, append price_x2, write
#   recbench rw, ASIN_PARSER=jq   the same pass forced onto the libjq
#                           backend (a no-op where the switch is absent)
# and the ratios of recbench to jq -c.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1

table_head "record layer: $rows rows, $((bytes / 1000000)) MB ($name)"
measure "cat" "$rows" "$bytes" cat "$IN"
measure "jq -c ." "$rows" "$bytes" jq -c . "$IN"
measure "recbench jv (libjq parse only)" "$rows" "$bytes" \
    recbench --mode jv "$IN"
measure "recbench read" "$rows" "$bytes" recbench --mode read "$IN"
measure "recbench parse" "$rows" "$bytes" recbench --mode parse "$IN"
measure "recbench get" "$rows" "$bytes" recbench --mode get "$IN"
measure "recbench rw" "$rows" "$bytes" recbench --mode rw "$IN"
measure "recbench rw (ASIN_PARSER=jq)" "$rows" "$bytes" \
    env ASIN_PARSER=jq recbench --mode rw "$IN"
measure "recbench rw, piped to cat" "$rows" "$bytes" \
    sh -c 'recbench --mode rw "$1" | cat' sh "$IN"
echo
ratio "recbench rw" "jq -c ."
ratio "recbench rw (ASIN_PARSER=jq)" "jq -c ."
ratio "recbench parse" "jq -c ."
ratio "recbench rw" "recbench jv (libjq parse only)"
