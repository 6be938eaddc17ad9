"""The shipped heads against the zero-shot models, on reviews the heads were not trained on.

    python -m bench.heads [--data ../shared/data] [--doc docs/results/heads.md] [--cache FILE.npz]

The heads (`flows/models/*.npz`, `python -m flows.train_heads`) learnt from Maalej's review types and
the project's written set only. Held out from them, and scored here, both models on the same rows:

- informativeness, F1 of `informative`: AR-Miner's training split (its own labels, 4,268 reviews), and
  the project's development set of issues (924 real reviews, CLAP and the UPI stream) where each blind
  reader's group `none` (no concrete problem or request) means not informative, scored per reader;
- review type: CLAP, with BUG -> bug_report and FEATURE -> feature_request (F1 of each, their mean),
  and the four-type macro-F1 under the full mapping (README); the 200 CLAP rows the project labelled a
  second time (`bench/data/annotations/`, four-type macro-F1);
- on the training sets themselves, a head only under grouped 5-fold cross-validation at its own `C`
  (and threshold), against the zero-shot model on all rows.

Each model scores the raw text's embedding (no denoiser: `python -m bench.quality filter` measures the
flag with it). The difference head - zero-shot comes with a paired bootstrap 95% interval (1,000
resamples of the rows). A head is called better when it beats zero-shot on every held-out measure of
its task; the report says so next to the model the settings use by default. The last line printed is
one JSON object; `--doc PATH` also writes the tables as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.models import INFORMATIVE_HEAD, REVIEW_TYPE_HEAD
from core.settings import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
ARMINER = "labeled/informative_arminer2014_train.csv"
CLAP = "labeled/categories_clap2017_rq1.csv"
MAALEJ = "labeled/review_types_maalej2016.csv"
WRITTEN = PROJECT_ROOT / "bench" / "data" / "review_types_written.csv"
CLAP_NOTES = PROJECT_ROOT / "bench" / "data" / "annotations" / "categories_clap2017_rq1.csv"
TYPES = ("bug_report", "feature_request", "user_experience", "rating")
RESAMPLES = 1000


@dataclass(frozen=True)
class Labeled:
    """Texts with one gold label each; `truth` is the binary or four-type gold."""

    name: str
    texts: list[str]
    truth: np.ndarray


def f1_binary(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = float((predicted & truth).sum())
    denominator = float(predicted.sum() + truth.sum())
    return 2 * tp / denominator if denominator else 0.0


def prf(predicted: np.ndarray, truth: np.ndarray) -> dict:
    tp, fp, fn = (int((predicted & truth).sum()), int((predicted & ~truth).sum()), int((~predicted & truth).sum()))
    return {"precision": round(tp / max(tp + fp, 1), 4), "recall": round(tp / max(tp + fn, 1), 4),
            "f1": round(f1_binary(predicted, truth), 4)}


def macro_f1(predicted: np.ndarray, truth: np.ndarray, classes=TYPES) -> float:
    return float(np.mean([f1_binary(predicted == c, truth == c) for c in classes]))


def bootstrap_difference(metric: Callable[[np.ndarray, np.ndarray], float], head: np.ndarray, zero: np.ndarray,
                         truth: np.ndarray, seed: int = 0) -> dict:
    """head - zero-shot on all rows, and its paired bootstrap 95% interval (same resampled rows for both)."""
    rng = np.random.default_rng(seed)
    n, diffs = len(truth), []
    for _ in range(RESAMPLES):
        rows = rng.integers(0, n, n)
        diffs.append(metric(head[rows], truth[rows]) - metric(zero[rows], truth[rows]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"difference": round(metric(head, truth) - metric(zero, truth), 4), "ci95": [round(float(low), 4), round(float(high), 4)]}


def load_sets(data: Path) -> dict[str, Labeled]:
    """Every scored set, read from `data` (and the project's files) at run time."""
    import pandas as pd

    from bench.issue_set import NO_ISSUE, READERS, load_annotation, select_rows
    from flows.train_types import CLAP_TO_TYPES

    for name in (ARMINER, CLAP, MAALEJ):
        if not (data / name).is_file():
            raise SystemExit(f"bench.heads: error: {data / name} is missing")
    sets = {}
    arminer = pd.read_csv(data / ARMINER).dropna(subset=["text", "label"])
    sets["arminer"] = Labeled("AR-Miner", arminer["text"].astype(str).tolist(),
                              (arminer["label"].astype(str).str.strip().str.lower() == "informative").to_numpy())
    rows = select_rows(data)
    for reader in READERS:
        groups = load_annotation(reader, rows)
        sets[f"dev_{reader}"] = Labeled(f"dev set, reader {reader}", [r.text for r in rows],
                                        np.array([g != NO_ISSUE for g in groups]))
    clap = pd.read_csv(data / CLAP).dropna(subset=["review", "category"])
    sets["clap"] = Labeled("CLAP", clap["review"].astype(str).tolist(), clap["category"].astype(str).to_numpy())
    notes, raw = pd.read_csv(CLAP_NOTES), pd.read_csv(data / CLAP)
    noted = raw.iloc[notes["row"]]
    if (noted["id"].astype(str).values != notes["id"].astype(str).values).any():
        raise SystemExit(f"bench.heads: error: {CLAP_NOTES} does not match the rows of {data / CLAP}")
    sets["clap_second"] = Labeled("CLAP, project's second annotation", noted["review"].astype(str).tolist(),
                                  notes["label"].astype(str).to_numpy())
    sets["clap_mapped"] = Labeled("CLAP, all categories mapped", sets["clap"].texts,
                                  np.array([CLAP_TO_TYPES[c] for c in sets["clap"].truth]))
    maalej = pd.read_csv(data / MAALEJ).dropna(subset=["text", "label"])
    sets["maalej"] = Labeled("Maalej", maalej["text"].astype(str).tolist(), maalej["label"].astype(str).to_numpy())
    written = pd.read_csv(WRITTEN).dropna(subset=["text", "label"])
    sets["written"] = Labeled("written set", written["text"].astype(str).tolist(), written["label"].astype(str).to_numpy())
    return sets


def cv_predictions(x: np.ndarray, texts: list[str], labels: np.ndarray, informative: bool, c: float,
                   threshold: float = 0.5, folds: int = 5) -> np.ndarray:
    """Out-of-fold predictions of a head refitted with `flows.train_heads`' recipe at a fixed `C` (and threshold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    from flows.train_heads import fit_type_head
    from flows.train_informative import text_groups

    groups = text_groups(texts)
    target = labels != "rating" if informative else labels
    out = np.zeros(len(labels), dtype=bool) if informative else np.empty(len(labels), dtype=object)
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(x, target, groups):
        if informative:
            clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x[train], target[train])
            out[test] = clf.predict_proba(x[test])[:, 1] >= threshold
        else:
            model = fit_type_head(x[train], [texts[i] for i in train], labels[train], c)
            out[test] = [t for t, _ in model.predict(x[test], [texts[i] for i in test])]
    return out


def measure(data: Path, cache: Path | None = None, informative_head: Path = INFORMATIVE_HEAD,
            type_head: Path = REVIEW_TYPE_HEAD) -> dict:
    from flows.operators.embed import Embedder
    from flows.operators.informative import InformativenessModel
    from flows.operators.review_type import TypeClassifier, TypeModel
    from core.settings import Settings
    from flows.train_types import encode_cached

    settings = Settings.from_env({})  # the defaults a fresh machine gets
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, settings.embed_backend)
    sets = load_sets(data)
    vectors = {k: encode_cached(embedder.encode, s.texts, cache) for k, s in sets.items()}
    zero_inf = InformativenessModel.zero_shot(embedder.encode, settings.informative_threshold)
    head_inf = InformativenessModel.load(informative_head)
    zero_types, head_types = TypeClassifier(embedder.encode), TypeModel.load(type_head)

    def informative(model, key):
        return model.score(vectors[key], sets[key].texts) >= model.threshold

    def types(key, head: bool):
        got = head_types.predict(vectors[key], sets[key].texts) if head else zero_types.classify(vectors[key], sets[key].texts)
        return np.array([t for t, _ in got], dtype=object)

    report: dict = {"informativeness": {}, "review_type": {}, "training_sets_cv": {}}
    for key in ("arminer", "dev_a", "dev_b"):
        s = sets[key]
        zero, head = informative(zero_inf, key), informative(head_inf, key)
        report["informativeness"][key] = {
            "set": s.name, "rows": len(s.texts), "informative": int(s.truth.sum()),
            "zero_shot": {**prf(zero, s.truth), "f1_not_informative": round(f1_binary(~zero, ~s.truth), 4)},
            "head": {**prf(head, s.truth), "f1_not_informative": round(f1_binary(~head, ~s.truth), 4)},
            "head_minus_zero_shot_f1": bootstrap_difference(f1_binary, head, zero, s.truth),
            "head_minus_zero_shot_f1_not_informative": bootstrap_difference(
                lambda p, t: f1_binary(~p, ~t), head, zero, s.truth)}

    clap = sets["clap"]
    gold = {"bug_report": clap.truth == "BUG", "feature_request": clap.truth == "FEATURE"}

    def mapped_f1(predicted: np.ndarray, rows: np.ndarray) -> dict[str, float]:
        """F1 per mapped class; `predicted` holds the predictions for `rows` (indices into CLAP)."""
        return {t: f1_binary(predicted == t, g[rows]) for t, g in gold.items()}

    zero_clap, head_clap = types("clap", False), types("clap", True)
    index = np.arange(len(clap.texts))
    entry = {"set": "CLAP (BUG -> bug_report, FEATURE -> feature_request)", "rows": len(clap.texts),
             "support": {t: int(g.sum()) for t, g in gold.items()}}
    for name, predicted in (("zero_shot", zero_clap), ("head", head_clap)):
        f1 = mapped_f1(predicted, index)
        entry[name] = {**{t: round(v, 4) for t, v in f1.items()}, "mean": round(float(np.mean(list(f1.values()))), 4)}
    entry["head_minus_zero_shot_mean"] = bootstrap_difference(  # resampled rows keep both classes' gold together
        lambda predicted, rows: float(np.mean(list(mapped_f1(predicted, rows).values()))), head_clap, zero_clap, index)
    report["review_type"]["clap_bug_feature"] = entry
    for key in ("clap_mapped", "clap_second"):
        s = sets[key]
        zero, head = types(key, False), types(key, True)
        report["review_type"][key] = {"set": s.name, "rows": len(s.texts),
                                      "zero_shot": {"macro_f1": round(macro_f1(zero, s.truth), 4)},
                                      "head": {"macro_f1": round(macro_f1(head, s.truth), 4)},
                                      "head_minus_zero_shot_macro_f1": bootstrap_difference(macro_f1, head, zero, s.truth)}

    inf_pick, type_pick = head_inf.meta.get("selected", {}), head_types.meta.get("selected", {})
    for key in ("maalej", "written"):
        s, x = sets[key], vectors[key].astype(np.float64)
        truth_inf = s.truth != "rating"
        zero_inf_rows = informative(zero_inf, key)
        head_inf_rows = cv_predictions(x, s.texts, s.truth, True, inf_pick.get("C", 1.0), inf_pick.get("threshold", 0.5))
        head_type_rows = cv_predictions(x, s.texts, s.truth, False, type_pick.get("C", 1.0))
        report["training_sets_cv"][key] = {
            "set": s.name, "rows": len(s.texts),
            "informativeness_f1": {"zero_shot": round(f1_binary(zero_inf_rows, truth_inf), 4),
                                   "head_cv": round(f1_binary(head_inf_rows, truth_inf), 4)},
            "review_type_macro_f1": {"zero_shot": round(macro_f1(types(key, False), s.truth), 4),
                                     "head_cv": round(macro_f1(head_type_rows, s.truth), 4)}}

    inf_better, type_better = head_is_better(report)
    report["decision"] = {
        "informativeness": {"head_better_on_every_held_out_set": inf_better,
                            "settings_default": _default_kind(settings.informative_model, informative_head)},
        "review_type": {"head_better_on_every_held_out_set": type_better,
                        "settings_default": _default_kind(settings.types_model, type_head)}}
    report["heads"] = {p.name: {"bytes": p.stat().st_size, "trained_on": [t["file"] for t in m.meta.get("trained_on", [])],
                                "selected": m.meta.get("selected", {})}
                       for p, m in ((informative_head, head_inf), (type_head, head_types))}
    return report


def head_is_better(report: dict) -> tuple[bool, bool]:
    """(informativeness, review type): does the head beat zero-shot on every held-out measure of that task?"""
    informative = all(e["head"]["f1"] > e["zero_shot"]["f1"] for e in report["informativeness"].values())
    measures = []
    for key, e in report["review_type"].items():
        metric = "mean" if key == "clap_bug_feature" else "macro_f1"
        measures.append(e["head"][metric] > e["zero_shot"][metric])
    return informative, bool(measures) and all(measures)


def _default_kind(configured: Path, head: Path) -> str:
    from flows.models import is_zero_shot

    if not is_zero_shot(configured) and configured.resolve() == head.resolve():
        return "head"
    return "zero-shot" if is_zero_shot(configured) or not configured.is_file() else f"other file {configured}"


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _diff(d: dict) -> str:
    return f"{d['difference']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"


def to_markdown(report: dict, command: str) -> str:
    """The report as the page docs/results/heads.md (written by `--doc`, never by hand)."""
    lines = ["# Shipped heads against zero-shot, on reviews they were not trained on", "",
             f"Written by `{command}`; do not edit by hand. Model card: [docs/models.md](../models.md).", "",
             "## Informativeness (F1 of `informative`)", "",
             _row("held-out set", "rows", "informative", "zero-shot P / R / F1", "head P / R / F1",
                  "head - zero-shot F1 [95% CI]", "F1 of not informative: zero-shot / head",
                  "head - zero-shot [95% CI]"),
             _row(*["---"] * 8)]
    for e in report["informativeness"].values():
        z, h = e["zero_shot"], e["head"]
        lines.append(_row(e["set"], e["rows"], e["informative"], f"{z['precision']:.3f} / {z['recall']:.3f} / {z['f1']:.3f}",
                          f"{h['precision']:.3f} / {h['recall']:.3f} / **{h['f1']:.3f}**",
                          _diff(e["head_minus_zero_shot_f1"]), f"{z['f1_not_informative']:.3f} / {h['f1_not_informative']:.3f}",
                          _diff(e["head_minus_zero_shot_f1_not_informative"])))
    e = report["review_type"]["clap_bug_feature"]
    lines += ["", "## Review type", "",
              _row("held-out set", "rows", "measure", "zero-shot", "head", "head - zero-shot [95% CI]"), _row(*["---"] * 6)]
    for t in ("bug_report", "feature_request"):
        lines.append(_row(f"CLAP, {'BUG' if t == 'bug_report' else 'FEATURE'} ({e['support'][t]})", e["rows"],
                          f"F1 of {t}", f"{e['zero_shot'][t]:.3f}", f"{e['head'][t]:.3f}", ""))
    lines.append(_row("CLAP", e["rows"], "mean of the two", f"{e['zero_shot']['mean']:.3f}", f"**{e['head']['mean']:.3f}**",
                      _diff(e["head_minus_zero_shot_mean"])))
    for key in ("clap_mapped", "clap_second"):
        e = report["review_type"][key]
        lines.append(_row(e["set"], e["rows"], "four-type macro-F1", f"{e['zero_shot']['macro_f1']:.3f}",
                          f"**{e['head']['macro_f1']:.3f}**", _diff(e["head_minus_zero_shot_macro_f1"])))
    lines += ["", "## On the training sets (head under grouped 5-fold cross-validation, zero-shot on all rows)", "",
              _row("set", "rows", "informativeness F1: zero-shot / head (CV)", "review-type macro-F1: zero-shot / head (CV)"),
              _row(*["---"] * 4)]
    for e in report["training_sets_cv"].values():
        i, t = e["informativeness_f1"], e["review_type_macro_f1"]
        lines.append(_row(e["set"], e["rows"], f"{i['zero_shot']:.3f} / {i['head_cv']:.3f}", f"{t['zero_shot']:.3f} / {t['head_cv']:.3f}"))
    lines += ["", "## Decision", ""]
    for task, d in report["decision"].items():
        verdict = "better than zero-shot on every held-out set" if d["head_better_on_every_held_out_set"] else \
            "not better than zero-shot on every held-out set"
        lines.append(f"- {task.replace('_', ' ')}: the head is {verdict}; the settings default is **{d['settings_default']}**.")
    lines += ["", "## Files", "", _row("file", "bytes", "trained on", "picked by cross-validation"), _row(*["---"] * 4)]
    for name, h in report["heads"].items():
        lines.append(_row(f"`flows/models/{name}`", f"{h['bytes']:,}", ", ".join(f"`{t}`" for t in h["trained_on"]),
                          ", ".join(f"{k} {v}" for k, v in h["selected"].items())))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m bench.heads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (labeled/, streams/)")
    parser.add_argument("--doc", type=Path, help="also write the tables as Markdown here (docs/results/heads.md)")
    parser.add_argument("--cache", type=Path, help="embedding cache (.npz) to reuse across runs")
    args = parser.parse_args(argv)
    started = time.time()
    report = measure(args.data, args.cache)
    for task in ("informativeness", "review_type", "training_sets_cv"):
        for key, entry in report[task].items():
            print(f"{task} {key}: {json.dumps(entry)}")
    print(f"# {time.time() - started:.0f} s", file=sys.stderr)
    if args.doc:
        args.doc.parent.mkdir(parents=True, exist_ok=True)
        args.doc.write_text(to_markdown(report, "python -m bench.heads --doc " + str(args.doc)), encoding="utf-8")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
