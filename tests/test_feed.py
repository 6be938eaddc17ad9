"""The snap-in feed, tested against the real server process (`python -m connectors.feed`) and a SQLite store."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from connectors.feed import (
    BAD_CURSOR, MAX_ORG_TERMS, MAX_WATCHED_ORGS, UNKNOWN_APP, FileCommandQueue, TokenBuckets, client_address,
    logged_target,
)
from connectors.sqlite_store import SqliteStore
from core.watchlist import parse_commands
from tests.helpers import ROOT, free_port

TOKEN = "feed-test-token-7c1d9e0a5b"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)


@dataclass
class Feed:
    url: str
    proc: subprocess.Popen
    store: SqliteStore
    watch_file: Path
    out: Path
    err: Path

    def get(self, path: str, headers: dict[str, str] | None = AUTH, **params) -> httpx.Response:
        return httpx.get(self.url + path, headers=headers, params=params, timeout=10)

    def post(self, path: str, body: bytes | dict, headers: dict[str, str] | None = AUTH,
             timeout: float = 10) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(self.url + path, headers=headers, content=content, timeout=timeout)

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()


def feed_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIFT_")}
    return {**env, "PYTHONPATH": str(ROOT), "SIFT_SQLITE_PATH": str(tmp / "sift.db"),
            "SIFT_WATCHLIST_FILE": str(tmp / "watch" / "commands.jsonl"), **extra}


def start_feed(tmp: Path, healthy: bool = True, **extra: str) -> Feed:
    """Start `python -m connectors.feed` on a free port and wait until /healthz answers (200 if `healthy`)."""
    port = free_port()
    out, err = tmp / "feed.out", tmp / "feed.err"
    flows_store = SqliteStore(tmp / "sift.db")  # the flow creates the store; the feed only reads it
    flows_store.setup()
    flows_store.close()
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.feed", "--port", str(port)], cwd=tmp,
        env=feed_env(tmp, **{"SIFT_FEED_TOKEN": TOKEN, **extra}), stdout=out.open("w"), stderr=err.open("w"),
    )
    feed = Feed(f"http://127.0.0.1:{port}", proc, SqliteStore(tmp / "sift.db"), tmp / "watch" / "commands.jsonl",
                out, err)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"feed exited with {proc.returncode}: {feed.output()}"
        try:
            if feed.get("/healthz", headers=None).status_code == (200 if healthy else 503):
                return feed
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_feed(feed)
    raise AssertionError(f"feed did not become healthy: {feed.output()}")


def stop_feed(feed: Feed) -> None:
    feed.proc.terminate()
    try:
        feed.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        feed.proc.kill()
        feed.proc.wait()
    feed.store.close()


@pytest.fixture(scope="module")
def feed(tmp_path_factory) -> Iterator[Feed]:
    feed = start_feed(tmp_path_factory.mktemp("feed"), SIFT_LOG_LEVEL="debug")
    yield feed
    stop_feed(feed)


def ticket(app_id: str, n: int, at: datetime, **fields) -> dict:
    return {"id": f"{app_id}-t{n:04d}", "app_id": app_id, "updated_at": at.isoformat(), "version": 1,
            "status": "open", "severity": "high", "primary_label": "payments", "title": f"ticket {n}", **fields}


def page_all(feed: Feed, path: str, limit: int, since: str | None = None, **params) -> tuple[list[dict], str | None]:
    items: list[dict] = []
    for _ in range(100):
        resp = feed.get(path, limit=limit, **({"since": since} if since else {}), **params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        since = page["next"]
        if not page["has_more"]:
            return items, since
    raise AssertionError("pagination did not end")


def test_healthz_needs_no_token(feed):
    resp = feed.get("/healthz", headers=None)
    assert (resp.status_code, resp.json()) == (200, {"status": "ok", "store": True})


@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer wrong-token-0000000000"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}])
def test_every_route_but_health_needs_the_token(feed, headers):
    for method, path in [("GET", "/v1/tickets"), ("GET", "/v1/tickets/x"), ("GET", "/v1/feature-requests"),
                         ("GET", "/openapi.json"), ("POST", "/v1/watchlist"), ("GET", "/v1/watchlist?app_id=paynest"),
                         ("GET", "/v1/watchlist?app_id=nopay")]:
        resp = httpx.request(method, feed.url + path, headers=headers, content=b"{}", timeout=10)
        assert resp.status_code == 401, (path, resp.text)
        assert resp.headers["www-authenticate"] == "Bearer"
        assert resp.json() == {"detail": "missing or wrong bearer token"}


def test_cursor_pages_return_every_ticket_exactly_once_then_only_newer_versions(feed):
    # 120 tickets on 40 timestamps: ties on updated_at are ordered by id
    docs = [ticket("pager", n, T0 + timedelta(minutes=n // 3)) for n in range(120)]
    feed.store.write_documents("tickets", docs[60:] + docs[:60])
    items, cursor = page_all(feed, "/v1/tickets", limit=25, app_id="pager")
    ids = [d["id"] for d in items]
    assert ids == [d["id"] for d in docs]  # each once, oldest first
    assert items[0]["title"] == "ticket 0" and items[0]["version"] == 1

    empty = feed.get("/v1/tickets", since=cursor, app_id="pager").json()
    assert empty == {"items": [], "next": cursor, "has_more": False}

    # two tickets updated, one new: polling with the last cursor returns exactly those versions
    later = T0 + timedelta(days=1)
    feed.store.write_documents("tickets", [
        ticket("pager", 7, later, version=2), ticket("pager", 500, later), ticket("pager", 3, later, version=2)])
    newer, _ = page_all(feed, "/v1/tickets", limit=25, since=cursor, app_id="pager")
    assert [(d["id"], d["version"]) for d in newer] == [("pager-t0003", 2), ("pager-t0007", 2), ("pager-t0500", 1)]


def test_documents_updated_just_now_wait_until_they_settle(feed):
    feed.store.write_documents("tickets", [ticket("settle", 1, T0), ticket("settle", 2, datetime.now(timezone.utc))])
    first = feed.get("/v1/tickets", app_id="settle").json()
    assert [d["id"] for d in first["items"]] == ["settle-t0001"]
    time.sleep(2.5)
    second = feed.get("/v1/tickets", app_id="settle", since=first["next"]).json()
    assert [d["id"] for d in second["items"]] == ["settle-t0002"]


def test_ticket_filters(feed):
    feed.store.write_documents("tickets", [
        ticket("filters", 1, T0, severity="blocker"), ticket("filters", 2, T0, status="closed"),
        ticket("filters", 3, T0, primary_label="login"), ticket("filters", 4, T0)])

    def ids(**params):
        resp = feed.get("/v1/tickets", app_id="filters", **params)
        assert resp.status_code == 200, resp.text
        return [d["id"][-1] for d in resp.json()["items"]]

    assert ids() == ["1", "2", "3", "4"]
    assert ids(severity="blocker") == ["1"]
    assert ids(status="closed") == ["2"]
    assert ids(primary_label="login") == ["3"]
    assert feed.get("/v1/tickets", severity="urgent").status_code == 422


def test_one_ticket_or_404(feed):
    doc = ticket("single", 1, T0, devrev={"type": "ticket", "title": "Payments fail", "tags": ["upi"]})
    feed.store.write_documents("tickets", [doc])
    resp = feed.get("/v1/tickets/single-t0001")
    assert resp.status_code == 200
    assert resp.json()["devrev"] == doc["devrev"]
    missing = feed.get("/v1/tickets/nope")
    assert (missing.status_code, missing.json()) == (404, {"detail": "no ticket 'nope'"})


def cursor_of(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


@pytest.mark.parametrize("params, status", [
    ({"since": "not-a-cursor"}, 400), ({"since": "WyJ4Il0"}, 400), ({"limit": 0}, 422), ({"limit": 501}, 422),
    ({"since": cursor_of("\ud800", "x")}, 400), ({"since": cursor_of("2026-10-01T08:00:00+00:00", "\udc80")}, 400),
    ({"since": cursor_of("yesterday", "x")}, 400), ({"since": cursor_of(1, 2)}, 400), ({"since": "%ff%fe"}, 400),
])
def test_bad_paging_arguments(feed, params, status):
    resp = feed.get("/v1/tickets", **params)
    assert resp.status_code == status, resp.text
    if status == 400:  # one fixed message: no codec, parser or store error text comes back
        assert resp.json() == {"detail": BAD_CURSOR}


def test_feature_requests_by_org_and_cursor(feed):
    docs = [{"id": f"fr-{n:03d}", "app_id": "frapp", "updated_at": (T0 + timedelta(seconds=n)).isoformat(),
             "org": "Google Pay" if n % 2 else "PhonePe", "feature": "split bills"} for n in range(30)]
    feed.store.write_documents("feature_requests", docs)
    items, _ = page_all(feed, "/v1/feature-requests", limit=4, app_id="frapp", org="Google Pay")
    assert [d["id"] for d in items] == [d["id"] for d in docs if d["org"] == "Google Pay"]
    assert items[0]["feature"] == "split bills"


def test_competitor_summary_counts_gaps_against_wins_per_competitor(feed):
    """What the flow stores (`competitor_mentions`, `feature_requests`), summed per competitor and week."""
    def mention(n: int, org: str, direction: str, side: str, day: int) -> dict:
        return {"id": f"cm-s{n}", "app_id": "paynest", "org": org, "direction": direction, "side": side,
                "is_request": side == "gap", "created_at": (T0 + timedelta(days=day)).isoformat(),
                "updated_at": (T0 + timedelta(seconds=n)).isoformat()}

    def request(n: int, group: str | None, label: str, day: int) -> dict:
        return {"id": f"fr-s{n}", "app_id": "paynest", "org": "Google Pay", "direction": "competitor_ahead",
                "feature": "hide payments" if group else None, "feature_group": group,
                "feature_group_name": "hide payments" if group else "", "label": label,
                "created_at": (T0 + timedelta(days=day)).isoformat(), "updated_at": (T0 + timedelta(seconds=n)).isoformat()}

    feed.store.write_documents("competitor_mentions", [
        mention(0, "Google Pay", "competitor_ahead", "gap", 0), mention(1, "Google Pay", "switching_away", "gap", 8),
        mention(2, "Google Pay", "own_ahead", "win", 8), mention(3, "PhonePe", "switching_to", "win", 1),
        mention(4, "PhonePe", "neutral", "neutral", 1), mention(5, "Google Pay", "competitor_ahead", "gap", -30),
        mention(6, "Google Pay", "competitor_ahead", "gap", 9)])
    feed.store.write_documents("feature_requests", [
        request(0, "paynest:competitor:googlepay:i0", "payments", 0),
        request(1, "paynest:competitor:googlepay:i0", "new_ui_design", 8),
        request(6, "paynest:competitor:googlepay:i0", "payments", 9),
        request(7, None, "payments", 8), request(5, "paynest:competitor:googlepay:i0", "payments", -30)])
    resp = feed.get("/v1/competitors/summary", app_id="paynest", since=T0.date().isoformat())
    assert resp.status_code == 200, resp.text
    summary = resp.json()
    gpay, phonepe = summary["competitors"]
    assert (gpay["org"], gpay["gaps"], gpay["wins"], gpay["neutral"]) == ("Google Pay", 3, 1, 0)
    assert gpay["directions"] == {"competitor_ahead": 2, "switching_away": 1, "own_ahead": 1}
    assert [(w["gaps"], w["wins"]) for w in gpay["weeks"]] == [(1, 0), (2, 1)]  # two ISO weeks; day -30 is before since
    [feature] = gpay["features"]
    assert (feature["feature"], feature["label"], feature["requests"]) == ("hide payments", "payments", 3)
    assert gpay["requests_without_feature"] == 1
    assert (phonepe["org"], phonepe["gaps"], phonepe["wins"], phonepe["neutral"]) == ("PhonePe", 0, 1, 1)
    assert feed.get("/v1/competitors/summary", app_id="nopay").status_code == 422
    assert feed.get("/v1/competitors/summary", app_id="paynest", since="last week").status_code == 422
    everything = feed.get("/v1/competitors/summary", app_id="paynest").json()
    assert everything["competitors"][0]["gaps"] == 4


def test_openapi_schema_is_served_with_the_token(feed):
    resp = feed.get("/openapi.json")
    assert resp.status_code == 200
    schema = resp.json()
    assert schema["info"]["title"] == "Sift snap-in feed"
    assert {"/healthz", "/v1/tickets", "/v1/tickets/{ticket_id}", "/v1/feature-requests", "/v1/watchlist",
            "/v1/competitors/summary"} <= set(schema["paths"])
    assert {"TicketPage", "FeatureRequestPage", "Accepted"} <= set(schema["components"]["schemas"])
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert feed.get("/docs").status_code == 404


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_watchlist_command_is_appended_and_re_parses_to_the_same_commands(feed):
    before = len(read_lines(feed.watch_file)) if feed.watch_file.exists() else 0
    resp = feed.post("/v1/watchlist", {"app_id": "paynest", "command": "add #GooglePay #PhonePe"})
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["accepted"] == 2
    assert [(c["action"], c["org"], c["hashtags"]) for c in body["commands"]] == [
        ("add", "Google Pay", ["#GooglePay"]), ("add", "Phone Pe", ["#PhonePe"])]

    structured = {"app_id": "paynest", "action": "remove", "orgs": [{"name": "Paytm", "aliases": ["paytm app"]}]}
    assert feed.post("/v1/watchlist", structured).status_code == 202

    lines = read_lines(feed.watch_file)[before:]
    assert len(lines) == 3
    reparsed = [
        c.to_doc() for line in lines
        for c in parse_commands(json.dumps(line), received_at=datetime.fromisoformat(line["issued_at"]))
    ]
    assert reparsed[:2] == body["commands"]
    assert [line["id"] for line in lines] == [c["id"] for c in reparsed]
    assert (reparsed[2]["action"], reparsed[2]["org"], reparsed[2]["aliases"]) == ("remove", "Paytm", ["paytm app"])


def test_concurrent_watchlist_posts_do_not_interleave(feed):
    before = len(read_lines(feed.watch_file)) if feed.watch_file.exists() else 0
    results: list[int] = []

    def post(n: int) -> None:
        tags = " ".join(f"#Org{n}x{i}x{'y' * 60}" for i in range(10))  # long lines: interleaving would show
        results.append(feed.post("/v1/watchlist", {"app_id": "paynest", "command": f"add {tags}"}).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [202] * 12
    lines = read_lines(feed.watch_file)[before:]  # every line is whole JSON
    assert len(lines) == 120
    assert len({line["id"] for line in lines}) == 120


def test_command_file_starts_a_new_line_after_a_torn_one(tmp_path):
    path = tmp_path / "new" / "commands.jsonl"
    queue = FileCommandQueue(path)
    queue.put(parse_commands({"app_id": "a", "command": "add #One"}))
    with path.open("a") as f:
        f.write('{"app_id": "a", "comm')  # a writer killed mid-line
    queue.put(parse_commands({"app_id": "a", "command": "add #Two"}))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["orgs"][0]["name"] == "Two"


@pytest.mark.parametrize("body, message", [
    (b'{"app_id": "paynest", "command": "watch #GooglePay"}', "command must start with one of add, remove"),
    (b'{"app_id": "paynest", "action": "add", "orgs": []}', "field 'orgs' must be a non-empty list"),
    (b'{"command": "add #GooglePay"}', "field 'app_id' must be a non-empty string"),
    (b"not json", "command is not valid JSON"),
    (b"[" * 20000 + b"]" * 20000, ""),
])
def test_bad_watchlist_command_is_422_with_the_reason(feed, body, message):
    resp = feed.post("/v1/watchlist", body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(message)


LOOK_ALIKE = "#G\u043e\u043eglePay"  # two Cyrillic о inside a Latin name


@pytest.mark.parametrize("body, message", [
    (b'{"app_id": "paynest", "command": "add #GooglePay", "issued_at": NaN}',
     "command is not valid JSON (NaN is not a JSON number)"),
    (b'{"app_id": "paynest", "action": "add", "orgs": [{"name": "Paytm", "rank": -Infinity}]}',
     "command is not valid JSON (-Infinity is not a JSON number)"),
    ({"app_id": "nopay", "command": "add #GooglePay"},
     "unknown app_id 'nopay': no app with that id in the app metadata"),
    ({"app_id": "paynest", "command": f"add #PhonePe {LOOK_ALIKE}"},
     f"command: {LOOK_ALIKE!r} mixes writing systems or digit systems like a look-alike"),
    ({"app_id": "paynest", "action": "add", "orgs": [{"hashtags": [LOOK_ALIKE]}]},
     f"orgs[0].hashtags: {LOOK_ALIKE!r} mixes writing systems"),
    ({"app_id": "paynest", "action": "add", "orgs": [{"name": "Google Pay", "aliases": ["g\u0440ay"]}]},
     "orgs[0].aliases: 'gрay' mixes writing systems"),  # a Cyrillic р
])
def test_watchlist_refuses_nan_unknown_apps_and_look_alikes(feed, body, message):
    before = feed.watch_file.read_bytes() if feed.watch_file.exists() else b""
    resp = feed.post("/v1/watchlist", body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"].startswith(message)
    assert (feed.watch_file.read_bytes() if feed.watch_file.exists() else b"") == before  # nothing enqueued


def test_full_width_hashtags_are_the_ascii_ones(feed):
    before = len(read_lines(feed.watch_file)) if feed.watch_file.exists() else 0
    full_width = "\uff03\uff27\uff4f\uff4f\uff47\uff4c\uff45\uff30\uff41\uff59"  # ＃ＧｏｏｇｌｅＰａｙ
    resp = feed.post("/v1/watchlist", {"app_id": "paynest", "command": f"add {full_width} #GooglePay"})
    assert resp.status_code == 202, resp.text
    [command] = resp.json()["commands"]  # NFKC makes them one hashtag
    assert (command["org"], command["hashtags"]) == ("Google Pay", ["#GooglePay"])
    structured = {"app_id": "paynest", "action": "add",
                  "orgs": [{"name": "\uff30\uff41\uff59\uff54\uff4d", "hashtags": ["\uff03\uff30\uff41\uff59\uff54\uff4d"]}]}
    [paytm] = feed.post("/v1/watchlist", structured).json()["commands"]
    assert (paytm["org"], paytm["hashtags"]) == ("Paytm", ["#Paytm"])
    lines = read_lines(feed.watch_file)[before:]
    assert [(line["orgs"][0]["name"], line["orgs"][0]["hashtags"]) for line in lines] == [
        ("Google Pay", ["#GooglePay"]), ("Paytm", ["#Paytm"])]


def apply_watchlist(feed: Feed, tmp: Path) -> None:
    """`python -m bytewax.run flows.main` on no reviews, with the feed's watch-list file and store: the flow
    applies every command the feed enqueued and writes its documents, as it does in production."""
    reviews = tmp / "no-reviews.jsonl"
    reviews.touch()
    env = feed_env(tmp, SIFT_SOURCE="file", SIFT_INPUT=str(reviews), SIFT_STORE="sqlite", SIFT_PROGRESS_SECONDS="0",
                   SIFT_LOG_LEVEL="warning")
    result = subprocess.run([sys.executable, "-m", "bytewax.run", "flows.main"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the flow failed:\n{result.stderr[-3000:]}"


def test_watchlist_lists_what_a_real_flow_run_applied_not_what_was_posted(tmp_path):
    feed = start_feed(tmp_path)
    try:
        nothing = {"app_id": "paynest", "orgs": [], "count": 0, "truncated": False, "updated_at": None,
                   "change": None, "command_id": None}
        assert feed.get("/v1/watchlist", app_id="paynest").json() == nothing

        added = feed.post("/v1/watchlist", {"app_id": "paynest", "command": "add #GooglePay #PhonePe #CRED"})
        assert [c["org"] for c in added.json()["commands"]] == ["Google Pay", "Phone Pe", "CRED"]
        [remove] = feed.post("/v1/watchlist", {"app_id": "paynest", "command": "remove #GPay"}).json()["commands"]
        assert remove["org"] == "GPay"
        assert feed.get("/v1/watchlist", app_id="paynest").json() == nothing, "posted is not applied yet"

        started = datetime.now(timezone.utc)
        apply_watchlist(feed, tmp_path)
        resp = feed.get("/v1/watchlist", app_id="paynest")
        assert resp.status_code == 200, resp.text
        body = resp.json()
        # the flow's list: "#PhonePe" is the metadata's PhonePe with its aliases, and "remove #GPay" stopped
        # Google Pay, whose hashtag #GPay is; neither is what the feed echoed when the commands were posted
        assert body["orgs"] == [
            {"name": "CRED", "hashtags": ["#CRED"], "aliases": ["cred", "cred app", "cread"]},
            {"name": "PhonePe", "hashtags": ["#PhonePe"], "aliases": ["phonepe", "phone pe", "phonepay", "phone pay"]}]
        assert (body["count"], body["truncated"]) == (2, False)
        assert (body["command_id"], body["change"]) == (remove["id"], "stopped watching Google Pay")
        assert started <= datetime.fromisoformat(body["updated_at"]) <= datetime.now(timezone.utc)
    finally:
        stop_feed(feed)


@pytest.mark.parametrize("params", [{}, {"app_id": ""}, {"app_id": "nopay"}, {"app_id": "PAYNEST"},
                                    {"app_id": "paynest "}, {"app_id": "<script>" + "x" * 4000}])
def test_watchlist_of_a_missing_or_unknown_app_is_422_with_one_fixed_message(feed, params):
    resp = feed.get("/v1/watchlist", **params)
    assert (resp.status_code, resp.json()) == (422, {"detail": UNKNOWN_APP})


def test_watchlist_answer_is_bounded(feed):
    # the app's watch_state document as the flow writes it, with more orgs and names than an answer holds
    orgs = [{"name": f"Org {i:03d}", "hashtags": [f"#Org{i:03d}x{j}" for j in range(60)],
             "aliases": [f"org {i} {j}" for j in range(60)]} for i in range(MAX_WATCHED_ORGS + 50)]
    feed.store.write_documents("watch_state", [{
        "id": "ws-paynest", "app_id": "paynest", "orgs": [{"name": 5}, "junk", *orgs], "change": "watching Org 249",
        "command_id": "wl-0123456789abcdef0123", "issued_at": None, "updated_at": T0.isoformat()}])
    body = feed.get("/v1/watchlist", app_id="paynest").json()
    assert (body["count"], body["truncated"], len(body["orgs"])) == (len(orgs), True, MAX_WATCHED_ORGS)
    assert body["orgs"][0] == {"name": "Org 000", "hashtags": orgs[0]["hashtags"][:MAX_ORG_TERMS],
                               "aliases": orgs[0]["aliases"][:MAX_ORG_TERMS]}
    assert body["updated_at"] == "2026-10-01T08:00:00.000+00:00"


def test_oversize_body_is_413_by_length_and_while_streaming(feed):
    big = b'{"app_id": "paynest", "command": "add ' + b"#A" * 40_000 + b'"}'
    resp = feed.post("/v1/watchlist", big)
    assert resp.status_code == 413
    assert resp.json() == {"detail": "request body is larger than 65,536 bytes"}

    def chunks():  # no Content-Length: the server has to count
        for _ in range(20):
            yield b"x" * 8192

    streamed = httpx.post(feed.url + "/v1/watchlist", headers=AUTH, content=chunks(), timeout=10)
    assert streamed.status_code == 413


def test_rate_limit_answers_429_with_retry_after(tmp_path):
    feed = start_feed(tmp_path, SIFT_FEED_RATE_PER_MINUTE="4")
    try:
        statuses = [feed.get("/v1/tickets").status_code for _ in range(5)]
        assert statuses[-1] == 429 and 200 in statuses  # the health check took one token
        limited = feed.get("/v1/tickets")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 15
        assert feed.get("/healthz", headers=None).status_code == 429
    finally:
        stop_feed(feed)


def test_store_that_does_not_open_is_503_not_a_crash(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    feed = start_feed(tmp_path, healthy=False, SIFT_SQLITE_PATH=str(tmp_path / "file" / "sift.db"))
    try:
        assert feed.get("/healthz", headers=None).json() == {"status": "unavailable", "store": False}
        resp = feed.get("/v1/tickets")
        assert (resp.status_code, resp.json()) == (503, {"detail": "store unavailable, retry later"})
        assert resp.headers["retry-after"] == "5"
    finally:
        stop_feed(feed)
    assert "feed: store not ready, will retry on use: cannot open SQLite store" in feed.output()


def test_token_bucket_refills_at_the_rate_and_saves_up_one_minute():
    now = [0.0]
    buckets = TokenBuckets(rate_per_minute=6, clock=lambda: now[0])  # one token per 10 s
    assert [buckets.take("a") for _ in range(6)] == [0.0] * 6
    assert buckets.take("a") == pytest.approx(10.0)
    assert buckets.take("b") == 0.0  # per client
    now[0] = 25.0
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(5.0)]
    now[0] = 1000.0
    assert sum(buckets.take("a") == 0.0 for _ in range(10)) == 6


@pytest.mark.parametrize("env, message", [
    ({}, "sift: error: the feed needs a token: set SIFT_FEED_TOKEN or SIFT_FEED_TOKEN_FILE"),
    ({"SIFT_FEED_TOKEN": "short"}, "sift: error: the feed token is shorter than 16 characters"),
    ({"SIFT_FEED_PORT": "http"}, "sift: error: SIFT_FEED_PORT='http' is not an integer"),
])
def test_refuses_to_start_without_a_usable_token(tmp_path, env, message):
    done = subprocess.run([sys.executable, "-m", "connectors.feed", "--port", str(free_port())], cwd=tmp_path,
                          env=feed_env(tmp_path, **env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(message), done.stderr


def test_token_file_works_and_the_token_is_never_printed(feed, tmp_path):
    (tmp_path / "token").write_text(TOKEN + "\n")
    other = start_feed(tmp_path, SIFT_FEED_TOKEN="", SIFT_FEED_TOKEN_FILE=str(tmp_path / "token"))
    try:
        assert other.get("/v1/tickets").status_code == 200
    finally:
        stop_feed(other)
    # the module's server ran every test above at debug level, with right, wrong and near-miss tokens
    output = feed.output() + other.output()
    assert "GET /v1/tickets" in output  # the access log is there ...
    assert TOKEN not in output and "Bearer" not in output  # ... but never the token or the header
    assert feed.out.read_text().splitlines()[0].startswith(f"sift feed: {feed.url} (store: sqlite;")


# ── hardening: client address, credentials in URLs, early answers, slow clients ─────────────────

def rss_kib(pid: int) -> int:
    return int(next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                    if line.startswith("VmRSS:")).split()[1])


def test_forwarded_for_from_an_untrusted_peer_is_ignored_and_never_logged(tmp_path):
    # The attack: distinct, huge X-Forwarded-For headers to get a bucket each, grow the table
    # and the access log. Without SIFT_FEED_TRUSTED_PROXIES the peer's address is the client.
    feed = start_feed(tmp_path, SIFT_FEED_RATE_PER_MINUTE="100")
    try:
        rss_before, log_before, start = rss_kib(feed.proc.pid), feed.err.stat().st_size, time.monotonic()
        with httpx.Client(timeout=10) as client:
            statuses = [client.get(feed.url + "/healthz", headers={"X-Forwarded-For": f"10.{n // 256}.{n % 256}.9, "
                                                                    + f"spoof{n}-" + "x" * 12_000}).status_code
                        for n in range(2000)]
        refilled = (time.monotonic() - start) * 100 / 60
        assert statuses.count(200) <= 100 + refilled + 1  # one bucket, the peer's, for all 2,000
        logged = feed.err.read_text()
        assert "spoof" not in logged and "10.0.0.9" not in logged
        assert feed.err.stat().st_size - log_before < 2000 * 120  # one short line per request
        assert all(len(line) < 300 for line in logged.splitlines())
        assert rss_kib(feed.proc.pid) - rss_before < 10 * 1024  # the 24 MB of header text was not kept
    finally:
        stop_feed(feed)


def test_forwarded_for_counts_only_what_the_trusted_proxy_appended(tmp_path):
    feed = start_feed(tmp_path, SIFT_FEED_RATE_PER_MINUTE="4", SIFT_FEED_TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    try:
        def get(forwarded: str) -> int:
            return feed.get("/v1/tickets", headers={**AUTH, "X-Forwarded-For": forwarded}).status_code

        assert [get("203.0.113.7") for _ in range(4)] == [200] * 4
        assert get("203.0.113.7") == 429
        assert get("198.51.100.1, 203.0.113.7") == 429  # what the client wrote left of the proxy's entry is not read
        assert get("203.0.113.7, 10.1.2.3") == 429  # a chain of trusted proxies is walked through
        assert get("203.0.113.8") == 200  # another client behind the proxy has its own bucket
        assert [get(f"2001:db8::{n}") for n in range(1, 6)] == [200] * 4 + [429]  # IPv6: one bucket per /64
        assert get("<script>not-an-address") == 200  # unusable: the proxy (127.0.0.1) is the client
    finally:
        stop_feed(feed)
    logged = feed.err.read_text()
    assert '203.0.113.7 - "GET /v1/tickets HTTP/1.1" 429' in logged
    assert "198.51.100.1" not in logged and "script" not in logged


def test_client_address_and_logged_target_are_bounded_and_clean():
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_address("203.0.113.5", [b"1.2.3.4"], proxies) == "203.0.113.5"  # not a proxy: header ignored
    assert client_address("10.0.0.1", [b"6.6.6.6, 1.2.3.4"], proxies) == "1.2.3.4"
    assert client_address("10.0.0.1", [b"6.6.6.6", b"1.2.3.4, 10.9.9.9"], proxies) == "1.2.3.4"  # two headers
    assert client_address("10.0.0.1", [b"[2001:db8::1]:443"], proxies) == "2001:db8::1"
    assert client_address("10.0.0.1", [b"x" * 60_000], proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", [b", ".join([b"10.0.0.2"] * 50 + [b"1.2.3.4"] + [b"10.0.0.3"] * 10)],
                          proxies) == "10.0.0.3"  # at most MAX_FORWARDED_HOPS entries are read
    assert client_address("::ffff:10.0.0.1", [b"1.2.3.4"], proxies) == "1.2.3.4"
    assert client_address(None, [b"1.2.3.4"], proxies) == "-"

    assert logged_target(b"/v1/tickets", b"limit=5&access_token=abc&since=x") == (
        "/v1/tickets?limit=5&access_token=[redacted]&since=x")
    assert logged_target(b"/v1/tickets/s3cret-token-value", b"app_id=s3cret-token-value",
                         secrets=["s3cret-token-value"]) == "/v1/tickets/[redacted]?app_id=[redacted]"
    long = logged_target(b"/v1/tickets/" + b"%0A%1b[31m" * 500, b"")
    assert len(long) == 200 and long.endswith("…") and long.isprintable() and "\n" not in long


def test_token_buckets_stay_bounded_and_overflow_clients_share_one_bucket():
    now = [0.0]
    buckets = TokenBuckets(rate_per_minute=2, clock=lambda: now[0], max_clients=3)
    assert [buckets.take(c) for c in "abc"] == [0.0] * 3
    assert [buckets.take(c) for c in "def"] == [0.0, 0.0, pytest.approx(30.0)]  # d, e, f share one bucket
    assert len(buckets) == 3
    now[0] = 30.0
    assert buckets.take("a") == 0.0  # known clients keep their own bucket
    now[0] = 61.0  # b and c were last seen a minute ago: full again, so forgotten
    assert buckets.take("g") == 0.0 and len(buckets) == 2


@pytest.mark.parametrize("path, params", [
    ("/v1/tickets", {"token": TOKEN}), ("/v1/tickets", {"access_token": TOKEN}),
    ("/v1/feature-requests", {"limit": 5, "Access_Token": TOKEN}), ("/healthz", {"api_key": TOKEN}),
])
def test_credentials_in_the_url_are_refused(feed, path, params):
    resp = feed.get(path, **params)
    assert (resp.status_code, resp.json()) == (400, {"detail": "send the token in the Authorization header, "
                                                                "never in the URL"})


def test_credentials_in_the_url_are_redacted_in_the_access_log(feed):
    assert feed.get("/v1/tickets", token=TOKEN).status_code == 400
    assert feed.get("/v1/tickets", since=TOKEN).status_code == 400  # the token under an innocent name
    assert feed.get("/v1/tickets/" + TOKEN).status_code == 404  # ... or in the path
    logged = feed.output()
    assert TOKEN not in logged
    assert '"GET /v1/tickets?token=[redacted] HTTP/1.1" 400' in logged
    assert '"GET /v1/tickets?since=[redacted] HTTP/1.1" 400' in logged
    assert '"GET /v1/tickets/[redacted] HTTP/1.1" 404' in logged


@pytest.mark.parametrize("values", [
    [f"Bearer {TOKEN}", "Bearer wrong-token-0000000000"], ["Bearer wrong-token-0000000000", f"Bearer {TOKEN}"],
    [f"Bearer {TOKEN}", f"Bearer {TOKEN}"],
])
def test_two_authorization_headers_are_refused(feed, values):
    for path in ("/v1/tickets", "/healthz"):
        resp = httpx.get(feed.url + path, headers=[("Authorization", v) for v in values], timeout=10)
        assert (resp.status_code, resp.json()) == (400, {"detail": "send one Authorization header, not several"})


def host_port(feed: Feed) -> tuple[str, int]:
    host, port = feed.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def send_body_until_refused(feed: Feed, head: bytes, chunk: bytes, total: int = 10**9) -> tuple[bytes, int, bool]:
    """Send `head`, then `chunk` after `chunk` (up to `total` bytes) while reading the answer.
    Returns the answer, the body bytes the server took before it stopped us, and whether it closed."""
    sock = socket.create_connection(host_port(feed), timeout=10)
    sent = 0

    def pump() -> None:
        nonlocal sent
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection

    sock.sendall(head)
    sender = threading.Thread(target=pump)
    sender.start()
    answer, closed = b"", False
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                closed = True
                break
            answer += data
    except ConnectionResetError:
        closed = True
    except TimeoutError:
        pass  # still open 10 s later
    with contextlib.suppress(OSError):  # already reset
        sock.shutdown(socket.SHUT_RDWR)
    sender.join(60)
    sock.close()
    return answer, sent, closed


@pytest.mark.parametrize("auth, framing, status", [
    (False, "chunked", 401),  # unauthenticated: the route never reads the body
    (True, "chunked", 413),  # over the limit while it streams
    (True, "length", 413),  # over the limit by Content-Length
    (False, "small", 401),  # within the limit, unauthenticated, half sent
])
def test_early_answers_close_the_connection_instead_of_reading_the_body(feed, auth, framing, status):
    head = b"POST /v1/watchlist HTTP/1.1\r\nHost: feed\r\nContent-Type: application/json\r\n"
    head += f"Authorization: Bearer {TOKEN}\r\n".encode() if auth else b""
    chunk = b"x" * 65536
    if framing == "chunked":
        head += b"Transfer-Encoding: chunked\r\n"
        chunk = b"10000\r\n" + chunk + b"\r\n"
    else:
        head += f"Content-Length: {10**9 if framing == 'length' else 1000}\r\n".encode()
    answer, sent, closed = send_body_until_refused(feed, head + b"\r\n", chunk if framing != "small" else b"x" * 10,
                                                   total=10**9 if framing != "small" else 100)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"\r\nconnection: close\r\n" in answer.lower()
    assert closed, "the server kept the connection open to read the rest of the body"
    assert sent < 64 * 2**20, f"the server read {sent:,} bytes of a body it had already refused"


def test_half_sent_requests_are_closed_after_the_request_timeout(tmp_path):
    feed = start_feed(tmp_path, SIFT_FEED_REQUEST_TIMEOUT="1")

    def seconds_until_closed(first: bytes, trickle: bytes) -> float:
        """Send `first`, then `trickle` every 0.2 s; the seconds until the server closes (at most 15)."""
        sock = socket.create_connection(host_port(feed), timeout=0.2)
        start = time.monotonic()
        try:
            sock.sendall(first)
            while time.monotonic() - start < 15:
                try:
                    if sock.recv(1024) == b"":
                        break
                except TimeoutError:
                    pass
                if trickle:
                    sock.sendall(trickle)
        except OSError:  # reset or broken pipe: closed too
            pass
        finally:
            sock.close()
        return time.monotonic() - start

    try:
        headers = seconds_until_closed(b"GET /v1/tickets HTTP/1.1\r\nHost: feed\r\n", b"X-Slow: 1\r\n")
        idle = seconds_until_closed(b"", b"")
        body = seconds_until_closed(b"POST /v1/watchlist HTTP/1.1\r\nHost: feed\r\nContent-Length: 1000\r\n"
                                    + f"Authorization: Bearer {TOKEN}\r\n\r\n".encode(), b"x")
        assert 0.9 <= headers < 4 and 0.9 <= idle < 4 and 0.9 <= body < 4, (headers, idle, body)
        with httpx.Client(timeout=10) as client:  # a keep-alive connection that sends whole requests is kept
            first = client.get(feed.url + "/v1/tickets", headers=AUTH)
            time.sleep(1.5)
            second = client.get(feed.url + "/v1/tickets", headers=AUTH)
            assert (first.status_code, second.status_code) == (200, 200)
    finally:
        stop_feed(feed)
    assert "feed: closed a connection from 127.0.0.1 that sent no whole request in 1 s" in feed.output()
