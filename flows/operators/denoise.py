"""Basic denoise: word count and non-English character ratio.

Pure. A review either passes with its `Measures` or becomes a `Rejected` that
carries the same measures and a reason (`too_short`, `non_english`).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

from flows.records import Measures, Rejected, Review

_JOINERS = "'’"


@dataclass(frozen=True)
class DenoiseRules:
    """Thresholds; a review is kept when it meets all of them."""

    min_words: int = 3
    max_non_english_ratio: float = 0.3


def count_words(text: str) -> int:
    """Runs of letters, combining marks and digits (so Devanagari words stay whole)."""
    words, inside = 0, False
    for i, c in enumerate(text):
        wordy = unicodedata.category(c)[0] in "LMN" or (
            c in _JOINERS and inside and i + 1 < len(text) and text[i + 1].isalnum()
        )
        if wordy and not inside:
            words += 1
        inside = wordy
    return words


def measure(text: str) -> Measures:
    """Word count and the share of letters outside ASCII."""
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    non_ascii = sum(1 for c in letters if not c.isascii())
    ratio = non_ascii / len(letters) if letters else 0.0
    return Measures(word_count=count_words(text), non_english_ratio=round(ratio, 4))


def denoise(review: Review, rules: DenoiseRules) -> tuple[Review, Measures] | Rejected:
    """Keep `review` with its measures, or reject it with the first failed rule."""
    m = measure(review.text)
    if m.word_count < rules.min_words:
        return _reject(review, m, "too_short", f"{m.word_count} words; minimum {rules.min_words}")
    if m.non_english_ratio > rules.max_non_english_ratio:
        return _reject(
            review,
            m,
            "non_english",
            f"{m.non_english_ratio:.0%} non-English letters; maximum {rules.max_non_english_ratio:.0%}",
        )
    return review, m


def _reject(review: Review, m: Measures, reason: str, detail: str) -> Rejected:
    return Rejected(
        id=review.id,
        app_id=review.app_id,
        reason=reason,
        detail=detail,
        raw=review.raw or review.text,
        origin=review.origin,
        received_at=review.received_at,
        at=datetime.now(timezone.utc),
        measures=m,
        ack=review.ack,
    )
