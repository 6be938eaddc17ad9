"""Review-type and cluster quality, used by `python -m bench.quality types|clusters`.

types: macro-F1 and per-class precision/recall/F1 of the review type, zero-shot (default), with the
trained model at `--model`, or trained on `--train` (the `flows.train_types` recipe) and tested on
`--data`; `--cache PATH` reuses embeddings stored by text.
clusters: purity and NMI of the coarse KMeans themes against a gold column (issues: `python -m bench.issues`).
agreement: for each second annotation in `bench/data/annotations/` (a sample of a public set: each
row's 0-based position among the data rows, its id, and a label given without seeing the set's), how
far the annotator and the classifier each agree with the set's labels and with each other: the
agreement between two careful readers bounds what a classifier can score against either one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from flows.operators.review_type import TYPES, TypeClassifier

ANNOTATIONS = Path(__file__).parent / "data" / "annotations"
# How each annotated public set is read: text column, label column, label mapping.
ANNOTATED_SETS = {
    "review_types_maalej2016.csv": ("text", "label", ""),
    "categories_clap2017_rq1.csv": ("review", "category", "clap"),
}


def _scores(gold: list[str], predicted: list[str]) -> dict:
    from sklearn.metrics import cohen_kappa_score, f1_score

    f1 = f1_score(gold, predicted, labels=list(TYPES), average=None, zero_division=0)
    return {"macro_f1": round(float(np.mean(f1)), 4), "kappa": round(float(cohen_kappa_score(gold, predicted)), 4),
            "f1": {t: round(float(f1[i]), 4) for i, t in enumerate(TYPES)}}


def evaluate_agreement(data_dir: Path, model: Path | None = None, annotations: Path = ANNOTATIONS,
                       encode: Callable[[Sequence[str]], np.ndarray] | None = None) -> dict:
    """Set labels vs second annotation vs classifier, on the annotated rows of each set in `data_dir`."""
    import pandas as pd

    from flows.train_types import CLAP_TO_TYPES

    if encode is None:
        from flows.operators.embed import Embedder

        encode = Embedder().encode
    classifier = TypeClassifier(encode, model)
    report: dict[str, dict] = {}
    for file in sorted(annotations.glob("*.csv")):
        if file.name not in ANNOTATED_SETS:
            raise SystemExit(f"{file}: no reading rule for this set in ANNOTATED_SETS")
        source = data_dir / file.name
        if not source.is_file():
            raise SystemExit(f"{source}: missing (the annotation {file} labels rows of it)")
        text_col, label_col, mapping = ANNOTATED_SETS[file.name]
        second = pd.read_csv(file)
        rows = pd.read_csv(source).iloc[second["row"]]
        if (rows["id"].astype(str).values != second["id"].astype(str).values).any():
            raise SystemExit(f"{file}: rows and ids do not match {source}; is it another version of the set?")
        texts = rows[text_col].astype(str).tolist()
        gold = rows[label_col].astype(str).map(CLAP_TO_TYPES).tolist() if mapping == "clap" else rows[label_col].astype(str).tolist()
        annotator = second["label"].astype(str).tolist()
        predicted = [t for t, _ in classifier.classify(encode(texts), texts)]
        report[file.name] = {
            "rows": len(texts), "classifier": "model" if classifier.model is not None else "zero-shot",
            "annotator_vs_set": _scores(gold, annotator),
            "classifier_vs_set": _scores(gold, predicted),
            "classifier_vs_annotator": _scores(annotator, predicted),
        }
    if not report:
        raise SystemExit(f"{annotations}: no annotation files")
    return report


def evaluate_types(data: Path, train: Path | None = None, model: Path | None = None, text_col: str = "text",
                   label_col: str = "label", mapping: str = "", cache: Path | None = None) -> dict:
    from sklearn.metrics import precision_recall_fscore_support

    from flows.operators.embed import Embedder
    from flows.operators.review_type import prototype_vectors
    from flows.train_types import encode_cached, fit, load_labeled

    embedder = Embedder()
    texts, gold = load_labeled(data, text_col, label_col, mapping)
    vectors = encode_cached(embedder.encode, texts, cache)
    if train is not None:
        train_texts, train_labels = load_labeled(train, text_col, label_col, mapping)
        train_vectors = encode_cached(embedder.encode, train_texts, cache)
        trained = fit(train_vectors, train_texts, train_labels, prototype_vectors(embedder.encode))
        predicted = [t for t, _ in trained.predict(vectors, texts)]
        mode = f"trained on {train.name}"
    else:
        classifier = TypeClassifier(embedder.encode, model)
        predicted = [t for t, _ in classifier.classify(vectors, texts)]
        mode = f"model {model.name}" if classifier.model is not None else "zero-shot"
    p, r, f, n = precision_recall_fscore_support(gold, predicted, labels=list(TYPES), zero_division=0)
    return {
        "mode": mode, "rows": len(texts), "macro_f1": round(float(np.mean(f)), 4),
        "per_class": {t: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                          "f1": round(float(f[i]), 4), "support": int(n[i])} for i, t in enumerate(TYPES)},
    }


def evaluate_clusters(data: Path, text_col: str = "text", gold_col: str = "cluster", k: int = 6) -> dict:
    """Feed the texts, in file order, through the flow's cluster step (one key) and score the result."""
    from datetime import datetime, timezone

    import pandas as pd
    from sklearn.metrics import normalized_mutual_info_score

    from flows.operators.cluster import ClusterConfig, cluster_step
    from flows.operators.embed import Embedder
    from core.records import EnrichedReview, Measures, Review

    frame = pd.read_csv(data)
    for col in (text_col, gold_col):
        if col not in frame.columns:
            raise SystemExit(f"{data}: no column {col!r} (columns: {', '.join(frame.columns)})")
    frame = frame[frame[text_col].notna() & frame[gold_col].notna()]
    texts = frame[text_col].astype(str).tolist()
    gold = frame[gold_col].astype(str).tolist()
    vectors = Embedder().encode(texts)
    cfg = ClusterConfig(n_clusters=k)
    at = datetime.now(timezone.utc)
    state, predicted = None, []
    for i, text in enumerate(texts):
        review = Review(id=str(i), app_id="eval", text=text, source="eval", created_at=at, received_at=at, origin="eval")
        item = EnrichedReview(review=review, measures=Measures(0, 0.0), lang="en", text_en=text, translated=False,
                              primary_label="all", label_score=1.0, embedding=tuple(vectors[i].tolist()))
        state, out = cluster_step(state, item, cfg)
        predicted.append(out.theme_id)
    majority = sum(Counter(g for g, p in zip(gold, predicted) if p == c).most_common(1)[0][1] for c in set(predicted))
    return {
        "rows": len(texts), "clusters": len(set(predicted)), "gold_clusters": len(set(gold)),
        "purity": round(majority / len(texts), 4),
        "nmi": round(float(normalized_mutual_info_score(gold, predicted)), 4),
    }
