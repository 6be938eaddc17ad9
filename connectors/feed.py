"""The snap-in JSON feed: tickets, feature requests and the applied watch list out, watch-list commands in.

`python -m connectors.feed` serves, with uvicorn, on `SIFT_FEED_HOST:SIFT_FEED_PORT`:

    GET  /healthz                  no auth; 503 when the store does not answer
    GET  /v1/tickets               ?since=&limit=&app_id=&status=&severity=&primary_label=
    GET  /v1/tickets/{id}
    GET  /v1/feature-requests      ?since=&limit=&app_id=&org=: only real requests (a competitor ahead, a user
                                   leaving for it), each with its direction, feature (or null) and the app's label
    GET  /v1/competitors/summary   ?app_id= (required)&since=: gaps against wins per competitor, by week
    GET  /v1/watchlist             ?app_id= (required): the competitors the flow watches for that app
    POST /v1/watchlist             a watch-list command (see `core.watchlist`)
    GET  /openapi.json

Guarantees:

- **Auth.** Every route but `/healthz` needs `Authorization: Bearer <SIFT_FEED_TOKEN>`, compared in
  constant time; otherwise 401 with `WWW-Authenticate: Bearer`. The server refuses to start
  without a token (or with one shorter than 16 characters). The token and the Authorization header
  are never logged. A request with more than one `Authorization` header, or with a credential in
  the URL (a query parameter named like `token`, `access_token`, `api_key`, ...), is refused with
  400 on every route, and the access log shows such values (and the token, wherever it appears in
  the target) as `[redacted]`.
- **Client address.** The TCP peer. `X-Forwarded-For` is read only when the peer is in
  `SIFT_FEED_TRUSTED_PROXIES` (none by default), and then only its rightmost entries, up to the
  first address that is not a trusted proxy (see `client_address`). It is always an IP address:
  header text never reaches the rate limiter or the log.
- **Limits.** Before any route runs: a token bucket per client (`SIFT_FEED_RATE_PER_MINUTE`,
  bursts up to one minute's worth; IPv6 clients per /64) answers 429 with `Retry-After`. The
  table of buckets holds at most `TokenBuckets.MAX_CLIENTS` clients; beyond that new clients share
  one bucket. A body over `SIFT_FEED_MAX_BODY_BYTES`, by `Content-Length` or counted while it
  streams, answers 413. A response sent before the request body was read to its end (401, 413,
  429, ...) carries `Connection: close` and the connection is closed: the rest of the body is
  never read. A request line plus headers over 16 KiB is refused by h11 with 400. A connection
  that has not sent a whole request (head and body) `SIFT_FEED_REQUEST_TIMEOUT` seconds (10) after
  it opened, or after the request's first byte, is closed.
- **Access log.** One line per request: client address, method, target (at most
  `MAX_LOGGED_TARGET` characters, printable ASCII, credentials redacted) and status. No header
  value is logged. Error details from the store or a codec are logged, never returned; a bad
  cursor gets one fixed message.
- **Ordering and cursors.** A list is ordered by `(updated_at, id)`, oldest first. `next` is the
  position after the last item returned; pass it back as `since` to get everything updated after
  that point. Paging a fixed set returns every document exactly once. A document updated again
  later comes back with its newer version (at-least-once per document, each version at most once
  per cursor chain), which is what a snap-in that polls for the newest versions wants.
  Documents updated in the last `SETTLE_SECONDS` are held back, so writes still in flight (or not
  yet searchable in Elasticsearch) cannot be skipped by a cursor that moved past them. This
  relies on writers stamping `updated_at` with the time of the write.
- **The watch list** (`GET /v1/watchlist?app_id=`) is what the flow applied, not what was posted:
  the app's `watch_state` document, which the flow's watch step rewrites whole after every command
  it applies (`flows.operators.feature_requests`). The answer lists the watched orgs (name,
  hashtags, aliases) in the flow's order, `count`, `updated_at` (when the flow applied the last
  command; null while it has applied none for the app) and that command's `change` and
  `command_id`. A command posted here shows only once the flow has read and applied it (a flow
  resumed from a snapshot older than `watch_state` writes it with its next command). An
  `app_id` that is missing or not in the app metadata answers 422 with one fixed message that does
  not repeat it. The answer is bounded: at most `MAX_WATCHED_ORGS` orgs (`truncated` says when
  more are watched) and `MAX_ORG_TERMS` hashtags and aliases per org.
- **Watch-list commands** are validated with `parse_commands` (422 with its message: also for
  `NaN`/`Infinity`, an `app_id` not in the app metadata (`SIFT_APPS`, re-read as the flow does),
  and look-alike hashtags, names or aliases, which are NFKC-normalised first), then
  durably enqueued before the 202: one JSON line per command appended under an exclusive
  `flock` to `SIFT_WATCHLIST_FILE`, or one SQS message per command to `SIFT_WATCHLIST_QUEUE_URL`.
  Each line re-parses with `parse_commands` to the same command (pass `issued_at` back as
  `received_at` to get the same id). A 503 means nothing or only part was enqueued: retry
  (commands are idempotent per org, so a duplicate is harmless).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from connectors.backends import open_reader
from connectors.store import ReviewReader, competitor_summary, decode_cursor, encode_cursor
from core.appmeta import AppCatalog
from core.watchlist import WATCH_STATE, parse_commands, watch_state_id
from core.records import WatchCommand
from core.settings import ConfigError, Settings

log = logging.getLogger(__name__)

MAX_LIMIT = 500
SETTLE_SECONDS = 2.0  # > Elasticsearch's 1 s refresh interval
MIN_TOKEN_CHARS = 16
MAX_WATCHED_ORGS = 200  # orgs in one GET /v1/watchlist answer
MAX_ORG_TERMS = 50  # hashtags, and aliases, of one org in it

# --- pydantic models at the edge -----------------------------------------------------------------


class StoredDocument(BaseModel):
    """A stored document, served as stored; only these fields are guaranteed."""

    model_config = ConfigDict(extra="allow")

    id: str
    app_id: str | None = None
    updated_at: str = Field(description="UTC ISO 8601; the list order and the cursor use it")


class Ticket(StoredDocument):
    """A ticket version: also status, version, title, body (markdown), severity
    (blocker|high|medium|low), priority (0-1, docs/priority.md), priority_reason (one line: why this
    severity and priority), primary_label, cluster_id, counts, trend, window, representatives
    and `devrev`, a payload for DevRev `works.create`."""


class FeatureRequest(StoredDocument):
    """A feature request about a watched competitor: `direction` is `competitor_ahead` (it has or does something
    better, or the user asks to copy it) or `switching_away` (the user leaves, or threatens to, for it). Also org,
    feature (a concrete feature phrase, or null: counted, never a ticket), feature_group (its group, from the
    issue layer's clustering of phrases) and feature_group_name, label (the app's own primary label the feature
    maps to), review_id, text, text_en, lang, source, created_at, status."""


class CompetitorFeature(BaseModel):
    feature_group: str
    feature: str | None = Field(description="the group's name: its most central feature phrase")
    label: str = Field(description="the app's own primary label the feature maps to (the parity map)")
    requests: int
    last_seen: str


class CompetitorWeek(BaseModel):
    week: str = Field(description="Monday of the week (UTC), by the reviews' created_at")
    gaps: int
    wins: int


class CompetitorCounts(BaseModel):
    org: str
    mentions: int
    gaps: int = Field(description="mentions where the competitor is ahead or the user leaves for it (requests)")
    wins: int = Field(description="mentions where the app is ahead or the user arrives from the competitor")
    neutral: int
    directions: dict[str, int]
    weeks: list[CompetitorWeek]
    requests_without_feature: int = Field(description="requests that name no concrete feature: never a ticket")
    features: list[CompetitorFeature]


class CompetitorSummary(BaseModel):
    app_id: str
    since: str | None
    competitors: list[CompetitorCounts] = Field(description="most gaps first")
    truncated: bool = Field(description="the app has more stored mentions than one summary reads")


class Page(BaseModel):
    items: list[StoredDocument]
    next: str | None = Field(description="pass as `since` for what was updated after this page; "
                                         "null only when nothing was ever returned")
    has_more: bool = Field(description="more documents are ready now: ask again with `next` at once")


class TicketPage(Page):
    items: list[Ticket]


class FeatureRequestPage(Page):
    items: list[FeatureRequest]


class AcceptedCommand(BaseModel):
    id: str
    action: Literal["add", "remove"]
    app_id: str
    org: str
    hashtags: list[str]
    aliases: list[str]
    issued_at: str | None


class Accepted(BaseModel):
    accepted: int
    commands: list[AcceptedCommand]


class WatchedOrg(BaseModel):
    name: str
    hashtags: list[str]
    aliases: list[str]


class WatchList(BaseModel):
    app_id: str
    orgs: list[WatchedOrg] = Field(description="the orgs the flow watches for the app, in the flow's order "
                                               f"(by normalised name); at most {MAX_WATCHED_ORGS}")
    count: int = Field(description="how many orgs the flow watches for the app")
    truncated: bool = Field(description="more orgs are watched than `orgs` lists")
    updated_at: str | None = Field(description="when the flow applied the app's last watch-list command (UTC ISO "
                                                "8601); null when it has applied none")
    change: str | None = Field(description="what that command changed, e.g. `watching CRED (#CRED)`")
    command_id: str | None = Field(description="the id of that command, as POST /v1/watchlist answered it")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    store: bool


_ORG = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "maxLength": 80},
    "hashtags": {"type": "array", "items": {"type": "string"}},
    "aliases": {"type": "array", "items": {"type": "string"}},
}}
WATCH_COMMAND_BODY = {"required": True, "content": {"application/json": {"schema": {"oneOf": [
    {"type": "object", "title": "structured", "required": ["app_id", "action", "orgs"], "properties": {
        "app_id": {"type": "string"}, "action": {"enum": ["add", "remove"]},
        "orgs": {"type": "array", "items": _ORG, "minItems": 1, "maxItems": 50},
    }},
    {"type": "object", "title": "snap-in text", "required": ["app_id", "command"], "properties": {
        "app_id": {"type": "string"},
        "command": {"type": "string", "example": "add #GooglePay #PhonePe"},
    }},
]}}}}

# --- auth: the one place ---------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="the feed token (SIFT_FEED_TOKEN)")


def _digest(token: str) -> bytes:
    """Hash first, so the constant-time comparison does not depend on the token's length."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()


async def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Security(_bearer),
) -> None:
    """401 unless the request carries the configured bearer token."""
    given = _digest(credentials.credentials if credentials else "")
    if credentials is None or not hmac.compare_digest(given, request.app.state.token_digest):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})


# --- the client, the access log and the limits: the one place --------------------------------------

MAX_FORWARDED_HOPS = 8  # X-Forwarded-For entries read, from the right
MAX_HEAD_BYTES = 16 * 1024  # a request line plus headers larger than this is refused by h11 (400)
MAX_LOGGED_TARGET = 200  # characters of the request target in an access-log line
# Query parameters that carry credentials: refused with 400, and their values never logged.
_SECRET_PARAM = re.compile(r"token|secret|passw|api[-_]?key|auth|credential|^(key|sig|signature)$", re.I)
REDACTED = "[redacted]"

access_log = logging.getLogger(__name__ + ".access")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _ip(text: str) -> Address | None:
    """An address written as a socket or a proxy writes it (`1.2.3.4`, `1.2.3.4:80`, `::1`,
    `[::1]:80`), IPv4-mapped IPv6 as IPv4; None when it is not an address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def client_address(peer: str | None, forwarded_for: Sequence[bytes], trusted: Sequence[Network]) -> str:
    """Who sent the request: the TCP peer, unless the peer is a trusted proxy. Then it is the
    rightmost `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends the
    address it saw, so everything left of that entry is the client's own claim and is never
    read). At most `MAX_FORWARDED_HOPS` entries are read; an entry that is not an IP address stops
    the walk at the last proxy. Always an IP address (or `-` without a peer), never header text."""
    ip = _ip(peer) if peer else None
    if ip is None:
        return "-"
    if not any(ip in net for net in trusted):
        return str(ip)
    hops = b",".join(forwarded_for).decode("latin-1").rsplit(",", MAX_FORWARDED_HOPS)[-MAX_FORWARDED_HOPS:]
    for hop in reversed(hops):
        claimed = _ip(hop)
        if claimed is None:
            break
        ip = claimed
        if not any(ip in net for net in trusted):
            break
    return str(ip)


def bucket_key(address: str) -> str:
    """The rate-limit key of a client address: IPv6 clients by their /64, which one host commonly owns."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def secret_params(query_string: bytes) -> list[str]:
    """Names of query parameters that look like credentials (`token`, `access_token`, `api_key`, ...)."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, max_num_fields=None)
    return [name for name, _ in pairs if _SECRET_PARAM.search(name)]


def logged_target(raw_path: bytes, query_string: bytes, secrets: Sequence[str] = ()) -> str:
    """The request target as the access log shows it: printable ASCII, credential-looking query values
    and any of `secrets` replaced by `[redacted]`, cut to `MAX_LOGGED_TARGET` characters."""
    path = unquote(raw_path.decode("latin-1"))
    for secret in filter(None, secrets):
        path = path.replace(secret, REDACTED)
    target = quote(path, safe="/:@!$&'()*+,;=-._~[]")
    if query_string:
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, max_num_fields=None)
        shown = [(name, REDACTED if _SECRET_PARAM.search(name) or any(s and s in value for s in secrets) else value)
                 for name, value in pairs]
        shown = [(REDACTED if any(s and s in name for s in secrets) else name, value) for name, value in shown]
        target += "?" + urlencode(shown, safe="[]")
    return target if len(target) <= MAX_LOGGED_TARGET else target[: MAX_LOGGED_TARGET - 1] + "…"


class TokenBuckets:
    """Per-client token buckets: `rate_per_minute` tokens a minute, at most that many saved up.

    The table is bounded. A client unseen for a minute has a full bucket again, the same as a new
    one, so it is forgotten. When `max_clients` clients were all seen within the last minute, any
    further new client shares one overflow bucket until slots free up: a flood of addresses can
    neither grow the table nor get past the limit."""

    MAX_CLIENTS = 10_000

    def __init__(self, rate_per_minute: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS):
        self.capacity = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at); oldest first
        self._overflow = (self.capacity, clock())

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until a token is free."""
        now = self.clock()
        self._forget_full(now)
        shared = client not in self._buckets and len(self._buckets) >= self.max_clients
        tokens, at = self._overflow if shared else self._buckets.pop(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.per_second)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second
        state = (tokens - (0.0 if wait else 1.0), now)
        if shared:
            self._overflow = state
        else:
            self._buckets[client] = state  # to the end: most recently seen
        return wait

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.per_second  # one minute: any bucket has refilled by then
        while self._buckets:
            client, (_, at) = next(iter(self._buckets.items()))
            if now - at < full_after:
                break
            del self._buckets[client]


class Limits:
    """ASGI middleware, before any route: who the client is, rate limit, refusals, body size cap, and
    one access-log line per request. A response sent before the request body was read to its end
    carries `Connection: close`, so the server closes the connection instead of reading the rest."""

    def __init__(self, app, max_body_bytes: int, rate_per_minute: int, trusted_proxies: Sequence[str] = (),
                 secrets: Sequence[str] = ()):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.too_large = f"request body is larger than {max_body_bytes:,} bytes"
        self.buckets = TokenBuckets(rate_per_minute)
        self.trusted = [ipaddress.ip_network(net) for net in trusted_proxies]
        self.secrets = tuple(s for s in secrets if s)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = scope["headers"]
        peer = scope.get("client")
        client = client_address(peer[0] if peer else None, [v for n, v in headers if n == b"x-forwarded-for"],
                                self.trusted)
        scope["client"] = (client, peer[1] if peer and client == peer[0] else 0)
        length = next((v for n, v in headers if n == b"content-length"), b"")  # uvicorn has checked it is a number
        body_left = (length.isdigit() and int(length) > 0) or any(n == b"transfer-encoding" for n, _ in headers)
        seen = 0

        async def counted_receive():  # chunked bodies have no Content-Length
            nonlocal seen, body_left
            message = await receive()
            seen += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_left = False
            if seen > self.max_body_bytes:
                raise HTTPException(413, self.too_large)  # the route reading the body answers 413
            return message

        async def logged_send(message):
            if message["type"] == "http.response.start":
                if body_left:  # answered before the body was read: close rather than read (drain) the rest
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
                access_log.info('%s - "%s %s HTTP/%s" %d', client, scope["method"][:16],
                                logged_target(scope.get("raw_path", b""), scope["query_string"], self.secrets),
                                scope["http_version"], message["status"])
            await send(message)

        wait = self.buckets.take(bucket_key(client))
        if wait:
            refusal = JSONResponse({"detail": "rate limit exceeded"}, 429, {"Retry-After": str(math.ceil(wait))})
        elif sum(n == b"authorization" for n, _ in headers) > 1:
            refusal = JSONResponse({"detail": "send one Authorization header, not several"}, 400)
        elif secret_params(scope["query_string"]):
            refusal = JSONResponse({"detail": "send the token in the Authorization header, never in the URL"}, 400)
        elif length.isdigit() and int(length) > self.max_body_bytes:
            refusal = JSONResponse({"detail": self.too_large}, 413)
        else:
            return await self.app(scope, counted_receive, logged_send)
        await refusal(scope, counted_receive, logged_send)


def timed_h11(request_timeout: float) -> type:
    """uvicorn's h11 protocol with a deadline for reading each request. uvicorn closes idle keep-alive
    connections but never times out a request it has started to read, so a client could hold a
    connection open for ever by sending a header line now and then (slowloris). Here a connection
    that has not delivered a whole request, head and body, `request_timeout` seconds after it opened
    or after the request's first byte is closed."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self._reading():
                self._arm()
            super().data_received(data)
            if not self._reading():
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _reading(self) -> bool:
            return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(request_timeout, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self._reading() and not self.transport.is_closing():
                log.info("feed: closed a connection from %s that sent no whole request in %g s",
                         self.client[0] if self.client else "-", request_timeout)
                self.transport.close()

    return TimedH11Protocol


# --- the store, opened once per process -------------------------------------------------------------


class StoreHandle:
    """The process's one store reader; `check_readable()` is retried on use until it has succeeded once
    (the flow creates the store; the feed only reads it)."""

    def __init__(self, store: ReviewReader):
        self.store = store
        self._ready = False
        self._lock = threading.Lock()

    def get(self) -> ReviewReader:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.store.check_readable()
                    self._ready = True
        return self.store


class BadRequest(ValueError):
    """A request argument the feed itself found wrong; its message is fixed text, safe to return."""


BAD_CURSOR = "invalid cursor: pass the `next` of an earlier page, or no `since` to start at the beginning"


def _read(call: Callable[[], Any]) -> Any:
    """Run a store read: a bad argument is a 400, any store failure a 503. Only `BadRequest` messages
    reach the client; any other error text (a codec's, a backend's) is logged, cut short, never echoed."""
    try:
        return call()
    except BadRequest as e:
        raise HTTPException(400, str(e)) from e
    except ValueError as e:
        log.warning("feed: store refused a read: %s: %.200s", type(e).__name__, e)
        raise HTTPException(400, "invalid request arguments") from e
    except Exception as e:  # noqa: BLE001 - backend errors differ per store; the client only needs "retry"
        log.warning("feed: store read failed: %s: %.300s", type(e).__name__, e)
        raise HTTPException(503, "store unavailable, retry later", headers={"Retry-After": "5"}) from e


async def _store(request: Request) -> StoreHandle:
    return request.app.state.store


def _updated(doc: dict[str, Any]) -> datetime:
    at = datetime.fromisoformat(doc["updated_at"])
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at


def check_cursor(since: str) -> None:
    """`BadRequest` with the fixed `BAD_CURSOR` message unless `since` is a cursor this feed could have
    made: an ISO 8601 time and an id that is valid UTF-8 text."""
    try:
        updated_at, doc_id = decode_cursor(since)
        datetime.fromisoformat(updated_at)
        doc_id.encode("utf-8")
    except ValueError:  # UnicodeError included: a lone surrogate no store can bind
        raise BadRequest(BAD_CURSOR) from None


def list_page(store: ReviewReader, kind: str, since: str | None, limit: int, app_id: str | None,
              settle_seconds: float = SETTLE_SECONDS, **filters: str | None) -> dict[str, Any]:
    """One page of `kind` updated after `since`, settled documents only (see the module docstring)."""
    if since:
        check_cursor(since)
    wanted = {name: value for name, value in filters.items() if value is not None}
    docs, _ = store.list_documents(kind, cursor=since, limit=limit + 1, app_id=app_id, **wanted)
    horizon = datetime.now(timezone.utc) - timedelta(seconds=settle_seconds)
    settled = []
    for doc in docs:  # oldest first: the unsettled ones are a suffix
        if _updated(doc) > horizon:
            break
        settled.append(doc)
    items = settled[:limit]
    cursor = encode_cursor(items[-1]["updated_at"], items[-1]["id"]) if items else since
    return {"items": items, "next": cursor or None, "has_more": len(settled) > limit}


UNKNOWN_APP = "unknown app_id: pass the id of an app in the app metadata"


def _strings(value: Any, limit: int) -> list[str]:
    return [v for v in value if isinstance(v, str)][:limit] if isinstance(value, list) else []


def watchlist_answer(app_id: str, state: dict[str, Any] | None) -> dict[str, Any]:
    """The answer of GET /v1/watchlist from the app's `watch_state` document (None: the flow applied no
    command for the app yet), cut to `MAX_WATCHED_ORGS` orgs of `MAX_ORG_TERMS` hashtags and aliases each."""
    state = state or {}
    orgs = [o for o in state.get("orgs") or [] if isinstance(o, dict) and isinstance(o.get("name"), str)]
    return {
        "app_id": app_id,
        "orgs": [{"name": o["name"], "hashtags": _strings(o.get("hashtags"), MAX_ORG_TERMS),
                  "aliases": _strings(o.get("aliases"), MAX_ORG_TERMS)} for o in orgs[:MAX_WATCHED_ORGS]],
        "count": len(orgs),
        "truncated": len(orgs) > MAX_WATCHED_ORGS,
        "updated_at": state.get("updated_at"),
        "change": state.get("change"),
        "command_id": state.get("command_id"),
    }


# --- the watch-list queue -----------------------------------------------------------------------------


def command_line(command: WatchCommand) -> str:
    """One command as JSON that `parse_commands` turns back into the same command."""
    return json.dumps({
        "app_id": command.app_id, "action": command.action,
        "orgs": [{"name": command.org, "hashtags": list(command.hashtags), "aliases": list(command.aliases)}],
        "issued_at": command.issued_at.isoformat() if command.issued_at else None, "id": command.id,
    }, ensure_ascii=False)


class CommandQueue(Protocol):
    def put(self, commands: Sequence[WatchCommand]) -> None:
        """Durably enqueue all commands or raise `OSError`."""

    def close(self) -> None: ...


class FileCommandQueue:
    """Appends JSON lines under an exclusive `flock`, so concurrent writers never interleave."""

    def __init__(self, path: Path):
        self.path = path

    def put(self, commands: Sequence[WatchCommand]) -> None:
        data = "".join(command_line(c) + "\n" for c in commands).encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                size = f.seek(0, os.SEEK_END)
                if size:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":  # a writer died mid-line: do not glue our line to it
                        data = b"\n" + data
                f.write(data)  # "a" mode: always at the end
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def close(self) -> None:
        pass


class SqsCommandQueue:
    """One SQS message per command; FIFO queues keep each app's commands in order."""

    def __init__(self, queue_url: str):
        from connectors.sqs import SqsPublisher

        self.publisher = SqsPublisher(queue_url)

    def put(self, commands: Sequence[WatchCommand]) -> None:
        result = self.publisher.publish([(c.id, command_line(c)) for c in commands], group=commands[0].app_id)
        problems = result.refused + result.failed
        if problems:
            raise OSError(f"{len(problems)} of {len(commands)} commands not sent to "
                          f"{self.publisher.queue_url}: {problems[0][1]}")

    def close(self) -> None:
        self.publisher.close()


def open_command_queue(settings: Settings) -> CommandQueue:
    if settings.watchlist.queue_url:
        return SqsCommandQueue(settings.watchlist.queue_url)
    return FileCommandQueue(settings.watchlist.path)


# --- routes --------------------------------------------------------------------------------------------

v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_token)])
Limit = Query(50, ge=1, le=MAX_LIMIT, description="page size")
Since = Query(None, max_length=512, description="the `next` of an earlier page; none: from the beginning")


@v1.get("/tickets", response_model=TicketPage, tags=["tickets"])
def list_tickets(
    handle: StoreHandle = Depends(_store), since: str | None = Since, limit: int = Limit,
    app_id: str | None = None, status: str | None = None,
    severity: Literal["blocker", "high", "medium", "low"] | None = None, primary_label: str | None = None,
) -> dict[str, Any]:
    """Tickets updated after `since`, oldest first; a ticket updated again comes back in its newer version."""
    return _read(lambda: list_page(handle.get(), "tickets", since, limit, app_id, status=status,
                                   severity=severity, primary_label=primary_label))


@v1.get("/tickets/{ticket_id}", response_model=Ticket, tags=["tickets"], responses={404: {}})
def get_ticket(ticket_id: str, handle: StoreHandle = Depends(_store)) -> dict[str, Any]:
    """The latest version of one ticket."""
    doc = _read(lambda: handle.get().get_document("tickets", ticket_id))
    if doc is None:
        raise HTTPException(404, f"no ticket {ticket_id[:80]!r}")
    return doc


@v1.get("/feature-requests", response_model=FeatureRequestPage, tags=["feature requests"])
def list_feature_requests(
    handle: StoreHandle = Depends(_store), since: str | None = Since, limit: int = Limit,
    app_id: str | None = None, org: str | None = None,
) -> dict[str, Any]:
    """Feature requests about watched competitors updated after `since`, oldest first."""
    return _read(lambda: list_page(handle.get(), "feature_requests", since, limit, app_id, org=org))


@v1.get("/competitors/summary", response_model=CompetitorSummary, tags=["feature requests"],
        responses={422: {}, 503: {}})
def get_competitor_summary(
    request: Request, handle: StoreHandle = Depends(_store),
    app_id: str | None = Query(None, description="the app (an id in the app metadata)"),
    since: str | None = Query(None, max_length=40, description="ISO 8601 date or time: mentions created from then on"),
) -> dict[str, Any]:
    """Gaps against wins per competitor of one app: per direction, per week, and the most requested features
    with the app's own label each maps to."""
    if not app_id or app_id not in request.app.state.apps.current():
        raise HTTPException(422, UNKNOWN_APP)
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise HTTPException(422, "since must be an ISO 8601 date or time, e.g. 2026-10-01") from None
        start = start.replace(tzinfo=timezone.utc) if start.tzinfo is None else start
    return _read(lambda: competitor_summary(handle.get(), app_id, start))


@v1.get("/watchlist", response_model=WatchList, tags=["watch list"], responses={422: {}, 503: {}})
def get_watchlist(
    request: Request, handle: StoreHandle = Depends(_store),
    app_id: str | None = Query(None, description="the app whose watch list to show (an id in the app metadata)"),
) -> dict[str, Any]:
    """The competitors the flow watches for one app, as it last applied the watch-list commands."""
    if not app_id or app_id not in request.app.state.apps.current():
        raise HTTPException(422, UNKNOWN_APP)
    state = _read(lambda: handle.get().get_document(WATCH_STATE, watch_state_id(app_id)))
    return watchlist_answer(app_id, state)


@v1.post("/watchlist", status_code=202, response_model=Accepted, tags=["watch list"],
         openapi_extra={"requestBody": WATCH_COMMAND_BODY}, responses={422: {}, 503: {}})
async def post_watchlist(request: Request) -> dict[str, Any]:
    """Validate a snap-in watch-list command and enqueue it for the flow."""
    try:
        body = await request.body()
    except ClientDisconnect as e:  # gone, or closed for not sending the body in time: nobody reads this
        raise HTTPException(408, "request body not received in time") from e
    try:
        commands = parse_commands(body, known_apps=request.app.state.apps.current())
    except ValueError as e:
        raise HTTPException(422, str(e)) from e
    except RecursionError as e:
        raise HTTPException(422, "command is nested too deeply") from e
    try:
        await run_in_threadpool(request.app.state.commands.put, commands)
    except OSError as e:
        log.error("feed: watch-list commands not enqueued: %s", e)
        raise HTTPException(503, "could not enqueue the command, retry later", headers={"Retry-After": "5"}) from e
    log.info("feed: enqueued %d watch-list commands for %s", len(commands), commands[0].app_id)
    return {"accepted": len(commands), "commands": [c.to_doc() for c in commands]}


def create_app(settings: Settings) -> FastAPI:
    """The feed as an ASGI app; the store and the command queue live for the app's lifespan."""
    if not settings.feed.token:
        raise ConfigError("the feed needs a token: set SIFT_FEED_TOKEN or SIFT_FEED_TOKEN_FILE")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.store = StoreHandle(open_reader(settings))
        app.state.commands = open_command_queue(settings)
        try:
            await run_in_threadpool(app.state.store.get)
        except Exception as e:  # noqa: BLE001 - keep serving; /healthz reports it and the check is retried
            log.error("feed: store not ready, will retry on use: %s", e)
        try:
            yield
        finally:
            app.state.commands.close()
            app.state.store.store.close()

    app = FastAPI(
        title="Sift snap-in feed",
        description="Tickets and competitor feature requests produced by the Sift dataflow, for DevRev "
                    "snap-ins to poll with a cursor, the watch list the flow applied, and the watch-list command "
                    "intake. Every route but "
                    "/healthz needs `Authorization: Bearer <token>`.",
        version="1", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.token_digest = _digest(settings.feed.token)
    app.state.apps = AppCatalog(settings.apps_path, settings.apps_reload_seconds)  # the app ids commands may name
    app.add_middleware(Limits, max_body_bytes=settings.feed.max_body_bytes,
                       rate_per_minute=settings.feed.rate_per_minute,
                       trusted_proxies=settings.feed.trusted_proxies, secrets=(settings.feed.token,))
    app.include_router(v1)

    @app.get("/healthz", response_model=Health, tags=["health"], responses={503: {"model": Health}})
    def healthz(handle: StoreHandle = Depends(_store)) -> Any:
        """Liveness and whether the store answers; needs no token."""
        try:
            handle.get().list_documents("tickets", limit=1)
        except Exception as e:  # noqa: BLE001 - any failure means "not healthy"
            log.warning("feed: health check: store does not answer: %s: %s", type(e).__name__, e)
            return JSONResponse({"status": "unavailable", "store": False}, 503)
        return {"status": "ok", "store": True}

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(require_token)])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    return app


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (1..65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    """`python -m connectors.feed [--host H] [--port P]`: serve until interrupted."""
    import uvicorn

    from core.logs import setup_logging

    parser = argparse.ArgumentParser(prog="python -m connectors.feed", description="Sift snap-in JSON feed")
    parser.add_argument("--host", help="interface to listen on (default SIFT_FEED_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=_port, help="port (default SIFT_FEED_PORT, 8686)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if 0 < len(settings.feed.token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"the feed token is shorter than {MIN_TOKEN_CHARS} characters; make one with "
                              "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        app = create_app(settings)
    except ConfigError as e:
        print(f"sift: error: {e}", file=sys.stderr)
        return 2
    host, port = args.host or settings.feed.host, args.port or settings.feed.port
    setup_logging(settings.log_level)
    logging.getLogger("uvicorn.error").setLevel(max(logging.WARNING, logging.getLevelName(settings.log_level)))
    shown = f"[{host}]" if ":" in host else host
    queue = settings.watchlist.queue_url or settings.watchlist.path
    print(f"sift feed: http://{shown}:{port} (store: {settings.store}; watch list: {queue})", flush=True)
    # Our own protocol (h11 with a read deadline) and access log (Limits); uvicorn's X-Forwarded-For
    # handling is off: `client_address` believes only SIFT_FEED_TRUSTED_PROXIES.
    uvicorn.run(app, host=host, port=port, log_config=None, server_header=False,
                http=timed_h11(settings.feed.request_timeout), h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                proxy_headers=False, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
