"""Entry point: `python -m bytewax.run flows.main` builds the flow from the environment.

Configuration problems (a bad setting, an unreadable input file, a store that
cannot be reached) end the program with one `sift: error: ...` line and exit
status 2, before any worker starts.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace

from bytewax.dataflow import Dataflow

from connectors.files import InputFileError, JsonlTailSource, ReviewFileSource, check_readable, count_records
from connectors.document_sink import DocumentSink
from connectors.sqs import SqsSource
from connectors.backends import open_store
from connectors.store import StoreUnavailable
from connectors.store_sink import StoreSink
from connectors.translate import open_translator
from core.appmeta import load_apps
from flows.dataflow import build_flow
from core.logs import setup_logging
from core.settings import ConfigError, Settings

log = logging.getLogger("sift")


def flow_from_env() -> Dataflow:
    """Read settings, check the input and the store, and build the production flow."""
    settings = Settings.from_env()
    setup_logging(settings.log_level)
    apps = load_apps(settings.apps_path)
    expected = None
    if settings.source == "file":
        check_readable(settings.input_path)
        expected = count_records(settings.input_path)
        source = ReviewFileSource([settings.input_path], batch_size=settings.batch_size)
        where = f"{settings.input_path} ({expected:,} records)"
    else:
        source = SqsSource(settings.sqs)
        where = ", ".join(settings.sqs.queue_urls)
    store = open_store(settings)
    try:
        store.setup()  # fail fast, before workers start, if the store is unreachable
    finally:
        store.close()
    target = settings.sqlite_path if settings.store == "sqlite" else settings.es.target
    log.info("sift: %s -> %s store %s; apps: %s", where, settings.store, target, ", ".join(sorted(apps)))
    sink = StoreSink(lambda: open_store(settings), expected=expected, progress_seconds=settings.progress_seconds)
    translator = open_translator(settings)
    log.info("sift: translation backend %s", translator.name)
    documents = DocumentSink(lambda: open_store(settings), {"tickets": settings.tickets.queue_url})
    return build_flow(settings, apps, source, sink, translator=translator, documents_sink=documents,
                      watch_source=watch_source(settings))


def watch_source(settings: Settings):
    """Watch-list commands: the queue when configured, else the commands file (followed while reviews
    come from a queue that is read forever, read once otherwise)."""
    if settings.watchlist.queue_url:
        return SqsSource(replace(settings.sqs, queue_urls=(settings.watchlist.queue_url,), max_receives=0))
    follow = settings.source == "sqs" and not settings.sqs.stop_after_idle_seconds  # a run that ends must end here too
    return JsonlTailSource(settings.watchlist.path, follow=follow)


def _flow_or_exit() -> Dataflow:
    try:
        return flow_from_env()
    except (ConfigError, InputFileError, StoreUnavailable) as e:
        print(f"sift: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


flow = _flow_or_exit()
