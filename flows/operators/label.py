"""Zero-shot primary labels: nearest label by cosine similarity to its description and examples.

A label's score for a review is the best cosine similarity between the review
and any of the label's phrases (its description, each example, and their
centroid). Below the threshold the review is labelled `other`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.appmeta import AppMetadata

OTHER = "other"


@dataclass(frozen=True)
class LabelIndex:
    """Phrase vectors of one app's labels; `assign` is pure matrix arithmetic."""

    names: tuple[str, ...]
    phrase_vectors: np.ndarray  # (phrases, dims), unit length
    phrase_label: np.ndarray  # (phrases,), index into names
    threshold: float

    @classmethod
    def build(
        cls,
        app: AppMetadata,
        encode: Callable[[Sequence[str]], np.ndarray],
        threshold: float,
    ) -> LabelIndex:
        """Embed every label's description and examples once."""
        vectors: list[np.ndarray] = []
        owners: list[int] = []
        for i, label in enumerate(app.labels):
            phrases = [p for p in (label.description, *label.examples) if p.strip()]
            vecs = encode(phrases)
            centroid = vecs.mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            vectors.extend([*vecs, centroid])
            owners.extend([i] * (len(phrases) + 1))
        return cls(
            names=app.label_names,
            phrase_vectors=np.vstack(vectors).astype(np.float32),
            phrase_label=np.asarray(owners),
            threshold=threshold,
        )

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """(reviews, labels) best phrase similarity per label."""
        sims = vectors @ self.phrase_vectors.T
        out = np.full((vectors.shape[0], len(self.names)), -1.0, dtype=np.float32)
        for i in range(len(self.names)):
            out[:, i] = sims[:, self.phrase_label == i].max(axis=1)
        return out

    def assign(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """The best label and its score for each row, `other` below the threshold."""
        if vectors.shape[0] == 0:
            return []
        scores = self.scores(vectors)
        best = scores.argmax(axis=1)
        result = []
        for row, idx in enumerate(best):
            score = float(scores[row, idx])
            result.append((self.names[idx] if score >= self.threshold else OTHER, score))
        return result
