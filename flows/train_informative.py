"""Train the informativeness classifier: `python -m flows.train_informative --data PATH`.

PATH is a CSV with `text` and `label` (informative / non-informative). The model is one
logistic regression (scikit-learn, class-balanced) over the MiniLM embedding the flow
already computes plus TF-IDF word 1-2-grams and character 2-5-grams of the text (see
`flows.operators.informative`). The regularisation `C` and the decision threshold are
chosen by an inner cross-validation on training rows only, never on the rows scored.

Printed, last line one JSON object:

- `nested_cv`: precision / recall / F1 of an outer 5-fold cross-validation in which each
  outer training part picks its own `C` and threshold by inner CV (the honest figure);
- `holdout`: one grouped 80/20 split, `C` and threshold picked on the 80%, scored on the 20%;
- `selected`: the `C`, threshold and inner-CV F1 picked on all rows for the saved model;
- `fallback_nested_cv`: the same for the embedding-only fallback (used by callers that
  pass no texts).

All splits keep identical texts (after lower-casing and dropping punctuation) in one fold,
so a copied "great game" cannot be learnt in one fold and scored in another. The final
fit on all rows is saved as plain arrays (no pickle) to `--out` (default
var/models/informative.npz, never the shipped head). The flow uses it from its next start
with SIFT_INFORMATIVE_MODEL=var/models/informative.npz; unset, the flow uses the shipped
head (`python -m flows.train_heads`, docs/models.md). AR-Miner has no licence that allows
shipping a model made from it: keep such a model local. `--embeddings FILE.npy` caches the
embeddings between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np

from core.settings import PROJECT_ROOT

# (C, weight of the embedding block next to the two L2-normalised TF-IDF blocks)
GRID = tuple((c, e) for c in (3.0, 10.0, 30.0) for e in (0.5, 1.0))
FALLBACK_GRID = tuple((c, 1.0) for c in (1.0, 3.0, 10.0, 30.0))
# Where a model trained here goes unless `--out` says otherwise (the flow reads it when
# SIFT_INFORMATIVE_MODEL names it).
TRAINED_MODEL = PROJECT_ROOT / "var" / "models" / "informative.npz"
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.30, 0.71, 0.02))


def text_groups(texts: list[str]) -> np.ndarray:
    keys: dict[str, int] = {}
    return np.array([keys.setdefault(" ".join(re.sub(r"[^\w\s]", " ", t.lower()).split()), len(keys))
                     for t in texts])


def prf(predicted: np.ndarray, truth: np.ndarray) -> dict:
    tp, fp, fn = int((predicted & truth).sum()), int((predicted & ~truth).sum()), int((~predicted & truth).sum())
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4)}


class Trainer:
    """Fits and scores one kind of model (`lexical=True`: embedding + TF-IDF; else embedding only)."""

    def __init__(self, x: np.ndarray, texts: list[str], y: np.ndarray, groups: np.ndarray, lexical: bool,
                 folds: int = 5, inner_folds: int = 3, seed: int = 0):
        self.x, self.texts, self.y, self.groups = x, texts, y, groups
        self.lexical, self.folds, self.inner_folds, self.seed = lexical, folds, inner_folds, seed
        self.grid = GRID if lexical else FALLBACK_GRID

    def _lexical(self, train: np.ndarray, test: np.ndarray):
        """TF-IDF blocks fitted on `train` only, for `train` and `test` (None without lexical features)."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        from flows.operators.informative import ANALYZERS

        if not self.lexical:
            return None, None, None
        vectorizers = [TfidfVectorizer(analyzer=ANALYZERS[name], min_df=2, sublinear_tf=True, dtype=np.float64)
                       for name in ("word", "char")]
        fit = sparse.hstack([v.fit_transform([self.texts[i] for i in train]) for v in vectorizers]).tocsr()
        apply = sparse.hstack([v.transform([self.texts[i] for i in test]) for v in vectorizers]).tocsr()
        return vectorizers, fit, apply

    def _stack(self, rows: np.ndarray, lexical, emb_scale: float):
        from scipy import sparse

        if lexical is None:
            return self.x[rows] * emb_scale
        return sparse.hstack([sparse.csr_matrix(self.x[rows] * emb_scale), lexical]).tocsr()

    def _fit(self, design, target: np.ndarray, c: float):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(design, target)

    def fit_predict(self, train: np.ndarray, test: np.ndarray, grid) -> dict:
        """Probabilities on `test` for each (C, emb_scale) in `grid`, fitted on `train`."""
        _, fit, apply = self._lexical(train, test)
        return {(c, e): self._fit(self._stack(train, fit, e), self.y[train], c)
                .predict_proba(self._stack(test, apply, e))[:, 1] for c, e in grid}

    def fit(self, rows: np.ndarray, c: float, emb_scale: float):
        vectorizers, fit, _ = self._lexical(rows, rows[:1])
        return self._fit(self._stack(rows, fit, emb_scale), self.y[rows], c), vectorizers

    def _splits(self, rows: np.ndarray, folds: int, seed: int):
        from sklearn.model_selection import StratifiedGroupKFold

        cv = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
        for train, test in cv.split(rows, self.y[rows], self.groups[rows]):
            yield rows[train], rows[test]

    def select(self, rows: np.ndarray) -> dict:
        """(C, embedding weight) and threshold with the best inner-CV F1 on `rows` (and nothing else)."""
        proba = {pick: np.zeros(len(self.y)) for pick in self.grid}
        for train, test in self._splits(rows, self.inner_folds, self.seed + 1):
            for pick, p in self.fit_predict(train, test, self.grid).items():
                proba[pick][test] = p
        best = None
        for (c, e), p in proba.items():
            for threshold in THRESHOLDS:
                f1 = prf(p[rows] >= threshold, self.y[rows])["f1"]
                if best is None or f1 > best["inner_f1"]:
                    best = {"C": c, "emb_scale": e, "threshold": threshold, "inner_f1": f1}
        return best

    def evaluate(self, train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, dict]:
        chosen = self.select(train)
        proba = self.fit_predict(train, test, [(chosen["C"], chosen["emb_scale"])])
        return next(iter(proba.values())) >= chosen["threshold"], chosen

    def nested_cv(self) -> dict:
        rows, predicted, chosen = np.arange(len(self.y)), np.zeros(len(self.y), dtype=bool), []
        for train, test in self._splits(rows, self.folds, self.seed):
            predicted[test], pick = self.evaluate(train, test)
            chosen.append(pick)
        return {**prf(predicted, self.y), "folds": self.folds, "chosen_per_fold": chosen}

    def holdout(self) -> dict:
        train, test = next(self._splits(np.arange(len(self.y)), 5, self.seed + 2))
        predicted, chosen = self.evaluate(train, test)
        return {**prf(predicted, self.y[test]), "train_rows": len(train), "test_rows": len(test), "chosen": chosen}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m flows.train_informative", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV with text and label columns")
    parser.add_argument("--out", type=Path, default=TRAINED_MODEL, help=f"model file (default {TRAINED_MODEL})")
    parser.add_argument("--embeddings", type=Path, help=".npy cache of the texts' embeddings (made if missing)")
    parser.add_argument("--folds", type=int, default=5, help="outer folds of the nested cross-validation")
    args = parser.parse_args(argv)

    import pandas as pd

    from flows.operators.informative import ANALYZERS, InformativenessModel, LexicalBlock
    from core.settings import Settings

    settings = Settings.from_env()
    out = args.out
    try:
        df = pd.read_csv(args.data).dropna(subset=["text", "label"])
    except (OSError, ValueError, KeyError) as e:
        print(f"train_informative: error: cannot read {args.data}: {e}", file=sys.stderr)
        return 2
    labels = df["label"].astype(str).str.strip().str.lower()
    if not set(labels) <= {"informative", "non-informative"} or labels.nunique() != 2:
        print(f"train_informative: error: labels must be informative / non-informative, got {sorted(set(labels))}",
              file=sys.stderr)
        return 2
    y = (labels == "informative").to_numpy()
    texts = df["text"].astype(str).tolist()
    started = time.time()
    x = np.load(args.embeddings) if args.embeddings and args.embeddings.is_file() else None
    if x is None or x.shape[0] != len(texts):
        from flows.operators.embed import Embedder

        x = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch).encode(texts)
        if args.embeddings:
            args.embeddings.parent.mkdir(parents=True, exist_ok=True)
            np.save(args.embeddings, x)
    x = x.astype(np.float64)
    groups = text_groups(texts)
    full = Trainer(x, texts, y, groups, lexical=True, folds=args.folds)
    fallback = Trainer(x, texts, y, groups, lexical=False, folds=args.folds)
    report = {"data": str(args.data), "rows": int(len(y)), "informative": int(y.sum()),
              "distinct_texts": int(groups.max() + 1)}
    report["nested_cv"] = full.nested_cv()
    print(f"# nested CV {report['nested_cv']}", file=sys.stderr)
    report["holdout"] = full.holdout()
    report["fallback_nested_cv"] = fallback.nested_cv()
    rows = np.arange(len(y))
    report["selected"] = full.select(rows)
    fallback_pick = fallback.select(rows)
    report["fallback_selected"] = fallback_pick
    emb_scale = report["selected"]["emb_scale"]
    classifier, vectorizers = full.fit(rows, report["selected"]["C"], emb_scale)
    fallback_classifier, _ = fallback.fit(rows, fallback_pick["C"], 1.0)
    coef, dim = classifier.coef_[0], x.shape[1]
    blocks, start = [], dim
    for name, vectorizer in zip(("word", "char"), vectorizers):
        assert vectorizer.analyzer is ANALYZERS[name]
        size = len(vectorizer.vocabulary_)
        blocks.append(LexicalBlock(name, dict(vectorizer.vocabulary_), vectorizer.idf_.copy(),
                                   coef[start:start + size].copy()))
        start += size
    model = InformativenessModel(
        weights=(coef[:dim] * emb_scale).astype(np.float32), bias=float(classifier.intercept_[0]),
        threshold=report["selected"]["threshold"], kind="trained", lexical=tuple(blocks),
        fallback_weights=fallback_classifier.coef_[0].astype(np.float32),
        fallback_bias=float(fallback_classifier.intercept_[0]), fallback_threshold=fallback_pick["threshold"])
    report["seconds"] = round(time.time() - started)
    model.save(out, report)
    print(json.dumps({"saved": str(out), **report}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
