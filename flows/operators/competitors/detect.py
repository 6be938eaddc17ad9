"""Every competitor mention of a review, with its direction and the feature in question.

`detect` returns one `Detection` per watched org the review names, in text order: its direction
(see `cues`), a concrete feature phrase or None, and whether it is a feature request
(`competitor_ahead` or `switching_away`). A mention no cue judges is `neutral`. The app's own
name (and "this app", "you", "isse") is written ⟪a⟫ so that "switched from paytm to PhonePe" and
"paytm is better than phonepe" read the same in a review of PhonePe as with "this app". Pure.

    >>> from flows.operators.competitors.watch import WatchedOrg, WatchList
    >>> watch = WatchList({"googlepay": WatchedOrg("Google Pay", ("#GooglePay",), ("gpay",))})
    >>> [(d.direction, d.feature) for d in detect("gpay has scratch cards, please add", watch, app="PayNest")]
    [('competitor_ahead', 'scratch cards')]
    >>> [d.direction for d in detect("much better than gpay", watch, app="PayNest")]
    ['own_ahead']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.operators.competitors.cues import (
    COMPETITOR_AHEAD, CUES, NEUTRAL, REQUESTS, SWITCHING_AWAY, SWITCHING_TO, Hit, Verdict, leaves_app,
)
from flows.operators.competitors.features import asked_for, asks, concrete, feature_key, words_of
from flows.operators.competitors.lexicon import Mention, find_mentions
from flows.operators.competitors.watch import WatchedOrg, WatchList, norm


@dataclass(frozen=True)
class Detection:
    """One watched org a review names: direction, concrete feature (or None), the cue that decided."""

    org: str
    direction: str
    feature: str | None
    matched: str
    cue: str = ""

    @property
    def is_request(self) -> bool:
        """A feature request: the competitor is ahead or the user leaves for it."""
        return self.direction in REQUESTS

    @property
    def key(self) -> str:
        """The feature's grouping key ("" without a concrete feature)."""
        return feature_key(self.feature) if self.feature else ""


_SENTENCES = re.compile(r"(?<!\d)[.!?…]+(?!\d)|[!?]+|[\n\r;|]+")


def _judged(masked: str, rating: int | None) -> tuple[Verdict, str] | None:
    """The verdict for the org written ⟪o⟫ in `masked`, with the cue's name; None when no cue judges it."""
    sentences = [s for s in _SENTENCES.split(masked) if s.strip()]
    found: list[tuple[Verdict, str]] = []
    for i, sentence in enumerate(sentences):
        if "⟪o⟫" not in sentence and "⟪a⟫" not in sentence and "this" not in sentence:
            continue
        for cue in CUES:
            for m in cue.pattern.finditer(sentence):
                # a sentence opening with the cue continues the last one ("add this …. as we can set in gpay")
                context = sentence if sentence[: m.start()].strip() or i == 0 else sentences[i - 1] + " " + sentence
                verdict = cue.judge(Hit(m, sentence, context, masked, rating))
                if verdict:
                    found.append((verdict, cue.name))
                    break
            else:
                continue
            break  # one verdict per sentence: the first cue that judges it
    if not found:
        return None
    # A switch says more than a comparison; otherwise the first judgement in the text.
    switches = [f for f in found if f[0].direction in (SWITCHING_AWAY, SWITCHING_TO)]
    verdict, cue = (switches or found)[0]
    if verdict.direction == COMPETITOR_AHEAD and leaves_app(masked):
        # "I am changing this bank, X is better than this": the writer leaves for the competitor it puts ahead
        return Verdict(SWITCHING_AWAY, verdict.feature), cue + "+leaves_app"
    return verdict, cue


def _fallback_feature(masked: str) -> str | None:
    """The asked-for thing in a sentence that places it at the competitor ("the bill reminder in gpay")."""
    for sentence in _SENTENCES.split(masked):
        at = sentence.find("⟪o⟫")
        if at > 0 and asks(sentence) and re.search(r"\b(?:in|on|at|of)\s+(?:the\s+)?⟪o⟫", sentence):
            return asked_for(sentence[:at])
    return None


def _named(phrase: str | None, watch: WatchList, me: WatchList) -> frozenset[str]:
    """The words of `phrase` that name a watched org or the app itself: a name is no feature."""
    if not phrase:
        return frozenset()
    return frozenset(w for k in find_mentions(phrase, watch) + find_mentions(phrase, me) for w in words_of(k.matched))


def mask(text: str, mentions: list[Mention], org: str, own: list[Mention] = ()) -> str:
    """`text` lower-cased, `org`'s mentions as ⟪o⟫, other orgs' as ⟪x⟫, the app's own as ⟪a⟫."""
    marks = [(k, " ⟪o⟫ " if k.org == org else " ⟪x⟫ ") for k in mentions]
    marks += [(k, " ⟪a⟫ ") for k in own if not any(k.start < m.end and m.start < k.end for m in mentions)]
    marks.sort(key=lambda km: km[0].start)
    parts, last = [], 0
    for k, mark in marks:
        parts.append(text[last:k.start])
        parts.append(mark)
        last = k.end
    parts.append(text[last:])
    return re.sub(r"[ \t]+", " ", "".join(parts).lower().replace("’", "'"))


def own_watch(app: str, aliases: tuple[str, ...] = ()) -> WatchList:
    """The app itself as a one-org watch list, so its name is matched the way a competitor's is."""
    org = WatchedOrg(app, (), aliases)
    return WatchList({org.key: org}) if org.key else WatchList()


def detect(text: str, watch: WatchList, app: str = "", text_en: str = "", review_type: str = "",
           rating: int | None = None, app_aliases: tuple[str, ...] = ()) -> list[Detection]:
    """One `Detection` per watched org `text` (or its translation `text_en`) names, in text order.

    `app` is the reviewed app's name (its mentions read as "this app"); an org that is the app
    itself is skipped. `review_type` is one more signal: a `feature_request` that asks for something
    at the org ("add the bill reminder in gpay") is `competitor_ahead` even without a comparison cue.
    A judged direction wins over `neutral`, a translation's over none; a feature is kept only when
    `concrete`.
    """
    me = own_watch(app, app_aliases) if app else WatchList()
    own_forms = {norm(app)} if app else set()
    out: dict[str, Detection] = {}
    for body in dict.fromkeys(t for t in (text, text_en) if t and t.strip()):
        mentions = [k for k in find_mentions(body, watch) if norm(k.org) not in own_forms]
        own = find_mentions(body, me)
        for org in dict.fromkeys(k.org for k in mentions):
            masked = mask(body, mentions, org, own)
            judged = _judged(masked, rating)
            verdict, cue = judged if judged else (Verdict(NEUTRAL), "")
            if verdict.direction == NEUTRAL and review_type == "feature_request":
                phrase = _fallback_feature(masked)
                if phrase:
                    verdict, cue = Verdict(COMPETITOR_AHEAD, phrase), "asks_at"
            feature = verdict.feature if concrete(verdict.feature, _named(verdict.feature, watch, me)) else None
            matched = next(k.matched for k in mentions if k.org == org)
            d = Detection(org=org, direction=verdict.direction, feature=feature, matched=matched, cue=cue)
            old = out.get(org)
            if old is None or (old.direction == NEUTRAL and d.direction != NEUTRAL) or (
                    old.direction == d.direction and old.feature is None and d.feature):
                out[org] = d
    return list(out.values())
