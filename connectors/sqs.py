"""AWS SQS (or any SQS-compatible endpoint) as a Bytewax source, plus the acknowledger.

Every worker polls every configured queue (SQS queues are competing-consumer,
so the worker is the unit of parallelism). Messages are *not* deleted when
received: the store sink deletes them through `SqsAcker` only after their
records are durably written. At-least-once delivery; the deterministic record
id makes the stored result exactly-once. Messages received but never handed to
the worker (the receiver's read-ahead when a flow stops) go back to the queue as
fresh copies, so stopping and restarting a flow does not count toward poison.

boto3 resolves credentials, region and endpoint (`AWS_ENDPOINT_URL_SQS`) itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bytewax.inputs import DynamicSource, StatelessSourcePartition

from core.records import Ack, RawMessage
from core.settings import SqsSettings

log = logging.getLogger(__name__)

_RECEIVE_MAX = 10  # SQS limit per ReceiveMessage / DeleteMessageBatch call
_MAX_ATTRIBUTES = 10  # SQS limit of message attributes per message
PRIOR_RECEIVES = "sift-prior-receives"  # on a handed-back copy: the receives that counted before it was sent
_IDLE_CHECK = timedelta(milliseconds=50)  # how soon an idle worker looks at the receiver's buffer again


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


class InFlight:
    """Messages this process received and has not yet acknowledged, so their visibility can be extended.

    Thread-safe; shared by the source partitions (which add and extend) and the
    acker (which removes) of one process.
    """

    MAX_AGE = 12 * 3600.0  # SQS never keeps a message invisible longer than this

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, float, float]] = {}  # receipt -> (queue, received, extended)

    def add(self, acks: Sequence[Ack]) -> None:
        now = time.monotonic()
        with self._lock:
            for a in acks:
                self._items[a.receipt_handle] = (a.queue_url, now, now)

    def remove(self, receipts: Sequence[str]) -> None:
        with self._lock:
            for r in receipts:
                self._items.pop(r, None)

    def __len__(self) -> int:
        return len(self._items)

    def due(self, older_than: float) -> dict[str, list[str]]:
        """Receipts per queue last extended more than `older_than` seconds ago; marks them extended."""
        now = time.monotonic()
        out: dict[str, list[str]] = {}
        with self._lock:
            for receipt, (queue, received, extended) in list(self._items.items()):
                if now - received > self.MAX_AGE:
                    del self._items[receipt]
                elif now - extended >= older_than:
                    out.setdefault(queue, []).append(receipt)
                    self._items[receipt] = (queue, received, now)
        return out


IN_FLIGHT = InFlight()


def extend_visibility(client, in_flight: InFlight, timeout: int) -> int:
    """Push back the visibility timeout of messages still in flight for half their timeout; returns how many."""
    extended = 0
    for url, receipts in in_flight.due(older_than=timeout / 2).items():
        for start in range(0, len(receipts), _RECEIVE_MAX):
            chunk = receipts[start : start + _RECEIVE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": r, "VisibilityTimeout": timeout} for i, r in enumerate(chunk)]
            try:
                resp = client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            except Exception as e:  # noqa: BLE001 - worst case the message is redelivered
                log.warning("sqs: extending visibility of %d messages on %s failed: %s", len(chunk), url, e)
                continue
            gone = [chunk[int(f["Id"])] for f in resp.get("Failed", [])]
            in_flight.remove(gone)  # deleted elsewhere or expired: nothing left to extend
            extended += len(chunk) - len(gone)
    if extended:
        log.info("sqs: extended visibility of %d in-flight messages by %ds", extended, timeout)
    return extended


class _Extender:
    """A daemon thread that keeps in-flight messages invisible while the worker is busy or blocked
    (e.g. the store is retrying); one per process, running while any SQS partition is open."""

    _lock = threading.Lock()
    _users = 0
    _stop: threading.Event | None = None

    @classmethod
    def acquire(cls, timeout: int) -> None:
        with cls._lock:
            cls._users += 1
            if cls._users == 1 and timeout >= 4:
                cls._stop = threading.Event()
                threading.Thread(target=cls._run, args=(timeout, cls._stop), name="sqs-visibility", daemon=True).start()

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users == 0 and cls._stop is not None:
                cls._stop.set()
                cls._stop = None

    @staticmethod
    def _run(timeout: int, stop: threading.Event) -> None:
        client = sqs_client()
        while not stop.wait(max(1.0, timeout / 4)):
            extend_visibility(client, IN_FLIGHT, timeout)
        client.close()


class _SqsPartition(StatelessSourcePartition[RawMessage]):
    """One worker's view of the queues. A receiver thread long-polls them and keeps up to
    `max_messages` messages ready; `next_batch` only takes what is ready, so the worker never
    waits on SQS (an idle second input, such as the watch-list queue, used to hold the whole
    worker for every long poll). A receive error is raised by the next `next_batch`."""

    def __init__(self, cfg: SqsSettings, worker_index: int):
        _Extender.acquire(cfg.visibility_timeout)
        self._cfg = cfg
        self._queues = list(cfg.queue_urls)
        self._next_queue = worker_index % len(self._queues)
        self._ready: list[RawMessage] = []
        self._received: dict[str, dict] = {}  # receipt handle -> the SQS message, for what is in `_ready`
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._last_message = time.monotonic()
        self._idle_until: datetime | None = None
        self._thread = threading.Thread(target=self._receive_loop, name=f"sqs-receive-w{worker_index}", daemon=True)
        self._thread.start()

    def next_batch(self) -> list[RawMessage]:
        with self._room:
            batch, self._ready = self._ready, []
            self._received.clear()
            self._room.notify()
        if batch:
            self._idle_until = None
            return batch
        if self._error is not None:
            raise self._error
        idle = time.monotonic() - self._last_message
        if self._cfg.stop_after_idle_seconds and idle >= self._cfg.stop_after_idle_seconds:
            log.info("sqs: no messages for %.0fs; stopping (SIFT_SQS_STOP_AFTER_IDLE)", idle)
            raise StopIteration
        self._idle_until = datetime.now(timezone.utc) + _IDLE_CHECK
        return []

    def next_awake(self) -> datetime | None:
        return self._idle_until

    def _receive_loop(self) -> None:
        """Fill `_ready` until stopped: cycle the queues 10 messages a call, long-polling only
        after a whole cycle came back empty."""
        client = sqs_client()
        empty_polls = 0
        url = self._queues[self._next_queue]
        try:
            while not self._stop.is_set():
                with self._room:
                    while len(self._ready) >= self._cfg.max_messages and not self._stop.is_set():
                        self._room.wait(0.5)
                if self._stop.is_set():
                    break
                url = self._queues[self._next_queue]
                self._next_queue = (self._next_queue + 1) % len(self._queues)
                wait = self._cfg.wait_seconds if empty_polls >= len(self._queues) else 0
                got = self._receive(client, url, wait)
                empty_polls = 0 if got else empty_polls + 1
                if got:
                    # Poison messages are left to time out into the dead-letter queue, never extended.
                    limit = self._cfg.max_receives
                    IN_FLIGHT.add([m.ack for m, _ in got if m.ack and not (limit and m.receive_count >= limit)])
                    with self._room:
                        self._last_message = time.monotonic()
                        self._ready.extend(m for m, _ in got)
                        self._received.update((m.ack.receipt_handle, original) for m, original in got if m.ack)
        except Exception as e:  # noqa: BLE001 - handed to the worker, which stops the flow with it
            log.error("sqs: receiving from %s failed: %s", url, e)
            self._error = e
        finally:
            client.close()

    def _receive(self, client, url: str, wait: int) -> list[tuple[RawMessage, dict]]:
        """`(message, the SQS message it came from)`; the receive count adds what a handed-back copy carries."""
        resp = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=_RECEIVE_MAX,
            WaitTimeSeconds=wait,
            VisibilityTimeout=self._cfg.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            MessageAttributeNames=["All"],  # kept on a copy handed back (see `release`)
        )
        now = datetime.now(timezone.utc)
        return [
            (RawMessage(
                payload=m.get("Body", ""),
                origin=f"sqs:{url.rsplit('/', 1)[-1]}:{m['MessageId']}",
                received_at=now,
                ack=Ack(queue_url=url, receipt_handle=m["ReceiptHandle"], message_id=m["MessageId"]),
                receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) + prior_receives(m),
            ), m)
            for m in resp.get("Messages", [])
        ]

    def close(self) -> None:
        """Stop the receiver and hand back what it received but the worker never took: those
        messages are in the queue again at once, not after their visibility timeout, and this
        receive does not count toward poison (see `release`)."""
        self._stop.set()
        with self._room:
            self._room.notify_all()
        self._thread.join(timeout=self._cfg.wait_seconds + 35)
        with self._room:
            left, self._ready = self._ready, []
            received, self._received = self._received, {}
        held = [(m, received[m.ack.receipt_handle]) for m in left if m.ack and m.ack.receipt_handle in received]
        if held:
            release(held)
        _Extender.release()


def prior_receives(message: dict) -> int:
    """The receives that counted before a handed-back copy was sent (its `sift-prior-receives`), else 0."""
    value = message.get("MessageAttributes", {}).get(PRIOR_RECEIVES, {}).get("StringValue", "0")
    try:
        return min(max(int(value), 0), 1000)
    except ValueError:
        return 0


def release(held: Sequence[tuple[RawMessage, dict]]) -> None:
    """Hand back received messages the worker never took, `(message, the SQS message)`, best effort.

    SQS counts every receive toward the queue's redrive policy and the flow's `max_receives`, and a
    receive cannot be taken back. So each message goes back as a new message with the same body and
    attributes plus `sift-prior-receives` (the receives that counted before this one), and the received
    one is deleted once its copy is in the queue: the copy starts with nothing counted against it for
    this receive, and the count the flow sees carries the earlier ones on. Send first, delete second: a
    failure in between leaves the message there twice, which the store's record id turns into one record.
    A message that cannot be copied (on a FIFO queue, where a copy would go behind later messages of its
    group; no room for one more attribute; a failed send) is made visible again instead, and that
    receive counts."""
    IN_FLIGHT.remove([m.ack.receipt_handle for m, _ in held if m.ack])
    client = sqs_client()
    copied = counted = 0
    try:
        by_queue: dict[str, list[tuple[RawMessage, dict]]] = {}
        for m, original in held:
            if m.ack:
                by_queue.setdefault(m.ack.queue_url, []).append((m, original))
        for url, items in by_queue.items():
            copyable = [(m, o) for m, o in items if _copyable(url, m, o)]
            rest = [m for m, o in items if not _copyable(url, m, o)]
            for batch in _copy_batches(copyable):
                sent, unsent = _send_copies(client, url, batch)
                copied += len(sent)
                rest.extend(unsent)
                _delete_received(client, url, sent)
            counted += len(rest)
            for start in range(0, len(rest), _RECEIVE_MAX):
                chunk = rest[start : start + _RECEIVE_MAX]
                entries = [{"Id": str(i), "ReceiptHandle": m.ack.receipt_handle, "VisibilityTimeout": 0}
                           for i, m in enumerate(chunk)]
                try:
                    client.change_message_visibility_batch(QueueUrl=url, Entries=entries)
                except Exception as e:  # noqa: BLE001 - they reappear after their timeout anyway
                    log.warning("sqs: releasing %d unprocessed messages on %s failed: %s", len(chunk), url, e)
    finally:
        client.close()
    log.info("sqs: handed back %d received but unprocessed messages: %d as uncounted copies, %d made visible "
             "again (that receive counts)", copied + counted, copied, counted)


def _copy_attributes(m: RawMessage, original: dict) -> dict[str, dict[str, str]]:
    attributes = {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in original.get("MessageAttributes", {}).items() if name != PRIOR_RECEIVES
    }
    attributes[PRIOR_RECEIVES] = {"DataType": "Number", "StringValue": str(max(m.receive_count - 1, 0))}
    return attributes


def _copyable(url: str, m: RawMessage, original: dict) -> bool:
    others = {name for name in original.get("MessageAttributes", {}) if name != PRIOR_RECEIVES}
    return not url.endswith(".fifo") and bool(m.payload) and len(others) < _MAX_ATTRIBUTES


def _copy_size(m: RawMessage, attributes: dict[str, dict[str, str]]) -> int:
    return len(m.payload.encode("utf-8", "surrogatepass")) + sum(
        len(name) + sum(len(str(v)) for v in value.values()) for name, value in attributes.items())


def _copy_batches(items: Sequence[tuple[RawMessage, dict]]) -> Iterator[list[tuple[RawMessage, dict[str, dict[str, str]]]]]:
    """`(message, attributes of its copy)` in batches of at most 10 and 256 KiB (one SendMessageBatch)."""
    batch: list[tuple[RawMessage, dict[str, dict[str, str]]]] = []
    size = 0
    for m, original in items:
        attributes = _copy_attributes(m, original)
        n = _copy_size(m, attributes)
        if batch and (len(batch) == _RECEIVE_MAX or size + n > MAX_MESSAGE_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((m, attributes))
        size += n
    if batch:
        yield batch


def _send_copies(client, url: str, batch: list[tuple[RawMessage, dict]]) -> tuple[list[RawMessage], list[RawMessage]]:
    """Send the copies; returns the messages whose copy is in the queue and those whose copy is not."""
    entries = [{"Id": str(i), "MessageBody": m.payload, "MessageAttributes": attributes}
               for i, (m, attributes) in enumerate(batch)]
    try:
        resp = client.send_message_batch(QueueUrl=url, Entries=entries)
    except Exception as e:  # noqa: BLE001 - made visible again instead
        log.warning("sqs: sending %d handed-back copies to %s failed: %s", len(batch), url, e)
        return [], [m for m, _ in batch]
    sent_ids = {s["Id"] for s in resp.get("Successful", [])}
    for f in resp.get("Failed", []):
        log.warning("sqs: a handed-back copy to %s was refused: %s", url, f.get("Message"))
    sent = [m for i, (m, _) in enumerate(batch) if str(i) in sent_ids]
    return sent, [m for i, (m, _) in enumerate(batch) if str(i) not in sent_ids]


def _delete_received(client, url: str, sent: Sequence[RawMessage]) -> None:
    for start in range(0, len(sent), _RECEIVE_MAX):
        chunk = sent[start : start + _RECEIVE_MAX]
        entries = [{"Id": str(i), "ReceiptHandle": m.ack.receipt_handle} for i, m in enumerate(chunk)]
        try:
            failed = client.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        except Exception as e:  # noqa: BLE001 - the message is there twice; one record all the same
            log.warning("sqs: deleting %d handed-back messages from %s failed (now there twice): %s", len(chunk), url, e)
            continue
        if failed:
            log.warning("sqs: %d handed-back messages on %s were not deleted (now there twice): %s",
                        len(failed), url, failed[0].get("Message"))


def _batches_per_queue(acks: Sequence[Ack]) -> Iterator[tuple[str, list[Ack]]]:
    """`(queue_url, up to 10 acks of that queue)`: the unit of the SQS batch calls."""
    by_queue: dict[str, list[Ack]] = {}
    for a in acks:
        by_queue.setdefault(a.queue_url, []).append(a)
    for url, items in by_queue.items():
        for start in range(0, len(items), _RECEIVE_MAX):
            yield url, items[start : start + _RECEIVE_MAX]


class SqsSource(DynamicSource[RawMessage]):
    """Polls SQS queues on every worker; at-least-once, acked by the store sink after durable writes."""

    def __init__(self, cfg: SqsSettings):
        if not cfg.queue_urls:
            raise ValueError("SqsSource needs at least one queue URL")
        self.cfg = cfg

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _SqsPartition:
        return _SqsPartition(self.cfg, worker_index)


class _LazyClient:
    """Holds an SQS client, created on first use (never at construction), closed by `close`."""

    _client = None

    @property
    def client(self):
        if self._client is None:
            self._client = sqs_client()
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class SqsAcker(_LazyClient):
    """Deletes acknowledged messages in batches of 10; failures are logged, never raised.

    A message whose delete fails becomes visible again and is redelivered; the
    idempotent store turns that into the same record.
    """

    def __init__(self, client=None, in_flight: InFlight = IN_FLIGHT):
        self._client = client
        self._in_flight = in_flight

    def ack(self, acks: Sequence[Ack]) -> int:
        """Delete the messages; returns how many deletes failed."""
        self._in_flight.remove([a.receipt_handle for a in acks])
        failures = 0
        for url, chunk in _batches_per_queue(acks):
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


MAX_MESSAGE_BYTES = 256 * 1024  # SQS limit for one message and for one SendMessageBatch call


@dataclass(frozen=True)
class PublishResult:
    """What happened to a publish call: every message is sent, refused (with reason) or failed."""

    sent: int = 0
    refused: tuple[tuple[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()


class SqsPublisher(_LazyClient):
    """Sends JSON events to one queue in batches of up to 10 messages / 256 KiB.

    Throttling and server-side failures are retried with backoff (bounded);
    a body over the SQS size limit is refused with its size as the reason,
    never truncated. FIFO queues get a group id and a deduplication id from
    the event id, so a re-published event is not delivered twice.
    """

    def __init__(self, queue_url: str, client=None, attempts: int = 5, backoff: float = 0.2):
        self.queue_url = queue_url
        self.fifo = queue_url.endswith(".fifo")
        self.attempts = attempts
        self.backoff = backoff
        self._client = client

    def publish(self, events: Sequence[tuple[str, str]], group: str = "sift") -> PublishResult:
        """Send `(event_id, body)` pairs; returns counts and the reasons for anything not sent."""
        refused: list[tuple[str, str]] = []
        ok: list[tuple[str, str]] = []
        for event_id, body in events:
            size = len(body.encode("utf-8"))
            if size > MAX_MESSAGE_BYTES:
                refused.append((event_id, f"message is {size:,} bytes; the SQS limit is {MAX_MESSAGE_BYTES:,}"))
            else:
                ok.append((event_id, body))
        for event_id, reason in refused:
            log.error("sqs publish to %s refused event %r: %s", self.queue_url, event_id, reason)
        sent, failed = 0, []
        for batch in _size_batches(ok):
            n, bad = self._send(batch, group)
            sent += n
            failed.extend(bad)
        return PublishResult(sent=sent, refused=tuple(refused), failed=tuple(failed))

    def _send(self, batch: list[tuple[str, str]], group: str) -> tuple[int, list[tuple[str, str]]]:
        pending = {str(i): item for i, item in enumerate(batch)}
        failed: list[tuple[str, str]] = []
        last_error = ""
        for attempt in range(1, self.attempts + 1):
            entries = [self._entry(i, eid, body, group) for i, (eid, body) in pending.items()]
            try:
                resp = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as e:  # noqa: BLE001 - throttling, network: retried below
                resp = {"Failed": [{"Id": i, "SenderFault": False, "Message": str(e)} for i in pending]}
            for ok in resp.get("Successful", []):
                pending.pop(ok["Id"], None)
            for f in resp.get("Failed", []):
                last_error = str(f.get("Message"))
                if f.get("SenderFault"):  # the request itself is wrong: retrying cannot help
                    eid, _ = pending.pop(f["Id"])
                    failed.append((eid, last_error))
            if not pending:
                break
            if attempt < self.attempts:
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning("sqs publish: %d messages failed (attempt %d/%d), retrying in %.1fs: %s",
                            len(pending), attempt, self.attempts, delay, last_error)
                time.sleep(delay)
        failed.extend((eid, last_error or "send failed") for eid, _ in pending.values())
        return len(batch) - len(failed), failed

    def _entry(self, entry_id: str, event_id: str, body: str, group: str) -> dict:
        entry = {"Id": entry_id, "MessageBody": body}
        if self.fifo:
            entry["MessageGroupId"] = group
            entry["MessageDeduplicationId"] = hashlib.sha256(f"{event_id}\x1f{body}".encode()).hexdigest()[:64]
        return entry


def _size_batches(items: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
    """Batches of at most 10 messages whose bodies add up to at most 256 KiB."""
    batch: list[tuple[str, str]] = []
    size = 0
    for item in items:
        n = len(item[1].encode("utf-8"))
        if batch and (len(batch) == _RECEIVE_MAX or size + n > MAX_MESSAGE_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += n
    if batch:
        yield batch


def ensure_queue(client, name: str, dlq_name: str | None = None, max_receives: int = 5,
                 visibility_timeout: int | None = None) -> str:
    """Create (or update) a queue, optionally with a dead-letter queue after `max_receives`; returns its URL."""
    attributes: dict[str, str] = {}
    if visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(visibility_timeout)
    if dlq_name:
        dlq_url = client.create_queue(QueueName=dlq_name)["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)})
    url = client.create_queue(QueueName=name)["QueueUrl"]
    if attributes:
        client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def main(argv: list[str] | None = None) -> int:
    """`python -m connectors.sqs create-queue NAME [--dlq NAME] [--max-receives N]`: print the queue URL."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m connectors.sqs", description="SQS queue set-up for Sift")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-queue", help="create a queue, optionally with a dead-letter queue")
    create.add_argument("name")
    create.add_argument("--dlq", help="dead-letter queue name (created too)")
    create.add_argument("--max-receives", type=int, default=5, help="receives before a message goes to the DLQ")
    create.add_argument("--visibility-timeout", type=int)
    args = parser.parse_args(argv)
    print(ensure_queue(sqs_client(), args.name, args.dlq, args.max_receives, args.visibility_timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
