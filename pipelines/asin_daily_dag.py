"""asin_daily_dag.py - the daily job as an Airflow DAG: one BashOperator
per stage of pipelines/daily.mk, each calling its make target for the
run's logical day (UTC), with retries.  The make targets are restartable
and their outputs are written through temporary names, so a retried task
resumes where the failed try stopped and a rerun of a finished day does
nothing.

Settings come from pipelines/config.mk, overridden by the environment of
the workers (ASIN_HOME: the checkout holding pipelines/ and schemas/;
DB, DATA, EXPORTS, ASINS, ... as in config.mk).  Secrets stay in .env.
"""

import os
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

ASIN_HOME = os.environ.get("ASIN_HOME", "/srv/asin")

# The stages in order, as make targets of pipelines/daily.mk.
STAGES = [
    ("fetch", 3),      # upstream 429s and 5xx: retried here as well
    ("dedupe", 0),     # a quality gate that fails needs a person
    ("load", 2),
    ("history", 2),
    ("features", 2),
    ("scores", 2),
    ("csv", 2),
    ("report", 2),
    ("assign", 2),
]

default_args = {
    "owner": "asin-tools",
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(hours=1),
}

with DAG(
    dag_id="asin_daily",
    description="asin-tools: fetch to breakout candidates in SQLite",
    schedule="15 2 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=True,               # missed days run in order, like backfill
    max_active_runs=1,          # one day at a time: one SQLite writer
    default_args=default_args,
    tags=["asin-tools"],
) as dag:
    previous = None
    for target, retries in STAGES:
        task = BashOperator(
            task_id=target,
            bash_command=(
                "cd " + ASIN_HOME + " && "
                "make -f pipelines/daily.mk DAY={{ ds }} " + target
            ),
            retries=retries,
        )
        if previous is not None:
            previous >> task
        previous = task
