#!/bin/sh
# shard.sh: asin-shard partitioning 16 ways by asin against the
# standard-tool routes on the same generated fact rows, in one run:
#   cat                          the I/O floor
#   perl FNV-1a 32               the oracle partitioner of
#                                pipelines/scale-out.md on key<TAB>json
#                                lines (the key already extracted)
#   parallel --pipe --shard 1    GNU parallel's own hash partitioning of
#                                key<TAB>json into 16 jobs
#   asin-shard -n 16 -o DIR      raw NDJSON in, 16 files, atomic
#                                (fsync before the renames)
#   asin-shard --no-sync         the same without fsync: scratch
#                                partitions, as perl and parallel write
#   asin-shard --only 3/16       one job array member's filter
#   asin-shard --emit-key        key<TAB>json for sort, Hadoop, Spark
#   asin-shard --merge           16 asin-ordered partitions back into one
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/bench/lib.sh"

facts_input || exit 1
P=$BENCH_OUT/shard-parts
rm -rf "$P"
mkdir -p "$P/asin" "$P/nosync" "$P/perl" "$P/parallel" "$P/sorted"
KEYED=$BENCH_OUT/$name.keyed
asin-shard -k asin --emit-key "$IN" >"$KEYED" || exit 1
kbytes=$(file_bytes "$KEYED")

# FNV-1a 32 of the key plus 0x1F, mod 16, into 16 files: the same
# assignment as asin-shard (the key field is ASCII here).
PERL_SHARD='
my @fh;
for my $i (0 .. 15) { open($fh[$i], ">", sprintf("%s/part-%05d", $ARGV[0], $i)) or die }
shift @ARGV;
while (<>) {
	my $k = substr($_, 0, index($_, "\t")) . "\x1f";
	my $h = 0x811c9dc5;
	for my $c (unpack "C*", $k) { $h = (($h ^ $c) * 0x01000193) % 4294967296 }
	print { $fh[$h % 16] } substr($_, length($k));
}'

table_head "shard: $rows rows, $((bytes / 1000000)) MB ($name), 16 partitions by asin"
measure "cat" "$rows" "$bytes" cat "$IN"
if peer_available perl; then
	measure "perl FNV-1a 32 on key<TAB>json" "$rows" "$kbytes" \
	    perl -e "$PERL_SHARD" "$P/perl" "$KEYED"
fi
if peer_available parallel; then
	measure "parallel --pipe --shard 1 -j16" "$rows" "$kbytes" \
	    sh -c 'parallel --pipe --colsep "\t" --shard 1 -j16 \
	        "cut -f2- >$1/p{%}" <"$2"' sh "$P/parallel" "$KEYED"
fi
measure "asin-shard -k asin -n 16 -o DIR" "$rows" "$bytes" \
    asin-shard -k asin -n 16 -o "$P/asin" "$IN"
measure "asin-shard -k asin -n 16 --no-sync -o DIR" "$rows" "$bytes" \
    asin-shard -k asin -n 16 --no-sync -o "$P/nosync" "$IN"
measure "asin-shard -k asin --only 3/16" "$rows" "$bytes" \
    asin-shard -k asin --only 3/16 "$IN"
measure "asin-shard -k asin --emit-key" "$rows" "$bytes" \
    asin-shard -k asin --emit-key "$IN"
echo
ratio "asin-shard -k asin -n 16 --no-sync -o DIR" "perl FNV-1a 32 on key<TAB>json"
ratio "asin-shard -k asin -n 16 --no-sync -o DIR" "parallel --pipe --shard 1 -j16"
ratio "asin-shard -k asin -n 16 -o DIR" "perl FNV-1a 32 on key<TAB>json"

# The two FNV partitioners must agree, file by file.
i=0
while [ "$i" -lt 16 ]; do
	f=$(printf 'part-%05d' "$i")
	if ! cmp -s "$P/perl/$f" "$P/asin/$f.ndjson"; then
		echo "bench: perl and asin-shard disagree on $f" >&2
		exit 1
	fi
	if ! cmp -s "$P/nosync/$f.ndjson" "$P/asin/$f.ndjson"; then
		echo "bench: asin-shard --no-sync differs on $f" >&2
		exit 1
	fi
	i=$((i + 1))
done

SORTED=$(bench_facts "${name}_sorted" --seed 42 --rows "$ROWS" --days 100 \
    --dup-rate 0.02 --sorted) || exit 1
asin-shard -k asin -n 16 -o "$P/sorted" "$SORTED" || exit 1
for f in "$P"/sorted/*.ndjson; do
	asin-shard -k asin --emit-key "$f" >"${f%.ndjson}.keyed" || exit 1
done
table_head "shard --merge: 16 asin-ordered partitions of $rows rows"
if peer_available sort; then
	measure "LC_ALL=C sort -m -s on key<TAB>json, cut" "$rows" "$kbytes" \
	    sh -c 'LC_ALL=C sort -m -s -t "$(printf "\t")" -k1,1 "$@" | cut -f2-' \
	    sh "$P"/sorted/*.keyed
fi
measure "asin-shard -k asin --merge" "$rows" "$bytes" \
    asin-shard -k asin --merge "$P"/sorted/*.ndjson
if ! asin-shard -k asin --merge "$P"/sorted/*.ndjson | cmp -s - "$SORTED"; then
	echo "bench: the merge is not the sorted input" >&2
	exit 1
fi
echo
ratio "asin-shard -k asin --merge" "LC_ALL=C sort -m -s on key<TAB>json, cut"
rm -rf "$P" "$KEYED"
