#!/usr/bin/env bats
# asin-shard: FNV-1a 32 partitions by key, written atomically; --only,
# --emit-key, --merge (partitioned == single: asin-shard-partitioned.bats).
load helper

setup() {
	T=$BATS_TEST_TMPDIR
}

# The partition of each line of FILE under key FIELDS (comma list) mod N,
# computed independently in Perl: FNV-1a 32 over each decoded string
# plus 0x1F, null or missing as 0x00 0x1F.
perl_shards() {
	perl -MJSON::PP -ne '
		BEGIN { ($n, @k) = (shift @ARGV, split /,/, shift @ARGV) }
		my $r = JSON::PP->new->utf8->decode($_); my $b = "";
		for my $f (@k) {
			my $v = $r->{$f};
			if (defined $v) { utf8::encode($v); $b .= $v . "\x1f" }
			else { $b .= "\x00\x1f" }
		}
		my $h = 0x811c9dc5;
		for my $c (unpack "C*", $b) { $h = (($h ^ $c) * 0x01000193) % 4294967296 }
		print $h % $n, "\n";' "$3" "$2" "$1"
}

# facts DAYS: a generated day-major fact file with re-fetches in $T/facts.
facts() {
	genfacts --seed 7 --asins 120 --days "${1:-30}" --dup-rate 0.05 >"$T/facts"
}

@test "asin-shard: the hash is FNV-1a 32 of the key bytes, as Perl computes it" {
	printf '%s\n' '{"asin":"a"}' '{"asin":""}' '{"asin":null}' '{"x":1}' \
	    '{"asin":"\u00e9"}' '{"asin":"é"}' '{"asin":"B000000001"}' >"$T/in"
	# FNV-1a 32 of "a\x1f" is 0x3224db49 = 841276233, mod 1000 = 233.
	run -0 asin-shard -k asin --emit-key "$T/in"
	for i in 0 1 2 3 4 5 6; do
		asin-shard -k asin --only $i/7 "$T/in"
	done | sort >"$T/got"
	sort "$T/in" >"$T/want"
	cmp "$T/got" "$T/want"
	perl_shards "$T/in" asin 1000 >"$T/perl"
	assert_eq "233" "$(head -1 "$T/perl")"
	for i in $(seq 1 7); do
		line=$(sed -n "${i}p" "$T/in")
		s=$(sed -n "${i}p" "$T/perl")
		assert_eq "$line" "$(asin-shard -k asin --only "$s/1000" <<<"$line")" "line $i" || return 1
	done
	# The escaped and the raw spelling of é are the same key.
	assert_eq "$(sed -n 5p "$T/perl")" "$(sed -n 6p "$T/perl")"
	# Null and missing are one key, not the empty string's.
	assert_eq "$(sed -n 3p "$T/perl")" "$(sed -n 4p "$T/perl")"
	[ "$(sed -n 2p "$T/perl")" != "$(sed -n 3p "$T/perl")" ]
}

@test "asin-shard: -n writes N files in one pass that Perl's assignment agrees with" {
	facts 10
	mkdir "$T/p"
	run -0 --separate-stderr asin-shard -k asin,marketplace -n 7 -o "$T/p" --stats "$T/st" "$T/facts"
	assert_eq "" "$output"
	assert_eq "$(printf 'part-%05d.ndjson\n' 0 1 2 3 4 5 6)" "$(ls "$T/p")"
	perl_shards "$T/facts" asin,marketplace 7 | paste - "$T/facts" >"$T/keyed"
	for i in 0 1 2 3 4 5 6; do
		awk -F'\t' -v i=$i '$1 == i' "$T/keyed" | cut -f2- >"$T/want"
		cmp "$T/want" "$T/p/part-0000$i.ndjson" || return 1
	done
	n=$(wc -l <"$T/facts")
	run jq -c '[.in, .out, .rejected, .shards, (.rows_per_shard | add)]' "$T/st"
	assert_eq "[$n,$n,0,7,$n]" "$output"
	# --prefix names the files PREFIX00000.ndjson ...; a % stays literal.
	run -0 asin-shard -k asin -n 2 --prefix "$T/p/x%d-" "$T/facts"
	[ -f "$T/p/x%d-00000.ndjson" ] && [ -f "$T/p/x%d-00001.ndjson" ]
}

@test "asin-shard: --no-sync writes the same partitions, renamed into place" {
	facts 10
	mkdir "$T/a" "$T/b"
	run -0 asin-shard -k asin -n 5 -o "$T/a" "$T/facts"
	run -0 asin-shard -k asin -n 5 --no-sync -o "$T/b" "$T/facts"
	for i in 0 1 2 3 4; do
		cmp "$T/a/part-0000$i.ndjson" "$T/b/part-0000$i.ndjson" || return 1
	done
	assert_eq "" "$(ls -A "$T/b" | grep -v '^part-0000[0-4]\.ndjson$')"
}

@test "asin-shard: --only I/N is partition I of -n N" {
	facts 10
	mkdir "$T/p"
	asin-shard -k asin -n 3 -o "$T/p" "$T/facts"
	for i in 0 1 2; do
		asin-shard -k asin --only $i/3 --stats "$T/st" "$T/facts" | cmp - "$T/p/part-0000$i.ndjson" || return 1
		run jq -c '.in == .out + .dropped' "$T/st"
		assert_eq true "$output"
	done
}

@test "asin-shard: --emit-key writes the escaped key text, \\N for null, and a TAB" {
	printf '%s\n' '{"asin":"B1","marketplace":"US"}' \
	    '{"asin":"a\tb\"c\\","marketplace":null}' \
	    '{"asin":"\u00e9\n","marketplace":"DE"}' >"$T/in"
	run -0 asin-shard -k asin,marketplace --emit-key "$T/in"
	assert_eq "$(printf '%s\t%s\t%s\n' B1 US '{"asin":"B1","marketplace":"US"}' \
	    'a\tb\"c\\' '\N' '{"asin":"a\tb\"c\\","marketplace":null}' \
	    'é\n' DE '{"asin":"\u00e9\n","marketplace":"DE"}')" "$output"
	# With --only the keyed lines of that shard alone; with -n, into the files.
	mkdir "$T/p"
	asin-shard -k asin,marketplace --emit-key -n 2 -o "$T/p" "$T/in"
	cat "$T/p"/* | sort >"$T/a"
	asin-shard -k asin,marketplace --emit-key "$T/in" | sort >"$T/b"
	cmp "$T/a" "$T/b"
}

@test "asin-shard: a key that is not a string is a located reject; the partitions are not written" {
	printf '%s\n' '{"asin":"B1"}' '{"asin":7}' '{"asin":"B2"}' >"$T/in"
	mkdir "$T/p"
	run --separate-stderr asin-shard -k asin -n 2 -o "$T/p" "$T/in"
	assert_status 1
	assert_eq "asin-shard: $T/in:2: field \"asin\": expected string, got number" "$stderr"
	assert_eq "" "$(ls -A "$T/p")"
	run -0 --separate-stderr asin-shard -k asin -n 2 -o "$T/p" --rejects "$T/rej" --stats "$T/st" "$T/in"
	assert_eq 'field "asin": expected string, got number' "$(jq -r .error "$T/rej")"
	assert_eq '[3,2,1]' "$(jq -c '[.in, .out, .rejected]' "$T/st")"
	assert_eq "part-00000.ndjson part-00001.ndjson" "$(ls -A "$T/p" | tr '\n' ' ' | sed 's/ $//')"
	# A --max-rejects share passed: exit 1 and still no file renamed.
	rm "$T"/p/*
	run asin-shard -k asin -n 2 -o "$T/p" --rejects "$T/rej" --max-rejects 10% "$T/in"
	assert_status 1
	assert_eq "" "$(ls -A "$T/p")"
	# A directory that does not exist: named, exit 1.
	run --separate-stderr asin-shard -k asin -n 2 -o "$T/nodir" "$T/in"
	assert_status 1
	[[ "$stderr" == "asin-shard: $T/nodir/part-00000.ndjson: cannot create: "* ]]
}

@test "asin-shard: --merge orders by key, ties by file then line, and checks the order" {
	printf '%s\n' '{"k":"a","n":1}' '{"k":"c","n":2}' '{"k":"c","n":3}' >"$T/1"
	printf '%s\n' '{"k":null,"n":4}' '{"k":"b","n":5}' '{"k":"c","n":6}' '{"k":"c\u0000","n":7}' >"$T/2"
	run -0 asin-shard -k k --merge --stats "$T/st" "$T/1" "$T/2"
	assert_eq "$(printf '%s\n' '{"k":null,"n":4}' '{"k":"a","n":1}' '{"k":"b","n":5}' \
	    '{"k":"c","n":2}' '{"k":"c","n":3}' '{"k":"c","n":6}' '{"k":"c\u0000","n":7}')" "$output"
	assert_eq '[7,7]' "$(jq -c '[.in, .out]' "$T/st")"
	printf '%s\n' '{"k":"b"}' '{"k":"a"}' >"$T/3"
	run --separate-stderr asin-shard -k k --merge "$T/1" "$T/3"
	assert_status 1
	assert_eq "asin-shard: $T/3:2: not in key order: a partition to merge must be sorted by the merge key" "$stderr"
	# The order of keys is that of LC_ALL=C sort on the fields.
	printf '%s\n' '{"a":"x","b":"2"}' '{"a":"x-","b":"1"}' '{"a":"xy","b":"0"}' >"$T/4"
	run -0 asin-shard -k a,b --merge "$T/4"
	assert_eq "$(cat "$T/4")" "$output"
	jq -r '[.a, .b] | @tsv' "$T/4" | sort -c -t$'\t' -k1,1 -k2,2
}

@test "asin-shard: usage errors" {
	run --separate-stderr asin-shard -n 2 -o x
	assert_status 2
	assert_eq "asin-shard: option --key is required" "${stderr%%$'\n'*}"
	run --separate-stderr asin-shard -k asin -n 2
	assert_status 2
	assert_eq "asin-shard: option --shards needs --output or --prefix" "${stderr%%$'\n'*}"
	run --separate-stderr asin-shard -k asin
	assert_status 2
	run --separate-stderr asin-shard -k asin --only 3/3
	assert_status 2
	assert_eq "asin-shard: option --only: expected an integer from 0 to 2, got '3'" "${stderr%%$'\n'*}"
	run --separate-stderr asin-shard -k asin --only 3
	assert_status 2
	run --separate-stderr asin-shard -k asin -n 0 -o x
	assert_status 2
	run --separate-stderr asin-shard -k asin --merge -n 2 -o x
	assert_status 2
	run --separate-stderr asin-shard -k asin -n 2 --only 0/2
	assert_status 2
	run --separate-stderr asin-shard -k asin --only 0/2 --no-sync
	assert_status 2
	assert_eq "asin-shard: option --no-sync needs --shards" "${stderr%%$'\n'*}"
	run --separate-stderr asin-shard -k asin --merge --no-sync
	assert_status 2
}

@test "asin-shard: pipelines/scale-out/spark_pipe.py partitions and keys records as asin-shard does" {
	facts 10
	printf '%s\n' '{"asin":null}' '{"asin":"\u00e9\t"}' >>"$T/facts"
	run -0 python3 -c '
import json, sys, types
m = types.ModuleType("pyspark"); m.SparkContext = None
sys.modules["pyspark"] = m
sys.path.insert(0, sys.argv[1])
import spark_pipe
for l in open(sys.argv[2], encoding="utf-8"):
    l = l.rstrip("\n")
    print(spark_pipe.shard(json.loads(l).get("asin"), 7), spark_pipe.keyed(l)[1], sep="\t")
' "$TOP/pipelines/scale-out" "$T/facts"
	printf '%s\n' "$output" >"$T/py"
	for i in $(seq 0 6); do
		asin-shard -k asin --emit-key --only $i/7 "$T/facts" | sed "s/^/$i\t/"
	done | sort >"$T/want"
	sort "$T/py" | cmp - "$T/want"
}

@test "asin-shard: killed before the end (SIGTERM), it leaves no partition and no temporary" {
	mkdir "$T/p"
	{ echo '{"asin":"a"}'; sleep 5; } | asin-shard -k asin -n 3 -o "$T/p" &
	local pid=$! i=0
	until [ "$(ls -A "$T/p" | wc -l)" -eq 3 ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { kill "$pid"; return 1; }
		sleep 0.05
	done
	# The three temporaries are hidden, named after the partitions.
	assert_eq ".part-00000.ndjson.tmp.$pid" "$(ls -A "$T/p" | head -1)"
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	assert_eq 143 "$st"
	assert_eq "" "$(ls -A "$T/p")"
}
