"""Functional smoke checks for the local test services (used by `scripts/services.sh check`).

    python scripts/services/smoke.py es  http://127.0.0.1:9200
    python scripts/services/smoke.py sqs http://127.0.0.1:9324

es:  cluster health (yellow), an index with a 384-dim `dense_vector` field
     (index: true, similarity: cosine), `_bulk` indexing and a top-level `knn` search.
sqs: CreateQueue, SendMessageBatch, ReceiveMessage, DeleteMessageBatch, DeleteQueue
     through boto3 (falls back to the SQS query API over urllib if boto3 is missing).

Everything it creates is temporary and deleted again. Exit code 0 = all checks passed.
Only the standard library is required.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

DIMS = 384


class CheckFailed(Exception):
    pass


def _http(method: str, url: str, body: bytes | None = None, content_type: str = "application/json"):
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def _es(method: str, base: str, path: str, payload=None, ndjson: str | None = None):
    if ndjson is not None:
        status, text = _http(method, base + path, ndjson.encode(), "application/x-ndjson")
    elif payload is not None:
        status, text = _http(method, base + path, json.dumps(payload).encode())
    else:
        status, text = _http(method, base + path)
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        data = {"raw": text}
    if status >= 300:
        raise CheckFailed(f"{method} {path} -> HTTP {status}: {text[:600]}")
    return data


def _unit_vector(rng: random.Random) -> list[float]:
    v = [rng.gauss(0.0, 1.0) for _ in range(DIMS)]
    n = math.sqrt(sum(x * x for x in v))
    return [round(x / n, 6) for x in v]


def check_es(base: str) -> None:
    base = base.rstrip("/")
    # Note: `GET /` (client.info()/ping()) is not available in the integ-test-zip distribution
    # (the rest-root module is not shipped), so use the nodes API for the version.
    health = _es("GET", base, "/_cluster/health?wait_for_status=yellow&timeout=30s")
    if health.get("timed_out") or health.get("status") not in ("yellow", "green"):
        raise CheckFailed(f"cluster health not yellow/green: {health}")
    node = next(iter(_es("GET", base, "/_nodes/_local")["nodes"].values()))
    modules = ",".join(sorted(m["name"] for m in node.get("modules", [])))
    print(f"es: version {node['version']}, cluster '{health['cluster_name']}' status {health['status']}, "
          f"modules [{modules}]")

    index = f"sift-smoke-{os.getpid()}-{int(time.time())}"
    try:
        _es("PUT", base, f"/{index}", {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"properties": {
                "title": {"type": "text"},
                "embedding": {"type": "dense_vector", "dims": DIMS, "index": True, "similarity": "cosine"},
            }},
        })
        mapping = _es("GET", base, f"/{index}/_mapping")[index]["mappings"]["properties"]["embedding"]
        print(f"es: created index with dense_vector mapping {json.dumps(mapping, sort_keys=True)}")

        rng = random.Random(42)
        vectors = [_unit_vector(rng) for _ in range(50)]
        lines = []
        for i, vec in enumerate(vectors):
            lines.append(json.dumps({"index": {"_index": index, "_id": str(i)}}))
            lines.append(json.dumps({"title": f"document {i}", "embedding": vec}))
        bulk = _es("POST", base, "/_bulk?refresh=true", ndjson="\n".join(lines) + "\n")
        if bulk.get("errors"):
            first = next(it for it in bulk["items"] if it["index"].get("error"))
            raise CheckFailed(f"_bulk reported errors, first: {json.dumps(first)[:600]}")
        count = _es("GET", base, f"/{index}/_count")["count"]
        if count != len(vectors):
            raise CheckFailed(f"expected {len(vectors)} docs after bulk, got {count}")
        print(f"es: _bulk indexed {count} docs ({DIMS}-dim vectors)")

        target = 17
        res = _es("POST", base, f"/{index}/_search", {
            "knn": {"field": "embedding", "query_vector": vectors[target], "k": 5, "num_candidates": 50},
            "_source": ["title"],
        })
        hits = res["hits"]["hits"]
        if not hits or hits[0]["_id"] != str(target):
            raise CheckFailed(f"knn top hit should be {target}, got {[h['_id'] for h in hits]}")
        print(f"es: top-level knn search OK (k=5, top hit {hits[0]['_id']} score {hits[0]['_score']:.4f}, "
              f"{len(hits)} hits, took {res['took']} ms)")
    finally:
        try:
            _es("DELETE", base, f"/{index}")
        except CheckFailed:
            pass


def _check_sqs_boto3(endpoint: str, boto3) -> None:
    client = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    )
    name = f"sift-smoke-{os.getpid()}-{int(time.time())}"
    url = client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    try:
        print(f"sqs: CreateQueue OK ({url}) via boto3 {boto3.__version__}")
        sent = client.send_message_batch(QueueUrl=url, Entries=[
            {"Id": f"m{i}", "MessageBody": json.dumps({"n": i})} for i in range(10)
        ])
        if sent.get("Failed") or len(sent.get("Successful", [])) != 10:
            raise CheckFailed(f"SendMessageBatch failed: {sent.get('Failed')}")
        print("sqs: SendMessageBatch OK (10 messages)")
        received = []
        deadline = time.time() + 15
        while len(received) < 10 and time.time() < deadline:
            r = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            received.extend(r.get("Messages", []))
        if len(received) != 10:
            raise CheckFailed(f"ReceiveMessage returned {len(received)} of 10 messages")
        bodies = sorted(json.loads(m["Body"])["n"] for m in received)
        if bodies != list(range(10)):
            raise CheckFailed(f"unexpected message bodies: {bodies}")
        print("sqs: ReceiveMessage OK (10 messages)")
        deleted = client.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)
        ])
        if deleted.get("Failed") or len(deleted.get("Successful", [])) != 10:
            raise CheckFailed(f"DeleteMessageBatch failed: {deleted.get('Failed')}")
        attrs = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        left = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
        if left:
            raise CheckFailed(f"{left} messages left after DeleteMessageBatch")
        print("sqs: DeleteMessageBatch OK (queue empty)")
    finally:
        client.delete_queue(QueueUrl=url)


def _sqs_query(endpoint: str, params: dict) -> ET.Element:
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"}).encode()
    status, text = _http("POST", endpoint, body, "application/x-www-form-urlencoded")
    if status >= 300:
        raise CheckFailed(f"{params['Action']} -> HTTP {status}: {text[:600]}")
    root = ET.fromstring(text)
    for el in root.iter():  # drop namespaces
        el.tag = el.tag.split("}", 1)[-1]
    return root


def _check_sqs_query(endpoint: str) -> None:
    name = f"sift-smoke-{os.getpid()}-{int(time.time())}"
    url = _sqs_query(endpoint, {"Action": "CreateQueue", "QueueName": name}).findtext(".//QueueUrl")
    try:
        print(f"sqs: CreateQueue OK ({url}) via query API (boto3 not installed)")
        params = {"Action": "SendMessageBatch", "QueueUrl": url}
        for i in range(10):
            params[f"SendMessageBatchRequestEntry.{i + 1}.Id"] = f"m{i}"
            params[f"SendMessageBatchRequestEntry.{i + 1}.MessageBody"] = json.dumps({"n": i})
        ok = _sqs_query(endpoint, params).findall(".//SendMessageBatchResultEntry")
        if len(ok) != 10:
            raise CheckFailed(f"SendMessageBatch sent {len(ok)} of 10")
        print("sqs: SendMessageBatch OK (10 messages)")
        handles = []
        deadline = time.time() + 15
        while len(handles) < 10 and time.time() < deadline:
            r = _sqs_query(endpoint, {"Action": "ReceiveMessage", "QueueUrl": url,
                                      "MaxNumberOfMessages": "10", "WaitTimeSeconds": "1"})
            handles.extend(m.findtext("ReceiptHandle") for m in r.findall(".//Message"))
        if len(handles) != 10:
            raise CheckFailed(f"ReceiveMessage returned {len(handles)} of 10 messages")
        print("sqs: ReceiveMessage OK (10 messages)")
        params = {"Action": "DeleteMessageBatch", "QueueUrl": url}
        for i, h in enumerate(handles):
            params[f"DeleteMessageBatchRequestEntry.{i + 1}.Id"] = f"d{i}"
            params[f"DeleteMessageBatchRequestEntry.{i + 1}.ReceiptHandle"] = h
        ok = _sqs_query(endpoint, params).findall(".//DeleteMessageBatchResultEntry")
        if len(ok) != 10:
            raise CheckFailed(f"DeleteMessageBatch deleted {len(ok)} of 10")
        print("sqs: DeleteMessageBatch OK")
    finally:
        _sqs_query(endpoint, {"Action": "DeleteQueue", "QueueUrl": url})


def check_sqs(endpoint: str) -> None:
    try:
        import boto3  # noqa: PLC0415
    except ImportError:
        _check_sqs_query(endpoint)
    else:
        _check_sqs_boto3(endpoint, boto3)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in ("es", "sqs"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (check_es if argv[1] == "es" else check_sqs)(argv[2])
    except CheckFailed as exc:
        print(f"{argv[1]}: CHECK FAILED: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - report anything unexpected as a failed check
        print(f"{argv[1]}: CHECK FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
