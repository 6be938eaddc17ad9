#!/usr/bin/env bash
# Run the Sift dataflow with Bytewax recovery on (the production command); by default the project's
# demo stream in, SQLite out.
#   ./run_flow.sh                 set up .venv if needed, write the demo stream if missing, run, summarise
#   ./run_flow.sh --fresh         start over: clear the recovery store and the SQLite store first, and
#                                 write the demo stream anew (the generator may have changed)
#   ./run_flow.sh -w 2            extra arguments go to `python -m bytewax.run` (workers, …)
# Recovery: state is snapshotted to SIFT_RECOVERY_DIR (default var/recovery, created with
# SIFT_RECOVERY_PARTITIONS partitions, default workers × processes of the first run) every
# SIFT_SNAPSHOT_SECONDS (default 10); snapshots are kept SIFT_BACKUP_SECONDS (default 60) longer for
# backups. A restart resumes from the last snapshot; a file input already read to its end is not read
# again (the script says so). Your own -r/-s/-b (or BYTEWAX_* variables) win over these.
# Settings come from the environment or ./.env (docs/configuration.md, generated from core/settings.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

fresh=0 own_dir="${BYTEWAX_RECOVERY_DIRECTORY:-}" has_snapshot=0 has_backup=0 workers=1 processes=1
[ -n "${BYTEWAX_SNAPSHOT_INTERVAL:-}" ] && has_snapshot=1
[ -n "${BYTEWAX_RECOVERY_BACKUP_INTERVAL:-}" ] && has_backup=1
args=() prev=""
for a in "$@"; do
  case "$prev" in
    -r|--recovery-directory) own_dir="$a" ;;
    -w|--workers-per-process) workers="$a" ;;
    -a|--addresses) processes=$(( $(tr -cd ';' <<<"$a" | wc -c) + 1 )) ;;
  esac
  case "$a" in
    --fresh) fresh=1; prev=""; continue ;;
    --recovery-directory=*) own_dir="${a#*=}" ;;
    --workers-per-process=*) workers="${a#*=}" ;;
    -s|--snapshot-interval|--snapshot-interval=*) has_snapshot=1 ;;
    -b|--backup-interval|--backup-interval=*) has_backup=1 ;;
  esac
  args+=("$a") prev="$a"
done
case "$workers" in ''|*[!0-9]*) workers=1 ;; esac

scripts/bootstrap.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=.venv/bin/python

recovery_dir="${own_dir:-${SIFT_RECOVERY_DIR:-var/recovery}}"
if [ "$fresh" = 1 ]; then
  "$PY" scripts/recovery.py fresh "$recovery_dir"
fi

if [ -z "${SIFT_INPUT:-}" ] && { [ "$fresh" = 1 ] || [ ! -f var/demo/reviews.jsonl ]; }; then
  watch=()  # the snap-in's first command: watch the demo app's competitors (unless commands exist already)
  [ -z "${SIFT_WATCHLIST_FILE:-}" ] && [ ! -f var/watchlist/commands.jsonl ] && watch=(--watchlist var/watchlist/commands.jsonl)
  "$PY" -m demo.generate --out var/demo/reviews.jsonl "${watch[@]}"
fi

status=0
"$PY" scripts/recovery.py prepare "$recovery_dir" \
  --partitions "${SIFT_RECOVERY_PARTITIONS:-$(( workers * processes ))}" --workers "$(( workers * processes ))" || status=$?
if [ "$status" = 3 ]; then  # the file input was read to its end by an earlier run: show what is stored
  exec "$PY" -m flows.report
elif [ "$status" != 0 ]; then
  exit "$status"
fi

recovery=()
[ -z "$own_dir" ] && recovery+=(-r "$recovery_dir")
[ "$has_snapshot" = 0 ] && recovery+=(-s "${SIFT_SNAPSHOT_SECONDS:-10}")
[ "$has_backup" = 0 ] && recovery+=(-b "${SIFT_BACKUP_SECONDS:-60}")

start=$(date +%s)
"$PY" -m bytewax.run flows.main "${recovery[@]}" "${args[@]}"
echo "flow finished in $(( $(date +%s) - start )) s"
"$PY" -m flows.report
