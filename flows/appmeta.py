"""App metadata: each app's primary labels, vocabulary, competitors and ticket thresholds.

Loaded from JSON files (one per app) in a folder or a single file. Errors name
the file and the field, so a broken metadata file is one clear line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.settings import ConfigError


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

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)


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
        tickets=dict(data.get("tickets") or {}),
        denoise=_denoise(data.get("denoise")),
    )


def _denoise(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'denoise' must be an object, got {type(value).__name__}")
    from flows.operators.denoise import DenoiseRules

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
