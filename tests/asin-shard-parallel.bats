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

@test "shard-parallel.sh: {shard} jobs pick their shard from the whole file: the single run, no partitions" {
	asin-dedupe "$T/facts" | asin-feat --sorted >"$T/single"
	run -0 "$SP" -m asin -c 'asin-dedupe --shard {shard} {in} | asin-feat --sorted' \
	    -w "$T/w" -n 3 -j 2 "$T/facts" "$T/out"
	cmp "$T/out" "$T/single"
	# No partition was written; each job named its shard.
	[ -z "$(ls "$T"/w/parts/*.ndjson 2>/dev/null)" ]
	for j in 0 1 2; do
		grep -q -- "--shard \$shard/3" "$T/w/joblog"
		grep -q "shard=part-0000$j;" "$T/w/joblog"
	done
	# With -r the picked outputs split by date, as from partitions.
	asin-zscore "$T/single" >"$T/zsingle"
	run -0 "$SP" -r date/2 -c 'asin-dedupe --shard {shard} {in} | asin-feat --sorted' \
	    -w "$T/w2" -n 2 "$T/facts" "$T/byday"
	"$SP" -m date,marketplace,category -c 'asin-zscore {in}' -w "$T/wz" \
	    "$T/byday" - | cmp - "$T/zsingle"
	# A {shard} stage reads the file itself: no -k, and {in} is needed.
	run -2 "$SP" -k asin -m asin -c 'asin-dedupe --shard {shard} {in}' \
	    -w "$T/w3" -n 2 "$T/facts" "$T/o3"
	[[ $output == *"no -k"* ]]
	run -2 "$SP" -m asin -c 'asin-dedupe --shard {shard}' \
	    -w "$T/w4" -n 2 "$T/facts" "$T/o4"
	[[ $output == *"{in}"* ]]
}

@test "shard-parallel.sh: -r splits feat by date for zscore on the parts in place; OUT - is stdout" {
	asin-dedupe "$T/facts" | asin-feat | asin-zscore >"$T/single"
	run -0 "$SP" -k asin -r date/3 -c 'asin-dedupe | asin-feat --sorted' \
	    -w "$T/w" -n 5 -j 2 "$T/facts" "$T/byday"
	# One directory per asin partition, three date parts in each.
	assert_eq 5 "$(ls "$T/byday" | wc -l | tr -d ' ')"
	assert_eq 15 "$(ls "$T"/byday/*/part-*.ndjson | wc -l | tr -d ' ')"
	[ -z "$(ls -d "$T"/w/parts/*.out* 2>/dev/null)" ]
	# Each date in one part only.
	assert_eq 0 "$(for j in 0 1 2; do cat "$T"/byday/*/part-0000$j.ndjson |
	    jq -r .date | sort -u; done | sort | uniq -d | wc -l | tr -d ' ')"
	# zscore naming its files ({in}) and reading them on stdin.
	"$SP" -m date,marketplace,category -c 'asin-zscore {in}' -w "$T/wz" \
	    -j 2 "$T/byday" - >"$T/out"
	cmp "$T/out" "$T/single"
	run -0 "$SP" -m date,marketplace,category -c 'asin-zscore' -w "$T/wz2" \
	    "$T/byday" "$T/out2"
	cmp "$T/out2" "$T/single"
	# A finished -r run is not redone.
	run -0 "$SP" -k asin -r date/3 -c false -w "$T/w" -n 5 "$T/facts" "$T/byday"
	# -r and a directory input run here, not over ssh; -r has no stdout.
	run "$SP" -S /dev/null -k asin -r date -c cat -w "$T/w3" "$T/facts" "$T/o"
	assert_status 2
	run "$SP" -k asin -r date -c cat -w "$T/w3" "$T/facts" -
	assert_status 2
	run "$SP" -k asin -m asin -c cat -w "$T/w3" "$T/byday" "$T/o"
	assert_status 2
}

@test "shard-parallel.sh: a failed -r job leaves no parts; the rerun finishes" {
	asin-dedupe "$T/facts" | asin-feat | asin-zscore >"$T/single"
	: >"$T/fail-once"
	stage="if [ -e '$T/fail-once' ]; then rm '$T/fail-once'; exit 7; fi; asin-dedupe | asin-feat --sorted"
	run "$SP" -k asin -r date -c "$stage" -w "$T/w" -n 4 -j 1 "$T/facts" "$T/byday"
	assert_status 7
	[ ! -e "$T/byday" ] && [ ! -e "$T/byday.tmp" ]
	[ -z "$(ls -d "$T"/w/parts/*.out.tmp 2>/dev/null)" ]
	run -0 "$SP" -k asin -r date -c "$stage" -w "$T/w" -n 4 -j 1 "$T/facts" "$T/byday"
	"$SP" -m date,marketplace,category -c 'asin-zscore {in}' -w "$T/wz" \
	    "$T/byday" - >"$T/out"
	cmp "$T/out" "$T/single"
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

# Two sshlogins to an sshd this test starts on 127.0.0.1 with throwaway
# keys, its own config, PID file and authorized_keys; skipped where sshd
# or rsync is missing or cannot run (not root: no privilege separation
# directory).
@test "shard-parallel.sh: two hosts over ssh on loopback give the single run's bytes" {
	[ -x /usr/sbin/sshd ] || skip "no sshd (apt-get install openssh-server) for the ssh test"
	command -v rsync >/dev/null || skip "no rsync for parallel's file transfer"
	[ "$(id -u)" -eq 0 ] || skip "sshd needs root for its privilege separation directory"
	mkdir -p /run/sshd 2>/dev/null || skip "cannot create /run/sshd"
	local d="$T/ssh" port pid
	# The logins' HOME is an empty directory of the test's, so the remote
	# shells read no profile of the machine's own: a profile that does
	# slow work on every login (pyenv rehash, say) would cost minutes over
	# the dozens of logins parallel makes.
	mkdir -p "$d/remote" "$d/home"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key"
	ssh-keygen -q -t ed25519 -N '' -f "$d/user_key"
	cp "$d/user_key.pub" "$d/authorized_keys"
	port=$((20000 + $$ % 20000))
	cat >"$d/sshd_config" <<-CONF
	ListenAddress 127.0.0.1
	Port $port
	HostKey $d/host_key
	PidFile $d/sshd.pid
	AuthorizedKeysFile $d/authorized_keys
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	StrictModes no
	UsePAM no
	MaxStartups 200
	MaxSessions 200
	SetEnv HOME=$d/home
	CONF
	/usr/sbin/sshd -D -f "$d/sshd_config" -E "$d/sshd.log" &
	pid=$!
	cat >"$d/ssh_config" <<-CONF
	Host lo1 lo2
	  HostName 127.0.0.1
	  Port $port
	  User $(id -un)
	  IdentityFile $d/user_key
	  IdentitiesOnly yes
	  StrictHostKeyChecking no
	  UserKnownHostsFile $d/known_hosts
	  BatchMode yes
	  LogLevel ERROR
	CONF
	local i=0
	until ssh -F "$d/ssh_config" lo1 true 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			kill "$pid"
			skip "sshd did not start: $(tail -1 "$d/sshd.log")"
		fi
		sleep 0.1
	done
	printf '%s\n' 2/lo1 2/lo2 >"$d/hosts"
	asin-dedupe "$T/facts" | asin-feat >"$T/single"
	PARALLEL_SSH="ssh -F $d/ssh_config" SHARD_REMOTE_WORKDIR="$d/remote" \
	    run --separate-stderr "$SP" -S "$d/hosts" -k asin -m asin \
	    -c 'asin-dedupe | asin-feat' -w "$T/w" -n 7 "$T/facts" "$T/out"
	kill "$pid"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	cmp "$T/out" "$T/single"
	# Both logins ran partitions, and nothing is left in the remote
	# work directory but the shipped binaries.
	assert_eq "lo1 lo2" "$(tail -n +2 "$T/w/joblog" | cut -f2 | sort -u | tr '\n' ' ' | sed 's/ $//')"
	[ -z "$(find "$d/remote" -name '*.ndjson*')" ]
}
