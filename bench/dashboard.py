"""Render time of every dashboard page on a store: `python -m bench.dashboard`.

Each page runs in Streamlit's `AppTest` (the real script, widgets and caches; no browser) against
`SIFT_SQLITE_PATH` (default `var/sift.db`, the full demo that `./run_flow.sh` writes). Per page:
`cold` is the first render with the query cache cleared (what a visitor gets once the cache
expires), `warm` the re-render from cache (a click). The search page is timed with a semantic
query, once the model is loaded (its one-off load is reported apart). Prints a table, then one JSON
object as the last line. The target is under 2 s per page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard_app" / "app.py"
PAGES = {
    "Overview": "views/overview.py",
    "Issues": "views/issues.py",
    "Search": "views/search.py",
    "Tickets": "views/tickets.py",
    "Competitors": "views/competitors.py",
    "Pipeline health": "views/health.py",
}
QUERY = "money debited but payment failed"
TARGET_S = 2.0


def _app(page: str):
    import streamlit.logger
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    streamlit.logger.set_log_level("error")  # each run re-reads the config; keep bare-mode warnings out
    at.switch_page(page)
    return at


def _timed(at, action=None) -> float:
    start = time.perf_counter()
    (action(at) if action else at).run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"page raised: {at.exception[0].value}")
    return elapsed


def measure(page: str, runs: int) -> dict[str, float]:
    """Median cold and warm render seconds of one page over `runs` rounds."""
    import streamlit as st

    search = page == PAGES["Search"]
    cold, warm = [], []
    for _ in range(runs):
        at = _app(page)
        if search:  # type the query first, so the timed run is the search itself
            at.run()
            at.text_input(key="search_text").input(QUERY)
        st.cache_data.clear()
        cold.append(_timed(at))
        warm.append(_timed(at))
    return {"cold_s": round(statistics.median(cold), 3), "warm_s": round(statistics.median(warm), 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.splitlines()[0])
    p.add_argument("--db", default=os.environ.get("SIFT_SQLITE_PATH", str(ROOT / "var" / "sift.db")),
                   help="SQLite store to read (default: $SIFT_SQLITE_PATH or var/sift.db)")
    p.add_argument("--runs", type=int, default=3, help="rounds per page; the median is reported")
    a = p.parse_args(argv)
    db = Path(a.db)
    if not db.is_file():
        print(f"bench.dashboard: error: no store at {db}; run ./run_flow.sh first (it writes the demo store)",
              file=sys.stderr)
        return 2
    os.environ.update({"SIFT_STORE": "sqlite", "SIFT_SQLITE_PATH": str(db.resolve()),
                       "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "STREAMLIT_LOGGER_LEVEL": "error"})

    import streamlit.logger

    from connectors.sqlite_store import SqliteStore

    streamlit.logger.set_log_level("error")
    store = SqliteStore(db)
    counts = store.counts()
    docs = {kind: len(store.list_documents(kind, limit=100_000)[0]) for kind in ("tickets", "feature_requests")}
    store.close()
    at = _app(PAGES["Search"])  # the first semantic query loads the model: timed apart
    at.run()
    at.text_input(key="search_text").input(QUERY)
    model_s = _timed(at)

    results = {name: measure(page, a.runs) for name, page in PAGES.items()}
    worst = max(r["cold_s"] for r in results.values())
    print(f"dashboard render time (AppTest, median of {a.runs}), store {db}: "
          f"{counts.enriched:,} enriched + {counts.rejected:,} rejected, {docs['tickets']:,} tickets, "
          f"{docs['feature_requests']:,} feature requests")
    print(f"{'page':<16} {'cold s':>8} {'warm s':>8}")
    for name, r in results.items():
        flag = "" if r["cold_s"] < TARGET_S else f"  over {TARGET_S:.0f} s"
        print(f"{name:<16} {r['cold_s']:>8.2f} {r['warm_s']:>8.2f}{flag}")
    print(f"first semantic search, with the embedding model load (once per server): {model_s:.1f} s")
    print(json.dumps({"bench": "dashboard", "store": str(db), "enriched": counts.enriched, "rejected": counts.rejected,
                      "tickets": docs["tickets"], "feature_requests": docs["feature_requests"], "runs": a.runs, "pages": results, "model_load_s": round(model_s, 2),
                      "worst_cold_s": worst, "target_s": TARGET_S, "all_under_target": worst < TARGET_S}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
