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
- an `EnrichedReview`: when it asks for, or compares with, a watched org (see
  `competitors.detect`), emits one feature-request document per org and one item for
  the ticket windows, keyed `app:competitor:<org>:<feature key>`, so a competitor
  feature that gathers enough requests becomes a ticket through the same machinery.

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

from flows.appmeta import Competitor
from flows.operators.competitors import WatchList, detect, norm, resolve
from flows.records import Document, EnrichedReview, RawMessage, WatchCommand
from flows.watchlist import WATCH_STATE, parse_commands, watch_state_id

log = logging.getLogger(__name__)

FEATURE_LABEL = "competitor_feature"


@dataclass(frozen=True)
class WatchConfig:
    competitors: Callable[[str], tuple[Competitor, ...]]  # app_id -> the app metadata's competitors
    app_names: Callable[[str], str] = lambda app_id: app_id
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
) -> tuple[WatchList, list[Document | EnrichedReview]]:
    """Apply a command, or look for watched competitors in a review."""
    watch = state or WatchList()
    if isinstance(event, WatchCommand):
        return watch, _apply(watch, event, cfg)
    if not len(watch):
        return watch, []
    found = detect(event.review.text, event.text_en, event.review_type, watch)
    out: list[Document | EnrichedReview] = []
    for d in found:
        out.append(Document("feature_requests", feature_request(event, d.org, d.kind, d.feature, d.key, d.matched, cfg)))
        out.append(window_item(event, d.org, d.feature, d.key))
    return watch, out


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


def feature_request(item: EnrichedReview, org: str, kind: str, feature: str, key: str, matched: str,
                    cfg: WatchConfig) -> dict[str, Any]:
    """The stored feature-request document; its id is stable per (review, org), so a replay overwrites it."""
    r = item.review
    return {
        "id": "fr-" + hashlib.sha256(f"{r.id}\x1f{org}".encode()).hexdigest()[:20],
        "app_id": r.app_id,
        "org": org,
        "kind": kind,
        "feature": feature,
        "feature_key": key,
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


def window_item(item: EnrichedReview, org: str, feature: str, key: str) -> EnrichedReview:
    """The review as an item of its competitor-feature group for the ticket windows."""
    group = f"{item.review.app_id}:competitor:{_slug(org)}:{key.replace(' ', '-')}"
    return dataclasses.replace(
        item, primary_label=FEATURE_LABEL, cluster_id=group, cluster_name=f"{org}: {feature}",
        cluster_keywords=(f"{org} — {feature}",), cluster_priority=item.priority, cluster_growth=1.0,
    )


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum()) or "org"
