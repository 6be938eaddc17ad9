"""Train the review-type model: `python -m flows.train_types --data PATH [--out PATH]`.

Reads a CSV with `text` and `label` (bug_report, feature_request, user_experience, rating;
`--text-col`/`--label-col` for other names), fits a class-balanced logistic regression on
[MiniLM embedding, cue flags], reports 5-fold cross-validated macro-F1, and saves the model as
plain arrays (no pickle) where the flow finds it (`SIFT_TYPES_MODEL`, default
var/models/review_types.npz). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from flows.operators.review_type import TYPES, TypeModel, cue_features
from flows.settings import Settings

CLAP_TO_TYPES = {
    "BUG": "bug_report", "PERFORMANCE": "bug_report", "ENERGY": "bug_report", "SECURITY": "bug_report",
    "FEATURE": "feature_request", "USABILITY": "user_experience", "OTHER": "rating",
}


def load_labeled(path: Path, text_col: str = "text", label_col: str = "label", mapping: str = "") -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV; `mapping="clap"` maps CLAP categories to the four types."""
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
    return frame[text_col][keep].astype(str).tolist(), labels[keep].tolist()


def features(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    return np.hstack([vectors, cue_features(texts)])


def fit(x: np.ndarray, y: list[str], c: float = 1.0) -> TypeModel:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(x, y)
    classes = tuple(str(k) for k in clf.classes_)
    return TypeModel(weights=clf.coef_.T.astype(np.float32), bias=clf.intercept_.astype(np.float32), classes=classes)


def cross_validate(x: np.ndarray, y: list[str], folds: int = 5) -> float:
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(y)
    predicted = np.empty_like(labels)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, labels):
        model = fit(x[train], labels[train].tolist())
        logits = x[test] @ model.weights + model.bias
        predicted[test] = np.asarray(model.classes)[logits.argmax(axis=1)]
    return float(f1_score(labels, predicted, average="macro"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.train_types", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label")
    parser.add_argument("--map", default="", choices=["", "clap"], help="map CLAP categories to the four types")
    args = parser.parse_args(argv)
    from flows.operators.embed import Embedder

    texts, labels = load_labeled(args.data, args.text_col, args.label_col, args.map)
    print(f"train_types: embedding {len(texts):,} reviews…", file=sys.stderr)
    x = features(Embedder().encode(texts), texts)
    cv = cross_validate(x, labels)
    out = args.out or Settings.from_env().types_model
    fit(x, labels).save(out)
    print(json.dumps({"rows": len(texts), "cv_macro_f1": round(cv, 4), "model": str(out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
