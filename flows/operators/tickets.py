"""Tickets from issues: event-time window statistics at several scales, a significance test, and the registry.

The flow folds every review that has an issue into tumbling event-time windows per issue at each
scale (hour, day, week, month of 28 days; `WindowStats`, built by `fold_review`) and, when a window
closes, hands it to the registry (`registry_step`, a stateful map keyed by the issue id). Guarantees:

- one stable `ticket_id` per issue (issue ids are stable, see `issues.py`) across every scale: later
  windows update that ticket (`version` + 1) instead of opening a new one;
- a window *passes* when its count is at least `min_reviews` and unlikely under a Poisson law with
  the expected count `max(issue baseline, app prior)` (`significance`): the issue's own baseline is
  its decayed rate over the hourly windows before this one (hour and day scales only: a spike); the
  app prior is the app's rate of kept reviews times the window times `prior_share` (`prior_share_week`
  at the week and month scales, where it is the only one, so an issue that keeps a notable share of
  the app's week, or of a sparse app's month, passes: a recurring issue). A window most of whose
  reviews are positive and ask for nothing (`contented`: happy users, or a paid-review campaign)
  never passes. `alpha` per scale and the other limits come from the app's
  `"tickets"` metadata or the settings;
- lifecycle: a passing window opens the ticket (`status` open) or updates it; when no scale passes
  any more the ticket is `cooling` (severity low); once `resolve_days` of event time pass without a
  passing window it is `resolved`, and if the issue passes again it is `reopened` as a regression,
  with the app versions before and after. Severity comes from the issue's priority
  (`issue_priority`, docs/priority.md): high at `HIGH_AT` or more, medium at `MEDIUM_AT`, else low,
  one step higher (up to blocker) for an hourly spike far beyond expectation; a ticket takes the
  highest of its passing scales'. Every version says why in one line (`priority_reason`);
- Bytewax calls a review *late* once it is behind the issue's watermark, even when its own
  window is still open (reviews from a queue arrive out of order). Such a review is held and
  added to its window when that window closes, so it counts where it belongs; a window all of
  whose reviews came late (Bytewax never opens it) is decided, in order, when a later window of
  the issue closes. Only a review whose hourly window the registry has already decided is counted
  on the issue's next ticket version (`late_count`, `total_count`). Nothing is dropped silently;
- everything here is pure and the state is small and picklable (Bytewax snapshots it).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from scipy.special import gammainc

from flows.operators.issue_priority import level_of
from flows.operators.volume import Rate, newer, version_key
from core.records import EnrichedReview

ALIGN_TO = datetime(2000, 1, 1, tzinfo=timezone.utc)
SAMPLES = 5
SEVERITIES = ("low", "medium", "high", "blocker")
HOUR, DAY, WEEK, MONTH = "hour", "day", "week", "month"
SCALE_ORDER = (HOUR, DAY, WEEK, MONTH)
RECURRING = (WEEK, MONTH)  # scales at which an issue is judged as a recurring one, against the app prior alone
BASELINE_HALFLIFE_DAYS = 7.0
BASELINE_MIN_HOURS = 3.0  # an issue watched for less than this has no baseline of its own yet


@dataclass(frozen=True)
class Sample:
    """A review kept as an example in a ticket."""

    review_id: str
    text: str
    text_en: str
    lang: str
    translation: str
    rating: int | None
    score: float


@dataclass
class WindowStats:
    """What one cluster collected in one window; mergeable and small."""

    app_id: str = ""
    primary_label: str = ""
    cluster_id: str = ""
    cluster_name: str = ""
    keywords: tuple[str, ...] = ()
    count: int = 0
    negative: int = 0
    positive: int = 0
    rating_sum: int = 0
    rated: int = 0
    priority_sum: float = 0.0
    peak_priority: float = 0.0
    peak_growth: float = 1.0
    issue_priority: float = 0.0  # the issue's priority as of the window's latest review
    priority_reason: str = ""  # ... and the facts behind it
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    versions: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    merged: frozenset[str] = frozenset()  # issue ids merged into this one, as its reviews said
    app_rate: float = 0.0  # the app's reviews per hour that can form an issue, as of the window's latest review
    app_rate_now: float = 0.0  # the highest of the app's last-hour rates seen in the window (a burst of the app)
    app_latest_version: str = ""
    samples: list[Sample] = field(default_factory=list)

    @property
    def avg_rating(self) -> float | None:
        return round(self.rating_sum / self.rated, 2) if self.rated else None


def review_time(item: EnrichedReview) -> datetime:
    """The event time windows use: when the review was written, in `timezone.utc` (Bytewax requires that
    exact tzinfo, not just a zero offset)."""
    at = item.review.created_at
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def fold_review(stats: WindowStats, item: EnrichedReview) -> WindowStats:
    """Add one clustered review to its window."""
    r = item.review
    at = review_time(item)
    stats.app_id, stats.primary_label, stats.cluster_id = r.app_id, item.primary_label, item.cluster_id or ""
    stats.cluster_name, stats.keywords = item.cluster_name, item.cluster_keywords
    stats.count += 1
    stats.negative += item.sentiment == "negative"
    stats.positive += item.sentiment == "positive"
    if r.rating:
        stats.rating_sum += r.rating
        stats.rated += 1
    stats.priority_sum += item.priority
    stats.peak_priority = max(stats.peak_priority, item.cluster_priority)
    stats.peak_growth = max(stats.peak_growth, item.cluster_growth)
    if stats.last_seen is None or at >= stats.last_seen:
        stats.issue_priority, stats.priority_reason = item.cluster_priority, item.cluster_priority_reason
    stats.first_seen = at if stats.first_seen is None else min(stats.first_seen, at)
    stats.last_seen = at if stats.last_seen is None else max(stats.last_seen, at)
    if r.app_version:
        stats.versions[r.app_version] += 1
    stats.langs[item.lang] += 1
    stats.types[item.review_type] += 1
    if item.issue_merged:
        stats.merged = stats.merged | frozenset(item.issue_merged)
    if at >= (stats.last_seen or at):
        stats.app_rate = item.app_rate
    stats.app_rate_now = max(stats.app_rate_now, item.app_rate_now)
    if newer(item.app_latest_version, stats.app_latest_version):
        stats.app_latest_version = item.app_latest_version
    sample = Sample(r.id, r.text[:500], item.text_en[:500], item.lang, item.translation, r.rating,
                    round(item.priority + item.informativeness, 4))
    stats.samples = _best_samples([*stats.samples, sample])
    return stats


def merge_stats(a: WindowStats, b: WindowStats) -> WindowStats:
    """Combine two partial windows (Bytewax merges only for session windows; kept exact anyway)."""
    if not a.count:
        return b
    if not b.count:
        return a
    latest = b if (b.last_seen or ALIGN_TO) >= (a.last_seen or ALIGN_TO) else a
    return WindowStats(
        app_id=latest.app_id, primary_label=latest.primary_label, cluster_id=latest.cluster_id,
        cluster_name=latest.cluster_name, keywords=latest.keywords,
        count=a.count + b.count, negative=a.negative + b.negative, positive=a.positive + b.positive,
        rating_sum=a.rating_sum + b.rating_sum, rated=a.rated + b.rated,
        priority_sum=a.priority_sum + b.priority_sum,
        peak_priority=max(a.peak_priority, b.peak_priority), peak_growth=max(a.peak_growth, b.peak_growth),
        issue_priority=latest.issue_priority, priority_reason=latest.priority_reason,
        first_seen=min(a.first_seen, b.first_seen), last_seen=max(a.last_seen, b.last_seen),  # type: ignore[type-var]
        versions=a.versions + b.versions, langs=a.langs + b.langs, types=a.types + b.types, merged=a.merged | b.merged,
        app_rate=latest.app_rate, app_rate_now=max(a.app_rate_now, b.app_rate_now),
        app_latest_version=max(a.app_latest_version, b.app_latest_version, key=lambda v: (bool(v), version_key(v))),
        samples=_best_samples([*a.samples, *b.samples]),
    )


def _best_samples(samples: list[Sample]) -> list[Sample]:
    """The highest-scoring distinct texts, at most `SAMPLES`."""
    seen: set[str] = set()
    out = []
    for s in sorted(samples, key=lambda s: (-s.score, s.review_id)):
        key = s.text_en.lower().strip()
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out[:SAMPLES]


@dataclass(frozen=True)
class Thresholds:
    """When a window is worth a ticket (per app; see the module docstring for the rule)."""

    min_reviews: int
    by_count: bool = False  # competitor features: the count alone decides, severity from the count
    alpha: tuple[tuple[str, float], ...] = ((HOUR, 1e-6), (DAY, 1e-4), (WEEK, 0.01), (MONTH, 0.01))
    prior_share: float = 0.02  # the share of the app's kept reviews a typical issue gets
    prior_share_week: float = 0.005  # the same at the week and month scales, where an issue is judged as a recurring one
    resolve_days: float = 3.0

    def alpha_for(self, scale: str) -> float:
        return dict(self.alpha).get(scale, 1e-6)


@dataclass(frozen=True)
class TicketConfig:
    """Everything the registry needs besides its state."""

    scales: tuple[tuple[str, timedelta], ...]  # (name, window length), shortest first
    thresholds: Callable[[str, str], Thresholds]  # (app_id, primary label) -> thresholds; follows reloaded metadata
    app_names: Callable[[str], str] = lambda app_id: app_id
    devrev_part: str = ""
    devrev_owner: str = ""
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)

    def length(self, scale: str) -> timedelta:
        return dict(self.scales)[scale]

    @property
    def finest(self) -> str:
        return self.scales[0][0]


@dataclass
class ScaleState:
    """One scale of one issue: the last window decided, late reviews held for open windows, and whether
    its last decided window passed (with the severity it gave)."""

    last_window: tuple[int, int] | None = None  # (window id, review count)
    held: dict[int, WindowStats] = field(default_factory=dict)  # window id -> late reviews of that window
    passing: str = ""  # the severity of its last passing window, "" when that window did not pass


@dataclass
class TicketState:
    """Per issue: the last ticket published, each scale's windows, the issue's own hourly baseline and
    its lifecycle (`status`)."""

    ticket: dict[str, Any] | None = None
    scales: dict[str, ScaleState] = field(default_factory=dict)
    late: int = 0
    baseline: Rate = field(default_factory=lambda: Rate(BASELINE_HALFLIFE_DAYS * 86400))
    last_pass_end: float | None = None  # event time (epoch s) the last passing window ended
    versions: Counter = field(default_factory=Counter)  # the issue's reviews per app version, over its life
    reviews: int = 0  # the issue's reviews in decided finest-scale windows, over its life
    status: str = ""  # "" | open | cooling | resolved | reopened
    regression: dict[str, Any] | None = None


@dataclass(frozen=True)
class WindowClosed:
    window_id: int
    stats: WindowStats
    scale: str = HOUR


@dataclass(frozen=True)
class LateReview:
    window_id: int
    review: EnrichedReview
    scale: str = HOUR


def ticket_id(cluster_id: str) -> str:
    """Stable id of the ticket for a cluster."""
    return "tkt-" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()[:16]


def significance(count: int, expected: float) -> float:
    """P(X >= count) for X ~ Poisson(expected): how surprising the window's count is."""
    if count <= 0:
        return 1.0
    return float(gammainc(count, max(expected, 1e-9)))


def contented(stats: WindowStats) -> bool:
    """Most of the window's reviews are positive and most ask for nothing: happy users (or a paid-review
    campaign stitching a complaint into praise), not a problem to fix. Such a window never passes; an issue of
    requests from happy users ("great app, please add dark mode") still does."""
    return 2 * stats.positive > stats.count and 2 * stats.types.get("feature_request", 0) < stats.count


def expected_count(stats: WindowStats, scale: str, length: timedelta, state: TicketState, limits: Thresholds) -> float:
    """What the window would hold with nothing happening to this issue.

    The app's volume in the window is its last-hour rate at the hour scale (so an app-wide burst
    raises every issue's expectation alike) and its day rate otherwise. Expected is the largest of:
    the issue's own rate, the issue's usual share of the app times the app's volume (hour and day
    scales, once the issue has a baseline), and `prior_share` of the app's volume (every scale; the
    only one at the week and month scales, where it is `prior_share_week`: a recurring issue needs a smaller
    share of a week than a spike needs of an hour or a day, so a quiet app's week-long issue of five reports
    passes, and a sparse app's month-long one)."""
    hours = length.total_seconds() / 3600
    volume = max(stats.app_rate_now, stats.app_rate) if scale == HOUR else stats.app_rate
    expected = volume * (limits.prior_share_week if scale in RECURRING else limits.prior_share)
    if scale not in RECURRING and state.baseline.watched_hours >= BASELINE_MIN_HOURS:
        own = state.baseline.per_hour()
        share = min(own / stats.app_rate, 1.0) if stats.app_rate > 0 else 0.0
        expected = max(expected, own, share * volume)
    return expected * hours


def severity(stats: WindowStats, limits: Thresholds, scale: str, p_value: float) -> str:
    """The severity a passing window gives: counts alone for `by_count` groups (high at 3x the minimum);
    else the issue priority's level (`issue_priority.level_of`: high, medium or low), one step higher for
    an hourly spike (3x the minimum and p <= 1e-12): a high-priority issue spiking is a blocker."""
    if limits.by_count:
        return "high" if stats.count >= 3 * limits.min_reviews else "medium"
    level = level_of(stats.issue_priority)
    if scale == HOUR and stats.count >= 3 * limits.min_reviews and p_value <= 1e-12:
        return SEVERITIES[SEVERITIES.index(level) + 1]
    return level


def trend(count: int, previous: int | None, window: timedelta) -> tuple[str, float | None]:
    """Human trend text against the previous window and the ratio (None when there was none)."""
    span = _span(window)
    if not previous:
        return f"new: none the previous {span}", None
    ratio = count / previous
    return f"×{ratio:.1f} vs previous {span} ({previous} → {count})", round(ratio, 2)


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 1440 == 0:
        return "day" if minutes == 1440 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return "hour" if minutes == 60 else f"{minutes // 60} hours"
    return f"{minutes} minutes"


def registry_step(
    state: TicketState | None, event: WindowClosed | LateReview, cfg: TicketConfig
) -> tuple[TicketState, list[dict[str, Any]]]:
    """Apply a closed window or a late review to the issue's ticket; return the ticket versions to publish."""
    state = state or TicketState()
    scale = state.scales.setdefault(event.scale, ScaleState())
    if isinstance(event, LateReview):
        if scale.last_window is not None and event.window_id <= scale.last_window[0]:
            if event.scale == cfg.finest:
                state.late += 1  # its window was decided: `late_count` / `total_count` of the next ticket version
        else:
            scale.held[event.window_id] = fold_review(scale.held.get(event.window_id) or WindowStats(), event.review)
        return state, []

    published: list[dict[str, Any]] = []
    for wid in sorted(w for w in scale.held if w < event.window_id):  # windows Bytewax never opened
        state, docs = _decide(state, event.scale, wid, scale.held.pop(wid), cfg)
        published += docs
    held = scale.held.pop(event.window_id, None)
    stats = merge_stats(event.stats, held) if held is not None else event.stats
    state, docs = _decide(state, event.scale, event.window_id, stats, cfg)
    return state, published + docs


def _decide(state: TicketState, name: str, wid: int, stats: WindowStats,
            cfg: TicketConfig) -> tuple[TicketState, list[dict[str, Any]]]:
    """The ticket decision for one closed window of the issue at one scale."""
    scale = state.scales.setdefault(name, ScaleState())
    length = cfg.length(name)
    start = ALIGN_TO + wid * length
    end = start + length
    previous = scale.last_window[1] if scale.last_window and scale.last_window[0] == wid - 1 else None
    scale.last_window = (wid, stats.count)
    limits = cfg.thresholds(stats.app_id, stats.primary_label)
    published: list[dict[str, Any]] = []

    if (state.ticket is not None and state.status in ("open", "cooling", "reopened") and state.last_pass_end is not None
            and start.timestamp() - state.last_pass_end >= limits.resolve_days * 86400):
        resolved_at = datetime.fromtimestamp(state.last_pass_end + limits.resolve_days * 86400, timezone.utc)
        state.status = "resolved"
        state.regression = {"resolved_at": resolved_at.isoformat(), "versions_before": _top_versions(state.versions)}
        for s in state.scales.values():
            s.passing = ""
        state.ticket = build_ticket(state, stats, name, wid, previous, "low", None, cfg)
        published.append(state.ticket)

    if name == cfg.finest:
        state.reviews += stats.count
        state.versions.update(stats.versions)
        if len(state.versions) > 40:
            state.versions = Counter(dict(state.versions.most_common(20)))

    if limits.by_count:
        expected, p_value = None, None
        passes = stats.count >= limits.min_reviews
    else:
        expected = expected_count(stats, name, length, state, limits)
        p_value = significance(stats.count, expected)
        passes = stats.count >= limits.min_reviews and p_value <= limits.alpha_for(name) and not contented(stats)
    if name == cfg.finest:  # the baseline learns after the test, so a spike is judged against the time before it
        state.baseline.observe(end.timestamp(), stats.count)

    if passes and state.status == "resolved" and state.regression and start.isoformat() < state.regression["resolved_at"]:
        return state, published  # a long window that began before the resolution: old evidence, not a regression
    if passes:
        scale.passing = severity(stats, limits, name, p_value if p_value is not None else 1.0)
        state.last_pass_end = max(state.last_pass_end or 0.0, end.timestamp())
        if state.status == "resolved":
            state.status = "reopened"
            state.regression = {**(state.regression or {}), "versions_after": [v for v, _ in stats.versions.most_common(5)]}
        elif state.status != "reopened":
            state.status = "open"
        level = max((s.passing for s in state.scales.values() if s.passing), key=SEVERITIES.index)
        state.ticket = build_ticket(state, stats, name, wid, previous, level, (expected, p_value), cfg)
        return state, published + [state.ticket]
    if scale.passing:
        scale.passing = ""
        if state.ticket is not None and state.status in ("open", "reopened"):
            levels = [s.passing for s in state.scales.values() if s.passing]
            if not levels:
                state.status = "cooling"
            level = max(levels, key=SEVERITIES.index) if levels else "low"
            if level != state.ticket["severity"] or state.status == "cooling":
                state.ticket = build_ticket(state, stats, name, wid, previous, level, (expected, p_value), cfg)
                return state, published + [state.ticket]
    return state, published


def _top_versions(versions: Counter, n: int = 5) -> list[str]:
    return [v for v, _ in versions.most_common(n)]


def not_seen_since(state: TicketState, stats: WindowStats) -> str | None:
    """The issue's newest app version, when the app has shipped a newer one since (a fix to verify)."""
    if not state.versions:
        return None
    newest = max(state.versions, key=version_key)
    return newest if newer(stats.app_latest_version, newest) else None


def build_ticket(state: TicketState, stats: WindowStats, scale: str, wid: int, previous: int | None, level: str,
                 test: tuple[float | None, float | None] | None, cfg: TicketConfig) -> dict[str, Any]:
    """The next version of an issue's ticket document, from the window that changed it."""
    old = state.ticket
    late = state.late
    length = cfg.length(scale)
    start = ALIGN_TO + wid * length
    end = start + length
    trend_text, ratio = trend(stats.count, previous, length)
    now = cfg.now().isoformat()
    peak = old is None or stats.count > old["peak_count"]
    peak_severity = max(level, old["peak_severity"] if old else level, key=SEVERITIES.index)
    versions = [v for v, _ in stats.versions.most_common(5)]
    app_name = cfg.app_names(stats.app_id)
    label = stats.primary_label.replace("_", " ")
    # An issue is named by its key phrase; a competitor-feature group by its "org — feature" keyword.
    by_phrase = stats.cluster_name and not cfg.thresholds(stats.app_id, stats.primary_label).by_count
    topic = stats.cluster_name if by_phrase else (", ".join(stats.keywords[:3]) or label)
    scales = dict(old.get("scales", {})) if old else {}
    opening = old is None or (state.status == "reopened" and old["status"] == "resolved")
    if test is not None:
        expected, p_value = test
        scales[scale] = {"window_start": start.isoformat(), "count": stats.count,
                         "expected": None if expected is None else round(expected, 3),
                         "p_value": None if p_value is None else float(f"{p_value:.3g}"),
                         "passing": bool(state.scales[scale].passing)}
    ticket = {
        "id": ticket_id(stats.cluster_id),
        "app_id": stats.app_id,
        "primary_label": stats.primary_label,
        "cluster_id": stats.cluster_id,
        "cluster_name": stats.cluster_name,
        # Issues merged into this one: their earlier tickets describe the same problem.
        "merged_from": sorted(set(old.get("merged_from", ()) if old else ()) | stats.merged),
        "status": state.status or "open",
        "trigger_scale": scale,
        "scales": scales,
        # every scale at which a window of this issue has passed, over the ticket's life
        "raised_by": sorted(set(old.get("raised_by", ()) if old else ()) | ({scale} if state.scales[scale].passing else set()),
                            key=lambda x: SCALE_ORDER.index(x) if x in SCALE_ORDER else 9),
        "regression": state.regression if state.status in ("reopened", "resolved") else None,
        "not_seen_since": not_seen_since(state, stats),
        "version": (old["version"] + 1) if old else 1,
        # the window that opened (or reopened) the ticket, and its scale
        "opened_window": start.isoformat() if opening else old.get("opened_window"),  # type: ignore[union-attr]
        "opened_scale": scale if opening else old.get("opened_scale"),  # type: ignore[union-attr]
        "created_at": old["created_at"] if old else now,
        "updated_at": now,
        "title": f"[{app_name}] {label.capitalize()}: {topic}",
        "severity": level,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "count": stats.count,
        "window_total": state.reviews,
        "total_count": state.reviews + late,
        "negative_share": round(stats.negative / stats.count, 3) if stats.count else 0.0,
        "avg_rating": stats.avg_rating,
        "trend": trend_text,
        "trend_ratio": ratio,
        "priority": round(stats.issue_priority, 4),
        "growth": round(stats.peak_growth, 2),
        "app_versions": versions,
        "versions_all": _top_versions(state.versions, 10),
        "review_types": dict(stats.types.most_common()),
        "langs": dict(stats.langs.most_common()),
        "first_seen": old["first_seen"] if old else stats.first_seen.isoformat(),  # type: ignore[union-attr]
        "last_seen": stats.last_seen.isoformat(),  # type: ignore[union-attr]
        "windows": (old["windows"] if old else 0) + 1,
        "peak_count": stats.count if peak else old["peak_count"],  # type: ignore[index]
        "peak_window_start": start.isoformat() if peak else old["peak_window_start"],  # type: ignore[index]
        "peak_severity": peak_severity,
        "late_count": late,
        "representatives": [
            {"review_id": s.review_id, "text": s.text, "text_en": s.text_en, "lang": s.lang, "rating": s.rating}
            for s in stats.samples
        ],
        "tags": sorted({f"label:{stats.primary_label}", f"severity:{level}", "source:sift", f"scale:{scale}",
                        *(["regression"] if state.status == "reopened" else []),
                        *(f"version:{v}" for v in versions[:3])}),
    }
    ticket["priority_reason"] = priority_reason(level, stats, length, previous, ticket["status"])
    ticket["body"] = ticket_body(ticket, stats, cfg)
    ticket["devrev"] = _devrev(ticket, cfg)
    return ticket


def priority_reason(level: str, stats: WindowStats, window: timedelta, previous: int | None,
                    status: str = "open") -> str:
    """Why the ticket has its severity, in one line: "high: 34 reviews this week, ×3.0 vs the previous week;
    priority 0.91 from 120 reviews, 4% of the app's issue reviews, informativeness 0.80, 1.4★ against the
    app's 3.9★, 3 versions" (the issue's facts are over its recent past, `issue_priority.HORIZON_DAYS`); a
    cooling or resolved ticket says so ("low, cooling: ...")."""
    period = "week" if window == timedelta(days=7) else _span(window)
    state = f", {status}" if status in ("cooling", "resolved") else ""
    head = f"{level}{state}: {stats.count} review{'s' if stats.count != 1 else ''} " \
           f"{'in' if period[0].isdigit() else 'this'} {period}"
    head += f", ×{stats.count / previous:.1f} vs the previous {period}" if previous else f", none the previous {period}"
    facts = f"priority {stats.issue_priority:.2f}" + (f" from {stats.priority_reason}" if stats.priority_reason else "")
    return f"{head}; {facts}"


def ticket_body(ticket: dict[str, Any], stats: WindowStats, cfg: TicketConfig) -> str:
    """Markdown a person reads on DevRev: numbers, trend, versions and example reviews."""
    rating = f"{stats.avg_rating:.1f}★" if stats.avg_rating is not None else "no ratings"
    why = _why(ticket)
    lines = [
        f"**{ticket['count']} reviews** about *{ticket['cluster_name'] or ticket['primary_label']}* "
        f"between {ticket['window_start'][:16]} and {ticket['window_end'][:16]} UTC "
        f"({ticket['trend']}); {ticket['total_count']} since {ticket['first_seen'][:10]}.",
        "",
        f"- Status: **{ticket['status']}** · severity **{ticket['severity']}** (peak {ticket['peak_severity']})"
        f"{' · ' + why if why else ''}",
        f"- Why: {_quote(ticket['priority_reason'])}",
        f"- Peak: {ticket['peak_count']} reviews in the window from {ticket['peak_window_start'][:16]} UTC",
        f"- Negative: {ticket['negative_share']:.0%} · average rating {rating}",
        f"- App versions: {', '.join(ticket['app_versions']) or 'not reported'}"
        f"{' · not seen since ' + ticket['not_seen_since'] if ticket['not_seen_since'] else ''}",
        f"- Label: `{ticket['primary_label']}` · issue `{ticket['cluster_id']}` · keywords: "
        f"{', '.join(stats.keywords) or '-'}",
    ]
    if ticket["regression"]:
        r = ticket["regression"]
        lines.append(f"- Regression: resolved {r['resolved_at'][:10]} (versions {', '.join(r.get('versions_before', [])) or '-'})"
                     + (f", back in {', '.join(r['versions_after'])}" if r.get("versions_after") else ""))
    if ticket["late_count"]:
        lines.append(f"- Late reviews counted after their window closed: {ticket['late_count']}")
    lines += ["", "### Example reviews", ""]
    for s in ticket["representatives"]:
        stars = f" ({s['rating']}★)" if s["rating"] else ""
        if s["lang"] != "en" and s["text_en"] != s["text"]:
            lines.append(f"> {_quote(s['text_en'])}{stars}  \n> _original ({s['lang']}): {_quote(s['text'])}_")
        elif s["lang"] != "en":
            lines.append(f"> {_quote(s['text'])}{stars}  \n> _in {s['lang']}, not translated_")
        else:
            lines.append(f"> {_quote(s['text'])}{stars}")
        lines.append("")
    lines.append(f"_Raised by Sift from window-level aggregation; version {ticket['version']}._")
    return "\n".join(lines)


def _why(ticket: dict[str, Any]) -> str:
    """One line on the test that decided this version: "hour: 12 reviews where 0.8 were expected (p 2e-09)"."""
    test = ticket["scales"].get(ticket["trigger_scale"])
    if not test or test.get("expected") is None:
        return ""
    return (f"{ticket['trigger_scale']}: {test['count']} reviews where {test['expected']:.1f} were expected "
            f"(p {test['p_value']:.2g})")


def _quote(text: str) -> str:
    """One line of review text that cannot break out of its markdown quote."""
    return " ".join(text.split()).replace("<", "&lt;").replace(">", "&gt;")


def _devrev(ticket: dict[str, Any], cfg: TicketConfig) -> dict[str, Any]:
    """The payload for DevRev `works.create` (the snap-in resolves tag names to tag ids)."""
    payload: dict[str, Any] = {
        "type": "ticket",
        "title": ticket["title"],
        "body": ticket["body"],
        "severity": ticket["severity"],
        "tags": ticket["tags"],
    }
    if cfg.devrev_part:
        payload["applies_to_part"] = cfg.devrev_part
    if cfg.devrev_owner:
        payload["owned_by"] = [cfg.devrev_owner]
    return payload
