"""`open_store(settings)`: the configured store backend, SQLite (embedded default) or Elasticsearch.

Apart from `connectors/store.py` (the interface and the helpers both backends share), so that the
backends import the interface and never the other way round.
"""

from __future__ import annotations

from connectors.store import ReviewStore
from flows.settings import Settings


def open_store(settings: Settings) -> ReviewStore:
    """The configured backend, not yet set up."""
    if settings.store == "elasticsearch":
        from connectors.elasticsearch_store import ElasticsearchStore

        return ElasticsearchStore(settings.es)
    from connectors.sqlite_store import SqliteStore

    return SqliteStore(settings.sqlite_path)
