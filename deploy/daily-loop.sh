#!/bin/sh
# daily-loop.sh: the daily job on a schedule inside a container (no cron,
# no root): every day at DAILY_AT (HH:MM, UTC) it runs pipelines/daily.mk
# for yesterday, and RUN_AT_START=1 also runs it once at start.  A
# finished day is a no-op, so a restart reruns nothing that was done.
# Each success writes $STATE/last-ok, which daily-health.sh reads.
set -u
at=${DAILY_AT:-02:15}
STATE=${STATE:-/srv/asin/data}
PIPELINES=${PIPELINES:-/usr/local/share/asin-tools/pipelines}
mkdir -p "$STATE" || exit 1
date -u +%s >"$STATE/started"

run() {
	day=$(date -u -d yesterday +%F)
	echo "daily-loop: running $day" >&2
	if make -f "$PIPELINES/daily.mk" DAY="$day"; then
		date -u +%s >"$STATE/last-ok"
	else
		echo "daily-loop: $day failed (exit $?); the next run resumes it" >&2
	fi
}

[ "${RUN_AT_START:-0}" = 1 ] && run
while :; do
	now=$(date -u +%s)
	next=$(date -u -d "today $at" +%s) || exit 1
	[ "$next" -gt "$now" ] || next=$(date -u -d "tomorrow $at" +%s)
	sleep $((next - now))
	run
done
