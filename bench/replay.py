"""Replay a real CSV stream through the real flow: the tickets it raises, and the false alarms of a time-shuffled copy.

    python -m bench.replay --data FILE [--apps DIR] [--real] [--limit N] [--seed 17] [--no-shuffle]
                           [--undated-days 28] [--stretch K] [--work DIR] [--keep]

Each CSV row becomes one review line (`id`, `app_id`, `text`, `source`, `rating`, `created_at`, `app_version`,
`meta.thumbs_up`), in time order, and the real flow (`python -m bytewax.run flows.main`, a subprocess) reads them:
by default from a file into a fresh SQLite store under `var/bench/`, with `--real` from a fresh SQS queue into
fresh Elasticsearch indices on the project's services (`scripts/services.sh start all`; the endpoints come from
`SIFT_ES_URL` and `AWS_ENDPOINT_URL_SQS`, as `scripts/services.sh env` prints them).

Columns: the shared stream columns (`review_id, app, platform, text, rating, date, app_version, thumbs_up,
dev_reply, lang_guess`), of which only `app` and `text` are required, or the tweet export of
`sa_bank_tweets_2021.csv` (`id` for review_id, `bank_query` for app, `nlikes` for thumbs_up, `timezone` as the
UTC offset of `date`, source `twitter`). Any other column is an error, and so is an `app` value that no app
metadata in `--apps` (default `bench/apps`) names: its `app_id` or `name`, compared without case, accents or
punctuation, or an `app_id` the value starts with followed by a hyphen ("albo-reemplaza-a-tu-banco" -> albo).

Times: a `date` without an offset is UTC. A stream without dates (mx_neobanks_es.csv) gets a time for each row
drawn uniformly from the `--undated-days` days before 2026-01-01 UTC, seeded by the row's id: deterministic, and
shaped like a stream where nothing happens (the report says so). A dated stream's rows without a date are
spread the same way over the stream's own span. `--stretch K` spreads each app's times K times wider from
its first review: the same reviews at a Kth of the rate, what a quieter app's stream looks like.

It prints every ticket in the store (its latest version): counts, title and issue name, severity, the scale
fields when the flow writes them, and 3 example reviews. Then the same rows go through the flow again with
their timestamps permuted at random within each app (seed `--seed`): every ticket of that run is a false alarm,
reported per 10,000 rows replayed, per scale when tickets carry `scale` or `trigger_scale` ("hour" first).
The last line is one JSON object with every figure. Progress goes to stderr. See docs/replay.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import json
import os
import random
import re
import shutil
import sys
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bench.throughput import AWS_ENV, base_env, distinct_records, file_to_sqlite, log, run_flow, sqs_es_env
from core.appmeta import AppMetadata, load_apps
from core.settings import PROJECT_ROOT, ConfigError, Settings

PROG = "bench.replay"
DEFAULT_APPS = PROJECT_ROOT / "bench" / "apps"
STREAM_COLUMNS = ("review_id", "app", "platform", "text", "rating", "date", "app_version", "thumbs_up", "dev_reply",
                  "lang_guess")
REQUIRED = ("app", "text")
# The tweet export (sa_bank_tweets_2021.csv): its names for stream columns, and the columns it adds.
ALIASES = {"id": "review_id", "bank_query": "app", "nlikes": "thumbs_up", "twitter_lang": "lang_guess"}
TWEET_EXTRAS = ("timezone", "hashtags", "nreplies", "nretweets", "source_file")
UNDATED_END = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCALE_FIELDS = ("raised_by", "scale", "trigger_scale", "trigger_scales")
SCALES = ("hour", "day", "week", "month")
SEVERITIES = ("low", "medium", "high", "blocker")
EXAMPLES = 3


class ReplayError(Exception):
    """The input cannot be replayed: the message says what to fix."""


@dataclass(frozen=True)
class StreamRow:
    """One CSV row, typed. `at` is None until a row without a date is given one (`with_times`)."""

    line: int  # data row number in the file, from 1
    review_id: str
    app: str
    text: str
    source: str
    rating: int | None = None
    at: datetime | None = None
    app_version: str = ""
    thumbs_up: int = 0


@dataclass(frozen=True)
class Stream:
    """The rows of a file and what the report says about them."""

    path: Path
    rows: list[StreamRow]
    columns: dict[str, str]  # file column -> stream column
    undated: int  # rows that came without a date
    note: str = ""  # how times were given to undated rows


# ── reading the CSV ─────────────────────────────────────────────────────────────────────────────────

def column_map(header: Sequence[str], path: Path) -> dict[str, str]:
    """File column -> stream column; ReplayError for an unknown, doubled or missing column."""
    known = set(STREAM_COLUMNS) | set(ALIASES) | set(TWEET_EXTRAS)
    unknown = [c for c in header if c not in known]
    if unknown:
        raise ReplayError(f"{path}: unknown column(s) {unknown}; a stream has the columns {', '.join(STREAM_COLUMNS)} "
                          f"(or the tweet export's {', '.join(sorted(ALIASES))}, {', '.join(TWEET_EXTRAS)})")
    mapping = {c: ALIASES.get(c, c) for c in header if c not in TWEET_EXTRAS}
    doubled = [name for name, n in Counter(mapping.values()).items() if n > 1]
    if doubled:
        raise ReplayError(f"{path}: more than one column gives {doubled} (columns: {list(header)})")
    missing = [name for name in REQUIRED if name not in mapping.values()]
    if missing:
        raise ReplayError(f"{path}: no {' or '.join(repr(m) for m in missing)} column (columns: {list(header)})")
    return mapping


def parse_time(value: str, offset: str = "") -> datetime | None:
    """An ISO 8601 date or time (UTC unless it says otherwise, or `offset` like "200" = +02:00 does), or Unix
    seconds; None for an empty cell. ValueError names the value."""
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{9,11}(?:\.\d+)?", value):
        return datetime.fromtimestamp(float(value), timezone.utc)
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=_offset(offset))
    return at.astimezone(timezone.utc)


def _offset(raw: str) -> timezone:
    """The tweet export's `timezone` column: [+-]HHMM without leading zeros ("200" = +02:00, "-500" = -05:00)."""
    raw = raw.strip()
    if not raw:
        return timezone.utc
    if not re.fullmatch(r"[+-]?\d{1,4}", raw):
        raise ValueError(f"timezone {raw!r} is not [+-]HHMM")
    sign = -1 if raw.startswith("-") else 1
    hhmm = int(raw.lstrip("+-"))
    return timezone(sign * timedelta(hours=hhmm // 100, minutes=hhmm % 100))


def _rating(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and 1 <= number <= 5 else None


def _count(value: str) -> int:
    try:
        return max(int(float(value)), 0)
    except ValueError:
        return 0


def read_stream(path: Path, limit: int | None = None) -> Stream:
    """The first `limit` rows of `path` (all without one), typed; times are not filled in yet."""
    if not path.is_file():
        raise ReplayError(f"{path} does not exist or is not a file")
    csv.field_size_limit(10_000_000)
    rows: list[StreamRow] = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise ReplayError(f"{path} is empty (no header row)")
        mapping = column_map(reader.fieldnames, path)
        by_name = {stream: file for file, stream in mapping.items()}
        tweets = "bank_query" in mapping or "twitter_lang" in mapping
        for line, raw in enumerate(reader, start=1):
            if limit is not None and line > limit:
                break
            cell = {name: (raw.get(column) or "") for name, column in by_name.items()}
            if not cell["app"].strip():
                raise ReplayError(f"{path}: row {line} has an empty {by_name['app']!r} column")
            try:
                at = parse_time(cell.get("date", ""), raw.get("timezone") or "")
            except ValueError as e:
                raise ReplayError(f"{path}: row {line}: date {cell.get('date')!r} is not a time ({e})") from e
            rows.append(StreamRow(
                line=line,
                review_id=cell.get("review_id", "").strip() or f"{path.stem}-{line}",
                app=cell["app"].strip(),
                text=cell["text"],
                source=(cell.get("platform", "").strip() or ("twitter" if tweets else "csv")).lower(),
                rating=_rating(cell.get("rating", "")),
                at=at,
                app_version=cell.get("app_version", "").strip(),
                thumbs_up=_count(cell.get("thumbs_up", "")),
            ))
    if not rows:
        raise ReplayError(f"{path} has a header but no rows")
    undated = sum(r.at is None for r in rows)
    return Stream(path=path, rows=rows, columns=mapping, undated=undated)


# ── apps ────────────────────────────────────────────────────────────────────────────────────────────

def _slug(value: str) -> str:
    """Lower case, accents dropped, every run of other characters one hyphen: "Fondeadora-Libérate" -> "fondeadora-liberate"."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def resolve_apps(values: Iterable[str], apps: dict[str, AppMetadata], where: Path) -> dict[str, str]:
    """Each distinct `app` value -> the app_id of the metadata that names it; ReplayError for a value no metadata
    (or more than one) names."""
    out, missing = {}, []
    for value in sorted(set(values)):
        slug = _slug(value)
        exact = sorted({a.app_id for a in apps.values() if slug and slug in (_slug(a.app_id), _slug(a.name))})
        prefix = sorted({a.app_id for a in apps.values() if slug.startswith(_slug(a.app_id) + "-")})
        found = exact or prefix
        if len(found) > 1:
            raise ReplayError(f"app {value!r} matches the metadata of several apps in {where}: {found}")
        if not found:
            missing.append(value)
        else:
            out[value] = found[0]
    if missing:
        known = ", ".join(f"{a.app_id} ({a.name})" for a in sorted(apps.values(), key=lambda a: a.app_id))
        raise ReplayError(f"no app metadata in {where} for app {', '.join(repr(m) for m in missing)}; add a JSON file "
                          f"whose app_id or name is that value (see demo/apps/paynest.json). Apps there: {known}")
    return out


# ── times ───────────────────────────────────────────────────────────────────────────────────────────

def _unit(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by `seed` and `key`."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def with_times(stream: Stream, seed: int, undated_days: float) -> Stream:
    """Rows without a date get a time drawn uniformly (seeded by their id) over the stream's span, or over the
    `undated_days` days before `UNDATED_END` when no row has a date."""
    if not stream.undated:
        return stream
    dated = [r.at for r in stream.rows if r.at is not None]
    if dated:
        start, end = min(dated), max(dated)
        note = (f"{stream.undated:,} of {len(stream.rows):,} rows have no date: each got a time drawn uniformly "
                f"(seed {seed}, by row id) between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC")
    else:
        end = UNDATED_END
        start = end - timedelta(days=undated_days)
        note = (f"the stream has no dates: each row got a time drawn uniformly (seed {seed}, by row id) over the "
                f"{undated_days:g} days before {end:%Y-%m-%d} UTC, so its arrival times are already those of a stream "
                "where nothing happens: tickets of this run are not incidents in time")
    span = (end - start).total_seconds()
    rows = [r if r.at is not None else dataclasses.replace(
        r, at=start + timedelta(seconds=round(span * _unit(seed, r.review_id)))) for r in stream.rows]
    return dataclasses.replace(stream, rows=rows, note=note)


def shuffle_times(rows: Sequence[StreamRow], seed: int) -> list[StreamRow]:
    """The same rows with their timestamps permuted at random within each app (seed `seed`): each app keeps its
    own arrival times, and what a review says no longer depends on when it came."""
    rng = random.Random(seed)
    out = list(rows)
    by_app: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        by_app.setdefault(r.app, []).append(i)
    for app in sorted(by_app):
        idx = by_app[app]
        times = [rows[i].at for i in idx]
        rng.shuffle(times)
        for i, at in zip(idx, times):
            out[i] = dataclasses.replace(rows[i], at=at)
    return out


def stretch_times(rows: Sequence[StreamRow], factor: float) -> list[StreamRow]:
    """The same rows with each app's times spread `factor` times wider from that app's first one."""
    first: dict[str, datetime] = {}
    for r in rows:
        if r.at is not None and (r.app not in first or r.at < first[r.app]):
            first[r.app] = r.at
    return [r if r.at is None else dataclasses.replace(r, at=first[r.app] + (r.at - first[r.app]) * factor)
            for r in rows]


def time_order(rows: Iterable[StreamRow]) -> list[StreamRow]:
    """Rows as a live stream delivers them: by time, file order among equal times."""
    return sorted(rows, key=lambda r: (r.at or UNDATED_END, r.line))


# ── an injected incident ────────────────────────────────────────────────────────────────────────────

# Written by the project (not from any data set): a new failure no review of the shared streams describes.
INCIDENT_TEMPLATES = (
    "Scan and pay fails with error U-77 'merchant VPA blocked' on every QR code since this morning",
    "error U-77 merchant VPA blocked when I scan any shop QR, tried {n} shops today",
    "QR payments not working at all, it says U-77 merchant VPA blocked, cash only now",
    "every QR scan gives U-77 VPA blocked error, please fix, {n} payments failed",
    "getting 'merchant VPA blocked' (U-77) on QR scan at the petrol pump and the grocery store",
    "since today scanning a QR code shows error U-77 and the payment does not go through",
)
INCIDENT_ID = "sift-injected-incident"


def incident_rows(app: str, start: datetime, n: int, hours: float, seed: int) -> list[StreamRow]:
    """`n` project-written reviews of one new failure for `app`, spread over `hours` from `start`."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        at = start + timedelta(seconds=rng.uniform(0, hours * 3600))
        text = rng.choice(INCIDENT_TEMPLATES).format(n=rng.randint(2, 9))
        rows.append(StreamRow(line=10_000_000 + i, review_id=f"{INCIDENT_ID}-{i}", app=app, text=text,
                              source="google_play", rating=1, at=at))
    return rows


def incident_report(tickets: Sequence[dict[str, Any]], store_path: Path, injected: list[StreamRow],
                    min_reviews: int) -> dict[str, Any]:
    """Where the injected reviews went: their issues, the ticket of the issue holding most of them, whether
    that ticket is new (opened by an hourly window inside the incident) and the first hour its issue
    held `min_reviews` injected reviews."""
    import sqlite3

    ids = {r.review_id for r in injected}
    issues: Counter = Counter()  # issue -> injected reviews in it
    sizes: Counter = Counter()  # issue -> all its reviews
    hours: Counter = Counter()
    with sqlite3.connect(store_path) as conn:
        for doc, in conn.execute("SELECT doc FROM reviews"):
            d = json.loads(doc)
            sizes[d.get("cluster_id")] += 1
            if d["id"].split("/", 1)[-1] in ids:
                issues[d.get("cluster_id")] += 1
                hours[(d.get("cluster_id"), d["created_at"][:13])] += 1
    if not issues:
        return {"injected": len(injected), "stored_with_issue": 0}
    top, held = issues.most_common(1)[0]
    members = sizes[top]
    first_hour = min((h for (c, h), k in hours.items() if c == top and k >= min_reviews), default=None)
    from flows.operators.tickets import ticket_id

    ticket = next((t for t in tickets if t["id"] == ticket_id(top or "")), None)
    start = min(r.at for r in injected)
    return {
        "injected": len(injected), "issues": len(issues), "top_issue": top, "share_in_top_issue": round(held / len(injected), 3),
        "top_issue_purity": round(held / members, 3) if members else None,
        "first_hour_with_min_reviews": first_hour,
        "ticket": None if ticket is None else {
            "id": ticket["id"], "title": ticket["title"], "opened_window": ticket.get("opened_window"),
            "opened_scale": ticket.get("opened_scale"),
            "new": bool(ticket.get("first_seen")) and ticket["first_seen"] >= start.isoformat()[:19],
        },
    }


# ── review lines ────────────────────────────────────────────────────────────────────────────────────

def review_line(row: StreamRow, app_id: str) -> str:
    """The JSON line the flow reads for one row (`flows/operators/parse.py` has the contract)."""
    review: dict[str, Any] = {"id": row.review_id, "app_id": app_id, "text": row.text, "source": row.source}
    if row.rating is not None:
        review["rating"] = row.rating
    if row.at is not None:
        review["created_at"] = row.at.isoformat()
    if row.app_version:
        review["app_version"] = row.app_version
    review["meta"] = {"thumbs_up": row.thumbs_up}
    return json.dumps(review, ensure_ascii=False)


def review_lines(rows: Sequence[StreamRow], app_ids: dict[str, str]) -> list[str]:
    return [review_line(r, app_ids[r.app]) for r in time_order(rows)]


# ── tickets ─────────────────────────────────────────────────────────────────────────────────────────

def read_tickets(store) -> list[dict[str, Any]]:
    """Every ticket document in `store`, its latest version per id."""
    latest: dict[str, dict[str, Any]] = {}
    cursor = None
    while True:
        docs, cursor = store.list_documents("tickets", cursor=cursor, limit=500)
        if not docs:
            break
        for doc in docs:
            old = latest.get(doc["id"])
            if old is None or doc.get("version", 0) >= old.get("version", 0):
                latest[doc["id"]] = doc
    return sorted(latest.values(), key=lambda d: (d.get("app_id") or "", -_rank(d.get("severity")),
                                                   -(d.get("total_count") or 0), d["id"]))


def _rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


def ticket_scales(doc: dict[str, Any]) -> list[str]:
    """The scales the ticket says it was raised at: `raised_by` (every scale a window of it passed at), else its
    `scale` / `trigger_scale` fields (strings or lists)."""
    found: list[str] = []
    for name in SCALE_FIELDS:
        if found:
            break
        value = doc.get(name)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and v not in found:
                found.append(v)
    return found


def ticket_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The figures of one ticket that go into the JSON line."""
    out = {key: doc.get(key) for key in ("id", "app_id", "primary_label", "title", "cluster_name", "severity", "status",
                                         "count", "total_count", "window_total", "windows", "version",
                                         "priority", "priority_reason")}
    out.update({name: doc[name] for name in SCALE_FIELDS if name in doc})
    return out


def scale_counts(tickets: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Tickets per scale they were raised at ("hour", "day", "week" first); {} when no ticket names a scale."""
    counts: Counter = Counter(s for doc in tickets for s in ticket_scales(doc))
    if not counts:
        return {}
    return {s: counts[s] for s in SCALES} | {s: counts[s] for s in sorted(counts) if s not in SCALES}


def false_alarms(tickets: Sequence[dict[str, Any]], rows: int, seed: int) -> dict[str, Any]:
    """Tickets of the shuffled run per 10,000 rows, overall and per scale ("hour" is the headline when tickets
    name their scale; otherwise the rate over all tickets is)."""
    def rate(n: int) -> float:
        return round(10_000 * n / rows, 2) if rows else 0.0

    by_scale = scale_counts(tickets) or ({s: 0 for s in SCALES} if not tickets else {})  # none at all: 0 per scale
    return {
        "seed": seed, "rows": rows, "tickets": len(tickets), "per_10k": rate(len(tickets)),
        "by_scale": {s: {"tickets": n, "per_10k": rate(n)} for s, n in by_scale.items()},
        "unscaled_tickets": sum(not ticket_scales(d) for d in tickets),
        "headline_scale": "hour" if by_scale else None,
        "headline_per_10k": rate(by_scale["hour"]) if by_scale else rate(len(tickets)),
    }


# ── printing ────────────────────────────────────────────────────────────────────────────────────────

def _one_line(text: str, width: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_ticket(doc: dict[str, Any]) -> str:
    scales = ticket_scales(doc)
    head = f"{doc['id']}  {doc.get('title', '')}"
    facts = [f"severity {doc.get('severity')}", f"status {doc.get('status')}"]
    if scales:
        facts.append("scale " + "/".join(scales))
    counts = [f"{key} {doc[key]}" for key in ("count", "total_count", "window_total", "windows", "late_count",
                                              "version") if key in doc]
    lines = [head, "    " + " · ".join(facts), "    " + " · ".join(counts)]
    if doc.get("cluster_name"):
        lines.append(f"    issue: {doc['cluster_name']}")
    if doc.get("priority_reason"):
        lines.append(f"    why: {_one_line(doc['priority_reason'])}")
    if doc.get("window_start"):
        lines.append(f"    last window {str(doc['window_start'])[:16]} – {str(doc.get('window_end', ''))[:16]} UTC; "
                     f"first seen {str(doc.get('first_seen', ''))[:16]}, last seen {str(doc.get('last_seen', ''))[:16]}")
    for rep in (doc.get("representatives") or [])[:EXAMPLES]:
        stars = f" ({rep['rating']}★)" if rep.get("rating") else ""
        lines.append(f"    > {_one_line(rep.get('text', ''))}{stars}")
        if rep.get("text_en") and rep.get("text_en") != rep.get("text"):
            lines.append(f"      (en) {_one_line(rep['text_en'])}")
    return "\n".join(lines)


# ── running the flow ────────────────────────────────────────────────────────────────────────────────

@dataclass
class RunResult:
    """One pass of the rows through the flow."""

    tickets: list[dict[str, Any]]
    stored: int
    enriched: int
    rejected: int
    by_reason: dict[str, int]
    elapsed_s: float


def _progress(count, n: int, every: float = 20.0):
    """An `on_poll` callback that logs stored/n at most every `every` seconds."""
    state = {"at": time.monotonic()}

    def poll() -> None:
        if time.monotonic() - state["at"] >= every:
            state["at"] = time.monotonic()
            try:
                stored = count()
            except Exception:  # the store may not exist yet
                return
            log(f"  {stored:,}/{n:,} records stored")
    return poll


def _settings(env: dict[str, str]) -> Settings:
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("SIFT_")})


def _collect(settings: Settings, started: float) -> RunResult:
    from connectors.backends import open_store

    store = open_store(settings)
    try:
        store.refresh()
        counts = store.counts()
        tickets = read_tickets(store)
    finally:
        store.close()
    return RunResult(tickets=tickets, stored=counts.total, enriched=counts.enriched, rejected=counts.rejected,
                     by_reason=dict(sorted(counts.by_reason.items(), key=lambda kv: -kv[1])),
                     elapsed_s=round(time.perf_counter() - started, 1))


def replay_file(work: Path, lines: list[str], apps_dir: Path, timeout: float) -> RunResult:
    """file -> SQLite: the lines into a fresh store under `work`."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n = distinct_records(lines)
    db = work / "file.db"
    extra = {"SIFT_APPS": str(apps_dir)}

    def stored() -> int:
        import sqlite3

        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("reviews", "rejected"))

    started = time.perf_counter()
    _, db = file_to_sqlite(work, path, n, None, 1, 1.0, timeout, extra_env=extra, prog=PROG,
                           on_poll=_progress(stored, n))
    env = {**base_env(work, None), "SIFT_STORE": "sqlite", "SIFT_SQLITE_PATH": str(db), **extra}
    return _collect(_settings(env), started)


def replay_real(work: Path, lines: list[str], apps_dir: Path, timeout: float, tag: str, keep: bool) -> RunResult:
    """SQS -> Elasticsearch: the lines into a fresh queue, the flow into fresh `replay-<tag>` indices."""
    from connectors.elasticsearch_store import ElasticsearchStore
    from connectors.sqs import SqsPublisher, sqs_client
    from core.settings import ElasticsearchSettings

    work.mkdir(parents=True, exist_ok=True)
    es_url = os.environ.get("SIFT_ES_URL", "http://127.0.0.1:9200")
    os.environ.setdefault("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324")
    for key, value in AWS_ENV.items():
        os.environ.setdefault(key, value)
    prefix = f"replay-{tag}"
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=prefix))
    try:
        store.client.cluster.health(timeout="5s")
        client = sqs_client()
        url = client.create_queue(QueueName=f"sift-replay-{tag}", Attributes={"VisibilityTimeout": "600"})["QueueUrl"]
        watch_url = client.create_queue(QueueName=f"sift-replay-watch-{tag}")["QueueUrl"]
    except Exception as e:
        raise ReplayError(f"--real needs Elasticsearch at {es_url} and ElasticMQ at {os.environ['AWS_ENDPOINT_URL_SQS']} "
                          f"(scripts/services.sh start all; eval \"$(scripts/services.sh env)\"): {e}") from e
    started = time.perf_counter()
    try:
        sent = SqsPublisher(url, client=client).publish([(str(i), body) for i, body in enumerate(lines)]).sent
        log(f"sqs: sent {sent:,} messages to {url}")
        if sent != len(lines):
            raise ReplayError(f"only {sent:,} of {len(lines):,} messages were sent to {url}")
        env = {**sqs_es_env(work, None, url, watch_url, es_url, prefix), "SIFT_APPS": str(apps_dir)}

        def count() -> tuple[int, int]:
            enriched = store.client.options(ignore_status=404).count(index=store.reviews).get("count", 0)
            rejected = store.client.options(ignore_status=404).count(index=store.rejected).get("count", 0)
            return enriched + rejected, enriched

        n = distinct_records(lines)
        run_flow(env, n, count, 1, 1.0, timeout, on_poll=_progress(lambda: count()[0], n), prog=PROG)
        return _collect(_settings(env), started)
    finally:
        if keep:
            log(f"kept indices {prefix}-* and queues {url}, {watch_url}")
        else:
            store.client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
            client.delete_queue(QueueUrl=url)
            client.delete_queue(QueueUrl=watch_url)
        store.close()


# ── main ────────────────────────────────────────────────────────────────────────────────────────────

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV stream (the shared stream columns)")
    parser.add_argument("--apps", type=Path, default=DEFAULT_APPS, help="app metadata folder (default: bench/apps)")
    parser.add_argument("--real", action="store_true", help="SQS -> Elasticsearch on the project's services")
    parser.add_argument("--limit", type=int, default=None, help="replay only the first N rows of the file")
    parser.add_argument("--seed", type=int, default=17, help="seed of the time shuffle and of undated rows' times")
    parser.add_argument("--undated-days", type=float, default=28.0,
                        help="span that rows of a stream without dates are spread over (default 28)")
    parser.add_argument("--no-shuffle", action="store_true", help="skip the time-shuffled run (no false-alarm estimate)")
    parser.add_argument("--stretch", type=float, default=1.0,
                        help="spread each app's times this many times wider: the same stream at a lower rate")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds each flow run may take")
    parser.add_argument("--work", type=Path, default=None,
                        help="folder for the review lines, stores and flow logs (default: a new one under var/bench/)")
    parser.add_argument("--doc", type=Path, default=None, help="also write the figures as a markdown page")
    parser.add_argument("--inject", default="",
                        help="APP@ISO-TIME[#N]: mix N (default 60) project-written reviews of a new failure into APP's "
                             "stream over 6 hours from that time, and report the ticket they raise")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (and with --real the indices, queues)")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    if args.stretch <= 0:
        parser.error("--stretch must be above 0")
    started = time.perf_counter()
    try:
        result = replay(args)
    except (ReplayError, ConfigError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    if args.doc is not None:
        write_doc(args.doc, result, " ".join(["python -m bench.replay", *(argv if argv is not None else sys.argv[1:])]))
    print(json.dumps(result, ensure_ascii=False))
    return 0


def write_doc(path: Path, result: dict[str, Any], command: str) -> None:
    """The run's figures as a markdown page; re-running the command rewrites it."""
    alarms = result.get("false_alarms") or {}
    lines = [
        f"# Replay of {Path(result['data']).name}",
        "",
        f"Written by `{command}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; re-run it to refresh this page.",
        "",
        f"{result['rows']:,} rows ({result['first'][:10]} – {result['last'][:10]}"
        + (f", each app's times spread {result['stretch']:g} times wider" if result.get("stretch", 1.0) != 1.0 else "")
        + f"), {result['stored']:,} records stored "
        f"({result['enriched']:,} enriched, {result['rejected']:,} rejected); {result['tickets_raised']} tickets, by the "
        f"scales that raised them: {result['tickets_by_scale'] or '-'}.",
        "",
        "| ticket | raised by | status | severity | reviews |",
        "|---|---|---|---|---|",
    ]
    for t in result["tickets"]:
        lines.append(f"| {t['title']} | {', '.join(t.get('raised_by') or [])} | {t.get('status')} | {t['severity']} | "
                     f"{t['total_count']} |")
    if alarms:
        lines += ["", f"Time-shuffled copy (seed {alarms['seed']}): {alarms['tickets']} tickets, "
                      f"{alarms['per_10k']:.2f} per 10,000 reviews; by scale: "
                      + ", ".join(f"{k} {v['per_10k']:.2f}" for k, v in alarms["by_scale"].items())
                      + f" per 10,000 (headline: {alarms['headline_scale']})."]
    if result.get("injected_incident"):
        lines += ["", "Injected incident: `" + json.dumps(result["injected_incident"]) + "`"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def replay(args: argparse.Namespace) -> dict[str, Any]:
    """Everything but the last line: read, check, run the flow twice, print; returns the JSON figures."""
    stream = read_stream(args.data, args.limit)
    apps_dir = args.apps.resolve()
    apps = load_apps(apps_dir)
    app_ids = resolve_apps((r.app for r in stream.rows), apps, apps_dir)
    stream = with_times(stream, args.seed, args.undated_days)
    if args.stretch != 1.0:
        stream = dataclasses.replace(stream, rows=stretch_times(stream.rows, args.stretch))
    rows = stream.rows
    times = [r.at for r in rows if r.at is not None]
    apps_rows = Counter(r.app for r in rows)
    ids = len({r.review_id for r in rows})
    store_name = "elasticsearch" if args.real else "sqlite"
    print(f"{stream.path.name}: {len(rows):,} rows, {ids:,} distinct ids, "
          f"{min(times):%Y-%m-%d %H:%M} – {max(times):%Y-%m-%d %H:%M} UTC; "
          + ", ".join(f"{v} -> {app_ids[v]} ({n:,})" for v, n in apps_rows.most_common()))
    if stream.note:
        print(f"note: {stream.note}")
    if ids < len(rows):
        print(f"note: {len(rows) - ids:,} rows repeat an earlier row's id; a repeated id is one stored record")

    tag = f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"
    work = (args.work or PROJECT_ROOT / "var" / "bench" / f"replay-{tag}").resolve()
    try:
        def run(name: str, lines: list[str]) -> RunResult:
            log(f"{name}: {len(lines):,} review lines -> {store_name} …")
            if args.real:
                return replay_real(work / name, lines, apps_dir, args.timeout, f"{tag}-{name}".lower(), args.keep)
            return replay_file(work / name, lines, apps_dir, args.timeout)

        injected: list[StreamRow] = []
        if args.inject:
            app, _, when = args.inject.partition("@")
            when, _, count = when.partition("#")
            if args.real:
                raise ReplayError("--inject reads the SQLite store: use it without --real")
            if app not in app_ids:
                raise ReplayError(f"--inject {args.inject!r}: no app {app!r} in the stream ({', '.join(sorted(app_ids))})")
            injected = incident_rows(app, datetime.fromisoformat(when).astimezone(timezone.utc), int(count or 60), 6.0,
                                     args.seed)
            print(f"injected: {len(injected)} reviews of a new failure into {app} from {when} over 6 hours")
        real = run("replay", review_lines([*rows, *injected], app_ids))
        log(f"replay: {real.stored:,} records stored, {len(real.tickets)} tickets in {real.elapsed_s:.0f}s")
        print(f"\n{len(real.tickets)} tickets from {len(rows):,} rows ({real.stored:,} records stored: "
              f"{real.enriched:,} enriched, {real.rejected:,} rejected)\n")
        for doc in real.tickets:
            print(format_ticket(doc) + "\n")
        incident = None
        if injected:
            min_reviews = int(apps[app_ids[injected[0].app]].tickets.get("min_reviews", Settings.from_env().tickets.min_reviews))
            incident = incident_report(real.tickets, work / "replay" / "file.db", injected, min_reviews)
            print(f"injected incident: {json.dumps(incident)}\n")

        shuffled, alarms = None, None
        if not args.no_shuffle:
            shuffled = run("shuffled", review_lines(shuffle_times(rows, args.seed), app_ids))
            log(f"shuffled: {shuffled.stored:,} records stored, {len(shuffled.tickets)} tickets in "
                f"{shuffled.elapsed_s:.0f}s")
            alarms = false_alarms(shuffled.tickets, len(rows), args.seed)
            alarms |= {"stored": shuffled.stored, "elapsed_s": shuffled.elapsed_s,
                       "ticket_list": [ticket_summary(d) for d in shuffled.tickets]}
            print(format_alarms(alarms))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"kept {work}")

    return {
        "data": str(stream.path), "store": store_name, "apps_dir": str(apps_dir),
        "rows": len(rows), "distinct_ids": ids, "stored": real.stored, "enriched": real.enriched,
        "rejected": real.rejected, "rejected_by_reason": real.by_reason,
        "apps": {v: {"app_id": app_ids[v], "rows": n} for v, n in apps_rows.most_common()},
        "columns": stream.columns, "dated": stream.undated < len(rows), "undated_rows": stream.undated,
        "undated_note": stream.note or None,
        "first": min(times).isoformat(), "last": max(times).isoformat(), "stretch": args.stretch,
        "tickets_raised": len(real.tickets),
        "tickets_by_scale": scale_counts(real.tickets),
        "tickets": [ticket_summary(d) for d in real.tickets],
        "replay_s": real.elapsed_s,
        "false_alarms": alarms,
        "false_alarm_per_10k": alarms["headline_per_10k"] if alarms else None,
        "injected_incident": incident,
    }


def format_alarms(alarms: dict[str, Any]) -> str:
    lines = [f"false alarms (time-shuffled copy, seed {alarms['seed']}): {alarms['tickets']} tickets over "
             f"{alarms['rows']:,} rows = {alarms['per_10k']:.2f} per 10,000 reviews"]
    for scale, figures in alarms["by_scale"].items():
        head = "  <- headline" if scale == alarms["headline_scale"] else ""
        lines.append(f"  {scale}: {figures['tickets']} tickets = {figures['per_10k']:.2f} per 10,000{head}")
    if alarms["by_scale"] and alarms["unscaled_tickets"]:
        lines.append(f"  without a scale field: {alarms['unscaled_tickets']}")
    if not alarms["by_scale"]:
        lines.append("  (no ticket carries a `scale` or `trigger_scale` field: the rate is over all tickets)")
    for t in alarms["ticket_list"]:
        lines.append(f"  - {t['title']} (count {t['count']}, total {t['total_count']}, {t['severity']})")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
