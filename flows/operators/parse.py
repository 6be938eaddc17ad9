"""Parse and validate one raw message into a `Review`, or a `Rejected` with a reason.

Pure: no I/O, never raises on bad input. The id is the message's own `id`
when it has a usable one, otherwise a hash of the canonical JSON content, so a
redelivered message always maps to the same record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Collection
from datetime import datetime, timezone
from typing import Any

from flows.records import RawMessage, Rejected, Review

MAX_PAYLOAD_CHARS = 200_000
MAX_TEXT_CHARS = 8_000
MAX_ID_CHARS = 200
_APP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_OPTIONAL_STRINGS = ("author", "app_version", "lang", "source")


class _Invalid(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def content_id(payload: str) -> str:
    """Deterministic id of a payload: the same content always hashes the same."""
    return "h-" + hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def parse_message(raw: RawMessage, known_apps: Collection[str], max_receives: int = 0) -> Review | Rejected:
    """Validate `raw` against the review contract; unknown apps are rejected.

    A message delivered `max_receives` times (or more) without being stored is
    a poison message: it is recorded as rejected but *not* acknowledged, so the
    queue's redrive policy moves it to the dead-letter queue.
    """
    if max_receives and raw.receive_count >= max_receives:
        return _poison(raw, max_receives)
    obj: Any = None
    try:
        obj = _load_object(raw.payload)
        return _to_review(obj, raw, known_apps)
    except _Invalid as e:
        return _reject(raw, obj, e.reason, e.detail)


def _load_object(payload: str) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise _Invalid("too_large", f"message is {len(payload):,} characters; limit {MAX_PAYLOAD_CHARS:,}")
    if not payload.strip():
        raise _Invalid("malformed_json", "message is empty")
    try:
        obj = json.loads(payload)
    except (json.JSONDecodeError, RecursionError) as e:
        raise _Invalid("malformed_json", f"not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise _Invalid("malformed_json", f"expected a JSON object, got {type(obj).__name__}")
    return obj


def _to_review(obj: dict[str, Any], raw: RawMessage, known_apps: Collection[str]) -> Review:
    app_id = obj.get("app_id")
    if app_id is None or app_id == "":
        raise _Invalid("missing_field", "field 'app_id' is required")
    if not isinstance(app_id, str) or not _APP_ID.match(app_id):
        raise _Invalid("invalid_field", f"field 'app_id' must be an identifier string, got {_short(app_id)}")
    if app_id not in known_apps:
        raise _Invalid("unknown_app", f"no app metadata for app_id {app_id!r}")

    text = obj.get("text")
    if text is None:
        raise _Invalid("missing_field", "field 'text' is required")
    if not isinstance(text, str):
        raise _Invalid("invalid_field", f"field 'text' must be a string, got {type(text).__name__}")
    text = _clean_text(text)
    if not text:
        raise _Invalid("missing_field", "field 'text' is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise _Invalid("too_large", f"text is {len(text):,} characters; limit {MAX_TEXT_CHARS:,}")

    strings = {name: _optional_str(obj, name) for name in _OPTIONAL_STRINGS}
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise _Invalid("invalid_field", f"field 'meta' must be an object, got {type(meta).__name__}")
    return Review(
        id=_review_id(obj, raw.payload),
        app_id=app_id,
        text=text,
        source=(strings["source"] or "unknown").lower(),
        created_at=_created_at(obj.get("created_at"), raw.received_at),
        received_at=raw.received_at,
        origin=raw.origin,
        rating=_rating(obj.get("rating")),
        author=strings["author"],
        app_version=strings["app_version"],
        lang_hint=strings["lang"],
        meta=meta or {},
        raw=raw.payload,
        ack=raw.ack,
    )


def _review_id(obj: dict[str, Any], payload: str) -> str:
    given = obj.get("id")
    if given is None or given == "":
        canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return content_id(canonical)
    if isinstance(given, bool) or not isinstance(given, (str, int)):
        raise _Invalid("invalid_field", f"field 'id' must be a string or integer, got {_short(given)}")
    given = str(given).strip()
    if not given or len(given) > MAX_ID_CHARS or any(ord(c) < 32 for c in given):
        raise _Invalid("invalid_field", f"field 'id' is not a usable id: {_short(given)}")
    return given


def _optional_str(obj: dict[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Invalid("invalid_field", f"field {name!r} must be a string, got {_short(value)}")
    return _clean_text(value)[:200] or None


def _rating(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise _Invalid("invalid_field", f"field 'rating' must be an integer 1-5, got {_short(value)}")
    if not 1 <= int(value) <= 5:
        raise _Invalid("invalid_field", f"field 'rating' must be between 1 and 5, got {value!r}")
    return int(value)


def _created_at(value: Any, default: datetime) -> datetime:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise _Invalid("invalid_field", f"field 'created_at' must be an ISO 8601 string, got {_short(value)}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise _Invalid("invalid_field", f"field 'created_at' is not ISO 8601: {_short(value)}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _clean_text(text: str) -> str:
    """Drop control characters (keep newlines and tabs) and lone surrogates; trim."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(c for c in text if c >= " " or c in "\n\t").strip()


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _poison(raw: RawMessage, max_receives: int) -> Rejected:
    obj: Any = None
    try:
        obj = _load_object(raw.payload)
        rid = _review_id(obj, raw.payload)
    except _Invalid:
        rid = None
    rejected = _reject(
        raw,
        obj,
        "poison_message",
        f"delivered {raw.receive_count} times without being stored (limit {max_receives}); "
        "left for the dead-letter queue",
    )
    return dataclasses.replace(rejected, id=rid or rejected.id, ack=None)


def _reject(raw: RawMessage, obj: Any, reason: str, detail: str) -> Rejected:
    app_id = obj.get("app_id") if isinstance(obj, dict) else None
    given = obj.get("id") if isinstance(obj, dict) else None
    usable = isinstance(given, (str, int)) and not isinstance(given, bool)
    rid = str(given).strip() if usable else ""
    if not rid or len(rid) > MAX_ID_CHARS or any(ord(c) < 32 for c in rid):
        rid = content_id(raw.payload)
    return Rejected(
        id=rid,
        app_id=app_id if isinstance(app_id, str) and len(app_id) <= 128 else None,
        reason=reason,
        detail=detail,
        raw=raw.payload[:10_000],
        origin=raw.origin,
        received_at=raw.received_at,
        at=datetime.now(timezone.utc),
        ack=raw.ack,
    )
