#!/usr/bin/env bash
# Run the Sift dataflow on the embedded default: the project's demo stream in, SQLite out.
#   ./run_flow.sh                 set up .venv if needed, write the demo stream if missing, run, summarise
#   ./run_flow.sh -w 2            extra arguments go to `python -m bytewax.run` (workers, recovery, …)
# Settings come from the environment or ./.env (see the README's settings table).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

scripts/bootstrap.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=.venv/bin/python

if [ -z "${SIFT_INPUT:-}" ] && [ ! -f var/demo/reviews.jsonl ]; then
  "$PY" -m demo.generate --out var/demo/reviews.jsonl
fi

start=$(date +%s)
"$PY" -m bytewax.run flows.main "$@"
echo "flow finished in $(( $(date +%s) - start )) s"
"$PY" -m flows.report
