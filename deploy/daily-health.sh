#!/bin/sh
# daily-health.sh: the daily container's health check.  Healthy while the
# last success (or, before the first, the start) is under MAX_AGE
# seconds old (default 26 hours: a daily job plus slack), and the
# warehouse answers.
STATE=${STATE:-/srv/asin/data}
max=${MAX_AGE:-93600}
now=$(date -u +%s)
t=$(cat "$STATE/last-ok" 2>/dev/null || cat "$STATE/started" 2>/dev/null) ||
    { echo "no $STATE/started: the loop is not running"; exit 1; }
[ $((now - t)) -le "$max" ] ||
    { echo "no successful run for $((now - t)) s"; exit 1; }
asin-db query postgresql:// "SELECT count(*) AS n FROM schema_migrations" >/dev/null
