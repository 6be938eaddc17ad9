"""Long run: is memory bounded and throughput steady over a long generated stream?

    python -m bench.longrun --n 200000 [--every 30] [--backend ...] [--workers 1]

The demo generator writes `--n` reviews (beyond 50,000 lines, further seeds continue the stream
28 days later with their ids prefixed, so every id is distinct and event time moves forward:
`bench.throughput.demo_lines`). The real flow (`python -m bytewax.run flows.main`) reads them from
the file into a fresh SQLite store, as a subprocess. Every `--every` seconds one line: records
stored, the rate over the last interval and overall, the flow process's RSS and CPU.

The last line is one JSON object. "Steady state" is the second half of the records: the RSS
median and maximum there, the RSS growth per 100k records there (a straight-line fit; bounded
memory shows as a slope near zero), and the throughput there (records stored in the second half
over the time they took). `--n 20000` gives a quick reading; docs/performance.md says how to keep a run as a page.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

from bench.throughput import (
    BACKENDS, base_env, demo_lines, distinct_records, load_average, log, proc_cpu_seconds, proc_rss_mib,
)
from core.settings import PROJECT_ROOT, Settings


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than two distinct xs)."""
    if len(xs) < 2 or len(set(xs)) < 2:
        return 0.0
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.longrun", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between report lines")
    parser.add_argument("--backend", choices=BACKENDS, default=None, help="SIFT_EMBED_BACKEND for the flow")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=24 * 3600)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (input, SQLite file, flow log)")
    args = parser.parse_args(argv)

    work = PROJECT_ROOT / "var" / "bench" / f"longrun-{datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    path, db = work / "reviews.jsonl", work / "longrun.db"
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    load_before = load_average()
    lines = demo_lines(args.n, args.seed)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n = distinct_records(lines)  # identical lines without an id are one record (a content id)
    del lines
    log(f"{n:,} demo lines -> {path} (load {load_before})")

    env = {**os.environ, **base_env(work, args.backend), "SIFT_SOURCE": "file", "SIFT_INPUT": str(path),
           "SIFT_STORE": "sqlite", "SIFT_SQLITE_PATH": str(db), "SIFT_PROGRESS_SECONDS": "60"}
    samples: list[dict[str, float]] = []  # t (s since start), stored, rss_mib, cpu_s
    started = time.perf_counter()
    print(f"{'t_s':>7} {'stored':>9} {'rate/s':>8} {'avg/s':>8} {'rss_MiB':>8} {'cpu_s':>8} {'load':>16}", flush=True)
    try:
        with (work / "flow.log").open("w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "bytewax.run", "flows.main", "-w", str(args.workers)],
                                    cwd=PROJECT_ROOT, env=env, stdout=err, stderr=err)
            first: dict[str, float] | None = None
            usage = None
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                exited = pid != 0
                if exited:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                t = time.perf_counter() - started
                stored = 0
                if db.exists():
                    try:
                        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
                            stored = sum(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                                         for table in ("reviews", "rejected"))
                    except sqlite3.Error:
                        stored = samples[-1]["stored"] if samples else 0
                sample = {"t": t, "stored": stored, "rss_mib": proc_rss_mib(proc.pid), "cpu_s": proc_cpu_seconds(proc.pid)}
                due = not samples or t - samples[-1]["t"] >= args.every * 0.99
                if due or exited or stored >= n:
                    prev = samples[-1] if samples else {"t": 0.0, "stored": 0}
                    if first is None and stored > 0:
                        first = sample
                    rate = (stored - prev["stored"]) / max(t - prev["t"], 1e-9)
                    avg = (stored - first["stored"]) / max(t - first["t"], 1e-9) if first and t > first["t"] else 0.0
                    samples.append(sample)
                    print(f"{t:7.0f} {stored:9,} {rate:8.1f} {avg:8.1f} {sample['rss_mib']:8.0f} {sample['cpu_s']:8.0f} "
                          f"{load_average():>16}", flush=True)
                if exited or stored >= n:
                    break
                if t > args.timeout:
                    proc.kill()
                    raise SystemExit(f"bench.longrun: timed out after {t:.0f}s at {stored:,}/{n:,}")
                time.sleep(min(2.0, args.every))
            if proc.returncode is None:
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
        total_s = time.perf_counter() - started
        final = samples[-1]["stored"] if samples else 0
        if proc.returncode != 0 or final < n:
            tail = (work / "flow.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"bench.longrun: flow exited {proc.returncode} with {final:,}/{n:,} stored:\n{tail}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    steady = [s for s in samples if s["stored"] >= n / 2 and s["rss_mib"] == s["rss_mib"]]
    rss = [s["rss_mib"] for s in steady] or [samples[-1]["rss_mib"]]
    half = next((s for s in samples if s["stored"] >= n / 2), samples[-1])
    end = samples[-1]
    result = {
        "n": n, "workers": args.workers,
        "backend": args.backend or Settings.from_env().embed_backend,
        "started": started_at, "total_s": round(total_s), "load_before": load_before, "load_after": load_average(),
        "steady_rss_median_mib": round(statistics.median(rss)), "steady_rss_max_mib": round(max(rss)),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
        "rss_growth_mib_per_100k": round(slope([s["stored"] for s in steady], [s["rss_mib"] for s in steady]) * 100_000, 1),
        "steady_records_per_s": round((end["stored"] - half["stored"]) / max(end["t"] - half["t"], 1e-9), 1),
        "overall_records_per_s": round(n / total_s, 1),
        "samples": len(samples),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
