"""Does the demo's injected incident form one cluster? Measured on a store filled by `./run_flow.sh`.

    python -m bench.incident [--db var/sift.db] [--n 6000] [--seed 7] [--doc docs/results/incident.md]

The demo generator is deterministic, so regenerating the stream with the same `--n`/`--seed`
tells which stored review ids are incident reviews (the failed payments after 4.12.0). For the
English (original or translated) incident reviews it prints how they spread over clusters, the
share in the largest issue, that issue's name, size and purity (incident reviews / members; also over
the members written during the incident's own span), and its peak growth. Untranslated Hinglish incident reviews are clustered per language and reported
apart. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from demo.generate import build
from core.settings import PROJECT_ROOT


def _at(doc: dict) -> datetime:
    return datetime.fromisoformat(doc["created_at"])


def measure(db: Path, n: int, seed: int) -> dict:
    # The store namespaces ids by app ("paynest/pn-000123").
    kinds = {f'{row["app_id"]}/{row["id"]}': kind for kind, row in
             ((kind, json.loads(line)) for kind, line in build(n=n, seed=seed) if kind != "malformed")}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    docs = [json.loads(doc) for (doc,) in con.execute("SELECT doc FROM reviews ORDER BY id")]
    con.close()
    missing = sum(1 for d in docs if d["id"] not in kinds)
    if not docs or missing > len(docs) // 2:
        raise SystemExit(f"bench.incident: error: {db} does not hold the demo stream generated with n={n} seed={seed}")
    incident = [d for d in docs if kinds.get(d["id"]) == "incident"]
    english = [d for d in incident if d["translation"] in ("not_needed", "translated")]
    spread = Counter(d["cluster_id"] for d in english)
    top, top_count = spread.most_common(1)[0]
    members = [d for d in docs if d["cluster_id"] == top]
    last = members[-1]
    # The demo's baseline has the same complaints as the incident ("payment failed but money debited"), before
    # and during it; within the incident's own span the members are mostly the incident's reviews.
    start = min(_at(d) for d in english)
    end = max(_at(d) for d in english)
    during = [d for d in members if start <= _at(d) <= end]
    return {
        "incident_reviews": len(incident),
        "english": len(english),
        "untranslated": len(incident) - len(english),
        "top_cluster": top,
        "top_cluster_name": last["cluster_name"],
        "share_in_top_cluster": round(top_count / len(english), 3),
        "top_cluster_size": len(members),
        "top_cluster_purity": round(sum(kinds.get(d["id"]) == "incident" for d in members) / len(members), 3),
        "top_cluster_purity_during_incident": round(sum(kinds.get(d["id"]) == "incident" for d in during) / len(during), 3),
        "peak_growth": max(d.get("cluster_growth", 1.0) for d in members),
        "peak_cluster_priority": max(d.get("cluster_priority", 0.0) for d in members),
        "spread": [[cid, count] for cid, count in spread.most_common(6)],
    }


def write_doc(result: dict, path: Path, command: str) -> None:
    at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# The demo's 4.12.0 incident in the issue layer", "",
        f"Written by `{command}` on {at}, after `./run_flow.sh --fresh`; re-run both to refresh this page.", "",
        f"{result['english']} English incident reviews ({result['untranslated']} more are kept untranslated and "
        "grouped per language).", "",
        "| measure | value |", "|---|---|",
        f"| share of the English incident reviews in the largest issue (recall) | {result['share_in_top_cluster']:.1%} |",
        f"| that issue | `{result['top_cluster']}`, \"{result['top_cluster_name']}\", {result['top_cluster_size']} members |",
        f"| its purity: incident reviews among its members, over its life | {result['top_cluster_purity']:.1%} |",
        f"| its purity among the members written during the incident | {result['top_cluster_purity_during_incident']:.1%} |",
        f"| its peak growth (1 h rate over 24 h rate) | ×{result['peak_growth']:.1f} |", "",
        "Where the other English incident reviews went: " + ", ".join(f"`{c}` {n}" for c, n in result["spread"][1:]) + ".",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incident", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=PROJECT_ROOT / "var" / "sift.db")
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--doc", type=Path, default=None, help="also write the figures as a markdown page")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"bench.incident: error: {args.db} does not exist; run ./run_flow.sh first", file=sys.stderr)
        return 2
    result = measure(args.db, args.n, args.seed)
    print(f"{result['english']} English incident reviews: {result['share_in_top_cluster']:.0%} in "
          f"{result['top_cluster']} \"{result['top_cluster_name']}\" ({result['top_cluster_size']} members, "
          f"purity {result['top_cluster_purity']:.0%}, {result['top_cluster_purity_during_incident']:.0%} during the incident, peak growth ×{result['peak_growth']:.1f})")
    for cid, count in result["spread"][1:]:
        print(f"  also {count:4d} in {cid}")
    if args.doc:
        write_doc(result, args.doc, "python -m bench.incident " + " ".join(sys.argv[1:] if argv is None else argv))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
