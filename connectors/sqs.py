"""AWS SQS (or any SQS-compatible endpoint) as a Bytewax source, plus the acknowledger.

Every worker polls every configured queue (SQS queues are competing-consumer,
so the worker is the unit of parallelism). Messages are *not* deleted when
received: the store sink deletes them through `SqsAcker` only after their
records are durably written. At-least-once delivery; the deterministic record
id makes the stored result exactly-once.

boto3 resolves credentials, region and endpoint (`AWS_ENDPOINT_URL_SQS`) itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from bytewax.inputs import DynamicSource, StatelessSourcePartition

from flows.records import Ack, RawMessage
from flows.settings import SqsSettings

log = logging.getLogger(__name__)

_RECEIVE_MAX = 10  # SQS limit per ReceiveMessage / DeleteMessageBatch call


def sqs_client():
    """A boto3 SQS client; honours AWS_* environment variables and `AWS_ENDPOINT_URL_SQS`."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    region = session.region_name or "us-east-1"
    return session.client(
        "sqs",
        region_name=region,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


class _SqsPartition(StatelessSourcePartition[RawMessage]):
    def __init__(self, cfg: SqsSettings, worker_index: int):
        self._cfg = cfg
        self._client = sqs_client()
        self._queues = list(cfg.queue_urls)
        self._next_queue = worker_index % len(self._queues)
        self._last_message = time.monotonic()
        self._idle_until: datetime | None = None

    def next_batch(self) -> list[RawMessage]:
        batch: list[RawMessage] = []
        empty_polls = 0
        # Cycle the queues, taking up to 10 per call, until the batch is full or every queue came back empty.
        while len(batch) < self._cfg.max_messages and empty_polls < len(self._queues):
            url = self._queues[self._next_queue]
            self._next_queue = (self._next_queue + 1) % len(self._queues)
            got = self._receive(url, wait=0 if batch else self._cfg.wait_seconds)
            batch.extend(got)
            empty_polls = 0 if len(got) == _RECEIVE_MAX else empty_polls + 1
        if batch:
            self._last_message = time.monotonic()
            self._idle_until = None
            return batch
        idle = time.monotonic() - self._last_message
        if self._cfg.stop_after_idle_seconds and idle >= self._cfg.stop_after_idle_seconds:
            log.info("sqs: no messages for %.0fs; stopping (SIFT_SQS_STOP_AFTER_IDLE)", idle)
            raise StopIteration
        # Long polling already waited; back off a little more before the next empty poll.
        self._idle_until = datetime.now(timezone.utc) + timedelta(milliseconds=200)
        return []

    def next_awake(self) -> datetime | None:
        return self._idle_until

    def _receive(self, url: str, wait: int) -> list[RawMessage]:
        resp = self._client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=_RECEIVE_MAX,
            WaitTimeSeconds=wait,
            VisibilityTimeout=self._cfg.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
        )
        now = datetime.now(timezone.utc)
        return [
            RawMessage(
                payload=m.get("Body", ""),
                origin=f"sqs:{url.rsplit('/', 1)[-1]}:{m['MessageId']}",
                received_at=now,
                ack=Ack(queue_url=url, receipt_handle=m["ReceiptHandle"], message_id=m["MessageId"]),
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
            )
            for m in resp.get("Messages", [])
        ]

    def close(self) -> None:
        self._client.close()


class SqsSource(DynamicSource[RawMessage]):
    """Polls SQS queues on every worker; at-least-once, acked by the store sink after durable writes."""

    def __init__(self, cfg: SqsSettings):
        if not cfg.queue_urls:
            raise ValueError("SqsSource needs at least one queue URL")
        self.cfg = cfg

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _SqsPartition:
        return _SqsPartition(self.cfg, worker_index)


class SqsAcker:
    """Deletes acknowledged messages in batches of 10; failures are logged, never raised.

    A message whose delete fails becomes visible again and is redelivered; the
    idempotent store turns that into the same record.
    """

    def __init__(self, client=None):
        self._client = client

    @property
    def client(self):
        if self._client is None:
            self._client = sqs_client()
        return self._client

    def ack(self, acks: Sequence[Ack]) -> int:
        """Delete the messages; returns how many deletes failed."""
        by_queue: dict[str, list[Ack]] = {}
        for a in acks:
            by_queue.setdefault(a.queue_url, []).append(a)
        failures = 0
        for url, items in by_queue.items():
            for start in range(0, len(items), _RECEIVE_MAX):
                chunk = items[start : start + _RECEIVE_MAX]
                entries = [{"Id": str(i), "ReceiptHandle": a.receipt_handle} for i, a in enumerate(chunk)]
                try:
                    resp = self.client.delete_message_batch(QueueUrl=url, Entries=entries)
                    failed = resp.get("Failed", [])
                except Exception as e:  # noqa: BLE001 - a failed delete only means redelivery
                    log.warning("sqs: delete of %d messages from %s failed: %s", len(chunk), url, e)
                    failures += len(chunk)
                    continue
                if failed:
                    log.warning("sqs: %d deletes failed on %s: %s", len(failed), url, failed[0].get("Message"))
                    failures += len(failed)
        return failures

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
