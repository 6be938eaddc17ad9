"""Sentiment per review: from the star rating when there is one, from the text (VADER) when not.

`score` is in [-1, 1]; the label is `negative` below -0.05, `positive` above 0.05, else `neutral`.
VADER reads the first `VADER_MAX_CHARS` characters: its cost grows quadratically with emoji, and
a review's tone is set well before that.
"""

from __future__ import annotations

from functools import lru_cache

_RATING_SCORE = {1: -1.0, 2: -0.5, 3: 0.0, 4: 0.5, 5: 1.0}
VADER_MAX_CHARS = 1000


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def label_of(score: float) -> str:
    return "negative" if score < -0.05 else "positive" if score > 0.05 else "neutral"


def sentiment(text: str, rating: int | None) -> tuple[str, float]:
    """`(label, score)`; a rating wins because users state it on purpose, the text decides without one."""
    if rating in _RATING_SCORE:
        score = _RATING_SCORE[rating]
    else:
        score = float(_analyzer().polarity_scores(text[:VADER_MAX_CHARS])["compound"])
    return label_of(score), round(score, 4)
