"""All configuration, read once from the environment (and an optional `.env`).

Each setting is declared once, in `SETTINGS`: the field it fills, its variable, default, bounds
and help. The dataclasses take their defaults from the declarations, `Settings.from_env` is a loop
over them, and `python -m core.settings --doc docs/configuration.md` writes the settings table
(tests/test_settings.py checks that the page and the declarations agree both ways). To add a
setting: add a field to the right dataclass with `= _default("<field>")` and one `Setting(...)` line.

Every default runs the embedded demo with no servers. A bad value raises `ConfigError` naming the
variable and the offending value; the flow entry point turns that into one error line.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _str(env, name, default).lower()
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = _str(env, name, str(default))
    try:
        value = int(raw)
    except ValueError as e:
        raise ConfigError(f"{name}={raw!r} is not an integer") from e
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is outside {lo}..{hi}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = _str(env, name, str(default))
    try:
        value = float(raw)
    except ValueError as e:
        raise ConfigError(f"{name}={raw!r} is not a number") from e
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is outside {lo}..{hi}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _str(env, name, "true" if default else "false").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (true/false)")


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    path = Path(raw).expanduser() if raw else default
    return path if path.is_absolute() else (Path.cwd() / path)


def _secret(env: Mapping[str, str], name: str) -> str:
    """A credential from `NAME` or from the file named by `NAME_FILE` (never logged)."""
    value = env.get(name, "").strip()
    file = env.get(f"{name}_FILE", "").strip()
    if value and file:
        raise ConfigError(f"set either {name} or {name}_FILE, not both")
    if file:
        try:
            return Path(file).expanduser().read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{name}_FILE={file!r} cannot be read ({e.strerror})") from e
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-separated IP addresses or CIDR networks, each checked and written in its canonical form."""
    out = []
    for part in _list(env, name):
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as e:
            raise ConfigError(f"{name}: {part!r} is not an IP address or network (like 10.0.0.0/8)") from e
    return tuple(out)


def redact_url(url: str) -> str:
    """`url` without any `user:password@` part, for logs and error messages.

    >>> redact_url("https://elastic:s3cret@es.example:9200/x")
    'https://es.example:9200/x'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rsplit("@", 1)[-1]
    host = rest.split("/", 1)
    host[0] = host[0].rsplit("@", 1)[-1]
    return f"{scheme}://{'/'.join(host)}"


@dataclass(frozen=True)
class Setting:
    """One setting, declared once. `kind` is inferred from `default` unless given (`choice`, `path`,
    `secret`, `list`, `networks`); a path default is relative to the project root; `convert` maps the
    parsed value (for example to upper case). Numbers must lie in `lo..hi`."""

    attr: str  # where the value goes: "batch_size", or "<group>.<name>" such as "sqs.max_messages"
    env: str
    default: Any
    help: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    kind: str = ""
    convert: Callable[[Any], Any] | None = None

    @property
    def type(self) -> str:
        if self.kind:
            return self.kind
        if self.choices:
            return "choice"
        return {bool: "bool", int: "int", float: "float", tuple: "list"}.get(type(self.default), "str")

    def read(self, env: Mapping[str, str]) -> Any:
        """This setting's value in `env` (its default when unset), checked; `ConfigError` names the variable."""
        name, kind = self.env, self.type
        if kind == "int":
            value: Any = _int(env, name, self.default, int(self.lo), int(self.hi))
        elif kind == "float":
            value = _float(env, name, self.default, self.lo, self.hi)
        elif kind == "bool":
            value = _bool(env, name, self.default)
        elif kind == "choice":
            value = _choice(env, name, self.default, self.choices)
        elif kind == "path":
            value = _path(env, name, PROJECT_ROOT / self.default)
        elif kind == "secret":
            value = _secret(env, name)
        elif kind == "list":
            value = _list(env, name)
        elif kind == "networks":
            value = _networks(env, name)
        else:
            value = _str(env, name, self.default)
        return self.convert(value) if self.convert else value


S = Setting
SETTINGS: tuple[Setting, ...] = (
    # input
    S("source", "SIFT_SOURCE", "file", "`file` or `sqs`", choices=("file", "sqs")),
    S("input_path", "SIFT_INPUT", "var/demo/reviews.jsonl", "input file (`.jsonl` or `.csv`) for `file`", kind="path"),
    S("sqs.queue_urls", "SIFT_SQS_QUEUE_URLS", (), "comma-separated queue URLs for `sqs`"),
    S("sqs.wait_seconds", "SIFT_SQS_WAIT_SECONDS", 1, "long-poll wait per receive, on each worker's receiver thread "
      "(never on the worker itself)", 0, 20),
    S("sqs.visibility_timeout", "SIFT_SQS_VISIBILITY_TIMEOUT", 120,
      "seconds a received message stays hidden while it is processed", 0, 43200),
    S("sqs.max_messages", "SIFT_SQS_MAX_MESSAGES", 256, "most messages a worker's receiver keeps ready, so the most "
      "per source batch (at most 10 per receive call)", 1, 1000),
    S("sqs.stop_after_idle_seconds", "SIFT_SQS_STOP_AFTER_IDLE", 0.0, "stop after this many idle seconds "
      "(`0`: run forever)", 0.0, 86400.0),
    S("sqs.max_receives", "SIFT_SQS_MAX_RECEIVES", 5, "deliveries after which a message is recorded as "
      "`poison_message` and left for the DLQ (`0`: never)", 0, 1000),
    # store
    S("store", "SIFT_STORE", "sqlite", "`sqlite` or `elasticsearch`", choices=("sqlite", "elasticsearch")),
    S("sqlite_path", "SIFT_SQLITE_PATH", "var/sift.db", "SQLite file", kind="path"),
    S("es.url", "SIFT_ES_URL", "", "Elasticsearch URL (may carry `user:password@`; logged without it)"),
    S("es.cloud_id", "ELASTIC_CLOUD_ID", "", "Elastic Cloud deployment id (needs `ELASTIC_API_KEY`)"),
    S("es.api_key", "ELASTIC_API_KEY", "", "Elastic Cloud API key (or a file named by `ELASTIC_API_KEY_FILE`)",
      kind="secret"),
    S("es.username", "SIFT_ES_USERNAME", "", "basic-auth user"),
    S("es.password", "SIFT_ES_PASSWORD", "", "basic-auth password (or a file named by `SIFT_ES_PASSWORD_FILE`)",
      kind="secret"),
    S("es.index_prefix", "SIFT_ES_INDEX_PREFIX", "sift", "indices `<prefix>-reviews`, `-rejected`, `-tickets`, "
      "`-feature-requests`, `-watchlist`, `-watch-state` (lower-cased)", convert=str.lower),
    S("es.verify_certs", "SIFT_ES_VERIFY_CERTS", True, "verify the server's TLS certificate"),
    S("es.ca_certs", "SIFT_ES_CA_CERTS", "", "CA bundle for TLS verification"),
    S("es.request_timeout", "SIFT_ES_TIMEOUT", 30.0, "request timeout, seconds", 1.0, 600.0),
    S("es.retry_seconds", "SIFT_ES_RETRY_SECONDS", 120.0, "how long a failing bulk write is retried before the "
      "flow stops", 0.0, 86400.0),
    S("es.ready_seconds", "SIFT_ES_READY_SECONDS", 60.0, "how long set-up waits for the indices' health and reads "
      "retry a 503 / 429 / partial answer", 0.0, 3600.0),
    # app metadata and batching
    S("apps_path", "SIFT_APPS", "demo/apps", "folder of app metadata JSON files (or one file)", kind="path"),
    S("apps_reload_seconds", "SIFT_APPS_RELOAD_SECONDS", 10.0, "how often to check the app metadata files for "
      "edits (`0`: never)", 0.0, 86400.0),
    S("batch_size", "SIFT_BATCH_SIZE", 256, "records per source batch; one embedding call per batch", 1, 4096),
    S("encode_batch", "SIFT_ENCODE_BATCH", 16, "model batch inside that call (small batches waste less on padding)",
      1, 1024),
    # denoise
    S("min_words", "SIFT_MIN_WORDS", 3, "fewer content words → rejected `too_short` (unless a 2-word review names "
      "a problem)", 0, 100),
    S("max_non_english_ratio", "SIFT_MAX_NON_ENGLISH_RATIO", 0.3, "English or unplaced text with a higher share "
      "of non-ASCII letters → rejected `non_english`", 0.0, 1.0),
    S("max_spelling_error_ratio", "SIFT_MAX_SPELLING_ERROR_RATIO", 0.6, "English text with a higher share of "
      "non-words → rejected `misspelled`", 0.0, 1.0),
    S("max_gibberish_ratio", "SIFT_MAX_GIBBERISH_RATIO", 0.5, "this share of keyboard-mash words → rejected "
      "`gibberish`", 0.0, 1.0),
    S("dedup_max_repeats", "SIFT_DEDUP_MAX_REPEATS", 2, "copies of a spam-marked text let through before "
      "`repeated_spam`", 0, 1_000_000),
    S("dedup_capacity", "SIFT_DEDUP_CAPACITY", 5000, "text signatures remembered per app for duplicate detection",
      1, 1_000_000),
    # translation
    S("translate", "SIFT_TRANSLATE", "none", "`none`, `aws` (AWS Translate via boto3) or `argos` (argostranslate)",
      choices=("none", "aws", "argos")),
    S("translate_cache", "SIFT_TRANSLATE_CACHE", 10_000, "translations remembered per worker (LRU)", 0, 10_000_000),
    # labels, types, themes, issues
    S("informative_model", "SIFT_INFORMATIVE_MODEL", "flows/models/informative_head.npz", "informativeness model: "
      "the shipped head ([models](models.md)), a model of your own (`python -m flows.train_informative`), or "
      "`zero-shot`; zero-shot when the file is missing", kind="path"),
    S("informative_threshold", "SIFT_INFORMATIVE_THRESHOLD", 0.5, "zero-shot informativeness at or above this "
      "counts as informative", 0.0, 1.0),
    S("types_model", "SIFT_TYPES_MODEL", "var/models/review_types.npz", "review-type model: a trained file "
      "(`python -m flows.train_types`, or the shipped `flows/models/review_type_head.npz`) or `zero-shot`; "
      "zero-shot when the file is missing", kind="path"),
    S("label_threshold", "SIFT_LABEL_THRESHOLD", 0.4, "best label similarity below this → `other`", -1.0, 1.0),
    S("clusters_per_label", "SIFT_CLUSTERS_PER_LABEL", 6, "KMeans k of the coarse themes per (app, label)", 1, 100),
    S("cluster_dims", "SIFT_CLUSTER_DIMS", 96, "random-projection size used for the themes", 2, 384),
    S("issue_join", "SIFT_ISSUE_JOIN", 0.62, "average-link similarity a review needs to join an issue of one "
      "review ([issues](issues.md))", -1.0, 1.0),
    S("issue_join_floor", "SIFT_ISSUE_JOIN_FLOOR", 0.45, "what the join bar falls to as the issue grows",
      -1.0, 1.0),
    S("issue_merge", "SIFT_ISSUE_MERGE", 0.55, "average-link similarity at which two issues merge", -1.0, 1.0),
    S("issue_metric", "SIFT_ISSUE_METRIC", "flows/models/issue_map.npz", "the map of the embedding English reviews are "
      "compared under when grouped into issues (the shipped one, `python -m flows.train_issue_map`, [models](models.md)), "
      "or `none` for the raw embedding; the raw embedding when the file is missing", kind="path"),
    S("issue_raw_join", "SIFT_ISSUE_RAW_JOIN", 0.5, "under the issue metric, the raw embedding's average-link "
      "similarity a join or a merge also needs (-1: none)", -1.0, 1.0),
    S("issue_max_per_label", "SIFT_ISSUE_MAX_PER_LABEL", 200, "live issues per (app, label[, language])",
      1, 100_000),
    S("issue_fade_days", "SIFT_ISSUE_FADE_DAYS", 60.0, "event-time days without a review before an issue leaves "
      "memory", 0.01, 36_500.0),
    S("seed", "SIFT_SEED", 42, "seed for the themes and the issues' example sketches", 0, 2**31 - 1),
    # the model
    S("model_path", "SIFT_MODEL_PATH", "", "sentence-transformers model folder (empty: the packaged "
      "all-MiniLM-L6-v2)"),
    S("torch_threads", "SIFT_TORCH_THREADS", 0, "the model's intra-op threads (ONNX Runtime, or torch); `0`: one "
      "per core; with `-w 2` on 2 cores use `1`", 0, 256),
    S("embed_backend", "SIFT_EMBED_BACKEND", "onnx", "`onnx`: the fp32 model exported once to `var/models/onnx/`, "
      "the same vectors as torch; `torch`: sentence-transformers, the reference; `onnx-int8`: dynamically "
      "quantised ([performance](performance.md))", choices=("onnx", "torch", "onnx-int8")),
    # tickets
    S("tickets.window_minutes", "SIFT_TICKET_WINDOW_MINUTES", 60, "length of the incident scale's windows (days "
      "and weeks are the other scales)", 1, 7 * 24 * 60),
    S("tickets.late_seconds", "SIFT_TICKET_LATE_SECONDS", 600, "how long a window waits for late reviews before "
      "it closes", 0, 7 * 24 * 3600),
    S("tickets.min_reviews", "SIFT_TICKET_MIN_REVIEWS", 5, "fewest reviews in a window that raises or updates a "
      "ticket (an app's `\"tickets\"` metadata overrides this and the next seven)", 1, 1_000_000),
    S("tickets.alpha_hour", "SIFT_TICKET_ALPHA_HOUR", 1e-6, "significance of an hourly window's count "
      "([tickets](tickets.md))", 0.0, 1.0),
    S("tickets.alpha_day", "SIFT_TICKET_ALPHA_DAY", 1e-4, "significance of a daily window's count", 0.0, 1.0),
    S("tickets.alpha_week", "SIFT_TICKET_ALPHA_WEEK", 0.01, "significance of a weekly window's count", 0.0, 1.0),
    S("tickets.alpha_month", "SIFT_TICKET_ALPHA_MONTH", 0.01, "significance of a 28-day window's count", 0.0, 1.0),
    S("tickets.prior_share", "SIFT_TICKET_PRIOR_SHARE", 0.02, "share of the app's kept reviews a typical issue "
      "gets: the app prior", 0.0, 1.0),
    S("tickets.prior_share_week", "SIFT_TICKET_PRIOR_SHARE_WEEK", 0.005, "the app prior's share at the week scale, "
      "and the month scale, where an issue is judged as one of the app's recurring issues", 0.0, 1.0),
    S("tickets.resolve_days", "SIFT_TICKET_RESOLVE_DAYS", 3.0, "event-time days without a passing window before a "
      "ticket is resolved", 0.01, 3650.0),
    S("tickets.feature_window_hours", "SIFT_FEATURE_WINDOW_HOURS", 168, "window length for competitor-feature "
      "groups", 1, 24 * 366),
    S("tickets.min_feature_requests", "SIFT_TICKET_MIN_FEATURE_REQUESTS", 5, "requests for one competitor feature "
      "in a window that raise a ticket", 1, 1_000_000),
    S("tickets.queue_url", "SIFT_TICKETS_QUEUE_URL", "", "SQS queue that receives every ticket version (empty: "
      "store only)"),
    S("tickets.devrev_part", "SIFT_DEVREV_PART", "", "`applies_to_part` of the DevRev payload"),
    S("tickets.devrev_owner", "SIFT_DEVREV_OWNER", "", "`owned_by` of the DevRev payload"),
    # watch list
    S("watchlist.path", "SIFT_WATCHLIST_FILE", "var/watchlist/commands.jsonl", "watch-list commands read by the "
      "flow (followed while reviews come from SQS)", kind="path"),
    S("watchlist.queue_url", "SIFT_WATCHLIST_QUEUE_URL", "", "read watch-list commands from this SQS queue instead "
      "of the file"),
    # the snap-in feed
    S("feed.token", "SIFT_FEED_TOKEN", "", "bearer token of the snap-in feed, required to start it (or a file "
      "named by `SIFT_FEED_TOKEN_FILE`)", kind="secret"),
    S("feed.host", "SIFT_FEED_HOST", "127.0.0.1", "where the feed listens"),
    S("feed.port", "SIFT_FEED_PORT", 8686, "the feed's port", 1, 65535),
    S("feed.max_body_bytes", "SIFT_FEED_MAX_BODY_BYTES", 64 * 1024, "feed request size limit", 256,
      16 * 1024 * 1024),
    S("feed.rate_per_minute", "SIFT_FEED_RATE_PER_MINUTE", 600, "feed requests per client per minute", 1,
      1_000_000),
    S("feed.trusted_proxies", "SIFT_FEED_TRUSTED_PROXIES", (), "comma-separated IPs or CIDR networks whose "
      "`X-Forwarded-For` the feed believes (none by default)", kind="networks"),
    S("feed.request_timeout", "SIFT_FEED_REQUEST_TIMEOUT", 10.0, "seconds a feed connection has to send a whole "
      "request (head and body) from its first byte", 0.1, 600.0),
    # logs
    S("progress_seconds", "SIFT_PROGRESS_SECONDS", 2.0, "seconds between progress lines (`0`: off)", 0.0, 3600.0),
    S("log_level", "SIFT_LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`",
      choices=("debug", "info", "warning", "error"), convert=str.upper),
)
DECLARED = {s.attr: s for s in SETTINGS}


def _default(attr: str) -> Any:
    """The default of the setting declared for `attr`, as `from_env` reads it from an empty environment."""
    return DECLARED[attr].read({})


@dataclass(frozen=True)
class ElasticsearchSettings:
    """How to reach Elasticsearch: a URL, or Elastic Cloud id + API key."""

    url: str = field(default=_default("es.url"), repr=False)  # may carry user:password; `target` is printable
    cloud_id: str = _default("es.cloud_id")
    api_key: str = field(default=_default("es.api_key"), repr=False)
    username: str = _default("es.username")
    password: str = field(default=_default("es.password"), repr=False)
    index_prefix: str = _default("es.index_prefix")
    verify_certs: bool = _default("es.verify_certs")
    ca_certs: str = _default("es.ca_certs")
    request_timeout: float = _default("es.request_timeout")
    retry_seconds: float = _default("es.retry_seconds")
    ready_seconds: float = _default("es.ready_seconds")  # set-up's wait for ready indices; a read's retry of a 503

    @property
    def target(self) -> str:
        """Where the client connects, without credentials, for log lines."""
        return f"cloud:{self.cloud_id.split(':')[0]}" if self.cloud_id else redact_url(self.url)


@dataclass(frozen=True)
class SqsSettings:
    """The SQS queues reviews are read from; boto3 finds region and endpoint."""

    queue_urls: tuple[str, ...] = _default("sqs.queue_urls")
    wait_seconds: int = _default("sqs.wait_seconds")
    visibility_timeout: int = _default("sqs.visibility_timeout")
    max_messages: int = _default("sqs.max_messages")
    stop_after_idle_seconds: float = _default("sqs.stop_after_idle_seconds")
    max_receives: int = _default("sqs.max_receives")


@dataclass(frozen=True)
class FeedSettings:
    """The snap-in JSON feed (`python -m connectors.feed`)."""

    host: str = _default("feed.host")
    port: int = _default("feed.port")
    token: str = field(default=_default("feed.token"), repr=False)
    max_body_bytes: int = _default("feed.max_body_bytes")
    rate_per_minute: int = _default("feed.rate_per_minute")
    trusted_proxies: tuple[str, ...] = _default("feed.trusted_proxies")  # X-Forwarded-For believed from these
    request_timeout: float = _default("feed.request_timeout")


@dataclass(frozen=True)
class TicketSettings:
    """Windowed ticket aggregation; apps may override the thresholds in their `"tickets"` metadata."""

    window_minutes: int = _default("tickets.window_minutes")
    late_seconds: int = _default("tickets.late_seconds")
    min_reviews: int = _default("tickets.min_reviews")
    alpha_hour: float = _default("tickets.alpha_hour")
    alpha_day: float = _default("tickets.alpha_day")
    alpha_week: float = _default("tickets.alpha_week")
    alpha_month: float = _default("tickets.alpha_month")
    prior_share: float = _default("tickets.prior_share")
    prior_share_week: float = _default("tickets.prior_share_week")
    resolve_days: float = _default("tickets.resolve_days")
    feature_window_hours: int = _default("tickets.feature_window_hours")
    min_feature_requests: int = _default("tickets.min_feature_requests")
    queue_url: str = _default("tickets.queue_url")
    devrev_part: str = _default("tickets.devrev_part")
    devrev_owner: str = _default("tickets.devrev_owner")


@dataclass(frozen=True)
class WatchlistSettings:
    """Where competitor watch-list commands come from: a queue in production, a JSONL file by default."""

    path: Path = _default("watchlist.path")
    queue_url: str = _default("watchlist.queue_url")


@dataclass(frozen=True)
class Settings:
    """One frozen object with every knob of the flow; `SETTINGS` declares each one."""

    source: str = _default("source")
    input_path: Path = _default("input_path")
    apps_path: Path = _default("apps_path")
    apps_reload_seconds: float = _default("apps_reload_seconds")
    store: str = _default("store")
    sqlite_path: Path = _default("sqlite_path")
    es: ElasticsearchSettings = ElasticsearchSettings()
    sqs: SqsSettings = SqsSettings()
    feed: FeedSettings = FeedSettings()
    tickets: TicketSettings = TicketSettings()
    watchlist: WatchlistSettings = WatchlistSettings()
    batch_size: int = _default("batch_size")
    encode_batch: int = _default("encode_batch")
    min_words: int = _default("min_words")
    max_non_english_ratio: float = _default("max_non_english_ratio")
    max_spelling_error_ratio: float = _default("max_spelling_error_ratio")
    max_gibberish_ratio: float = _default("max_gibberish_ratio")
    dedup_max_repeats: int = _default("dedup_max_repeats")
    dedup_capacity: int = _default("dedup_capacity")
    translate: str = _default("translate")
    translate_cache: int = _default("translate_cache")
    informative_model: Path = _default("informative_model")
    informative_threshold: float = _default("informative_threshold")
    types_model: Path = _default("types_model")
    label_threshold: float = _default("label_threshold")
    clusters_per_label: int = _default("clusters_per_label")
    cluster_dims: int = _default("cluster_dims")
    issue_join: float = _default("issue_join")
    issue_join_floor: float = _default("issue_join_floor")
    issue_merge: float = _default("issue_merge")
    issue_metric: Path = _default("issue_metric")
    issue_raw_join: float = _default("issue_raw_join")
    issue_max_per_label: int = _default("issue_max_per_label")
    issue_fade_days: float = _default("issue_fade_days")
    seed: int = _default("seed")
    model_path: str = _default("model_path")
    torch_threads: int = _default("torch_threads")
    embed_backend: str = _default("embed_backend")
    progress_seconds: float = _default("progress_seconds")
    log_level: str = _default("log_level")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: `os.environ` plus `.env`): one read per declared setting."""
        if env is None:
            _load_dotenv()
            env = os.environ
        top: dict[str, Any] = {}
        groups: dict[str, dict[str, Any]] = {}
        for setting in SETTINGS:
            group, _, name = setting.attr.rpartition(".")
            (groups.setdefault(group, {}) if group else top)[name] = setting.read(env)
        for group, values in groups.items():
            top[group] = type(getattr(cls, group))(**values)
        settings = cls(**top)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check combinations that single values cannot; raise `ConfigError`."""
        if self.source == "sqs" and not self.sqs.queue_urls:
            raise ConfigError("SIFT_SOURCE=sqs needs SIFT_SQS_QUEUE_URLS (comma-separated queue URLs)")
        if self.store == "elasticsearch" and not (self.es.url or self.es.cloud_id):
            raise ConfigError(
                "SIFT_STORE=elasticsearch needs SIFT_ES_URL or ELASTIC_CLOUD_ID (+ ELASTIC_API_KEY)"
            )
        if self.es.cloud_id and not self.es.api_key:
            raise ConfigError("ELASTIC_CLOUD_ID is set but ELASTIC_API_KEY is empty")
        if self.es.url and not self.es.url.startswith(("http://", "https://")):
            raise ConfigError(f"SIFT_ES_URL={redact_url(self.es.url)!r} must start with http:// or https://")


def _load_dotenv() -> None:
    """Read `.env` from the working directory without overriding real variables."""
    path = Path.cwd() / ".env"
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


# --- the generated settings page (docs/configuration.md) -------------------------------------------

DOC_HEAD = """# Configuration

<!-- Written by `python -m core.settings --doc docs/configuration.md` from the declarations in
core/settings.py; do not edit by hand (tests/test_settings.py checks that both agree). -->

Settings are read once from the environment and from `./.env` if it exists; real environment
variables win. A bad value stops the program with one line that names the variable, for example
`sift: error: SIFT_BATCH_SIZE='many' is not an integer`. A secret (`secret` below) may instead be
read from the file named by the same variable with `_FILE` appended, never both. Paths are relative
to the working directory when set, to the project root by default. boto3 reads its own variables
(`AWS_REGION`, `AWS_ENDPOINT_URL_SQS`, credentials, …); the scripts' own variables are in
[operations](operations.md).

| variable | default | allowed | meaning |
|---|---|---|---|
"""


def _shown(value: Any) -> str:
    if value in ("", ()):
        return ""
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def _allowed(setting: Setting) -> str:
    kind = setting.type
    if kind == "choice":
        return ", ".join(f"`{c}`" for c in setting.choices)
    if kind in ("int", "float"):
        lo, hi = (f"{v:g}" if kind == "float" else f"{int(v):,}" for v in (setting.lo, setting.hi))
        return f"{lo} … {hi}"
    return {"bool": "true/false", "path": "path", "secret": "secret", "list": "comma-separated",
            "networks": "IPs / CIDRs"}.get(kind, "text")


def render_doc() -> str:
    """The settings page: one row per declared setting, in declaration order."""
    rows = [f"| `{s.env}` | {_shown(s.default)} | {_allowed(s)} | {s.help} |" for s in SETTINGS]
    return DOC_HEAD + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.settings", description="Write or check the settings page.")
    parser.add_argument("--doc", type=Path, help="write the settings page here (docs/configuration.md)")
    parser.add_argument("--check", type=Path, help="exit 1 when this page differs from the declarations")
    args = parser.parse_args(argv)
    if args.doc:
        args.doc.write_text(render_doc(), encoding="utf-8")
        print(f"settings: {len(SETTINGS)} settings -> {args.doc}")
    if args.check:
        if args.check.read_text(encoding="utf-8") != render_doc():
            print(f"settings: {args.check} is out of date: python -m core.settings --doc {args.check}", file=sys.stderr)
            return 1
        print(f"settings: {args.check} matches the {len(SETTINGS)} declared settings")
    if not (args.doc or args.check):
        print(render_doc(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
