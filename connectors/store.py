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
from datetime import datetime, timezone
from typing import Any, Protocol

from flows.records import EnrichedReview, Outcome, Rejected, id_conflict


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
DOC_KINDS = ("tickets", "feature_requests", "watchlist", "watch_state")
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
