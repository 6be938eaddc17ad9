"""The one competitor matcher: where a watched org (or the app itself) is named in a text.

`find_mentions` finds an org by name, alias or hashtag in any spacing ("Google Pay", "googlepay",
"google-pay", "#GooglePay", "@GooglePayIndia"), by a derived alias (initial + last word: "gpay",
"g pay") and by a one-edit misspelling of a name of five letters or more ("paytym", "phonpe") that is
not a dictionary word. Matches are case-insensitive and end on word boundaries: "paytmall" is not
Paytm. Enrichment (`mentioned`) and the watch-list join (`detect`) both use it. Compiled patterns
are cached by the tuple of orgs and never part of any state.

    >>> from flows.operators.competitors.watch import WatchedOrg, WatchList
    >>> w = WatchList({"googlepay": WatchedOrg("Google Pay", ("#GooglePay",), ("gpay",))})
    >>> [m.matched for m in find_mentions("switched to g pay, then @GooglePayIndia", w)]
    ['g pay', '@GooglePayIndia']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.appmeta import Competitor
from flows.operators.competitors.watch import WatchedOrg, WatchList, watch_of
from core.watchlist import org_from_hashtag


@dataclass(frozen=True)
class Mention:
    org: str
    start: int
    end: int
    matched: str


_SEP = r"[\s\-_.]*"
_BEFORE = r"(?<![\w'’])"
# What follows a brand in an @handle or #hashtag: "@CapitecBankSA", "@paytmcare", "#PhonePeDown".
_HANDLE_TAIL = (r"(?:(?-i:[A-Z0-9_])\w*|(?:sa|za|in|india|ind|care|cares|support|help|official|app|bank|mx|id"
                r"|hq|down|team|news|pay)\w*)?")
_GENERIC_LAST = {"bank", "banco", "app", "wallet", "upi", "money", "finance", "card", "cards"}


def _words(phrase: str) -> list[str]:
    """A name, alias or hashtag as words: "#GooglePay" -> [Google, Pay]; "google-pay" -> [google, pay]."""
    phrase = phrase.strip().lstrip("#@")
    if " " not in phrase and re.search(r"[a-z][A-Z]", phrase):
        phrase = org_from_hashtag(phrase)
    return [w for w in re.split(r"[\s\-_.]+", phrase) if w]


def _derived(name: str) -> list[list[str]]:
    """Initial + last word of a two-word name: "Google Pay" -> gpay / g pay; "A Pay" only joined."""
    words = _words(name)
    if len(words) != 2 or len(words[0]) < 3 or words[1].lower() in _GENERIC_LAST or not words[0][0].isalpha():
        return []
    initial = words[0][0].lower()
    return [[initial + words[1].lower()]] if initial in "ai" else [[initial, words[1].lower()]]


def edits1(word: str) -> set[str]:
    """Every string one Damerau-Levenshtein edit from `word` (lower-case letters)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters}
            | {a + c + b for a, b in splits for c in letters})


@lru_cache(maxsize=1)
def dictionary() -> dict[str, int]:
    """English and Spanish word counts (pyspellchecker): a misspelling that is a real word is not a mention."""
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - declared dependency
        return {}
    counts: dict[str, int] = {}
    for lang in ("en", "es"):
        for word, n in SpellChecker(language=lang).word_frequency.dictionary.items():
            counts[word] = max(n, counts.get(word, 0))
    return counts


COMMON = 2500  # a name this frequent as a word ("Pocket", "Messenger", "Opera") is only a name when capitalised


def _case_sensitive(word: str) -> str:
    """"Pocket" or "POCKET", not "pocket"."""
    return f"(?-i:{re.escape(word[:1].upper() + word[1:])}|{re.escape(word.upper())})"


@dataclass(frozen=True)
class _Matcher:
    names: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    fuzzy: dict[str, str]  # misspelt token -> org name


@lru_cache(maxsize=256)
def _matcher(orgs: tuple[WatchedOrg, ...]) -> _Matcher:
    phrases = {o.name: [_words(p) for p in (o.name, *o.hashtags, *o.aliases)] for o in orgs}
    explicit = {"".join(w).lower(): o for o, ws in phrases.items() for w in ws}
    names, patterns, fuzzy, clashes = [], [], {}, set()
    words = dictionary()
    for org in orgs:
        forms = [w for w in phrases[org.name] if w]
        forms += [d for d in _derived(org.name) if explicit.get("".join(d), org.name) == org.name]
        common = {f[0].lower() for f in forms if len(f) == 1 and words.get(f[0].lower(), 0) >= COMMON}
        spaced = sorted({_case_sensitive(f[0]) if len(f) == 1 and f[0].lower() in common
                         else _SEP.join(re.escape(w) for w in f) for f in forms}, key=len, reverse=True)
        compact = sorted({"_?".join(re.escape(w) for w in f) for f in forms if len("".join(f)) >= 3},
                         key=len, reverse=True)
        alternatives = [rf"{_BEFORE}#?(?:{'|'.join(spaced)})(?!\w)"]
        if compact:
            alternatives.append(rf"{_BEFORE}[@#](?:{'|'.join(compact)}){_HANDLE_TAIL}(?!\w)")
        names.append(org.name)
        patterns.append(re.compile("|".join(alternatives), re.IGNORECASE))
        compacts = {"".join(f).lower() for f in forms} - common
        for word in compacts:
            # a form that is itself one edit from another ("cread" from "cred") is a misspelling: not edited again
            if len(word) >= 5 and word.isalpha() and not (edits1(word) & (compacts - {word})):
                for variant in edits1(word):
                    if len(variant) >= 5 and variant not in explicit:
                        if fuzzy.setdefault(variant, org.name) != org.name:
                            clashes.add(variant)
    fuzzy = {v: o for v, o in fuzzy.items() if v not in clashes and v not in words}
    return _Matcher(tuple(names), tuple(patterns), fuzzy)


_TOKEN = re.compile(r"(?<![\w'’])[#@]?([^\W\d_]{2,})(?!\w)")


def find_mentions(text: str, watch: WatchList) -> list[Mention]:
    """Every mention of a watched org in `text`, in text order, overlaps resolved to the longest."""
    if not watch.orgs or not text:
        return []
    m = _matcher(watch.watched)
    found = [Mention(name, x.start(), x.end(), x.group())
             for name, p in zip(m.names, m.patterns) for x in p.finditer(text)]
    if m.fuzzy:
        tokens = list(_TOKEN.finditer(text))
        for x in tokens:
            org = m.fuzzy.get(x.group(1).lower())
            if org:
                found.append(Mention(org, x.start(), x.end(), x.group()))
        # a misspelt two-word name ("Amzaon Pay"), unless both words are real words ("google play")
        words = dictionary()
        for a, b in zip(tokens, tokens[1:]):
            if text[a.end():b.start()].isspace() and not b.group().startswith(("#", "@")):
                org = m.fuzzy.get((a.group(1) + b.group(1)).lower())
                if org and not (a.group(1).lower() in words and b.group(1).lower() in words):
                    found.append(Mention(org, a.start(), b.end(), text[a.start():b.end()]))
    found.sort(key=lambda k: (k.start, k.start - k.end))
    kept: list[Mention] = []
    for k in found:
        if not any(k.start < o.end and o.start < k.end for o in kept):
            kept.append(k)
    return kept


@lru_cache(maxsize=256)
def _watch_of(competitors: tuple[Competitor, ...]) -> WatchList:
    return watch_of(competitors)


def mentioned(text: str, competitors: Iterable[Competitor]) -> tuple[str, ...]:
    """The canonical names of the competitors `text` names, each once, in text order."""
    mentions = find_mentions(text, _watch_of(tuple(competitors)))
    return tuple(dict.fromkeys(m.org for m in mentions))
