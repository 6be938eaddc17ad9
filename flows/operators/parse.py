"""Parse and validate one raw message into a `Review`, or a `Rejected` with a reason.

Pure: no I/O, never raises on bad input.

Ids are namespaced by app (`core/records.py`): a record's id is `<app_id>/<id>`
with the message's own `id` when it has a usable one (printable, at most
`MAX_ID_CHARS` characters and `MAX_ID_BYTES` UTF-8 bytes), otherwise `h-` and the
message's fingerprint. The namespace is the `app_id` the message names when that
is an app identifier (known or not), else `_`. So a message can only ever claim an
id of the app it names, and a redelivered message always maps to the same record.
The fingerprint is a hash of the message's canonical JSON (key order and spacing
do not matter), or of its text when it is not a JSON object; it travels on the
record so the store can tell a redelivery (same id, same fingerprint: rewrite)
from a different message reusing an id (kept apart as `id_conflict`). A blank
message (empty or only whitespace, e.g. a blank line of a file) is `blank_line`;
having no content, it is identified by its origin (file and line, or queue and
message id), so every blank line is a record of its own.

Hostile input ends as a `Rejected` with a reason: JSON that is not an object,
uses NaN/Infinity, has integers over Python's 4,300-digit limit, or nests deeper
than `MAX_DEPTH` is `malformed_json`; a `created_at` before 1970 or more than a
day after the message was received is `invalid_field`. Kept strings are valid
Unicode: text, author, version and source lose control characters, Unicode
noncharacters and bidirectional overrides; lone surrogates (in text or `meta`)
become U+FFFD. A rejected record keeps the first 10,000 characters of the raw
message; its detail quotes offending values shortened (`_short`) and is at most
`MAX_DETAIL_CHARS` characters in any case (`core/records.py`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import reprlib
from collections.abc import Collection
from datetime import datetime, timedelta, timezone
from typing import Any

from core.records import MAX_RAW_CHARS, NO_APP, RawMessage, Rejected, Review, is_app_id, record_id, valid_text

MAX_PAYLOAD_CHARS = 200_000
MAX_TEXT_CHARS = 8_000
MAX_ID_CHARS = 200
MAX_ID_BYTES = 256  # so `<app_id>/<id>` (app ids are at most 128 ASCII bytes) fits Elasticsearch's 512-byte _id
MAX_DEPTH = 32  # JSON nesting levels (the message object is level 1)
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
FUTURE_SKEW = timedelta(days=1)  # how far after receipt a created_at may lie (clock skew)
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
# C0 controls but tab and newline, DEL and C1 controls, bidi embeddings/overrides/isolates, noncharacters.
_NONCHARS = "\ufdd0-\ufdef" + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_UNWANTED = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069{_NONCHARS}]")
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong, _REPR.maxlist, _REPR.maxdict = 3, 60, 60, 60, 4, 4
_OPTIONAL_STRINGS = ("author", "app_version", "lang", "source")


class _Invalid(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def identity(payload: str, origin: str = "") -> tuple[str, str]:
    """`(record id, fingerprint)` that `parse_message` gives a message with this payload (and, for a blank one,
    this origin), whatever its verdict."""
    obj, _ = _load(payload)
    fingerprint = _fingerprint(payload, obj, origin)
    return _record_id(obj, fingerprint), fingerprint


def parse_message(raw: RawMessage, known_apps: Collection[str], max_receives: int = 0) -> Review | Rejected:
    """Validate `raw` against the review contract; apps not in `known_apps` are rejected (`unknown_app`).

    A message delivered `max_receives` times (or more) without being stored is
    a poison message: it is recorded as rejected but *not* acknowledged, so the
    queue's redrive policy moves it to the dead-letter queue.
    """
    obj, failure = _load(raw.payload)
    fingerprint = _fingerprint(raw.payload, obj, raw.origin)
    if max_receives and raw.receive_count >= max_receives:
        return _poison(raw, obj, fingerprint, max_receives)
    try:
        if failure is not None:
            raise failure
        return _to_review(obj, raw, fingerprint, known_apps)
    except _Invalid as e:
        return _reject(raw, obj, fingerprint, e.reason, e.detail)


def _load(payload: str) -> tuple[dict[str, Any] | None, _Invalid | None]:
    """The message's JSON object, or why there is none."""
    try:
        return _load_object(payload), None
    except _Invalid as e:
        return None, e


def _fingerprint(payload: str, obj: dict[str, Any] | None, origin: str) -> str:
    """The message's content hash: of its canonical JSON when it is an object (so key order and spacing do
    not matter), else of its text; a blank message has no content, so its origin is hashed with it."""
    if obj is None:
        return _hash(payload) if payload.strip() else _hash(f"blank\x00{origin}\x00{payload}")
    return _hash(json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def _record_id(obj: dict[str, Any] | None, fingerprint: str) -> str:
    """`<namespace>/<id>`: the app the message names (else `_`), then its own id when usable, else `h-<fingerprint>`."""
    app_id = obj.get("app_id") if obj is not None else None
    namespace = app_id if is_app_id(app_id) else NO_APP
    given = obj.get("id") if obj is not None else None
    local = str(given).strip() if isinstance(given, (str, int)) and not isinstance(given, bool) else ""
    return record_id(namespace, local if _usable_id(local) else "h-" + fingerprint)


def _load_object(payload: str) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise _Invalid("too_large", f"message is {len(payload):,} characters; limit {MAX_PAYLOAD_CHARS:,}")
    if not payload.strip():
        raise _Invalid("blank_line", f"message is blank ({len(payload):,} characters, none but whitespace)")
    try:
        obj = json.loads(payload, parse_constant=_no_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as e:  # ValueError: JSONDecodeError, NaN, integers over 4,300 digits
        raise _Invalid("malformed_json", f"not valid JSON: {e}") from None
    if not isinstance(obj, dict):
        raise _Invalid("malformed_json", f"expected a JSON object, got {type(obj).__name__}")
    if _deeper_than(obj, MAX_DEPTH):
        raise _Invalid("malformed_json", f"JSON nested deeper than {MAX_DEPTH} levels")
    return obj


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _deeper_than(obj: Any, limit: int) -> bool:
    """Whether arrays/objects nest more than `limit` levels (iterative: no recursion on hostile depth)."""
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _to_review(obj: dict[str, Any], raw: RawMessage, fingerprint: str, known_apps: Collection[str]) -> Review:
    app_id = obj.get("app_id")
    if app_id is None or app_id == "":
        raise _Invalid("missing_field", "field 'app_id' is required")
    if not is_app_id(app_id):
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
    if strings["lang"] and not _LANG_TAG.fullmatch(strings["lang"]):
        raise _Invalid(
            "invalid_field", f"field 'lang' must be a language tag like 'en' or 'hi-Latn', got {_short(strings['lang'])}"
        )
    meta = obj.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise _Invalid("invalid_field", f"field 'meta' must be an object, got {type(meta).__name__}")
    _check_given_id(obj.get("id"))
    return Review(
        id=_record_id(obj, fingerprint),
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
        meta=_valid_strings(meta or {}),
        raw=raw.payload,
        ack=raw.ack,
        fingerprint=fingerprint,
    )


def _check_given_id(given: Any) -> None:
    """A review's own `id`, when it has one, must be usable (a rejection then falls back to the content hash)."""
    if given is None or given == "":
        return
    if isinstance(given, bool) or not isinstance(given, (str, int)):
        raise _Invalid("invalid_field", f"field 'id' must be a string or integer, got {_short(given)}")
    if not _usable_id(str(given).strip()):
        raise _Invalid("invalid_field", f"field 'id' is not a usable id: {_short(str(given).strip())}")


def _usable_id(rid: str) -> bool:
    """Non-empty, at most `MAX_ID_CHARS` characters and `MAX_ID_BYTES` UTF-8 bytes, and printable (no controls,
    format characters or lone surrogates)."""
    return 0 < len(rid) <= MAX_ID_CHARS and rid.isprintable() and len(rid.encode("utf-8")) <= MAX_ID_BYTES


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
        raise _Invalid("invalid_field", f"field 'rating' must be between 1 and 5, got {_short(value)}")
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
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    try:
        in_range = EARLIEST <= parsed.astimezone(timezone.utc) <= default + FUTURE_SKEW
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 has no UTC
        in_range = False
    if not in_range:
        raise _Invalid(
            "invalid_field", f"field 'created_at' {_short(value)} is before 1970 or more than a day after receipt"
        )
    return parsed


def _clean_text(text: str) -> str:
    """Drop control characters (keep newlines and tabs), noncharacters and bidi overrides; lone surrogates
    become U+FFFD; trim."""
    return _UNWANTED.sub("", valid_text(text)).strip()


def _valid_strings(value: Any) -> Any:
    """`meta` with every string (keys too) valid Unicode; depth is bounded by `MAX_DEPTH`."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, list):
        return [_valid_strings(v) for v in value]
    if isinstance(value, dict):
        return {valid_text(k): _valid_strings(v) for k, v in value.items()}
    return value


def _short(value: Any) -> str:
    """A bounded repr for error details (nesting, lengths and item counts cut)."""
    return _REPR.repr(value)


def _poison(raw: RawMessage, obj: dict[str, Any] | None, fingerprint: str, max_receives: int) -> Rejected:
    rejected = _reject(
        raw,
        obj,
        fingerprint,
        "poison_message",
        f"delivered {raw.receive_count} times without being stored (limit {max_receives}); "
        "left for the dead-letter queue",
    )
    return dataclasses.replace(rejected, ack=None)


def _reject(raw: RawMessage, obj: dict[str, Any] | None, fingerprint: str, reason: str, detail: str) -> Rejected:
    app_id = obj.get("app_id") if obj is not None else None
    return Rejected(
        id=_record_id(obj, fingerprint),
        app_id=app_id if is_app_id(app_id) else None,
        reason=reason,
        detail=detail,
        raw=raw.payload[:MAX_RAW_CHARS],
        origin=raw.origin,
        received_at=raw.received_at,
        at=datetime.now(timezone.utc),
        ack=raw.ack,
        fingerprint=fingerprint,
    )
