"""Scale-out with Bytewax itself: the same input through the real flow with one worker, with two workers
(`-w 2`) and with two processes (`-i 0` / `-i 1` with `-a`) gives the same stored result.

Every configuration reads one demo file into its own SQLite file. Compared per record id: enriched or
rejected, the rejection reason, the primary label, and the cluster id. The file source has one
partition per file, so the one file is read by one worker; the keyed steps (dedup by app, clustering
by app:label, ticket windows by cluster, watch list by app) are exchanged between workers and
processes. A key lives on exactly one worker and its items arrive there in input order, so even the
order-dependent steps (dedup keeps the first copy, River KMeans learns online) must agree.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from demo.generate import generate
from tests.helpers import ROOT, free_port

N = 300
TIMEOUT = 900


def stored(db: Path) -> dict[str, tuple]:
    """id -> ("enriched", primary_label, cluster_id) or ("rejected", reason)."""
    with sqlite3.connect(db) as conn:
        out = {rid: ("enriched", label, cluster) for rid, label, cluster in
               conn.execute("SELECT id, primary_label, cluster_id FROM reviews")}
        out |= {rid: ("rejected", reason) for rid, reason in conn.execute("SELECT id, reason FROM rejected")}
    return out


def start(env: dict[str, str], db: Path, log: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, **env, "SIFT_SQLITE_PATH": str(db)}
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "bytewax.run", "flows.main", *args],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def finish(procs: list[subprocess.Popen], logs: list[Path]) -> None:
    """Wait for all; one that fails ends the wait (its peers would retry connecting to it forever)."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while any(proc.poll() is None for proc in procs) and time.monotonic() < deadline:
            if any(proc.returncode not in (None, 0) for proc in procs):
                break
            time.sleep(0.2)
    finally:
        killed = [proc.poll() is None for proc in procs]
        for proc, kill in zip(procs, killed):
            if kill:
                proc.kill()
                proc.wait()
    # Those that ended by themselves first: the failure is theirs; the rest were stopped here.
    for _, proc, log in sorted(zip(killed, procs, logs), key=lambda entry: entry[0]):
        assert proc.returncode == 0, f"{log.name}: exit {proc.returncode}\n{log.read_text()[-3000:]}"


def run(name: str, env: dict[str, str], tmp: Path, processes: int = 1, workers: int = 1) -> dict[str, tuple]:
    db = tmp / f"{name}.db"
    if processes == 1:
        logs = [tmp / f"{name}.log"]
        procs = [start(env, db, logs[0], "-w", str(workers))]
    else:
        addresses = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
        logs = [tmp / f"{name}-{i}.log" for i in range(processes)]
        procs = [start(env, db, logs[i], "-w", str(workers), "-i", str(i), "-a", addresses) for i in range(processes)]
    finish(procs, logs)
    return stored(db)


def test_one_worker_two_workers_and_two_processes_store_the_same_result(tmp_path):
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(generate(n=N, seed=5)) + "\n", encoding="utf-8")
    env = {
        "HF_HUB_OFFLINE": "1", "SIFT_SOURCE": "file", "SIFT_INPUT": str(path), "SIFT_STORE": "sqlite",
        "SIFT_WATCHLIST_FILE": str(tmp_path / "no-commands.jsonl"), "SIFT_TORCH_THREADS": "1",
        "SIFT_APPS_RELOAD_SECONDS": "0", "SIFT_PROGRESS_SECONDS": "0",
    }
    configs = {"w1": {}, "w2": {"workers": 2}, "p2": {"processes": 2}}
    with ThreadPoolExecutor(len(configs)) as pool:  # each run waits on its subprocesses; run them side by side
        futures = {name: pool.submit(run, name, env, tmp_path, **kw) for name, kw in configs.items()}
        results = {name: f.result() for name, f in futures.items()}

    one = results["w1"]
    assert len(one) == N
    kinds = [v[0] for v in one.values()]
    assert kinds.count("enriched") > N // 2 and kinds.count("rejected") > 0
    assert len({v[2] for v in one.values() if v[0] == "enriched"}) > 3  # several clusters, not one
    for name in ("w2", "p2"):
        other = results[name]
        assert other.keys() == one.keys(), f"{name}: ids differ"
        diff = {rid: (one[rid], other[rid]) for rid in one if one[rid] != other[rid]}
        assert not diff, f"{name}: {len(diff)} records differ from one worker, e.g. {list(diff.items())[:5]}"
