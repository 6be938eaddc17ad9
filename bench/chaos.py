"""Crash the flow with kill -9 while it consumes SQS into Elasticsearch, restart it, and count what survived.

    python -m bench.chaos [--messages 5000] [--kills 3] [--seed N] [--snapshot 10] [--keep]

Against the local ElasticMQ and Elasticsearch (`scripts/services.sh start`; endpoints from
`AWS_ENDPOINT_URL_SQS` and `SIFT_ES_URL`, else the local defaults). It sends `--messages` short
reviews (1% malformed, every author different, event times spread over 8 hours so ticket windows
close) to a new queue, then runs `python -m bytewax.run flows.main` with Bytewax recovery in its own
process group and kills the whole group with SIGKILL at `--kills` random points (a random stored
count each, from the seed), restarting it right away each time. After the last kill the flow runs
until the queue has been idle; it is restarted again while messages are left (in flight when it
stopped). Meanwhile the ticket index is polled to catch a stored ticket version going backwards.

Checks: every message is stored exactly once (enriched or rejected, no id in both indices), each
valid review is enriched (a redelivery must not become a `duplicate`), the queue ends empty, and
ticket ids are unique with versions that never went down.

Progress goes to stderr; the last line on stdout is one JSON object: kills, restarts, sent, stored,
enriched, rejected, duplicates, lost, seconds (and the details behind them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
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


def messages(n: int, seed: int) -> list[tuple[str, str, str]]:
    """`(record id, body, expected kind)` for `n` messages: short complaints that pass every filter, 1% malformed."""
    from flows.operators.parse import identity

    rng = random.Random(seed)
    out = []
    for i in range(n):
        rid = f"chaos-{seed}-{i}"
        if i % 100 == 99:
            body = MALFORMED[(i // 100) % 2] % rid
            truncated = (i // 100) % 2 == 0  # no id can be read from it: the record id is the content hash
            out.append((identity(body)[0] if truncated else f"paynest/{rid}", body, "rejected"))
            continue
        text = f"{rng.choice(SUBJECTS)} {rng.choice(PROBLEMS)}, {rng.choice(ENDINGS)}"
        at = T0 + timedelta(seconds=8 * 3600 * i / n)
        body = {"id": rid, "app_id": "paynest", "text": text, "author": f"user-{seed}-{i}", "rating": rng.choice([1, 2]),
                "source": "google_play", "created_at": at.isoformat()}
        out.append((f"paynest/{rid}", json.dumps(body), "enriched"))
    return out


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
    seconds: float = 0.0
    wrong_kind: int = 0  # valid reviews stored as rejected, or malformed ones stored as enriched
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    queue_left: int = 0
    tickets: int = 0
    ticket_version_regressions: int = 0
    killed_at: list[int] = field(default_factory=list)


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
        resp = self.store.client.options(ignore_status=404).search(
            index=index, size=10_000, source=["id", "version"], query={"match_all": {}})
        for hit in resp.get("hits", {}).get("hits", []):
            tid, version = hit["_source"]["id"], int(hit["_source"]["version"])
            if version < self.versions.get(tid, 0):
                self.regressions += 1
            self.versions[tid] = max(version, self.versions.get(tid, 0))


def stored_count(store) -> int:
    store.refresh()
    return sum(store.client.count(index=i)["count"] for i in (store.reviews, store.rejected))


def run_chaos(n: int, kills: int, seed: int, es_url: str, sqs_endpoint: str, workdir: Path,
              snapshot: int = 10, keep: bool = False, say: Callable[[str], None] = print,
              max_restarts: int = 4, timeout: float = 1200.0) -> Result:
    """Send `n` messages, kill -9 the flow `kills` times at random stored counts, restart until the queue is empty."""
    import boto3
    from bytewax.recovery import init_db_dir

    from connectors.elasticsearch_store import ElasticsearchStore
    from flows.settings import ElasticsearchSettings

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
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=f"chaos-{tag}"))
    recovery_dir = workdir / "recovery"
    recovery_dir.mkdir(parents=True, exist_ok=True)
    init_db_dir(recovery_dir, 1)
    log_path = workdir / "flow.log"
    try:
        store.setup()
        expected = messages(n, seed)
        for start in range(0, n, 10):
            chunk = expected[start : start + 10]
            resp = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body}
                                                                  for i, (_, body, _) in enumerate(chunk)])
            if resp.get("Failed"):
                raise RuntimeError(f"send to {url} failed: {resp['Failed'][0]}")
        result.sent = n
        say(f"chaos: sent {n:,} messages to {url}; ES indices chaos-{tag}-*; flow log {log_path}")
        # kill points: random stored counts, increasing, between 10% and 85% of the input
        points = sorted(rng.sample(range(n // 10, n * 85 // 100), kills)) if kills else []
        env = flow_env(url, es_url, sqs_endpoint, store.cfg.index_prefix, SIFT_WATCHLIST_QUEUE_URL=watch_url)
        watch = TicketWatch(store)
        with log_path.open("ab") as log:
            proc = start_flow(env, recovery_dir, snapshot, log)
            while True:
                if time.monotonic() > deadline:
                    kill_group(proc)
                    raise TimeoutError(f"bench.chaos: not done after {timeout:.0f} s; see {log_path}")
                time.sleep(1.0)
                stored = stored_count(store)
                watch.poll()
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
        watch.poll()
        result.queue_left = queue_depth(sqs, url)
        _count(result, store, expected, watch)
    finally:
        sqs.delete_queue(QueueUrl=url)
        sqs.delete_queue(QueueUrl=watch_url)
        if not keep:
            store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
        store.close()
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _count(result: Result, store, expected: list[tuple[str, str, str]], watch: TicketWatch) -> None:
    from elasticsearch import helpers

    store.refresh()
    kinds: dict[str, list[str]] = {}
    for index, kind in ((store.reviews, "enriched"), (store.rejected, "rejected")):
        for hit in helpers.scan(store.client, index=index, _source=["reason"] if kind == "rejected" else False):
            kinds.setdefault(hit["_id"], []).append(kind)
            if kind == "rejected":
                reason = hit["_source"].get("reason", "?")
                result.rejected_by_reason[reason] = result.rejected_by_reason.get(reason, 0) + 1
    result.stored = sum(len(v) for v in kinds.values())
    result.enriched = sum(v.count("enriched") for v in kinds.values())
    result.rejected = sum(v.count("rejected") for v in kinds.values())
    result.duplicates = result.stored - len(kinds)
    result.lost = sum(1 for rid, _, _ in expected if rid not in kinds)
    result.wrong_kind = sum(1 for rid, _, kind in expected if rid in kinds and kinds[rid] != [kind])
    result.tickets = len(watch.versions)
    result.ticket_version_regressions = watch.regressions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--snapshot", type=int, default=10, help="Bytewax snapshot interval, seconds")
    parser.add_argument("--keep", action="store_true", help="keep the Elasticsearch indices for inspection")
    args = parser.parse_args(argv)
    es_url = os.environ.get("SIFT_ES_URL", "http://127.0.0.1:9200")
    sqs_endpoint = os.environ.get("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324")
    workdir = ROOT / "var" / "chaos" / time.strftime("%Y%m%d-%H%M%S")  # the flow's log and recovery store stay here
    result = run_chaos(args.messages, args.kills, args.seed, es_url, sqs_endpoint, workdir,
                       snapshot=args.snapshot, keep=args.keep, say=lambda s: print(s, file=sys.stderr, flush=True))
    print(json.dumps(asdict(result)))
    ok = result.lost == 0 and result.duplicates == 0 and result.wrong_kind == 0 and result.queue_left == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
