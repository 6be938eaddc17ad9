"""SQS connector behaviour against the real ElasticMQ: publishing, visibility extension, dead-letter redrive, the receiver thread."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from connectors.sqs import MAX_MESSAGE_BYTES, InFlight, SqsPublisher, _SqsPartition, ensure_queue, extend_visibility
from core.records import Ack
from core.settings import SqsSettings
from tests.integration.conftest import AWS_ENV, send_all

pytestmark = pytest.mark.integration


def receive_all(sqs, url: str, wait: int = 1) -> list[dict]:
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait,
                                  MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if not got:
            return out
        out.extend(got)


def test_publisher_sends_in_batches_and_refuses_oversized_bodies(sqs, queue_url):
    events = [(f"e{i}", json.dumps({"id": f"e{i}", "n": i})) for i in range(23)]
    big = ("big", json.dumps({"id": "big", "blob": "x" * MAX_MESSAGE_BYTES}))
    result = SqsPublisher(queue_url, client=sqs).publish([*events[:10], big, *events[10:]])
    assert result.sent == 23 and not result.failed
    assert result.refused == (("big", f"message is {len(big[1]):,} bytes; the SQS limit is {MAX_MESSAGE_BYTES:,}"),)
    bodies = sorted(json.loads(m["Body"])["n"] for m in receive_all(sqs, queue_url))
    assert bodies == list(range(23))


def test_publisher_splits_batches_by_total_size(sqs, queue_url):
    body = "y" * (100 * 1024)  # three of these exceed one 256 KiB batch
    result = SqsPublisher(queue_url, client=sqs).publish([(f"e{i}", body) for i in range(5)])
    assert result.sent == 5 and not result.failed and not result.refused
    assert len(receive_all(sqs, queue_url)) == 5


def test_fifo_publisher_deduplicates_a_republished_event(sqs):
    url = sqs.create_queue(QueueName=f"sift-test-{uuid.uuid4().hex[:8]}.fifo",
                           Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        pub = SqsPublisher(url, client=sqs)
        assert pub.publish([("t1", '{"v":1}')]).sent == 1
        assert pub.publish([("t1", '{"v":1}')]).sent == 1  # accepted, but deduplicated by SQS
        assert len(receive_all(sqs, url)) == 1
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_in_flight_messages_stay_invisible_until_acknowledged(sqs, queue_url):
    sqs.send_message(QueueUrl=queue_url, MessageBody="hello")
    msg = sqs.receive_message(QueueUrl=queue_url, VisibilityTimeout=2, WaitTimeSeconds=1)["Messages"][0]
    in_flight = InFlight()
    in_flight.add([Ack(queue_url, msg["ReceiptHandle"], msg["MessageId"])])
    for _ in range(4):  # 4 s > the original 2 s timeout
        time.sleep(1)
        extend_visibility(sqs, in_flight, timeout=2)
        assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages") in (None, [])
    in_flight.remove([msg["ReceiptHandle"]])
    time.sleep(2.5)
    assert len(receive_all(sqs, queue_url)) == 1  # no longer extended: redelivered


def test_ensure_queue_sets_up_dead_letter_redrive(sqs):
    name = f"sift-test-{uuid.uuid4().hex[:8]}"
    url = ensure_queue(sqs, name, dlq_name=f"{name}-dlq", max_receives=2, visibility_timeout=1)
    dlq = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    try:
        sqs.send_message(QueueUrl=url, MessageBody="poison")
        for _ in range(2):
            assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
            time.sleep(1.2)
        assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages") in (None, [])
        assert [m["Body"] for m in receive_all(sqs, dlq)] == ["poison"]
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=dlq)


@pytest.fixture
def sqs_env(monkeypatch, sqs_endpoint):
    """The environment the source's own boto3 clients read (as the flow's process has it)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_endpoint)
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)


def _until(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return value


def test_the_receiver_keeps_a_bounded_batch_ready_and_hands_back_what_the_worker_did_not_take(sqs, queue_url, sqs_env):
    send_all(sqs, queue_url, [json.dumps({"n": i}) for i in range(40)])
    part = _SqsPartition(SqsSettings(queue_urls=(queue_url,), wait_seconds=1, max_messages=12, visibility_timeout=300), 0)
    try:
        first = _until(part.next_batch)
        assert 1 <= len(first) <= 12 + 9  # the receiver stops once 12 are ready; it takes 10 per call
        # it refills without the worker asking, and stops at the bound
        def invisible() -> int:
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
            return int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

        assert _until(lambda: invisible() >= len(first) + 12)
        time.sleep(1.0)
        assert len(first) + 12 <= invisible() <= len(first) + 12 + 9
    finally:
        part.close()
    # what it held but the worker never took is visible again at once, not after the 300 s timeout
    assert len(receive_all(sqs, queue_url)) == 40 - len(first)


def test_a_receive_error_reaches_the_worker(sqs_env, sqs_endpoint):
    from botocore.exceptions import ClientError

    missing = f"{sqs_endpoint}/000000000000/sift-missing-{uuid.uuid4().hex[:8]}"
    part = _SqsPartition(SqsSettings(queue_urls=(missing,), wait_seconds=1), 0)
    try:
        with pytest.raises(ClientError):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert part.next_batch() == []
                time.sleep(0.1)
    finally:
        part.close()


def test_a_message_handed_back_unprocessed_is_not_counted_toward_poison(sqs, sqs_env):
    """Flows stopped before their worker took a message must not move it toward the dead-letter queue."""
    name = f"sift-test-{uuid.uuid4().hex[:8]}"
    url = ensure_queue(sqs, name, dlq_name=f"{name}-dlq", max_receives=3)
    dlq = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
    cfg = SqsSettings(queue_urls=(url,), wait_seconds=1, visibility_timeout=300, max_receives=3)
    body = '{"id": "r-1", "app_id": "paynest", "text": "refund stuck for a week"}'

    def invisible() -> int:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
        return int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])

    try:
        sqs.send_message(QueueUrl=url, MessageBody=body,
                         MessageAttributes={"trace": {"DataType": "String", "StringValue": "t-1"}})
        # one receive that counts: a consumer took it and died without acknowledging
        assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=1, WaitTimeSeconds=1)["Messages"]
        time.sleep(1.3)
        for _ in range(3):  # three flows started and stopped before their worker took it
            part = _SqsPartition(cfg, 0)
            try:
                assert _until(lambda: invisible() == 1), "the receiver never took the message"
            finally:
                part.close()
        # the redrive policy (3 receives) would have moved it by now had the hand-backs counted
        part = _SqsPartition(cfg, 0)
        try:
            got = _until(part.next_batch)
        finally:
            part.close()
        assert [(m.payload, m.receive_count) for m in got] == [(body, 2)]  # the death and this receive
        assert receive_all(sqs, dlq, wait=0) == []
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=got[0].ack.receipt_handle, VisibilityTimeout=0)
        copy = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=1)["Messages"][0]
        assert copy["MessageAttributes"]["trace"]["StringValue"] == "t-1"  # its attributes travel with it
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=dlq)
