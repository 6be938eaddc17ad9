"""One suite, both backends: SQLite always; Elasticsearch against the real server (integration)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from connectors.elasticsearch_store import ElasticsearchStore
from connectors.sqlite_store import SqliteStore
from connectors.store import ReviewStore, StoreUnavailable
from core.records import EnrichedReview, Measures, Rejected, Review, conflict_id
from core.settings import ElasticsearchSettings

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
        s.client.indices.delete(index=f"{s.cfg.index_prefix}-*", ignore_unavailable=True)
    s.close()


def vec(seed: int) -> tuple[float, ...]:
    v = np.random.default_rng(seed).standard_normal(384)
    return tuple((v / np.linalg.norm(v)).tolist())


def enriched(rid: str, label: str = "payments", seed: int = 0, text: str = "payment failed",
             at: datetime = T0, cluster: str = "c0", rating: int = 1, app: str = "paynest",
             lang: str = "en", translation: str = "not_needed", fingerprint: str = "") -> EnrichedReview:
    review = Review(id=rid, app_id=app, text=text, source="google_play", created_at=at, received_at=at,
                    origin="t", rating=rating, app_version="4.12.0", fingerprint=fingerprint,
                    raw=f'{{"id": "{rid}", "text": "{text}"}}')
    return EnrichedReview(review=review, measures=Measures(2, 0.0), lang=lang, text_en=text, translated=False,
                          translation=translation,
                          primary_label=label, label_score=0.8, embedding=vec(seed), cluster_id=f"{app}:{label}:{cluster}",
                          cluster_keywords=("payment",), processed_at=T0)


def rejected(rid: str, reason: str = "too_short", fingerprint: str = "", raw: str = '{"text":"ok"}') -> Rejected:
    return Rejected(id=rid, app_id="paynest", reason=reason, detail="1 words; minimum 3", raw=raw,
                    origin="t", received_at=T0, at=T0, measures=Measures(1, 0.0), fingerprint=fingerprint)


def twin(store: ReviewStore) -> ReviewStore:
    """A second client of the same store (another worker or process)."""
    return SqliteStore(store.path) if isinstance(store, SqliteStore) else ElasticsearchStore(store.cfg)


def test_counts_by_kind_reason_and_label(store):
    store.write([enriched("a"), enriched("b", "refunds", 1), rejected("c"), rejected("d", "malformed_json")])
    store.refresh()
    c = store.counts()
    assert (c.enriched, c.rejected, c.total) == (2, 2, 4)
    assert c.by_label == {"payments": 1, "refunds": 1}
    assert c.by_reason == {"too_short": 1, "malformed_json": 1}
    assert store.counts(app_id="someone-else").total == 0
    assert c.untranslated_by_lang == {}
    store.write([enriched("h1", lang="hi", translation="untranslated"), enriched("h2", lang="hi-Latn", translation="untranslated"),
                 enriched("h3", lang="hi", translation="untranslated"), enriched("t", lang="es", translation="translated")])
    store.refresh()
    assert store.counts().untranslated_by_lang == {"hi": 2, "hi-Latn": 1}


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


def test_a_message_reusing_an_id_is_kept_apart_and_never_overwrites(store):
    """Issue 18.1: an enriched review became a `missing_field` rejection when another message reused its id."""
    first = enriched("paynest/r-1", fingerprint="f-first")
    store.write([first])
    reuse = rejected("paynest/r-1", "missing_field", fingerprint="f-other", raw='{"id": "r-1", "app_id": "paynest"}')
    stored = store.write([reuse])
    store.refresh()
    assert [(o.id, o.reason) for o in stored] == [("paynest!f-other", "id_conflict")]
    assert conflict_id("paynest/r-1", "f-other") == "paynest!f-other"
    without_vector = lambda doc: {k: v for k, v in doc.items() if k != "embedding"}  # noqa: E731
    assert without_vector(store.get("paynest/r-1")) == {**without_vector(first.to_doc()), "kind": "enriched"}
    conflict = store.get("paynest!f-other")
    assert (conflict["kind"], conflict["reason"], conflict["fingerprint"], conflict["app_id"], conflict["raw"]) == (
        "rejected", "id_conflict", "f-other", "paynest", reuse.raw)
    assert "'paynest/r-1'" in conflict["detail"] and "missing_field" in conflict["detail"]
    # redeliveries of either message rewrite their own record; a later verdict on the first message still applies
    store.write([reuse])
    store.write([first])
    store.write([rejected("paynest/r-1", "duplicate", fingerprint="f-first")])
    store.refresh()
    c = store.counts()
    assert (c.enriched, c.rejected, c.by_reason) == (0, 2, {"duplicate": 1, "id_conflict": 1})
    assert store.get("paynest/r-1")["fingerprint"] == "f-first"


def test_within_a_batch_the_first_message_of_an_id_owns_it(store):
    a, b = enriched("paynest/r-2", fingerprint="fa"), enriched("paynest/r-2", text="refund stuck", seed=3, fingerprint="fb")
    stored = store.write([a, b, a, rejected("paynest/r-3", fingerprint="fc")])
    store.refresh()
    assert [(o.id, getattr(o, "reason", "enriched")) for o in stored] == [
        ("paynest/r-2", "enriched"), ("paynest!fb", "id_conflict"), ("paynest/r-2", "enriched"),
        ("paynest/r-3", "too_short")]
    assert (store.get("paynest/r-2")["text"], store.get("paynest!fb")["kind"]) == ("payment failed", "rejected")
    assert store.counts().total == 3


def test_two_writers_racing_for_an_id_leave_one_owner_and_one_conflict(store):
    """Two workers write different messages with one id at the same moment: the claim is atomic."""
    import threading

    other = twin(store)
    rounds = 12
    errors: list[str] = []

    def write(s: ReviewStore, outcome, barrier) -> None:
        barrier.wait()
        try:
            s.write([outcome])
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    for i in range(rounds):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=write, args=(store, enriched(f"paynest/race-{i}", fingerprint=f"a{i}"), barrier)),
                   threading.Thread(target=write, args=(other, rejected(f"paynest/race-{i}", fingerprint=f"b{i}"), barrier))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    other.close()
    store.refresh()
    assert not errors, errors[:3]
    assert store.counts().total == 2 * rounds
    for i in range(rounds):
        owner = store.get(f"paynest/race-{i}")["fingerprint"]
        loser = f"b{i}" if owner == f"a{i}" else f"a{i}"
        assert owner in (f"a{i}", f"b{i}") and store.get(f"paynest!{loser}")["reason"] == "id_conflict"


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


def test_full_text_search_matches_words_in_original_or_english_text(store):
    store.write([
        enriched("a", text="UPI payment failed at the petrol pump"),
        enriched("b", text="cashback never credited", seed=1),
        enriched("c", text="refund pending for ten days", seed=2, app="other-app"),
        rejected("d"),
    ])
    store.refresh()
    assert [h["id"] for h in store.search_text("petrol")] == ["a"]
    assert {h["id"] for h in store.search_text("cashback refund")} == {"b", "c"}
    assert [h["id"] for h in store.search_text("cashback refund", app_id="paynest")] == ["b"]
    assert store.search_text("   ") == [] and store.search_text("nothing-like-this") == []


def test_counts_over_time_bucket_in_utc(store):
    ist = timezone(timedelta(hours=5, minutes=30))
    store.write([
        enriched("a", at=datetime(2026, 10, 2, 1, 0, tzinfo=ist)),  # 2026-10-01 19:30 UTC
        enriched("b", at=datetime(2026, 10, 2, 12, 0, tzinfo=timezone.utc)),
        enriched("c", "refunds", at=datetime(2026, 10, 2, 12, 30, tzinfo=timezone.utc), rating=3),
    ])
    store.refresh()
    assert store.counts_over_time() == [
        ("2026-10-01", "payments", 1), ("2026-10-02", "payments", 1), ("2026-10-02", "refunds", 1)]
    assert store.counts_over_time("rating", "hour", since=datetime(2026, 10, 2, tzinfo=timezone.utc)) == [
        ("2026-10-02T12:00", "1", 1), ("2026-10-02T12:00", "3", 1)]
    assert store.counts_over_time(until=datetime(2026, 10, 2, tzinfo=timezone.utc)) == [("2026-10-01", "payments", 1)]
    with pytest.raises(ValueError, match="cannot group by 'text'"):
        store.counts_over_time("text")


def test_top_clusters_ranked_by_size_with_keywords(store):
    store.write([enriched(f"a{i}", cluster="c1", rating=1) for i in range(3)]
                + [enriched(f"b{i}", cluster="c2", rating=5, seed=9) for i in range(2)]
                + [enriched("r", "refunds", cluster="c0")])
    store.refresh()
    top = store.top_clusters(limit=2)
    assert [(c["cluster_id"], c["count"], c["avg_rating"]) for c in top] == [
        ("paynest:payments:c1", 3, 1.0), ("paynest:payments:c2", 2, 5.0)]
    assert top[0]["keywords"] == ["payment"] and top[0]["primary_label"] == "payments"
    assert top[0]["last_seen"] == T0.isoformat()
    assert [c["cluster_id"] for c in store.top_clusters(label="refunds")] == ["paynest:refunds:c0"]


def test_rejected_records_are_queryable_by_reason(store):
    store.write([rejected("a"), rejected("b", "malformed_json"), enriched("c")])
    store.refresh()
    assert [r["id"] for r in store.list_rejected(reason="malformed_json")] == ["b"]
    assert {r["id"] for r in store.list_rejected()} == {"a", "b"}


def test_documents_are_upserted_and_paged_with_a_cursor(store):
    docs = [{"id": f"t{i}", "app_id": "paynest", "updated_at": f"2026-10-0{1 + i // 2}T10:00:00+00:00",
             "status": "open", "version": 1} for i in range(5)]
    store.write_documents("tickets", docs)
    store.write_documents("tickets", [{**docs[0], "version": 2, "updated_at": "2026-10-09T08:00:00+05:30"}])
    page, cursor = store.list_documents("tickets", limit=2)
    assert [d["id"] for d in page] == ["t1", "t2"]
    page2, cursor2 = store.list_documents("tickets", cursor=cursor, limit=2)
    assert [d["id"] for d in page2] == ["t3", "t4"]
    page3, cursor3 = store.list_documents("tickets", cursor=cursor2, limit=2)
    assert [(d["id"], d["version"], d["updated_at"]) for d in page3] == [("t0", 2, "2026-10-09T02:30:00.000+00:00")]
    assert store.list_documents("tickets", cursor=cursor3) == ([], cursor3)  # poll again later with the same cursor
    assert store.get_document("tickets", "t0")["version"] == 2
    assert store.get_document("feature_requests", "t0") is None
    assert store.list_documents("tickets", status="closed")[0] == []
    with pytest.raises(ValueError, match="invalid cursor"):
        store.list_documents("tickets", cursor="garbage!")
    with pytest.raises(ValueError, match="unknown document kind"):
        store.write_documents("memes", docs)


def test_a_ticket_version_never_replaces_a_newer_one(store):
    # a flow resumed from an older snapshot re-publishes versions the store already has a later one of
    doc = {"id": "t1", "app_id": "paynest", "updated_at": "2026-10-01T10:00:00+00:00", "status": "open"}
    store.write_documents("tickets", [{**doc, "version": 3, "count": 30}])
    store.write_documents("tickets", [{**doc, "version": 2, "count": 20, "updated_at": "2026-10-01T11:00:00+00:00"}])
    store.refresh()
    assert (store.get_document("tickets", "t1")["version"], store.get_document("tickets", "t1")["count"]) == (3, 30)
    store.write_documents("tickets", [{**doc, "version": 3, "count": 31}, {**doc, "id": "t2", "version": 1}])
    store.write_documents("tickets", [{**doc, "version": 4, "count": 40}])
    store.refresh()
    assert [(d["id"], d["version"]) for d in store.list_documents("tickets")[0]] == [("t1", 4), ("t2", 1)]
    # documents without a version (feature requests, watch list) are plain upserts
    store.write_documents("feature_requests", [{**doc, "feature": "a"}])
    store.write_documents("feature_requests", [{**doc, "feature": "b"}])
    assert store.get_document("feature_requests", "t1")["feature"] == "b"


def test_an_apps_watch_state_is_one_document_with_its_orgs_as_written(store):
    # the flow rewrites it after every watch-list command; the feed's GET /v1/watchlist reads it back whole
    state = {"id": "ws-paynest", "app_id": "paynest", "updated_at": "2026-10-01T10:00:00+00:00",
             "change": "watching CRED", "orgs": [{"name": "CRED", "hashtags": ["#CRED"], "aliases": []}]}
    store.write_documents("watch_state", [state])
    later = {**state, "updated_at": "2026-10-01T11:00:00+00:00", "change": "watching Google Pay (#GooglePay; gpay)",
             "orgs": [*state["orgs"], {"name": "Google Pay", "hashtags": ["#GooglePay"], "aliases": ["gpay"]}]}
    store.write_documents("watch_state", [later])
    store.refresh()
    got = store.get_document("watch_state", "ws-paynest")
    assert (got["orgs"], got["change"]) == (later["orgs"], later["change"])
    assert got["updated_at"] == "2026-10-01T11:00:00.000+00:00"
    assert store.get_document("watchlist", "ws-paynest") is None


def test_two_openers_of_a_new_sqlite_file_both_get_it(tmp_path):
    """Two flow processes (`-i 0`/`-i 1`) sharing a new SQLite file: switching it to WAL at the same moment
    answered "database is locked" at once, without the busy timeout, for about 1 opener in 8. Each round
    starts both openers together on a fresh file."""
    import threading

    errors: list[str] = []

    def open_and_set_up(path, barrier):
        barrier.wait()
        try:
            SqliteStore(path).setup()
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(e))

    for i in range(60):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=open_and_set_up, args=(tmp_path / f"{i}.db", barrier)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[:3]


def test_a_set_up_store_is_readable_and_an_unset_one_is_not(store):
    store.check_readable()  # set up by the fixture, as the flow does
    if isinstance(store, SqliteStore):
        fresh = SqliteStore(store.path.with_name("never-written.db"))
        gone = fresh.path
    else:
        fresh = ElasticsearchStore(ElasticsearchSettings(url=store.cfg.url, index_prefix=f"test-{uuid.uuid4().hex[:8]}"))
        gone = None
    with pytest.raises(StoreUnavailable, match="the flow creates"):
        fresh.check_readable()
    if gone is not None:
        assert not gone.exists()
    else:
        assert not fresh.client.indices.get(index=f"{fresh.cfg.index_prefix}-*")  # nothing was created
    fresh.close()
