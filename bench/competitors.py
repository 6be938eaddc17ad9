"""What the competitor watch list finds in the real streams, and a sample to judge by hand.

    python -m bench.competitors --data ../shared/data/streams [--orgs "#GooglePay #PhonePe …"]
                                [--sample 50 --seed 1] [--apps demo/apps/paynest.json]

Applies one snap-in command `add <orgs>` (resolved against the app metadata's competitors), then
runs `flows.operators.competitors.detect` over the `text` of every row of every CSV in `--data`.
Each stream app gets that watch list minus itself (a PhonePe review naming PhonePe is about
itself, not a competitor). The default orgs cover all four streams: the UPI apps of the demo
metadata, South African banks (tweets), Mexican banks and neobanks, Indonesian e-wallets.

`review_type` comes from the project's review-type cue phrases alone (`review_type.CUES`: a
feature cue gives `feature_request`, else a bug cue `bug_report`, else ""), because the full
zero-shot classifier needs the embedding model; there is no translation (`text_en` = "").

Prints per org: rows mentioning it, detections (requests / comparisons) and the top feature keys
with a count and an example; writes a seeded random sample of detections to
`var/bench/competitor_sample.jsonl` for judging; the last line is one JSON object of per-org counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

from flows.appmeta import load_apps
from flows.operators.competitors import WatchList, detect, find_mentions, norm
from flows.operators.review_type import CUES
from flows.watchlist import parse_commands
from flows.settings import PROJECT_ROOT

DEFAULT_ORGS = ("#GooglePay #PhonePe #Paytm #AmazonPay #BHIM #CRED "
                "#Capitec #Absa #FNB #Nedbank #StandardBank #TymeBank #DiscoveryBank "
                "#Albo #Klar #Cuenca #Fondeadora #HeyBanco #Stori #Nu #BBVA #Banamex #Santander "
                "#GoPay #OVO #ShopeePay")


def cue_type(text: str) -> str:
    """The review type the cue phrases alone give: feature_request, bug_report or ""."""
    bug, feature = (bool(c.search(text)) for c in CUES)
    return "feature_request" if feature else "bug_report" if bug else ""


def rows(data: Path):
    """(stream, app, row number, text) for every row of every CSV in `data` (text from `text` or `review`)."""
    csv.field_size_limit(1 << 24)
    for path in sorted(data.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            for i, row in enumerate(csv.DictReader(f)):
                app = row.get("app") or row.get("bank_query") or path.stem
                yield path.stem, app, i, row.get("text") or row.get("review") or ""


def watch_for(app: str, base: WatchList, cache: dict[str, WatchList]) -> WatchList:
    """`base` without the orgs that are `app` itself ("FNBSA" is FNB, "klar" is Klar, "com.evernote" is Evernote)."""
    if app not in cache:
        a = norm(app)
        cache[app] = WatchList({k: o for k, o in base.orgs.items()
                                if not any(a.startswith(f) or f.startswith(a) or (len(f) >= 4 and f in a)
                                           for f in o.forms if len(f) >= 3)})
    return cache[app]


def run(data: Path, orgs: str, apps: Path, sample: int, seed: int, out: Path) -> dict:
    competitors = next(iter(load_apps(apps).values())).competitors
    base = WatchList()
    for cmd in parse_commands({"app_id": "bench", "command": f"add {orgs}"}):
        base.apply(cmd, competitors)
    cache: dict[str, WatchList] = {}
    mentions: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = defaultdict(Counter)
    keys: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[tuple[str, str], str] = {}
    found: list[dict] = []
    total = 0
    for stream, app, i, text in rows(data):
        total += 1
        watch = watch_for(app, base, cache)
        for org in {m.org for m in find_mentions(text, watch)}:
            mentions[org] += 1
        for d in detect(text, "", cue_type(text), watch):
            kinds[d.org][d.kind] += 1
            keys[d.org][d.key] += 1
            examples.setdefault((d.org, d.key), d.feature)
            found.append({"stream": stream, "app": app, "row": i, "org": d.org, "kind": d.kind, "feature": d.feature,
                          "feature_key": d.key, "matched": d.matched, "text": text})
    picked = random.Random(seed).sample(found, min(sample, len(found)))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for item in picked:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    per_org = {}
    for org in [o.name for o in base.watched]:
        k = kinds[org]
        per_org[org] = {"mentions": mentions[org], "detections": k["request"] + k["comparison"],
                        "requests": k["request"], "comparisons": k["comparison"],
                        "top_features": [[key, n, examples[(org, key)]] for key, n in keys[org].most_common(5)]}
    return {"rows": total, "detections": len(found), "sampled": len(picked), "sample_file": str(out), "orgs": per_org}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.competitors", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of stream CSVs (rows with a `text` column)")
    parser.add_argument("--orgs", default=DEFAULT_ORGS, help="hashtags of the orgs to watch, as the snap-in sends them")
    parser.add_argument("--apps", type=Path, default=PROJECT_ROOT / "demo" / "apps" / "paynest.json",
                        help="app metadata whose competitors the orgs resolve against")
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "var" / "bench" / "competitor_sample.jsonl")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"bench.competitors: error: {args.data} is not a folder of stream CSVs", file=sys.stderr)
        return 2
    result = run(args.data, args.orgs, args.apps, args.sample, args.seed, args.out)
    print(f"{result['rows']} rows, {result['detections']} detections; {result['sampled']} sampled to {result['sample_file']}")
    print(f"{'org':<15}{'mentions':>9}{'detect':>8}{'request':>8}{'compare':>8}  top feature keys (count, example)")
    for org, r in result["orgs"].items():
        if not r["mentions"]:
            continue
        top = "; ".join(f"{key} ({n}, \"{ex}\")" for key, n, ex in r["top_features"][:3])
        print(f"{org:<15}{r['mentions']:>9}{r['detections']:>8}{r['requests']:>8}{r['comparisons']:>8}  {top}")
    counts = {org: {k: r[k] for k in ("mentions", "detections", "requests", "comparisons")} for org, r in result["orgs"].items()}
    print(json.dumps({"rows": result["rows"], "detections": result["detections"], "orgs": counts}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
