"""The real thing: demo messages through ElasticMQ into the flow and out to Elasticsearch.

No mocks: the servers are the ones `scripts/services.sh` starts. The same input
through the file source and SQLite must give the same counts and labels.
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import boto3
import pytest

from connectors.elasticsearch_store import ElasticsearchStore
from connectors.sqlite_store import SqliteStore
from demo.generate import generate
from flows.operators.embed import Embedder
from core.settings import ElasticsearchSettings
from tests.helpers import run_flow
from tests.integration.conftest import queue_depth, send_all

pytestmark = pytest.mark.integration

N = 600


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return generate(n=N, seed=11)


def es_labels(store: ElasticsearchStore) -> dict[str, str]:
    from elasticsearch import helpers

    hits = helpers.scan(store.client, index=store.reviews, _source=["primary_label"])
    return {h["_id"]: h["_source"]["primary_label"] for h in hits}


def test_sqs_in_elasticsearch_out_then_same_result_on_sqlite(sqs, queue_url, es_store, es_url, sqs_endpoint, lines, tmp_path):
    send_all(sqs, queue_url, lines)
    assert queue_depth(sqs, queue_url) == N

    result = run_flow({
        "SIFT_SOURCE": "sqs", "SIFT_SQS_QUEUE_URLS": queue_url, "SIFT_SQS_STOP_AFTER_IDLE": "4",
        "SIFT_SQS_VISIBILITY_TIMEOUT": "300",
        "SIFT_STORE": "elasticsearch", "SIFT_ES_URL": es_url, "SIFT_ES_INDEX_PREFIX": es_store.cfg.index_prefix,
        "AWS_ENDPOINT_URL_SQS": sqs_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    assert result.returncode == 0, result.stderr[-3000:]

    # Exactly N records, no duplicate ids, and every message acknowledged.
    es_store.refresh()
    counts = es_store.counts()
    ids = list(es_store.scan_ids())
    assert counts.total == N == len(ids) == len(set(ids))
    assert counts.rejected > 0 and counts.enriched > N // 2
    assert queue_depth(sqs, queue_url) == 0

    # Semantic search finds failed-payment reviews first.
    query = Embedder().encode(["my UPI payment failed and the money was debited from my account"])[0]
    top = es_store.knn(query, k=5, app_id="paynest")
    assert [h["primary_label"] for h in top] == ["payments"] * 5
    failed = ("fail", "debit", "deduct", "cut", "error", "stuck", "declined")
    assert all(any(w in h["text"].lower() for w in failed) for h in top), [h["text"] for h in top]

    # The same input through the file source and SQLite: same counts, same labels.
    path = tmp_path / "same.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "same.db"
    result = run_flow({"SIFT_INPUT": str(path), "SIFT_SQLITE_PATH": str(db), "SIFT_STORE": "sqlite", "SIFT_SOURCE": "file"})
    assert result.returncode == 0, result.stderr[-3000:]
    sqlite_store = SqliteStore(db)
    assert sqlite_store.counts() == counts
    with sqlite3.connect(db) as conn:
        sqlite_labels = dict(conn.execute("SELECT id, primary_label FROM reviews"))
    # Spam dedup keeps the first copies in arrival order, which differs between SQS and a file;
    # every review enriched on both paths must carry the same label.
    es_by_id = es_labels(es_store)
    shared = sqlite_labels.keys() & es_by_id.keys()
    assert len(shared) >= 0.95 * len(es_by_id)
    assert {i: sqlite_labels[i] for i in shared} == {i: es_by_id[i] for i in shared}
    assert Counter(sqlite_labels.values()) == Counter(counts.by_label)
