#!/bin/sh
# train.sh: the weekly ranking model inside a container: the labelled
# feature rows from the warehouse's training_set view, the last
# HOLDOUT_DAYS days (default 28) held out, then pipelines/train.mk with
# the registry on the MLflow server (MLFLOW_TRACKING_URI).
set -eu
PIPELINES=${PIPELINES:-/usr/local/share/asin-tools/pipelines}
SHARE=$(dirname "$PIPELINES")
days=${HOLDOUT_DAYS:-28}
cut=$(date -u -d "$days days ago" +%F)
mkdir -p data
asin-db query --param cut="$cut" postgresql:// \
    "SELECT * FROM training_set WHERE date < :cut ORDER BY date, marketplace, category, asin" \
    >data/train.ndjson.tmp && mv data/train.ndjson.tmp data/train.ndjson
asin-db query --param cut="$cut" postgresql:// \
    "SELECT * FROM training_set WHERE date >= :cut ORDER BY date, marketplace, category, asin" \
    >data/holdout.ndjson.tmp && mv data/holdout.ndjson.tmp data/holdout.ndjson
exec make -f "$PIPELINES/train.mk" FEATURES_FROM="$SHARE/schemas/feature.schema.json" "$@"
