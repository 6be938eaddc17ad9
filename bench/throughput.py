"""End-to-end throughput against the embedding model's own speed, on the same demo texts, in one run.

    python -m bench.throughput --n 20000 [--backend onnx|torch|onnx-int8] [--skip-sqs] [--workers 1]

Measures, in this order, on `--n` reviews from the demo generator (`demo.generate.build`):

1. **file -> SQLite**: the real flow (`python -m bytewax.run flows.main`) as a subprocess.
2. **raw encode**: `Embedder.encode` of the same model, built with the same settings as the flow,
   in calls of `SIFT_BATCH_SIZE` texts, on (a) *all* input texts and (b) the texts the flow had to
   encode: the `text_en` of every enriched review of run 1 (what survives parse, denoise and dedup).
   Each measurement uses a fresh `Embedder` warmed up on an unrelated sentence, so no cache carries over.
3. **SQS -> Elasticsearch**: all N messages are sent to a fresh ElasticMQ queue first, then the flow
   runs with `SIFT_SQS_STOP_AFTER_IDLE` into fresh `bench-…` indices (deleted afterwards).
4. **issue step**: the stored enriched reviews of run 1 replayed through `issues.issue_step` per
   (app, label) key, in stored order, in this process: its CPU cost in ms per review (`issue_step_ms`).
5. raw encode of the kept texts again, so the ratios use the mean of a measurement before and after
   the SQS run (the machine's load drifts; both values are printed).

How the flow is timed: model loading and start-up are excluded by starting the clock at the first poll
that sees an *enriched* record stored (SQLite row count, or Elasticsearch `_count`, which only sees
searchable documents) and stopping it at the poll that sees all N records; the rate is the records
stored in between over that time, so the first batch (the one that paid for the model load) is not
counted either. Polls are every `--poll` seconds. Peak RSS is the child's `ru_maxrss` from `wait4`.

Ratios (be careful which one you quote):
- `*_vs_encode_kept` = end-to-end input records/s ÷ (N / time to encode the kept texts): the share of
  the flow's wall time that the model alone would need for this input. This is the strict one and the
  one the acceptance target (>= 0.85) is checked against.
- `*_vs_encode_kept_adjacent`: the same against only the encode measured right after that flow run
  (when other jobs make the machine's speed drift, the neighbouring measurement is the fairer one).
- `*_vs_encode_all` = end-to-end input records/s ÷ encode texts/s on all input texts (the issue's
  literal "same texts"; it is larger because rejected texts are short and never encoded).
- `*_cpu_vs_encode_kept` = CPU seconds per input record of encoding the kept texts ÷ CPU seconds per
  record of the flow process (all its threads): the same ratio by CPU time instead of wall time.
  The table also gives the whole machine's busy CPU per record during each flow run: on one machine
  Elasticsearch and ElasticMQ take their CPU from the same cores as the model.
- `*_cpu_ceiling` = encode CPU per input record ÷ the whole machine's busy CPU per record during that
  flow run: the highest `*_vs_encode_kept` a flow doing this much work can reach on this machine,
  because the floor's encode already keeps every core busy. Work that is not encoding (the flow's
  other steps, clients, servers on the same cores) lowers it; only less of that work raises it. CPU is
  read at each poll, so this needs a flow run of tens of seconds (`--n` of 10,000 or more); on a few
  seconds it can even come out above 1.

Latency (SQS -> Elasticsearch): for a sample of about `--samples` message ids, the time from the
source receiving the message (`received_at` on the stored document) to the first search that finds
it, polled every `--poll` seconds (so each value is an upper bound, within one poll interval).

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings

BACKENDS = ("torch", "onnx", "onnx-int8")
AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ── input ───────────────────────────────────────────────────────────────────────────────────────────

def demo_lines(n: int, seed: int, chunk: int = 50_000) -> list[str]:
    """`n` demo lines; beyond `chunk` lines, further seeds continue the stream 28 days later with their
    ids prefixed by the seed, so every id is distinct and event time keeps moving forward. A stream of
    several chunks starts far enough back that its last day is yesterday: parse rejects a `created_at`
    more than a day after receipt."""
    from datetime import date, timedelta

    from demo.generate import DEFAULT_APP, build

    lines: list[str] = []
    parts = -(-n // chunk)
    start = date(2026, 10, 1) if parts == 1 else date.today() - timedelta(days=28 * parts + 1)
    part = 0
    while len(lines) < n:
        size = min(chunk, n - len(lines))
        day = (start + timedelta(days=28 * part)).isoformat()
        pairs = build(size, seed + part, day, 28, str(DEFAULT_APP))
        if part == 0:
            lines.extend(line for _, line in pairs)
        else:
            lines.extend(_prefix_id(line, f"s{seed + part}-") for _, line in pairs)
        part += 1
    return lines


def _prefix_id(line: str, prefix: str) -> str:
    try:
        obj = json.loads(line)
    except ValueError:
        return line  # a deliberately malformed line stays malformed
    if isinstance(obj, dict) and isinstance(obj.get("id"), str):
        obj["id"] = prefix + obj["id"]
        return json.dumps(obj, ensure_ascii=False)
    return line


def distinct_records(lines: list[str]) -> int:
    """How many records `lines` store: one per distinct message (id and fingerprint, as `parse` gives them), so
    identical lines (the demo's malformed lines repeat across seeds) are one record, and a line that reuses
    another's id with other content is one more (its `id_conflict` record)."""
    from flows.operators.parse import identity

    return len({identity(line) for line in lines})


def input_texts(lines: list[str]) -> list[str]:
    """The `text` of every line that has one (what an encoder of *all* inputs would see)."""
    out = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("text"), str) and obj["text"].strip():
            out.append(obj["text"])
    return out


def sample_ids(lines: list[str], k: int, seed: int = 0) -> list[str]:
    from flows.operators.parse import identity

    ids = []
    for line in lines:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("id"), str) and obj["id"].strip() == obj["id"] and obj["id"]:
            ids.append(identity(line)[0])  # the stored id: namespaced by app
    ids = list(dict.fromkeys(ids))
    return sorted(random.Random(seed).sample(ids, min(k, len(ids))))


# ── the flow as a subprocess ───────────────────────────────────────────────────────────────────────

@dataclass
class FlowRun:
    """What one run of the real flow measured."""

    n: int
    stored: int = 0
    enriched: int = 0
    startup_s: float = 0.0  # process start -> first enriched record stored
    window_s: float = 0.0  # first enriched record stored -> all N stored
    window_records: int = 0  # records stored inside the window
    total_s: float = 0.0  # process start -> exit
    cpu_window_s: float = 0.0  # CPU seconds of the flow process inside the window (all its threads)
    machine_cpu_window_s: float = 0.0  # CPU seconds of the whole machine inside the window (servers, other jobs too)
    peak_rss_mib: float = 0.0
    rss_samples_mib: list[float] = field(default_factory=list)
    returncode: int | None = None
    stderr_tail: str = ""

    @property
    def records_per_s(self) -> float:
        return self.window_records / self.window_s if self.window_s > 0 else 0.0


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (everything but idle and iowait), from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (all threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run_flow(env: dict[str, str], n: int, count, workers: int, poll: float, timeout: float,
             args: list[str] | None = None, on_poll=None, prog: str = "bench.throughput") -> FlowRun:
    """Run the flow with `env`; `count()` returns (stored, enriched) as the store sees them now. Failures end
    the program with a message that starts with `prog`."""
    cmd = [sys.executable, "-m", "bytewax.run", "flows.main", "-w", str(workers), *(args or [])]
    err_path = Path(env["SIFT_BENCH_DIR"]) / f"flow-{uuid.uuid4().hex[:6]}.log"
    run = FlowRun(n=n)
    started = time.perf_counter()
    with err_path.open("w") as err:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=err, stderr=err)
        t0 = c0 = cpu0 = busy0 = None
        try:
            while True:
                time.sleep(poll)
                now = time.perf_counter()
                cpu = proc_cpu_seconds(proc.pid)
                run.rss_samples_mib.append(proc_rss_mib(proc.pid))
                try:
                    stored, enriched = count()
                except Exception as e:  # the store may not exist yet
                    stored, enriched = 0, 0
                    if now - started > 30 and not isinstance(e, (sqlite3.Error, FileNotFoundError)):
                        log(f"count failed: {e!r}")
                if on_poll:
                    on_poll()
                if t0 is None and enriched > 0:
                    t0, c0, cpu0, busy0 = now, stored, cpu, machine_busy_seconds()
                    log(f"first enriched record stored after {now - started:.1f}s ({stored} records); clock starts")
                if t0 is not None and stored >= n:
                    run.window_s, run.window_records = now - t0, stored - c0
                    run.cpu_window_s = cpu - cpu0
                    run.machine_cpu_window_s = machine_busy_seconds() - busy0
                    run.startup_s = t0 - started
                    run.stored, run.enriched = stored, enriched
                    log(f"all {n} records stored: {run.window_records} in {run.window_s:.1f}s after the first")
                    break
                if proc.poll() is not None:
                    run.stored, run.enriched = stored, enriched
                    break
                if now - started > timeout:
                    raise SystemExit(f"{prog}: flow did not finish in {timeout:.0f}s ({stored}/{n} stored)")
        except BaseException:
            proc.kill()
            raise
        finally:
            if proc.returncode is None:
                try:
                    _, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    run.peak_rss_mib = usage.ru_maxrss / 1024
                except ChildProcessError:
                    proc.wait()
    run.total_s = time.perf_counter() - started
    run.returncode = proc.returncode
    run.stderr_tail = err_path.read_text(errors="replace")[-3000:]
    if not run.peak_rss_mib:
        run.peak_rss_mib = max((r for r in run.rss_samples_mib if r == r), default=0.0)
    if run.returncode != 0 or run.stored < n:
        raise SystemExit(f"{prog}: flow exited {run.returncode} with {run.stored}/{n} stored:\n{run.stderr_tail}")
    return run


def base_env(work: Path, backend: str | None) -> dict[str, str]:
    env = {
        "HF_HUB_OFFLINE": "1", "SIFT_BENCH_DIR": str(work), "SIFT_PROGRESS_SECONDS": "10",
        "SIFT_WATCHLIST_FILE": str(work / "no-watchlist.jsonl"),
    }
    if backend:
        env["SIFT_EMBED_BACKEND"] = backend
    return env


def sqs_es_env(work: Path, backend: str | None, queue_url: str, watch_url: str, es_url: str,
               index_prefix: str) -> dict[str, str]:
    """The flow's environment for SQS -> Elasticsearch on the project's services, stopping once the queue is idle."""
    return {
        **base_env(work, backend), "SIFT_SOURCE": "sqs", "SIFT_SQS_QUEUE_URLS": queue_url, "SIFT_SQS_STOP_AFTER_IDLE": "5",
        "SIFT_SQS_VISIBILITY_TIMEOUT": "600", "SIFT_WATCHLIST_QUEUE_URL": watch_url, "SIFT_STORE": "elasticsearch",
        "SIFT_ES_URL": es_url, "SIFT_ES_INDEX_PREFIX": index_prefix,
        "AWS_ENDPOINT_URL_SQS": os.environ["AWS_ENDPOINT_URL_SQS"], **AWS_ENV,
    }


def file_to_sqlite(work: Path, path: Path, n: int, backend: str | None, workers: int, poll: float,
                   timeout: float, extra_env: dict[str, str] | None = None, prog: str = "bench.throughput",
                   on_poll=None) -> tuple[FlowRun, Path]:
    db = work / "file.db"
    env = {**base_env(work, backend), "SIFT_SOURCE": "file", "SIFT_INPUT": str(path), "SIFT_STORE": "sqlite",
           "SIFT_SQLITE_PATH": str(db), **(extra_env or {})}

    def count() -> tuple[int, int]:
        if not db.exists():
            return 0, 0
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            enriched = conn.execute("SELECT COUNT(*) FROM reviews").fetchone()[0]
            rejected = conn.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]
        return enriched + rejected, enriched

    return run_flow(env, n, count, workers, poll, timeout, on_poll=on_poll, prog=prog), db


def kept_texts(db: Path) -> list[str]:
    """The text each enriched review was encoded from, in the order they were stored."""
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT json_extract(doc, '$.text_en') FROM reviews ORDER BY rowid")]


def issue_step_cost(db: Path, settings: Settings) -> dict[str, float]:
    """CPU ms per review of the issue step, replaying run 1's stored reviews per key (praise included)."""
    import numpy as np

    from flows.dataflow import issue_config
    from flows.operators.issues import issue_step
    from core.records import EnrichedReview, Measures, Review

    cfg = issue_config(settings)
    items = []
    with sqlite3.connect(db) as conn:
        for doc, blob in conn.execute("SELECT doc, embedding FROM reviews ORDER BY rowid"):
            d = json.loads(doc)
            at = datetime.fromisoformat(d["created_at"])
            review = Review(id=d["id"], app_id=d["app_id"], text=d["text"], source=d["source"], created_at=at,
                            received_at=at, origin="bench", rating=d["rating"])
            items.append(EnrichedReview(
                review=review, measures=Measures(d["measures"]["word_count"], 0.0), lang=d["lang"],
                text_en=d["text_en"], translated=d["translated"], primary_label=d["primary_label"], label_score=0.0,
                embedding=tuple(np.frombuffer(blob, dtype=np.float32).tolist()), translation=d["translation"],
                review_type=d["review_type"], sentiment=d["sentiment"], priority=d["priority"]))
    states: dict[str, object] = {}
    started = time.process_time()
    for item in items:
        key = f"{item.review.app_id}:{item.primary_label}:{item.lang_group}"
        states[key], _ = issue_step(states.get(key), item, cfg)
    cpu = time.process_time() - started
    live = sum(len(s.issues) for s in states.values())  # type: ignore[attr-defined]
    return {"issue_step_ms": round(1000 * cpu / max(len(items), 1), 4), "issue_step_reviews": len(items),
            "issue_live_issues": live}


# ── raw encode ─────────────────────────────────────────────────────────────────────────────────────

def make_embedder(settings: Settings):
    """An `Embedder` built the way the flow builds one (backend passed when the class takes one)."""
    from flows.operators.embed import Embedder

    params = inspect.signature(Embedder).parameters
    kwargs = {}
    if "backend" in params and getattr(settings, "embed_backend", None):
        kwargs["backend"] = settings.embed_backend
    return Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, **kwargs)


def raw_encode(settings: Settings, texts: list[str], call_size: int) -> dict[str, float]:
    """Texts/s of `Embedder.encode` on `texts`, in calls of `call_size`, with a fresh warmed-up embedder."""
    embedder = make_embedder(settings)
    embedder.encode(["warm-up sentence that is not in the benchmark input"])
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), call_size):
        embedder.encode(texts[start : start + call_size])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"texts": len(texts), "seconds": wall, "texts_per_s": len(texts) / wall, "cpu_seconds": cpu}


# ── SQS -> Elasticsearch ───────────────────────────────────────────────────────────────────────────

@dataclass
class Latency:
    pending: set[str]
    store: object  # an ElasticsearchStore: its `read` retries the 503 of an index the flow has just created
    indices: str
    seen: dict[str, float] = field(default_factory=dict)

    def poll(self) -> None:
        if not self.pending:
            return
        at = datetime.now(timezone.utc)
        resp = self.store.read(
            self.store.client.options(ignore_status=404).search,
            index=self.indices, size=len(self.pending), query={"ids": {"values": sorted(self.pending)}},
            source_includes=["received_at"], ignore_unavailable=True)
        for hit in resp.get("hits", {}).get("hits", []):
            received = datetime.fromisoformat(hit["_source"]["received_at"].replace("Z", "+00:00"))
            self.seen[hit["_id"]] = (at - received).total_seconds()
            self.pending.discard(hit["_id"])


def sqs_to_es(work: Path, lines: list[str], backend: str | None, workers: int, poll: float, timeout: float,
              samples: int) -> tuple[FlowRun, dict[str, float]]:
    from connectors.elasticsearch_store import ElasticsearchStore
    from connectors.sqs import SqsPublisher, sqs_client
    from core.settings import ElasticsearchSettings

    es_url = os.environ.get("SIFT_ES_URL", "http://127.0.0.1:9200")
    os.environ.setdefault("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324")
    for key, value in AWS_ENV.items():
        os.environ.setdefault(key, value)
    client = sqs_client()
    tag = uuid.uuid4().hex[:8]
    url = client.create_queue(QueueName=f"sift-bench-{tag}", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
    watch_url = client.create_queue(QueueName=f"sift-bench-watch-{tag}")["QueueUrl"]
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=f"bench-{tag}"))
    try:
        started = time.perf_counter()
        sent = SqsPublisher(url, client=client).publish([(str(i), body) for i, body in enumerate(lines)]).sent
        log(f"sqs: sent {sent:,} messages in {time.perf_counter() - started:.1f}s to {url}")
        if sent != len(lines):
            raise SystemExit(f"bench.throughput: only {sent}/{len(lines)} messages were sent")
        env = sqs_es_env(work, backend, url, watch_url, es_url, store.cfg.index_prefix)
        indices = f"{store.reviews},{store.rejected}"
        latency = Latency(set(sample_ids(lines, samples)), store, indices)

        def count() -> tuple[int, int]:
            enriched = store.client.options(ignore_status=404).count(index=store.reviews).get("count", 0)
            rejected = store.client.options(ignore_status=404).count(index=store.rejected).get("count", 0)
            return enriched + rejected, enriched

        run = run_flow(env, distinct_records(lines), count, workers, poll, timeout, on_poll=latency.poll)
        latency.poll()
        values = sorted(latency.seen.values())
        lat = {"samples": len(values), "missing": len(latency.pending)}
        if values:
            lat |= {"p50_s": statistics.median(values), "p95_s": values[min(len(values) - 1, int(0.95 * len(values)))],
                    "max_s": values[-1]}
        return run, lat
    finally:
        store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
        store.close()
        client.delete_queue(QueueUrl=url)
        client.delete_queue(QueueUrl=watch_url)


# ── report ─────────────────────────────────────────────────────────────────────────────────────────

def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="reviews from the demo generator")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="SIFT_EMBED_BACKEND for the flow and the raw encode (default: the flow's default)")
    parser.add_argument("--workers", type=int, default=1, help="Bytewax workers (-w) for both flow runs")
    parser.add_argument("--skip-sqs", action="store_true", help="only file -> SQLite (no servers needed)")
    parser.add_argument("--samples", type=int, default=500, help="message ids sampled for latency")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between store polls")
    parser.add_argument("--timeout", type=float, default=6 * 3600)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (input, SQLite file, flow logs)")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.backend:
        os.environ["SIFT_EMBED_BACKEND"] = args.backend
    settings = Settings.from_env()
    work = PROJECT_ROOT / "var" / "bench" / f"throughput-{datetime.now():%Y%m%d-%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, object] = {"n": args.n, "seed": args.seed, "backend": settings.embed_backend,
                                 "workers": args.workers, "batch_size": settings.batch_size,
                                 "encode_batch": settings.encode_batch, "torch_threads": settings.torch_threads,
                                 "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 "load_before": load_average()}
    try:
        lines = demo_lines(args.n, args.seed)
        path = work / "reviews.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        log(f"{len(lines):,} demo lines -> {path} (load {load_average()})")

        log("file -> SQLite …")
        file_run, db = file_to_sqlite(work, path, distinct_records(lines), args.backend, args.workers, args.poll, args.timeout)
        kept = kept_texts(db)
        everything = input_texts(lines)
        log(f"file -> SQLite: {file_run.records_per_s:,.1f} records/s; {len(kept):,} texts encoded by the flow")

        issue_cost = issue_step_cost(db, settings)
        log(f"issue step: {issue_cost['issue_step_ms']} ms CPU per review over {issue_cost['issue_step_reviews']:,} reviews")
        result |= issue_cost

        log(f"raw encode of the {len(kept):,} kept texts …")
        enc_kept = [raw_encode(settings, kept, settings.batch_size)]
        log(f"raw encode of all {len(everything):,} input texts …")
        enc_all = raw_encode(settings, everything, settings.batch_size)

        sqs_run, lat = None, {}
        if not args.skip_sqs:
            log("SQS -> Elasticsearch …")
            sqs_run, lat = sqs_to_es(work, lines, args.backend, args.workers, args.poll, args.timeout, args.samples)
            log(f"SQS -> Elasticsearch: {sqs_run.records_per_s:,.1f} records/s")
            log("raw encode of the kept texts again …")
            enc_kept.append(raw_encode(settings, kept, settings.batch_size))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    n = len(lines)
    kept_s = statistics.mean(e["seconds"] for e in enc_kept)
    floor_rate = n / kept_s  # input records/s if the flow cost nothing but encoding what it must encode
    # CPU seconds per input record of encoding the kept texts: less sensitive to other jobs than wall time
    cpu_floor = statistics.mean(e["cpu_seconds"] for e in enc_kept) / n
    result |= {
        "enriched": file_run.enriched, "rejected": file_run.stored - file_run.enriched,
        "encode_kept_texts_per_s": [round(e["texts_per_s"], 1) for e in enc_kept],
        "encode_kept_seconds": [round(e["seconds"], 1) for e in enc_kept],
        "encode_kept_equiv_records_per_s": round(floor_rate, 1),
        "encode_all_texts_per_s": round(enc_all["texts_per_s"], 1),
        "encode_cpu_ms_per_record": round(1000 * statistics.mean(e["cpu_seconds"] for e in enc_kept) / n, 2),
        "file_sqlite_records_per_s": round(file_run.records_per_s, 1),
        "file_sqlite_startup_s": round(file_run.startup_s, 1),
        "file_sqlite_cpu_ms_per_record": round(1000 * file_run.cpu_window_s / max(file_run.window_records, 1), 2),
        "file_sqlite_machine_cpu_ms_per_record": round(1000 * file_run.machine_cpu_window_s / max(file_run.window_records, 1), 2),
        "file_sqlite_peak_rss_mib": round(file_run.peak_rss_mib),
        "file_vs_encode_kept": round(file_run.records_per_s / floor_rate, 3),
        "file_vs_encode_kept_adjacent": round(file_run.records_per_s * enc_kept[0]["seconds"] / n, 3),
        "file_vs_encode_all": round(file_run.records_per_s / enc_all["texts_per_s"], 3),
        "file_cpu_vs_encode_kept": round(cpu_floor / max(file_run.cpu_window_s / max(file_run.window_records, 1), 1e-9), 3),
        "file_cpu_ceiling": round(cpu_floor / max(file_run.machine_cpu_window_s / max(file_run.window_records, 1), 1e-9), 3),
    }
    rows = [
        ("input", f"{n:,} demo reviews (seed {args.seed}): {file_run.enriched:,} enriched, "
                  f"{file_run.stored - file_run.enriched:,} rejected"),
        ("raw encode, kept texts", " / ".join(f"{e['texts_per_s']:,.1f}" for e in enc_kept)
         + f" texts/s = {floor_rate:,.1f} input records/s (model-only floor)"),
        ("raw encode, all texts", f"{enc_all['texts_per_s']:,.1f} texts/s ({enc_all['texts']:,} texts)"),
        ("file -> SQLite", f"{file_run.records_per_s:,.1f} records/s  = {result['file_vs_encode_kept']:.2f} × floor "
                           f"({result['file_vs_encode_kept_adjacent']:.2f} × the encode measured next to it), "
                           f"{result['file_vs_encode_all']:.2f} × all-text encode; by CPU time "
                           f"{result['file_cpu_vs_encode_kept']:.2f}; start-up {file_run.startup_s:.0f}s, "
                           f"peak RSS {file_run.peak_rss_mib:,.0f} MiB"),
    ]
    if sqs_run is not None:
        result |= {
            "sqs_es_records_per_s": round(sqs_run.records_per_s, 1),
            "sqs_es_startup_s": round(sqs_run.startup_s, 1),
            "sqs_es_cpu_ms_per_record": round(1000 * sqs_run.cpu_window_s / max(sqs_run.window_records, 1), 2),
            "sqs_es_machine_cpu_ms_per_record": round(1000 * sqs_run.machine_cpu_window_s / max(sqs_run.window_records, 1), 2),
            "sqs_es_peak_rss_mib": round(sqs_run.peak_rss_mib),
            "sqs_es_vs_encode_kept": round(sqs_run.records_per_s / floor_rate, 3),
            "sqs_es_vs_encode_kept_adjacent": round(sqs_run.records_per_s * enc_kept[-1]["seconds"] / n, 3),
            "sqs_es_vs_encode_all": round(sqs_run.records_per_s / enc_all["texts_per_s"], 3),
            "sqs_es_cpu_vs_encode_kept": round(cpu_floor / max(sqs_run.cpu_window_s / max(sqs_run.window_records, 1), 1e-9), 3),
            "sqs_es_cpu_ceiling": round(cpu_floor / max(sqs_run.machine_cpu_window_s / max(sqs_run.window_records, 1), 1e-9), 3),
            "latency_samples": lat.get("samples", 0),
            "latency_p50_s": round(lat["p50_s"], 2) if "p50_s" in lat else None,
            "latency_p95_s": round(lat["p95_s"], 2) if "p95_s" in lat else None,
            "latency_max_s": round(lat["max_s"], 2) if "max_s" in lat else None,
        }
        rows += [
            ("SQS -> Elasticsearch", f"{sqs_run.records_per_s:,.1f} records/s  = {result['sqs_es_vs_encode_kept']:.2f} × floor "
                                     f"({result['sqs_es_vs_encode_kept_adjacent']:.2f} × the encode measured next to it), "
                                     f"{result['sqs_es_vs_encode_all']:.2f} × all-text encode; by CPU time "
                                     f"{result['sqs_es_cpu_vs_encode_kept']:.2f}; start-up {sqs_run.startup_s:.0f}s, "
                                     f"peak RSS {sqs_run.peak_rss_mib:,.0f} MiB"),
            ("receive -> searchable", f"p50 {result['latency_p50_s']} s, p95 {result['latency_p95_s']} s "
                                      f"({lat.get('samples', 0)} sampled ids, poll {args.poll}s)"),
        ]
    result["load_after"] = load_average()
    cpu_row = f"encode {result['encode_cpu_ms_per_record']} ms; file -> SQLite flow {result['file_sqlite_cpu_ms_per_record']} ms " \
              f"(whole machine {result['file_sqlite_machine_cpu_ms_per_record']})"
    if sqs_run is not None:
        cpu_row += f"; SQS -> Elasticsearch flow {result['sqs_es_cpu_ms_per_record']} ms " \
                   f"(whole machine, Elasticsearch and ElasticMQ included, {result['sqs_es_machine_cpu_ms_per_record']})"
    rows.append(("CPU per input record", cpu_row))
    rows.append(("issue step", f"{result['issue_step_ms']} ms CPU per review ({result['issue_step_reviews']:,} stored "
                               f"reviews replayed; {result['issue_live_issues']} live issues at the end)"))
    ceiling = f"file -> SQLite {result['file_cpu_ceiling']:.2f}"
    if sqs_run is not None:
        ceiling += f", SQS -> Elasticsearch {result['sqs_es_cpu_ceiling']:.2f}"
    rows.append(("ceiling × floor", ceiling + " (encode CPU ÷ whole-machine CPU per record: the best ratio this much work allows here)"))
    rows.append(("load average", f"{result['load_before']} before, {result['load_after']} after (2 cores)"))
    print(table(rows))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
