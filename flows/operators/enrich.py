"""Batch enrichment: embed a batch of kept reviews once, then label each against its app.

One `encode` call per batch (never per item). Label phrase vectors are built
once per app per process and reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from flows.appmeta import AppMetadata
from flows.operators.embed import Embedder
from flows.operators.label import LabelIndex
from flows.records import EnrichedReview, Measures, Review


class Enricher:
    """Callable for `op.flat_map_batch`: `[(Review, Measures)] -> [EnrichedReview]`."""

    def __init__(self, embedder: Embedder, apps: Mapping[str, AppMetadata], label_threshold: float):
        self.embedder = embedder
        self.apps = apps
        self.label_threshold = label_threshold
        self._indexes: dict[str, LabelIndex] = {}

    def index_for(self, app_id: str) -> LabelIndex:
        index = self._indexes.get(app_id)
        if index is None:
            index = LabelIndex.build(self.apps[app_id], self.embedder.encode, self.label_threshold)
            self._indexes[app_id] = index
        return index

    def __call__(self, batch: list[tuple[Review, Measures]]) -> Iterable[EnrichedReview]:
        if not batch:
            return []
        vectors = self.embedder.encode([review.text for review, _ in batch])
        labels: list[tuple[str, float]] = [("", 0.0)] * len(batch)
        by_app: dict[str, list[int]] = {}
        for i, (review, _) in enumerate(batch):
            by_app.setdefault(review.app_id, []).append(i)
        for app_id, rows in by_app.items():
            for row, assigned in zip(rows, self.index_for(app_id).assign(vectors[rows])):
                labels[row] = assigned
        now = datetime.now(timezone.utc)
        return [
            EnrichedReview(
                review=review,
                measures=measures,
                lang=review.lang_hint or "en",
                text_en=review.text,
                translated=False,
                primary_label=label,
                label_score=score,
                embedding=tuple(vectors[i].tolist()),
                processed_at=now,
            )
            for i, ((review, measures), (label, score)) in enumerate(zip(batch, labels))
        ]
