"""Would a similarity learned from the readers' issue groups group better? Cross-validated, by app.

    python -m bench.issue_metric --data var/issues_dev.csv [--gold-col issue_a] [--other-col issue_b]
                                 [--folds 4] [--repel 1 3 10] [--cache var/cache/issues_vectors.npz]

An experiment, not the flow. The flow ships a map trained the same way (`flows.train_issue_map.train_map`)
on the project's written issue groups; this one is trained on the readers' real groups instead, which may
not be shipped: an upper bound for a map learnt from real, in-domain groups. The development set's apps are
dealt into `--folds` folds. For each fold a linear map of the embedding (384 x 384, starting at the
identity) is trained on the other folds' gold groups: two reviews of one gold issue are pulled together, two reviews of one app in different issues
are pushed below cosine 0.3 (weighted by `--repel`), and the map stays near the identity. The held-out
fold's vectors are mapped with it, so no review is grouped with a map that saw its app. The production
issue step then runs on the mapped vectors, at the flow's thresholds and over a small grid.

Printed per setting: B-cubed F1 against the gold reader and the other reader, B-cubed precision, and the
clusters of five or more reviews with those holding one gold issue in 8 of 10 members
(`bench.issues.large_purity`, what a ticket reader asks). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from flows.train_issue_map import train_map

GRID = [(j, f, m) for j in (0.6, 0.62, 0.65, 0.7) for f in (0.35, 0.45, 0.55) for m in (0.45, 0.5, 0.6) if f < j]


def cross_mapped(vectors: np.ndarray, gold: list[str], groups: list[str], folds: int, repel: float) -> np.ndarray:
    """Every row mapped by a map trained on the other folds' apps (apps dealt by size into `folds`)."""
    by_size = [a for a, _ in Counter(groups).most_common()]
    fold_of = {app: k % folds for k, app in enumerate(by_size)}
    out = np.zeros_like(vectors)
    for k in range(folds):
        test = [i for i, g in enumerate(groups) if fold_of[g] == k]
        train = [i for i, g in enumerate(groups) if fold_of[g] != k]
        weights = train_map(vectors[train], [gold[i] for i in train], [groups[i] for i in train], repel)
        mapped = vectors[test] @ weights
        out[test] = mapped / np.linalg.norm(mapped, axis=1, keepdims=True)
    return out


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    from bench.issues import enriched_rows, large_purity, run_online, scores
    from core.settings import Settings
    from flows.dataflow import issue_config
    from flows.operators.embed import Embedder
    from flows.operators.informative import load_model
    from flows.operators.text import meaning_text
    from flows.train_types import encode_cached

    parser = argparse.ArgumentParser(prog="python -m bench.issue_metric", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--gold-col", default="issue_a")
    parser.add_argument("--other-col", default="issue_b")
    parser.add_argument("--group-col", default="app")
    parser.add_argument("--rating-col", default="rating")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--repel", type=float, nargs="+", default=[1.0, 3.0, 10.0])
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench.issue_metric: error: {args.data} does not exist", file=sys.stderr)
        return 2
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    texts, groups = frame[args.text_col].tolist(), frame[args.group_col].tolist()
    gold = [f"{g}|{x}" for g, x in zip(groups, frame[args.gold_col])]
    other = [f"{g}|{x}" for g, x in zip(groups, frame[args.other_col])]
    ratings = [int(r) if r in {"1", "2", "3", "4", "5"} else None for r in frame[args.rating_col]]

    settings = Settings.from_env()
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, settings.embed_backend)
    vectors = encode_cached(embedder.encode, [meaning_text(t, (g,)) for t, g in zip(texts, groups)], args.cache)
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    informativeness = load_model(settings.informative_model, embedder.encode, settings.informative_threshold)
    rows = enriched_rows(texts, groups, ratings, vectors, embedder.encode, None, informativeness, None,
                         settings.types_model)
    base = dataclasses.replace(issue_config(settings), metric="")  # the maps here replace the shipped one

    def run(mapped: np.ndarray, join: float, floor: float, merge: float) -> dict:
        items = [dataclasses.replace(r, embedding=tuple(mapped[i].tolist())) for i, r in enumerate(rows)]
        predicted = run_online(items, dataclasses.replace(base, join=join, join_floor=floor, merge=merge))[0]
        a, b = scores(gold, predicted), scores(other, predicted)
        large, pure = large_purity(gold, predicted)
        return {"f1": round(a["f1"], 4), "f1_other": round(b["f1"], 4), "precision": round(a["precision"], 3),
                "large": large, "large_pure": pure, "join": join, "floor": floor, "merge": merge}

    def show(name: str, r: dict) -> None:
        print(f"{name:34s} F1 {r['f1']:.3f} (other reader {r['f1_other']:.3f})  P {r['precision']:.3f}  "
              f"large clusters one issue: {r['large_pure']} of {r['large']}  "
              f"(join {r['join']}, floor {r['floor']}, merge {r['merge']})")

    report: dict = {"rows": len(texts), "folds": args.folds,
                    "embedding": run(vectors, base.join, base.join_floor, base.merge)}
    show("embedding, flow thresholds", report["embedding"])
    for repel in args.repel:
        mapped = cross_mapped(vectors, gold, groups, args.folds, repel)
        grid = [run(mapped, *setting) for setting in GRID]
        at_flow = run(mapped, base.join, base.join_floor, base.merge)
        best = max(grid, key=lambda r: r["f1"])
        show(f"learned map (repel {repel}), flow", at_flow)
        show(f"learned map (repel {repel}), best F1", best)
        report[f"repel_{repel}"] = {"flow_thresholds": at_flow, "best_f1": best}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
