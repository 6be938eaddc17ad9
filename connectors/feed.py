"""The snap-in JSON feed: tickets and feature requests out, watch-list commands in.

`python -m connectors.feed` serves, with uvicorn, on `SIFT_FEED_HOST:SIFT_FEED_PORT`:

    GET  /healthz                  no auth; 503 when the store does not answer
    GET  /v1/tickets               ?since=&limit=&app_id=&status=&severity=&primary_label=
    GET  /v1/tickets/{id}
    GET  /v1/feature-requests      ?since=&limit=&app_id=&org=
    POST /v1/watchlist             a watch-list command (see `flows.operators.watchlist`)
    GET  /openapi.json

Guarantees:

- **Auth.** Every route but `/healthz` needs `Authorization: Bearer <SIFT_FEED_TOKEN>`, compared in
  constant time; otherwise 401 with `WWW-Authenticate: Bearer`. The server refuses to start
  without a token (or with one shorter than 16 characters). The token and the Authorization header
  are never logged.
- **Limits.** Before any route runs: a token bucket per client address (`SIFT_FEED_RATE_PER_MINUTE`,
  bursts up to one minute's worth) answers 429 with `Retry-After`; a body over
  `SIFT_FEED_MAX_BODY_BYTES`, by `Content-Length` or counted while it streams, answers 413.
- **Ordering and cursors.** A list is ordered by `(updated_at, id)`, oldest first. `next` is the
  position after the last item returned; pass it back as `since` to get everything updated after
  that point. Paging a fixed set returns every document exactly once. A document updated again
  later comes back with its newer version (at-least-once per document, each version at most once
  per cursor chain), which is what a snap-in that polls for the newest versions wants.
  Documents updated in the last `SETTLE_SECONDS` are held back, so writes still in flight (or not
  yet searchable in Elasticsearch) cannot be skipped by a cursor that moved past them. This
  relies on writers stamping `updated_at` with the time of the write.
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
import fcntl
import hashlib
import hmac
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from connectors.store import ReviewStore, decode_cursor, encode_cursor, open_store
from flows.appmeta import AppCatalog
from flows.operators.watchlist import parse_commands
from flows.records import WatchCommand
from flows.settings import ConfigError, Settings

log = logging.getLogger(__name__)

MAX_LIMIT = 500
SETTLE_SECONDS = 2.0  # > Elasticsearch's 1 s refresh interval
MIN_TOKEN_CHARS = 16

# --- pydantic models at the edge -----------------------------------------------------------------


class Document(BaseModel):
    """A stored document, served as stored; only these fields are guaranteed."""

    model_config = ConfigDict(extra="allow")

    id: str
    app_id: str | None = None
    updated_at: str = Field(description="UTC ISO 8601; the list order and the cursor use it")


class Ticket(Document):
    """A ticket version: also status, version, title, body (markdown), severity
    (blocker|high|medium|low), primary_label, cluster_id, counts, trend, window, representatives
    and `devrev`, a payload for DevRev `works.create`."""


class FeatureRequest(Document):
    """A feature request seen in a review about a watched competitor: also org, feature,
    review_id, text, text_en, lang, source, created_at, status."""


class Page(BaseModel):
    items: list[Document]
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


# --- limits: the one place -------------------------------------------------------------------------


class TokenBuckets:
    """Per-client token buckets: `rate_per_minute` tokens a minute, at most that many saved up."""

    MAX_CLIENTS = 10_000

    def __init__(self, rate_per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.capacity = float(rate_per_minute)
        self.per_second = rate_per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, at)

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until a token is free."""
        now = self.clock()
        tokens, at = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.per_second)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second
        if len(self._buckets) >= self.MAX_CLIENTS:
            self._forget_full(now)
        self._buckets[client] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.per_second
        self._buckets = {c: (t, at) for c, (t, at) in self._buckets.items() if now - at < full_after}


class Limits:
    """ASGI middleware: rate limit by client address, then the request body size cap."""

    def __init__(self, app, max_body_bytes: int, rate_per_minute: int):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.too_large = f"request body is larger than {max_body_bytes:,} bytes"
        self.buckets = TokenBuckets(rate_per_minute)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "-")
        if wait:
            reply = JSONResponse({"detail": "rate limit exceeded"}, 429, {"Retry-After": str(math.ceil(wait))})
            return await reply(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length", b"")  # uvicorn has checked it is a number
        if length.isdigit() and int(length) > self.max_body_bytes:
            return await JSONResponse({"detail": self.too_large}, 413)(scope, receive, send)
        seen = 0

        async def counted_receive():  # chunked bodies have no Content-Length
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body_bytes:
                raise HTTPException(413, self.too_large)  # the route reading the body answers 413
            return message

        await self.app(scope, counted_receive, send)


# --- the store, opened once per process -------------------------------------------------------------


class StoreHandle:
    """The process's one store client; `setup()` is retried on use until it has succeeded once."""

    def __init__(self, store: ReviewStore):
        self.store = store
        self._ready = False
        self._lock = threading.Lock()

    def get(self) -> ReviewStore:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    self.store.setup()
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


def list_page(store: ReviewStore, kind: str, since: str | None, limit: int, app_id: str | None,
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


@v1.post("/watchlist", status_code=202, response_model=Accepted, tags=["watch list"],
         openapi_extra={"requestBody": WATCH_COMMAND_BODY}, responses={422: {}, 503: {}})
async def post_watchlist(request: Request) -> dict[str, Any]:
    """Validate a snap-in watch-list command and enqueue it for the flow."""
    body = await request.body()
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
        app.state.store = StoreHandle(open_store(settings))
        app.state.commands = open_command_queue(settings)
        try:
            await run_in_threadpool(app.state.store.get)
        except Exception as e:  # noqa: BLE001 - keep serving; /healthz reports it and setup is retried
            log.error("feed: store not ready, will retry on use: %s", e)
        try:
            yield
        finally:
            app.state.commands.close()
            app.state.store.store.close()

    app = FastAPI(
        title="Sift snap-in feed",
        description="Tickets and competitor feature requests produced by the Sift dataflow, for DevRev "
                    "snap-ins to poll with a cursor, and the watch-list command intake. Every route but "
                    "/healthz needs `Authorization: Bearer <token>`.",
        version="1", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None,
    )
    app.state.token_digest = _digest(settings.feed.token)
    app.state.apps = AppCatalog(settings.apps_path, settings.apps_reload_seconds)  # the app ids commands may name
    app.add_middleware(Limits, max_body_bytes=settings.feed.max_body_bytes,
                       rate_per_minute=settings.feed.rate_per_minute)
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

    from flows.logs import setup_logging

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
    uvicorn.run(app, host=host, port=port, log_config=None, server_header=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
