# daily.mk - the daily job: fetch to candidates in SQLite, one dated file
# per stage.
#
#   make -f pipelines/daily.mk DAY=2026-05-10 ASINS=asins.txt DB=asin.db
#   make -f pipelines/daily.mk backfill FROM=2026-05-01 TO=2026-05-10
#
# Stages, each a file under $(DATA)/$(DAY)/ (settings: pipelines/config.mk):
#   envelopes.ndjson   asin-fetch (archived, resumable; exit 3 = partial)
#   facts.ndjson       asin-dedupe, whose quality gates stop the run
#                      (quality.json, dedupe.stats, dedupe.rejects)
#   load-facts.stats   facts, fetch_log and products loaded into $(DB)
#   history.ndjson     the trailing $(HISTORY_DAYS) days read back
#   features.ndjson    asin-feat for the day
#   load-features.stats
#   scores.ndjson      asin-zscore
#   load-scores.stats
#   $(EXPORTS)/top_candidates_YYYYMMDD.csv
#   $(EXPORTS)/report_YYYYMMDD.html   asin-report of the top candidates
#   candidates.ndjson, assigned.ndjson   the A/B split of the candidates
#
# Every stage writes a temporary name and renames it when the stage
# succeeded, so a failed or killed stage leaves no half file and a rerun
# starts at the first stage whose file is missing.  The loads are upserts:
# a stage killed mid-load and run again loses and duplicates nothing.  A
# finished day has all its files, so rerunning it does nothing.  The
# watch list is an order-only prerequisite: editing it does not refetch
# days already done.

THIS := $(lastword $(MAKEFILE_LIST))
PIPELINES := $(patsubst %/,%,$(dir $(THIS)))
include $(PIPELINES)/config.mk
SQL := $(PIPELINES)/sql

ifeq ($(shell echo '$(DAY)' | grep -xE '[0-9]{4}-[0-9]{2}-[0-9]{2}'),)
$(error DAY must be YYYY-MM-DD, got '$(DAY)')
endif
OUT  := $(DATA)/$(DAY)
DAYC := $(subst -,,$(DAY))
FROM_HIST := $(shell date -u -d '$(DAY) - $(HISTORY_DAYS) days + 1 day' +%F)
PREV_DAY := $(shell date -u -d '$(DAY) - 1 day' +%F)
CSV  := $(EXPORTS)/top_candidates_$(DAYC).csv
REPORT := $(EXPORTS)/report_$(DAYC).html

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DELETE_ON_ERROR:
.PHONY: daily fetch dedupe load history features scores csv report assign \
	backfill

# Rename the stage's temporary file into place, or remove it.
COMMIT = && mv -f $@.tmp $@ || { rm -f $@.tmp; exit 1; }
# Remove what a killed run of this stage left: the tools write a file they
# replace whole (--stats, --report, -o) as FILE.tmp.PID and rename it,
# which kill -9 can interrupt.  Only the stage that owns FILE removes its
# leftovers, so stages running side by side (make -j) keep theirs.
STALE = rm -f $(foreach f,$@ $(1),$(f).tmp.*)

daily: csv report assign
fetch: $(OUT)/envelopes.ndjson
dedupe: $(OUT)/facts.ndjson
load: $(OUT)/load-facts.stats
history: $(OUT)/history.ndjson
features: $(OUT)/load-features.stats
scores: $(OUT)/load-scores.stats
csv: $(CSV)
report: $(REPORT)
assign: $(OUT)/assigned.ndjson

$(OUT)/envelopes.ndjson: | $(ASINS)
	@mkdir -p $(OUT)
	$(call STALE,$(OUT)/fetch.stats)
	( $(BIN)asin-fetch -p $(PROVIDER) -m $(MARKETPLACE) \
	    $(if $(BASE_URL),-b $(BASE_URL)) $(if $(QPM),--qpm $(QPM)) \
	    -j $(PARALLEL) $(if $(wildcard $(ENV_FILE)),--env-file $(ENV_FILE)) \
	    --date $(DAY) \
	    --archive $(ARCHIVE) --rejects $(OUT)/fetch.rejects \
	    --stats $(OUT)/fetch.stats -q $(FETCH_FLAGS) $(ASINS) \
	    >$@.tmp || [ $$? -eq 3 ] ) \
	&& $(BIN)asin-validate --schema $(SCHEMAS)/fetch-envelope.schema.json \
	    $@.tmp >/dev/null $(COMMIT)

# The quality gates of config.mk exit 1 after every row and the report
# are written: $(OUT)/quality.json says which gate (its gates member) and
# $(OUT)/dedupe.stats how many records went where.  Yesterday's report
# gives the change in rows; on the first day it is missing, a warning.
# Coverage is measured against what was asked for: one envelope per
# ASIN of the watch list (ok, missing or failed); the lines asin-fetch
# refused before sending are in $(OUT)/fetch.rejects.  The envelopes
# without their payloads are what the fetch_log table holds.
$(OUT)/facts.ndjson: $(OUT)/envelopes.ndjson
	$(call STALE,$(OUT)/quality.json $(OUT)/dedupe.stats)
	jq -c 'del(.payload)' $< >$(OUT)/fetch_log.ndjson.tmp \
	    && mv -f $(OUT)/fetch_log.ndjson.tmp $(OUT)/fetch_log.ndjson
	jq -c '{asin, marketplace}' $(OUT)/fetch_log.ndjson >$(OUT)/expected.ndjson
	$(BIN)asin-dedupe --days $(DEDUPE_DAYS) \
	    --rejects $(OUT)/dedupe.rejects --max-rejects $(MAX_REJECTS) \
	    --stats $(OUT)/dedupe.stats --report $(OUT)/quality.json \
	    --previous-report $(DATA)/$(PREV_DAY)/quality.json \
	    --expect $(OUT)/expected.ndjson --min-coverage $(MIN_COVERAGE) \
	    $(foreach g,$(MAX_NULL_RATE),--max-null-rate $(g)) \
	    $(foreach g,$(MAX_ANOMALY_RATE),--max-anomaly-rate $(g)) \
	    $(DEDUPE_FLAGS) $< >$@.tmp $(COMMIT)

$(OUT)/load-facts.stats: $(OUT)/facts.ndjson
	$(call STALE)
	$(BIN)asin-db init $(DB)
	$(BIN)asin-db load $(DB) fetch_log $(OUT)/fetch_log.ndjson
	{ grep -F '"date":"$(DAY)"' $(OUT)/facts.ndjson || [ $$? -eq 1 ]; } | \
	    jq -c 'select(.date == "$(DAY)") | {asin, marketplace, title, category, bsr_cat, sub_cat, listed_since}' | \
	    $(BIN)asin-db load $(DB) products
	$(BIN)asin-db load --stats $@.tmp $(DB) facts $(OUT)/facts.ndjson $(COMMIT)

$(OUT)/history.ndjson: $(OUT)/load-facts.stats
	$(call STALE)
	$(BIN)asin-db query --sql-file $(SQL)/history.sql \
	    --param from=$(FROM_HIST) --param to=$(DAY) $(DB) >$@.tmp $(COMMIT)

$(OUT)/features.ndjson: $(OUT)/history.ndjson
	$(call STALE,$(OUT)/feat.stats)
	$(BIN)asin-feat --sorted --as-of $(DAY) --stats $(OUT)/feat.stats \
	    $(FEAT_FLAGS) $< >$@.tmp $(COMMIT)

$(OUT)/load-features.stats: $(OUT)/features.ndjson
	$(call STALE)
	$(BIN)asin-db load --stats $@.tmp $(DB) features $< $(COMMIT)

$(OUT)/scores.ndjson: $(OUT)/load-features.stats
	$(call STALE,$(OUT)/zscore.stats)
	$(BIN)asin-zscore -k $(ZKEY) --features=$(ZFEATURES) \
	    $(if $(ZWEIGHTS),--weights=$(ZWEIGHTS)) --min-group $(MIN_GROUP) \
	    --explain --rejects $(OUT)/zscore.rejects --max-rejects 1% \
	    --stats $(OUT)/zscore.stats $(OUT)/features.ndjson \
	    >$@.tmp $(COMMIT)

$(OUT)/load-scores.stats: $(OUT)/scores.ndjson
	$(call STALE)
	$(BIN)asin-db load --stats $@.tmp $(DB) scores $< $(COMMIT)

$(CSV): $(OUT)/load-scores.stats
	$(call STALE)
	@mkdir -p $(EXPORTS)
	$(BIN)asin-db query --csv --sql-file $(SQL)/top_candidates.sql \
	    --param day=$(DAY) --param top=$(TOP_N) $(DB) >$@.tmp $(COMMIT)

# The page a person opens: the top candidates of each category with their
# BSR, price and reviews over the history read back.
$(REPORT): $(OUT)/load-scores.stats
	$(call STALE)
	@mkdir -p $(EXPORTS)
	$(BIN)asin-report --candidates $(OUT)/scores.ndjson \
	    --history $(OUT)/history.ndjson --date $(DAY) \
	    --days $(HISTORY_DAYS) --top $(TOP_N) \
	    --title "Breakout candidates $(DAY)" $(REPORT_FLAGS) -o $@

$(OUT)/candidates.ndjson: $(OUT)/load-scores.stats
	$(call STALE)
	$(BIN)asin-db query --sql-file $(SQL)/top_candidates.sql \
	    --param day=$(DAY) --param top=$(TOP_N) $(DB) >$@.tmp $(COMMIT)

$(OUT)/assigned.ndjson: $(OUT)/candidates.ndjson
	$(call STALE)
	$(BIN)asin-split --experiment $(EXPERIMENT) --variants $(VARIANTS) \
	    --log $(OUT)/assign.log $< | \
	    $(BIN)asin-db load --tee $(DB) assignments >$@.tmp $(COMMIT)

# Each day in turn, oldest first; a day already done costs nothing.
backfill:
	@[ -n "$(FROM)" ] && [ -n "$(TO)" ] || \
	    { echo "backfill needs FROM=YYYY-MM-DD TO=YYYY-MM-DD" >&2; exit 2; }
	@d=$(FROM); \
	while [[ ! "$$d" > "$(TO)" ]]; do \
	    $(MAKE) -f $(THIS) DAY=$$d daily || exit 1; \
	    d=$$(date -u -d "$$d + 1 day" +%F) || exit 1; \
	done
