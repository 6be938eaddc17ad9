"""The competitor watch list joined with the review stream: feature-request records and their ticket items.

`watch_step` is a stateful map keyed by app id. Its state is the app's `WatchList`
(strings only: small, picklable, snapshotted by Bytewax recovery, so a restart keeps
the list). It receives two kinds of events:

- a `WatchCommand` (from the snap-in, through the feed, a file or a queue): applied in
  arrival order; emits the org's current watch-list document (`watchlist`, one per org) and then
  the app's whole list as it now stands (`watch_state`, one per app, upserted by app id: what the
  feed's `GET /v1/watchlist` serves). The per-org documents alone cannot be folded back into the
  list: a command may name a watched org by another of its names ("remove #GPay" stops "Google
  Pay"), and then the document of the org it really changed is never rewritten;
- an `EnrichedReview`: every watched org it names (see `competitors.detect`) gives one
  `competitor_mentions` document with its direction (`competitor_ahead`, `switching_away`,
  `own_ahead`, `switching_to`, `neutral`): the counts of gaps and wins per competitor come from
  these. Only the request directions (`competitor_ahead`, `switching_away`) are feature
  requests: one with a concrete feature becomes a `FeatureMention`, which the flow embeds, maps
  to the app's own primary label (`parity_label`) and groups with the issue layer's online
  clustering per (app, org) (`feature_group_step`), so "hide payment history" and "hide
  transactions" are one feature; `grouped_outputs` then gives its `feature_requests` document and
  its item for the ticket windows. A request with no concrete feature is stored
  (`feature_requests`, no group) and counted, but never forms a ticket.

Reviews that arrive before a command are matched against the list as it was then.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from core.appmeta import Competitor
from flows.operators.competitors import WINS, Detection, WatchList, detect, feature_key, norm, resolve
from flows.operators.issues import IssueConfig, IssueState, issue_step
from flows.operators.label import OTHER
from core.records import Document, EnrichedReview, RawMessage, WatchCommand
from core.watchlist import WATCH_STATE, parse_commands, watch_state_id

log = logging.getLogger(__name__)

FEATURE_LABEL = "competitor_feature"
MENTIONS = "competitor_mentions"  # the store's document kind of one competitor mention with its direction
FEATURE_REQUESTS = "feature_requests"
# Feature phrases are short: a group needs a closer match than reviews do ("hide payments" / "hide transactions"
# 0.73 with MiniLM; "scratch cards" / "virtual card" 0.36).
# Every phrase here is a request already: the praise and informativeness gate of reviews does not apply.
FEATURE_GROUPS = IssueConfig(join=0.6, join_floor=0.5, merge=0.6, max_issues=200, only_feedback=False)


@dataclass(frozen=True)
class FeatureMention:
    """A feature request with a concrete feature, on its way to its feature group. `label` is the app's own
    primary label the feature maps to and `phrase` the review as the feature phrase (its text and vector),
    both set by `parity_label`; `feature_group_step` gives `phrase` its group (`cluster_id`)."""

    item: EnrichedReview
    org: str
    direction: str
    feature: str
    matched: str
    label: str = ""
    phrase: EnrichedReview | None = None

    @property
    def group_key(self) -> str:
        return f"{self.item.review.app_id}:competitor:{_slug(self.org)}"


@dataclass(frozen=True)
class WatchConfig:
    competitors: Callable[[str], tuple[Competitor, ...]]  # app_id -> the app metadata's competitors
    app_names: Callable[[str], str] = lambda app_id: app_id
    app_aliases: Callable[[str], tuple[str, ...]] = lambda app_id: ()  # how users write the app's own name
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def commands_from(message: RawMessage) -> list[WatchCommand | Document]:
    """The commands in one watch-list line or queue message. A bad one is logged and skipped (it is not
    a review, so there is no review record to reject); its queue message is still deleted, through an
    empty `Document` that only carries the ack, because it can never become valid."""
    try:
        issued = _issued_at(message.payload)
        commands: list[WatchCommand | Document] = list(
            parse_commands(message.payload, received_at=issued or message.received_at))
    except (ValueError, RecursionError) as e:
        log.warning("watch-list command from %s ignored: %s", message.origin, str(e)[:200])
        return [Document("", {}, ack=message.ack)] if message.ack is not None else []
    if message.ack is not None:
        commands[-1] = dataclasses.replace(commands[-1], ack=message.ack)
    return commands


def _issued_at(payload: str) -> datetime | None:
    """The `issued_at` the feed stamps on each command, so re-reading it gives the same command id."""
    try:
        value = json.loads(payload).get("issued_at")
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except (ValueError, AttributeError, TypeError, RecursionError):
        return None
    return at if at is None or at.tzinfo else at.replace(tzinfo=timezone.utc)


def watch_step(
    state: WatchList | None, event: WatchCommand | EnrichedReview, cfg: WatchConfig
) -> tuple[WatchList, list[Document | FeatureMention]]:
    """Apply a command, or read a review's mentions of watched competitors."""
    watch = state or WatchList()
    if isinstance(event, WatchCommand):
        return watch, _apply(watch, event, cfg)
    if not len(watch):
        return watch, []
    r = event.review
    text_en = event.text_en if event.translated else ""
    found = detect(r.text, watch, app=cfg.app_names(r.app_id), text_en=text_en, review_type=event.review_type,
                   rating=r.rating, app_aliases=cfg.app_aliases(r.app_id))
    out: list[Document | FeatureMention] = []
    for d in found:
        out.append(Document(MENTIONS, mention_doc(event, d, cfg)))
        if d.is_request and d.feature:
            out.append(FeatureMention(event, d.org, d.direction, d.feature, d.matched))
        elif d.is_request:
            out.append(Document(FEATURE_REQUESTS, feature_request(event, d.org, d.direction, None, d.matched, cfg,
                                                                   label=event.primary_label)))
    return watch, out


def mention_doc(item: EnrichedReview, d: Detection, cfg: WatchConfig) -> dict[str, Any]:
    """One competitor mention with its direction; its id is stable per (review, org), so a replay overwrites it."""
    r = item.review
    return {
        "id": "cm-" + hashlib.sha256(f"{r.id}\x1f{d.org}".encode()).hexdigest()[:20],
        "app_id": r.app_id,
        "org": d.org,
        "direction": d.direction,
        "side": "gap" if d.is_request else "win" if d.direction in WINS else "neutral",
        "is_request": d.is_request,
        "feature": d.feature,
        "matched": d.matched,
        "cue": d.cue,
        "review_id": r.id,
        "primary_label": item.primary_label,
        "rating": r.rating,
        "created_at": r.created_at.isoformat(),
        "updated_at": cfg.now().isoformat(),
    }


def parity_label(mention: FeatureMention, vector: np.ndarray, assigned: tuple[str, float]) -> FeatureMention:
    """The mention with its feature phrase's vector and the app's own label for it: the label nearest the phrase
    (`assigned`, from the app's label index), else the review's own label when the phrase matches none."""
    label = assigned[0] if assigned[0] != OTHER else mention.item.primary_label
    phrase = dataclasses.replace(mention.item, embedding=tuple(float(x) for x in vector), text_en=mention.feature,
                                 review_type="feature_request", sentiment="neutral", translation="not_needed")
    return dataclasses.replace(mention, phrase=phrase, label=label or OTHER)


class FeatureLabeller:
    """Batch step: embed each mention's feature phrase (one encode call per batch) and map it to the app's own
    primary label (`parity_label`) with the app's label index."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], index_for: Callable[[str], Any]):
        self._encode = encode
        self._index_for = index_for

    def __call__(self, batch: list[FeatureMention]) -> list[FeatureMention]:
        if not batch:
            return []
        vectors = self._encode([m.feature for m in batch])
        out = []
        for m, v in zip(batch, vectors):
            [assigned] = self._index_for(m.item.review.app_id).assign(v[None, :])
            out.append(parity_label(m, v, assigned))
        return out


def group_key(mention: FeatureMention) -> str:
    return mention.group_key


def feature_group_step(state: IssueState | None, mention: FeatureMention,
                       cfg: IssueConfig = FEATURE_GROUPS) -> tuple[IssueState, FeatureMention]:
    """The issue layer's online clustering over feature phrases, per (app, org): `cluster_id` is the feature group
    (`<app>:competitor:<org>:i<n>`), `cluster_name` its key phrase. The label stays each phrase's own: one
    feature may touch two of the app's labels ("hide transactions": payments, or the UI)."""
    if mention.phrase is None:
        raise ValueError(f"feature_group_step: {mention.item.id!r} has no phrase vector (parity_label runs first)")
    state, phrase = issue_step(state, mention.phrase, cfg, key=mention.group_key)
    return state, dataclasses.replace(mention, phrase=phrase)


def grouped_outputs(mention: FeatureMention, cfg: WatchConfig) -> list[Document | EnrichedReview]:
    """A grouped feature mention as its `feature_requests` document and its item for the ticket windows."""
    phrase = mention.phrase or mention.item
    group, name = phrase.cluster_id, phrase.cluster_name or mention.feature
    doc = feature_request(mention.item, mention.org, mention.direction, mention.feature, mention.matched, cfg,
                          label=mention.label, group=group, group_name=name)
    window = dataclasses.replace(
        mention.item, primary_label=FEATURE_LABEL, cluster_id=group, cluster_name=f"{mention.org}: {name}",
        cluster_keywords=(f"{mention.label}: {mention.org}'s {name}",), cluster_priority=mention.item.priority,
        cluster_growth=1.0)
    return [Document(FEATURE_REQUESTS, doc), window] if group else [Document(FEATURE_REQUESTS, doc)]


def _apply(watch: WatchList, cmd: WatchCommand, cfg: WatchConfig) -> list[Document]:
    """The org's document, then the app's whole list; the queue message is acknowledged with the last."""
    competitors = cfg.competitors(cmd.app_id)
    org = resolve(cmd, competitors)
    if cmd.action == "add" and org.forms & {norm(cmd.app_id), norm(cfg.app_names(cmd.app_id))}:
        change = f"not watching {org.name}: it is the app itself"  # its own reviews all name it
    else:
        change = watch.apply(cmd, competitors)
    log.info("watch list %s: %s", cmd.app_id, change)
    current = next((o for o in watch.watched if o.key == org.key), None)
    now = cfg.now().isoformat()
    issued = cmd.issued_at.isoformat() if cmd.issued_at else None
    return [Document("watchlist", doc={
        "id": f"wl-{cmd.app_id}-{org.key}",
        "app_id": cmd.app_id,
        "org": org.name,
        "hashtags": list((current or org).hashtags),
        "aliases": list((current or org).aliases),
        "status": "watching" if current else "removed",
        "change": change,
        "command_id": cmd.id,
        "issued_at": issued,
        "updated_at": now,
    }), Document(WATCH_STATE, ack=cmd.ack, doc=watch_state(cmd.app_id, watch, change, cmd.id, issued, now))]


def watch_state(app_id: str, watch: WatchList, change: str, command_id: str, issued_at: str | None,
                updated_at: str) -> dict[str, Any]:
    """The app's whole watch list after a command, ordered by org key; one document per app, so each command
    overwrites the previous one."""
    return {
        "id": watch_state_id(app_id),
        "app_id": app_id,
        "orgs": [{"name": o.name, "hashtags": list(o.hashtags), "aliases": list(o.aliases)} for o in watch.watched],
        "change": change,
        "command_id": command_id,
        "issued_at": issued_at,
        "updated_at": updated_at,
    }


def feature_request(item: EnrichedReview, org: str, direction: str, feature: str | None, matched: str,
                    cfg: WatchConfig, label: str = "", group: str | None = None, group_name: str = "") -> dict[str, Any]:
    """The stored feature-request document; its id is stable per (review, org), so a replay overwrites it.
    `feature` None: a request with no concrete feature (counted, never a ticket); `label` the app's own primary
    label the feature maps to; `group` the feature group (`feature_group_step`)."""
    r = item.review
    return {
        "id": "fr-" + hashlib.sha256(f"{r.id}\x1f{org}".encode()).hexdigest()[:20],
        "app_id": r.app_id,
        "org": org,
        "direction": direction,
        "feature": feature,
        "feature_key": feature_key(feature) if feature else "",
        "feature_group": group,
        "feature_group_name": group_name or (feature or ""),
        "label": label,
        "matched": matched,
        "review_id": r.id,
        "text": r.text,
        "text_en": item.text_en,
        "lang": item.lang,
        "source": r.source,
        "rating": r.rating,
        "review_type": item.review_type,
        "sentiment": item.sentiment,
        "created_at": r.created_at.isoformat(),
        "updated_at": cfg.now().isoformat(),
        "status": "open",
    }


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "org"
