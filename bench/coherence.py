"""Blind reading of ticket coherence: a sheet of sampled tickets for readers, and their score.

    python -m bench.coherence sheet --work var/bench/final-upi ... [--sample 30] [--seed 5] --out DIR
    python -m bench.coherence score --key DIR/key.csv [DIR2/key.csv ...] --answers A.tsv [B.tsv ...] [--doc PAGE]

`sheet` reads the stores that `python -m bench.replay --keep --work W` left in each `W/replay/file.db`,
samples up to `--sample` tickets across them (round robin over the streams, so every stream is read; tickets
of an injected incident are left out), and
writes `DIR/sheet.txt`: per ticket a number and up to ten of its issue's reviews (the ticket's example
reviews first chosen, then other members at random, shown in random order), never its title, label or
counts; and `DIR/key.csv` (number, stream, ticket id, issue id), which readers do not see. Readers follow
`docs/annotation/ticket-coherence-guideline.md` and answer one line per ticket: number, tab, yes or no.

`score` joins each reader's answers to the key and prints the share judged coherent, per stream and overall;
the last line is one JSON object. `--annotations CSV ...` (one per reader) also stores the answers as ids and
labels only.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sqlite3
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from bench.replay import INCIDENT_ID

SHOWN = 10


def _tickets(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [json.loads(doc) for (doc,) in con.execute("SELECT doc FROM documents WHERE kind = 'tickets' ORDER BY id")]
    finally:
        con.close()


def _injected(db: Path, ticket: dict) -> bool:
    """Whether the ticket's issue holds reviews `bench.replay --inject` wrote (not real feedback: left out)."""
    issues = [ticket.get("cluster_id") or "", *ticket.get("merged_from", [])]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (n,) = con.execute(f"SELECT COUNT(*) FROM reviews WHERE cluster_id IN ({','.join('?' * len(issues))}) "
                           "AND id LIKE ?", [*issues, f"%{INCIDENT_ID}%"]).fetchone()
    finally:
        con.close()
    return n > 0


def _members(db: Path, ticket: dict, rng: random.Random) -> list[str]:
    issues = [ticket.get("cluster_id") or "", *ticket.get("merged_from", [])]  # a merged issue's reviews keep its id
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = {rid: json.loads(doc) for rid, doc in con.execute(
            f"SELECT id, doc FROM reviews WHERE cluster_id IN ({','.join('?' * len(issues))}) ORDER BY id", issues)}
    finally:
        con.close()
    examples = [s.get("review_id") for s in ticket.get("representatives", []) if s.get("review_id") in rows]
    others = [rid for rid in rows if rid not in examples]
    rng.shuffle(others)
    chosen = (examples + others)[:SHOWN]
    rng.shuffle(chosen)
    return [" ".join(str(rows[rid].get("text", "")).split())[:400] for rid in chosen]


def write_sheet(works: list[Path], sample: int, seed: int, out: Path, command: str = "") -> dict:
    rng = random.Random(seed)
    pools: dict[str, list[tuple[Path, dict]]] = {}
    for work in works:
        db = work / "replay" / "file.db"
        if not db.is_file():
            raise SystemExit(f"bench.coherence: error: {db} does not exist (run bench.replay --keep --work {work})")
        tickets = [t for t in _tickets(db) if not _injected(db, t)]
        rng.shuffle(tickets)
        pools[work.name] = [(db, t) for t in tickets]
    chosen: list[tuple[str, Path, dict]] = []
    while len(chosen) < sample and any(pools.values()):
        for name, pool in pools.items():
            if pool and len(chosen) < sample:
                db, ticket = pool.pop()
                chosen.append((name, db, ticket))
    out.mkdir(parents=True, exist_ok=True)
    rng.shuffle(chosen)
    lines, key = [], []
    for n, (name, db, ticket) in enumerate(chosen, 1):
        lines.append(f"=== TICKET {n} ===")
        lines.extend(f"  - {text}" for text in _members(db, ticket, rng))
        lines.append("")
        key.append({"n": n, "stream": name, "ticket_id": ticket["id"], "issue_id": ticket.get("cluster_id", "")})
    (out / "sheet.txt").write_text("\n".join(lines), encoding="utf-8")
    with (out / "key.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["n", "stream", "ticket_id", "issue_id"])
        writer.writeheader()
        writer.writerows(key)
    by_stream = defaultdict(int)
    for row in key:
        by_stream[row["stream"]] += 1
    available = {name: len(pool) + by_stream[name] for name, pool in pools.items()}
    (out / "sample.json").write_text(json.dumps({"command": command, "available": available}), encoding="utf-8")
    return {"tickets": len(key), "by_stream": dict(by_stream), "available": available}


def read_answers(path: Path) -> dict[int, str]:
    answers: dict[int, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split("\t")
        if len(parts) >= 2 and parts[0].strip().isdigit():
            verdict = parts[1].strip().lower()
            if verdict not in ("yes", "no"):
                raise SystemExit(f"bench.coherence: error: {path}: answer {parts[1]!r} for ticket {parts[0]} is not yes or no")
            answers[int(parts[0])] = verdict
    return answers


def score(key_path: Path, answers_path: Path) -> dict:
    with key_path.open(encoding="utf-8") as f:
        key = list(csv.DictReader(f))
    answers = read_answers(answers_path)
    missing = [int(row["n"]) for row in key if int(row["n"]) not in answers]
    if missing:
        raise SystemExit(f"bench.coherence: error: {answers_path} has no answer for tickets {missing}")
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in key:
        per[row["stream"]][0] += answers[int(row["n"])] == "yes"
        per[row["stream"]][1] += 1
    coherent = sum(v[0] for v in per.values())
    return {"tickets": len(key), "coherent": coherent, "share": round(coherent / len(key), 3) if key else None,
            "by_stream": {name: {"coherent": v[0], "tickets": v[1]} for name, v in sorted(per.items())},
            "rows": [{**row, "coherent": answers[int(row["n"])]} for row in key]}


def write_doc(results: list[dict], path: Path, command: str, sample: dict | None = None) -> None:
    """The results page: per reader the share coherent, and per stream each reader's count."""
    at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    drawn = ""
    if sample:
        pools = ", ".join(f"{name} {n}" for name, n in sample["available"].items())
        drawn = f" The tickets were drawn by `{sample['command']}` from the tickets the replays raised ({pools})."
    names = [chr(ord("A") + i) for i in range(len(results))]
    verdicts = [f"reader {n}: **{r['coherent']} of {r['tickets']} ({r['share']:.0%})**" for n, r in zip(names, results)]
    if len(results) > 1:
        yes, all_ = sum(r["coherent"] for r in results), sum(r["tickets"] for r in results)
        verdicts.append(f"all readers' verdicts: **{yes} of {all_} ({yes / max(all_, 1):.0%})**")
    lines = [
        "# Ticket coherence, judged by blind readers", "",
        f"Written by `{command}` on {at}. Each reader saw only each ticket's reviews "
        "([guideline](../annotation/ticket-coherence-guideline.md)), never its title, label, counts or the other "
        "reader's answers." + drawn, "",
        "Tickets coherent: " + "; ".join(verdicts) + ".", "",
        "| stream | " + " | ".join(f"reader {n}" for n in names) + " | tickets |",
        "|---|" + "---|" * (len(names) + 1),
        *[f"| {stream} | " + " | ".join(str(r["by_stream"][stream]["coherent"]) for r in results)
          + f" | {v['tickets']} |" for stream, v in results[0]["by_stream"].items()], "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def write_annotations(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["stream", "ticket_id", "issue_id", "coherent"])
        writer.writeheader()
        writer.writerows({k: row[k] for k in ("stream", "ticket_id", "issue_id", "coherent")} for row in result["rows"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.coherence", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sheet = sub.add_parser("sheet", help="sample tickets into a blind sheet and its key")
    sheet.add_argument("--work", type=Path, nargs="+", required=True, help="bench.replay --keep work folders")
    sheet.add_argument("--sample", type=int, default=30)
    sheet.add_argument("--seed", type=int, default=5)
    sheet.add_argument("--out", type=Path, required=True)
    scoring = sub.add_parser("score", help="score a reader's answers against the key")
    scoring.add_argument("--key", type=Path, nargs="+", required=True,
                         help="the sheet's key; or one key per --answers file, when readers read sheets drawn with "
                              "different seeds (the same tickets, other members shown)")
    scoring.add_argument("--answers", type=Path, nargs="+", required=True, help="one answer file per reader")
    scoring.add_argument("--doc", type=Path, default=None)
    scoring.add_argument("--annotations", type=Path, nargs="+", default=[],
                         help="also write each reader's ids and verdicts to a CSV (one per --answers file)")
    args = parser.parse_args(argv)
    if args.command == "sheet":
        result = write_sheet(args.work, args.sample, args.seed, args.out,
                             "python -m bench.coherence " + " ".join(sys.argv[1:] if argv is None else argv))
        print(f"{result['tickets']} tickets on {args.out / 'sheet.txt'} (by stream {result['by_stream']})")
    else:
        if args.annotations and len(args.annotations) != len(args.answers):
            parser.error("--annotations needs one file per --answers file")
        if len(args.key) not in (1, len(args.answers)):
            parser.error("--key takes one key, or one per --answers file")
        keys = args.key * len(args.answers) if len(args.key) == 1 else args.key
        results = [score(key, answers) for key, answers in zip(keys, args.answers)]
        for answers, result in zip(args.answers, results):
            print(f"reader {answers}")
            for name, v in result["by_stream"].items():
                print(f"  {name:32s} {v['coherent']:3d} / {v['tickets']:3d} coherent")
            print(f"  {'all':32s} {result['coherent']:3d} / {result['tickets']:3d} coherent ({result['share']:.0%})")
        for result, path in zip(results, args.annotations):
            write_annotations(result, path)
        if args.doc:
            sample_file = keys[0].parent / "sample.json"
            sample = json.loads(sample_file.read_text(encoding="utf-8")) if sample_file.is_file() else None
            write_doc(results, args.doc, "python -m bench.coherence " + " ".join(sys.argv[1:] if argv is None else argv),
                      sample)
        shares = [r["share"] for r in results]
        result = {"readers": [{k: v for k, v in r.items() if k != "rows"} for r in results],
                  "lowest_share": min(shares), "highest_share": max(shares)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
