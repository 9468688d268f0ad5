#!/usr/bin/env bash
# Starts the exchange: web (admin and API), a Celery worker and Celery beat.
# Ctrl-C stops all three together.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
mkdir -p var

echo "==> database: ${DATABASE_URL:-SQLite in var/exchange.sqlite3}"
echo "==> broker:   ${REDIS_URL:-filesystem queue in var/broker (no server needed)}"
$BIN/python manage.py migrate --noinput
# The query service's role (owns and reads loaded data; docs/querying.md). On SQLite it says it needs PostgreSQL.
$BIN/python manage.py query_roles
$BIN/python manage.py seed_demo --if-empty

# Stop the three main processes; each shuts its own children down cleanly.
trap 'trap - INT TERM EXIT; echo; echo "==> stopping"; kill $(jobs -p) 2>/dev/null; wait' INT TERM EXIT

# One worker serves every queue here; a deployment splits them (README, "Deploying on several machines").
$BIN/celery -A config worker --loglevel=info --concurrency="${WORKER_CONCURRENCY:-2}" \
    --queues "${CELERY_TASK_DEFAULT_QUEUE:-celery},clearing,audit,query,billing,harvest" &
$BIN/celery -A config beat --loglevel=info &
$BIN/python manage.py runserver "${EXCHANGE_ADDR:-127.0.0.1:8000}" --noreload &

$BIN/python manage.py demo_access
wait -n
