"""Priority of an issue: the chance that its app's developers would fix it in the next release.

One rule, fitted on labelled issues (`docs/priority.md`; `python -m bench.issues ... --priority-col P --fit`):

    priority = sigmoid(INTERCEPT + sum(WEIGHTS[s] * signal_s(facts)))     in [0, 1]

The signals (`signals`) are computed from an issue's `IssueFacts`; only those named in `WEIGHTS` count,
the others are candidates the bench measures. The flow and the bench feed the same accumulator
(`Tally`): the flow with each issue's reviews (`issues.issue_step`) and each app's kept reviews
(`volume.volume_step`), the bench with a gold issue's rows and its app's rows.

Guarantees: pure and deterministic; `Tally` is small, bounded (`MAX_VERSIONS` versions, `WEEKS` weekly
counts) and picklable; counts decay with a `HORIZON_DAYS` half-life of event time, so an issue and its
app are compared over the same recent past; `level` and `reason` are derived from the same numbers
as `score`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from core.records import EnrichedReview

HORIZON_DAYS = 30.0  # half-life of every count in a Tally
MAX_VERSIONS = 12
WEEKS = 3  # weekly counts kept (this week, the one before, ...)
WEEK_SECONDS = 7 * 86400.0

# Fitted by logistic regression on the development set's gold priority (reader A), see docs/priority.md.
INTERCEPT = -9.472
WEIGHTS: dict[str, float] = {"size": 1.123, "informativeness": 5.797, "share": 0.612, "low_rating": 1.611}
# Severity of a passing ticket window from `score` (tickets.severity).
HIGH_AT = 0.5
MEDIUM_AT = 0.25


@dataclass
class Tally:
    """Decayed counts of the reviews of one issue (or one app), in event time.

    `reviews` counts the reviews that can form an issue (an app's praise is counted in `rated` and
    `rating_sum` only); `versions` maps an app version to its decayed count (at most `MAX_VERSIONS`,
    the rarest dropped); `weeks` maps a week number (event time / 7 days) to its raw count, the
    latest `WEEKS` kept."""

    at: float | None = None  # event time (epoch s) the counts are decayed to
    reviews: float = 0.0
    rated: float = 0.0
    rating_sum: float = 0.0
    negative: float = 0.0
    informative_sum: float = 0.0
    bugs: float = 0.0
    thumbs_up: float = 0.0
    priority_sum: float = 0.0  # review-level priorities (`priority.review_priority`), a candidate signal
    versions: dict[str, float] = field(default_factory=dict)
    weeks: dict[int, int] = field(default_factory=dict)

    def add(self, at: float, rating: int | None, negative: bool, informativeness: float = 0.0,
            version: str = "", bug: bool = False, thumbs_up: int = 0, forms_issue: bool = True,
            priority: float = 0.0) -> None:
        """Count one review written at event time `at` (a late one counts with its decayed weight)."""
        w = self._weight(at)
        if rating:
            self.rated += w
            self.rating_sum += w * rating
        if not forms_issue:
            return
        self.reviews += w
        self.negative += w * bool(negative)
        self.informative_sum += w * min(max(informativeness, 0.0), 1.0)
        self.bugs += w * bool(bug)
        self.thumbs_up += w * max(thumbs_up, 0)
        self.priority_sum += w * priority
        if version:
            self.versions[version] = self.versions.get(version, 0.0) + w
            if len(self.versions) > MAX_VERSIONS:
                del self.versions[min(self.versions, key=lambda v: (self.versions[v], v))]
        week = int(at // WEEK_SECONDS)
        self.weeks[week] = self.weeks.get(week, 0) + 1
        for old in sorted(self.weeks)[:-WEEKS]:
            del self.weeks[old]

    def _weight(self, at: float) -> float:
        if self.at is None:
            self.at = at
        if at <= self.at:
            return _decay(self.at - at)
        d = _decay(at - self.at)
        self.reviews *= d
        self.rated *= d
        self.rating_sum *= d
        self.negative *= d
        self.informative_sum *= d
        self.bugs *= d
        self.thumbs_up *= d
        self.priority_sum *= d
        self.versions = {v: c * d for v, c in self.versions.items()}
        self.at = at
        return 1.0

    @property
    def mean_rating(self) -> float | None:
        return self.rating_sum / self.rated if self.rated >= 0.5 else None


def is_negative(item: EnrichedReview) -> bool:
    """One or two stars; without a rating, a negative sentiment."""
    rating = item.review.rating
    return rating <= 2 if rating else item.sentiment == "negative"


def add_review(tally: Tally, item: EnrichedReview, forms_issue: bool = True) -> None:
    """Count one enriched review in `tally` (the flow's issue and app steps and the bench call this)."""
    thumbs = item.review.meta.get("thumbs_up") if item.review.meta else None
    try:
        thumbs_up = int(float(thumbs)) if thumbs not in (None, "") else 0
    except (TypeError, ValueError):
        thumbs_up = 0
    tally.add(item.review.created_at.timestamp(), item.review.rating, is_negative(item), item.informativeness,
              item.review.app_version or "", item.review_type == "bug_report", thumbs_up, forms_issue, item.priority)


def merge_tallies(a: Tally, b: Tally) -> Tally:
    """One tally of both (two issues merged), decayed to the later of their times."""
    at = max(a.at or 0.0, b.at or 0.0)
    da, db = _decay(at - (a.at or at)), _decay(at - (b.at or at))
    versions = {v: a.versions.get(v, 0.0) * da + b.versions.get(v, 0.0) * db for v in {*a.versions, *b.versions}}
    versions = dict(sorted(versions.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_VERSIONS])
    weeks = {w: a.weeks.get(w, 0) + b.weeks.get(w, 0) for w in sorted({*a.weeks, *b.weeks})[-WEEKS:]}
    return Tally(at=at if (a.at is not None or b.at is not None) else None,
                 **{k: getattr(a, k) * da + getattr(b, k) * db
                    for k in ("reviews", "rated", "rating_sum", "negative", "informative_sum", "bugs", "thumbs_up", "priority_sum")},
                 versions=versions, weeks=weeks)


def _decay(seconds: float) -> float:
    return 0.5 ** (max(seconds, 0.0) / (HORIZON_DAYS * 86400))


@dataclass(frozen=True)
class AppBaseline:
    """What an issue is compared with: its app's recent reviews (same decay as the issue's tally)."""

    reviews: float = 0.0  # reviews that can form an issue
    rating: float | None = None  # mean star rating of every kept review
    negative: float = 0.0  # negative reviews among `reviews`

    @classmethod
    def of(cls, tally: Tally) -> AppBaseline:
        rating = tally.mean_rating
        return cls(round(tally.reviews, 3), None if rating is None else round(rating, 3), round(tally.negative, 3))


@dataclass(frozen=True)
class IssueFacts:
    """The numbers an issue's priority is computed from, and its reason is written with."""

    reviews: float
    rating: float | None
    versions: int
    negative: float
    informativeness: float  # mean over its reviews
    bug_share: float
    thumbs_up: float
    review_priority: float  # mean review-level priority
    this_week: int  # reviews in the week of the latest review
    last_week: int  # ... and in the week before
    app: AppBaseline = AppBaseline()


def facts_of(tally: Tally, app: AppBaseline) -> IssueFacts:
    n = max(tally.reviews, 1e-9)
    week = max(tally.weeks) if tally.weeks else 0
    return IssueFacts(
        reviews=round(tally.reviews, 3), rating=None if tally.mean_rating is None else round(tally.mean_rating, 3),
        versions=sum(c >= 0.5 for c in tally.versions.values()), negative=round(tally.negative, 3),
        informativeness=round(tally.informative_sum / n, 4), bug_share=round(tally.bugs / n, 4),
        thumbs_up=round(tally.thumbs_up, 3), review_priority=round(tally.priority_sum / n, 4), this_week=tally.weeks.get(week, 0), last_week=tally.weeks.get(week - 1, 0),
        app=app)


def signals(f: IssueFacts) -> dict[str, float]:
    """Every candidate signal of an issue (the rule uses those in `WEIGHTS`)."""
    app_reviews = max(f.app.reviews, f.reviews, 1.0)
    drop = (f.app.rating - f.rating) if f.rating is not None and f.app.rating is not None else 0.0
    return {
        "size": math.log2(1 + f.reviews),  # volume
        "share": math.log2(1 + 100 * f.reviews / app_reviews),  # volume normalised by the app's
        "negative_share": f.negative / max(f.app.negative, f.negative, 1.0),
        "rating_drop": drop,  # stars under the app's mean
        "low_rating": 0.0 if f.rating is None else (5 - f.rating) / 4,
        "versions": math.log2(1 + f.versions),
        "informativeness": f.informativeness,
        "bug_share": f.bug_share,
        "reach": math.log2(1 + f.thumbs_up),
        "review_priority": f.review_priority,
        "growth": math.log2((1 + f.this_week) / (1 + f.last_week)),
    }


@dataclass(frozen=True)
class IssuePriority:
    score: float  # in [0, 1]
    level: str  # "high" | "medium" | "low"
    reason: str  # the facts behind it, e.g. "34 reviews, 1.4★ against the app's 3.9★, 3 versions"


def score_of(f: IssueFacts, weights: dict[str, float] | None = None, intercept: float | None = None) -> float:
    s = signals(f)
    w = WEIGHTS if weights is None else weights
    z = (INTERCEPT if intercept is None else intercept) + sum(c * s[name] for name, c in w.items())
    return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


def level_of(score: float) -> str:
    return "high" if score >= HIGH_AT else "medium" if score >= MEDIUM_AT else "low"


def issue_priority(f: IssueFacts) -> IssuePriority:
    """The issue's priority, its level and the one-line reason (see the module docstring)."""
    score = round(score_of(f), 4)
    return IssuePriority(score, level_of(score), reason_of(f))


def reason_of(f: IssueFacts) -> str:
    """The facts a reader checks a priority against, the rule's own signals first."""
    n = round(f.reviews)
    parts = {
        "size": f"{n} review{'s' if n != 1 else ''}",
        "share": f"{f.reviews / max(f.app.reviews, f.reviews, 1.0):.0%} of the app's issue reviews",
        "negative_share": f"{f.negative / max(f.app.negative, f.negative, 1.0):.0%} of the app's negative reviews",
        "rating_drop": (f"{f.rating:.1f}★ against the app's {f.app.rating:.1f}★"
                        if f.rating is not None and f.app.rating is not None else ""),
        "low_rating": f"{f.rating:.1f}★" if f.rating is not None else "",
        "versions": f"{f.versions} version{'s' if f.versions != 1 else ''}" if f.versions else "",
        "informativeness": f"informativeness {f.informativeness:.2f}",
        "bug_share": f"{f.bug_share:.0%} bug reports",
        "reach": f"{round(f.thumbs_up)} thumbs-up" if f.thumbs_up >= 1 else "",
        "review_priority": f"mean review priority {f.review_priority:.2f}",
        "growth": f"{f.this_week} this week vs {f.last_week} the week before",
    }
    order = [*sorted(WEIGHTS, key=lambda k: (k not in ("size", "share"), -abs(WEIGHTS[k]))), "rating_drop", "versions"]
    if "low_rating" in WEIGHTS and "rating_drop" not in WEIGHTS and parts["rating_drop"]:
        order.remove("low_rating")  # the comparison with the app already says the rating
    shown: list[str] = []
    for key in order:
        if parts.get(key) and parts[key] not in shown:
            shown.append(parts[key])
    return ", ".join(shown)
