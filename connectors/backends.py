"""The configured store backend, SQLite (embedded default) or Elasticsearch: `open_store` for the flow,
which writes, and `open_reader` for the dashboard, the feed and the run summary, which only read.

Apart from `connectors/store.py` (the interface and the helpers both backends share), so that the
backends import the interface and never the other way round.
"""

from __future__ import annotations

from connectors.store import ReadOnlyStore, ReviewReader, ReviewStore
from core.settings import Settings


def open_store(settings: Settings) -> ReviewStore:
    """The configured backend, not yet set up."""
    if settings.store == "elasticsearch":
        from connectors.elasticsearch_store import ElasticsearchStore

        return ElasticsearchStore(settings.es)
    from connectors.sqlite_store import SqliteStore

    return SqliteStore(settings.sqlite_path)


def open_reader(settings: Settings) -> ReviewReader:
    """The configured backend's read side only: it never creates tables or indices (`check_readable`
    says whether the flow has created them yet)."""
    return ReadOnlyStore(open_store(settings))
