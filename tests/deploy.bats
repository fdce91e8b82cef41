#!/usr/bin/env bats
# deploy.bats: the Docker image and the compose stacks (deploy/).  The
# compose files must pass `docker compose config` (or docker-compose's,
# or podman-compose's); the image is built and run only where a
# container engine answers (docker, podman, or buildah with chroot
# isolation) and has debian:12; each part skips with the reason
# otherwise.  make install's share tree, which the image
# holds, is checked without an engine.
load helper

# compose_cmd: the first compose implementation that works, or nothing.
compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null 2>&1 &&
	    docker-compose version >/dev/null 2>&1; then
		echo docker-compose
	elif command -v podman-compose >/dev/null 2>&1; then
		echo podman-compose
	fi
}

# A copy of deploy/ with the env file made from its example, as a user
# would (the real one is never committed).
stage() {
	cp -r "$TOP/deploy" "$BATS_TEST_TMPDIR/deploy"
	cp "$TOP/deploy/asin.env.example" "$BATS_TEST_TMPDIR/deploy/asin.env"
	echo B000000001 >"$BATS_TEST_TMPDIR/deploy/asins.txt"
}

@test "deploy: every compose file passes compose config, with its services, health checks and restart policies" {
	local cc
	cc=$(compose_cmd)
	[ -n "$cc" ] || skip "no docker compose, docker-compose or podman-compose"
	stage
	cd "$BATS_TEST_TMPDIR/deploy"
	run -0 $cc -f compose.daily.yml config --services
	assert_eq $'warehouse\nmigrate\ndaily' "$(sort -u <<<"$output" | sort -r)"
	run -0 $cc -f compose.mlflow.yml config --services
	assert_eq $'mlflow-db\nmlflow' "$(sort -r <<<"$output")"
	run -0 $cc -f compose.training.yml config --services
	assert_eq training "$output"
	run -0 $cc -f compose.daily.yml config
	[ "$(grep -c 'healthcheck:' <<<"$output")" -eq 2 ] || { echo "$output"; return 1; }
	[ "$(grep -c 'restart: unless-stopped' <<<"$output")" -eq 2 ]
	[[ "$output" == *"service_completed_successfully"* ]]
	run -0 $cc -f compose.mlflow.yml config
	[ "$(grep -c 'healthcheck:' <<<"$output")" -eq 2 ] || { echo "$output"; return 1; }
	[[ "$output" == *"postgresql://mlflow:"* ]]
}

@test "deploy: a compose stack without its env file is refused; the env file is never committed" {
	local cc
	cc=$(compose_cmd)
	[ -n "$cc" ] || skip "no docker compose, docker-compose or podman-compose"
	stage
	rm "$BATS_TEST_TMPDIR/deploy/asin.env"
	cd "$BATS_TEST_TMPDIR/deploy"
	run $cc -f compose.daily.yml config
	[ "$status" -ne 0 ] && [[ "$output" == *asin.env* ]] || { echo "$output"; return 1; }
	if git -C "$TOP" rev-parse >/dev/null 2>&1; then
		run -0 git -C "$TOP" check-ignore deploy/asin.env
	fi
}

@test "deploy: make install puts the tools, pages, schemas, pipelines and container scripts where the image expects them" {
	make -s -C "$TOP" BUILD="${BUILD:-build}" install DESTDIR="$BATS_TEST_TMPDIR/root" PREFIX=/usr/local >/dev/null
	local s="$BATS_TEST_TMPDIR/root/usr/local"
	for f in bin/asin-db bin/asin-zscore share/man/man1/asin-db.1 \
	    share/asin-tools/schemas/fact.schema.json \
	    share/asin-tools/pipelines/daily.mk share/asin-tools/pipelines/train.mk \
	    share/asin-tools/pipelines/sql/history.sql \
	    share/asin-tools/deploy/daily-loop.sh share/asin-tools/deploy/train.sh; do
		[ -e "$s/$f" ] || { echo "missing $f"; return 1; }
	done
	cd "$BATS_TEST_TMPDIR"
	touch asins.txt
	run -0 make -n -f "$s/share/asin-tools/pipelines/daily.mk" DAY=2026-05-10 DB=postgresql:// history
	[[ "$output" == *"asin-db init postgresql://"* ]] || { echo "$output"; return 1; }
	[[ "$output" == *"share/asin-tools/pipelines/sql/history.sql"* ]] || { echo "$output"; return 1; }
}

# image_engine: how this machine builds and runs images: "docker" or
# "podman" where its daemon or runtime answers, else "buildah" (chroot
# isolation: no daemon, no cgroups, as in a container without them).
image_engine() {
	if command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
		echo docker
	elif command -v podman >/dev/null 2>&1 &&
	    timeout 30 podman run --rm --network none debian:12-slim true >/dev/null 2>&1; then
		echo podman
	elif command -v buildah >/dev/null 2>&1 &&
	    timeout 10 buildah --storage-driver vfs images >/dev/null 2>&1; then
		echo buildah
	fi
}

# A base image is taken from the engine's store or pulled; where no
# registry answers it can be made from Debian's mirror (as root):
#   debootstrap --variant=minbase bookworm root http://deb.debian.org/debian
#   tar -C root -c . | podman --storage-driver vfs import - debian:12
# (debian:12-slim: the same without /usr/share/{doc,man,locale}).
have_image() {
	case $1 in
	buildah) timeout 60 buildah --storage-driver vfs inspect --type image "$2" >/dev/null 2>&1 ;;
	*) timeout 60 $1 image inspect "$2" >/dev/null 2>&1 || timeout 120 $1 pull "$2" >/dev/null 2>&1 ;;
	esac
}

# The buildah container a test made, if any.
teardown() {
	[ -z "${CTR:-}" ] || buildah --storage-driver vfs rm "$CTR" >/dev/null 2>&1 || :
}

# save ENGINE IMAGE: the image as a docker-archive tar on stdout.
save() {
	case $1 in
	buildah) podman --storage-driver vfs save "$2" 2>/dev/null ;;
	*) $1 save "$2" ;;
	esac
}

# irun ENGINE CONTAINER-OR-IMAGE CMD...: CMD in the image, stdin passed.
irun() {
	local e=$1 c=$2
	shift 2
	case $e in
	buildah) buildah --storage-driver vfs run --isolation chroot "$c" -- "$@" ;;
	*) $e run --rm -i "$c" "$@" ;;
	esac
}

@test "deploy: the image builds, runs asin-zscore --version, a small pipeline and the daily job's recipes as a non-root user; it holds make install's tree and is under 30 MB compressed" {
	local e c
	e=$(image_engine)
	[ -n "$e" ] || skip "no container engine answers (docker info, podman run, buildah)"
	have_image "$e" debian:12 || skip "$e cannot get debian:12 (no registry reachable)"
	have_image "$e" debian:12-slim || skip "$e cannot get debian:12-slim (no registry reachable)"
	local pipe='asin-db init /tmp/x.db && asin-db load --tee /tmp/x.db facts && asin-db query /tmp/x.db "SELECT asin, bsr FROM facts"'
	local row='{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":5}'
	local s=/usr/local/share
	local files="/usr/local/bin/asin-db /usr/local/bin/asin-fetch $s/man/man1/asin-db.1
	    $s/asin-tools/schemas/fact.schema.json $s/asin-tools/pipelines/daily.mk
	    $s/asin-tools/pipelines/train.mk $s/asin-tools/pipelines/sql/history.sql
	    $s/asin-tools/deploy/daily-loop.sh $s/asin-tools/deploy/train.sh
	    $s/asin-tools/image-pruned.txt /etc/ssl/certs/ca-certificates.crt"
	# The daily job's recipes parse and expand (make, bash, date, grep).
	local job='cd /tmp && touch asins.txt && make -n -f "$PIPELINES/daily.mk" DAY=2026-05-10 DB=postgresql:// history'
	if [ "$e" = buildah ]; then
		run -0 timeout 1800 buildah --storage-driver vfs bud \
		    --isolation chroot -q -t asin-tools:test "$TOP"
	else
		run -0 timeout 1800 $e build -q -t asin-tools:test "$TOP"
	fi
	c=asin-tools:test
	if [ "$e" = buildah ]; then
		c=$(buildah --storage-driver vfs from localhost/asin-tools:test)
		CTR=$c
	fi
	run -0 irun "$e" "$c" asin-zscore --version
	assert_eq "asin-zscore 0.1.0" "$output"
	run -0 irun "$e" "$c" id -u
	[ -n "$output" ] && [ "$output" != 0 ] || { echo "runs as uid '$output'"; return 1; }
	# The named volumes' mount points are the job's to write.
	run -0 irun "$e" "$c" sh -c 'for f in '"$(echo $files)"'; do [ -s "$f" ] || echo "missing $f"; done
	    for d in data archive exports models; do [ -w "/srv/asin/$d" ] || echo "cannot write /srv/asin/$d"; done'
	assert_eq "" "$output"
	run -0 irun "$e" "$c" sh -c "$job"
	[[ "$output" == *"asin-db init postgresql://"* ]] || { echo "$output"; return 1; }
	printf '%s\n' "$row" >"$BATS_TEST_TMPDIR/row"
	run irun "$e" "$c" sh -c "$pipe" <"$BATS_TEST_TMPDIR/row"
	assert_eq '{"asin":"B000000001","marketplace":"US","date":"2026-05-01","bsr":5}
{"asin":"B000000001","bsr":5}' "$output"
	# Compressed as a registry stores it: each layer gzip -6, summed
	# (deploy/image-size).  30 MB is the issue's bound.
	save "$e" localhost/asin-tools:test | "$TOP/deploy/image-size" >"$BATS_TEST_TMPDIR/size"
	echo "# image: $(tail -1 "$BATS_TEST_TMPDIR/size")" >&3
	output=$(cat "$BATS_TEST_TMPDIR/size")
	local total=${output##*total: }
	total=${total%% *}
	[ "$total" -lt 30000000 ] || { echo "$output"; return 1; }
}
