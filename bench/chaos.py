"""Crash the flow with kill -9 while it consumes SQS into Elasticsearch, restart it, and count what survived.

    python -m bench.chaos [--messages 5000] [--kills 3] [--seed N] [--snapshot 10]
                          [--unready-seconds 8] [--storm-seconds 15] [--keep]

Against the local ElasticMQ and Elasticsearch (`scripts/services.sh start`; endpoints from
`AWS_ENDPOINT_URL_SQS` and `SIFT_ES_URL`, else the local defaults). It sends `--messages` short
reviews (1% malformed, every author different, event times spread over 8 hours so ticket windows
close) to a new queue, plus one more for every 50th, from a second app with the same review id (the
second app is paynest's metadata under another app id). Then it runs `python -m bytewax.run flows.main`
with Bytewax recovery in its own process group and kills the whole group with SIGKILL at `--kills`
random points (a random stored count each, from the seed), restarting it right away each time. After
the last kill the flow runs until the queue has been idle; it is restarted again while messages are
left (in flight when it stopped). Meanwhile the ticket index is polled to catch a stored ticket version
going backwards.

Two faults of Elasticsearch itself, beside the kills:

- start before the indices are ready: the flow's indices are created (from the store's own templates)
  with their primary shards held unassigned, so they answer 503, until `--unready-seconds` after the
  flow logs that it is waiting for them;
- a 429 storm: once 45% of the input is stored, the reviews and tickets indices get the
  read-only-allow-delete block (what Elasticsearch sets at the flood-stage disk watermark) for
  `--storm-seconds`: every write to them answers 429, while the rejected index takes its writes, so
  bulk requests come back part refused, part written.

Checks, by content, so they hold whatever the record ids are (plain or app-namespaced): each stored
record is matched to the message it holds (by the author of an enriched review, by the raw input of a
rejected record). `lost`: messages no record holds; `duplicates`: records beyond one per message held;
`overwritten`: messages whose own content is not what is stored for their app and id, i.e. no record
holds them while the record stored under their bare id holds another message (an id reused by another
app wrote over it), or the record holding them has another app or text. Also: each valid review is
enriched (a redelivery must not become a `duplicate`), the queue ends empty, ticket ids are unique with
versions that never went down, and each fault was seen by the flow (`storm_refusals`, `unready_waits`:
its log lines about them).

Progress goes to stderr. On stdout, one line `lost: N  duplicates: N  overwritten: N  ...`, then, as the
last line, one JSON object: kills, restarts, sent, stored, enriched, rejected, duplicates, lost,
overwritten, seconds (and the details behind them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SUBJECTS = ["UPI payment", "money transfer", "electricity bill payment", "mobile recharge", "refund", "cashback",
            "login OTP", "bank account linking", "QR code payment", "wallet top up", "autopay mandate", "gas bill"]
PROBLEMS = ["failed but the money was debited from my account", "is stuck on processing for hours",
            "keeps failing with a server error", "shows pending since yesterday",
            "was declined although my balance is enough", "never arrives after I tap pay"]
ENDINGS = ["please fix this soon", "very disappointed with the app", "third time this week",
           "customer support is not responding", "I will uninstall if this continues", "happens on every attempt"]
MALFORMED = ['{"id": "%s", "app_id": "paynest", "text": "payment fai', '{"id": "%s", "app_id": "paynest"}']
T0 = datetime(2026, 10, 5, 6, 0, tzinfo=timezone.utc)


APPS = ("paynest", "paynest-lite")  # the second: paynest's metadata under another app id
REUSE_EVERY = 50  # every 50th review id is sent again by the second app


@dataclass(frozen=True)
class Sent:
    """One message sent: its app, its review id as given, the body, the kind it must be stored as, and what
    of it a stored record keeps (`author` of an enriched review, the body as `raw` of a rejected one)."""

    app: str | None
    rid: str
    body: str
    kind: str
    author: str | None = None
    text: str | None = None


def messages(n: int, seed: int) -> list[Sent]:
    """`n` short complaints that pass every filter, 1% malformed, and a second app's review for every 50th
    with the same id."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        rid = f"chaos-{seed}-{i}"
        if i % 100 == 99:
            body = MALFORMED[(i // 100) % 2] % rid
            out.append(Sent("paynest", rid, body, "rejected"))
            continue
        at = T0 + timedelta(seconds=8 * 3600 * i / n)
        for app in APPS[: 2 if i % REUSE_EVERY == REUSE_EVERY // 2 else 1]:
            text = f"{rng.choice(SUBJECTS)} {rng.choice(PROBLEMS)}, {rng.choice(ENDINGS)}"
            author = f"user-{seed}-{i}" + ("" if app == APPS[0] else f"-{app}")
            body = {"id": rid, "app_id": app, "text": text, "author": author, "rating": rng.choice([1, 2]),
                    "source": "google_play", "created_at": at.isoformat()}
            out.append(Sent(app, rid, json.dumps(body), "enriched", author, text))
    return out


def write_apps(path: Path) -> Path:
    """The apps directory for the run: paynest, and the same metadata as a second app."""
    path.mkdir(parents=True, exist_ok=True)
    data = json.loads((ROOT / "demo" / "apps" / "paynest.json").read_text(encoding="utf-8"))
    for app in APPS:
        (path / f"{app}.json").write_text(json.dumps({**data, "app_id": app}), encoding="utf-8")
    return path


@dataclass
class Result:
    kills: int = 0
    restarts: int = 0
    sent: int = 0
    stored: int = 0
    enriched: int = 0
    rejected: int = 0
    duplicates: int = 0
    lost: int = 0
    overwritten: int = 0
    seconds: float = 0.0
    wrong_kind: int = 0  # valid reviews stored as rejected, or malformed ones stored as enriched
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    queue_left: int = 0
    tickets: int = 0
    ticket_version_regressions: int = 0
    killed_at: list[int] = field(default_factory=list)
    reused_ids: int = 0  # review ids sent by both apps
    unready_waits: int = 0  # flow log lines waiting for the indices to be ready
    storm_at: int = -1  # stored count when the 429 storm began
    storm_refusals: int = 0  # flow log lines of bulk writes refused with 429 and retried


def flow_env(queue_url: str, es_url: str, sqs_endpoint: str, prefix: str, **extra: str) -> dict[str, str]:
    """The flow's environment for this run: SQS in (short visibility so redeliveries come quickly), ES out."""
    return {
        **os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ENDPOINT_URL_SQS": sqs_endpoint, "SIFT_SOURCE": "sqs", "SIFT_SQS_QUEUE_URLS": queue_url,
        "SIFT_SQS_VISIBILITY_TIMEOUT": "15", "SIFT_SQS_STOP_AFTER_IDLE": "20", "SIFT_BATCH_SIZE": "64",
        "SIFT_STORE": "elasticsearch", "SIFT_ES_URL": es_url, "SIFT_ES_INDEX_PREFIX": prefix,
        "SIFT_TICKET_WINDOW_MINUTES": "60", "SIFT_TICKET_LATE_SECONDS": "60", "SIFT_TICKET_MIN_PRIORITY": "0",
        "SIFT_APPS_RELOAD_SECONDS": "0", "SIFT_PROGRESS_SECONDS": "5",
        **extra,
    }


def start_flow(env: dict[str, str], recovery_dir: Path, snapshot: int, log) -> subprocess.Popen:
    """`python -m bytewax.run flows.main` with recovery, in a new session so the whole group can be killed."""
    cmd = [sys.executable, "-m", "bytewax.run", "flows.main", "-r", str(recovery_dir), "-s", str(snapshot), "-b", "60"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the flow's whole process group (no clean-up of any kind runs) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def queue_depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


class TicketWatch:
    """The highest stored version seen per ticket id; counts every time a stored version went down."""

    def __init__(self, store):
        self.store = store
        self.versions: dict[str, int] = {}
        self.regressions = 0

    def poll(self) -> None:
        index = self.store.documents["tickets"]
        resp = self.store.read(self.store.client.options(ignore_status=404).search,
                               index=index, size=10_000, source=["id", "version"], query={"match_all": {}})
        for hit in resp.get("hits", {}).get("hits", []):
            tid, version = hit["_source"]["id"], int(hit["_source"]["version"])
            if version < self.versions.get(tid, 0):
                self.regressions += 1
            self.versions[tid] = max(version, self.versions.get(tid, 0))


def stored_count(store) -> int:
    store.refresh()
    return sum(store.read(store.client.count, index=i)["count"] for i in (store.reviews, store.rejected))


class Faults:
    """Elasticsearch faults on the run's own indices; each is undone by `clear` whatever happened."""

    HOLD = "index.routing.allocation.require._name"
    BLOCK = "index.blocks.read_only_allow_delete"

    def __init__(self, store):
        self.store = store
        self.client = store.client
        self._lock = threading.Lock()

    def hold_unready(self) -> None:
        """Create every index of the store afresh from its templates, its primary shard held unassigned."""
        self.store.setup()  # the templates (and indices, deleted again right away)
        indices = [self.store.reviews, self.store.rejected, *self.store.documents.values()]
        self.client.indices.delete(index=",".join(indices))
        for index in indices:
            self.client.indices.create(index=index, settings={self.HOLD: "sift-no-such-node"}, wait_for_active_shards=0)

    def release_unready(self) -> None:
        with self._lock:
            self.client.indices.put_settings(index=f"{self.store.cfg.index_prefix}-*", settings={self.HOLD: None})

    def storm(self, on: bool) -> None:
        with self._lock:
            self.client.indices.put_settings(index=f"{self.store.reviews},{self.store.documents['tickets']}",
                                             settings={self.BLOCK: True if on else None})

    def clear(self) -> None:
        """Best effort: called on the way out, also after a failure it must not hide."""
        for undo in (self.release_unready, lambda: self.storm(False)):
            try:
                undo()
            except Exception as e:  # noqa: BLE001 - the indices are deleted next anyway
                print(f"chaos: could not undo a fault: {e!r}", file=sys.stderr)


def release_when_waited(faults: Faults, log_path: Path, after: float, cap: float, stop: threading.Event) -> None:
    """Let the held shards go `after` seconds once the flow has logged that it waits for them (at `cap` at most)."""
    deadline = time.monotonic() + cap
    try:
        while time.monotonic() < deadline and not stop.is_set():
            if log_path.exists() and "to be ready" in log_path.read_text(errors="replace"):
                stop.wait(after)
                break
            stop.wait(0.2)
    finally:
        faults.release_unready()


def run_chaos(n: int, kills: int, seed: int, es_url: str, sqs_endpoint: str, workdir: Path,
              snapshot: int = 10, keep: bool = False, say: Callable[[str], None] = print,
              max_restarts: int = 4, timeout: float = 1200.0, unready_seconds: float = 8.0,
              storm_seconds: float = 15.0) -> Result:
    """Send `n` messages (and the reused ids), start the flow on indices not ready yet, kill -9 it `kills`
    times at random stored counts, refuse writes with 429 for `storm_seconds` once 45% is stored, and
    restart until the queue is empty."""
    import boto3
    from bytewax.recovery import init_db_dir

    from connectors.elasticsearch_store import ElasticsearchStore
    from core.settings import ElasticsearchSettings

    rng = random.Random(seed)
    started = time.monotonic()
    deadline = started + timeout
    result = Result()
    sqs = boto3.client("sqs", endpoint_url=sqs_endpoint, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                       aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                       aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    tag = uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName=f"sift-chaos-{tag}")["QueueUrl"]
    # watch-list commands from a queue, as in production (a followed commands file would never let the flow end)
    watch_url = sqs.create_queue(QueueName=f"sift-chaos-{tag}-watch")["QueueUrl"]
    # this process's reads wait out the unready start like the flow's (SIFT_ES_READY_SECONDS below)
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=f"chaos-{tag}", ready_seconds=300))
    faults = Faults(store)
    released = threading.Event()
    recovery_dir = workdir / "recovery"
    recovery_dir.mkdir(parents=True, exist_ok=True)
    init_db_dir(recovery_dir, 1)
    log_path = workdir / "flow.log"
    try:
        expected = messages(n, seed)
        for start in range(0, len(expected), 10):
            chunk = expected[start : start + 10]
            resp = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": m.body}
                                                                  for i, m in enumerate(chunk)])
            if resp.get("Failed"):
                raise RuntimeError(f"send to {url} failed: {resp['Failed'][0]}")
        result.sent = len(expected)
        result.reused_ids = len(expected) - n
        say(f"chaos: sent {result.sent:,} messages ({result.reused_ids} ids reused by {APPS[1]}) to {url}; "
            f"ES indices chaos-{tag}-*; flow log {log_path}")
        # kill points: random stored counts, increasing, between 10% and 85% of the input
        points = sorted(rng.sample(range(n // 10, n * 85 // 100), kills)) if kills else []
        storm_point = n * 45 // 100 if storm_seconds > 0 else None
        env = flow_env(url, es_url, sqs_endpoint, store.cfg.index_prefix, SIFT_WATCHLIST_QUEUE_URL=watch_url,
                       SIFT_APPS=str(write_apps(workdir / "apps")), SIFT_ES_READY_SECONDS="300")
        watch = TicketWatch(store)
        if unready_seconds > 0:
            faults.hold_unready()
            threading.Thread(target=release_when_waited, args=(faults, log_path, unready_seconds, 240.0, released),
                             name="chaos-unready", daemon=True).start()
            say(f"chaos: indices created with their shards held unassigned until {unready_seconds:.0f} s after "
                "the flow waits for them")
        else:
            store.setup()
        storm_ends: float | None = None
        with log_path.open("ab") as log:
            proc = start_flow(env, recovery_dir, snapshot, log)
            while True:
                if time.monotonic() > deadline:
                    kill_group(proc)
                    raise TimeoutError(f"bench.chaos: not done after {timeout:.0f} s; see {log_path}")
                time.sleep(1.0)
                stored = stored_count(store)
                watch.poll()
                if storm_point is not None and stored >= storm_point:
                    faults.storm(True)
                    storm_point, storm_ends, result.storm_at = None, time.monotonic() + storm_seconds, stored
                    say(f"chaos: 429 storm on {store.reviews} and the tickets index for {storm_seconds:.0f} s "
                        f"at {stored:,} stored ({time.monotonic() - started:.0f} s)")
                if storm_ends is not None and time.monotonic() >= storm_ends:
                    faults.storm(False)
                    storm_ends = None
                    say(f"chaos: 429 storm over ({time.monotonic() - started:.0f} s)")
                if points and stored >= points[0]:
                    time.sleep(rng.uniform(0, 2))  # not always right after a write
                    kill_group(proc)
                    points.pop(0)
                    result.kills += 1
                    result.killed_at.append(stored)
                    say(f"chaos: kill -9 #{result.kills} at {stored:,}/{n:,} stored "
                        f"({time.monotonic() - started:.0f} s); restarting")
                    result.restarts += 1
                    proc = start_flow(env, recovery_dir, snapshot, log)
                    continue
                if proc.poll() is None:
                    continue
                if proc.returncode != 0:
                    raise RuntimeError(f"bench.chaos: the flow exited with {proc.returncode}; see {log_path}")
                left = queue_depth(sqs, url)
                if points:  # ended before reaching the remaining kill points (they were too late)
                    points.clear()
                if left == 0 or result.restarts - result.kills >= max_restarts:
                    break
                say(f"chaos: flow ended with {left} messages still in the queue (in flight when it stopped); restarting")
                result.restarts += 1
                proc = start_flow(env, recovery_dir, snapshot, log)
        faults.storm(False)  # the flow may have ended during the storm (it is stored by then)
        watch.poll()
        result.queue_left = queue_depth(sqs, url)
        _count(result, store, expected, watch)
        flow_log = log_path.read_text(errors="replace")
        result.unready_waits = flow_log.count("to be ready (")
        result.storm_refusals = flow_log.count("429 cluster_block_exception")
    finally:
        released.set()
        faults.clear()
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=watch_url)
        if not keep:
            store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
        store.close()
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _count(result: Result, store, expected: list[Sent], watch: TicketWatch) -> None:
    from elasticsearch import helpers

    store.refresh()
    records = []  # (_id, kind, source)
    for index, kind in ((store.reviews, "enriched"), (store.rejected, "rejected")):
        fields = ["app_id", "author", "text"] if kind == "enriched" else ["app_id", "raw", "reason"]
        for hit in helpers.scan(store.client, index=index, _source=fields):
            records.append((hit["_id"], kind, hit["_source"]))
            if kind == "rejected":
                reason = hit["_source"].get("reason", "?")
                result.rejected_by_reason[reason] = result.rejected_by_reason.get(reason, 0) + 1
    tally(result, expected, records)
    result.tickets = len(watch.versions)
    result.ticket_version_regressions = watch.regressions


def tally(result: Result, expected: list[Sent], records: list[tuple[str, str, dict]]) -> None:
    """Stored, lost, duplicates, overwritten and wrong kinds from the stored `(_id, kind, source)` records,
    matched to the messages by content (see the module docstring), so for any record-id scheme."""
    by_author = {m.author: i for i, m in enumerate(expected) if m.author}
    by_body = {m.body: i for i, m in enumerate(expected)}
    held: dict[int, list[tuple[str, dict]]] = {}  # message -> (kind, source) of each record holding it
    by_id: dict[str, int | None] = {}  # record _id -> the message it holds (None: none of ours)
    for rid, kind, src in records:
        i = by_author.get(src.get("author")) if kind == "enriched" else by_body.get(src.get("raw"))
        by_id[rid] = i
        if i is not None:
            held.setdefault(i, []).append((kind, src))
    result.stored = len(records)
    result.enriched = sum(1 for _, kind, _ in records if kind == "enriched")
    result.rejected = result.stored - result.enriched
    result.duplicates = result.stored - len(held)
    result.lost = result.overwritten = result.wrong_kind = 0
    for i, m in enumerate(expected):
        holders = held.get(i)
        if not holders:
            other = by_id.get(m.rid)  # what the record under its bare id holds, if there is one
            if other is not None and other != i:
                result.overwritten += 1
            else:
                result.lost += 1
            continue
        for kind, src in holders:
            if src.get("app_id") != m.app and not (kind == "rejected" and m.kind == "rejected"):
                result.overwritten += 1
            elif kind == "enriched" and src.get("text") != m.text:
                result.overwritten += 1
        if any(kind != m.kind for kind, _ in holders):
            result.wrong_kind += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--snapshot", type=int, default=10, help="Bytewax snapshot interval, seconds")
    parser.add_argument("--unready-seconds", type=float, default=8.0,
                        help="how long the indices stay unready after the flow waits for them (0: no such fault)")
    parser.add_argument("--storm-seconds", type=float, default=15.0, help="length of the 429 storm (0: none)")
    parser.add_argument("--keep", action="store_true", help="keep the Elasticsearch indices for inspection")
    args = parser.parse_args(argv)
    from core.logs import setup_logging

    setup_logging("WARNING")  # this process's own Elasticsearch read retries and waits, on stderr
    es_url = os.environ.get("SIFT_ES_URL", "http://127.0.0.1:9200")
    sqs_endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324")
    workdir = ROOT / "var" / "chaos" / time.strftime("%Y%m%d-%H%M%S")  # the flow's log and recovery store stay here
    result = run_chaos(args.messages, args.kills, args.seed, es_url, sqs_endpoint, workdir,
                       snapshot=args.snapshot, keep=args.keep, say=lambda s: print(s, file=sys.stderr, flush=True),
                       unready_seconds=args.unready_seconds, storm_seconds=args.storm_seconds)
    print(f"lost: {result.lost}  duplicates: {result.duplicates}  overwritten: {result.overwritten}  "
          f"wrong_kind: {result.wrong_kind}  queue_left: {result.queue_left}  "
          f"ticket_version_regressions: {result.ticket_version_regressions}")
    print(json.dumps(asdict(result)))
    ok = (result.lost == 0 and result.duplicates == 0 and result.overwritten == 0 and result.wrong_kind == 0
          and result.queue_left == 0 and result.ticket_version_regressions == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
