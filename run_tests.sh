#!/usr/bin/env bash
# Install test extras, start the real services (Elasticsearch, ElasticMQ), run the DevRev snap-in's
# unit tests (npm test) and pytest (which also runs lint-imports on the layer contracts, tests/test_layers.py,
# and the doctests of core/, flows/ and connectors/), stop the services. The exit status is pytest's, or 1 when pytest
# passed and the snap-in's tests did not.
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
# The DevRev snap-in's own tests (node:test, after a build that pytest's end-to-end test then runs).
if command -v npm >/dev/null 2>&1 && [ -d snapins/sift/code/node_modules ]; then
  (cd snapins/sift/code && npm test --silent)
  snapin_status=$?
else
  echo "run_tests: the snap-in tests need node, npm and its packages: run scripts/bootstrap.sh test as root" >&2
  snapin_status=1
fi
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = 0 ] && [ "$snapin_status" != 0 ]; then
  echo "run_tests: the snap-in tests failed (cd snapins/sift/code && npm test)" >&2
  status=1
fi
exit "$status"
