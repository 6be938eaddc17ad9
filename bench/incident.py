"""Does the demo's injected incident form one cluster? Measured on a store filled by `./run_flow.sh`.

    python -m bench.incident [--db var/sift.db] [--n 6000] [--seed 7] [--doc docs/results/incident.md]

The demo generator is deterministic, so regenerating the stream with the same `--n`/`--seed`
tells which stored review ids are incident reviews (payments freezing after the PIN on 4.12.0). For the
English (original or translated) incident reviews it prints how they spread over clusters, the
share in the largest issue, that issue's name, size and purity (incident reviews / members; also over
the members written during the incident's own span), and its peak growth. Untranslated Hinglish incident reviews are clustered per language and reported
apart. Then that issue's ticket: the scale and window that opened it, against the incident's reviews per
incident-scale window (`SIFT_TICKET_WINDOW_MINUTES`, aligned as the flow's windows) from its first review, and
the first window holding `min_reviews` of them (the app's metadata, else the setting). The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from demo.generate import DEFAULT_APP, build, load_app
from core.settings import PROJECT_ROOT, Settings
from flows.operators.tickets import ALIGN_TO

TIMELINE_WINDOWS = 4  # incident-scale windows shown from the incident's first review


def _at(doc: dict) -> datetime:
    return datetime.fromisoformat(doc["created_at"])


def measure(db: Path, n: int, seed: int) -> dict:
    # The store namespaces ids by app ("paynest/pn-000123").
    kinds = {f'{row["app_id"]}/{row["id"]}': kind for kind, row in
             ((kind, json.loads(line)) for kind, line in build(n=n, seed=seed) if kind != "malformed")}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    docs = [json.loads(doc) for (doc,) in con.execute("SELECT doc FROM reviews ORDER BY id")]
    tickets = [json.loads(doc) for (doc,) in con.execute("SELECT doc FROM documents WHERE kind = 'tickets'")]
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
    # Purity over the life, and over its members written during the incident's own span: an issue that
    # also held an everyday complaint would be purer there.
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
        **_ticket_timing(incident, top, next((t for t in tickets if t.get("cluster_id") == top), None)),
    }


def _ticket_timing(incident: list[dict], top: str, ticket: dict | None) -> dict:
    """When the incident's reviews reached `min_reviews` in one incident-scale window, and when the top issue's
    ticket opened. Windows are aligned as the flow's event-time windows are (`ALIGN_TO`)."""
    cfg = Settings.from_env().tickets
    min_reviews = int(load_app(DEFAULT_APP).get("tickets", {}).get("min_reviews", cfg.min_reviews))
    width = cfg.window_minutes * 60

    def window(at: datetime) -> datetime:
        return ALIGN_TO + timedelta(seconds=(at - ALIGN_TO).total_seconds() // width * width)

    first = min(_at(d) for d in incident)
    per_window: Counter = Counter(window(_at(d)) for d in incident)
    in_top: Counter = Counter(window(_at(d)) for d in incident if d["cluster_id"] == top)
    reached = min((w for w, c in per_window.items() if c >= min_reviews), default=None)
    starts = [window(first) + timedelta(seconds=width * i) for i in range(TIMELINE_WINDOWS)]
    opened = ticket.get("opened_window") if ticket else None
    return {
        "window_minutes": cfg.window_minutes,
        "min_reviews": min_reviews,
        "first_incident_review": first.astimezone(timezone.utc).isoformat(),
        "first_window_with_min_reviews": reached.isoformat() if reached else None,
        "timeline": [[w.isoformat(), per_window[w], in_top[w]] for w in starts],
        "ticket": ticket["id"] if ticket else None,
        "ticket_title": ticket.get("title") if ticket else None,
        "ticket_opened_scale": ticket.get("opened_scale") if ticket else None,
        "ticket_opened_window": opened,
        "ticket_opened_in_first_window_with_min_reviews": bool(
            ticket and reached and ticket.get("opened_scale") == "hour"
            and datetime.fromisoformat(opened) == reached),
    }


def _hm(iso: str | None) -> str:
    return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if iso else "none"


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
        "## Its ticket", "",
        "| measure | value |", "|---|---|",
        f"| the issue's ticket | `{result['ticket']}`, \"{result['ticket_title']}\" |",
        f"| opened by | the {result['ticket_opened_scale']} scale's window starting {_hm(result['ticket_opened_window'])} |",
        f"| the incident's first review | {_hm(result['first_incident_review'])} |",
        f"| the first {result['window_minutes']}-minute window with `min_reviews` ({result['min_reviews']}) incident "
        f"reviews | {_hm(result['first_window_with_min_reviews'])} |",
        f"| opened in that window | {'yes' if result['ticket_opened_in_first_window_with_min_reviews'] else 'no'} |", "",
        f"The incident's stored reviews (any language) per {result['window_minutes']}-minute window from its first one, "
        "and how many of them are in the issue:", "",
        "| window starting | incident reviews | in the issue |", "|---|---|---|",
        *(f"| {_hm(w)} | {c} | {t} |" for w, c, t in result["timeline"]),
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
    print(f"ticket {result['ticket']} opened at the {result['ticket_opened_scale']} scale for the window starting "
          f"{_hm(result['ticket_opened_window'])}; first incident review {_hm(result['first_incident_review'])}, first "
          f"window with {result['min_reviews']} incident reviews {_hm(result['first_window_with_min_reviews'])}")
    if args.doc:
        write_doc(result, args.doc, "python -m bench.incident " + " ".join(sys.argv[1:] if argv is None else argv))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
