"""A local stand-in for the DevRev REST endpoints the Sift snap-in calls through @devrev/typescript-sdk.

DevRev's API is a hosted service, so the snap-in's end-to-end test talks to this instead. It serves,
on loopback, the endpoints and answer shapes of DevRev's REST API (the SDK's types and the public
OpenAPI spec), keeps what they create in memory and records every call:

    GET|POST /works.list       type, external_ref, limit, cursor -> {"works": [...], "next_cursor"}
    GET      /works.get        id -> {"work"}
    POST     /works.create     201 {"work"}; an external_ref already on a work of that type: 409
    POST     /works.update     title, body, severity, stage.name, tags.add/remove/set -> {"work"}
    GET|POST /tags.list        name -> {"tags": [...]}
    POST     /tags.create      201 {"tag"}; a name already taken: 409
    POST     /timeline-entries.create   201 {"timeline_entry"}
    POST     /snap-ins.update  (beta) inputs_values -> {"snap_in"}; what the next event's inputs hold

Requests need `Authorization: <service-account token>` (the SDK sends the token as is), else 401.
Array query parameters arrive the SDK's way, `external_ref="a","b"`. Errors have DevRev's shape,
`{"type": "conflict", "message": "..."}`. `fail()` makes an endpoint answer an error, before or after
doing its work (a lost answer).
"""

from __future__ import annotations

import csv
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORG = "don:core:dvrv-us-1:devo/0"
SERVICE_ACCOUNT = {"id": "don:identity:dvrv-us-1:devo/0:svcacc/42", "display_id": "SVCACC-42",
                   "display_name": "Sift", "type": "service_account", "state": "active"}
WORK_TYPES = ("issue", "ticket", "task", "opportunity")
SEVERITIES = ("blocker", "high", "medium", "low")
KINDS = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict",
         429: "too_many_requests", 500: "internal_server_error", 503: "service_unavailable"}
STATES = {"queued": "Open", "work_in_progress": "In progress", "resolved": "Closed", "canceled": "Closed"}


@dataclass
class Call:
    method: str
    endpoint: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


@dataclass
class Failure:
    status: int
    times: int
    skip: int = 0  # let this many calls through first
    after: bool = False  # do the work, then answer the error (the answer is lost)


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _values(query: dict[str, list[str]], body: dict[str, Any], name: str) -> list[str]:
    """An array parameter from a JSON body, or from a query string the SDK's way (`"a","b"`)."""
    if name in body:
        value = body[name]
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    out: list[str] = []
    for raw in query.get(name, []):
        out += [v for v in next(csv.reader([raw], skipinitialspace=True)) if v]
    return out


@dataclass
class DevRevStandIn:
    token: str
    inputs: dict[str, dict[str, Any]]  # snap-in id -> inputs_values
    calls: list[Call] = field(default_factory=list)
    works: list[dict[str, Any]] = field(default_factory=list)
    tags: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, Failure] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- running --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> DevRevStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                standin._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                standin._handle(self)

            def log_message(self, *args) -> None:  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="devrev-standin", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail(self, endpoint: str, status: int, times: int = 1, skip: int = 0, after: bool = False) -> None:
        """The next `times` calls of `endpoint` (after `skip` good ones) answer `status`."""
        with self._lock:
            self.failures[endpoint] = Failure(status, times, skip, after)

    # --- what the tests read ------------------------------------------------------------------------

    def count(self, endpoint: str, status: int | None = None) -> int:
        with self._lock:
            return sum(c.endpoint == endpoint and (status is None or c.status == status) for c in self.calls)

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def since(self, mark: int, endpoint: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[mark:] if endpoint is None or c.endpoint == endpoint]

    def works_by_ref(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            out: dict[str, list[dict[str, Any]]] = {}
            for w in self.works:
                out.setdefault(w.get("external_ref", ""), []).append(w)
            return out

    # --- HTTP ---------------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        endpoint = url.path.strip("/")
        query = parse_qs(url.query)
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        call = Call(request.command, endpoint, query, None)
        try:
            body = json.loads(raw) if raw else {}
            call.body = body
            if request.headers.get("Authorization") != self.token:
                raise ApiError(401, "unauthenticated", "the token is missing or not valid")
            status, answer = self._answer(request.command, endpoint, query, body if isinstance(body, dict) else {})
        except ApiError as e:
            status, answer = e.status, {"type": e.kind, "message": e.message}
        except (ValueError, TypeError, KeyError) as e:
            status, answer = 400, {"type": "bad_request", "message": f"{type(e).__name__}: {e}"}
        call.status = status
        with self._lock:
            self.calls.append(call)
        data = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)

    def _answer(self, method: str, endpoint: str, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        routes = {
            ("GET", "works.list"): self._works_list, ("POST", "works.list"): self._works_list,
            ("GET", "works.get"): self._works_get, ("POST", "works.create"): self._works_create,
            ("POST", "works.update"): self._works_update,
            ("GET", "tags.list"): self._tags_list, ("POST", "tags.list"): self._tags_list,
            ("POST", "tags.create"): self._tags_create,
            ("POST", "timeline-entries.create"): self._timeline_create,
            ("POST", "snap-ins.update"): self._snap_ins_update,
        }
        route = routes.get((method, endpoint))
        if route is None:
            raise ApiError(404, "not_found", f"{method} /{endpoint} is not an endpoint of this stand-in")
        with self._lock:
            failure = self.failures.get(endpoint)
            if failure is not None and failure.skip:
                failure.skip -= 1
                failure = None
            elif failure is not None:
                failure.times -= 1
                if not failure.times:
                    del self.failures[endpoint]
            if failure is not None and not failure.after:
                raise ApiError(failure.status, KINDS.get(failure.status, "bad_request"), f"injected failure of {endpoint}")
            result = route(query, body)
        if failure is not None:
            raise ApiError(failure.status, KINDS.get(failure.status, "bad_request"),
                           f"injected failure of {endpoint} after it was done")
        return result

    # --- works ----------------------------------------------------------------------------------------

    def _find_work(self, work_id: str) -> dict[str, Any]:
        for w in self.works:
            if work_id in (w["id"], w["display_id"]):
                return w
        raise ApiError(404, "not_found", f"no work {work_id!r}")

    def _works_list(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        types, refs = _values(query, body, "type"), _values(query, body, "external_ref")
        limit = int(_values(query, body, "limit")[0]) if _values(query, body, "limit") else 50
        start = int((_values(query, body, "cursor") or ["0"])[0])
        if not 1 <= limit <= 100:
            raise ApiError(400, "bad_request", "limit must be 1..100")
        hits = [w for w in self.works if (not types or w["type"] in types) and (not refs or w.get("external_ref") in refs)]
        page = hits[start : start + limit]
        answer: dict[str, Any] = {"works": json.loads(json.dumps(page))}
        if start + limit < len(hits):
            answer["next_cursor"] = str(start + limit)
        return 200, answer

    def _works_get(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        return 200, {"work": self._find_work((_values(query, body, "id") or [""])[0])}

    def _works_create(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        kind = body.get("type")
        if kind not in WORK_TYPES:
            raise ApiError(400, "invalid_enum_value", f"type must be one of {', '.join(WORK_TYPES)}")
        title = body.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= 256:
            raise ApiError(400, "bad_request", "title must have 1 to 256 characters")
        if len(body.get("body") or "") > 65536:
            raise ApiError(400, "bad_request", "body is longer than 65536 characters")
        if kind in ("issue", "ticket") and not body.get("applies_to_part"):
            raise ApiError(400, "missing_required_field", "applies_to_part is required for tickets and issues")
        owners = body.get("owned_by")
        if not isinstance(owners, list) or not owners:
            raise ApiError(400, "missing_required_field", "owned_by is required")
        severity = body.get("severity")
        if severity is not None and severity not in SEVERITIES:
            raise ApiError(400, "invalid_enum_value", f"severity must be one of {', '.join(SEVERITIES)}")
        ref = body.get("external_ref")
        if ref is not None and any(w["type"] == kind and w.get("external_ref") == ref for w in self.works):
            raise ApiError(409, "conflict", f"a {kind} with external_ref {ref!r} already exists")
        n = len(self.works) + 1
        now = _now()
        stage = (body.get("stage") or {}).get("name") or "queued"
        work = {
            "type": kind, "id": f"{ORG}:{kind}/{n}", "display_id": f"{'TKT' if kind == 'ticket' else kind.upper()}-{n}",
            "title": title, "body": body.get("body", ""),
            "applies_to_part": {"id": body["applies_to_part"], "display_id": "PROD-1", "type": "product", "name": "PayNest"},
            "owned_by": [{"id": o, "display_id": "DEVU-1", "display_name": "owner", "type": "dev_user", "state": "active"}
                         for o in owners],
            "created_by": SERVICE_ACCOUNT, "modified_by": SERVICE_ACCOUNT, "created_date": now, "modified_date": now,
            "stage": {"name": stage}, "state_display_name": STATES.get(stage, "Open"),
            "tags": [{"tag": self._tag_summary(t["id"])} for t in body.get("tags") or []],
        }
        if severity is not None:
            work["severity"] = severity
        if ref is not None:
            work["external_ref"] = ref
        self.works.append(work)
        return 201, {"work": work}

    def _works_update(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        work = self._find_work(body.get("id", ""))
        if "title" in body:
            if not isinstance(body["title"], str) or not 1 <= len(body["title"]) <= 256:
                raise ApiError(400, "bad_request", "title must have 1 to 256 characters")
            work["title"] = body["title"]
        if "body" in body:
            work["body"] = body["body"]
        if "severity" in body:
            if body["severity"] not in SEVERITIES:
                raise ApiError(400, "invalid_enum_value", f"severity must be one of {', '.join(SEVERITIES)}")
            work["severity"] = body["severity"]
        if "stage" in body:
            name = body["stage"].get("name")
            work["stage"], work["state_display_name"] = {"name": name}, STATES.get(name, "Open")
        tags = body.get("tags") or {}
        if "set" in tags:
            work["tags"] = [{"tag": self._tag_summary(t["id"])} for t in tags["set"]]
        for t in tags.get("add", []):
            if not any(x["tag"]["id"] == t["id"] for x in work["tags"]):
                work["tags"].append({"tag": self._tag_summary(t["id"])})
        gone = {t["id"] for t in tags.get("remove", [])}
        work["tags"] = [x for x in work["tags"] if x["tag"]["id"] not in gone]
        work["modified_date"] = _now()
        return 200, {"work": work}

    # --- tags, timeline, snap-in ------------------------------------------------------------------------

    def _tag_summary(self, tag_id: str) -> dict[str, Any]:
        for t in self.tags:
            if tag_id in (t["id"], t["display_id"]):
                return {"id": t["id"], "display_id": t["display_id"], "name": t["name"]}
        raise ApiError(400, "invalid_id", f"no tag {tag_id!r}")

    def _tags_list(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        names = _values(query, body, "name")
        return 200, {"tags": [t for t in self.tags if not names or t["name"] in names]}

    def _tags_create(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "missing_required_field", "name is required")
        if any(t["name"] == name for t in self.tags):
            raise ApiError(409, "conflict", f"a tag named {name!r} already exists")
        n = len(self.tags) + 1
        now = _now()
        tag = {"id": f"{ORG}:tag/{n}", "display_id": f"TAG-{n}", "name": name, "description": body.get("description", ""),
               "created_by": SERVICE_ACCOUNT, "modified_by": SERVICE_ACCOUNT, "created_date": now, "modified_date": now}
        self.tags.append(tag)
        return 201, {"tag": tag}

    def _timeline_create(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("type") != "timeline_comment" or not body.get("object"):
            raise ApiError(400, "bad_request", "type must be timeline_comment and object is required")
        entry = {"type": "timeline_comment", "id": f"{body['object']}:comment/{len(self.timeline) + 1}",
                 "object": body["object"], "body": body.get("body", ""), "body_type": body.get("body_type", "text"),
                 "visibility": body.get("visibility", "external"), "created_by": SERVICE_ACCOUNT,
                 "created_date": _now()}
        self.timeline.append(entry)
        return 201, {"timeline_entry": entry}

    def _snap_ins_update(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, Any]:
        snap_in = body.get("id", "")
        if snap_in not in self.inputs:
            raise ApiError(404, "not_found", f"no snap-in {snap_in!r}")
        values = body.get("inputs_values")
        if not isinstance(values, dict):
            raise ApiError(400, "bad_request", "inputs_values must be an object")
        self.inputs[snap_in] = {**self.inputs[snap_in], **values}
        return 200, {"snap_in": {"id": snap_in, "inputs_values": self.inputs[snap_in]}}
