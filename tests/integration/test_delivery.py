"""Delivery guarantees against the real ElasticMQ and Elasticsearch: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from connectors.sqs import ensure_queue
from demo.generate import generate
from flows.operators.parse import identity
from tests.helpers import ROOT, run_flow
from tests.integration.conftest import flow_env, queue_depth, send_all

pytestmark = pytest.mark.integration

MALFORMED_KINDS = [
    ('{"id": "bad-%d", "app_id": "paynest", "text": "payment fai', None),  # truncated JSON
    ('{"id": "bad-%d", "app_id": "paynest"}', "missing_field"),
    ('{"id": "bad-%d", "app_id": "paynest", "text": 12345}', "invalid_field"),
    ('{"id": "bad-%d", "app_id": "paynest", "text": "refund stuck for days", "rating": "five"}', "invalid_field"),
    ('{"id": "bad-%d", "text": "no app id on this one"}', "missing_field"),
]


def recovery_env(path, snapshot_seconds: int = 2) -> dict[str, str]:
    """Bytewax recovery for `python -m bytewax.run` through its environment variables, as run_flow.sh has it on."""
    from bytewax.recovery import init_db_dir

    path.mkdir()
    init_db_dir(path, 1)
    return {"BYTEWAX_RECOVERY_DIRECTORY": str(path), "BYTEWAX_SNAPSHOT_INTERVAL": str(snapshot_seconds),
            "BYTEWAX_RECOVERY_BACKUP_INTERVAL": "0"}


def malformed(n: int) -> list[tuple[str, str, str]]:
    """`(payload, expected id, expected reason)` for `n` malformed messages of mixed kinds."""
    out = []
    for i in range(n):
        template, reason = MALFORMED_KINDS[i % len(MALFORMED_KINDS)]
        payload = template % i
        namespace = "paynest" if '"app_id"' in payload else "_"  # ids are namespaced by the app a message names
        out.append((payload, identity(payload)[0] if reason is None else f"{namespace}/bad-{i}", reason or "malformed_json"))
    return out


def test_5000_messages_with_5_percent_malformed(sqs, queue_url, es_store, es_url, sqs_endpoint):
    bad = malformed(250)
    lines = generate(n=4750, seed=21) + [payload for payload, _, _ in bad]
    send_all(sqs, queue_url, lines)
    result = run_flow(flow_env(queue_url, es_url, sqs_endpoint, es_store.cfg.index_prefix), timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]

    es_store.refresh()
    ids = list(es_store.scan_ids())
    assert es_store.counts().total == 5000 == len(ids) == len(set(ids))
    assert queue_depth(sqs, queue_url) == 0
    for payload, rid, reason in bad:
        doc = es_store.get(rid)
        assert doc is not None and doc["kind"] == "rejected", payload
        assert doc["reason"] == reason and doc["detail"] and doc["raw"] == payload


def test_a_redelivered_message_is_stored_once(sqs, queue_url, es_store, es_url, sqs_endpoint):
    review = {"id": "dup-1", "app_id": "paynest", "text": "UPI payment failed but my account was debited twice"}
    body = json.dumps(review)
    # The same message twice (a producer retry), and a third copy whose first consumer died before
    # acknowledging it: its visibility timeout expires and SQS delivers it again.
    send_all(sqs, queue_url, [body, body, body])
    taken = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, VisibilityTimeout=1)["Messages"]
    assert len(taken) == 1
    time.sleep(1.5)
    result = run_flow(flow_env(queue_url, es_url, sqs_endpoint, es_store.cfg.index_prefix))
    assert result.returncode == 0, result.stderr[-3000:]
    es_store.refresh()
    assert list(es_store.scan_ids()) == ["paynest/dup-1"]
    assert queue_depth(sqs, queue_url) == 0


def test_poison_message_reaches_the_dead_letter_queue_and_is_recorded(sqs, es_store, es_url, sqs_endpoint, tmp_path):
    name = f"sift-poison-{es_store.cfg.index_prefix}"
    url = ensure_queue(sqs, name, dlq_name=f"{name}-dlq", max_receives=3)
    dlq = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    try:
        send_all(sqs, url, ['{"id": "poison-1", "app_id": "paynest", "text": "crashes every consumer"}'])
        for _ in range(2):  # two consumers took it and died without acknowledging
            assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, WaitTimeSeconds=1)["Messages"]
            time.sleep(1.3)
        env = flow_env(url, es_url, sqs_endpoint, es_store.cfg.index_prefix,
                       SIFT_SQS_MAX_RECEIVES="3", SIFT_SQS_VISIBILITY_TIMEOUT="2", SIFT_SQS_STOP_AFTER_IDLE="6",
                       **recovery_env(tmp_path / "recovery"))
        result = run_flow(env)
        assert result.returncode == 0, result.stderr[-3000:]
        es_store.refresh()
        doc = es_store.get("paynest/poison-1")
        assert doc["kind"] == "rejected" and doc["reason"] == "poison_message"
        assert "delivered 3 times" in doc["detail"]
        time.sleep(2.5)
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") in (None, [])
        moved = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=2).get("Messages", [])
        assert [json.loads(m["Body"])["id"] for m in moved] == ["poison-1"]
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=dlq)


def services(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "services.sh"), *args], check=True, capture_output=True, timeout=180)


def test_elasticsearch_outage_mid_run_loses_nothing(sqs, queue_url, es_store, es_url, sqs_endpoint, tmp_path):
    """Elasticsearch stopped for 30 s mid-run (recovery on): the flow waits, acknowledges nothing while the store is
    down, and drains the backlog once it is back."""
    n, outage = 1500, 30
    send_all(sqs, queue_url, generate(n=n, seed=31))
    es_store.setup()
    env = flow_env(queue_url, es_url, sqs_endpoint, es_store.cfg.index_prefix,
                   SIFT_ES_RETRY_SECONDS="300", SIFT_SQS_STOP_AFTER_IDLE="5", SIFT_BATCH_SIZE="64",
                   SIFT_SQS_VISIBILITY_TIMEOUT="15", **recovery_env(tmp_path / "recovery"))
    proc = subprocess.Popen([sys.executable, "-m", "bytewax.run", "flows.main"], cwd=ROOT,
                            env={**__import__("os").environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 300
        while es_store.counts().total < 200:
            assert proc.poll() is None and time.monotonic() < deadline, "flow ended or stalled before the outage"
            time.sleep(1)
            es_store.refresh()
        services("stop", "es")
        time.sleep(2)  # a batch written just before the stop may still be acknowledging
        unacked = queue_depth(sqs, queue_url)
        assert unacked > 0  # the unwritten backlog is still in the queue
        for _ in range(outage // 5):
            time.sleep(5)
            assert proc.poll() is None, "the flow must wait for Elasticsearch, not die"
            assert queue_depth(sqs, queue_url) == unacked, "a message was acknowledged while Elasticsearch was down"
        services("start", "es")
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        services("start", "es")
    assert proc.returncode == 0, output[-3000:]
    assert "elasticsearch bulk:" in output and "retrying" in output
    es_store.refresh()
    ids = list(es_store.scan_ids())
    assert es_store.counts().total == n == len(ids) == len(set(ids))
    assert queue_depth(sqs, queue_url) == 0
