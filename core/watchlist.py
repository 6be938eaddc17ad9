"""Competitor watch-list commands: parsing and validation, shared by the flow and the feed.

A command arrives as JSON, in one of two shapes:

    {"app_id": "paynest", "action": "add",
     "orgs": [{"name": "Google Pay", "hashtags": ["#GooglePay"], "aliases": ["gpay"]}]}

    {"app_id": "paynest", "command": "add #GooglePay #PhonePe"}

The second is what the other_features snap-in sends: an action word then hashtags;
each hashtag becomes one org whose name is the hashtag split at capitals
("#GooglePay" -> "Google Pay"). `parse_commands` returns one `WatchCommand` per org
or raises `ValueError` with a message fit for an HTTP 422 or a rejected record.

Hashtags, names and aliases are NFKC-normalised first, so a full-width `＃ＧｏｏｇｌｅＰａｙ` is
`#GooglePay`. A word that mixes writing systems the way look-alikes do (a Cyrillic `о` inside a
Latin `GooglePay`), mixes digit systems or stacks invisible marks is refused: ICU's spoof checker
at Unicode's "moderately restrictive" level (UTS #39), which still allows a word in one script,
Latin with CJK, and Latin with any other script but Cyrillic, Greek or Cherokee. JSON's
non-standard `NaN` and `Infinity` are refused, and a caller that knows its apps (the feed) passes
`known_apps` to refuse every other app id.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Collection
from datetime import datetime, timezone
from functools import cache
from typing import Any

import icu

from core.records import WatchCommand, is_app_id

ACTIONS = ("add", "remove")
WATCH_STATE = "watch_state"  # the store's document kind of an app's whole watch list, as the flow applied it
MAX_ORGS = 50
MAX_NAME = 80
MAX_ALIASES = 20
_HASHTAG = re.compile(r"^#[^\W_][\w]{0,79}$")
_SPLIT_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def watch_state_id(app_id: str) -> str:
    """The id of an app's `watch_state` document: the flow writes it, the feed's GET /v1/watchlist reads it."""
    return f"ws-{app_id}"


def org_from_hashtag(tag: str) -> str:
    """`#GooglePay` -> `Google Pay`; `#paytm` -> `paytm`."""
    return _SPLIT_CAMEL.sub(" ", tag.lstrip("#")).strip()


@cache
def _spoof_checker() -> icu.SpoofChecker:
    """Built once per process; ICU's checker is safe to share once configured."""
    checker = icu.SpoofChecker()
    checker.setRestrictionLevel(icu.URestrictionLevel.MODERATELY_RESTRICTIVE)
    checker.setChecks(icu.USpoofChecks.RESTRICTION_LEVEL | icu.USpoofChecks.MIXED_NUMBERS
                      | icu.USpoofChecks.INVISIBLE)
    return checker


def looks_alike(word: str) -> bool:
    """True when `word` mixes scripts like a look-alike ("GооglePay" with Cyrillic о), mixes digit
    systems, or stacks invisible marks."""
    return bool(_spoof_checker().check(word))


def _clean(text: str, where: str) -> str:
    """`text` NFKC-normalised; `ValueError` when one of its words is a mixed-script look-alike."""
    text = unicodedata.normalize("NFKC", text)
    for word in text.split():
        if looks_alike(word):
            raise ValueError(f"{where}: {word[:40]!r} mixes writing systems or digit systems like a look-alike; "
                             "write each word in one script")
    return text


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_commands(payload: str | bytes | dict[str, Any], received_at: datetime | None = None,
                   known_apps: Collection[str] | None = None) -> list[WatchCommand]:
    """Every `WatchCommand` in one payload, or `ValueError` naming what is wrong. With `known_apps`,
    an `app_id` outside it is refused."""
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as e:  # RecursionError: nested thousands of levels deep
            raise ValueError(f"command is not valid JSON ({e})") from None
    if not isinstance(payload, dict):
        raise ValueError("command must be a JSON object")
    app_id = payload.get("app_id")
    if not isinstance(app_id, str) or not is_app_id(app_id.strip()):
        raise ValueError("field 'app_id' must be a non-empty string of letters, digits and _.:- (an app id)")
    if known_apps is not None and app_id.strip() not in known_apps:
        raise ValueError(f"unknown app_id {app_id.strip()!r}: no app with that id in the app metadata")
    at = received_at or datetime.now(timezone.utc)
    if isinstance(payload.get("command"), str):
        action, orgs = _parse_text(payload["command"])
    else:
        action = payload.get("action")
        if action not in ACTIONS:
            raise ValueError(f"field 'action' must be one of {', '.join(ACTIONS)}")
        raw_orgs = payload.get("orgs")
        if not isinstance(raw_orgs, list) or not raw_orgs:
            raise ValueError("field 'orgs' must be a non-empty list")
        orgs = [_parse_org(o, i) for i, o in enumerate(raw_orgs)]
    if len(orgs) > MAX_ORGS:
        raise ValueError(f"at most {MAX_ORGS} orgs per command")
    commands = []
    for name, hashtags, aliases in orgs:
        key = json.dumps([app_id.strip(), action, name, hashtags, aliases, at.isoformat()])
        commands.append(WatchCommand(
            action=action, app_id=app_id.strip(), org=name, hashtags=tuple(hashtags), aliases=tuple(aliases),
            issued_at=at, id="wl-" + hashlib.sha256(key.encode()).hexdigest()[:20],
        ))
    return commands


def _parse_text(text: str) -> tuple[str, list[tuple[str, list[str], list[str]]]]:
    words = unicodedata.normalize("NFKC", text).split()
    if not words or words[0].lower().lstrip("/") not in ACTIONS:
        raise ValueError(f"command must start with one of {', '.join(ACTIONS)}, then hashtags")
    tags = words[1:]
    if not tags:
        raise ValueError("command names no hashtags")
    for tag in tags:
        if not _HASHTAG.match(tag):
            raise ValueError(f"{tag[:40]!r} is not a hashtag like #GooglePay")
        _clean(tag, "command")
    return words[0].lower().lstrip("/"), [(org_from_hashtag(t), [t], []) for t in dict.fromkeys(tags)]


def _parse_org(item: Any, index: int) -> tuple[str, list[str], list[str]]:
    if not isinstance(item, dict):
        raise ValueError(f"orgs[{index}] must be an object")
    hashtags = _strings(item.get("hashtags", []), f"orgs[{index}].hashtags")
    aliases = _strings(item.get("aliases", []), f"orgs[{index}].aliases")
    for tag in hashtags:
        if not _HASHTAG.match(tag):
            raise ValueError(f"orgs[{index}].hashtags: {tag[:40]!r} is not a hashtag like #GooglePay")
    name = item.get("name")
    if name is None and hashtags:
        name = org_from_hashtag(hashtags[0])
    if isinstance(name, str):
        name = unicodedata.normalize("NFKC", name)
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or not _printable(name):
        raise ValueError(f"orgs[{index}].name must be a printable string of at most {MAX_NAME} characters")
    return _clean(name, f"orgs[{index}].name").strip(), hashtags, aliases


def _strings(value: Any, where: str) -> list[str]:
    """Non-empty printable strings, NFKC-normalised, none a look-alike."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of non-empty printable strings")
    value = [unicodedata.normalize("NFKC", v) for v in value]
    if not all(v.strip() and _printable(v) for v in value):
        raise ValueError(f"{where} must be a list of non-empty printable strings")
    if len(value) > MAX_ALIASES or any(len(v) > MAX_NAME for v in value):
        raise ValueError(f"{where}: at most {MAX_ALIASES} items of at most {MAX_NAME} characters")
    return [_clean(v, where).strip() for v in value]


def _printable(text: str) -> bool:
    """No control or format characters and no lone surrogates (which no store can encode); spaces allowed."""
    return text.replace(" ", "").isprintable()
