"""Exact and near-duplicate spam, per app, in bounded memory.

Real incidents make many different users write nearly the same review ("payment
failed, money debited"), so repetition alone is not spam: it is counted
(`Measures.repeat_count`) and kept. A review is rejected only when it is

- `repeated_spam`: a (near-)copy seen more than `max_repeats` times before that
  carries a spam marker (URL, phone number, messenger, money offer, referral,
  contest); the first `max_repeats` copies are kept; or
- `duplicate`: the same author posting the same (near-)text again; the first
  copy is kept; or
- `templated_spam`: a new text (not a near-copy) that rates the app 4 or 5
  stars or carries a spam marker, and reuses the opening or the closing
  `template_words` words of a sentence that `template_reviews` earlier such
  texts of the app already used. Paid-review
  campaigns stitch the same sentences into praise ("Even after reinstalling the
  app a few times, the issue didn't go away"); a real incident's reviews share
  short phrases and low ratings, and are kept.

A redelivered message (the same message again: SQS redelivers whatever was not
acknowledged before a crash, and a resumed flow may have it in its snapshot
already) gets the verdict its first delivery got and does not count as a copy, so
the later write of the same id never turns a stored review into a `duplicate`.
A message is known by its id and fingerprint (`message_key`), so a different
message that reuses an id is judged on its own (the store keeps it apart as an
`id_conflict`) instead of inheriting the verdict of the first.
Each signature remembers its recent message keys (at most `max_ids`), the key
of each remembered author's message and the keys of the spam copies it let through.

Texts are normalised (lower case, numbers and codes folded, elongations cut)
and reduced to a 64-bit SimHash of word shingles. Near copies are those within
`max_distance` bits; with four 16-bit bands, any such pair shares a band, so a
lookup touches only candidates. The state holds at most `capacity` signatures
(least recently seen evicted first) and is plain dicts and ints: small and
picklable for Bytewax snapshots.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from flows.operators.denoise import reject
from flows.operators.language import content_text
from core.records import EnrichedReview, Measures, Rejected, Review

BANDS = 4
_BAND_BITS = 64 // BANDS
_SHIFTS = np.arange(64, dtype=np.uint64)
_TOKEN = re.compile(r"[^\W_]+")
_CODE = re.compile(r"^(?=.*\d)[a-z0-9]+$")
_ELONGATED = re.compile(r"(.)\1{2,}")


@dataclass(frozen=True)
class DedupConfig:
    """How many copies of a spam text are let through, how near is a copy, and how much to remember."""

    max_repeats: int = 2
    max_distance: int = 3
    capacity: int = 5000
    max_authors: int = 8
    max_ids: int = 32
    template_words: int = 6
    template_reviews: int = 2
    sentence_capacity: int = 20_000


@dataclass
class _Seen:
    """One signature: copies counted, first authors (-> their message key), spam copies let through (keys), and
    recent message keys (-> the copy number and rejection reason, "" when kept) to recognise redeliveries."""

    count: int = 0
    authors: dict[str, str] = field(default_factory=dict)
    let_through: list[str] = field(default_factory=list)
    recent: OrderedDict[str, tuple[int, str]] = field(default_factory=OrderedDict)

    def remember(self, key: str, count: int, reason: str, cfg: DedupConfig) -> None:
        self.recent[key] = (count, reason)
        while len(self.recent) > cfg.max_ids:
            self.recent.popitem(last=False)

    def copy(self) -> _Seen:
        """A deep copy: the containers are new, what they hold (str, int, tuples of them) is immutable."""
        return _Seen(self.count, dict(self.authors), list(self.let_through), OrderedDict(self.recent))


@dataclass
class DedupState:
    """Per-app memory: signature -> how often and by whom, oldest first; band -> signatures."""

    seen: OrderedDict[int, _Seen] = field(default_factory=OrderedDict)
    bands: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    sentences: OrderedDict[int, int] = field(default_factory=OrderedDict)  # long sentence -> reviews using it

    def __deepcopy__(self, memo: dict) -> DedupState:
        """Bytewax deep-copies the state at every epoch's snapshot, with or without recovery; the generic
        `copy.deepcopy` of 5,000 signatures took about half a second, container copies take a tenth of that."""
        return DedupState(OrderedDict((sig, entry.copy()) for sig, entry in self.seen.items()),
                          {band: set(members) for band, members in self.bands.items()}, OrderedDict(self.sentences))

    def __setstate__(self, state: dict) -> None:  # snapshots written before sentences were counted
        self.__dict__.update({"sentences": OrderedDict(), **state})

    def reused_sentences(self, text: str, cfg: DedupConfig) -> int:
        """Count this review's long sentences and return how many earlier reviews used the most used of them."""
        most = 0
        for h in sentence_hashes(text, cfg.template_words):
            used = self.sentences.get(h, 0)
            most = max(most, used)
            self.sentences[h] = used + 1
            self.sentences.move_to_end(h)
        while len(self.sentences) > cfg.sentence_capacity:
            self.sentences.popitem(last=False)
        return most

    def nearest(self, sig: int, max_distance: int) -> int | None:
        if sig in self.seen:
            return sig
        best, best_d = None, max_distance + 1
        for band in _bands(sig):
            for other in self.bands.get(band, ()):
                d = (sig ^ other).bit_count()
                if d < best_d:
                    best, best_d = other, d
        return best

    def add(self, sig: int, cfg: DedupConfig) -> _Seen:
        entry = self.seen[sig] = _Seen()
        for band in _bands(sig):
            self.bands.setdefault(band, set()).add(sig)
        while len(self.seen) > cfg.capacity:
            old, _ = self.seen.popitem(last=False)
            for band in _bands(old):
                members = self.bands.get(band)
                if members is not None:
                    members.discard(old)
                    if not members:
                        del self.bands[band]
        return entry


def _bands(sig: int) -> list[tuple[int, int]]:
    mask = (1 << _BAND_BITS) - 1
    return [(i, (sig >> (i * _BAND_BITS)) & mask) for i in range(BANDS)]


def normalise(text: str) -> list[str]:
    """Words with numbers and codes folded to `0` and elongations cut, so copies of a template match."""
    tokens = _TOKEN.findall(content_text(text).lower()) or re.findall(r"\S", text)
    return ["0" if _CODE.match(w) else _ELONGATED.sub(r"\1\1", w) for w in tokens]


def _h64(feature: str) -> int:
    # surrogatepass: a lone surrogate (never in parsed text, but any str can reach here) still hashes
    return int.from_bytes(hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def simhash(text: str) -> int:
    """A 64-bit SimHash over single words and word pairs of the normalised text (stable across processes)."""
    tokens = normalise(text)
    features = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
    hashes = np.fromiter((_h64(f) for f in features), dtype=np.uint64, count=len(features))
    ones = ((hashes[:, None] >> _SHIFTS) & np.uint64(1)).sum(axis=0)
    return int(((ones * 2 > len(features)).astype(np.uint64) << _SHIFTS).sum())


_SENTENCE = re.compile(r"[.!?;\n]+")


def sentence_hashes(text: str, min_words: int) -> set[int]:
    """Hashes of the first and the last `min_words` normalised words of each of the text's sentences that long
    (stable across processes): a campaign's sentences come back with a word changed in the middle or the end."""
    out = set()
    for sentence in _SENTENCE.split(text):
        words = normalise(sentence)
        if len(words) >= min_words:
            out.add(_h64("^ " + " ".join(words[:min_words])))
            out.add(_h64(" ".join(words[-min_words:]) + " $"))
    return out


def message_key(review: Review) -> str:
    """What identifies the message a review came from: its id, and its fingerprint when it has one."""
    return f"{review.id}#{review.fingerprint}" if review.fingerprint else review.id


def dedup_step(
    state: DedupState | None, item: tuple[Review, Measures], cfg: DedupConfig
) -> tuple[DedupState, tuple[Review, Measures] | Rejected]:
    """Count this review's (near-)copies; reject repeated spam and same-author duplicates; a redelivered message
    gets its earlier verdict again."""
    state = state or DedupState()
    review, m = item
    key = message_key(review)
    sig = simhash(review.text)
    match = state.nearest(sig, cfg.max_distance)
    if match is None:
        entry = state.add(sig, cfg)
    else:
        entry = state.seen[match]
        state.seen.move_to_end(match)
    if key and key in entry.recent:  # redelivery: same verdict, not another copy
        count, reason = entry.recent[key]
        return state, _verdict(review, dataclasses.replace(m, repeat_count=count), reason, cfg)
    entry.count += 1
    m = dataclasses.replace(m, repeat_count=entry.count)
    # A new text that stitches in sentences of earlier ones (copies of one text are counted above instead). Only
    # texts that could be a campaign's (4-5 stars, or a spam marker) are counted, so the number rejected does not
    # depend on the order the texts arrive in (SQS reorders them).
    suspect = (review.rating or 0) >= 4 or bool(m.spam_markers)
    reused = state.reused_sentences(review.text, cfg) if match is None and suspect else 0
    reason = _judge(entry, review, key, m, cfg)
    if not reason and reused >= cfg.template_reviews:
        reason = "templated_spam"
    if key:
        entry.remember(key, entry.count, reason, cfg)
    return state, _verdict(review, m, reason, cfg)


def dedup_enriched_step(
    state: DedupState | None, item: EnrichedReview, cfg: DedupConfig
) -> tuple[DedupState, EnrichedReview | Rejected]:
    """`dedup_step` for a review already embedded and labelled (the flow runs the model on the worker that
    received the review, before records are exchanged by app): the same verdict; a kept review gets its
    `repeat_count`."""
    state, verdict = dedup_step(state, (item.review, item.measures), cfg)
    if isinstance(verdict, Rejected):
        return state, verdict
    return state, dataclasses.replace(item, measures=verdict[1])


def _judge(entry: _Seen, review: Review, key: str, m: Measures, cfg: DedupConfig) -> str:
    """The rejection reason for this copy ("" to keep it); records its author and, if let through, its spam key."""
    author = (review.author or "").strip().lower()
    first = entry.authors.get(author) if author else None
    if first is not None and first != key:
        return "duplicate"
    if author and first is None and len(entry.authors) < cfg.max_authors:
        entry.authors[author] = key
    if m.spam_markers and key not in entry.let_through:
        if entry.count > cfg.max_repeats:
            return "repeated_spam"
        if len(entry.let_through) < cfg.max_ids:
            entry.let_through.append(key)
    return ""


def _verdict(review: Review, m: Measures, reason: str, cfg: DedupConfig) -> tuple[Review, Measures] | Rejected:
    if reason == "duplicate":
        return reject(review, m, "duplicate", f"{review.author!r} posted this text {m.repeat_count} times")
    if reason == "repeated_spam":
        return reject(
            review, m, "repeated_spam",
            f"copy {m.repeat_count} of a text with spam markers ({', '.join(m.spam_markers)}); "
            f"{cfg.max_repeats} let through",
        )
    if reason == "templated_spam":
        why = f"rated {review.rating}" if (review.rating or 0) >= 4 else f"with {', '.join(m.spam_markers)}"
        return reject(review, m, "templated_spam",
                      f"reuses a sentence {cfg.template_reviews}+ earlier reviews of the app used, {why}")
    return review, m
