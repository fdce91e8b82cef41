# config.mk - every setting of the daily job in one place, read by
# pipelines/daily.mk.  Each is a default: a variable of the same name in
# the environment or on the make command line wins
# (DB=/srv/asin/asin.db make -f pipelines/daily.mk, or make ... DB=...).
# Secrets never go here: they live in .env (see .env.example), read by
# asin-fetch itself.

# The day to run (UTC) and the watch list: bare ASINs, or NDJSON with
# asin and marketplace.
DAY          ?= $(shell date -u +%F)
ASINS        ?= asins.txt

# Where things go.  DATA/DAY/ holds the day's files, DB the SQLite file,
# EXPORTS the CSV a person opens.
DATA         ?= data
DB           ?= $(DATA)/asin.db
EXPORTS      ?= exports
ARCHIVE      ?= $(DATA)/archive
SCHEMAS      ?= $(PIPELINES)/../schemas
# Where the tools are; empty: on PATH.
BIN          ?=

# Fetching (secrets: ENV_FILE when it exists, else the environment):
# provider profile, default marketplace, upstream (empty: the
# profile's), quota (tokens a minute; empty: the profile's, Keepa's own
# token counts), requests in flight, and any further asin-fetch flags.
PROVIDER     ?= keepa
MARKETPLACE  ?= US
BASE_URL     ?=
QPM          ?=
PARALLEL     ?= 4
ENV_FILE     ?= .env
FETCH_FLAGS  ?=

# Dedupe: days of history each fetch re-asserts (a missed day heals on
# the next run), and the quality gates that stop the run (exit 1 after
# $(DATA)/DAY/quality.json is written; it says which gate): rejects, the
# share of the watch list with a row, the share of rows without a BSR,
# the share of stale rows.  Yesterday's quality.json gives the change in
# rows; a missing one (the first day) is a warning.  A new watch list's
# first day is worth DEDUPE_DAYS=$(HISTORY_DAYS): the first fetch builds
# only --days of history, and the 90-day features need the days before.
DEDUPE_DAYS  ?= 30
MAX_REJECTS  ?= 1%
MIN_COVERAGE ?= 0.95
MAX_NULL_RATE ?= bsr=0.2
MAX_ANOMALY_RATE ?= stale=0.1
DEDUPE_FLAGS ?=

# Features: days of history read back from the database for asin-feat.
HISTORY_DAYS ?= 120
FEAT_FLAGS   ?=

# Scoring: groups, features with their direction, weights, back-off.
ZKEY         ?= date,marketplace,category
ZFEATURES    ?= -bsr_log_slope_30,log1p:rank_drops_30,log1p:review_velocity_30,-bsr_log_mom_30
ZWEIGHTS     ?=
MIN_GROUP    ?= 8
# Candidates per category in the export and in the report.
TOP_N        ?= 20
REPORT_FLAGS ?=

# The A/B split of the day's candidates.
EXPERIMENT   ?= daily-$(DAY)
VARIANTS     ?= control:50,treatment:50
