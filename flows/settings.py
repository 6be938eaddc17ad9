"""All configuration, read once from the environment (and an optional `.env`).

Every setting has a default that runs the embedded demo with no servers. A bad
value raises `ConfigError` naming the variable and the offending value; the
flow entry point turns that into one error line.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flows.models import INFORMATIVE_HEAD

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
    """`url` without any `user:password@` part, for logs and error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.rsplit("@", 1)[-1]
    host = rest.split("/", 1)
    host[0] = host[0].rsplit("@", 1)[-1]
    return f"{scheme}://{'/'.join(host)}"


@dataclass(frozen=True)
class ElasticsearchSettings:
    """How to reach Elasticsearch: a URL, or Elastic Cloud id + API key."""

    url: str = field(default="", repr=False)  # may carry user:password; `target` is the printable form
    cloud_id: str = ""
    api_key: str = field(default="", repr=False)
    username: str = ""
    password: str = field(default="", repr=False)
    index_prefix: str = "sift"
    verify_certs: bool = True
    ca_certs: str = ""
    request_timeout: float = 30.0
    retry_seconds: float = 120.0
    ready_seconds: float = 60.0  # how long set-up waits for an index to be ready, and a read retries a 503

    @property
    def target(self) -> str:
        """Where the client connects, without credentials, for log lines."""
        return f"cloud:{self.cloud_id.split(':')[0]}" if self.cloud_id else redact_url(self.url)


@dataclass(frozen=True)
class SqsSettings:
    """The SQS queues reviews are read from; boto3 finds region and endpoint."""

    queue_urls: tuple[str, ...] = ()
    wait_seconds: int = 1
    visibility_timeout: int = 120
    max_messages: int = 256
    stop_after_idle_seconds: float = 0.0
    max_receives: int = 5


@dataclass(frozen=True)
class FeedSettings:
    """The snap-in JSON feed (`python -m connectors.feed`)."""

    host: str = "127.0.0.1"
    port: int = 8686
    token: str = field(default="", repr=False)
    max_body_bytes: int = 64 * 1024
    rate_per_minute: int = 600
    trusted_proxies: tuple[str, ...] = ()  # networks whose X-Forwarded-For is believed; none by default
    request_timeout: float = 10.0  # seconds to send a whole request (head and body) from its first byte


@dataclass(frozen=True)
class TicketSettings:
    """Windowed ticket aggregation; apps may override the thresholds in their `"tickets"` metadata."""

    window_minutes: int = 60
    late_seconds: int = 600
    min_reviews: int = 5
    alpha_hour: float = 1e-6
    alpha_day: float = 1e-4
    alpha_week: float = 0.01
    prior_share: float = 0.02
    resolve_days: float = 3.0
    feature_window_hours: int = 168
    min_feature_requests: int = 5
    queue_url: str = ""
    devrev_part: str = ""
    devrev_owner: str = ""


@dataclass(frozen=True)
class WatchlistSettings:
    """Where competitor watch-list commands come from: a queue in production, a JSONL file by default."""

    path: Path = PROJECT_ROOT / "var" / "watchlist" / "commands.jsonl"
    queue_url: str = ""


@dataclass(frozen=True)
class Settings:
    """One frozen object with every knob of the flow; see the README's table."""

    source: str = "file"
    input_path: Path = PROJECT_ROOT / "var" / "demo" / "reviews.jsonl"
    apps_path: Path = PROJECT_ROOT / "demo" / "apps"
    apps_reload_seconds: float = 10.0
    store: str = "sqlite"
    sqlite_path: Path = PROJECT_ROOT / "var" / "sift.db"
    es: ElasticsearchSettings = ElasticsearchSettings()
    sqs: SqsSettings = SqsSettings()
    feed: FeedSettings = FeedSettings()
    tickets: TicketSettings = TicketSettings()
    watchlist: WatchlistSettings = WatchlistSettings()
    batch_size: int = 256
    encode_batch: int = 16
    min_words: int = 3
    max_non_english_ratio: float = 0.3
    max_spelling_error_ratio: float = 0.6
    max_gibberish_ratio: float = 0.5
    dedup_max_repeats: int = 2
    dedup_capacity: int = 5000
    translate: str = "none"
    translate_cache: int = 10_000
    informative_model: Path = INFORMATIVE_HEAD  # the shipped head (package data); "zero-shot" chooses zero-shot
    informative_threshold: float = 0.5
    types_model: Path = PROJECT_ROOT / "var" / "models" / "review_types.npz"
    label_threshold: float = 0.4
    clusters_per_label: int = 6
    cluster_dims: int = 96
    issue_join: float = 0.62
    issue_join_floor: float = 0.35
    issue_merge: float = 0.45
    issue_max_per_label: int = 200
    issue_fade_days: float = 60.0
    seed: int = 42
    model_path: str = ""
    torch_threads: int = 0
    embed_backend: str = "onnx"
    progress_seconds: float = 2.0
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: `os.environ` plus `.env`)."""
        if env is None:
            _load_dotenv()
            env = os.environ
        es = ElasticsearchSettings(
            url=_str(env, "SIFT_ES_URL", ""),
            cloud_id=_str(env, "ELASTIC_CLOUD_ID", ""),
            api_key=_secret(env, "ELASTIC_API_KEY"),
            username=_str(env, "SIFT_ES_USERNAME", ""),
            password=_secret(env, "SIFT_ES_PASSWORD"),
            index_prefix=_str(env, "SIFT_ES_INDEX_PREFIX", "sift").lower(),
            verify_certs=_bool(env, "SIFT_ES_VERIFY_CERTS", True),
            ca_certs=_str(env, "SIFT_ES_CA_CERTS", ""),
            request_timeout=_float(env, "SIFT_ES_TIMEOUT", 30.0, 1.0, 600.0),
            retry_seconds=_float(env, "SIFT_ES_RETRY_SECONDS", 120.0, 0.0, 86400.0),
            ready_seconds=_float(env, "SIFT_ES_READY_SECONDS", 60.0, 0.0, 3600.0),
        )
        sqs = SqsSettings(
            queue_urls=_list(env, "SIFT_SQS_QUEUE_URLS"),
            wait_seconds=_int(env, "SIFT_SQS_WAIT_SECONDS", 1, 0, 20),
            visibility_timeout=_int(env, "SIFT_SQS_VISIBILITY_TIMEOUT", 120, 0, 43200),
            max_messages=_int(env, "SIFT_SQS_MAX_MESSAGES", 256, 1, 1000),
            stop_after_idle_seconds=_float(env, "SIFT_SQS_STOP_AFTER_IDLE", 0.0, 0.0, 86400.0),
            max_receives=_int(env, "SIFT_SQS_MAX_RECEIVES", 5, 0, 1000),
        )
        feed = FeedSettings(
            host=_str(env, "SIFT_FEED_HOST", "127.0.0.1"),
            port=_int(env, "SIFT_FEED_PORT", 8686, 1, 65535),
            token=_secret(env, "SIFT_FEED_TOKEN"),
            max_body_bytes=_int(env, "SIFT_FEED_MAX_BODY_BYTES", 64 * 1024, 256, 16 * 1024 * 1024),
            rate_per_minute=_int(env, "SIFT_FEED_RATE_PER_MINUTE", 600, 1, 1_000_000),
            trusted_proxies=_networks(env, "SIFT_FEED_TRUSTED_PROXIES"),
            request_timeout=_float(env, "SIFT_FEED_REQUEST_TIMEOUT", 10.0, 0.1, 600.0),
        )
        tickets = TicketSettings(
            window_minutes=_int(env, "SIFT_TICKET_WINDOW_MINUTES", 60, 1, 7 * 24 * 60),
            late_seconds=_int(env, "SIFT_TICKET_LATE_SECONDS", 600, 0, 7 * 24 * 3600),
            min_reviews=_int(env, "SIFT_TICKET_MIN_REVIEWS", 5, 1, 1_000_000),
            alpha_hour=_float(env, "SIFT_TICKET_ALPHA_HOUR", TicketSettings.alpha_hour, 0.0, 1.0),
            alpha_day=_float(env, "SIFT_TICKET_ALPHA_DAY", TicketSettings.alpha_day, 0.0, 1.0),
            alpha_week=_float(env, "SIFT_TICKET_ALPHA_WEEK", TicketSettings.alpha_week, 0.0, 1.0),
            prior_share=_float(env, "SIFT_TICKET_PRIOR_SHARE", TicketSettings.prior_share, 0.0, 1.0),
            resolve_days=_float(env, "SIFT_TICKET_RESOLVE_DAYS", TicketSettings.resolve_days, 0.01, 3650.0),
            feature_window_hours=_int(env, "SIFT_FEATURE_WINDOW_HOURS", 168, 1, 24 * 366),
            min_feature_requests=_int(env, "SIFT_TICKET_MIN_FEATURE_REQUESTS", 5, 1, 1_000_000),
            queue_url=_str(env, "SIFT_TICKETS_QUEUE_URL", ""),
            devrev_part=_str(env, "SIFT_DEVREV_PART", ""),
            devrev_owner=_str(env, "SIFT_DEVREV_OWNER", ""),
        )
        watchlist = WatchlistSettings(
            path=_path(env, "SIFT_WATCHLIST_FILE", WatchlistSettings.path),
            queue_url=_str(env, "SIFT_WATCHLIST_QUEUE_URL", ""),
        )
        settings = cls(
            source=_choice(env, "SIFT_SOURCE", "file", ("file", "sqs")),
            input_path=_path(env, "SIFT_INPUT", cls.input_path),
            apps_path=_path(env, "SIFT_APPS", cls.apps_path),
            apps_reload_seconds=_float(env, "SIFT_APPS_RELOAD_SECONDS", 10.0, 0.0, 86400.0),
            store=_choice(env, "SIFT_STORE", "sqlite", ("sqlite", "elasticsearch")),
            sqlite_path=_path(env, "SIFT_SQLITE_PATH", cls.sqlite_path),
            es=es,
            sqs=sqs,
            feed=feed,
            tickets=tickets,
            watchlist=watchlist,
            batch_size=_int(env, "SIFT_BATCH_SIZE", 256, 1, 4096),
            encode_batch=_int(env, "SIFT_ENCODE_BATCH", 16, 1, 1024),
            min_words=_int(env, "SIFT_MIN_WORDS", 3, 0, 100),
            max_non_english_ratio=_float(env, "SIFT_MAX_NON_ENGLISH_RATIO", 0.3, 0.0, 1.0),
            max_spelling_error_ratio=_float(env, "SIFT_MAX_SPELLING_ERROR_RATIO", 0.6, 0.0, 1.0),
            max_gibberish_ratio=_float(env, "SIFT_MAX_GIBBERISH_RATIO", 0.5, 0.0, 1.0),
            dedup_max_repeats=_int(env, "SIFT_DEDUP_MAX_REPEATS", 2, 0, 1_000_000),
            dedup_capacity=_int(env, "SIFT_DEDUP_CAPACITY", 5000, 1, 1_000_000),
            translate=_choice(env, "SIFT_TRANSLATE", "none", ("none", "aws", "argos")),
            translate_cache=_int(env, "SIFT_TRANSLATE_CACHE", 10_000, 0, 10_000_000),
            informative_model=_path(env, "SIFT_INFORMATIVE_MODEL", cls.informative_model),
            informative_threshold=_float(env, "SIFT_INFORMATIVE_THRESHOLD", 0.5, 0.0, 1.0),
            types_model=_path(env, "SIFT_TYPES_MODEL", cls.types_model),
            label_threshold=_float(env, "SIFT_LABEL_THRESHOLD", 0.4, -1.0, 1.0),
            clusters_per_label=_int(env, "SIFT_CLUSTERS_PER_LABEL", 6, 1, 100),
            cluster_dims=_int(env, "SIFT_CLUSTER_DIMS", 96, 2, 384),
            issue_join=_float(env, "SIFT_ISSUE_JOIN", cls.issue_join, -1.0, 1.0),
            issue_join_floor=_float(env, "SIFT_ISSUE_JOIN_FLOOR", cls.issue_join_floor, -1.0, 1.0),
            issue_merge=_float(env, "SIFT_ISSUE_MERGE", cls.issue_merge, -1.0, 1.0),
            issue_max_per_label=_int(env, "SIFT_ISSUE_MAX_PER_LABEL", cls.issue_max_per_label, 1, 100_000),
            issue_fade_days=_float(env, "SIFT_ISSUE_FADE_DAYS", cls.issue_fade_days, 0.01, 36_500.0),
            seed=_int(env, "SIFT_SEED", 42, 0, 2**31 - 1),
            model_path=_str(env, "SIFT_MODEL_PATH", ""),
            torch_threads=_int(env, "SIFT_TORCH_THREADS", 0, 0, 256),
            embed_backend=_choice(env, "SIFT_EMBED_BACKEND", "onnx", ("onnx", "torch", "onnx-int8")),
            progress_seconds=_float(env, "SIFT_PROGRESS_SECONDS", 2.0, 0.0, 3600.0),
            log_level=_choice(
                env, "SIFT_LOG_LEVEL", "info", ("debug", "info", "warning", "error")
            ).upper(),
        )
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
