"""The store sink: queue-sourced batches are written in the background, one at a time, in order, and acknowledged
only after their write; file batches (no acks) are written before `write_batch` returns; a failed write stops the flow."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from connectors.store import StoreError
from connectors.store_sink import _StorePartition
from flows.records import Ack, Rejected

AT = datetime(2026, 10, 1, tzinfo=timezone.utc)


def rejected(i: int, acked: bool = True) -> Rejected:
    ack = Ack(queue_url="q", receipt_handle=f"h{i}", message_id=f"m{i}") if acked else None
    return Rejected(id=f"r{i}", app_id="paynest", reason="too_short", detail="", raw="ok", origin="t",
                    received_at=AT, at=AT, ack=ack)


class RecordingStore:
    """Records writes; a write can be held until the test releases it, or fail."""

    def __init__(self, fail_on: int | None = None):
        self.events: list[tuple[str, list[str]]] = []
        self.release = threading.Event()
        self.release.set()
        self.fail_on = fail_on
        self.closed = False

    def write(self, items) -> None:
        self.release.wait(10)
        ids = [item.id for item in items]
        if self.fail_on is not None and f"r{self.fail_on}" in ids:
            raise StoreError("store is down")
        self.events.append(("write", ids))

    def close(self) -> None:
        self.closed = True


class RecordingAcker:
    def __init__(self, store: RecordingStore):
        self.store = store

    def ack(self, acks) -> int:
        self.store.events.append(("ack", [a.message_id for a in acks]))
        return 0

    def close(self) -> None:
        pass


def partition(store: RecordingStore) -> _StorePartition:
    return _StorePartition(store, RecordingAcker(store), worker=0, expected=None, every=0)


def test_queue_batches_are_written_in_the_background_in_order_and_acked_after_their_write():
    store = RecordingStore()
    part = partition(store)
    store.release.clear()
    part.write_batch([rejected(1), rejected(2)])  # returns while the write is held
    assert store.events == []
    store.release.set()
    part.write_batch([rejected(3)])  # waits for the first batch before handing over the second
    part.close()
    assert store.events == [("write", ["r1", "r2"]), ("ack", ["m1", "m2"]), ("write", ["r3"]), ("ack", ["m3"])]
    assert part.rejected["too_short"] == 3 and store.closed


def test_file_batches_are_written_before_write_batch_returns():
    store = RecordingStore()
    part = partition(store)
    part.write_batch([rejected(1, acked=False), rejected(2, acked=False)])
    assert store.events == [("write", ["r1", "r2"])]
    part.close()


def test_a_failed_background_write_stops_the_flow_and_acknowledges_nothing():
    store = RecordingStore(fail_on=1)
    part = partition(store)
    part.write_batch([rejected(1)])
    with pytest.raises(StoreError, match="store is down"):
        part.write_batch([rejected(2)])
    assert all(kind != "ack" for kind, _ in store.events)


def test_a_failed_last_write_is_raised_by_close():
    store = RecordingStore(fail_on=1)
    part = partition(store)
    part.write_batch([rejected(1)])
    with pytest.raises(StoreError):
        part.close()
    assert store.closed and store.events == []
