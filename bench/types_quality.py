"""Review-type and cluster quality, used by `python -m bench.quality types|clusters`.

types: macro-F1 and per-class precision/recall/F1 of the review type, zero-shot (default), with the
trained model at `--model`, or trained on `--train` (the `flows.train_types` recipe) and tested on
`--data`; `--cache PATH` reuses embeddings stored by text.
clusters: purity and NMI of the flow's online clustering against a gold cluster column.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from flows.operators.review_type import TYPES, TypeClassifier


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
    from flows.records import EnrichedReview, Measures, Review

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
        predicted.append(out.cluster_id)
    majority = sum(Counter(g for g, p in zip(gold, predicted) if p == c).most_common(1)[0][1] for c in set(predicted))
    return {
        "rows": len(texts), "clusters": len(set(predicted)), "gold_clusters": len(set(gold)),
        "purity": round(majority / len(texts), 4),
        "nmi": round(float(normalized_mutual_info_score(gold, predicted)), 4),
    }
