"""One suite, both backends: SQLite always; Elasticsearch against the real server (integration)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import numpy as np
import pytest

from connectors.elasticsearch_store import ElasticsearchStore
from connectors.sqlite_store import SqliteStore
from connectors.store import ReviewStore
from flows.records import EnrichedReview, Measures, Rejected, Review
from flows.settings import ElasticsearchSettings

T0 = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.integration)])
def store(request, tmp_path) -> ReviewStore:
    if request.param == "sqlite":
        s: ReviewStore = SqliteStore(tmp_path / "store.db")
    else:
        url = request.getfixturevalue("es_url")
        s = ElasticsearchStore(ElasticsearchSettings(url=url, index_prefix=f"test-{uuid.uuid4().hex[:8]}"))
    s.setup()
    yield s
    if isinstance(s, ElasticsearchStore):
        s.client.indices.delete(index=f"{s.reviews},{s.rejected}", ignore_unavailable=True)
    s.close()


def vec(seed: int) -> tuple[float, ...]:
    v = np.random.default_rng(seed).standard_normal(384)
    return tuple((v / np.linalg.norm(v)).tolist())


def enriched(rid: str, label: str = "payments", seed: int = 0, text: str = "payment failed") -> EnrichedReview:
    review = Review(id=rid, app_id="paynest", text=text, source="google_play", created_at=T0, received_at=T0,
                    origin="t", rating=1, app_version="4.12.0")
    return EnrichedReview(review=review, measures=Measures(2, 0.0), lang="en", text_en=text, translated=False,
                          primary_label=label, label_score=0.8, embedding=vec(seed), cluster_id=f"paynest:{label}:c0",
                          cluster_keywords=("payment",), processed_at=T0)


def rejected(rid: str, reason: str = "too_short") -> Rejected:
    return Rejected(id=rid, app_id="paynest", reason=reason, detail="1 words; minimum 3", raw='{"text":"ok"}',
                    origin="t", received_at=T0, at=T0, measures=Measures(1, 0.0))


def test_counts_by_kind_reason_and_label(store):
    store.write([enriched("a"), enriched("b", "refunds", 1), rejected("c"), rejected("d", "malformed_json")])
    store.refresh()
    c = store.counts()
    assert (c.enriched, c.rejected, c.total) == (2, 2, 4)
    assert c.by_label == {"payments": 1, "refunds": 1}
    assert c.by_reason == {"too_short": 1, "malformed_json": 1}
    assert store.counts(app_id="someone-else").total == 0


def test_writes_are_idempotent(store):
    batch = [enriched("a"), rejected("b")]
    store.write(batch)
    store.write(batch)
    store.write([enriched("a")])
    store.refresh()
    assert store.counts().total == 2


def test_an_id_is_either_enriched_or_rejected_never_both(store):
    store.write([rejected("x")])
    store.write([enriched("x")])
    store.refresh()
    c = store.counts()
    assert (c.enriched, c.rejected) == (1, 0)
    assert store.get("x")["kind"] == "enriched"
    store.write([rejected("x", "non_english")])
    store.refresh()
    assert store.get("x") == {**rejected("x", "non_english").to_doc(), "kind": "rejected"}


def test_get_returns_the_stored_document(store):
    store.write([enriched("a")])
    store.refresh()
    doc = store.get("a")
    assert doc["kind"] == "enriched" and doc["primary_label"] == "payments" and doc["app_version"] == "4.12.0"
    assert store.get("missing") is None


def test_knn_returns_nearest_first(store):
    store.write([enriched(f"r{i}", seed=i, text=f"text {i}") for i in range(20)])
    store.refresh()
    hits = store.knn(vec(7), k=3)
    assert hits[0]["id"] == "r7"
    assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
    assert len(hits) == 3 and "embedding" not in hits[0]
    assert store.knn(vec(7), k=3, app_id="nobody") == []
