"""The Bytewax sink that writes outcomes to the store, then acknowledges their source messages.

Each worker writes its own batches (the worker is the unit of parallelism).
Order per batch: durable store write, then SQS delete. If the write fails the
flow stops with the error and nothing is acknowledged, so SQS redelivers.
Logs a progress line every few seconds and a summary when the input ends.

A batch whose every record carries an SQS ack is written by a background thread
while the worker goes on with the next batch (at most one batch in flight, batches
written in order): the store round trip and the deletes overlap the model instead of
adding to it. Nothing changes for the delivery guarantee, because a message is still
deleted only after its record is durably written; a failed write stops the flow at
the next batch or at the end. Batches from a file (no acks) are written before
`write_batch` returns, so a Bytewax recovery snapshot never gets ahead of the store.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.sqs import SqsAcker
from connectors.store import ReviewStore
from flows.records import Ack, EnrichedReview, Outcome

log = logging.getLogger("sift.progress")


class _StorePartition(StatelessSinkPartition[Outcome]):
    def __init__(self, store: ReviewStore, acker: SqsAcker, worker: int, expected: int | None, every: float):
        self._store = store
        self._acker = acker
        self._worker = worker
        self._expected = expected
        self._every = every
        self._started = time.monotonic()
        self._last_log = self._started
        self.enriched = 0
        self.rejected: Counter[str] = Counter()
        self.ack_failures = 0
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None

    def write_batch(self, items: list[Outcome]) -> None:
        if not items:
            return
        self._wait()  # at most one batch in flight; a failed background write is raised here
        if all(item.ack is not None for item in items):
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sift-store-w{self._worker}")
            self._pending = self._writer.submit(self._write, list(items))
        else:
            self._write(items)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write(self, items: Sequence[Outcome]) -> None:
        self._store.write(items)
        acks: list[Ack] = [item.ack for item in items if item.ack is not None]
        if acks:
            self.ack_failures += self._acker.ack(acks)
        for item in items:
            if isinstance(item, EnrichedReview):
                self.enriched += 1
            else:
                self.rejected[item.reason] += 1
        now = time.monotonic()
        if self._every and now - self._last_log >= self._every:
            self._last_log = now
            log.info(self._line("progress"))

    def _line(self, what: str) -> str:
        done = self.enriched + sum(self.rejected.values())
        elapsed = max(time.monotonic() - self._started, 1e-9)
        of = f"/{self._expected:,} ({done / self._expected:.0%})" if self._expected else ""
        return (
            f"{what} [worker {self._worker}]: {done:,}{of} stored · {self.enriched:,} enriched · "
            f"{sum(self.rejected.values()):,} rejected · {done / elapsed:,.0f} records/s"
        )

    def close(self) -> None:
        try:
            self._wait()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
            log.info(self._line("done"))
            if self.ack_failures:
                log.warning("%d SQS deletes failed; those messages will be redelivered and rewritten idempotently",
                            self.ack_failures)
            self._store.close()
            self._acker.close()


class StoreSink(DynamicSink[Outcome]):
    """Writes enriched and rejected records to the store; at-least-once, idempotent by record id."""

    def __init__(self, open_store: Callable[[], ReviewStore], expected: int | None = None, progress_seconds: float = 2.0):
        self.open_store = open_store
        self.expected = expected
        self.progress_seconds = progress_seconds

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition:
        store = self.open_store()
        store.setup()
        expected = self.expected if worker_count == 1 else None
        return _StorePartition(store, SqsAcker(), worker_index, expected, self.progress_seconds)
