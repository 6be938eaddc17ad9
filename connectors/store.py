"""The store interface shared by the SQLite and Elasticsearch backends.

Writes are idempotent upserts keyed by the record id: writing the same outcome
twice leaves one record, and an id is either an enriched review or a rejected
record, never both (the later write wins). `write` returns only after the data
is durable, so the caller may acknowledge the source messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from flows.records import EnrichedReview, Outcome, Rejected
from flows.settings import Settings


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

    @property
    def total(self) -> int:
        return self.enriched + self.rejected


class ReviewStore(Protocol):
    """What the flow and the readers need from a store."""

    def setup(self) -> None:
        """Create tables / index templates; idempotent."""

    def write(self, outcomes: Sequence[Outcome]) -> None:
        """Upsert enriched and rejected records; durable when it returns."""

    def refresh(self) -> None:
        """Make everything written so far visible to reads."""

    def counts(self, app_id: str | None = None) -> StoreCounts:
        """Enriched / rejected totals, rejected by reason, enriched by label."""

    def get(self, record_id: str) -> dict[str, Any] | None:
        """One stored document (enriched or rejected, with a `kind` field)."""

    def knn(self, vector: Sequence[float], k: int = 10, app_id: str | None = None) -> list[dict[str, Any]]:
        """The `k` enriched reviews nearest to `vector` by cosine, best first, with `score`."""

    def close(self) -> None:
        """Release connections."""


def split(outcomes: Sequence[Outcome]) -> tuple[list[EnrichedReview], list[Rejected]]:
    """Separate a mixed batch, keeping only the last outcome per id."""
    last: dict[str, Outcome] = {}
    for outcome in outcomes:
        last[outcome.id] = outcome
    enriched = [o for o in last.values() if isinstance(o, EnrichedReview)]
    rejected = [o for o in last.values() if isinstance(o, Rejected)]
    return enriched, rejected


def open_store(settings: Settings) -> ReviewStore:
    """The configured backend, not yet set up."""
    if settings.store == "elasticsearch":
        from connectors.elasticsearch_store import ElasticsearchStore

        return ElasticsearchStore(settings.es)
    from connectors.sqlite_store import SqliteStore

    return SqliteStore(settings.sqlite_path)
