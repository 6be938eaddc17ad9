"""App metadata: each app's primary labels, vocabulary, competitors and ticket thresholds.

Loaded from JSON files (one per app) in a folder or a single file. Errors name
the file and the field, so a broken metadata file is one clear line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.rules import DenoiseRules
from core.settings import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Label:
    """A primary label, described in words and example phrases for zero-shot matching."""

    name: str
    description: str
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Competitor:
    """A competing app: its name, hashtags and aliases as users write them."""

    name: str
    hashtags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppMetadata:
    """Everything the flow knows about one app."""

    app_id: str
    name: str
    labels: tuple[Label, ...]
    description: str = ""
    vocabulary: tuple[str, ...] = ()
    competitors: tuple[Competitor, ...] = ()
    tickets: dict[str, Any] = field(default_factory=dict)
    denoise: dict[str, Any] = field(default_factory=dict)  # per-app overrides of DenoiseRules fields
    aliases: tuple[str, ...] = ()  # the app's own name as users also write it ("phone pe", "phone pay")

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)


def own_names(apps: Mapping[str, AppMetadata], app_id: str) -> tuple[str, ...]:
    """How reviews name the app `app_id` itself: its name, its `aliases`, the aliases and hashtags that other apps'
    metadata give it as a competitor (Paytm's knows PhonePe as "phone pay"), and its id; distinct, case aside.

    >>> phonepe = AppMetadata("phonepe", "PhonePe", (Label("payments", "", ()),), aliases=("phone pe",))
    >>> paytm = AppMetadata("paytm", "Paytm", (Label("payments", "", ()),),
    ...                     competitors=(Competitor("Phone Pe", ("#PhonePe",), ("phone pay",)),))
    >>> own_names({"phonepe": phonepe, "paytm": paytm}, "phonepe")
    ('PhonePe', 'phone pe', 'phone pay', '#PhonePe')
    >>> own_names({}, "other")
    ('other',)
    """
    meta = apps.get(app_id)
    if meta is None:
        return (app_id,)
    key = _name_key(meta.name)
    known = (a for m in apps.values() for c in m.competitors if _name_key(c.name) == key for a in (*c.aliases, *c.hashtags))
    names: dict[str, str] = {}
    for name in (meta.name, *meta.aliases, *known, app_id):
        names.setdefault(name.casefold(), name)
    return tuple(names.values())


def _name_key(name: str) -> str:
    """Case-, space- and punctuation-free: "Phone Pe", "phone-pe" and "PhonePe" are one app."""
    return re.sub(r"[\W_]+", "", name.casefold())


def load_apps(path: Path) -> dict[str, AppMetadata]:
    """Load every `*.json` in `path` (or the single file `path`), keyed by app_id."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError(f"app metadata path {str(path)!r} does not exist (SIFT_APPS)")
    if not files:
        raise ConfigError(f"no app metadata (*.json) in {str(path)!r} (SIFT_APPS)")
    apps: dict[str, AppMetadata] = {}
    for file in files:
        app = _load_file(file)
        if app.app_id in apps:
            raise ConfigError(f"{file}: app_id {app.app_id!r} is defined twice")
        apps[app.app_id] = app
    return apps


def _load_file(file: Path) -> AppMetadata:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        return parse_app(data)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{file}: not valid JSON ({e})") from e
    except (KeyError, TypeError, ValueError) as e:
        raise ConfigError(f"{file}: {e}") from e


def parse_app(data: dict[str, Any]) -> AppMetadata:
    """Build `AppMetadata` from its JSON form; raise ValueError naming the bad field."""
    if not isinstance(data, dict):
        raise ValueError("app metadata must be a JSON object")
    app_id = _required_str(data, "app_id")
    labels = tuple(_label(item, i) for i, item in enumerate(data.get("labels") or []))
    if not labels:
        raise ValueError("'labels' must list at least one label")
    names = [label.name for label in labels]
    if len(set(names)) != len(names):
        raise ValueError(f"label names must be unique: {names}")
    if "other" in names:
        raise ValueError("'other' is reserved for reviews that match no label")
    competitors = tuple(
        Competitor(
            name=_required_str(c, "name"),
            hashtags=tuple(str(h) for h in c.get("hashtags", [])),
            aliases=tuple(str(a) for a in c.get("aliases", [])),
        )
        for c in data.get("competitors") or []
    )
    return AppMetadata(
        app_id=app_id,
        name=str(data.get("name") or app_id),
        description=str(data.get("description") or ""),
        labels=labels,
        vocabulary=tuple(str(v) for v in data.get("vocabulary") or []),
        competitors=competitors,
        tickets=_tickets(data.get("tickets")),
        denoise=_denoise(data.get("denoise")),
        aliases=tuple(str(a) for a in data.get("aliases") or []),
    )


TICKET_COUNTS = ("min_reviews", "min_feature_requests")  # integers >= 1
TICKET_SHARES = ("alpha_hour", "alpha_day", "alpha_week", "alpha_month", "prior_share", "prior_share_week")  # numbers in 0..1
TICKET_DAYS = ("resolve_days",)  # numbers > 0


def _tickets(value: Any) -> dict[str, Any]:
    """Per-app ticket thresholds (`flows/operators/tickets.py` says how they are used): `min_reviews` and
    `min_feature_requests` (integers >= 1), `alpha_hour` / `alpha_day` / `alpha_week` / `alpha_month`,
    `prior_share` and `prior_share_week` (0..1), `resolve_days` (> 0)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'tickets' must be an object, got {type(value).__name__}")
    allowed = (*TICKET_COUNTS, *TICKET_SHARES, *TICKET_DAYS)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"'tickets' has unknown settings {unknown}; allowed: {', '.join(allowed)} "
                         "(window lengths are settings shared by all apps)")
    for name in TICKET_COUNTS:
        count = value.get(name, 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"'tickets.{name}' must be an integer >= 1, got {count!r}")
    for name in (*TICKET_SHARES, *TICKET_DAYS):
        number = value.get(name, 0.5)
        if not isinstance(number, (int, float)) or isinstance(number, bool) or not 0 <= number <= (1 if name in TICKET_SHARES else 3650):
            raise ValueError(f"'tickets.{name}' must be a number in 0..1 (days: > 0), got {number!r}")
    return dict(value)


def _denoise(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'denoise' must be an object, got {type(value).__name__}")
    DenoiseRules().with_overrides(value)  # raises ValueError naming an unknown setting
    return dict(value)


def _label(item: Any, index: int) -> Label:
    if not isinstance(item, dict):
        raise ValueError(f"labels[{index}] must be an object")
    name = _required_str(item, "name")
    examples = tuple(str(e) for e in item.get("examples") or [] if str(e).strip())
    description = str(item.get("description") or "")
    if not description and not examples:
        raise ValueError(f"label {name!r} needs a description or examples")
    return Label(name=name, description=description, examples=examples)


def _required_str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"field {key!r} must be a non-empty string")
    return value.strip()


class AppCatalog:
    """App metadata that follows its files while the flow runs.

    `current()` returns the latest good metadata. At most every `check_seconds` it
    looks at the files' modification times and sizes; when they changed it reloads.
    A broken edit keeps the previous metadata and logs one error line naming the
    file, so a typo never stops the flow. Every step of the flow reads it, so all
    of it changes live: a new app's reviews are accepted from the next one on, and
    labels, examples, vocabulary, `denoise` settings, competitors and ticket
    thresholds of existing apps apply to the next review. An app whose file is
    removed keeps its previous metadata until a restart.
    """

    def __init__(self, path: Path, check_seconds: float = 10.0, apps: dict[str, AppMetadata] | None = None):
        self.path = path
        self.check_seconds = check_seconds
        self._apps = apps if apps is not None else load_apps(path)
        self._signature = self._files_signature()
        self._checked = time.monotonic()
        self.version = 0  # bumped on every successful reload

    def _files_signature(self) -> tuple[tuple[str, int, int], ...]:
        files = sorted(self.path.glob("*.json")) if self.path.is_dir() else [self.path]
        out = []
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def current(self) -> dict[str, AppMetadata]:
        if self.check_seconds > 0 and time.monotonic() - self._checked >= self.check_seconds:
            self.refresh()
        return self._apps

    def refresh(self) -> bool:
        """Reload now if the files changed; True when new metadata is in use."""
        self._checked = time.monotonic()
        signature = self._files_signature()
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            apps = load_apps(self.path)
        except ConfigError as e:
            log.error("app metadata not reloaded, keeping the previous version: %s", e)
            return False
        for app_id in sorted(set(self._apps) - set(apps)):
            log.warning("app %r vanished from %s; keeping its previous metadata until restart", app_id, self.path)
            apps[app_id] = self._apps[app_id]
        for app_id in sorted(set(apps) - set(self._apps)):
            log.warning("app %r added in %s; its reviews are accepted from now on", app_id, self.path)
        changed = sorted(a for a in apps if apps[a] != self._apps.get(a))
        self._apps = apps
        self.version += 1
        log.info("app metadata reloaded from %s (changed: %s)", self.path, ", ".join(changed) or "none")
        return True
