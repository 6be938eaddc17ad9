"""Event-time rates: an issue's own baseline and its app's volume, which the ticket decision tests against.

`Rate` is an exponentially decayed count over an exponentially decayed exposure (the time watched),
both in event time, so a replay gives the same numbers and a quiet stretch lowers the rate. The
`app_volume` step (keyed by app) stamps every kept review with its app's current rate of reviews
that can form an issue (`issues.forms_issue`: praise, bare ratings and uninformative reviews left out) per hour, and the
newest app version seen so far.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from flows.operators.issue_priority import Tally, add_review
from flows.operators.issues import forms_issue
from core.records import EnrichedReview, Rejected

APP_HALFLIFE_HOURS = 24.0
APP_NOW_HALFLIFE_HOURS = 1.0
MIN_EXPOSURE_HOURS = 1.0  # a rate over less time than this is read over this long


@dataclass
class Rate:
    """Events per second in event time, forgetting with `halflife` seconds; small and picklable."""

    halflife: float
    count: float = 0.0
    exposure: float = 0.0  # decayed seconds watched
    at: float | None = None  # event time the sums are decayed to

    def observe(self, at: float, n: float = 1.0) -> None:
        """Count `n` events at event time `at` (a late event counts with its decayed weight)."""
        if self.at is None:
            self.at = at
        if at >= self.at:
            self.advance(at)
            self.count += n
        else:
            self.count += n * 0.5 ** ((self.at - at) / self.halflife)

    def advance(self, at: float) -> None:
        """Watch until `at` without events."""
        if self.at is None:
            self.at = at
            return
        if at <= self.at:
            return
        decay = 0.5 ** ((at - self.at) / self.halflife)
        self.count *= decay
        self.exposure = self.exposure * decay + self.halflife / math.log(2) * (1 - decay)
        self.at = at

    def per_hour(self) -> float:
        return 3600 * self.count / max(self.exposure, 3600 * MIN_EXPOSURE_HOURS)

    @property
    def watched_hours(self) -> float:
        return self.exposure / 3600


@dataclass
class AppVolume:
    """Per app: the rate of kept reviews that can form an issue, and the newest version seen."""

    rate: Rate = dataclasses.field(default_factory=lambda: Rate(APP_HALFLIFE_HOURS * 3600))
    now: Rate = dataclasses.field(default_factory=lambda: Rate(APP_NOW_HALFLIFE_HOURS * 3600))  # the last hour or so
    latest_version: str = ""
    tally: Tally = dataclasses.field(default_factory=Tally)  # the baseline of its issues' priority


def version_key(version: str) -> tuple:
    """Order app versions numerically where they are numbers ("4.10.2" after "4.9.7")."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-_ ]", version.strip()) if p)


def newer(a: str, b: str) -> bool:
    """Is version `a` newer than `b` (an empty `b` is older than anything)?"""
    return bool(a) and (not b or version_key(a) > version_key(b))


def volume_step(state: AppVolume | None, item: EnrichedReview | Rejected,
                names: Callable[[str], tuple[str, ...]] = lambda app_id: ()) -> tuple[AppVolume, EnrichedReview | Rejected]:
    """Count a kept review that can form an issue (`forms_issue`, with the app's own `names`, as the issue step
    judges it) in its app's rate, and stamp every kept review with
    `app_rate` (24 h half-life), `app_rate_now` (1 h), `app_latest_version` and the app's baseline for issue
    priority (`app_issue_reviews`, `app_rating`, `app_negative`); rejected records pass unchanged."""
    state = state or AppVolume()
    if isinstance(item, Rejected):
        return state, item
    at = item.review.created_at.timestamp()
    counted = forms_issue(item, names(item.review.app_id))
    for rate in (state.rate, state.now):
        if not counted:
            rate.advance(at)
        else:
            rate.observe(at)
    tally = getattr(state, "tally", None)
    if tally is None:  # state from a snapshot taken before apps kept a tally
        tally = state.tally = Tally()
    add_review(tally, item, forms_issue=counted)
    rating = tally.mean_rating
    version = item.review.app_version or ""
    if newer(version, state.latest_version):
        state.latest_version = version
    return state, dataclasses.replace(item, app_rate=round(state.rate.per_hour(), 4),
                                      app_rate_now=round(state.now.per_hour(), 4),
                                      app_latest_version=state.latest_version,
                                      app_issue_reviews=round(tally.reviews, 3),
                                      app_rating=None if rating is None else round(rating, 3),
                                      app_negative=round(tally.negative, 3))
