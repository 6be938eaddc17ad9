"""Connector throughput against the local services (start them with `scripts/services.sh start`).

    python -m bench.connectors [--messages 5000] [--docs 5000]

Measures, with the project's own connector code:
- SQS: messages/s for receive + delete through `_SqsPartition.next_batch` and `SqsAcker`
  (the flow's source and acknowledger), after the queue has been filled;
- Elasticsearch: documents/s for `ElasticsearchStore.write` of enriched reviews with 384-d vectors,
  in batches of `--batch` (the sink's unit of work).

The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

import numpy as np

from connectors.elasticsearch_store import ElasticsearchStore
from connectors.sqs import SqsAcker, SqsPublisher, _SqsPartition, sqs_client
from core.records import EnrichedReview, Measures, Review
from core.settings import ElasticsearchSettings, SqsSettings, redact_url


def bench_sqs(n: int) -> dict[str, float]:
    client = sqs_client()
    url = client.create_queue(QueueName=f"sift-bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        body = json.dumps({"app_id": "paynest", "text": "UPI payment failed but money debited " * 3})
        started = time.perf_counter()
        sent = SqsPublisher(url, client=client).publish([(str(i), body) for i in range(n)]).sent
        send_s = time.perf_counter() - started

        part = _SqsPartition(SqsSettings(queue_urls=(url,), wait_seconds=0, max_messages=100), 0)
        acker = SqsAcker(client)
        done, started = 0, time.perf_counter()
        while done < sent:
            batch = part.next_batch()
            acker.ack([m.ack for m in batch if m.ack])
            done += len(batch)
            if not batch and time.perf_counter() - started > 120:
                raise SystemExit(f"bench.connectors: only {done}/{sent} messages came back in 120 s")
        recv_s = time.perf_counter() - started
        part.close()
        return {"sqs_send_msgs_per_s": round(sent / send_s, 1), "sqs_receive_delete_msgs_per_s": round(done / recv_s, 1)}
    finally:
        client.delete_queue(QueueUrl=url)


def _doc(i: int, vector: np.ndarray) -> EnrichedReview:
    at = datetime(2026, 10, 1, tzinfo=timezone.utc)
    review = Review(id=f"b{i}", app_id="paynest", text=f"payment failed number {i}", source="bench",
                    created_at=at, received_at=at, origin="bench", rating=1)
    return EnrichedReview(review=review, measures=Measures(4, 0.0), lang="en", text_en=review.text,
                          translated=False, primary_label="payments", label_score=0.8,
                          embedding=tuple(vector.tolist()), cluster_id="paynest:payments:c0", processed_at=at)


def bench_es(n: int, batch: int, url: str) -> dict[str, float]:
    store = ElasticsearchStore(ElasticsearchSettings(url=url, index_prefix=f"bench-{uuid.uuid4().hex[:8]}"))
    store.setup()
    try:
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((n, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        docs = [_doc(i, vectors[i]) for i in range(n)]
        started = time.perf_counter()
        for start in range(0, n, batch):
            store.write(docs[start : start + batch])
        write_s = time.perf_counter() - started
        store.refresh()
        assert store.counts().enriched == n, "bench.connectors: Elasticsearch lost documents"
        return {"es_bulk_docs_per_s": round(n / write_s, 1), "es_batch": batch}
    finally:
        store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.connectors", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--es-url", default=os.environ.get("SIFT_ES_URL", "http://127.0.0.1:9200"))
    args = parser.parse_args(argv)
    os.environ.setdefault("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324")
    for key, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        os.environ.setdefault(key, value)
    result = {"messages": args.messages, "docs": args.docs}
    print(f"sqs: {args.messages:,} messages via {os.environ['AWS_ENDPOINT_URL_SQS']} …", file=sys.stderr)
    result |= bench_sqs(args.messages)
    print(f"elasticsearch: {args.docs:,} documents via {redact_url(args.es_url)} …", file=sys.stderr)
    result |= bench_es(args.docs, args.batch, args.es_url)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
