"""Priority of a review, in [0, 1]: how much a product team should care about it.

    priority = 0.35 * type_weight        bug_report 1.0, feature_request 0.7, user_experience 0.4, rating 0.2
             + 0.25 * negativity         (1 - sentiment_score) / 2
             + 0.25 * informativeness    the denoiser's informativeness score
             + 0.15 * rating_term        (5 - rating) / 4, or 0.5 without a rating

The weights were never checked against anyone's judgement. An issue's priority does not use this score
(`flows.operators.issue_priority`, docs/priority.md: the mean review priority of an issue scored ROC AUC
0.43 against developers' priorities on the real set of issue #22); it orders a ticket's example reviews.
"""

from __future__ import annotations

TYPE_WEIGHT = {"bug_report": 1.0, "feature_request": 0.7, "user_experience": 0.4, "rating": 0.2}


def review_priority(review_type: str, sentiment_score: float, informativeness: float, rating: int | None) -> float:
    rating_term = (5 - rating) / 4 if rating else 0.5
    value = (
        0.35 * TYPE_WEIGHT.get(review_type, 0.2)
        + 0.25 * (1 - sentiment_score) / 2
        + 0.25 * min(max(informativeness, 0.0), 1.0)
        + 0.15 * rating_term
    )
    return round(min(max(value, 0.0), 1.0), 4)
