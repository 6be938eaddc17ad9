"""The store sink: queue-sourced batches are written in the background, in order (what queued up during a write goes
as one write), and acknowledged only after their write; file batches (no acks) are written before `write_batch`
returns; a failed write stops the flow."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from connectors.store import StoreError
from connectors.store_sink import BackgroundWriter, _StorePartition
from core.records import Ack, Rejected

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
        self.entered = threading.Event()
        self.fail_on = fail_on
        self.closed = False

    def write(self, items) -> list:
        self.entered.set()
        self.release.wait(10)
        ids = [item.id for item in items]
        if self.fail_on is not None and f"r{self.fail_on}" in ids:
            raise StoreError("store is down")
        self.events.append(("write", ids))
        return list(items)

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
    assert store.entered.wait(5) and store.events == []
    part.write_batch([rejected(3)])  # queued behind the held write, without waiting for it
    part.write_batch([rejected(4)])
    assert store.events == []
    store.release.set()
    part.close()
    assert store.events == [("write", ["r1", "r2"]), ("ack", ["m1", "m2"]), ("write", ["r3", "r4"]), ("ack", ["m3", "m4"])]
    assert part.rejected["too_short"] == 4 and store.closed


def test_the_worker_waits_only_when_too_much_is_queued():
    store = RecordingStore()
    writer = BackgroundWriter(store.write, name="test", max_queued=2)
    store.release.clear()
    writer.submit([rejected(1)])
    assert store.entered.wait(5)
    writer.submit([rejected(2), rejected(3)])  # fills the queue
    blocked = threading.Thread(target=writer.submit, args=([rejected(4)],))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # held until the writer takes the queue
    store.release.set()
    blocked.join(5)
    writer.close()
    assert store.events == [("write", ["r1"]), ("write", ["r2", "r3"]), ("write", ["r4"])]


def test_a_file_batch_waits_for_the_queue_batches_before_it():
    store = RecordingStore()
    part = partition(store)
    store.release.clear()
    part.write_batch([rejected(1)])
    threading.Timer(0.2, store.release.set).start()
    part.write_batch([rejected(2, acked=False)])
    assert store.events == [("write", ["r1"]), ("ack", ["m1"]), ("write", ["r2"])]
    part.close()


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
        for i in range(2, 500):  # the failure reaches the worker at one of its next batches
            time.sleep(0.01)
            part.write_batch([rejected(i)])
    assert all(kind != "ack" for kind, _ in store.events)
    assert all("r1" not in ids for _, ids in store.events)


def test_a_failed_last_write_is_raised_by_close():
    store = RecordingStore(fail_on=1)
    part = partition(store)
    part.write_batch([rejected(1)])
    with pytest.raises(StoreError):
        part.close()
    assert store.closed and store.events == []
