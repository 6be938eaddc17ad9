"""Competitor mentions in the real streams, with their direction and feature, for blind readers.

    python -m bench.competitors --data ../shared/data/streams [--apps bench/apps] --sample 100 --seed S
                                [--sheet DIR]
    python -m bench.competitors --score DIR --readers a.tsv b.tsv [--doc docs/results/competitors.md]
                                [--annotations bench/data/annotations/competitors/seedS]

Run mode: each stream row's app (`app`, or `bank_query` for tweets) is matched to its metadata in
`--apps` (by normalised name: "FNBSA" is FNB, "klar" is Klar); its watch list is all the
competitors that metadata names, and `flows.operators.competitors.detect` reads the row's text
with the app's name, the rating and the review type the cue phrases alone give (no embedding
model, no translation). Prints mentions per competitor and direction and the top concrete
features; the last line is one JSON object. With `--sample N`, a sample stratified by Sift's
direction (the two request directions first, 30% of N each when the streams hold
that many) is printed with direction and feature; with `--sheet DIR` it is written for blind
readers: `sheet.txt` (number, app, competitor, text, feature phrase, never the direction) and
`key.csv` (number, review id, stream, app, competitor, direction, feature, cue).

Score mode: reads `key.csv` and the readers' answers (`<n>\\t<direction>\\t<yes|no>` per line, as
docs/annotation/competitor-guideline.md asks) and prints, per reader, Sift's precision per direction
and the share of its feature phrases the reader finds concrete, then the readers' agreement
(Cohen's kappa on direction, percent agreement on concreteness); the last line is one JSON
object. `--doc` writes these figures to a Markdown page; `--annotations DIR` writes each reader's
labels as ids + labels only (review id, stream, competitor, direction, concrete).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.appmeta import AppMetadata, load_apps
from core.appmeta import own_names
from flows.operators.competitors import DIRECTIONS, REQUESTS, Detection, detect, norm, watch_of
from flows.operators.review_type import CUES
from core.settings import PROJECT_ROOT

QUOTA = {"competitor_ahead": 0.3, "switching_away": 0.3, "own_ahead": 0.15, "switching_to": 0.1, "neutral": 0.15}
FILL_ORDER = ("competitor_ahead", "switching_away", "own_ahead", "switching_to", "neutral")
KEY_FIELDS = ("n", "review_id", "stream", "app", "competitor", "direction", "feature", "cue")


def cue_type(text: str) -> str:
    """The review type the cue phrases alone give: feature_request, bug_report or ""."""
    bug, feature = (bool(c.search(text)) for c in CUES)
    return "feature_request" if feature else "bug_report" if bug else ""


@dataclass(frozen=True)
class Row:
    stream: str
    app: str
    review_id: str
    text: str
    rating: int | None


def rows(data: Path) -> Iterator[Row]:
    """Every row of every CSV in `data`; a row without an id gets a hash of its stream, app and text."""
    csv.field_size_limit(1 << 24)
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                app = row.get("app") or row.get("bank_query") or path.stem
                text = row.get("text") or row.get("review") or ""
                rid = row.get("review_id") or row.get("id") or hashlib.sha256(
                    f"{path.stem}\x1f{app}\x1f{text}".encode()).hexdigest()[:16]
                try:
                    rating = int(float(row["rating"])) if row.get("rating") else None
                except ValueError:
                    rating = None
                yield Row(path.stem, app, rid, text, rating)


def app_for(name: str, apps: dict[str, AppMetadata]) -> AppMetadata | None:
    """The metadata of a stream's app name: "FNBSA" -> FNB, "cuenca-alternativa-a-un-banco" -> Cuenca."""
    n = norm(name)
    for meta in apps.values():
        forms = {norm(meta.app_id), norm(meta.name)}
        if any(f and (n.startswith(f) or f.startswith(n)) for f in forms):
            return meta
    return None


def run(data: Path, apps_path: Path) -> tuple[list[dict], int, list[str]]:
    """(one dict per detection, rows read, stream apps with no metadata)."""
    apps = load_apps(apps_path)
    everyone = tuple(c for m in apps.values() for c in m.competitors)
    found: list[dict] = []
    total, unknown = 0, set()
    for row in rows(data):
        total += 1
        meta = app_for(row.app, apps)
        if meta is None:
            unknown.add(row.app)
            continue
        watch = watch_of(meta.competitors)
        for d in detect(row.text, watch, app=meta.name, review_type=cue_type(row.text), rating=row.rating,
                        app_aliases=own_names(apps, meta.app_id)):
            found.append(_item(row, meta, d))
    return found, total, sorted(unknown)


def _item(row: Row, meta: AppMetadata, d: Detection) -> dict:
    return {"review_id": row.review_id, "stream": row.stream, "app": meta.name, "competitor": d.org,
            "direction": d.direction, "feature": d.feature or "", "cue": d.cue, "text": row.text}


def stratified(found: list[dict], n: int, seed: int) -> list[dict]:
    """`n` detections: each direction's quota (`QUOTA`) or all it has, the rest filled in `FILL_ORDER`;
    shuffled, so that a reader cannot tell a stratum by position."""
    rng = random.Random(seed)
    pools = {d: [x for x in found if x["direction"] == d] for d in DIRECTIONS}
    for pool in pools.values():
        rng.shuffle(pool)
    take = {d: min(len(pools[d]), round(QUOTA[d] * n)) for d in DIRECTIONS}
    while sum(take.values()) < min(n, len(found)):
        d = next(d for d in FILL_ORDER if take[d] < len(pools[d]))
        take[d] += 1
    picked = [x for d in DIRECTIONS for x in pools[d][: take[d]]]
    rng.shuffle(picked)
    return picked


def write_sheet(picked: list[dict], out: Path) -> None:
    """sheet.txt for the readers (no direction), key.csv for scoring."""
    out.mkdir(parents=True, exist_ok=True)
    lines = ["Competitor mentions: one block per number. For each, answer one line:",
             "<n><TAB><direction><TAB><yes|no>  (see docs/annotation/competitor-guideline.md)", ""]
    for i, x in enumerate(picked, 1):
        text = " ".join(x["text"].split())
        lines += [f"#{i}", f"app reviewed: {x['app']}", f"competitor: {x['competitor']}", f"review: {text}",
                  f"feature phrase: {x['feature'] or '(none)'}", ""]
    (out / "sheet.txt").write_text("\n".join(lines), encoding="utf-8")
    with (out / "key.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=KEY_FIELDS)
        w.writeheader()
        for i, x in enumerate(picked, 1):
            w.writerow({"n": i, **{k: x[k] for k in KEY_FIELDS if k != "n"}})


# ── score mode ───────────────────────────────────────────────────────────────────────────────────
def read_key(path: Path) -> dict[int, dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return {int(r["n"]): r for r in csv.DictReader(f)}


def read_answers(path: Path) -> dict[int, tuple[str, bool | None]]:
    """`<n>\\t<direction>\\t<yes|no>` lines; others (headers, notes) are skipped; a bad direction is an error."""
    answers: dict[int, tuple[str, bool | None]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = [p.strip() for p in line.replace(",", "\t").split("\t") if p.strip()]
        if len(parts) < 2 or not parts[0].lstrip("#").isdigit():
            continue
        direction = parts[1].lower()
        if direction not in DIRECTIONS:
            raise ValueError(f"{path}:{lineno}: direction {parts[1]!r} is not one of {', '.join(DIRECTIONS)}")
        concrete = parts[2].lower() in ("yes", "y", "1", "true") if len(parts) > 2 else None
        answers[int(parts[0].lstrip("#"))] = (direction, concrete)
    return answers


def cohen_kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    if not n:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def score(key: dict[int, dict], readers: dict[str, dict[int, tuple[str, bool | None]]]) -> dict:
    out: dict = {"rows": len(key), "readers": {}, "sift_counts": dict(Counter(r["direction"] for r in key.values()))}
    for name, ans in readers.items():
        per: dict[str, dict] = {}
        for d in DIRECTIONS:
            rows_d = [n for n, r in key.items() if r["direction"] == d and n in ans]
            hits = sum(ans[n][0] == d for n in rows_d)
            per[d] = {"n": len(rows_d), "correct": hits, "precision": round(hits / len(rows_d), 3) if rows_d else None}
        phrased = [n for n, r in key.items() if r["feature"] and n in ans and ans[n][1] is not None]
        req_phrased = [n for n in phrased if key[n]["direction"] in REQUESTS]
        req = [n for n, r in key.items() if r["direction"] in REQUESTS and n in ans]
        out["readers"][name] = {
            "answered": len(ans), "precision": per,
            "requests_precision": round(sum(ans[n][0] in REQUESTS for n in req) / len(req), 3) if req else None,
            "concrete_share": round(sum(ans[n][1] for n in phrased) / len(phrased), 3) if phrased else None,
            "concrete_share_requests": (round(sum(ans[n][1] for n in req_phrased) / len(req_phrased), 3)
                                        if req_phrased else None),
            "phrases": len(phrased), "phrases_requests": len(req_phrased),
            "confusion": {d: dict(Counter(ans[n][0] for n, r in key.items() if r["direction"] == d and n in ans))
                          for d in DIRECTIONS},
        }
    names = list(readers)
    if len(names) >= 2:
        a, b = readers[names[0]], readers[names[1]]
        both = sorted(set(a) & set(b) & set(key))
        conc = [n for n in both if key[n]["feature"] and a[n][1] is not None and b[n][1] is not None]
        agreed = [n for n in both if a[n][0] == b[n][0]]
        per_agreed = {}
        for d in DIRECTIONS:
            rows_d = [n for n in agreed if key[n]["direction"] == d]
            per_agreed[d] = {"n": len(rows_d), "precision": (round(sum(a[n][0] == d for n in rows_d) / len(rows_d), 3)
                                                              if rows_d else None)}
        out["agreement"] = {
            "rows": len(both),
            "direction_kappa": round(cohen_kappa([a[n][0] for n in both], [b[n][0] for n in both]), 3),
            "direction_percent": round(len(agreed) / len(both), 3) if both else None,
            "concrete_percent": round(sum(a[n][1] == b[n][1] for n in conc) / len(conc), 3) if conc else None,
            "concrete_rows": len(conc),
            "precision_where_readers_agree": per_agreed,
        }
    return out


def markdown(result: dict, command: str, counts: dict | None = None) -> str:
    lines = ["# Competitor directions: Sift against two blind readers", "",
             f"Written by `{command}`; do not edit by hand.", ""]
    if counts:
        d = counts["directions"]
        lines += [f"The sheet was drawn from {counts['rows']:,} rows of `{counts['data']}` (seed {counts['seed']}): "
                  f"{counts['mentions']} competitor mentions, of which Sift reads "
                  + ", ".join(f"{k} {d[k]}" for k in DIRECTIONS)
                  + f"; {counts['requests_with_feature']} requests carry a concrete feature.", ""]
    lines += [
             "Each reader saw the review text, the app it was written about, the competitor Sift detected and the "
             "feature phrase Sift extracted, never Sift's direction (docs/annotation/competitor-guideline.md). "
             "The sample is stratified by Sift's direction, so precision is per direction, not over the stream.", "",
             f"Rows: {result['rows']}; Sift's directions in the sample: "
             + ", ".join(f"{d} {result['sift_counts'].get(d, 0)}" for d in DIRECTIONS) + ".", "",
             "| reader | " + " | ".join(DIRECTIONS) + " | request directions | concrete phrases (all / requests) |",
             "|---|" + "---|" * (len(DIRECTIONS) + 2)]
    for name, r in result["readers"].items():
        cells = []
        for d in DIRECTIONS:
            p = r["precision"][d]
            cells.append(f"{p['precision']:.2f} ({p['correct']}/{p['n']})" if p["n"] else "–")
        req = f"{r['requests_precision']:.2f}" if r["requests_precision"] is not None else "–"
        conc = (f"{r['concrete_share']:.2f} of {r['phrases']} / {r['concrete_share_requests']:.2f} of "
                f"{r['phrases_requests']}"
                if r["concrete_share"] is not None and r["concrete_share_requests"] is not None else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {req} | {conc} |")
    if "agreement" in result:
        g = result["agreement"]
        lines += ["", f"Readers' agreement on {g['rows']} rows: Cohen's kappa on direction {g['direction_kappa']:.2f} "
                  f"(raw agreement {g['direction_percent']:.2f}); percent agreement on concreteness "
                  f"{g['concrete_percent'] if g['concrete_percent'] is not None else '–'} "
                  f"over {g['concrete_rows']} phrases.", "",
                  "Precision where the two readers agree on the direction:", "",
                  "| direction | rows | precision |", "|---|---|---|"]
        for d, p in g["precision_where_readers_agree"].items():
            lines.append(f"| {d} | {p['n']} | {p['precision'] if p['precision'] is not None else '–'} |")
    for name, r in result["readers"].items():
        lines += ["", f"What {name} read where Sift read each direction (rows: Sift, columns: {name}):", "",
                  "| Sift \\ reader | " + " | ".join(DIRECTIONS) + " |", "|---|" + "---|" * len(DIRECTIONS)]
        for d in DIRECTIONS:
            row = r["confusion"][d]
            lines.append(f"| {d} | " + " | ".join(str(row.get(x, 0)) for x in DIRECTIONS) + " |")
    lines += ["", "Targets (issue #21): precision >= 0.85 for competitor_ahead and switching_away; >= 0.8 of the "
              "feature phrases concrete.", ""]
    return "\n".join(lines)


def export_annotations(key: dict[int, dict], readers: dict[str, dict], out: Path) -> None:
    """Each reader's labels as ids + labels only: no review text."""
    out.mkdir(parents=True, exist_ok=True)
    for name, ans in readers.items():
        with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["review_id", "stream", "competitor", "direction", "concrete"])
            for n in sorted(ans):
                if n in key:
                    concrete = "" if not key[n]["feature"] or ans[n][1] is None else ("yes" if ans[n][1] else "no")
                    w.writerow([key[n]["review_id"], key[n]["stream"], key[n]["competitor"], ans[n][0], concrete])


# ── command line ─────────────────────────────────────────────────────────────────────────────────
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.competitors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="folder of stream CSVs (rows with a `text` column)")
    parser.add_argument("--apps", type=Path, default=PROJECT_ROOT / "bench" / "apps",
                        help="app metadata (names the competitors of each stream app)")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sheet", type=Path, help="write sheet.txt and key.csv of the sample here")
    parser.add_argument("--score", type=Path, help="a sheet folder with key.csv: score the readers' answers")
    parser.add_argument("--readers", type=Path, nargs="+", default=[], help="readers' answer files (TSV)")
    parser.add_argument("--doc", type=Path, help="write the scores as Markdown here")
    parser.add_argument("--annotations", type=Path, help="write the readers' labels (ids + labels) here")
    args = parser.parse_args(argv)
    if args.score:
        return _score_main(args, argv)
    if not args.data or not args.data.is_dir():
        print(f"bench.competitors: error: --data {args.data} is not a folder of stream CSVs", file=sys.stderr)
        return 2
    found, total, unknown = run(args.data, args.apps)
    if unknown:
        print(f"no app metadata for {', '.join(unknown)}: their rows are skipped", file=sys.stderr)
    by_org: dict[str, Counter[str]] = defaultdict(Counter)
    features: dict[str, Counter[str]] = defaultdict(Counter)
    for x in found:
        by_org[f"{x['app']} vs {x['competitor']}"][x["direction"]] += 1
        if x["feature"] and x["direction"] in REQUESTS:
            features[x["competitor"]][x["feature"]] += 1
    print(f"{total} rows, {len(found)} competitor mentions")
    short = {"competitor_ahead": "ahead", "switching_away": "away", "own_ahead": "win", "switching_to": "arrive",
             "neutral": "neutral"}
    print(f"{'app vs competitor':<32}" + "".join(f"{short[d]:>9}" for d in DIRECTIONS) + "  request features")
    for pair in sorted(by_org, key=lambda p: -sum(by_org[p].values())):
        c = by_org[pair]
        comp = pair.split(" vs ", 1)[1]
        top = "; ".join(f"{f} ({n})" for f, n in features[comp].most_common(3))
        print(f"{pair[:31]:<32}" + "".join(f"{c[d]:>9}" for d in DIRECTIONS) + f"  {top}")
    if args.sample:
        picked = stratified(found, args.sample, args.seed)
        print(f"\nsample of {len(picked)} (seed {args.seed}), stratified by direction:")
        for i, x in enumerate(picked, 1):
            text = " ".join(x["text"].split())
            print(f"{i:>3}. [{x['direction']}] {x['app']} vs {x['competitor']} | feature: {x['feature'] or '-'}"
                  f" | {text[:300]}")
    totals = Counter(x["direction"] for x in found)
    summary = {"rows": total, "mentions": len(found), "directions": {d: totals[d] for d in DIRECTIONS},
               "requests_with_feature": sum(1 for x in found if x["direction"] in REQUESTS and x["feature"])}
    if args.sample and args.sheet:
        write_sheet(picked, args.sheet)
        (args.sheet / "counts.json").write_text(json.dumps({**summary, "data": str(args.data), "seed": args.seed,
                                                            "sample": len(picked)}), encoding="utf-8")
        print(f"sheet: {args.sheet / 'sheet.txt'}; key: {args.sheet / 'key.csv'}; counts: {args.sheet / 'counts.json'}")
    print(json.dumps(summary))
    return 0


def _score_main(args: argparse.Namespace, argv: list[str] | None) -> int:
    key_path = args.score / "key.csv"
    if not key_path.is_file() or len(args.readers) < 1:
        print(f"bench.competitors: error: --score needs {key_path} and --readers FILE [FILE]", file=sys.stderr)
        return 2
    key = read_key(key_path)
    readers = {p.stem: read_answers(p) for p in args.readers}
    result = score(key, readers)
    for name, r in result["readers"].items():
        print(f"reader {name}: {r['answered']} answers")
        for d in DIRECTIONS:
            p = r["precision"][d]
            if p["n"]:
                print(f"  {d:<17} precision {p['precision']:.2f} ({p['correct']}/{p['n']})")
        print(f"  request directions (either) precision {r['requests_precision']}; concrete phrases "
              f"{r['concrete_share']} of {r['phrases']} (requests {r['concrete_share_requests']})")
    if "agreement" in result:
        g = result["agreement"]
        print(f"agreement: kappa {g['direction_kappa']} on direction ({g['direction_percent']} raw), "
              f"{g['concrete_percent']} on concreteness ({g['concrete_rows']} phrases)")
    if args.doc:
        command = "python -m bench.competitors " + " ".join(argv if argv is not None else sys.argv[1:])
        args.doc.parent.mkdir(parents=True, exist_ok=True)
        counts_path = args.score / "counts.json"
        counts = json.loads(counts_path.read_text(encoding="utf-8")) if counts_path.is_file() else None
        args.doc.write_text(markdown(result, command, counts), encoding="utf-8")
    if args.annotations:
        export_annotations(key, readers, args.annotations)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
