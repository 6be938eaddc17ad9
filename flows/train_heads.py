"""Rebuild the shipped heads: `python -m flows.train_heads [--data ../shared/data] [--check]`.

Two small models on the 384-d MiniLM embedding the flow already computes, trained only on labels the
project may redistribute (model card: docs/models.md):

- `flows/models/informative_head.npz`: logistic regression, informative = any type but `rating`;
- `flows/models/review_type_head.npz`: softmax regression over the four review types, trained without
  the rows whose label the cue phrases contradict (`flows.train_types.drop_contradicting`).

Training rows, the only ones read: `labeled/review_types_maalej2016.csv` under `--data` (Maalej et al.
2016 as repackaged in a GPL-3.0 repository, hence the heads' licence) and the project's own written set
`bench/data/review_types_written.csv`. AR-Miner, CLAP and the streams have no licence that allows it;
they are only used to measure the heads (`python -m bench.heads`).

Both heads pick `C` (and the informativeness head its threshold) by grouped cross-validation on these
rows only; groups are the normalised text, so a text repeated with two labels never straddles folds.
Printed, last line one JSON object: each head's nested cross-validation on its training rows (outer 5
folds, inner 3, scored with the original labels), its pick and its file size. Everything is
deterministic, so a rebuild from the same files and embedding backend gives the same bytes: `--check`
rebuilds into a temporary folder and compares with the shipped files (exit 1 when they differ).
`--cache FILE.npz` keeps the embeddings by text between runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.models import INFORMATIVE_HEAD, MODELS_DIR, REVIEW_TYPE_HEAD
from flows.operators.review_type import TYPES
from core.settings import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
MAALEJ = "labeled/review_types_maalej2016.csv"
WRITTEN = PROJECT_ROOT / "bench" / "data" / "review_types_written.csv"
LICENCES = {
    MAALEJ: "GPL-3.0 (Maalej et al. 2016 as repackaged in gessi-chatbots/RE-Miner-type-analysis, data/ReviewTypes.json)",
    "bench/data/review_types_written.csv": "the project's own (written and labelled for Sift)",
}
# (C, embedding weight) for the informativeness trainer; a weak penalty learns one set's habits.
INFORMATIVE_GRID = tuple((c, 1.0) for c in (0.1, 0.3, 1.0, 3.0))
TYPE_GRID = (0.1, 0.3, 1.0, 3.0)


@dataclass(frozen=True)
class TrainingRows:
    """The training rows of both heads: texts, review-type labels and the file each row comes from."""

    texts: list[str]
    labels: list[str]
    sources: list[dict]  # one per file: name, rows, sha256, licence

    @property
    def informative(self) -> np.ndarray:
        return np.asarray(self.labels) != "rating"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_rows(data: Path, written: Path = WRITTEN) -> TrainingRows:
    """Maalej's rows (from `data`) then the written set's, each with a label in `TYPES`."""
    import pandas as pd

    texts, labels, sources = [], [], []
    for name, path in ((MAALEJ, data / MAALEJ), ("bench/data/review_types_written.csv", written)):
        if not path.is_file():
            raise SystemExit(f"train_heads: error: {path} is missing (a training set of the shipped heads)")
        frame = pd.read_csv(path).dropna(subset=["text", "label"])
        frame = frame[frame["label"].astype(str).isin(TYPES)]
        texts += frame["text"].astype(str).tolist()
        labels += frame["label"].astype(str).tolist()
        sources.append({"file": name, "rows": len(frame), "sha256": _sha256(path), "licence": LICENCES[name]})
    return TrainingRows(texts, labels, sources)


def _splits(y: np.ndarray, groups: np.ndarray, rows: np.ndarray, folds: int, seed: int):
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    for train, test in cv.split(rows, y[rows], groups[rows]):
        yield rows[train], rows[test]


def fit_type_head(x: np.ndarray, texts: list[str], labels: np.ndarray, c: float):
    """Class-balanced softmax regression on the embedding, without the rows the cues contradict."""
    from sklearn.linear_model import LogisticRegression

    from flows.operators.review_type import TypeModel
    from flows.train_types import drop_contradicting

    keep = drop_contradicting(texts, labels.tolist())
    clf = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(x[keep], labels[keep])
    return TypeModel(weights=clf.coef_.T.astype(np.float32), bias=clf.intercept_.astype(np.float32),
                     classes=tuple(str(k) for k in clf.classes_), inputs="embedding")


def _type_oof(x, texts, y, groups, rows, c, folds, seed) -> np.ndarray:
    predicted = np.empty(len(y), dtype=object)
    for train, test in _splits(y, groups, rows, folds, seed):
        model = fit_type_head(x[train], [texts[i] for i in train], y[train], c)
        predicted[test] = [t for t, _ in model.predict(x[test], [texts[i] for i in test])]
    return predicted


def _macro_f1(gold, predicted) -> float:
    from sklearn.metrics import f1_score

    return round(float(f1_score(list(gold), list(predicted), labels=list(TYPES), average="macro", zero_division=0)), 4)


def select_type_c(x, texts, y, groups, rows, folds: int = 3, seed: int = 1) -> dict:
    """The `C` of `TYPE_GRID` with the best grouped-CV macro-F1 on `rows` (and nothing else)."""
    best = None
    for c in TYPE_GRID:
        f1 = _macro_f1(y[rows], _type_oof(x, texts, y, groups, rows, c, folds, seed)[rows])
        if best is None or f1 > best["inner_macro_f1"]:
            best = {"C": c, "inner_macro_f1": f1}
    return best


def type_nested_cv(x, texts, y, groups, sources: list[dict], folds: int = 5) -> dict:
    """Outer grouped CV, `C` picked inside each training part; macro-F1 overall and per source file."""
    rows = np.arange(len(y))
    predicted, chosen = np.empty(len(y), dtype=object), []
    for train, test in _splits(y, groups, rows, folds, 0):
        pick = select_type_c(x, texts, y, groups, train)
        model = fit_type_head(x[train], [texts[i] for i in train], y[train], pick["C"])
        predicted[test] = [t for t, _ in model.predict(x[test], [texts[i] for i in test])]
        chosen.append(pick["C"])
    report, start = {"macro_f1": _macro_f1(y, predicted), "folds": folds, "C_per_fold": chosen}, 0
    for source in sources:
        end = start + source["rows"]
        report[source["file"]] = _macro_f1(y[start:end], predicted[start:end])
        start = end
    return report


def informative_nested_cv(trainer, sources: list[dict]) -> dict:
    """The trainer's nested CV, plus F1 of `informative` on each source file's rows."""
    from flows.train_informative import prf

    rows, predicted, chosen = np.arange(len(trainer.y)), np.zeros(len(trainer.y), dtype=bool), []
    for train, test in trainer._splits(rows, trainer.folds, trainer.seed):
        predicted[test], pick = trainer.evaluate(train, test)
        chosen.append({"C": pick["C"], "threshold": pick["threshold"]})
    report, start = {**prf(predicted, trainer.y), "folds": trainer.folds, "chosen_per_fold": chosen}, 0
    for source in sources:
        end = start + source["rows"]
        report[source["file"]] = prf(predicted[start:end], trainer.y[start:end])["f1"]
        start = end
    return report


def embed(texts: list[str], cache: Path | None) -> np.ndarray:
    """The texts' embeddings with the flow's configured backend (SIFT_EMBED_BACKEND), cached by text."""
    from flows.operators.embed import Embedder
    from core.settings import Settings
    from flows.train_types import encode_cached

    settings = Settings.from_env()
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch,
                        settings.embed_backend)
    return encode_cached(embedder.encode, texts, cache).astype(np.float64)


def build(data: Path, out_dir: Path, cache: Path | None = None, folds: int = 5, written: Path = WRITTEN,
          vectors: np.ndarray | None = None) -> dict:
    """Train both heads on the rows of `load_rows(data)` and write them to `out_dir`; returns the report."""
    from flows.operators.informative import InformativenessModel
    from flows.train_informative import Trainer, text_groups

    rows = load_rows(data, written)
    x = embed(rows.texts, cache) if vectors is None else np.asarray(vectors, dtype=np.float64)
    groups = text_groups(rows.texts)
    common = {"trained_on": rows.sources, "embedding": "all-MiniLM-L6-v2, 384-d, unit length",
              "command": "python -m flows.train_heads", "licence": "GPL-3.0"}

    trainer = Trainer(x, rows.texts, rows.informative, groups, lexical=False, folds=folds)
    trainer.grid = INFORMATIVE_GRID
    informative = {"rows": len(rows.texts), "informative": int(rows.informative.sum()),
                   "target": "informative = review type is not rating",
                   "nested_cv": informative_nested_cv(trainer, rows.sources)}
    pick = trainer.select(np.arange(len(rows.texts)))
    informative["selected"] = pick
    classifier, _ = trainer.fit(np.arange(len(rows.texts)), pick["C"], 1.0)
    head = InformativenessModel(weights=classifier.coef_[0].astype(np.float32), bias=float(classifier.intercept_[0]),
                                threshold=pick["threshold"], kind="head")
    head.save(out_dir / INFORMATIVE_HEAD.name, {**common, **informative})

    y = np.asarray(rows.labels)
    types = {"rows": len(y), "per_type": {t: int((y == t).sum()) for t in TYPES},
             "nested_cv": type_nested_cv(x, rows.texts, y, groups, rows.sources, folds)}
    types["selected"] = select_type_c(x, rows.texts, y, groups, np.arange(len(y)))
    model = fit_type_head(x, rows.texts, y, types["selected"]["C"])
    model.save(out_dir / REVIEW_TYPE_HEAD.name, {**common, **types})

    for entry, name in ((informative, INFORMATIVE_HEAD.name), (types, REVIEW_TYPE_HEAD.name)):
        entry["file"], entry["bytes"] = name, (out_dir / name).stat().st_size
    return {"informative": informative, "review_type": types, "trained_on": rows.sources}


def compare(built: Path, shipped: Path) -> dict:
    """Whether the files in `built` equal those in `shipped`: same bytes, else the largest array difference."""
    out = {}
    for name in (INFORMATIVE_HEAD.name, REVIEW_TYPE_HEAD.name):
        a, b = built / name, shipped / name
        if not b.is_file():
            out[name] = {"same_bytes": False, "error": f"{b} is missing"}
            continue
        entry = {"same_bytes": a.read_bytes() == b.read_bytes()}
        if not entry["same_bytes"]:
            with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
                numeric = [k for k in x.files if x[k].dtype.kind == "f" and k in y.files]
                entry["max_abs_difference"] = max(
                    (float(np.abs(x[k].astype(np.float64) - y[k]).max()) for k in numeric if x[k].shape == y[k].shape),
                    default=None)
                entry["same_arrays"] = sorted(x.files) == sorted(y.files) and all(
                    x[k].shape == y[k].shape and np.array_equal(x[k], y[k]) for k in x.files)
        out[name] = entry
    return out


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m flows.train_heads", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder (holds labeled/)")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR, help="where the two .npz files go")
    parser.add_argument("--check", action="store_true", help="rebuild into a temporary folder and compare")
    parser.add_argument("--cache", type=Path, help="embedding cache (.npz) to reuse across runs")
    parser.add_argument("--folds", type=int, default=5, help="outer folds of the nested cross-validation")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            report = build(args.data, Path(tmp), args.cache, args.folds)
            report["check"] = compare(Path(tmp), args.out_dir)
        print(json.dumps(report))
        return 0 if all(e["same_bytes"] for e in report["check"].values()) else 1
    report = build(args.data, args.out_dir, args.cache, args.folds)
    print(f"# wrote {args.out_dir / INFORMATIVE_HEAD.name} and {args.out_dir / REVIEW_TYPE_HEAD.name}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
