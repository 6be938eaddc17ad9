"""Issue discovery against gold issue groups: the production issue step and batch baselines, same vectors.

    python -m bench.issues --data CSV --text-col C --gold-col G [--group-col app] [--rating-col R]
                           [--agreement-col G2] [--cache PATH] [--sweep]

Each row is encoded once (the flow's embedder), typed and scored for sentiment as in the flow, and
then, per group (one app's reviews; file order kept):

- `online`: `flows.operators.issues.issue_step` with the flow's default settings, one review at a
  time in file order; praise and bare ratings get no issue (each counts as a group of its own);
- `agglomerative`: average-link on cosine distance, the threshold swept; the best is reported;
- `hdbscan`: scikit-learn's HDBSCAN on cosine distance, `min_cluster_size` swept (noise: alone);
- `singletons`: every review alone.

Scores are B-cubed precision, recall and F1 over all rows, adjusted Rand index and cluster counts
(groups of two or more). `--agreement-col` scores a second reader's groups against the gold ones.
`--sweep` also runs the online step over a grid of its join, join-floor and merge thresholds (for tuning;
the headline stays the default). The last line is one JSON object.

The project's development set: `python -m bench.issue_set build --data ../shared/data --out
var/issues_dev.csv`, then `--data var/issues_dev.csv --text-col text --gold-col issue_a --group-col app
--rating-col rating --agreement-col issue_b`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from flows.operators.issues import IssueConfig, issue_step, represent
from core.records import EnrichedReview, Measures, Review

AGGLOMERATIVE_THRESHOLDS = tuple(round(0.30 + 0.05 * i, 2) for i in range(11))  # cosine distance 0.30..0.80
RAW_BARS = (-1.0, 0.4, 0.45, 0.5, 0.55, 0.6)  # the online step's raw-embedding bar, swept with --sweep
HDBSCAN_SIZES = (2, 3, 4, 5)
LARGE = 5  # reviews in a cluster big enough to become a ticket (`SIFT_TICKET_MIN_REVIEWS`)
START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def bcubed(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """B-cubed precision, recall and F1 (Amigó et al. 2009), averaged over items."""
    pairs = Counter(zip(gold, predicted))
    g_size, p_size = Counter(gold), Counter(predicted)
    n = len(gold)
    precision = sum(pairs[(g, p)] / p_size[p] for g, p in zip(gold, predicted)) / n
    recall = sum(pairs[(g, p)] / g_size[g] for g, p in zip(gold, predicted)) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def scores(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    from sklearn.metrics import adjusted_rand_score

    sizes = Counter(predicted)
    large, pure = large_purity(gold, predicted)
    return {**bcubed(gold, predicted), "ari": round(float(adjusted_rand_score(gold, predicted)), 4),
            "clusters": sum(1 for c in sizes.values() if c >= 2),
            "clustered_share": round(sum(c for c in sizes.values() if c >= 2) / len(predicted), 4),
            "large": large, "large_pure": pure}


def large_purity(gold: Sequence[str], predicted: Sequence[str], size: int = LARGE, share: float = 0.8) -> tuple[int, int]:
    """How many predicted clusters hold `size` or more reviews, and how many of those hold one gold issue in at
    least `share` of their members: what a ticket is made of, and whether a reader would call it one issue."""
    members: dict[str, list[str]] = defaultdict(list)
    for g, p in zip(gold, predicted):
        members[p].append(g)
    large = [m for m in members.values() if len(m) >= size]
    return len(large), sum(1 for m in large if Counter(m).most_common(1)[0][1] >= share * len(m))


def enriched_rows(texts: list[str], groups: list[str], ratings: list[int | None], vectors: np.ndarray,
                  encode, versions: list[str] | None = None, informativeness=None,
                  reach: list[str] | None = None, types_model=None) -> list[EnrichedReview]:
    """The rows as the flow's issue step sees them: vector, informativeness (`informativeness`: the flow's
    model, zero-shot when None) and whether it counts as informative, review type, sentiment and priority as
    in the flow; row i is written `i` minutes after `START`."""
    from flows.operators.informative import InformativenessModel
    from flows.operators.priority import review_priority
    from flows.operators.review_type import TypeClassifier
    from flows.operators.sentiment import sentiment

    model = informativeness or InformativenessModel.zero_shot(encode)
    informative = model.score(vectors, texts)
    informative_at = model.threshold_for(with_texts=True)
    types = TypeClassifier(encode, types_model).classify(vectors, texts)
    rows = []
    for i, (text, group, rating) in enumerate(zip(texts, groups, ratings)):
        at = START + timedelta(minutes=i)
        review = Review(id=str(i), app_id=group, text=text, source="bench", created_at=at, received_at=at,
                        origin=f"bench:{i}", rating=rating, app_version=(versions[i] or None) if versions else None,
                        meta={"thumbs_up": reach[i]} if reach and reach[i] else {})
        mood, mood_score = sentiment(text, rating)
        rows.append(EnrichedReview(
            review=review, measures=Measures(word_count=len(text.split()), non_english_ratio=0.0), lang="en",
            text_en=text, translated=False, primary_label="all", label_score=1.0,
            embedding=tuple(vectors[i].tolist()), review_type=types[i][0], type_score=types[i][1],
            informativeness=float(informative[i]), informative=bool(informative[i] >= informative_at),
            sentiment=mood, sentiment_score=mood_score,
            priority=review_priority(types[i][0], mood_score, float(informative[i]), rating)))
    return rows


def run_online(rows: list[EnrichedReview], cfg: IssueConfig) -> tuple[list[str], float]:
    """Issue ids in row order (praise: its own id) and the step's mean cost in ms per review."""
    states: dict[str, object] = {}
    out = []
    started = time.perf_counter()
    for item in rows:
        key = item.review.app_id
        states[key], done = issue_step(states.get(key), item, cfg, key=key)
        out.append(done.cluster_id or f"alone:{item.id}")
    cost = (time.perf_counter() - started) * 1000 / max(len(rows), 1)
    return out, cost


def _per_group(groups: list[str]) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        rows[g].append(i)
    return rows


def run_agglomerative(vectors: np.ndarray, groups: list[str], threshold: float) -> list[str]:
    from sklearn.cluster import AgglomerativeClustering

    out = [""] * len(groups)
    for g, rows in _per_group(groups).items():
        if len(rows) == 1:
            out[rows[0]] = f"{g}:0"
            continue
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=threshold).fit_predict(vectors[rows])
        for r, label in zip(rows, labels):
            out[r] = f"{g}:{label}"
    return out


def run_hdbscan(vectors: np.ndarray, groups: list[str], min_size: int) -> list[str]:
    from sklearn.cluster import HDBSCAN

    out = [""] * len(groups)
    for g, rows in _per_group(groups).items():
        if len(rows) <= min_size:
            labels = np.full(len(rows), -1)
        else:
            distance = np.clip(1.0 - vectors[rows] @ vectors[rows].T, 0.0, 2.0).astype(np.float64)
            labels = HDBSCAN(min_cluster_size=min_size, metric="precomputed", copy=True).fit_predict(distance)
        for r, label in zip(rows, labels):
            out[r] = f"{g}:noise:{r}" if label < 0 else f"{g}:{label}"
    return out


def evaluate(texts: list[str], gold: list[str], groups: list[str], ratings: list[int | None], vectors: np.ndarray,
             encode, cfg: IssueConfig, sweep: bool = False, other: list[str] | None = None,
             rows: list[EnrichedReview] | None = None) -> dict:
    rows = rows if rows is not None else enriched_rows(texts, groups, ratings, vectors, encode)
    online, cost = run_online(rows, cfg)
    report: dict = {"rows": len(texts), "groups": len(set(groups)),
                    "gold_issues": sum(1 for c in Counter(gold).values() if c >= 2),
                    "gold_clustered_share": round(sum(c for c in Counter(gold).values() if c >= 2) / len(gold), 4),
                    "praise_share": round(sum(p.startswith("alone:") for p in online) / len(online), 4)}
    report["online"] = {**scores(gold, online), "join": cfg.join, "join_floor": cfg.join_floor, "merge": cfg.merge,
                        "raw_join": cfg.raw_join, "ms_per_review": round(cost, 4)}
    # The batch baselines cluster what the online step compares: the embedding under the flow's issue metric, if any.
    compared = np.stack([represent(tuple(v), cfg.metric) for v in vectors]) if cfg.metric else vectors
    report["metric"] = Path(cfg.metric).name if cfg.metric else ""
    agglo = {t: scores(gold, run_agglomerative(compared, groups, t)) for t in AGGLOMERATIVE_THRESHOLDS}
    best_t = max(agglo, key=lambda t: agglo[t]["f1"])
    report["agglomerative"] = {**agglo[best_t], "threshold": best_t,
                               "sweep": {str(t): agglo[t]["f1"] for t in AGGLOMERATIVE_THRESHOLDS}}
    hdb = {m: scores(gold, run_hdbscan(compared, groups, m)) for m in HDBSCAN_SIZES}
    best_m = max(hdb, key=lambda m: hdb[m]["f1"])
    report["hdbscan"] = {**hdb[best_m], "min_cluster_size": best_m, "sweep": {str(m): hdb[m]["f1"] for m in HDBSCAN_SIZES}}
    report["singletons"] = scores(gold, [f"alone:{i}" for i in range(len(gold))])
    best_batch = max(report["agglomerative"]["f1"], report["hdbscan"]["f1"])
    report["online_minus_best_batch"] = round(report["online"]["f1"] - best_batch, 4)
    if other is not None:
        report["agreement"] = {**scores(gold, other), "note": "second reader's groups scored against the gold column"}
    if sweep:
        grid = {}
        for join in (0.55, 0.6, 0.65):
            for floor in (0.35, 0.45):
                for merge in (0.45, 0.55, 0.9):
                    trial = IssueConfig(**{**cfg.__dict__, "join": join, "join_floor": floor, "merge": merge})
                    grid[f"join={join},floor={floor},merge={merge}"] = scores(gold, run_online(rows, trial)[0])["f1"]
        report["online_sweep"] = grid
        if cfg.metric:  # the raw-embedding bar under the metric: B³ F1 against purity of the large issues
            raws = {}
            for raw in RAW_BARS:
                got = scores(gold, run_online(rows, IssueConfig(**{**cfg.__dict__, "raw_join": raw}))[0])
                raws[str(raw)] = {k: got[k] for k in ("f1", "large", "large_pure")}
            report["raw_sweep"] = raws
    return report


def _ratings(values: list) -> list[int | None]:
    out = []
    for v in values:
        try:
            r = int(float(v))
        except (TypeError, ValueError):
            r = None
        out.append(r if r in (1, 2, 3, 4, 5) else None)
    return out


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    parser = argparse.ArgumentParser(prog="python -m bench.issues", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--gold-col", required=True)
    parser.add_argument("--group-col", default="")
    parser.add_argument("--rating-col", default="")
    parser.add_argument("--agreement-col", default="")
    parser.add_argument("--version-col", default="", help="app version of each row (a priority signal)")
    parser.add_argument("--reach-col", default="", help="thumbs-up of each row (a priority signal)")
    parser.add_argument("--priority-col", default="",
                        help="gold priority of each row's issue (HIGH/NORMAL): also score the issue priority")
    parser.add_argument("--priority-other-col", default="", help="a second reader's priority: agreement, AUC")
    parser.add_argument("--priority-transfer-col", default="",
                        help="with --priority-col: fit on the other values of this column, score on each (e.g. set)")
    parser.add_argument("--fit", action="store_true", help="with --priority-col: select and fit the rule's signals")
    parser.add_argument("--priority-doc", type=Path, default=None,
                        help="write the priority figures as a markdown page (e.g. docs/results/priority-dev.md)")
    parser.add_argument("--cache", type=Path, default=None, help="reuse embeddings stored by text (.npz)")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--doc", type=Path, default=None,
                        help="also write the figures as a markdown page (e.g. docs/results/issues-dev.md)")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"bench.issues: error: {args.data} does not exist", file=sys.stderr)
        return 2
    frame = pd.read_csv(args.data, dtype=str, keep_default_na=False)
    for col in filter(None, (args.text_col, args.gold_col, args.group_col, args.rating_col, args.agreement_col,
                             args.version_col, args.reach_col, args.priority_col, args.priority_other_col,
                             args.priority_transfer_col)):
        if col not in frame.columns:
            print(f"bench.issues: error: no column {col!r} in {args.data} (columns: {list(frame.columns)})", file=sys.stderr)
            return 2
    texts = frame[args.text_col].tolist()
    gold = frame[args.gold_col].tolist()
    groups = frame[args.group_col].tolist() if args.group_col else ["all"] * len(texts)
    gold = [f"{g}|{x}" for g, x in zip(groups, gold)]
    other = [f"{g}|{x}" for g, x in zip(groups, frame[args.agreement_col])] if args.agreement_col else None
    ratings = _ratings(frame[args.rating_col].tolist()) if args.rating_col else [None] * len(texts)

    from flows.dataflow import issue_config
    from flows.operators.embed import Embedder
    from core.settings import Settings
    from flows.operators.text import meaning_text
    from flows.train_types import encode_cached

    settings = Settings.from_env()
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, settings.embed_backend)
    # The flow embeds what a review says without handles, links and the app's own name (`meaning_text`).
    vectors = encode_cached(embedder.encode, [meaning_text(t, (g,)) for t, g in zip(texts, groups)], args.cache)
    from flows.operators.informative import load_model

    informativeness = load_model(settings.informative_model, embedder.encode, settings.informative_threshold)
    versions = frame[args.version_col].tolist() if args.version_col else None
    reach = frame[args.reach_col].tolist() if args.reach_col else None
    rows = enriched_rows(texts, groups, ratings, vectors, embedder.encode, versions, informativeness, reach,
                         settings.types_model)
    report = evaluate(texts, gold, groups, ratings, vectors, embedder.encode, issue_config(settings), args.sweep, other,
                      rows=rows)
    if args.priority_col:
        from bench import issue_priority

        report["priority"] = issue_priority.evaluate(
            rows, gold, groups, frame[args.priority_col].tolist(),
            frame[args.priority_other_col].tolist() if args.priority_other_col else None, args.fit,
            frame[args.priority_transfer_col].tolist() if args.priority_transfer_col else None)
    for name in ("online", "agglomerative", "hdbscan", "singletons"):
        r = report[name]
        extra = {"online": f"join {report['online']['join']}, {report['online']['ms_per_review']} ms/review",
                 "agglomerative": f"best threshold {r.get('threshold')}",
                 "hdbscan": f"best min_cluster_size {r.get('min_cluster_size')}", "singletons": ""}[name]
        print(f"{name:14s} B3 P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f}  ARI {r['ari']:.3f}  "
              f"clusters {r['clusters']:4d}  {extra}")
    if "agreement" in report:
        a = report["agreement"]
        print(f"{'readers':14s} B3 P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f}  ARI {a['ari']:.3f}")
    if "priority" in report:
        print_priority(report["priority"])
    if args.priority_doc is not None and "priority" in report:
        from bench.issue_priority import write_doc as write_priority_doc

        write_priority_doc(args.priority_doc, report["priority"],
                           " ".join(["python -m bench.issues", *(argv if argv is not None else sys.argv[1:])]))
    if args.doc is not None:
        write_doc(args.doc, report, " ".join(["python -m bench.issues", *(argv if argv is not None else sys.argv[1:])]))
    print(json.dumps(report))
    return 0


def print_priority(p: dict) -> None:
    """The priority figures, one line each (the JSON line has them all)."""
    base = p["baselines"]
    print(f"priority AUC over {p['issues']} issues ({p['high']} HIGH, {p['apps']} apps): "
          f"rule {p['rule']['auc']}  (leave-one-app-out {p['rule_cv']['auc_leave_one_app_out']})  "
          f"size {base['size']}  mean rating {base['mean_rating']}  mean review priority "
          f"{base['mean_review_priority']}  previous formula {base['previous']}  rule - size {p['rule_minus_size']:+.4f}")
    if "readers" in p:
        r = p["readers"]
        print(f"priority readers: kappa {r['kappa']} agreement {r['agreement']} over {r['issues']} issues; "
              f"against reader B: rule {r['rule_auc_b']} size {r['size_auc_b']} reader A {r['reader_a_auc_b']}")
    if p.get("transfer"):
        print("priority across sources: " + "; ".join(f"{v}: rule {t['rule']} size {t['size']}"
                                                      for v, t in p["transfer"].items()))
    if "fit" in p:
        f = p["fit"]
        print(f"priority fit: {f['signals']} intercept {f['intercept']} weights {f['weights']}  in-sample "
              f"{f['auc_in_sample']}  leave-one-app-out {f['auc_leave_one_app_out']}  nested {f['nested_cv_auc']}")


def write_doc(path: Path, report: dict, command: str) -> None:
    """The run's figures as a markdown page; re-running the command rewrites it."""
    def row(name: str, r: dict, setting: str) -> str:
        return (f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | **{r['f1']:.3f}** | {r['ari']:.3f} | "
                f"{r['clusters']} | {r['large_pure']} of {r['large']} | {setting} |")

    lines = [
        "# Issue discovery against gold issue groups",
        "",
        f"Written by `{command}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; re-run it to refresh this page.",
        "",
        f"{report['rows']} reviews in {report['groups']} apps; the gold groups hold {report['gold_issues']} issues of two or "
        f"more reviews ({report['gold_clustered_share']:.0%} of the reviews; the rest are alone or name no concrete issue). "
        f"The online step left {report['praise_share']:.1%} of the reviews without an issue (praise and bare ratings). "
        + (f"Every method clusters the English reviews' embedding under the flow's issue metric (`{report['metric']}`, "
           "[models](../models.md#the-issue-metric)), learnt only from the project's written issue groups"
           + (f"; the online step also needs a raw-embedding similarity of {report['online']['raw_join']} to join or "
              "merge ([issues](../issues.md#the-rule))." if report["online"].get("raw_join", -1) > -1 else ".")
           if report.get("metric") else "Every method clusters the raw embedding."),
        "",
        f"| method | B³ precision | B³ recall | B³ F1 | ARI | clusters (2+) | clusters of {LARGE}+ that are one gold issue "
        "in 8 of 10 | setting |",
        "|---|---|---|---|---|---|---|---|",
        row("online issue step (the flow's defaults)", report["online"],
            f"join {report['online']['join']}, floor {report['online']['join_floor']}, merge {report['online']['merge']}; "
            f"{report['online']['ms_per_review']} ms/review"),
        row("average-link agglomerative (best of sweep)", report["agglomerative"],
            f"cosine distance {report['agglomerative']['threshold']}"),
        row("HDBSCAN (best of sweep)", report["hdbscan"], f"min_cluster_size {report['hdbscan']['min_cluster_size']}"),
        row("every review alone", report["singletons"], ""),
    ]
    if "agreement" in report:
        lines.append(row("second reader against the gold reader", report["agreement"], "readers' agreement"))
    lines += ["", f"Online minus the best batch baseline: **{report['online_minus_best_batch']:+.4f}** B³ F1.", ""]
    if "online_sweep" in report:
        lines += ["Online step over its own grid (B³ F1):", "", "| setting | B³ F1 |", "|---|---|"]
        lines += [f"| {k} | {v:.4f} |" for k, v in report["online_sweep"].items()]
        lines.append("")
    if "raw_sweep" in report:
        lines += ["Online step over its raw-embedding bar (`SIFT_ISSUE_RAW_JOIN`, -1 for none; its other bars the "
                  "defaults):", "", f"| raw bar | B³ F1 | clusters of {LARGE}+ that are one gold issue in 8 of 10 |",
                  "|---|---|---|"]
        lines += [f"| {k} | {v['f1']:.4f} | {v['large_pure']} of {v['large']} |" for k, v in report["raw_sweep"].items()]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
