"""Bytewax recovery store helper for `run_flow.sh`: initialise once, say where a file input resumes, start over.

    python scripts/recovery.py prepare DIR --partitions N   create DIR with N partitions the first time; then
                                                             say where the file input resumes. Exit 3 when the
                                                             file input was already read to its end.
    python scripts/recovery.py fresh DIR                     delete DIR's partitions and the SQLite store

The partition count is fixed when DIR is created (Bytewax cannot change it later); the number of
workers may change between runs, state is redistributed on resume. The resume position of the file
source is read from the partitions themselves (Bytewax 0.21 SQLite layout: table `snaps`, the
source's state is the number of records already emitted), so it is right for runs started without
this script too; if the layout is not what we expect, nothing is said.
"""

from __future__ import annotations

import argparse
import pickle
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from connectors.files import count_records  # noqa: E402
from core.settings import ConfigError, Settings  # noqa: E402

CONSUMED = 3  # exit status of `prepare` when the file input has nothing left to read
INPUT_STEP = "sift.reviews_in"  # flow id "sift" + the input step ids in flows/dataflow.py
WATCH_STEP = "sift.watchlist_in"


def partitions(db_dir: Path) -> list[Path]:
    return sorted(db_dir.glob("part-*.sqlite3"))


def resume_position(db_dir: Path, input_path: Path, step: str = INPUT_STEP) -> int | None:
    """Where `step` resumes reading `input_path` (records for the review file, bytes for the watch list),
    or None when no snapshot mentions it.

    Bytewax resumes at the lowest frontier of the last execution whose workers all reported one, with the
    state of the latest snapshot before that epoch."""
    workers: dict[int, int] = {}  # execution -> worker count
    fronts: dict[int, dict[int, int]] = {}  # execution -> worker -> frontier epoch
    snaps: list[tuple[int, bytes]] = []
    for part in partitions(db_dir):
        with closing(sqlite3.connect(f"file:{part}?mode=ro", uri=True)) as db:
            workers.update(db.execute("SELECT ex_num, worker_count FROM exs"))
            for ex, worker, frontier in db.execute("SELECT ex_num, worker_index, worker_frontier FROM fronts"):
                fronts.setdefault(ex, {})[worker] = frontier
            snaps += db.execute(
                "SELECT snap_epoch, ser_change FROM snaps WHERE step_id = ? AND state_key = ? AND ser_change IS NOT NULL",
                (step, str(input_path)),
            )
    complete = [ex for ex, count in workers.items() if len(fronts.get(ex, {})) >= count]
    if not complete:
        return None
    resume = min(fronts[max(complete)].values())
    before = [(epoch, blob) for epoch, blob in snaps if epoch < resume]
    return int(pickle.loads(max(before)[1])) if before else None


def prepare(db_dir: Path, count: int, workers: int) -> int:
    from bytewax.recovery import init_db_dir

    parts = partitions(db_dir)
    if not parts:
        db_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(db_dir, count)
        print(f"recovery: created {db_dir} with {count} partition{'s' * (count != 1)}; "
              f"state is snapshotted there and a restart resumes from it")
        return 0
    note = ""
    if workers > len(parts):
        note = f"; {workers} workers share its {len(parts)} partitions (fixed at creation: --fresh to recreate)"
    try:
        settings = Settings.from_env()
    except ConfigError:
        return 0  # the flow itself reports the bad setting
    if settings.source != "file":
        print(f"recovery: resuming from the last snapshot in {db_dir}{note}")
        return 0
    try:
        done = resume_position(db_dir, settings.input_path)
        total = count_records(settings.input_path)
    except (sqlite3.Error, pickle.UnpicklingError, OSError, ValueError, TypeError):
        print(f"recovery: resuming from the last snapshot in {db_dir}{note}")
        return 0
    if not done:
        print(f"recovery: {db_dir}; {settings.input_path} starts from its first record{note}")
        return 0
    if done >= total and _watchlist_pending(db_dir, settings):
        print(f"recovery: {settings.input_path} was already consumed ({total:,} records); "
              f"running for the new watch-list commands in {settings.watchlist.path}")
        return 0
    if done >= total:
        print(f"recovery: {settings.input_path} was already consumed: all {total:,} records were read by an "
              f"earlier run (snapshot in {db_dir}), so there is nothing new to read.")
        print("recovery: to process it again from the start, run ./run_flow.sh --fresh "
              "(clears the recovery store and the SQLite store); appended records are read on the next run")
        return CONSUMED
    print(f"recovery: resuming {settings.input_path} after record {done:,} of {total:,} "
          f"(snapshot in {db_dir}; ./run_flow.sh --fresh starts over){note}")
    return 0


def _watchlist_pending(db_dir: Path, settings: Settings) -> bool:
    """Whether the watch-list commands file has bytes the flow has not read yet (never when it comes from a queue)."""
    path = settings.watchlist.path
    if settings.watchlist.queue_url or not path.is_file():
        return False
    return path.stat().st_size > (resume_position(db_dir, path, WATCH_STEP) or 0)


def fresh(db_dir: Path) -> int:
    removed = [p for p in db_dir.glob("part-*.sqlite3*") if p.is_file()]
    for p in removed:
        p.unlink()
    print(f"fresh: removed {len(removed)} recovery files from {db_dir}" if removed else f"fresh: {db_dir} is empty")
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"fresh: store left as it is ({e})")
        return 0
    if settings.store == "sqlite":
        gone = [p for p in (Path(f"{settings.sqlite_path}{s}") for s in ("", "-wal", "-shm")) if p.is_file()]
        for p in gone:
            p.unlink()
        print(f"fresh: removed the SQLite store {settings.sqlite_path}" if gone else "fresh: no SQLite store yet")
    else:
        print(f"fresh: Elasticsearch indices {settings.es.index_prefix}-* left as they are "
              "(records are rewritten by id)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/recovery.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("db_dir", type=Path)
    p.add_argument("--partitions", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    f = sub.add_parser("fresh")
    f.add_argument("db_dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return prepare(args.db_dir, max(1, args.partitions), args.workers)
    return fresh(args.db_dir)


if __name__ == "__main__":
    sys.exit(main())
