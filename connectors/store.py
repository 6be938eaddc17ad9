"""The store interface shared by the SQLite and Elasticsearch backends.

Writes are idempotent upserts keyed by the record id: writing the same outcome
twice leaves one record, and an id is either an enriched review or a rejected
record, never both (the later write of the *same message* wins). `write`
returns only after the data is durable, so the caller may acknowledge the
source messages.

An id belongs to the first message stored under it. Each backend keeps a claim
per id (the id and its message's fingerprint) that it takes atomically on first
write and never changes. A later outcome with the same id and the same
fingerprint is that message again (a redelivery, a replay after a restart, or a
later verdict on it) and rewrites the record; one with another fingerprint is a
different message reusing the id: it is stored as its own `id_conflict` record
under `conflict_id(id, fingerprint)` and never overwrites the first
(`resolve_claims`). Within one batch the first outcome of an id claims it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from core.records import EnrichedReview, Outcome, Rejected, id_conflict


class StoreError(RuntimeError):
    """A store operation failed after its bounded retries; the message says why."""


class StoreUnavailable(StoreError):
    """The store cannot be reached at all (wrong URL, server down, bad credentials)."""


@dataclass(frozen=True)
class StoreCounts:
    """Totals the run summary and the tests read back."""

    enriched: int
    rejected: int
    by_reason: dict[str, int] = field(default_factory=dict)
    by_label: dict[str, int] = field(default_factory=dict)
    untranslated_by_lang: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.enriched + self.rejected


class ReviewReader(Protocol):
    """The read side: what the dashboard, the feed and the run summary need. Reading never creates or
    changes anything; `open_reader` (connectors/backends.py) hands out only this side."""

    def check_readable(self) -> None:
        """Raise `StoreUnavailable` unless the store exists and answers; creates nothing."""

    def refresh(self) -> None:
        """Make everything written so far visible to reads."""

    def counts(self, app_id: str | None = None) -> StoreCounts:
        """Enriched / rejected totals, rejected by reason, enriched by label, untranslated by language."""

    def get(self, record_id: str) -> dict[str, Any] | None:
        """One stored document (enriched or rejected, with a `kind` field)."""

    def knn(self, vector: Sequence[float], k: int = 10, app_id: str | None = None) -> list[dict[str, Any]]:
        """The `k` enriched reviews nearest to `vector` by cosine, best first, with `score`."""

    def search_text(self, query: str, k: int = 20, app_id: str | None = None) -> list[dict[str, Any]]:
        """Enriched reviews matching the words of `query` (original or English text), best first."""

    def counts_over_time(
        self, field: str = "primary_label", interval: str = "day", app_id: str | None = None,
        since: datetime | None = None, until: datetime | None = None,
    ) -> list[tuple[str, str, int]]:
        """`(bucket, value, count)` of enriched reviews by `created_at` bucket (UTC `day` or `hour`)
        and a keyword field (see `GROUP_FIELDS`), ordered by bucket then value."""

    def top_clusters(self, app_id: str | None = None, label: str | None = None, limit: int = 10,
                     since: datetime | None = None) -> list[dict[str, Any]]:
        """Largest clusters: `cluster_id`, `primary_label`, `count`, `avg_rating`, `keywords`, `last_seen`."""

    def list_rejected(self, reason: str | None = None, app_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Most recent rejected records, optionally of one reason."""

    def list_documents(self, kind: str, cursor: str | None = None, limit: int = 50,
                       app_id: str | None = None, **filters: str) -> tuple[list[dict[str, Any]], str | None]:
        """Documents updated after `cursor`, oldest first, and the cursor to pass next (None at the end).
        `filters` match keyword fields exactly (e.g. `org="Google Pay"`)."""

    def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """One ticket or feature request by id."""

    def close(self) -> None:
        """Release connections."""


class ReviewWriter(Protocol):
    """The write side: what the flow's sinks need."""

    def setup(self) -> None:
        """Create tables / index templates; idempotent."""

    def write(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Upsert enriched and rejected records; durable when it returns. Returns what was stored: the
        outcomes, with each one whose id belongs to a different message turned into its `id_conflict` record."""

    def write_documents(self, kind: str, docs: Sequence[dict[str, Any]]) -> None:
        """Upsert ticket or feature-request documents (`kind` in `DOC_KINDS`) by their `id`;
        each needs `id`, `app_id` and an ISO-8601 `updated_at`. A document with a `version` (tickets)
        never replaces a stored one with a higher `version`: that write is skipped, not an error."""

    def close(self) -> None:
        """Release connections."""


class ReviewStore(ReviewReader, ReviewWriter, Protocol):
    """Both sides, as a backend implements them (`SqliteStore`, `ElasticsearchStore`)."""


READ_METHODS = frozenset(name for name in vars(ReviewReader) if not name.startswith("_"))


class ReadOnlyStore:
    """A backend seen through its read side only: the write side (`setup`, `write`, `write_documents`) and the
    backend's own attributes are not reachable, so a reader cannot create an index or change a record."""

    def __init__(self, store: ReviewStore):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        if name not in READ_METHODS:
            raise AttributeError(f"{name!r} is not part of the store's read side (ReviewReader)")
        return getattr(self._store, name)

    def __repr__(self) -> str:
        return f"ReadOnlyStore({self._store!r})"


GROUP_FIELDS = ("primary_label", "review_type", "sentiment", "source", "lang", "cluster_id", "app_version", "rating")
DOC_KINDS = ("tickets", "feature_requests", "watchlist", "watch_state", "competitor_mentions")
DOC_FILTER_FIELDS = ("status", "org", "severity", "primary_label")


def encode_cursor(updated_at: str, doc_id: str) -> str:
    """An opaque, URL-safe cursor for (updated_at, id) ordering."""
    return base64.urlsafe_b64encode(json.dumps([updated_at, doc_id]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (updated_at, id) inside a cursor; `ValueError` with a clear message if it is not one."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        updated_at, doc_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return str(updated_at), str(doc_id)
    except (ValueError, TypeError) as e:
        raise ValueError(f"invalid cursor {cursor[:40]!r}") from e


def check_query(field: str | None = None, interval: str | None = None, kind: str | None = None,
                filters: dict[str, str] | None = None) -> None:
    """Validate read arguments the same way for every backend."""
    if field is not None and field not in GROUP_FIELDS:
        raise ValueError(f"cannot group by {field!r}; choose one of {', '.join(GROUP_FIELDS)}")
    if interval is not None and interval not in ("day", "hour"):
        raise ValueError(f"interval must be 'day' or 'hour', got {interval!r}")
    if kind is not None and kind not in DOC_KINDS:
        raise ValueError(f"unknown document kind {kind!r}; choose one of {', '.join(DOC_KINDS)}")
    for name in filters or {}:
        if name not in DOC_FILTER_FIELDS:
            raise ValueError(f"cannot filter by {name!r}; choose from {', '.join(DOC_FILTER_FIELDS)}")


def normalize_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Check a ticket / feature-request document and put `updated_at` in one UTC format,
    so cursors compare the same on every backend."""
    for key in ("id", "updated_at"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise ValueError(f"document needs a string {key!r}: {str(doc)[:80]}")
    try:
        at = datetime.fromisoformat(doc["updated_at"])
    except ValueError as e:
        raise ValueError(f"document {doc['id']!r}: updated_at {doc['updated_at']!r} is not ISO 8601") from e
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    return {**doc, "updated_at": at.isoformat(timespec="milliseconds")}


def doc_time(value: str | None) -> str | None:
    """A stored timestamp as UTC ISO 8601 (whatever offset it was written with)."""
    if not value:
        return None
    at = datetime.fromisoformat(value)
    return (at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)).isoformat()


def batch_claims(outcomes: Sequence[Outcome]) -> dict[str, str]:
    """id -> fingerprint of the first outcome with that id in the batch: the claim this batch makes."""
    claims: dict[str, str] = {}
    for outcome in outcomes:
        claims.setdefault(outcome.id, outcome.fingerprint)
    return claims


def resolve_claims(outcomes: Sequence[Outcome], owners: dict[str, str]) -> list[Outcome]:
    """The outcomes as they are to be stored, in order: one whose fingerprint differs from the owner of its id
    (`owners`: id -> fingerprint of the message the store holds under it) becomes its `id_conflict` record."""
    return [o if owners.get(o.id, o.fingerprint) == o.fingerprint else id_conflict(o, owners[o.id]) for o in outcomes]


def split(outcomes: Sequence[Outcome]) -> tuple[list[EnrichedReview], list[Rejected]]:
    """Separate a mixed batch, keeping only the last outcome per id."""
    last: dict[str, Outcome] = {}
    for outcome in outcomes:
        last[outcome.id] = outcome
    enriched = [o for o in last.values() if isinstance(o, EnrichedReview)]
    rejected = [o for o in last.values() if isinstance(o, Rejected)]
    return enriched, rejected


# ── competitor summary ───────────────────────────────────────────────────────────────────────────
SIDES = ("gap", "win", "neutral")  # a competitor mention's `side`, as the flow writes it
SUMMARY_PAGE = 500


def all_documents(store: ReviewReader, kind: str, app_id: str, max_docs: int) -> tuple[list[dict[str, Any]], bool]:
    """Every `kind` document of one app (at most `max_docs`), oldest update first; True when more were left."""
    docs: list[dict[str, Any]] = []
    cursor = None
    while len(docs) < max_docs:
        page, cursor = store.list_documents(kind, cursor=cursor, limit=min(SUMMARY_PAGE, max_docs - len(docs)),
                                            app_id=app_id)
        docs.extend(page)
        if len(page) < SUMMARY_PAGE:
            return docs, False
    return docs, True


def _week(created_at: str) -> str:
    at = datetime.fromisoformat(created_at)
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)
    return (at.date() - timedelta(days=at.weekday())).isoformat()


def _after(doc: dict[str, Any], since: datetime | None) -> bool:
    if since is None:
        return True
    at = datetime.fromisoformat(str(doc.get("created_at")))
    at = at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at
    return at >= since


def competitor_summary(store: ReviewReader, app_id: str, since: datetime | None = None, top: int = 10,
                       max_docs: int = 100_000) -> dict[str, Any]:
    """Gaps against wins per competitor of one app, from what the flow stored.

    A gap is a mention whose competitor is ahead or that the user leaves for (`side` "gap": the feature
    requests); a win one where the app is ahead or the user arrives from it (`side` "win"). Per competitor:
    counts per direction and side, the same per week of `created_at` (Monday, UTC), and the feature groups
    with the most requests, each with the app's own label it maps to (the parity map). Only mentions
    created at or after `since` count. `truncated`: the app has more than `max_docs` documents of a kind.
    """
    mentions, more_m = all_documents(store, "competitor_mentions", app_id, max_docs)
    requests, more_r = all_documents(store, "feature_requests", app_id, max_docs)
    orgs: dict[str, dict[str, Any]] = {}
    for m in mentions:
        if not _after(m, since) or m.get("side") not in SIDES:
            continue
        o = orgs.setdefault(m["org"], {"org": m["org"], "mentions": 0, "gaps": 0, "wins": 0, "neutral": 0,
                                       "directions": {}, "weeks": {}, "requests_without_feature": 0, "features": {}})
        o["mentions"] += 1
        side = {"gap": "gaps", "win": "wins", "neutral": "neutral"}[m["side"]]
        o[side] += 1
        o["directions"][m["direction"]] = o["directions"].get(m["direction"], 0) + 1
        week = o["weeks"].setdefault(_week(m["created_at"]), {"gaps": 0, "wins": 0})
        if side != "neutral":
            week[side] += 1
    for r in requests:
        o = orgs.get(r.get("org", ""))
        if o is None or not _after(r, since) or not r.get("direction"):
            continue
        if not r.get("feature_group"):
            o["requests_without_feature"] += 1
            continue
        f = o["features"].setdefault(r["feature_group"], {"feature_group": r["feature_group"],
                                                         "feature": r.get("feature_group_name") or r.get("feature"),
                                                         "labels": {}, "requests": 0, "last_seen": ""})
        f["requests"] += 1
        f["labels"][r.get("label") or ""] = f["labels"].get(r.get("label") or "", 0) + 1
        f["last_seen"] = max(f["last_seen"], str(r.get("created_at") or ""))
    out = []
    for o in sorted(orgs.values(), key=lambda o: (-o["gaps"], -o["mentions"], o["org"])):
        features = sorted(o.pop("features").values(), key=lambda f: (-f["requests"], f["feature"] or ""))[:top]
        for f in features:
            labels = f.pop("labels")
            f["label"] = max(sorted(labels), key=labels.get)
        o["features"] = features
        o["weeks"] = [{"week": w, **c} for w, c in sorted(o["weeks"].items())]
        out.append(o)
    return {"app_id": app_id, "since": since.isoformat() if since else None, "competitors": out,
            "truncated": more_m or more_r}
