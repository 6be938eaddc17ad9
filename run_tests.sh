#!/usr/bin/env bash
# Install test extras, start the real services (Elasticsearch, ElasticMQ), run pytest, stop the services.
#   ./run_tests.sh                 everything
#   ./run_tests.sh -k store -x     extra arguments go to pytest
# Services that were already running before are left running; ones this script started are
# stopped on exit, also when tests fail.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

scripts/bootstrap.sh test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

if scripts/services.sh status >/dev/null 2>&1; then
  echo "run_tests: services already running; leaving them up"
else
  trap 'scripts/services.sh stop all || true' EXIT
  scripts/services.sh start all
fi
eval "$(scripts/services.sh env)"
export SIFT_REQUIRE_SERVICES=1

mkdir -p var/test-output
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
exit "$status"
