"""Data shaping for the dashboard: small pure functions over what the store returns.

Nothing here imports Streamlit, so every function is unit-tested on plain lists
and DataFrames. Time buckets are UTC and kept as naive timestamps, which the
charts show as they are. The few functions that take a `store` use only the
public `ReviewStore` methods, so they work on both backends.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Any

import pandas as pd

from flows.operators.competitors import feature_key

FREQ = {"day": "D", "hour": "h"}
STEP = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
SEVERITY_ORDER = ("blocker", "high", "medium", "low")
SENTIMENTS = ("negative", "neutral", "positive")
REVIEW_TYPES = ("bug_report", "feature_request", "user_experience", "rating")


# ── text ─────────────────────────────────────────────────────────────────────────────────────────

REVIEW_CHARS = 600  # a review shown on a card is cut here (the tables keep the whole text)
_PLAIN_TOKEN = re.compile(r"[A-Za-z0-9-]{1,64}")

# Every string that comes from the store (review text, titles, org names, cluster names, keywords,
# labels, versions, ids) is shown with `st.text`, in a table, a code block or a chart, never inside
# Markdown. Escaping is not enough: Streamlit turns a bare URL, `www.…` or an e-mail address into a
# link and `:material/…:` into an icon even when every Markdown character is backslash-escaped.
# Markdown elements (titles, captions, metric labels and values, page links) get fixed text, numbers
# formatted here, or the two helpers below.


def plain_token(value: Any) -> str | None:
    """`value` when it is only ASCII letters, digits and hyphens (a ticket id like `tkt-3f2a…`), which
    no Markdown, link or icon syntax can use; else None."""
    text = str(value) if value is not None else ""
    return text if _PLAIN_TOKEN.fullmatch(text) else None


def known(value: Any, vocabulary: Sequence[str]) -> str | None:
    """`value` when it is one of `vocabulary` (a severity, a sentiment), else None."""
    return value if isinstance(value, str) and value in vocabulary else None


def shorten(text: Any, limit: int = 160) -> str:
    """Text on one line (whitespace runs become one space), cut to `limit` characters with `…`."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# ── time series ──────────────────────────────────────────────────────────────────────────────────

def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 time as an aware UTC datetime (naive input is read as UTC); None stays None."""
    if not value:
        return None
    at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def series_frame(rows: Iterable[tuple[str, str, int]], interval: str = "day") -> pd.DataFrame:
    """`counts_over_time` rows as a frame `bucket, value, count` with every bucket from the first to
    the last present for every value (missing buckets count 0), so lines and windows are honest."""
    df = pd.DataFrame(list(rows), columns=["bucket", "value", "count"])
    if df.empty:
        return pd.DataFrame({"bucket": pd.Series(dtype="datetime64[ns]"), "value": pd.Series(dtype=str),
                             "count": pd.Series(dtype="int64")})
    df["bucket"] = pd.to_datetime(df["bucket"], utc=True).dt.tz_localize(None)
    df["value"] = df["value"].astype(str)
    buckets = pd.date_range(df["bucket"].min(), df["bucket"].max(), freq=FREQ[interval])
    full = pd.MultiIndex.from_product([buckets, sorted(df["value"].unique())], names=["bucket", "value"])
    out = df.groupby(["bucket", "value"])["count"].sum().reindex(full, fill_value=0).reset_index()
    out["count"] = out["count"].astype("int64")
    return out


@dataclass(frozen=True)
class Window:
    """The current window `[start, end)` and the previous one `[prev_start, start)`, in buckets."""

    start: pd.Timestamp
    end: pd.Timestamp
    prev_start: pd.Timestamp | None
    interval: str

    @property
    def label(self) -> str:
        fmt = "%d %b %H:00" if self.interval == "hour" else "%d %b"
        last = self.end - STEP[self.interval]
        return f"{self.start:{fmt}} – {last:{fmt}} UTC"


def window_of(df: pd.DataFrame, size: int | None, interval: str = "day") -> Window | None:
    """The last `size` buckets of the data (anchored at the newest review, not the wall clock, so a
    replayed stream reads the same) and the `size` buckets before them; `size=None`: all, no previous."""
    if df.empty:
        return None
    step = STEP[interval]
    end = df["bucket"].max() + step
    if size is None:
        return Window(start=df["bucket"].min(), end=end, prev_start=None, interval=interval)
    start = end - size * step
    return Window(start=start, end=end, prev_start=start - size * step, interval=interval)


def in_window(df: pd.DataFrame, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    if start is not None:
        mask &= df["bucket"] >= start
    if end is not None:
        mask &= df["bucket"] < end
    return df[mask]


def ratio(current: float, previous: float) -> float | None:
    """current / previous; None when there was nothing before (a new issue)."""
    return None if previous <= 0 else current / previous


def format_trend(current: float, previous: float) -> str:
    """`×4.0`, `×0.5`, `new`, or `–` (nothing in either window)."""
    if previous <= 0:
        return "new" if current > 0 else "–"
    return f"×{current / previous:.1f}"


def compare_windows(df: pd.DataFrame, window: Window | None) -> pd.DataFrame:
    """Per value: count in the current window, in the previous one, change and trend, biggest first."""
    cols = ["value", "current", "previous", "change", "trend"]
    if window is None or df.empty:
        return pd.DataFrame(columns=cols)
    cur = in_window(df, window.start, window.end).groupby("value")["count"].sum()
    prev = (in_window(df, window.prev_start, window.start).groupby("value")["count"].sum()
            if window.prev_start is not None else pd.Series(dtype="int64"))
    values = sorted(set(df["value"]))
    out = pd.DataFrame({"value": values})
    out["current"] = [int(cur.get(v, 0)) for v in values]
    out["previous"] = [int(prev.get(v, 0)) for v in values]
    out["change"] = out["current"] - out["previous"]
    out["trend"] = [format_trend(c, p) for c, p in zip(out["current"], out["previous"], strict=True)]
    return out.sort_values(["current", "value"], ascending=[False, True]).reset_index(drop=True)


@dataclass(frozen=True)
class SpikeRule:
    """A bucket is a spike when its count is at least `min_count`, at least `ratio` × the median of
    the `lookback` buckets before it, and above that median by `z` deviations: the larger of the
    robust spread (1.4826 × MAD), the Poisson noise √median, and 1. A bucket needs `min_history`
    earlier buckets to be judged."""

    lookback: int = 7
    ratio: float = 2.0
    z: float = 3.0
    min_count: int = 5
    min_history: int = 3

    @classmethod
    def for_interval(cls, interval: str) -> SpikeRule:
        """Days look back a week; hours look back a day, so the quiet night is not the baseline."""
        return cls(lookback=24, min_history=12, min_count=8) if interval == "hour" else cls()


def spikes(counts: Sequence[int], rule: SpikeRule = SpikeRule()) -> list[bool]:
    """Spike flags for one series of bucket counts (oldest first)."""
    flags = []
    for i, n in enumerate(counts):
        history = list(counts[max(0, i - rule.lookback):i])
        if len(history) < rule.min_history or n < rule.min_count:
            flags.append(False)
            continue
        base = median(history)
        spread = 1.4826 * median(abs(h - base) for h in history)
        flags.append(n >= rule.ratio * base and n > base + rule.z * max(spread, math.sqrt(base), 1.0))
    return flags


def flag_spikes(df: pd.DataFrame, rule: SpikeRule = SpikeRule()) -> pd.DataFrame:
    """`df` (from `series_frame`) with a boolean `spike` column, judged per value; sorted by bucket, value."""
    out = df.sort_values(["bucket", "value"]).reset_index(drop=True)
    if out.empty:
        return out.assign(spike=pd.Series(dtype=bool))
    wide = out.pivot(index="bucket", columns="value", values="count").fillna(0).astype(int)
    flags = {value: spikes(wide[value].tolist(), rule) for value in wide.columns}
    marked = {(b, v) for v, col in flags.items() for b, flag in zip(wide.index, col, strict=True) if flag}
    out["spike"] = [(b, v) in marked for b, v in zip(out["bucket"], out["value"], strict=True)]
    return out


def sparklines(df: pd.DataFrame, start: pd.Timestamp | None = None) -> dict[str, list[int]]:
    """Every value's counts from `start` on, oldest first (for sparkline columns), in one pass."""
    if df.empty:
        return {}
    part = df if start is None else df[df["bucket"] >= start]
    wide = part.pivot_table(index="bucket", columns="value", values="count", aggfunc="sum", fill_value=0)
    return {str(v): wide[v].astype(int).tolist() for v in wide.columns}


def sparkline_values(df: pd.DataFrame, value: str, start: pd.Timestamp | None = None) -> list[int]:
    """The counts of one value from `start` on, oldest first (for a sparkline column)."""
    part = df[df["value"] == value]
    if start is not None:
        part = part[part["bucket"] >= start]
    return part.sort_values("bucket")["count"].astype(int).tolist()


def shares(df: pd.DataFrame) -> pd.DataFrame:
    """Add `share`: each value's count as a fraction of its bucket's total."""
    out = df.copy()
    totals = out.groupby("bucket")["count"].transform("sum")
    out["share"] = (out["count"] / totals.where(totals > 0, 1)).astype(float)
    return out


# ── issues (clusters) ────────────────────────────────────────────────────────────────────────────

SAMPLE_HITS = 60  # full-text hits read per cluster sample


def cluster_query(cluster: dict[str, Any]) -> str:
    """Words that find a cluster's reviews with full-text search: its top keywords, else its name."""
    words = list(cluster.get("keywords") or [])[:4]
    return " ".join(words) if words else str(cluster.get("name") or "").replace("/", " ")


def cluster_sample(store: Any, cluster: dict[str, Any], app_id: str | None = None, k: int = SAMPLE_HITS) -> list[dict[str, Any]]:
    """Reviews of one cluster found by full-text search on its keywords (best matches first),
    plus its representative review when the search missed it. A sample, not every review:
    the store interface has no per-cluster listing."""
    query = cluster_query(cluster)
    hits = store.search_text(query, k=k, app_id=app_id) if query.strip() else []
    sample = [h for h in hits if h.get("cluster_id") == cluster["cluster_id"]]
    rep = cluster.get("representative")
    if rep and all(h.get("id") != rep for h in sample):
        doc = store.get(rep)
        if doc and doc.get("cluster_id") == cluster["cluster_id"]:
            sample.insert(0, doc)
    return sample


def profile(sample: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a cluster's sampled reviews say: mean priority, app versions and review types by count."""
    priorities = [float(d["priority"]) for d in sample if d.get("priority") is not None]
    versions = Counter(str(d["app_version"]) for d in sample if d.get("app_version"))
    types = Counter(str(d["review_type"]) for d in sample if d.get("review_type"))
    return {
        "sampled": len(sample),
        "priority": round(sum(priorities) / len(priorities), 3) if priorities else None,
        "versions": [v for v, _ in versions.most_common()],
        "version_counts": dict(versions.most_common()),
        "types": dict(types.most_common()),
    }


def format_versions(version_counts: dict[str, int], limit: int = 3) -> str:
    """`4.12.0 (80%) · 4.11.0 (20%)`; empty when unknown."""
    total = sum(version_counts.values())
    if not total:
        return ""
    items = sorted(version_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return " · ".join(f"{v} ({n / total:.0%})" for v, n in items)


def issue_score(priority: float | None, reviews: int) -> float:
    """Priority weighted by volume: `priority × log2(1 + reviews in window)`; 0 without a priority."""
    return 0.0 if priority is None else round(priority * math.log2(1 + max(reviews, 0)), 3)


RANKINGS = {
    "priority × volume": ["score", "current"],
    "priority": ["priority", "current"],
    "reviews in window": ["current", "score"],
    "growth": ["growth", "current"],
}


def issues_frame(clusters: Sequence[dict[str, Any]], series: pd.DataFrame, window: Window | None,
                 profiles: dict[str, dict[str, Any]], tickets: dict[str, dict[str, Any]],
                 rank_by: str = "priority × volume") -> pd.DataFrame:
    """One row per cluster: counts in the current and previous window, trend, a sparkline of the
    buckets since the previous window started, sampled priority and versions, ticket; ranked."""
    cols = ["rank", "cluster_id", "label", "name", "keywords", "current", "previous", "trend", "growth",
            "total", "avg_rating", "priority", "score", "versions", "sampled", "sparkline", "last_seen",
            "ticket_id", "ticket_severity", "representative"]
    if not clusters:
        return pd.DataFrame(columns=cols)
    cmp = compare_windows(series, window).set_index("value") if window is not None else pd.DataFrame()
    spark_from = window.prev_start if window is not None and window.prev_start is not None else (
        window.start if window is not None else None)
    lines = sparklines(series, spark_from)
    rows = []
    for c in clusters:
        cid = c["cluster_id"]
        cur = int(cmp["current"].get(cid, 0)) if not cmp.empty else int(c.get("count", 0))
        prev = int(cmp["previous"].get(cid, 0)) if not cmp.empty else 0
        prof = profiles.get(cid, {})
        ticket = tickets.get(cid) or {}
        versions = prof.get("version_counts") or {}
        if not versions and ticket.get("app_versions"):
            versions = {str(v): 1 for v in ticket["app_versions"]}
        priority = ticket.get("priority", prof.get("priority"))
        rows.append({
            "cluster_id": cid, "label": c.get("primary_label", ""), "name": c.get("name") or cid,
            "keywords": ", ".join(c.get("keywords") or []), "current": cur, "previous": prev,
            "trend": format_trend(cur, prev), "growth": ratio(cur, prev) if prev else (float(cur) if cur else 0.0),
            "total": int(c.get("count", 0)), "avg_rating": c.get("avg_rating"),
            "priority": None if priority is None else round(float(priority), 3),
            "score": issue_score(priority, cur), "versions": format_versions(versions),
            "sampled": int(prof.get("sampled", 0)),
            "sparkline": lines.get(cid, []),
            "last_seen": c.get("last_seen"), "ticket_id": ticket.get("id"), "ticket_severity": ticket.get("severity"),
            "representative": c.get("representative"),
        })
    df = pd.DataFrame(rows)
    keys = RANKINGS.get(rank_by, RANKINGS["priority × volume"])
    df = df.sort_values(keys + ["cluster_id"], ascending=[False] * len(keys) + [True], na_position="last")
    df = df.reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df[cols]


def tickets_by_cluster(tickets: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest ticket per cluster id (a cluster normally has one ticket, updated in place)."""
    out: dict[str, dict[str, Any]] = {}
    for t in tickets:
        cid = t.get("cluster_id")
        if cid and (cid not in out or str(t.get("updated_at", "")) > str(out[cid].get("updated_at", ""))):
            out[cid] = t
    return out


# ── search ───────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class SearchFilters:
    """Filters applied to search hits; empty tuples and None mean "any"."""

    labels: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    ratings: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None  # exclusive

    def accepts(self, doc: dict[str, Any]) -> bool:
        if self.labels and doc.get("primary_label") not in self.labels:
            return False
        if self.types and doc.get("review_type") not in self.types:
            return False
        if self.langs and doc.get("lang") not in self.langs:
            return False
        if self.ratings and doc.get("rating") not in self.ratings:
            return False
        if self.since or self.until:
            at = parse_time(doc.get("created_at"))
            if at is None or (self.since and at < self.since) or (self.until and at >= self.until):
                return False
        return True


def filter_hits(hits: Iterable[dict[str, Any]], filters: SearchFilters, limit: int = 50) -> list[dict[str, Any]]:
    """The first `limit` hits (kept in the store's best-first order) that pass `filters`."""
    out = []
    for doc in hits:
        if filters.accepts(doc):
            out.append(doc)
            if len(out) >= limit:
                break
    return out


def hits_frame(hits: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Search hits as a table; text stays plain text (a dataframe cell never renders Markdown)."""
    cols = ["score", "created_at", "primary_label", "review_type", "sentiment", "rating", "lang", "app_version",
            "text", "text_en", "cluster_name", "id"]
    rows = []
    for d in hits:
        text_en = d.get("text_en") or ""
        rows.append({
            "score": round(float(d.get("score") or 0.0), 3),
            "created_at": (parse_time(d.get("created_at")) or datetime.min).replace(tzinfo=None),
            "primary_label": d.get("primary_label"), "review_type": d.get("review_type"),
            "sentiment": d.get("sentiment"), "rating": d.get("rating"), "lang": d.get("lang"),
            "app_version": d.get("app_version"), "text": d.get("text") or "",
            "text_en": "" if text_en == d.get("text") else text_en,
            "cluster_name": d.get("cluster_name") or "", "id": d.get("id"),
        })
    return pd.DataFrame(rows, columns=cols)


# ── tickets ──────────────────────────────────────────────────────────────────────────────────────

def severity_rank(severity: Any) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def tickets_frame(tickets: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Tickets, most severe first, then by priority and count."""
    cols = ["severity", "peak_severity", "title", "primary_label", "count", "total_count", "trend", "versions", "status",
            "version", "priority", "why", "first_seen", "last_seen", "updated_at", "id"]
    rows = []
    for t in tickets:
        trend = t.get("trend")
        if trend in (None, "") and t.get("trend_ratio") is not None:
            trend = f"×{float(t['trend_ratio']):.1f}"
        rows.append({
            "severity": t.get("severity") or "", "peak_severity": t.get("peak_severity") or "",
            "title": t.get("title") or t.get("id"),
            "primary_label": t.get("primary_label"), "count": t.get("count"), "total_count": t.get("total_count"),
            "trend": "" if trend is None else str(trend), "versions": ", ".join(map(str, t.get("app_versions") or [])),
            "status": t.get("status"), "version": t.get("version"), "priority": t.get("priority"),
            "why": str(t.get("priority_reason") or ""),
            "first_seen": t.get("first_seen"), "last_seen": t.get("last_seen"), "updated_at": t.get("updated_at"),
            "id": t.get("id"),
        })
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    df["_sev"] = df["severity"].map(severity_rank)
    df["_prio"] = pd.to_numeric(df["priority"], errors="coerce").fillna(0.0)
    df["_count"] = pd.to_numeric(df["count"], errors="coerce").fillna(0)
    df = df.sort_values(["_sev", "_prio", "_count", "id"], ascending=[True, False, False, True])
    return df.drop(columns=["_sev", "_prio", "_count"]).reset_index(drop=True)


def severity_counts(tickets: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Tickets per severity, in severity order (unknown severities last)."""
    counts = Counter(str(t.get("severity") or "unknown") for t in tickets)
    return dict(sorted(counts.items(), key=lambda kv: (severity_rank(kv[0]), kv[0])))


# ── competitors ──────────────────────────────────────────────────────────────────────────────────
# What the flow stores: `competitor_mentions` (every mention with its direction and side: gap, win, neutral),
# `feature_requests` (the gaps only, with a concrete feature and its group, or none) and `watch_state` (the
# app's whole watch list as the flow applied it). Feature phrases are grouped by the flow's `feature_group`
# (the issue layer's clustering); a document without one falls back to the flow's own `feature_key`.
DIRECTIONS = ("competitor_ahead", "switching_away", "own_ahead", "switching_to", "neutral")


def requests_frame(docs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Feature requests as a table with a UTC `created` time, their direction, the app's label the feature maps
    to and a `group` to count by (the flow's feature group, else its feature key)."""
    cols = ["created", "org", "direction", "label", "feature", "group", "feature_key", "text", "text_en", "lang",
            "source", "status", "review_id", "id"]
    rows = []
    for d in docs:
        at = parse_time(d.get("created_at") or d.get("updated_at"))
        feature = d.get("feature") or ""
        key = d.get("feature_key") or (feature_key(feature) if feature else "")
        rows.append({
            "created": at.replace(tzinfo=None) if at else None, "org": d.get("org") or "unknown",
            "direction": d.get("direction") or "competitor_ahead", "label": d.get("label") or "",
            "feature": d.get("feature_group_name") or feature, "group": d.get("feature_group") or key,
            "feature_key": key, "text": d.get("text") or "", "text_en": d.get("text_en") or "", "lang": d.get("lang"),
            "source": d.get("source"), "status": d.get("status"), "review_id": d.get("review_id"), "id": d.get("id"),
        })
    return pd.DataFrame(rows, columns=cols)


def mentions_frame(docs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Competitor mentions: UTC `created`, org, direction and side (gap, win, neutral)."""
    rows = []
    for d in docs:
        at = parse_time(d.get("created_at") or d.get("updated_at"))
        rows.append({"created": at.replace(tzinfo=None) if at else None, "org": d.get("org") or "unknown",
                     "direction": d.get("direction") or "neutral", "side": d.get("side") or "neutral"})
    return pd.DataFrame(rows, columns=["created", "org", "direction", "side"])


def competitor_balance(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per competitor: gaps (it is ahead, users leave for it), wins (the app is ahead, users arrive from it),
    neutral mentions and the count of each direction; most gaps first."""
    cols = ["org", "gaps", "wins", "neutral", *DIRECTIONS[:4]]
    if mentions.empty:
        return pd.DataFrame(columns=cols)
    sides = mentions.pivot_table(index="org", columns="side", aggfunc="size", fill_value=0)
    dirs = mentions.pivot_table(index="org", columns="direction", aggfunc="size", fill_value=0)
    out = pd.DataFrame({"org": sides.index})
    for side, col in (("gap", "gaps"), ("win", "wins"), ("neutral", "neutral")):
        out[col] = [int(sides.loc[o, side]) if side in sides.columns else 0 for o in out["org"]]
    for d in DIRECTIONS[:4]:
        out[d] = [int(dirs.loc[o, d]) if d in dirs.columns else 0 for o in out["org"]]
    return out.sort_values(["gaps", "wins", "org"], ascending=[False, False, True]).reset_index(drop=True)[cols]


def balance_over_time(mentions: pd.DataFrame, orgs: int = 5) -> pd.DataFrame:
    """Gaps and wins per week (Monday, UTC) of the `orgs` competitors mentioned most: `week, org, side, count`,
    zero-filled from the first week to the last."""
    cols = ["week", "org", "side", "count"]
    judged = mentions[mentions["side"].isin(["gap", "win"])].dropna(subset=["created"]) if not mentions.empty else mentions
    if judged.empty:
        return pd.DataFrame(columns=cols)
    top = judged["org"].value_counts().index[:orgs]
    judged = judged[judged["org"].isin(top)]
    week = (judged["created"] - pd.to_timedelta(judged["created"].dt.day_of_week, unit="D")).dt.normalize()
    counts = judged.assign(week=week).groupby(["week", "org", "side"]).size()
    weeks = pd.date_range(week.min(), week.max(), freq="7D")
    full = pd.MultiIndex.from_product([weeks, sorted(top), ["gap", "win"]], names=["week", "org", "side"])
    out = counts.reindex(full, fill_value=0).reset_index(name="count")
    out["side"] = out["side"].map({"gap": "gaps", "win": "wins"})
    return out[cols]


def requests_over_time(df: pd.DataFrame, interval: str = "day") -> pd.DataFrame:
    """Feature requests per bucket and org, zero-filled (`bucket, value, count`)."""
    if df.empty:
        return series_frame([], interval)
    fmt = "%Y-%m-%dT%H:00" if interval == "hour" else "%Y-%m-%d"
    rows = df.dropna(subset=["created"]).groupby([df["created"].dt.strftime(fmt), "org"]).size()
    return series_frame([(b, org, int(n)) for (b, org), n in rows.items()], interval)


def top_features(df: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """The parity map: the most requested competitor features, each with the app's own label it maps to (its most
    common one), the org, the feature (the group's name, else the most common wording), requests and an example."""
    cols = ["label", "org", "feature", "requests", "example"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (org, _), part in df[df["group"] != ""].groupby(["org", "group"]):
        wording = part["feature"].value_counts().index[0]
        labels = part["label"][part["label"] != ""]
        example = next((t for t in part["text_en"].tolist() + part["text"].tolist() if t), "")
        rows.append({"label": labels.value_counts().index[0] if not labels.empty else "", "org": org,
                     "feature": wording, "requests": len(part), "example": example})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["requests", "org", "feature"], ascending=[False, True, True]).head(limit).reset_index(drop=True)


def watched_orgs(state: Iterable[dict[str, Any]], watchlist: Iterable[dict[str, Any]], competitors: Iterable[Any],
                 requests: pd.DataFrame, balance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Who is watched, as the flow applied it: the orgs of each app's `watch_state` (`watching`), orgs whose last
    per-org document says `removed` and no watch state lists, then the app metadata's competitors that are not
    watched, then orgs seen only in feature requests; each with its feature requests, gaps and wins."""
    orgs: dict[str, dict[str, Any]] = {}
    for doc in sorted(state, key=lambda d: str(d.get("updated_at", ""))):
        for o in doc.get("orgs") or []:
            name = str(o.get("name") or "")
            if name:
                orgs[name.lower()] = {"org": name, "status": "watching", "hashtags": " ".join(o.get("hashtags") or []),
                                      "aliases": ", ".join(o.get("aliases") or []),
                                      "since": str(doc.get("issued_at") or doc.get("updated_at") or "")[:10]}
    for w in sorted(watchlist, key=lambda d: str(d.get("updated_at", ""))):
        name = str(w.get("org") or w.get("id"))
        if w.get("status") == "removed" and name.lower() not in orgs:
            orgs[name.lower()] = {"org": name, "status": "removed", "hashtags": " ".join(w.get("hashtags") or []),
                                  "aliases": ", ".join(w.get("aliases") or []),
                                  "since": str(w.get("issued_at") or w.get("updated_at") or "")[:10]}
    for comp in competitors:
        orgs.setdefault(comp.name.lower(), {"org": comp.name, "status": "not watched (app metadata)",
                                            "hashtags": " ".join(comp.hashtags), "aliases": ", ".join(comp.aliases),
                                            "since": ""})
    per_org = requests.groupby(requests["org"].str.lower()).size() if not requests.empty else pd.Series(dtype="int64")
    for key in per_org.index:
        if key not in orgs:
            name = requests.loc[requests["org"].str.lower() == key, "org"].iloc[0]
            orgs[key] = {"org": name, "status": "feature requests only", "hashtags": "", "aliases": "", "since": ""}
    sides = {} if balance is None or balance.empty else {
        str(r["org"]).lower(): (int(r["gaps"]), int(r["wins"])) for _, r in balance.iterrows()}
    rows = [{**o, "requests": int(per_org.get(key, 0)), "gaps": sides.get(key, (0, 0))[0],
             "wins": sides.get(key, (0, 0))[1]} for key, o in orgs.items()]
    out = pd.DataFrame(rows, columns=["org", "status", "hashtags", "aliases", "since", "requests", "gaps", "wins"])
    out["_others"] = (out["status"] != "watching").astype(int)  # watched orgs first
    out = out.sort_values(["_others", "requests", "org"], ascending=[True, False, True])
    return out.drop(columns="_others").reset_index(drop=True)


# ── pipeline health ──────────────────────────────────────────────────────────────────────────────

def counted(items: dict[str, int], name: str) -> pd.DataFrame:
    """A `{key: count}` map as a frame `name, count`, biggest first."""
    rows = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.DataFrame(rows, columns=[name, "count"])


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    return None if a is None or b is None else (b - a).total_seconds()


def timing_frame(reviews: Sequence[dict[str, Any]], rejected: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per record: `kind`, `stored` (UTC, naive), `lag_s` from receipt to storage and
    `event_lag_s` from the review's own time to storage."""
    rows = []
    for d in reviews:
        stored = parse_time(d.get("processed_at"))
        rows.append({"kind": "enriched", "stored": stored, "lag_s": _seconds(parse_time(d.get("received_at")), stored),
                     "event_lag_s": _seconds(parse_time(d.get("created_at")), stored)})
    for d in rejected:
        stored = parse_time(d.get("at"))
        rows.append({"kind": "rejected", "stored": stored, "lag_s": _seconds(parse_time(d.get("received_at")), stored),
                     "event_lag_s": None})
    df = pd.DataFrame(rows, columns=["kind", "stored", "lag_s", "event_lag_s"]).dropna(subset=["stored"])
    df["stored"] = pd.to_datetime(df["stored"], utc=True).dt.tz_localize(None)
    df["lag_s"] = pd.to_numeric(df["lag_s"], errors="coerce")
    df["event_lag_s"] = pd.to_numeric(df["event_lag_s"], errors="coerce")
    return df.reset_index(drop=True)


def lag_summary(timing: pd.DataFrame) -> dict[str, float | None]:
    """Median and 95th percentile of receipt→storage lag, and the newest storage time."""
    lag = timing["lag_s"].dropna() if not timing.empty else pd.Series(dtype=float)
    return {
        "p50_s": float(lag.quantile(0.5)) if len(lag) else None,
        "p95_s": float(lag.quantile(0.95)) if len(lag) else None,
        "newest": timing["stored"].max() if not timing.empty else None,
        "records": int(len(timing)),
    }


BUCKETS = ("1s", "5s", "10s", "30s", "1min", "5min", "15min", "1h", "6h", "1D")


def bucket_size(timing: pd.DataFrame, target: int = 40) -> str:
    """The smallest bucket that splits the sample's stored-time span into at most `target` buckets."""
    if len(timing) < 2:
        return "1min"
    span = (timing["stored"].max() - timing["stored"].min()).total_seconds()
    return next((b for b in BUCKETS if span / pd.Timedelta(b).total_seconds() <= target), BUCKETS[-1])


def naive_utc(value: str | None) -> datetime | None:
    """An ISO time as a naive UTC datetime (for tables), None when missing."""
    at = parse_time(value)
    return at.replace(tzinfo=None) if at else None


def throughput(timing: pd.DataFrame, total: int, freq: str = "1min") -> pd.DataFrame:
    """Records stored per minute, from a sample scaled to the `total` stored: `bucket, kind, per_minute`.
    The run's throughput is `total` over the stored-time span of the sample."""
    if timing.empty or total <= 0:
        return pd.DataFrame(columns=["bucket", "kind", "per_minute"])
    scale = total / len(timing)
    minutes = pd.Timedelta(freq).total_seconds() / 60
    floored = timing["stored"].dt.floor(freq)
    buckets = pd.date_range(floored.min(), floored.max(), freq=freq)
    full = pd.MultiIndex.from_product([buckets, ["enriched", "rejected"]], names=["bucket", "kind"])
    n = timing.groupby([floored.rename("bucket"), "kind"]).size().reindex(full, fill_value=0)
    out = n.rename("n").reset_index()
    out["per_minute"] = out["n"] * scale / minutes
    return out[["bucket", "kind", "per_minute"]]


def run_rate(timing: pd.DataFrame, total: int) -> float | None:
    """Records per second over the sample's stored-time span, scaled to `total`."""
    if len(timing) < 2:
        return None
    span = (timing["stored"].max() - timing["stored"].min()).total_seconds()
    return total / span if span > 0 else None


def format_duration(seconds: float | None) -> str:
    """`850 ms`, `12.3 s`, `4.2 min`, `3.1 h`, `2.0 d`; `–` when unknown."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    s = abs(seconds)
    if s < 1:
        return f"{seconds * 1000:.0f} ms"
    if s < 120:
        return f"{seconds:.1f} s"
    if s < 7200:
        return f"{seconds / 60:.1f} min"
    if s < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


# ── reads composed from the public store methods ─────────────────────────────────────────────────

def all_documents(store: Any, kind: str, app_id: str | None = None, page: int = 500,
                  limit: int = 20_000) -> list[dict[str, Any]]:
    """Every ticket or feature-request document (up to `limit`), following the store's cursor."""
    docs: list[dict[str, Any]] = []
    cursor = None
    while len(docs) < limit:
        batch, cursor = store.list_documents(kind, cursor=cursor, limit=min(page, limit - len(docs)), app_id=app_id)
        docs.extend(batch)
        if not batch or cursor is None:
            break
    return docs


def review_sample(store: Any, app_id: str | None = None, k: int = 500, seed: int = 0) -> list[dict[str, Any]]:
    """About `k` enriched reviews picked independently of time: the nearest neighbours of a fixed
    random direction. Used to estimate timing (lag, throughput), which no store method aggregates."""
    import numpy as np

    from core.records import DIMS

    vector = np.random.default_rng(seed).normal(size=DIMS).astype("float32")
    return store.knn(vector.tolist(), k=k, app_id=app_id)
