# mlflow.Dockerfile: MLflow's official image with the PostgreSQL driver
# its backend store needs (the image has none), installed once when the
# image is built and pinned, not fetched from PyPI at every (re)start.
# compose.mlflow.yml builds it:
#   docker compose -p asin-mlflow -f deploy/compose.mlflow.yml build
FROM ghcr.io/mlflow/mlflow:v2.16.2
RUN pip install --no-cache-dir psycopg2-binary==2.9.9 && \
	python -c 'import psycopg2'
