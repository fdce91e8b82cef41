# daily.mk - the daily job as make targets that write dated files, for cron:
#
#   15 2 * * *  cd /srv/asin && make -f pipelines/daily.mk >>logs/daily.log 2>&1
#
# Every target writes to a temporary name and renames on success, and make
# deletes what a failed step left (.DELETE_ON_ERROR), so a rerun of the
# same DAY picks up where it stopped; asin-fetch's archive makes the rerun
# fetch only the batches that did not finish.
#
# Until asin-dedupe and asin-feat join the suite, FEATURES names the file
# of feature rows (one per asin, marketplace and date) that your own step
# makes from the envelopes; the defaults below score price and BSR on fact
# rows instead.

DAY        ?= $(shell date -u +%F)
ASINS      ?= asins.txt
PROVIDER   ?= keepa
DATA       ?= data
ARCHIVE    ?= $(DATA)/archive
OUT        := $(DATA)/$(DAY)
SCHEMAS    ?= schemas
FEATURES   ?= $(OUT)/facts.ndjson
ZKEY       ?= date,marketplace,category
ZFEATURES  ?= -log:bsr,-price
TOP_N      ?= 50
EXPERIMENT ?= daily-$(DAY)
VARIANTS   ?= control:50,treatment:50

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DELETE_ON_ERROR:
.PHONY: daily fetch candidates assign

daily: assign

fetch: $(OUT)/envelopes.ndjson
candidates: $(OUT)/candidates.ndjson
assign: $(OUT)/assigned.ndjson

# Exit 3 is a partial run (some ASINs missing or failed): keep what came,
# the stats file and the envelopes say which.
$(OUT)/envelopes.ndjson: $(ASINS)
	@mkdir -p $(OUT)
	asin-fetch --provider $(PROVIDER) --date $(DAY) --archive $(ARCHIVE) \
	    --rejects $(OUT)/fetch.rejects --stats $(OUT)/fetch.stats \
	    $(ASINS) >$@.tmp || [ $$? -eq 3 ]
	asin-validate --schema $(SCHEMAS)/fetch-envelope.schema.json $@.tmp >/dev/null
	mv $@.tmp $@

$(OUT)/candidates.ndjson: $(FEATURES)
	asin-validate --schema $(SCHEMAS)/fact.schema.json \
	    --rejects $(OUT)/features.rejects --max-rejects 1% $(FEATURES) | \
	    asin-zscore -k $(ZKEY) --features=$(ZFEATURES) --top $(TOP_N) \
	    --rejects $(OUT)/zscore.rejects --max-rejects 1% \
	    --stats $(OUT)/zscore.stats >$@.tmp
	mv $@.tmp $@

$(OUT)/assigned.ndjson: $(OUT)/candidates.ndjson
	asin-split --experiment $(EXPERIMENT) --variants $(VARIANTS) \
	    --log $(OUT)/assign.log $< >$@.tmp
	mv $@.tmp $@
