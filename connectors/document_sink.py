"""The Bytewax sink for ticket, feature-request and watch-list documents: the store first, then a queue.

Each worker writes its own batches. Per batch and kind: upsert the documents into
the store by id (durable when it returns), then publish one SQS message per
document version when that kind has a queue (`SIFT_TICKETS_QUEUE_URL` for tickets).
At-least-once: after a crash a version may be published again; consumers
deduplicate by `(id, version)` (FIFO queues do it for them). A failed store write
or publish stops the flow with the error rather than losing a ticket.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.sqs import SqsAcker, SqsPublisher
from connectors.store import ReviewWriter
from core.records import Document

log = logging.getLogger("sift.tickets")


class _DocumentPartition(StatelessSinkPartition[Document]):
    def __init__(self, store: ReviewWriter, publishers: dict[str, SqsPublisher], acker: SqsAcker):
        self._store = store
        self._publishers = publishers
        self._acker = acker
        self.written: dict[str, int] = {}

    def write_batch(self, items: list[Document]) -> None:
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            if item.kind:
                by_kind.setdefault(item.kind, []).append(item.doc)
        for kind, docs in by_kind.items():
            self._store.write_documents(kind, docs)
            self.written[kind] = self.written.get(kind, 0) + len(docs)
            publisher = self._publishers.get(kind)
            if publisher is not None:
                self._publish(publisher, kind, docs)
            for d in docs:
                log.debug("%s %s v%s %s", kind, d["id"], d.get("version", 1), d.get("title", d.get("feature", "")))
        acks = [item.ack for item in items if item.ack is not None]
        if acks:
            self._acker.ack(acks)  # watch-list queue messages, deleted only once their change is stored

    @staticmethod
    def _publish(publisher: SqsPublisher, kind: str, docs: list[dict[str, Any]]) -> None:
        events = [(f"{d['id']}:v{d.get('version', 1)}", json.dumps({"kind": kind, **d}, ensure_ascii=False)) for d in docs]
        result = publisher.publish(events, group=kind)
        if result.failed or result.refused:
            eid, reason = (result.failed or result.refused)[0]
            raise RuntimeError(f"publishing {kind} to {publisher.queue_url} failed for {eid}: {reason}")

    def close(self) -> None:
        if self.written:
            log.info("documents written: %s", " · ".join(f"{k} {n:,}" for k, n in sorted(self.written.items())))
        self._store.close()
        for publisher in self._publishers.values():
            publisher.close()
        self._acker.close()


class DocumentSink(DynamicSink[Document]):
    """Upserts documents of every kind into the store, and publishes each version of the kinds that have a
    queue in `queues` (kind -> queue URL); at-least-once, idempotent in the store by document id."""

    def __init__(self, open_store: Callable[[], ReviewWriter], queues: dict[str, str] | None = None):
        self.open_store = open_store
        self.queues = {kind: url for kind, url in (queues or {}).items() if url}

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _DocumentPartition:
        store = self.open_store()
        store.setup()
        return _DocumentPartition(store, {kind: SqsPublisher(url) for kind, url in self.queues.items()}, SqsAcker())
