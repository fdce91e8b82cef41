# train.mk - the weekly ranking model as make targets: train on the
# feature rows, evaluate on the holdout against the baseline score,
# register the model with its contract, promote it, and write its card:
#
#   make -f pipelines/train.mk WEEK=2024-W14 TRAIN=data/train.ndjson \
#       HOLDOUT=data/holdout.ndjson
#
# Every file is written under a temporary name and renamed on success,
# and make deletes what a failed step left (.DELETE_ON_ERROR), so a rerun
# of the same WEEK starts where it stopped; registering the same model
# again finds the version already registered.  A promotion whose
# signature or feature version differs from the live model's stops the
# run with exit 1 naming the features: look, then rerun with
# PROMOTE_FLAGS=--force if the change is meant.  With MLFLOW_TRACKING_URI
# set, the registry and the runs go to MLflow instead of runs/.

WEEK            ?= $(shell date -u +%G-W%V)
NAME            ?= rank
TRAIN           ?= data/train.ndjson
HOLDOUT         ?= data/holdout.ndjson
LABEL           ?= breakout_14
GROUP           ?= date,marketplace,category
# The features: FEATURES_FROM (asin-feat's schema, which also gives the
# feature version) or a FEATURES list with FEATURE_VERSION.
FEATURES_FROM   ?= schemas/feature.schema.json
FEATURES        ?=
FEATURE_VERSION ?=
BASELINE        ?= score
K               ?= 1,3,5,10
TRAIN_FLAGS     ?= --trees 100 --early-stop 10 --valid-frac 0.2
STAGE           ?= production
PROMOTE_FLAGS   ?=
MODELS          ?= models
OUT             := $(MODELS)/$(NAME)-$(WEEK)
RUNS            ?= runs/index.ndjson

FEATURE_FLAGS := $(if $(FEATURES),--features $(FEATURES),--features-from $(FEATURES_FROM))
FV_FLAG := $(if $(FEATURE_VERSION),--feature-version $(FEATURE_VERSION))

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DELETE_ON_ERROR:
.PHONY: all train eval register promote card log-runs

all: card

train: $(OUT)/model.json
eval: $(OUT)/eval/metrics.json
register: $(OUT)/registered.json
promote: $(OUT)/promoted.json
card: $(OUT)/card.md

$(OUT)/model.json: $(TRAIN)
	@mkdir -p $(OUT)
	asin-rank train --label $(LABEL) --group $(GROUP) $(FEATURE_FLAGS) \
	    $(TRAIN_FLAGS) --runs $(RUNS) -o $@.tmp $(TRAIN)
	mv $@.tmp $@

# Score the holdout with the new model, then compare with the baseline.
$(OUT)/eval/metrics.json: $(OUT)/model.json $(HOLDOUT)
	asin-rank score -m $(OUT)/model.json $(HOLDOUT) >$(OUT)/holdout.scored.tmp
	mv $(OUT)/holdout.scored.tmp $(OUT)/holdout.scored.ndjson
	asin-rank eval --label $(LABEL) --score rank_score --group $(GROUP) \
	    $(if $(BASELINE),--baseline-score-column $(BASELINE)) --k $(K) \
	    --runs $(RUNS) --output-dir $(OUT)/eval $(OUT)/holdout.scored.ndjson

$(OUT)/registered.json: $(OUT)/model.json $(OUT)/eval/metrics.json
	asin-registry register --name $(NAME) --artifact-uri $(OUT)/model.json \
	    --model $(OUT)/model.json --metrics-file $(OUT)/eval/metrics.json \
	    $(FV_FLAG) --description "$(NAME) $(WEEK)" >$@.tmp
	mv $@.tmp $@

# The version just registered, from the record register printed.
version = $$(sed -n 's/^{"name":"[^"]*","version":\([0-9]*\),.*/\1/p' $(OUT)/registered.json)

$(OUT)/promoted.json: $(OUT)/registered.json
	asin-registry promote --name $(NAME) --version $(version) \
	    --to $(STAGE) $(FV_FLAG) $(PROMOTE_FLAGS) \
	    --note "weekly $(WEEK)" >$@.tmp
	mv $@.tmp $@

$(OUT)/card.md: $(OUT)/promoted.json
	asin-registry card $(NAME)@$(version) --eval $(OUT)/eval -o $@

# Push the runs index to MLflow tracking (needs MLFLOW_TRACKING_URI).
log-runs:
	asin-registry log-runs $(RUNS)
