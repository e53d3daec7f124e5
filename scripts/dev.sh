#!/usr/bin/env bash
# Set up and start the registry on SQLite with synthetic demo data:
# http://127.0.0.1:5000, signed in as the demo admin printed below.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export REGISTRY_ENV=development FLASK_APP=wsgi
FLASK=.venv/bin/flask
$FLASK db upgrade
if [ ! -f instance/.demo-seeded ]; then
  $FLASK registry seed-demo --people 2000
  $FLASK registry create-demo-staff
  touch instance/.demo-seeded
else
  echo "Demo data already present (delete instance/ to start over)."
  $FLASK registry create-demo-staff --reset-admin
fi
# The job worker runs imports, duplicate scans and campaigns; in development its
# e-mails (console backend) go to instance/worker.log.
$FLASK registry worker > instance/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null' EXIT
echo "Job worker started (log: instance/worker.log)."
$FLASK run --host 127.0.0.1 --port 5000
