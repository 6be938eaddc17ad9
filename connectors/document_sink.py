"""The Bytewax sink for ticket and feature-request documents: the store first, then a queue.

Each worker writes its own batches. Per batch: upsert the documents into the
store by id (durable when it returns), then publish one SQS message per
document version when a queue is configured (`SIFT_TICKETS_QUEUE_URL`).
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

from connectors.sqs import SqsPublisher
from connectors.store import ReviewStore

log = logging.getLogger("sift.tickets")


class _DocumentPartition(StatelessSinkPartition[dict[str, Any]]):
    def __init__(self, kind: str, store: ReviewStore, publisher: SqsPublisher | None):
        self._kind = kind
        self._store = store
        self._publisher = publisher
        self.written = 0

    def write_batch(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        self._store.write_documents(self._kind, items)
        self.written += len(items)
        if self._publisher is not None:
            events = [(f"{d['id']}:v{d.get('version', 1)}", json.dumps({"kind": self._kind, **d}, ensure_ascii=False))
                      for d in items]
            result = self._publisher.publish(events, group=self._kind)
            if result.failed or result.refused:
                eid, reason = (result.failed or result.refused)[0]
                raise RuntimeError(f"publishing {self._kind} to {self._publisher.queue_url} failed for {eid}: {reason}")
        for d in items:
            log.debug("%s %s v%s %s", self._kind, d["id"], d.get("version", 1), d.get("title", d.get("feature", "")))

    def close(self) -> None:
        if self.written:
            log.info("%s: %d document versions written", self._kind, self.written)
        self._store.close()
        if self._publisher is not None:
            self._publisher.close()


class DocumentSink(DynamicSink[dict[str, Any]]):
    """Upserts `kind` documents (`tickets`, `feature_requests`) into the store and publishes each version to
    `queue_url` when given; at-least-once, idempotent in the store by document id."""

    def __init__(self, kind: str, open_store: Callable[[], ReviewStore], queue_url: str = ""):
        self.kind = kind
        self.open_store = open_store
        self.queue_url = queue_url

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _DocumentPartition:
        store = self.open_store()
        store.setup()
        return _DocumentPartition(self.kind, store, SqsPublisher(self.queue_url) if self.queue_url else None)
