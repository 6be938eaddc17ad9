"""Batch enrichment: embed a batch of kept reviews once, then label and score each against its app.

One `encode` call per batch (never per item) on the English text when there is
one (`Translation.text_en`), else the original, without @handles and links
and the app's own name
(`meaning_text`). Label phrase vectors are built
once per app and reused until the app metadata changes (`AppCatalog` reloads it
while the flow runs); informativeness comes from the same vectors.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from core.appmeta import AppCatalog, AppMetadata, own_names
from flows.operators.embed import Embedder
from flows.operators.informative import InformativenessModel
from flows.operators.label import LabelIndex
from flows.operators.competitors import mentioned
from flows.operators.text import meaning_text
from flows.operators.priority import review_priority
from flows.operators.review_type import TypeClassifier
from flows.operators.sentiment import sentiment
from core.records import Translation
from core.records import EnrichedReview, Measures, Review


class Enricher:
    """Callable for `op.flat_map_batch`: `[(Review, Measures, Translation)] -> [EnrichedReview]`."""

    def __init__(
        self,
        embedder: Embedder,
        apps: Mapping[str, AppMetadata] | AppCatalog,
        label_threshold: float,
        informativeness: InformativenessModel | None = None,
        types: TypeClassifier | None = None,
    ):
        self.embedder = embedder
        self.catalog = apps if isinstance(apps, AppCatalog) else None
        self.apps: Mapping[str, AppMetadata] = apps.current() if isinstance(apps, AppCatalog) else apps
        self.label_threshold = label_threshold
        self._informativeness = informativeness
        self._indexes: dict[str, LabelIndex] = {}
        self._names: dict[str, tuple[str, ...]] = {}  # own_names per app, for this metadata version
        self.types = types or TypeClassifier(embedder.encode)

    def _follow_catalog(self) -> None:
        """Pick up reloaded app metadata: label vectors are rebuilt on next use (mention patterns are cached by the
        competitors themselves, so edited ones apply at once)."""
        if self.catalog is None:
            return
        apps = self.catalog.current()
        if apps is not self.apps:
            self.apps = apps
            self._indexes.clear()
            self._names.clear()

    @property
    def informativeness(self) -> InformativenessModel:
        if self._informativeness is None:
            self._informativeness = InformativenessModel.zero_shot(self.embedder.encode)
        return self._informativeness

    def index_for(self, app_id: str) -> LabelIndex:
        index = self._indexes.get(app_id)
        if index is None:
            index = LabelIndex.build(self.apps[app_id], self.embedder.encode, self.label_threshold)
            self._indexes[app_id] = index
        return index

    def _own_names(self, app_id: str) -> tuple[str, ...]:
        if app_id not in self._names:
            self._names[app_id] = own_names(self.apps, app_id)
        return self._names[app_id]

    def __call__(self, batch: list[tuple[Review, Measures, Translation]]) -> Iterable[EnrichedReview]:
        if not batch:
            return []
        self._follow_catalog()
        texts = [translation.text_en for _, _, translation in batch]
        vectors = self.embedder.encode([meaning_text(t, self._own_names(review.app_id)) for (review, _, _), t in zip(batch, texts)])
        informative = self.informativeness.score(vectors, texts)
        informative_at = self.informativeness.threshold_for(with_texts=True)
        labels: list[tuple[str, float]] = [("", 0.0)] * len(batch)
        by_app: dict[str, list[int]] = {}
        for i, (review, _, _) in enumerate(batch):
            by_app.setdefault(review.app_id, []).append(i)
        for app_id, rows in by_app.items():
            for row, assigned in zip(rows, self.index_for(app_id).assign(vectors[rows])):
                labels[row] = assigned
        types = self.types.classify(vectors, texts)
        now = datetime.now(timezone.utc)
        return [
            self._finish(
                review=review,
                measures=measures,
                lang=translation.lang,
                lang_confidence=measures.lang_confidence,
                text_en=translation.text_en,
                translated=translation.status == "translated",
                translation=translation.status,
                translation_detail=translation.detail,
                informativeness=float(informative[i]),
                informative=bool(informative[i] >= informative_at),
                primary_label=label,
                label_score=score,
                embedding=tuple(vectors[i].tolist()),
                processed_at=now,
                review_type=types[i][0],
                type_score=types[i][1],
            )
            for i, ((review, measures, translation), (label, score)) in enumerate(zip(batch, labels))
        ]

    def _finish(self, **fields) -> EnrichedReview:
        """Per-review scores that need no model: sentiment, competitor mentions, priority."""
        review: Review = fields["review"]
        mood, mood_score = sentiment(fields["text_en"], review.rating)
        competitors = mentioned(review.text, self.apps[review.app_id].competitors)
        priority = review_priority(fields["review_type"], mood_score, fields["informativeness"], review.rating)
        return EnrichedReview(**fields, sentiment=mood, sentiment_score=mood_score, competitors=competitors,
                              priority=priority)
