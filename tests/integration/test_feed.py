"""The feed's watch-list intake with `SIFT_WATCHLIST_QUEUE_URL`: one SQS message per command, on ElasticMQ."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.watchlist import parse_commands
from tests.helpers import free_port
from tests.integration.conftest import AWS_ENV
from tests.test_feed import start_feed, stop_feed

pytestmark = pytest.mark.integration


def test_watchlist_commands_go_to_the_queue_and_re_parse(tmp_path, sqs, queue_url, sqs_endpoint):
    feed = start_feed(tmp_path, SIFT_WATCHLIST_QUEUE_URL=queue_url, AWS_ENDPOINT_URL_SQS=sqs_endpoint, **AWS_ENV)
    try:
        resp = feed.post("/v1/watchlist", {"app_id": "paynest", "command": "add #GooglePay #PhonePe #Paytm"})
        assert resp.status_code == 202, resp.text
        accepted = resp.json()["commands"]
    finally:
        stop_feed(feed)
    assert not feed.watch_file.exists()

    bodies = []
    while len(bodies) < 4:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages")
        if not messages:
            break
        bodies += [json.loads(m["Body"]) for m in messages]
    assert len(bodies) == 3
    reparsed = {
        c.id: c.to_doc() for body in bodies
        for c in parse_commands(json.dumps(body), received_at=datetime.fromisoformat(body["issued_at"]))
    }
    assert reparsed == {c["id"]: c for c in accepted}


def test_unreachable_queue_is_503_and_nothing_is_written(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/000000000000/watch"
    feed = start_feed(tmp_path, SIFT_WATCHLIST_QUEUE_URL=dead, AWS_ENDPOINT_URL_SQS=dead.rsplit("/", 2)[0], **AWS_ENV)
    try:
        # SqsPublisher's bounded retries take a few seconds before the feed gives up
        resp = feed.post("/v1/watchlist", {"app_id": "paynest", "command": "add #GooglePay"}, timeout=60)
        assert resp.status_code == 503, resp.text
        assert resp.headers["retry-after"] == "5"
    finally:
        stop_feed(feed)
    assert not feed.watch_file.exists()
