"""The Bytewax sink that writes outcomes to the store, then acknowledges their source messages.

Each worker writes its own batches (the worker is the unit of parallelism).
Order per batch: durable store write, then SQS delete. If the write fails the
flow stops with the error and nothing is acknowledged, so SQS redelivers.
Logs a progress line every few seconds and a summary when the input ends.

A batch whose every record carries an SQS ack is handed to a background writer
while the worker goes on: the store round trip and the deletes overlap the model
instead of adding to it. The writer takes everything queued so far as one store
write (the flow hands over small batches, one per upstream branch), writes in
order, and makes the worker wait only when `max_queued` records are waiting. Nothing
changes for the delivery guarantee, because a message is still deleted only after
its record is durably written; a failed write stops the flow at the next batch or
at the end. Batches from a file (no acks) are written before `write_batch` returns,
after everything queued, so a Bytewax recovery snapshot never gets ahead of the store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from connectors.sqs import SqsAcker
from connectors.store import ReviewWriter
from core.records import Ack, EnrichedReview, Outcome

log = logging.getLogger("sift.progress")


class _StorePartition(StatelessSinkPartition[Outcome]):
    def __init__(self, store: ReviewWriter, acker: SqsAcker, worker: int, expected: int | None, every: float):
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
        self._background: BackgroundWriter | None = None

    def write_batch(self, items: list[Outcome]) -> None:
        if not items:
            return
        if all(item.ack is not None for item in items):
            if self._background is None:
                self._background = BackgroundWriter(self._write, name=f"sift-store-w{self._worker}")
            self._background.submit(items)  # a failed background write is raised here
        else:
            if self._background is not None:
                self._background.flush()
            self._write(items)

    def _write(self, items: Sequence[Outcome]) -> None:
        stored = self._store.write(items)  # as stored: a message that reused another's id is its id_conflict record
        acks: list[Ack] = [item.ack for item in items if item.ack is not None]
        if acks:
            self.ack_failures += self._acker.ack(acks)
        for item in stored:
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
            if self._background is not None:
                self._background.close()
        finally:
            log.info(self._line("done"))
            if self.ack_failures:
                log.warning("%d SQS deletes failed; those messages will be redelivered and rewritten idempotently",
                            self.ack_failures)
            self._store.close()
            self._acker.close()


class BackgroundWriter:
    """Writes submitted items on one thread, in submission order, everything queued at once.

    `submit` blocks only while `max_queued` items are waiting; after a failed write every
    later `submit`, `flush` or `close` raises that error (nothing queued after it is written).
    """

    def __init__(self, write: Callable[[list[Outcome]], None], name: str, max_queued: int = 2048):
        self._write = write
        self._max_queued = max_queued
        self._queue: list[Outcome] = []
        self._busy = False
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, items: Sequence[Outcome]) -> None:
        with self._cond:
            while len(self._queue) >= self._max_queued and self._error is None:
                self._cond.wait()
            self._raise()
            self._queue.extend(items)
            self._cond.notify_all()

    def flush(self) -> None:
        """Return once everything submitted is written (or raise why it was not)."""
        with self._cond:
            while (self._queue or self._busy) and self._error is None:
                self._cond.wait()
            self._raise()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                items, self._queue, self._busy = self._queue, [], True
                self._cond.notify_all()
            try:
                self._write(items)
            except BaseException as e:  # noqa: BLE001 - raised in the worker by the next submit/flush/close
                with self._cond:
                    self._error, self._busy = e, False
                    self._cond.notify_all()
                return
            with self._cond:
                self._busy = False
                self._cond.notify_all()


class StoreSink(DynamicSink[Outcome]):
    """Writes enriched and rejected records to the store; at-least-once, idempotent by record id."""

    def __init__(self, open_store: Callable[[], ReviewWriter], expected: int | None = None, progress_seconds: float = 2.0):
        self.open_store = open_store
        self.expected = expected
        self.progress_seconds = progress_seconds

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _StorePartition:
        store = self.open_store()
        store.setup()
        expected = self.expected if worker_count == 1 else None
        return _StorePartition(store, SqsAcker(), worker_index, expected, self.progress_seconds)
