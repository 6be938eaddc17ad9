"""The Elasticsearch store against the real server made to fail the way production does.

- 429: the read-only-allow-delete block is what Elasticsearch puts on an index at the flood-stage disk
  watermark; every write to that index then answers 429 TOO_MANY_REQUESTS while other indices accept
  theirs, so one bulk request comes back part failed, part written.
- 503: an index whose primary shard is not allocated (as a fresh index for a moment, or one recovering
  after a restart) answers every search and get with 503 until it is. Here the shard is held back with
  an allocation filter naming no node, and let go by the test.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import pytest
from elasticsearch import ApiError

from connectors.elasticsearch_store import ElasticsearchStore
from connectors.store import StoreUnavailable
from core.settings import ElasticsearchSettings
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


@pytest.fixture
def unready(es_url):
    """A store whose reviews index exists with its primary shard unassigned; `release()` lets it be allocated."""
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=f"it-{uuid.uuid4().hex[:8]}", ready_seconds=1))
    hold = "index.routing.allocation.require._name"
    store.client.indices.create(index=store.reviews, settings={"number_of_replicas": 0, hold: "sift-no-such-node"},
                                wait_for_active_shards=0)
    store.release = lambda: store.client.indices.put_settings(index=store.reviews, settings={hold: None})
    yield store
    store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
    store.close()


def test_set_up_waits_for_an_index_that_is_not_ready_and_reads_retry_its_503(unready, caplog):
    with pytest.raises(ApiError) as answered:  # the fault is real
        unready.client.options(max_retries=0).count(index=unready.reviews)
    assert answered.value.status_code == 503
    # both waits are bounded (ready_seconds=1 here)
    with pytest.raises(StoreUnavailable, match="not ready after"):
        unready.setup()
    with pytest.raises(StoreUnavailable, match="503"):
        unready.counts()
    patient = ElasticsearchStore(replace(unready.cfg, ready_seconds=60))
    try:
        setup, set_up = in_thread(patient.setup)
        read, counted = in_thread(patient.counts)
        time.sleep(2.0)
        assert setup.is_alive() and read.is_alive(), (set_up, counted)  # neither gave up nor went ahead
        unready.release()
        setup.join(60)
        read.join(60)
        assert set_up == {"value": None} and counted["value"].total == 0, (set_up, counted)
    finally:
        patient.close()
    assert "waiting for" in caplog.text and "elasticsearch read: 503" in caplog.text  # the waits were logged

