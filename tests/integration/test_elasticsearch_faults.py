"""The Elasticsearch store against the real server made to fail the way production does.

- 429: the read-only-allow-delete block is what Elasticsearch puts on an index at the flood-stage disk
  watermark; every write to that index then answers 429 TOO_MANY_REQUESTS while other indices accept
  theirs, so one bulk request comes back part failed, part written.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.test_store_contract import enriched, rejected

pytestmark = pytest.mark.integration


def in_thread(fn) -> tuple[threading.Thread, dict]:
    """Start `fn` in a thread; the dict gets its `value` or its `error`."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_a_429_for_one_index_leaves_each_bulk_result_with_its_own_action(es_store, caplog):
    es_store.setup()
    good = [enriched(f"e{i}", seed=i, text=f"payment {i} failed twice") for i in range(30)]
    bad = [rejected(f"r{i}") for i in range(10)]
    blocked = {"index.blocks.read_only_allow_delete": True}
    es_store.client.indices.put_settings(index=es_store.reviews, settings=blocked)
    try:
        # Each record is an index action on one index and a delete on the other: with reviews blocked, every
        # enriched record's write fails and its delete succeeds (a rejected record's the other way round).
        writer, out = in_thread(lambda: es_store.write(good + bad))
        assert until(lambda: "429 cluster_block_exception" in caplog.text, 30), "the server never answered 429"
        time.sleep(1.0)  # a few more refused attempts
        assert writer.is_alive(), "the write returned while every review write was being refused"
    finally:
        es_store.client.indices.put_settings(index=es_store.reviews, settings={"index.blocks.read_only_allow_delete": None})
    writer.join(60)
    assert not writer.is_alive() and "error" not in out, out.get("error")
    es_store.refresh()
    for e in good:
        doc = es_store.get(e.id)
        assert doc is not None and doc["kind"] == "enriched" and doc["text"] == e.review.text, e.id
    for r in bad:
        assert es_store.get(r.id)["kind"] == "rejected", r.id
    assert es_store.counts().total == len(good) + len(bad)

