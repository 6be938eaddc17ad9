"""Tickets and feature requests on the real servers: reviews and a watch-list command from ElasticMQ,
documents into Elasticsearch, ticket versions published to an ElasticMQ queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.helpers import ROOT
from tests.integration.conftest import flow_env, queue_depth, send_all
from tests.test_feature_requests import REQUESTS, _review
from tests.test_tickets import _payloads

pytestmark = pytest.mark.integration


def _drain(sqs, url: str) -> list[dict]:
    out = []
    while True:
        resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = resp.get("Messages", [])
        if not messages:
            return out
        out += [json.loads(m["Body"]) for m in messages]
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for i, m in enumerate(messages)])


def _all(store, kind: str) -> list[dict]:
    docs, cursor = [], None
    while True:
        page, cursor = store.list_documents(kind, cursor=cursor, limit=100)
        docs += page
        if not page:
            return docs


def test_tickets_and_feature_requests_through_elasticmq_and_elasticsearch(sqs, queue_url, es_store, es_url,
                                                                         sqs_endpoint):
    watch_url = sqs.create_queue(QueueName=f"sift-watch-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    tickets_url = sqs.create_queue(QueueName=f"sift-tickets-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    try:
        send_all(sqs, watch_url, [json.dumps({"app_id": "paynest", "command": "add #GooglePay"})])
        reviews = _payloads() + [_review(900 + i, text) for i, text in enumerate(REQUESTS)]
        env = flow_env(queue_url, es_url, sqs_endpoint, es_store.cfg.index_prefix,
                       SIFT_WATCHLIST_QUEUE_URL=watch_url, SIFT_TICKETS_QUEUE_URL=tickets_url,
                       SIFT_TICKET_LATE_SECONDS="60", SIFT_TICKET_MIN_FEATURE_REQUESTS="3",
                       SIFT_CLUSTERS_PER_LABEL="4", SIFT_SQS_STOP_AFTER_IDLE="30")
        flow = subprocess.Popen([sys.executable, "-m", "bytewax.run", "flows.main"], cwd=ROOT,
                                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The two inputs are read concurrently, so a review is matched against the watch list as it is when
        # the review reaches the join. Send the reviews once the command is applied and acknowledged.
        deadline = time.monotonic() + 300
        while queue_depth(sqs, watch_url) and time.monotonic() < deadline and flow.poll() is None:
            time.sleep(0.5)
        send_all(sqs, queue_url, [json.dumps(r) for r in reviews])
        _, stderr = flow.communicate(timeout=900)
        assert flow.returncode == 0, stderr[-3000:]

        es_store.refresh()
        assert es_store.counts().total == len(reviews)
        stored = _all(es_store, "tickets")
        published = [m for m in _drain(sqs, tickets_url) if m["kind"] == "tickets"]
        # every stored ticket's latest version was published, each version once
        versions = [(m["id"], m["version"]) for m in published]
        assert len(versions) == len(set(versions))
        assert {(t["id"], t["version"]) for t in stored} <= set(versions)
        labels = {t["primary_label"] for t in stored}
        assert {"payments", "login_otp", "competitor_feature"} <= labels
        assert all(m["devrev"]["type"] == "ticket" and m["devrev"]["title"] == m["title"] for m in published)

        requests = _all(es_store, "feature_requests")
        # the three scratch-card gaps and the two gaps with no concrete feature; the win and the arrival are no requests
        assert {r["review_id"] for r in requests} == {"paynest/fr900", "paynest/fr901", "paynest/fr902",
                                                      "paynest/fr906", "paynest/fr907"}
        directions = {m["review_id"]: m["direction"] for m in _all(es_store, "competitor_mentions")}
        assert directions["paynest/fr904"] == "own_ahead" and directions["paynest/fr905"] == "switching_to"
        [watch] = _all(es_store, "watchlist")
        assert watch["org"] == "Google Pay" and watch["status"] == "watching"
        attrs = sqs.get_queue_attributes(QueueUrl=watch_url, AttributeNames=["ApproximateNumberOfMessages",
                                                                             "ApproximateNumberOfMessagesNotVisible"])
        assert sum(int(v) for v in attrs["Attributes"].values()) == 0  # the command was acknowledged
    finally:
        sqs.delete_queue(QueueUrl=watch_url)
        sqs.delete_queue(QueueUrl=tickets_url)
