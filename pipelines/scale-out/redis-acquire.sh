#!/bin/sh
# redis-acquire.sh - a central token bucket in Redis for asin-fetch
# --acquire-cmd: every worker of a crawl, on any host, draws its requests
# from one bucket, so uneven shards still use the whole quota.
#
#   ASIN_QUOTA_RATE=20 ASIN_QUOTA_BURST=5 \
#   asin-fetch --acquire-cmd 'pipelines/scale-out/redis-acquire.sh' ids.part
#
# asin-fetch runs this before each request with ASIN_FETCH_COST (tokens
# the request costs) and ASIN_FETCH_PROVIDER set; exit 0 grants it.  The
# script waits its turn and exits 0, or exits 1 with a message when Redis
# cannot be asked (asin-fetch then stops the run rather than crawl
# without the shared limit).
#
# The bucket is a Lua script, run atomically by Redis on its own clock
# (TIME), so neither the workers' clocks nor their number matter: state
# is {tokens, last refill} in one hash, refilled at RATE per second up to
# BURST.  A request that finds too few tokens is told how long to wait and
# asks again after it.  Set the bucket a little under the server's
# limit (9/s burst 2 for 10/s burst 3): a request reaches the server some
# milliseconds after its grant, and the server's own figures
# (Retry-After, Keepa's tokens) still correct what slips through.
#
# Environment:
#   ASIN_QUOTA_RATE    tokens per second for the whole account (required)
#   ASIN_QUOTA_BURST   bucket capacity (default: RATE)
#   ASIN_QUOTA_KEY     the Redis key (default asin-fetch:quota:$ASIN_FETCH_PROVIDER)
#   REDIS_HOST, REDIS_PORT   where Redis listens (default 127.0.0.1:6379)
#   REDISCLI_AUTH      password, read by redis-cli from the environment
set -eu

rate=${ASIN_QUOTA_RATE:?ASIN_QUOTA_RATE: tokens per second not set}
burst=${ASIN_QUOTA_BURST:-$rate}
cost=${ASIN_FETCH_COST:-1}
key=${ASIN_QUOTA_KEY:-asin-fetch:quota:${ASIN_FETCH_PROVIDER:-default}}

# KEYS[1] bucket; ARGV rate, burst, cost.  Returns 0 (granted) or the
# microseconds to wait before enough tokens are there.
lua='
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if cost > burst then cost = burst end
local t = redis.call("TIME")
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local s = redis.call("HMGET", KEYS[1], "tokens", "last")
local tokens, last = tonumber(s[1]), tonumber(s[2])
if tokens == nil then tokens, last = burst, now end
if now > last then tokens = math.min(burst, tokens + (now - last) * rate) end
if tokens >= cost then
	redis.call("HSET", KEYS[1], "tokens", tostring(tokens - cost), "last", tostring(now))
	redis.call("EXPIRE", KEYS[1], 3600)
	return 0
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "last", tostring(now))
redis.call("EXPIRE", KEYS[1], 3600)
return math.ceil((cost - tokens) / rate * 1e6)
'

while :; do
	if ! wait_us=$(redis-cli -h "${REDIS_HOST:-127.0.0.1}" \
	    -p "${REDIS_PORT:-6379}" --no-raw EVAL "$lua" 1 "$key" \
	    "$rate" "$burst" "$cost" 2>&1); then
		echo "redis-acquire.sh: redis-cli: $wait_us" >&2
		exit 1
	fi
	wait_us=${wait_us#(integer) }
	case $wait_us in
	0) exit 0 ;;
	*[!0-9]*|'')
		echo "redis-acquire.sh: Redis said: $wait_us" >&2
		exit 1 ;;
	esac
	sleep "$(awk -v u="$wait_us" 'BEGIN { printf "%.6f", u / 1e6 }')"
done
