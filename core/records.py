"""Typed records that flow through the dataflow.

`RawMessage` comes out of a source; `parse` turns it into a `Review` or a
`Rejected`; the enrichment steps turn a `Review` into an `EnrichedReview` or a
`Rejected`. Every input ends as exactly one stored `EnrichedReview` or
`Rejected`, both keyed by the same deterministic id.

Record ids are namespaced by app: `<app_id>/<id>`, where `<id>` is the message's
own `id` or, without a usable one, `h-` and its fingerprint. A message that names
no usable app goes to the `_` namespace, which no app id can spell (an app id
starts with a letter or digit and never holds `/` or `!`). So a producer can only
ever claim ids of the app it writes for.

Every record also carries the `fingerprint` of the message it came from (a hash
of its canonical JSON; of the raw text when it is not a JSON object; of its
position when it is blank). The same message delivered again has the same id and
the same fingerprint, so it rewrites its own record; a *different* message that
reuses an id has another fingerprint, and the store keeps it as its own
`id_conflict` record under `conflict_id(id, fingerprint)` instead of letting it
replace the first (`connectors/store.py`, `resolve_claims`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, Union

NO_APP = "_"  # the id namespace of messages that name no usable app (no app id can be "_")
MAX_RAW_CHARS = 10_000  # of the raw message kept on a rejected record
MAX_DETAIL_CHARS = 300  # of a rejection's detail; the raw message is kept anyway
DIMS = 384  # dimensions of a review's embedding (all-MiniLM-L6-v2), as stored and searched
_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


def is_app_id(value: Any) -> bool:
    """An app identifier: a letter or digit, then up to 127 of letters, digits and `_.:-`.

    >>> is_app_id("paynest"), is_app_id("_"), is_app_id("a/b")
    (True, False, False)
    """
    return isinstance(value, str) and _APP_ID.fullmatch(value) is not None


def record_id(namespace: str, local: str) -> str:
    """The stored id of a message: its app (or `NO_APP`), `/`, then its own id or its content hash."""
    return f"{namespace}/{local}"


def id_namespace(rid: str) -> str:
    """The app namespace of a record id (`paynest` for `paynest/r-1` and for `paynest!<fingerprint>`)."""
    cut = min((i for i in (rid.find("/"), rid.find("!")) if i >= 0), default=-1)
    return rid[:cut] if cut > 0 else NO_APP


def conflict_id(rid: str, fingerprint: str) -> str:
    """Where a message that reuses `rid` is stored: `<namespace>!<fingerprint>`.

    No message can be given this id (a given id always follows `<namespace>/`), and it depends only on
    the message, so the same conflicting message redelivered lands on the same record.

    >>> conflict_id(record_id("paynest", "r-1"), "9f2c")
    'paynest!9f2c'
    >>> id_namespace("paynest!9f2c"), id_namespace("no-namespace")
    ('paynest', '_')
    """
    return f"{id_namespace(rid)}!{fingerprint}"


@dataclass(frozen=True)
class Ack:
    """Where to acknowledge a message once its record is durably stored."""

    queue_url: str
    receipt_handle: str
    message_id: str


@dataclass(frozen=True)
class RawMessage:
    """One input exactly as received: a JSON text and where it came from."""

    payload: str
    origin: str
    received_at: datetime
    ack: Ack | None = None
    receive_count: int = 1


@dataclass(frozen=True)
class Review:
    """A validated review, before enrichment."""

    id: str
    app_id: str
    text: str
    source: str
    created_at: datetime
    received_at: datetime
    origin: str
    rating: int | None = None
    author: str | None = None
    app_version: str | None = None
    lang_hint: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    raw: str = field(default="", compare=False, repr=False)
    ack: Ack | None = field(default=None, compare=False, repr=False)
    fingerprint: str = ""  # of the message (see the module docstring); "" only for records built by hand


@dataclass(frozen=True)
class Measures:
    """Denoise measures recorded on every record that got that far."""

    word_count: int
    non_english_ratio: float
    lang: str = "und"
    lang_confidence: float = 0.0
    script: str = ""
    spelling_error_ratio: float = 0.0
    gibberish_ratio: float = 0.0
    repetition_ratio: float = 0.0
    spam_markers: tuple[str, ...] = ()
    repeat_count: int = 0  # occurrences of this (near-)text so far in the app's stream; 0 = not counted


@dataclass(frozen=True)
class EnrichedReview:
    """A review that passed the filters, with its label, vector, theme and issue.

    The `cluster_*` fields describe the review's *issue* (`flows/operators/issues.py`); they are empty
    for praise and bare ratings, which never form an issue. `theme_*` is the coarse River KMeans theme
    of its (app, label) (`flows/operators/cluster.py`).
    """

    review: Review
    measures: Measures
    lang: str
    text_en: str
    translated: bool
    primary_label: str
    label_score: float
    embedding: tuple[float, ...] = field(repr=False)
    cluster_id: str | None = None
    cluster_keywords: tuple[str, ...] = ()
    cluster_name: str = ""
    cluster_representative: str = ""
    processed_at: datetime | None = None
    lang_confidence: float = 0.0
    translation: str = "not_needed"  # not_needed | translated | untranslated | failed
    translation_detail: str = ""
    informativeness: float = 0.0
    informative: bool = True  # informativeness at or above its model's threshold; False never forms an issue
    review_type: str = "rating"  # bug_report | feature_request | user_experience | rating
    type_score: float = 0.0
    sentiment: str = "neutral"  # negative | neutral | positive
    sentiment_score: float = 0.0
    competitors: tuple[str, ...] = ()
    priority: float = 0.0
    cluster_priority: float = 0.0
    cluster_growth: float = 1.0
    issue_examples: tuple[str, ...] = ()  # review ids: central and unlike each other (MMR)
    issue_merged: tuple[str, ...] = ()  # ids of issues merged into this one (the latest few)
    app_rate: float = 0.0  # the app's reviews per hour that can form an issue, around this review (event time)
    app_rate_now: float = 0.0  # the same over about the last hour (a 1 h half-life): an app-wide burst shows here
    app_latest_version: str = ""  # the newest app version seen in the app's reviews so far
    # The app's recent past an issue's priority is compared with (`issue_priority.AppBaseline`, 30-day half-life):
    app_issue_reviews: float = 0.0  # reviews that can form an issue
    app_rating: float | None = None  # mean star rating of its kept reviews
    app_negative: float = 0.0  # negative reviews among `app_issue_reviews`
    cluster_priority_reason: str = ""  # the facts behind `cluster_priority` ("12 reviews, 4% of the app's ...")
    theme_id: str | None = None
    theme_name: str = ""

    @property
    def id(self) -> str:
        return self.review.id

    @property
    def ack(self) -> Ack | None:
        return self.review.ack

    @property
    def fingerprint(self) -> str:
        return self.review.fingerprint

    @property
    def lang_group(self) -> str:
        """`en` when the labelled text is English (original or translated), else the review's language."""
        return "en" if self.translation in ("not_needed", "translated") else self.lang

    def to_doc(self) -> dict[str, Any]:
        """The stored document (JSON-ready; no transport details)."""
        r = self.review
        return {
            "id": r.id,
            "app_id": r.app_id,
            "source": r.source,
            "created_at": _iso(r.created_at),
            "received_at": _iso(r.received_at),
            "processed_at": _iso(self.processed_at),
            "text": r.text,
            "text_en": self.text_en,
            "lang": self.lang,
            "lang_confidence": round(self.lang_confidence, 3),
            "translated": self.translated,
            "translation": self.translation,
            "translation_detail": self.translation_detail,
            "informativeness": round(self.informativeness, 4),
            "informative": self.informative,
            "review_type": self.review_type,
            "type_score": round(self.type_score, 4),
            "sentiment": self.sentiment,
            "sentiment_score": self.sentiment_score,
            "competitors": list(self.competitors),
            "priority": self.priority,
            "rating": r.rating,
            "author": r.author,
            "app_version": r.app_version,
            "meta": r.meta,
            "origin": r.origin,
            "fingerprint": r.fingerprint,
            "measures": _measures_doc(self.measures),
            "primary_label": self.primary_label,
            "label_score": round(self.label_score, 4),
            "cluster_id": self.cluster_id,
            "cluster_keywords": list(self.cluster_keywords),
            "cluster_name": self.cluster_name,
            "cluster_representative": self.cluster_representative,
            "cluster_priority": self.cluster_priority,
            "cluster_growth": self.cluster_growth,
            "issue_examples": list(self.issue_examples),
            "issue_merged": list(self.issue_merged),
            "app_rate": self.app_rate,
            "app_rate_now": self.app_rate_now,
            "app_latest_version": self.app_latest_version,
            "theme_id": self.theme_id,
            "theme_name": self.theme_name,
            "embedding": list(self.embedding),
        }


@dataclass(frozen=True)
class Rejected:
    """An input that will not be enriched, with the reason; stored, never dropped.

    `detail` is at most `MAX_DETAIL_CHARS` characters whoever builds the record: a longer one keeps its
    start and says how much was cut (the offending value is in `raw` anyway)."""

    id: str
    app_id: str | None
    reason: str
    detail: str
    raw: str
    origin: str
    received_at: datetime
    at: datetime
    measures: Measures | None = None
    ack: Ack | None = field(default=None, compare=False, repr=False)
    fingerprint: str = ""  # of the message (see the module docstring); "" only for records built by hand

    def __post_init__(self) -> None:
        if len(self.detail) > MAX_DETAIL_CHARS:
            object.__setattr__(self, "detail", bounded_detail(self.detail))

    def to_doc(self) -> dict[str, Any]:
        """The stored document (JSON-ready; no transport details).

        `raw` is the input as received, except that lone surrogates (undecodable bytes
        that a source kept with `surrogateescape`) become U+FFFD: no store can encode them.
        """
        return {
            "id": self.id,
            "app_id": self.app_id,
            "reason": self.reason,
            "detail": self.detail,
            "raw": valid_text(self.raw),
            "origin": self.origin,
            "fingerprint": self.fingerprint,
            "received_at": _iso(self.received_at),
            "at": _iso(self.at),
            "measures": _measures_doc(self.measures) if self.measures else None,
        }


Outcome = Union[EnrichedReview, Rejected]
"""What the store sink receives: every input becomes exactly one of these."""


def id_conflict(outcome: Outcome, owner_fingerprint: str) -> Rejected:
    """`outcome`'s message reused an id another message (`owner_fingerprint`) holds: an `id_conflict` record
    of its own, under `conflict_id`, that keeps its raw input, app, origin and fingerprint."""
    if isinstance(outcome, EnrichedReview):
        raw, verdict, measures = outcome.review.raw or outcome.review.text, "enriched", outcome.measures
        app_id, origin, received_at = outcome.review.app_id, outcome.review.origin, outcome.review.received_at
    else:
        raw, verdict, measures = outcome.raw, f"rejected as {outcome.reason}", outcome.measures
        app_id, origin, received_at = outcome.app_id, outcome.origin, outcome.received_at
    return Rejected(
        id=conflict_id(outcome.id, outcome.fingerprint),
        app_id=app_id,
        reason="id_conflict",
        detail=(f"id {outcome.id[:80]!r} belongs to a different message (fingerprint {owner_fingerprint[:12]!r}); "
                f"this one ({verdict}) is kept apart and never replaces it"),
        raw=raw[:MAX_RAW_CHARS],
        origin=origin,
        received_at=received_at,
        at=datetime.now(timezone.utc),
        measures=measures,
        ack=outcome.ack,
        fingerprint=outcome.fingerprint,
    )


def bounded_detail(detail: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`detail` cut to `limit` characters, saying how many were left out."""
    if len(detail) <= limit:
        return detail
    keep = limit - len(f"… [{len(detail):,} characters, cut]")
    return f"{detail[:keep]}… [{len(detail):,} characters, cut]"


def _measures_doc(m: Measures) -> dict[str, Any]:
    """JSON-native measures (lists, not tuples), so a stored document reads back equal."""
    return {**asdict(m), "spam_markers": list(m.spam_markers)}


def valid_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, so it encodes as UTF-8 (a surrogate pair is joined)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class WatchCommand:
    """One change to an app's competitor watch list (from the other_features snap-in or a file).

    `add` starts watching `org` (with its hashtags and aliases); `remove` stops it.
    Commands are applied in arrival order per app; re-adding an org replaces its aliases.
    """

    action: str  # add | remove
    app_id: str
    org: str
    hashtags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    issued_at: datetime | None = None
    id: str = ""
    ack: Ack | None = field(default=None, compare=False, repr=False)  # set on a queue message's last command

    def to_doc(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "app_id": self.app_id,
            "org": self.org,
            "hashtags": list(self.hashtags),
            "aliases": list(self.aliases),
            "issued_at": _iso(self.issued_at),
        }


@dataclass(frozen=True)
class Translation:
    """What happened to one review's text on its way to English."""

    status: str  # not_needed | translated | untranslated | failed
    text_en: str
    lang: str
    detail: str = ""


class Translator(Protocol):
    """A translation backend. `translate` returns one `Translation` per text, in order, and does not raise
    for a single bad text (a failed text is a `Translation` with status `failed`)."""

    name: str

    def supports(self, lang: str) -> bool:
        """Whether texts in `lang` can be translated to English."""

    def translate(self, texts: Sequence[str], lang: str) -> list[Translation]:
        """English for each of `texts`, all written in `lang`."""


class NoTranslator:
    """The `none` backend: every non-English review stays untranslated, with its language."""

    name = "none"

    def supports(self, lang: str) -> bool:
        return False

    def translate(self, texts: Sequence[str], lang: str) -> list[Translation]:
        return [untranslated(t, lang, "translation backend is none") for t in texts]


def untranslated(text: str, lang: str, detail: str) -> Translation:
    return Translation("untranslated", text, lang, detail)


def failed(text: str, lang: str, detail: str) -> Translation:
    return Translation("failed", text, lang, detail)


@dataclass(frozen=True)
class Document:
    """A store document of one kind (`tickets`, `feature_requests`, `watchlist`, `watch_state`), ready for the
    document sink."""

    kind: str  # "" for nothing to store: only the ack
    doc: dict[str, Any]
    ack: Ack | None = field(default=None, compare=False, repr=False)  # a queue message to delete once stored
