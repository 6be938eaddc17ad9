"""Tickets from clusters: event-time window statistics, the ticket decision, and the ticket registry.

The flow folds every clustered review into a tumbling event-time window per cluster
(`WindowStats`, built by `fold_review`), and when a window closes hands it to the
registry (`registry_step`, a stateful map keyed by cluster id). Guarantees:

- one stable `ticket_id` per cluster (cluster ids are stable, see `cluster.py`): later
  windows of the same issue update that ticket (`version` + 1) instead of opening a new one;
- a window raises a ticket when it has at least `min_reviews` reviews and its priority
  (the cluster's peak priority in the window) is at least `min_priority`, both from the
  app's `"tickets"` metadata or the settings; an open ticket is updated by every later
  window that passes the thresholds, and by one that changes its severity (cooling down);
- Bytewax calls a review *late* once it is behind the cluster's watermark, even when its own
  window is still open (reviews from a queue arrive out of order). Such a review is held and
  added to its window when that window closes, so it counts where it belongs; a window all of
  whose reviews came late (Bytewax never opens it) is decided, in order, when a later window of
  the cluster closes. Only a review whose window the registry has already decided is counted
  on the cluster's next ticket version (`late_count`, `total_count`). Nothing is dropped silently;
- everything here is pure and the state is small and picklable (Bytewax snapshots it).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from flows.records import EnrichedReview

ALIGN_TO = datetime(2000, 1, 1, tzinfo=timezone.utc)
SAMPLES = 5
SEVERITIES = ("low", "medium", "high", "blocker")


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
    rating_sum: int = 0
    rated: int = 0
    priority_sum: float = 0.0
    peak_priority: float = 0.0
    peak_growth: float = 1.0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    versions: Counter = field(default_factory=Counter)
    langs: Counter = field(default_factory=Counter)
    types: Counter = field(default_factory=Counter)
    merged: frozenset[str] = frozenset()  # issue ids merged into this one, as its reviews said
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
    if r.rating:
        stats.rating_sum += r.rating
        stats.rated += 1
    stats.priority_sum += item.priority
    stats.peak_priority = max(stats.peak_priority, item.cluster_priority)
    stats.peak_growth = max(stats.peak_growth, item.cluster_growth)
    stats.first_seen = at if stats.first_seen is None else min(stats.first_seen, at)
    stats.last_seen = at if stats.last_seen is None else max(stats.last_seen, at)
    if r.app_version:
        stats.versions[r.app_version] += 1
    stats.langs[item.lang] += 1
    stats.types[item.review_type] += 1
    if item.issue_merged:
        stats.merged = stats.merged | frozenset(item.issue_merged)
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
        count=a.count + b.count, negative=a.negative + b.negative,
        rating_sum=a.rating_sum + b.rating_sum, rated=a.rated + b.rated,
        priority_sum=a.priority_sum + b.priority_sum,
        peak_priority=max(a.peak_priority, b.peak_priority), peak_growth=max(a.peak_growth, b.peak_growth),
        first_seen=min(a.first_seen, b.first_seen), last_seen=max(a.last_seen, b.last_seen),  # type: ignore[type-var]
        versions=a.versions + b.versions, langs=a.langs + b.langs, types=a.types + b.types, merged=a.merged | b.merged,
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
    """When a window is worth a ticket."""

    min_reviews: int
    min_priority: float
    by_count: bool = False  # severity from the count alone (competitor features: no urgency score)


@dataclass(frozen=True)
class TicketConfig:
    """Everything the registry needs besides its state."""

    window: timedelta
    thresholds: Callable[[str, str], Thresholds]  # (app_id, primary label) -> thresholds; follows reloaded metadata
    app_names: Callable[[str], str] = lambda app_id: app_id
    devrev_part: str = ""
    devrev_owner: str = ""
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


@dataclass
class TicketState:
    """Per cluster: the last ticket published (if any), the last window decided, reviews that came after
    their window was decided, and late reviews held for windows not decided yet."""

    ticket: dict[str, Any] | None = None
    last_window: tuple[int, int] | None = None  # (window id, review count)
    late: int = 0
    held: dict[int, WindowStats] = field(default_factory=dict)  # window id -> late reviews of that window


@dataclass(frozen=True)
class WindowClosed:
    window_id: int
    stats: WindowStats


@dataclass(frozen=True)
class LateReview:
    window_id: int
    review: EnrichedReview


def ticket_id(cluster_id: str) -> str:
    """Stable id of the ticket for a cluster."""
    return "tkt-" + hashlib.sha256(cluster_id.encode("utf-8")).hexdigest()[:16]


def severity(stats: WindowStats, limits: Thresholds, passes: bool) -> str:
    """blocker / high / medium when the window passes the thresholds, else low (cooling down);
    groups judged `by_count` are high at 3x their minimum, else medium."""
    if not passes:
        return "low"
    if limits.by_count:
        return "high" if stats.count >= 3 * limits.min_reviews else "medium"
    if stats.peak_priority >= 0.85 or (stats.count >= 5 * limits.min_reviews and stats.peak_growth >= 3):
        return "blocker"
    if stats.peak_priority >= 0.75 or stats.count >= 3 * limits.min_reviews:
        return "high"
    return "medium"


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
    """Apply a closed window or a late review to the cluster's ticket; return the ticket versions to publish."""
    state = state or TicketState()
    if isinstance(event, LateReview):
        if state.last_window is not None and event.window_id <= state.last_window[0]:
            state.late += 1  # its window was decided: `late_count` / `total_count` of the next ticket version
        else:
            state.held[event.window_id] = fold_review(state.held.get(event.window_id) or WindowStats(), event.review)
        return state, []

    published: list[dict[str, Any]] = []
    for wid in sorted(w for w in state.held if w < event.window_id):  # windows Bytewax never opened
        state, docs = _decide(state, wid, state.held.pop(wid), cfg)
        published += docs
    held = state.held.pop(event.window_id, None)
    stats = merge_stats(event.stats, held) if held is not None else event.stats
    state, docs = _decide(state, event.window_id, stats, cfg)
    return state, published + docs


def _decide(state: TicketState, wid: int, stats: WindowStats, cfg: TicketConfig) -> tuple[TicketState, list[dict[str, Any]]]:
    """The ticket decision for one closed window of the cluster."""
    previous = state.last_window[1] if state.last_window and state.last_window[0] == wid - 1 else None
    state.last_window = (wid, stats.count)
    limits = cfg.thresholds(stats.app_id, stats.primary_label)
    passes = stats.count >= limits.min_reviews and stats.peak_priority >= limits.min_priority
    level = severity(stats, limits, passes)
    if state.ticket is None and not passes:
        return state, []
    if state.ticket is not None and not passes and level == state.ticket["severity"]:
        return state, []
    state.ticket = build_ticket(state.ticket, stats, wid, previous, level, state.late, cfg)
    return state, [state.ticket]


def build_ticket(old: dict[str, Any] | None, stats: WindowStats, wid: int, previous: int | None, level: str,
                 late: int, cfg: TicketConfig) -> dict[str, Any]:
    """The next version of a cluster's ticket document."""
    start = ALIGN_TO + wid * cfg.window
    end = start + cfg.window
    trend_text, ratio = trend(stats.count, previous, cfg.window)
    now = cfg.now().isoformat()
    peak = old is None or stats.count > old["peak_count"]
    peak_severity = max(level, old["peak_severity"] if old else level, key=SEVERITIES.index)
    versions = [v for v, _ in stats.versions.most_common(5)]
    app_name = cfg.app_names(stats.app_id)
    label = stats.primary_label.replace("_", " ")
    # An issue is named by its key phrase; a competitor-feature group by its "org — feature" keyword.
    by_phrase = stats.cluster_name and not cfg.thresholds(stats.app_id, stats.primary_label).by_count
    topic = stats.cluster_name if by_phrase else (", ".join(stats.keywords[:3]) or label)
    ticket = {
        "id": ticket_id(stats.cluster_id),
        "app_id": stats.app_id,
        "primary_label": stats.primary_label,
        "cluster_id": stats.cluster_id,
        "cluster_name": stats.cluster_name,
        # Issues merged into this one: their earlier tickets describe the same problem.
        "merged_from": sorted(set(old.get("merged_from", ()) if old else ()) | stats.merged),
        "status": "open",
        "version": (old["version"] + 1) if old else 1,
        "created_at": old["created_at"] if old else now,
        "updated_at": now,
        "title": f"[{app_name}] {label.capitalize()}: {topic}",
        "severity": level,
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
        "count": stats.count,
        "window_total": (old["window_total"] if old else 0) + stats.count,
        "total_count": (old["window_total"] if old else 0) + stats.count + late,
        "negative_share": round(stats.negative / stats.count, 3),
        "avg_rating": stats.avg_rating,
        "trend": trend_text,
        "trend_ratio": ratio,
        "priority": round(stats.peak_priority, 4),
        "growth": round(stats.peak_growth, 2),
        "app_versions": versions,
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
        "tags": sorted({f"label:{stats.primary_label}", f"severity:{level}", "source:sift",
                        *(f"version:{v}" for v in versions[:3])}),
    }
    ticket["body"] = ticket_body(ticket, stats, cfg)
    ticket["devrev"] = _devrev(ticket, cfg)
    return ticket


def ticket_body(ticket: dict[str, Any], stats: WindowStats, cfg: TicketConfig) -> str:
    """Markdown a person reads on DevRev: numbers, trend, versions and example reviews."""
    rating = f"{stats.avg_rating:.1f}★" if stats.avg_rating is not None else "no ratings"
    lines = [
        f"**{ticket['count']} reviews** about *{ticket['cluster_name'] or ticket['primary_label']}* "
        f"between {ticket['window_start'][:16]} and {ticket['window_end'][:16]} UTC "
        f"({ticket['trend']}); {ticket['total_count']} since {ticket['first_seen'][:10]}.",
        "",
        f"- Severity: **{ticket['severity']}** (peak {ticket['peak_severity']}) · priority {ticket['priority']:.2f} · "
        f"growth ×{ticket['growth']:.1f}",
        f"- Peak: {ticket['peak_count']} reviews in the window from {ticket['peak_window_start'][:16]} UTC",
        f"- Negative: {ticket['negative_share']:.0%} · average rating {rating}",
        f"- App versions: {', '.join(ticket['app_versions']) or 'not reported'}",
        f"- Label: `{ticket['primary_label']}` · cluster `{ticket['cluster_id']}` · keywords: "
        f"{', '.join(stats.keywords) or '-'}",
    ]
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
