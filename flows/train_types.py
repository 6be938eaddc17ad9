"""Train the review-type model: `python -m flows.train_types --data PATH [--data PATH …] [--out PATH]`.

Reads one or more CSVs with `text` and `label` (bug_report, feature_request, user_experience,
rating). `--text-col`, `--label-col` and `--map` are given once for every file or once per `--data`,
in order (`--map clap` maps CLAP categories to the four types). Rows whose label contradicts the cue
phrases are left out of training (label noise, see `drop_contradicting`); a class-balanced logistic
regression is fitted on `review_type.type_features`; the model is saved as plain arrays (no pickle)
where the flow finds it (`SIFT_TYPES_MODEL`, default var/models/review_types.npz).

Reported, all out-of-sample and scored on every row with its original label: grouped 5-fold CV per
file and on the union (groups: the `app` column when there is one, else the normalised text, so
duplicates never straddle folds; with several files also each file's share of the union CV), and
each file scored by a model trained on the others (the closest measure here of how the model does
on reviews labelled elsewhere).
`--cache PATH` keeps the embeddings by text so a second run does not encode again. The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.operators.review_type import TYPES, TypeModel, cue_features, prototype_vectors, type_features
from core.settings import Settings

CLAP_TO_TYPES = {
    "BUG": "bug_report", "PERFORMANCE": "bug_report", "ENERGY": "bug_report", "SECURITY": "bug_report",
    "FEATURE": "feature_request", "USABILITY": "user_experience", "OTHER": "rating",
}


@dataclass(frozen=True)
class LabeledSet:
    """One labelled CSV: texts, their types and the group of each row for grouped CV."""

    name: str
    texts: list[str]
    labels: list[str]
    groups: list[str]


def load_set(path: Path, text_col: str = "text", label_col: str = "label", mapping: str = "") -> LabeledSet:
    """Rows labelled with one of `TYPES`; `mapping="clap"` maps CLAP categories to the four types."""
    import pandas as pd

    frame = pd.read_csv(path)
    for col in (text_col, label_col):
        if col not in frame.columns:
            raise SystemExit(f"{path}: no column {col!r} (columns: {', '.join(frame.columns)})")
    labels = frame[label_col].astype(str)
    if mapping == "clap":
        labels = labels.map(CLAP_TO_TYPES)
    keep = labels.isin(TYPES) & frame[text_col].notna()
    if not keep.any():
        raise SystemExit(f"{path}: no rows labelled with {', '.join(TYPES)}")
    texts = frame[text_col][keep].astype(str).tolist()
    if "app" in frame.columns:
        groups = [f"app:{a}" for a in frame["app"][keep].astype(str)]
    else:
        groups = [" ".join(re.sub(r"[^\w\s]", "", t.lower()).split()) for t in texts]
    return LabeledSet(name=path.name, texts=texts, labels=labels[keep].tolist(), groups=groups)


def load_labeled(path: Path, text_col: str = "text", label_col: str = "label", mapping: str = "") -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV (see `load_set`)."""
    labeled = load_set(path, text_col, label_col, mapping)
    return labeled.texts, labeled.labels


def drop_contradicting(texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Indices of the rows to train on: all but those whose label the cue phrases contradict.

    Both public sets carry label noise that a model would otherwise learn as a habit of that set: a
    `rating` that says "crashes" or "please add", a `feature_request` that only reports a crash, a
    `bug_report` that only asks for something. Filtering them is what lets a model trained on one set
    do better on the other (docs/quality.md, "Review types"); evaluation always keeps them.
    """
    cues = cue_features(texts)
    bug, feature = cues[:, 0] > 0, cues[:, 1] > 0
    y = np.asarray(labels)
    bad = ((y == "rating") & (bug | feature)) | ((y == "feature_request") & bug & ~feature) | ((y == "bug_report") & feature & ~bug)
    return np.flatnonzero(~bad)


def fit(vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str], prototypes: np.ndarray,
        c: float = 1.0, clean: bool = True) -> TypeModel:
    """Class-balanced logistic regression on `type_features`, after `drop_contradicting` when `clean`."""
    from sklearn.linear_model import LogisticRegression

    rows = drop_contradicting(texts, labels) if clean else np.arange(len(texts))
    x = type_features(vectors[rows], [texts[i] for i in rows], prototypes)
    y = [labels[i] for i in rows]
    clf = LogisticRegression(C=c, max_iter=4000, class_weight="balanced").fit(x, y)
    return TypeModel(weights=clf.coef_.T.astype(np.float32), bias=clf.intercept_.astype(np.float32),
                     classes=tuple(str(k) for k in clf.classes_), prototypes=prototypes)


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, labels=list(TYPES), average="macro", zero_division=0))


def cross_validate(vectors: np.ndarray, texts: list[str], labels: list[str], groups: list[str],
                   prototypes: np.ndarray, folds: int = 5) -> np.ndarray:
    """Out-of-fold predictions of grouped, stratified k-fold CV (no group in two folds)."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(labels)
    predicted = np.empty_like(y)
    for train, test in StratifiedGroupKFold(folds, shuffle=True, random_state=0).split(vectors, y, groups):
        model = fit(vectors[train], [texts[i] for i in train], y[train].tolist(), prototypes)
        predicted[test] = [t for t, _ in model.predict(vectors[test], [texts[i] for i in test])]
    return predicted


def encode_cached(encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], cache: Path | None) -> np.ndarray:
    """`encode(texts)`, reusing vectors stored by text in `cache` (.npz, no pickle) and adding new ones."""
    if cache is None:
        return encode(texts)
    known: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            known = dict(zip(z["texts"].tolist(), z["vectors"]))
    missing = list(dict.fromkeys(t for t in texts if t not in known))
    if missing:
        known.update(zip(missing, encode(missing)))
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, texts=np.array(list(known)), vectors=np.vstack(list(known.values())).astype(np.float32))
    return np.vstack([known[t] for t in texts]).astype(np.float32)


def _per_file(values: list[str] | None, default: str, n: int, option: str) -> list[str]:
    if not values:
        return [default] * n
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise SystemExit(f"{option} given {len(values)} times for {n} --data files: give it once or once per file")
    return values


def main(argv: list[str] | None = None, encode: Callable[[Sequence[str]], np.ndarray] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.train_types", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append", required=True, help="labelled CSV; repeat to train on several")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--text-col", action="append", help="text column (default text); once, or once per --data")
    parser.add_argument("--label-col", action="append", help="label column (default label); once, or once per --data")
    parser.add_argument("--map", action="append", choices=["", "none", "clap"],
                        help="'clap' maps CLAP categories to the four types; once, or once per --data")
    parser.add_argument("--cache", type=Path, default=None, help="embedding cache (.npz) to reuse across runs")
    args = parser.parse_args(argv)
    n = len(args.data)
    text_cols = _per_file(args.text_col, "text", n, "--text-col")
    label_cols = _per_file(args.label_col, "label", n, "--label-col")
    mappings = [m if m != "none" else "" for m in _per_file(args.map, "", n, "--map")]
    sets = [load_set(p, t, lab, m) for p, t, lab, m in zip(args.data, text_cols, label_cols, mappings)]
    if encode is None:
        from flows.operators.embed import Embedder

        encode = Embedder().encode
    rows = sum(len(s.texts) for s in sets)
    print(f"train_types: embedding {rows:,} reviews…", file=sys.stderr)
    vectors = [encode_cached(encode, s.texts, args.cache) for s in sets]
    prototypes = prototype_vectors(encode)

    report: dict[str, dict] = {}
    for i, s in enumerate(sets):
        entry = report.setdefault(s.name, {"rows": len(s.texts)})
        entry["cv_macro_f1"] = round(macro_f1(s.labels, cross_validate(vectors[i], s.texts, s.labels, s.groups, prototypes)), 4)
        if n > 1:
            others = [j for j in range(n) if j != i]
            model = fit(np.vstack([vectors[j] for j in others]), [t for j in others for t in sets[j].texts],
                        [y for j in others for y in sets[j].labels], prototypes)
            entry["trained_on_the_others_macro_f1"] = round(macro_f1(s.labels, [t for t, _ in model.predict(vectors[i], s.texts)]), 4)
    all_vectors = np.vstack(vectors)
    texts = [t for s in sets for t in s.texts]
    labels = [y for s in sets for y in s.labels]
    groups = [f"{s.name}/{g}" for s in sets for g in s.groups]
    union_predicted = cross_validate(all_vectors, texts, labels, groups, prototypes)
    union_cv = macro_f1(labels, union_predicted)
    if n > 1:
        start = 0
        for s in sets:
            end = start + len(s.texts)
            report[s.name]["union_cv_macro_f1"] = round(macro_f1(s.labels, union_predicted[start:end]), 4)
            start = end
    out = args.out or Settings.from_env().types_model
    fit(all_vectors, texts, labels, prototypes).save(out)
    print(json.dumps({"rows": rows, "cv_macro_f1": round(union_cv, 4), "sets": report, "model": str(out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
