#!/bin/sh
# scanner.sh: the record scanner (issue 3).  On the same generated file of
# ROWS fact rows as record.sh (default 1M, about 400 MB), in one run:
#   cat                       the I/O floor
#   jq -c .                   the peer a user would run
#   recbench jv               libjq's streaming parser alone
#   scanbench scan            the scanner alone: validate and index each line
#   scanbench get             + find, unescape and convert asin, price, bsr
#   recbench rw               the record layer's read-get-append-write pass
#   recbench rw, ASIN_PARSER=jq   the same pass on the libjq backend
# and the ratios.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1

table_head "record scanner: $rows rows, $((bytes / 1000000)) MB ($name)"
measure "cat" "$rows" "$bytes" cat "$IN"
measure "jq -c ." "$rows" "$bytes" jq -c . "$IN"
measure "recbench jv (libjq parse only)" "$rows" "$bytes" \
    recbench --mode jv "$IN"
measure "scanbench scan (validate + index)" "$rows" "$bytes" \
    scanbench --mode scan "$IN"
measure "scanbench get (+ 3 values)" "$rows" "$bytes" \
    scanbench --mode get "$IN"
measure "recbench rw (scanner)" "$rows" "$bytes" recbench --mode rw "$IN"
measure "recbench rw (ASIN_PARSER=jq)" "$rows" "$bytes" \
    env ASIN_PARSER=jq recbench --mode rw "$IN"
echo
ratio "scanbench scan (validate + index)" "recbench jv (libjq parse only)"
ratio "recbench rw (scanner)" "jq -c ."
ratio "recbench rw (scanner)" "recbench rw (ASIN_PARSER=jq)"
