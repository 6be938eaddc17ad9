"""Competitor feature requests: a per-app watch list of organisations, and the reviews that ask
for a watched org's feature or compare the app against it.

`WatchList` is the per-app state: a dict of frozen `WatchedOrg`s, small and picklable. Compiled
patterns are never part of it; they are built on first use and cached by the tuple of orgs, so a
Bytewax snapshot holds names and aliases only. `resolve` maps a snap-in command onto the app
metadata's competitor ("#PhonePe" -> "PhonePe" with its aliases).

`find_mentions` finds a watched org by name, alias or hashtag in any spacing ("Google Pay",
"googlepay", "google-pay", "#GooglePay", "@GooglePayIndia"), by a derived alias (initial + last
word: "gpay", "g pay") and by a one-edit misspelling of a name of five letters or more ("paytym",
"phonpe") that is not a dictionary word. Matches are case-insensitive and end on word boundaries:
"paytmall" is not Paytm.

`detect` keeps a mention only when the review asks for the org's feature ("Google Pay has
scratch cards, please add", "add UPI lite like Paytm", "Paytm me ye feature hai, yaha kab
aayega?") or compares against it ("switching to PhonePe because …", "better than gpay",
"unlike Paytm", "mejor que Klar"); "paid via gpay" or "PhonePe is down" is no detection.
Cue phrases are English, with cheap Hinglish, Spanish and Indonesian ones. Pure, no I/O.

    >>> from flows.records import WatchCommand
    >>> watch = WatchList()
    >>> watch.apply(WatchCommand("add", "paynest", "Google Pay", ("#GooglePay",), ("gpay",)))
    'watching Google Pay (#GooglePay; gpay)'
    >>> detect("gpay has scratch cards, please add", "", "feature_request", watch)
    [Detection(org='Google Pay', kind='request', feature='scratch cards', matched='gpay')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from flows.appmeta import Competitor
from flows.operators.review_type import CUES
from flows.watchlist import org_from_hashtag
from flows.records import WatchCommand

KINDS = ("request", "comparison")
OVERALL = "overall experience"  # the feature of a comparison that names none ("better than gpay")


def norm(text: str) -> str:
    """Case-, space- and punctuation-free form: "#Google Pay", "google-pay" -> "googlepay"."""
    return re.sub(r"[\W_]+", "", text.lower())


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Distinct items, case-insensitively; spacing variants ("phone pe", "phonepe") are kept apart."""
    seen: dict[str, str] = {}
    for item in items:
        key = " ".join(item.lower().split())
        if key and key not in seen:
            seen[key] = item.strip()
    return tuple(seen.values())


# ── the watch list (per-app state) ───────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class WatchedOrg:
    """A watched organisation as users write it: canonical name, hashtags, aliases."""

    name: str
    hashtags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return norm(self.name)

    @property
    def forms(self) -> frozenset[str]:
        """Normalised name, hashtags and aliases: what identifies this org in a command."""
        return frozenset(f for f in map(norm, (self.name, *self.hashtags, *self.aliases)) if f)


def resolve(cmd: WatchCommand, competitors: tuple[Competitor, ...] = ()) -> WatchedOrg:
    """The org a command names; the metadata's competitor (canonical name, merged aliases) when one matches.

    A match is on any normalised form: "#PhonePe" (org "Phone Pe") resolves to "PhonePe".
    """
    wanted = {f for f in map(norm, (cmd.org, *cmd.hashtags, *cmd.aliases)) if f}
    for c in competitors:
        if wanted & {f for f in map(norm, (c.name, *c.hashtags, *c.aliases)) if f}:
            return WatchedOrg(c.name, _dedupe((*cmd.hashtags, *c.hashtags)), _dedupe((*c.aliases, *cmd.aliases)))
    return WatchedOrg(cmd.org.strip(), _dedupe(cmd.hashtags), _dedupe(cmd.aliases))


@dataclass
class WatchList:
    """One app's watched orgs by normalised name. Picklable and small: strings only.

    `apply` adds (replacing a watched org's hashtags and aliases) or removes one org and returns a
    one-line description of the change; removing an org that is not watched changes nothing.
    """

    orgs: dict[str, WatchedOrg] = field(default_factory=dict)

    def apply(self, cmd: WatchCommand, competitors: tuple[Competitor, ...] = ()) -> str:
        org = resolve(cmd, competitors)
        known = self._find(org)
        if cmd.action == "add":
            if known is not None:
                del self.orgs[known]
            self.orgs[org.key] = org
            verb = "now watching" if known is not None else "watching"
            tags = " ".join(org.hashtags)
            aliases = ", ".join(org.aliases)
            detail = "; ".join(p for p in (tags, aliases) if p)
            return f"{verb} {org.name}" + (f" ({detail})" if detail else "")
        if cmd.action == "remove":
            if known is None:
                return f"not watching {cmd.org!r}; nothing removed"
            removed = self.orgs.pop(known)
            return f"stopped watching {removed.name}"
        raise ValueError(f"watch-list command {cmd.id!r}: action must be add or remove, got {cmd.action!r}")

    def _find(self, org: WatchedOrg) -> str | None:
        if org.key in self.orgs:
            return org.key
        return next((k for k, o in self.orgs.items() if o.forms & org.forms), None)

    @property
    def watched(self) -> tuple[WatchedOrg, ...]:
        return tuple(self.orgs[k] for k in sorted(self.orgs))

    def __len__(self) -> int:
        return len(self.orgs)


# ── mentions ─────────────────────────────────────────────────────────────────────────────────────
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


def _edits1(word: str) -> set[str]:
    """Every string one Damerau-Levenshtein edit from `word` (lower-case letters)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters}
            | {a + c + b for a, b in splits for c in letters})


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
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
    words = _dictionary()
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
            if len(word) >= 5 and word.isalpha() and not (_edits1(word) & (compacts - {word})):
                for variant in _edits1(word):
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
        words = _dictionary()
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


# ── cues ─────────────────────────────────────────────────────────────────────────────────────────
# The text is lower-cased and the org's mentions become ⟪o⟫ (other watched orgs ⟪x⟫) before matching.
def _any(*alternatives: str) -> str:
    """One regex group of alternatives, each written as a regex; a space stands for any whitespace."""
    return "(?:" + "|".join(a.replace(" ", r"\s+") for a in alternatives) + ")"


_AND = r"\s*(?:,|and|or|&|/|aur|ya|y|o)\s*"
_O = rf"(?:the\s+)?(?:⟪x⟫{_AND})*[\"“”«»]?\s*⟪o⟫(?:'s)?(?:{_AND}⟪x⟫)*(?:\s+(?:app|apps|application|upi|wallet))?"
_F = r"(?P<f>[^.!?;:,()⟪⟫]{2,120})"  # a feature phrase, cleaned by _clean
# Lazy: ends where the next part of the pattern starts, and never runs over "but", "because", "although".
_FL = r"(?P<f>(?:(?!\b(?:but|because|although|though|however|pero|aunque|tapi)\b)[^.!?;:()⟪⟫]){2,100}?)"
_COMP = _any("better", "best", "faster", "quicker", "smoother", "easier", "simpler", "cheaper", "safer", "superior",
             "nicer", "cleaner", r"more (?!than)\w+", r"less (?!than)\w+", "mejor", r"lebih \w+")
_INTENS = "(?:" + _any("much", "far", "way", "a lot", "lot", "so", "very", "really", "even", "definitely", "by far",
                       "still", r"\d+\s*x", "mucho", "por mucho", "jauh") + r"\s+)*"
_REASON = _any("because(?: of)?", "coz", "cuz", "bcz", "bcoz", "bcos", "bcuz", "cause", "since", "as", "due to", "for",
               "kyunki", "kyuki", "kyonki", "porque", "ya que", "karena", "soalnya")
_ASKS = re.compile(r"\b" + _any(
    "please", "pls", "plz", "plzz", "kindly", r"why (?:is )?(?:there )?(?:no|not)",
    r"why (?:don'?t|do not|can'?t|cant|doesn'?t)",
    "when will", r"should (?:also )?(?:have|add|give|provide|introduce|bring|allow|get)", r"add (?:it|this|that|them)",
    "we need", "i need", "need this", "want this", r"you (?:guys )?(?:should|need to|must)",
    r"kab (?:tak )?(?:aayega|ayega|aaega|aega|milega|laoge|aaygea|ayga)", r"yaha(?:n)? (?:kab|bhi|kyu|kyun)",
    r"add (?:kar|karo|kijiye|kro|karen|kare|karna)", "chahiye", "dijiye", "do na",
    r"me gustar[ií]a", r"deber[ií]an", "agreguen", "agregar", r"ojal[aá]", "quisiera", r"podr[ií]an", "sugiero",
    "sugerencia", "falta", "faltan", r"estar[ií]a bien",
    "tolong", "mohon", "semoga", "harusnya", "sebaiknya", "tambahkan", "tambahin",
) + r"\b", re.IGNORECASE)
_FEATURE_CUE = CUES[1]  # review_type's feature-request cues ("would be great if", "i wish", "option to" …)


def _asks(text: str) -> bool:
    return bool(_ASKS.search(text) or _FEATURE_CUE.search(text))


# What a review asks for: the object of "please add …", "why is there no …", "agregar …".
# Lookaheads, so that asks may overlap ("que tuviera X y que exista Y").
_ASKED = [re.compile(r"\b(?=" + verbs + r"\s+" + _F + ")") for verbs in (
    _any("add", "adding", "bring(?: back)?", "introduce", "provide", "give(?: us)?", "include", "enable", "implement",
         "launch", "allow", "support", "make", "create", "start", "need", "want",
         r"wish (?:you had|there was|there were|it had)"),
    _any(r"why (?:is )?(?:there )?no", "there is no", r"there'?s no", r"no option (?:to|for)",
         r"(?:don'?t|do not|doesn'?t|does not) have", "lacks?", "missing",
         r"(?:would|will) be (?:nice|great|good|helpful|better) (?:if|to)", r"option (?:to|for)"),
    _any("agregar", "agreguen", "pongan", "poner", "tener", "tuviera", "tuvieran", "hubiera", "exista", "existiera",
         "permitan", "incluyan", "implementen", "sacaran", "otorgara", "dieran", "agregaran", "den"),
    _any("tambahkan", "tambahin", "tambah", "adakan", "kasih"),
)]


@dataclass(frozen=True)
class _Cue:
    """A cue phrase around the org; `_judge` decides what a match means."""

    name: str
    kind: str  # request | comparison | either (request when the review asks for something)
    pattern: re.Pattern[str]


def _cue(name: str, kind: str, pattern: str) -> _Cue:
    return _Cue(name, kind, re.compile(pattern))


_HAS_VERBS = _any("also", "already", "even", "now", "still", "just") + r"?\s*" + _any(
    "has", "have", "had", "got", "gives?", "gave", "offers?", "offered", "provides?", "provided", "shows?", "supports?",
    "comes with", "includes?", "is having", "are having", "has got", "allows?", "lets?", "introduced", "added",
    "launched", "brought", "is offering", "is giving", "is providing",
    r"(?:s[ií]\s+|ya\s+)?" + _any("tiene", "tienen", "te da", "ofrece", "ofrecen", "permite", "permiten", "cuenta con"),
    r"(?:udah\s+|sudah\s+|juga\s+)?" + _any("ada", "punya", "kasih", "ngasih", "menyediakan"),
)
_LIKE = r"(?:just\s+|exactly\s+)?" + _any(
    "like", "same as", "similar to", "as in", "as on", "as with",
    r"as (?:we|you|i|u) can (?:\w+\s+){0,3}?(?:in|on|with|through|via)",
    "as it is in", r"as (?:is )?available in", "available in", "the way", r"as (?:\w+\s+)?does",
    "como", "igual que", "tal como", r"as[ií] como", "seperti", "kayak", "kaya", "kek", r"sama (?:kayak|seperti)",
)
_AT = r"(?:" + _any("in", "on", "with", "the", "lo hace", "lo tiene", "en", "con", "la de", "el de", "con la que cuenta",
                    "di") + r"\s+)?"
_ADD = _any("add", "adding", "bring", "introduce", "provide", r"give(?: us)?", "include", "enable", "implement", "launch",
            "start", "allow", "support", "make", "create", "need", "want", "have", "get",
            "agregar", "agreguen", "pongan", "permitan", "tuviera", "tuvieran", "exista", "otorgara", "tambahkan", "tambahin")
_SWITCH = _any(
    r"switch(?:ed|ing)?", r"mov(?:e|ed|ing)", r"shift(?:ed|ing)?", r"migrat(?:e|ed|ing)", r"port(?:ed|ing)?",
    r"chang(?:e|ed|ing)",
    r"return(?:ed|ing)?", r"jump(?:ed|ing)?", r"go(?:ing)? (?:back )?(?:for|with)", r"went (?:back )?(?:for|with)",
    r"better (?:to )?(?:go (?:for|with)|use|using|install|try)", r"rather (?:use|go with|install)",
    r"instead (?:go for|use|install|try|download)", "prefer(?:s|red|ring)?", r"recommend(?:ing)? (?:you )?(?:to use )?",
    r"cambi[eé]", r"cambiar(?:me)?", r"me cambi[eé]", r"pas[eé]", "pasarme", r"me pas[eé]", "me voy", "me fui", "irme",
    r"migr[eé]", r"regres[eé]", r"mejor (?:utilic[eé]|uso|usa|usen)", "recomiendo mejor", "te recomiendo mejor",
    "prefiero",
    "pindah", "ganti", "beralih", "balik", "mending", "mendingan",
)
_ACHHA = _any("acha", "accha", "achha", "achaa", "achchha", "badhiya", "badiya")
_NOT_CLOSE = (_any("don'?t", "doesn'?t", "do not", "does not", "can'?t", "cannot") + r"\s+(?:even\s+)?"
              + _any("come close", "compare"))
_CUES = (
    _cue("has", "either", rf"{_O}\s+{_HAS_VERBS}\s+{_F}"),
    _cue("add_like", "request", rf"{_ADD}\s+{_FL}\s+{_LIKE}\s+{_AT}{_O}"),
    _cue("like", "either", rf"(?P<pre>[\w']+)?\s*{_LIKE}\s+{_AT}{_O}"),
    _cue("hinglish_hai", "either",
         rf"{_O}\s+" + _any("me", "mein", "mai", "main", "mei", "mien", "pe", "par", "pr")
         + r"\s+(?:bhi\s+|to\s+|toh\s+)?(?P<f>[^.!?;:,()⟪⟫]{2,60}?)\s+"
         + _any("hai", "he", "h", "hain", "hota hai", "milta", "milti", "milega", "mil raha", "aata", "aati",
                "available", "deta", "deti", "dete") + r"\b"),
    _cue("jaisa", "either", rf"{_O}\s+(?:ke\s+|ki\s+)?"
         + _any("jaisa", "jaisi", "jaise", "jesa", "jesi", "jese", "jaise hi", "ki tarah", "type") + rf"(?:\s+{_F})?"),
    _cue("switch", "comparison",
         _SWITCH + r"(?:\s+" + _any("it", "back", "over", "myself", "my account", "bank", "banks", "app", "apps",
                                    "completely", "permanently", "now", "all", "everything") + r")*"
         + r"\s+(?:" + _any("to", "for", "with", "towards", "from", "a", "por", "con", "ke", "pake", "pakai") + r"\s+)?"
         + rf"(?:better\s+(?:upi\s+)?apps?\s+like\s+)?{_O}"),
    _cue("better_o", "comparison",
         rf"(?:^|,)\s*(?:much\s+)?(?:better|best)\s+(?:is\s+|(?:to\s+)?use\s+)?{_O}\s*(?:,|$)"),
    _cue("switch_instead", "comparison",
         rf"{_any('use', 'using', 'install', 'try', 'download', 'go for', 'go with')}\s+{_O}\s+instead"
         rf"|\bgo\s+(?:and\s+)?try\s+(?:out\s+)?{_O}"),
    _cue("is_better", "comparison",
         rf"{_O}(?:\s*,)?(?:\s+(?:it|they|which|that)(?:'s|'re)?)?\s+(?:"
         + _any("is", "are", "was", "were", "has been", "seems?", "feels?", "works?", "worked", "runs?", "looks?",
                "performs?", "es", "era", "jauh") + rf"\s+)?{_INTENS}(?P<adj>{_COMP})\b"
         + r"(?:\s+(?:\w+\s+)?" + _any("for", "in", "at", "in terms of", "when it comes to", "with", "on", "para", "en")
         + rf"\s+{_F})?"),
    _cue("used_comp", "comparison",
         rf"(?:used|using|tried|had|was\s+using)\s+{_O}[^.!?⟪⟫]{{0,40}}?,\s*(?:[\w']+\s+){{1,3}}?"
         rf"(?:is|are|feels|works|runs)\s+{_INTENS}(?P<adj>{_COMP})\b"),
    _cue("hinglish_better", "comparison",
         rf"{_O}\s+(?:(?:bahut|bhut|bohot|jyada|zyada|kaafi|kafi)\s+)?(?:{_ACHHA}|best|mast|sahi)"
         r"\s+(?:hai|he|h|chal\s+raha|chalta)\b"),
    _cue("than", "comparison",
         r"(?P<pre>(?:[\w'-]+\s+){0,6}?)(?:than|then|que|dari|daripada|drpd)\s+(?:"
         + _any("that of", "the one in", "in", "on", "with", r"la (?:app |aplicaci[oó]n )?de", "el de", "la de",
                "los de", "las de", "en", "con") + rf"\s+)?{_O}"),
    _cue("se_better", "comparison",
         rf"{_O}\s+(?:se|sey|say|sai)\s+(?:(?:bhi|to|toh|kahi|kahin|bahut|bhut|jyada|zyada)\s+)*"
         rf"(?:{_ACHHA}|better|best|behtar|fast|tez|sasta)"
         rf"|(?:tumse|tumhse|isse|isase|is\s+app\s+se|aapse|apse)\s+(?:\w+\s+){{0,2}}?(?:{_ACHHA}|better|behtar)"
         rf"\s+(?:to\s+|toh\s+)?(?:hai\s+)?{_O}"),
    _cue("unlike", "comparison",
         r"(?P<pre>(?:[\w'-]+\s+){0,5}?)"
         + _any("unlike", "compared (?:to|with)", "comparing (?:to|with)", "in comparison (?:to|with)", r"vs\.?",
                "versus", "as good as", "instead of", "a diferencia de", "comparad[oa] con", r"en comparaci[oó]n con",
                "dibanding(?:kan)?", "ketimbang") + rf"\s+{_O}"),
    _cue("no_match_for", "comparison",
         _any(_NOT_CLOSE + r"\s+(?:to|with)", "no match for", "nothing (?:compared|close) to", "no se compara[n]? con",
              "ni (?:a los talones )?le llega a") + rf"\s+{_O}"
         + rf"|{_O}[^.!?⟪⟫]{{0,40}}?\b(?:{_NOT_CLOSE}|no\s+se\s+compara[n]?)\b"),
)
_COMPARATIVE_WORD = re.compile(
    r"\b(?:better|worse|best|worst|more|less|rather|faster|quicker|slower|smoother|easier|simpler|cheaper|costlier"
    r"|safer|nicer|cleaner|lighter|heavier|higher|lower|bigger|smaller|greater|stronger|clearer|friendlier|superior|inferior"
    r"|mejor|peor|m[aá]s|menos|lebih)\b")
# A statement that "X has F" is a comparison only in a text that compares or contrasts.
_CONTRAST = re.compile(
    r"\b(?:than|better|unlike|compared|instead|whereas|switch\w*|moving|shift\w*"
    r"|why\s+(?:don'?t|doesn'?t|can'?t|isn'?t|not|no)|(?:you|u|they)\s+(?:guys\s+)?(?:don'?t|do\s+not|dont|doesn'?t)"
    r"|not\s+here|here|this\s+app|yaha|yahan|idhar|tumhare|aapke"
    r"|even\s+⟪o⟫|⟪o⟫\s+(?:also|too|bhi)|mejor|en\s+cambio|aqu[ií]|ac[aá]|lebih|mending|disini|di\s+sini)\b")
# Nouns that head an enumeration ("apps like gpay, phonepe"): the comparison is elsewhere in the sentence.
_ENUM_HEADS = frozenset("""
apps banks bancos cuentas wallets fintechs platforms others otras otros ones services aplicaciones e-wallets
ewallets anything something everything sites networks keyboards browsers
""".split())

# Words trimmed from both ends of a feature phrase, and where a phrase is cut.
_TRIM = frozenset("""
a an the this that these those some any more much many very so too really also even only just such same its it it's
their there your our my his her they them we us you u i me is are was were be been being has have had having
to for of in on at with by from and or like as here now then ever already still well all every other another
feature features option options facility facilities function functions functionality thing things something stuff
no not nothing new better best good great nice real proper awesome amazing excellent cool useful helpful simple
easy fast quick smooth far way lot lots little most least poor bad worst stupid
please pls plz kindly add adding bring include enable introduce perhaps maybe probably can could would should must will
""".split()) | frozenset("""
ki ka ke ye yeh woh wo ek koi bhi hi hai he h hain to toh ab sab do de dena karo kijiye chahiye aayega ayega yaha
yahan wala wali wale bahut bhut m me mein na naa nahi
""".split()) | frozenset("""
el la los las lo un una unos unas de del que en con y o para por su sus mas más muy se es hay mejor peor aún aun
mil veces opción opcion función funcion alguna alguno algún algun algunas algunos otra otro otras otros cada toda
todo me te le nos gusta gustaría gustaria quiero quisiera sería seria tener tiene tienen tuviera exista existiera
permitan poner
""".split()) | frozenset("yang di dan atau ada juga sudah udah udh dah sdh bisa ini itu lg lagi aja".split())
_CUT = frozenset("""
please pls plz kindly but because coz cuz bcz bcoz since so which who whereas while than then when if why unlike
like as instead compared yaha yahan kab kyunki kyuki porque pero que y aunque como karena tapi even also where
what how
""".split())
_TRAIL_ONLY = frozenset("app apps application here there ones one side ever".split())
_LEAD_ONLY = frozenset("""
get got gives give gave show shows offers offer provides provide supports support lets let allows allow handles
handle
""".split())
_NEGATIVE = frozenset("""
problem problems issue issues bug bugs error errors glitch down fail failed failing failure fraud scam been same
nothing never stopped blocked crash crashes crashed hang hangs nahi nhi nai na not no
""".split())
_NOT_A_FEATURE = re.compile(r"^(?:been|become|made|done|gone|shown|given|taken|seen|no|not|nothing|never|to|\w+ed)$")
_ADJ_FEATURE = {
    "faster": "speed", "fast": "speed", "quicker": "speed", "quick": "speed", "rapid": "speed", "rápida": "speed",
    "rápido": "speed", "smoother": "smoothness", "smooth": "smoothness", "easier": "ease of use", "easy": "ease of use",
    "fácil": "ease of use", "intuitiva": "ease of use", "intuitivo": "ease of use", "simpler": "simplicity",
    "simple": "simplicity", "sencilla": "simplicity", "cheaper": "lower charges", "cheap": "lower charges",
    "barata": "lower charges", "safer": "security", "safe": "security", "secure": "security", "segura": "security",
    "reliable": "reliability", "stable": "reliability", "transparent": "transparency", "friendly": "ease of use",
    "user-friendly": "ease of use", "convenient": "convenience", "cepat": "speed", "mudah": "ease of use",
    "murah": "lower charges", "congested": "congestion",
}
_FILLER = frozenset("""
more much very far way lot so really less not too quite bit little even definitely mucho muy más mas lebih mejor
peor aún aun helpful useful good great nice
""".split())


def _words_of(phrase: str) -> list[str]:
    phrase = re.sub(r"\b(?:features?|options?|things|facilit(?:y|ies)|services?)\s+(?:like|such\s+as|including)\s+", " ",
                    phrase)
    phrase = re.sub(r"⟪[ox]⟫", " , ", phrase.lower().replace("’", "'"))
    words = [w.strip("'\"-*") for w in re.findall(r"[^\W_]+(?:['\-][^\W_]+)*", phrase)]
    return [w for w in words if w]


def _clean(phrase: str | None, backward: bool = False, any_clause: bool = False) -> str | None:
    """A readable feature phrase of at most 8 words, or None when nothing is left.

    Forward (the text after a cue) keeps the first clause; backward (the text before "like X")
    the last one; `any_clause` moves on to the next clause when one is all stopwords. Ends are
    trimmed of stopwords; an adjective alone becomes its noun ("faster" -> "speed").
    """
    if not phrase:
        return None
    segments: list[list[str]] = [[]]
    for w in _words_of(phrase):
        if w in _CUT:
            segments.append([])
        else:
            segments[-1].append(w)
    if backward:
        segments.reverse()
    mapped = None
    for segment in segments:
        if backward:
            segment = segment[-8:]
        if all(w in _ADJ_FEATURE or w in _FILLER or w in _TRIM or w in _TRAIL_ONLY for w in segment):
            mapped = mapped or next((_ADJ_FEATURE[w] for w in segment if w in _ADJ_FEATURE), None)
            if any_clause or (not segment and mapped is None):
                continue
            return mapped
        while segment and (segment[0] in _TRIM or segment[0] in _LEAD_ONLY):
            segment.pop(0)
        segment = segment[:8]
        while segment and (segment[-1] in _TRIM or segment[-1] in _TRAIL_ONLY):
            segment.pop()
        return " ".join(segment)
    return mapped


def _asked_for(text: str, last: bool = False) -> str | None:
    """The object of an ask in `text` ("please add split bill" -> "split bill"): the first, or the `last`."""
    found = []
    for pattern in _ASKED:
        for m in pattern.finditer(text):
            phrase = _clean(m.group("f"), any_clause=True)
            if phrase and not (set(phrase.split()) & _NEGATIVE):
                found.append((m.start(), phrase))
    if not found:
        return None
    return (max if last else min)(found)[1]


def _after(sentence: str, end: int) -> str | None:
    """The reason or clause right after the org: "… PhonePe because it shows refund status" -> "refund status"."""
    rest = sentence[end:]
    aspect = _any("in terms of", "when it comes to", r"for (?!years|months|days|long|me\b)", "at", "en cuanto a", "para")
    m = re.match(rf"\s*{aspect}\s+{_F}", rest)
    if m:
        return _clean(m.group("f"))
    m = re.match(rf"\s*,?\s*(?:[\w']+\s+){{0,3}}?{_REASON}\s+{_F}", rest)
    if m:
        subject = r"^(?:it|they|it's|its|there|he|she|this|that|the\s+app|esta|ahi|ahí)\s+"
        reason = re.sub(subject + r"(?:is\s+|are\s+|has\s+|have\s+|seems\s+|feels\s+|looks\s+)?", "", m.group("f").strip())
        return _clean(reason)
    m = re.match(r"\s*(?:its|it's|their|the|su|sus)\s+(?P<f>(?:[\w'-]+\s+){1,3}?)(?:is|are|was|were|es|son)\s", rest)
    if m:  # "gpay its interface is simple"
        return _clean(m.group("f"))
    m = re.match(r"[^,]*,\s*(?P<f>[^.!?;:,()⟪⟫]{2,120})", rest)
    if m:  # "better than gpay, cashback is real here": the clause's subject, only when it is a statement
        parts = re.split(r"\s(?:is|are|was|were|feels|works|es|son)\s", m.group("f"), maxsplit=1)
        if len(parts) == 2 or re.search(r"\bhere\s*$|\b(?:more|better|m[aá]s|mejor)\b", m.group("f")):
            return _clean(parts[0])
    return None


def _before(sentence: str, start: int) -> str | None:
    """The complaint before a switch: "cash back is not available, better to go with gpay" -> "cash back"."""
    connectors = _any("so", "and", "hence", "therefore", "thus", "that'?s why", "isliye", "i'?m", "i am", "i'?ll", "i will",
                      "gonna", "going to", "will", "now", "better", "i", "to", "just", "have", "had", "finally", "then")
    text = re.sub(rf"(?:\b{connectors}\s*)+$", "", sentence[:start].strip(" ,"))
    complaint = _any("is", "are", "was", "were", "isn'?t", "aren'?t", "not", "nahi", "nhi", "keeps?", "kept", "never",
                     "no longer")
    parts = re.split(rf"\s{complaint}\s", text, maxsplit=1)
    return _clean(parts[0].split(",")[-1]) if len(parts) == 2 else None


def _compared(pre: str) -> str | None:
    """The feature in the words before "than X": "gives better cashback" -> "cashback"; "is more secure" -> "security";
    "handles debit orders better" -> "debit orders"."""
    words = [(w, i) for i, w in enumerate(_words_of(pre))]
    at = max((i for w, i in words if _COMPARATIVE_WORD.fullmatch(w)), default=None)
    if at is None:
        return None
    after = [w for w, i in words[at + 1:]]
    linking = ("a", "to", "than", "que", "with", "con", "de", "like", "como")
    cut = next((k for k, w in enumerate(after) if w in linking), None)
    if cut is None and after and after[-1] in _ENUM_HEADS:
        return None  # "go for better upi apps like gpay": better apps, no feature named
    after = after[:cut]  # "más intuitiva a bancos como BBVA" -> "intuitiva"
    if after:
        return _clean(" ".join(after)) or _clean(words[at][0])
    # the clause that does it better
    head = re.split(r",|\b(?:that|which|who|is|are|was|were|it's|its|and|es|son|que|y)\b", pre)[-1]
    clause = _words_of(head)[:-1][-6:]
    if set(clause) & {"i", "we", "you", "me", "my", "u", "yo", "tu"}:
        clause = []  # "never thought i would like a keyboard better": about the writer, not a feature
    return _clean(" ".join(clause)) or _clean(words[at][0])


@dataclass(frozen=True)
class Detection:
    """A review's request for, or comparison with, a watched org, with the feature in question."""

    org: str
    kind: str  # request | comparison
    feature: str
    matched: str

    @property
    def key(self) -> str:
        return feature_key(self.feature)


_PRE_LIKE_VERB = frozenset("""
i we they you u really dont don't do not never didn't doesn't also still people users who all everyone ppl would
will seems seem looks look sounds sound feels feel
""".split())


def _judge(cue: _Cue, m: re.Match[str], context: str, text: str) -> tuple[str, str | None] | None:
    """(kind, feature) for one cue match, or None when the match is not a request or comparison after all.

    `m` matched one sentence (`m.string`); `context` is that sentence, with the previous one when the
    cue opens it; `text` is the whole masked review.
    """
    sentence, slot, pre = m.string, m.groupdict().get("f"), m.groupdict().get("pre") or ""
    if cue.name in ("has", "hinglish_hai"):
        first = _words_of(slot or "")[:1]
        if not first or _NOT_A_FEATURE.match(first[0]):
            return None  # "gpay has been down", "capitec has improved"
        phrase = _clean(slot)
        if phrase and set(phrase.split()) & _NEGATIVE:
            return None  # "paytm has the same problem", "paytm me refund nahi aata"
        if not phrase or phrase in ("it", "this", "that"):
            phrase = _asked_for(context) or _asked_for(text)
        if _asks(text):
            return "request", phrase
        return ("comparison", phrase) if phrase and _CONTRAST.search(text) else None
    if cue.name == "add_like" and _words_of(slot or "x")[-1:] and _words_of(slot or "x")[-1] in _ENUM_HEADS:
        return None  # "share them to anything like instagram"
    if cue.name in ("add_like", "jaisa"):
        asked = _asked_for(sentence[m.start(): m.end("f")], last=True) if slot else None
        phrase = asked or _clean(slot) or _asked_for(context) or _asked_for(text)
        return ("request" if cue.kind == "request" or _asks(text) else "comparison"), phrase
    if cue.name == "like":
        if pre in _PRE_LIKE_VERB:
            return None  # "i like gpay"
        if pre in _ENUM_HEADS:  # "easier than banks like BBVA", "other apps like gpay": the feature is elsewhere
            if not (_COMPARATIVE_WORD.search(sentence) or re.search(r"\b(?:other|otr[oa]s?)\b", sentence)):
                return None  # "share them to anything like instagram": an example, not a comparison
            return "comparison", _after(sentence, m.end()) or _compared(sentence[: m.start()] + " " + pre)
        before = sentence[: m.start()] + " " + pre
        if _asks(context):
            # "add the function, like Twitter, to switch between accounts"
            purpose = re.match(rf"\s*,?\s*to\s+{_F}", sentence[m.end():])
            return "request", (_asked_for(before, last=True) or (_clean(purpose.group("f")) if purpose else None)
                               or _asked_for(context) or _clean(before, backward=True))
        if not before.strip():
            return None  # "Like absa and standard bank?": "for example", not a comparison
        return "comparison", _clean(before, backward=True)
    if cue.name == "than":
        if re.search(r"\bother\s*$", pre):
            return None  # "other than gpay" means "except"
        if not re.search(r"\bthan\s", m.group()) and not _COMPARATIVE_WORD.search(pre):
            return None  # "then gpay", "que Klar" compare only after a comparative ("better then gpay")
        return "comparison", _after(sentence, m.end()) or _compared(sentence[: m.end("pre")])
    if cue.name == "unlike":
        return "comparison", _after(sentence, m.end()) or _clean(pre, backward=True)
    if cue.name in ("is_better", "used_comp"):
        return "comparison", _clean(slot) or _clean(m.group("adj")) or _after(sentence, m.end())
    if cue.name == "no_match_for":  # "their charges don't come close to capitec" -> "charges"
        inner = re.split(r"\b(?:don'?t|doesn'?t|do\s+not|does\s+not|can'?t|cannot|no\s+se)\b", m.group())[0]
        subject = (inner if inner.strip() else sentence[: m.start()]).split(",")[-1]
        phrase = _clean(subject, backward=True) if "⟪" not in subject else None
        return "comparison", phrase or _after(sentence, m.end())
    if cue.name in ("hinglish_better", "se_better", "better_o"):
        return "comparison", _after(sentence, m.end())
    return "comparison", _after(sentence, m.end()) or _before(sentence, m.start())  # switching


def _detect_one(masked: str, review_type: str) -> tuple[str, str | None] | None:
    """(kind, feature) for the org whose mentions in `masked` are ⟪o⟫, or None when it is a mere mention."""
    sentences = [s for s in re.split(r"(?<!\d)[.!?…]+(?!\d)|[!?]+|[\n\r;|]+", masked) if s.strip()]
    found: list[tuple[str, str | None]] = []
    for i, sentence in enumerate(sentences):
        if "⟪o⟫" not in sentence:
            continue
        for cue in _CUES:
            for m in cue.pattern.finditer(sentence):
                # "add this feature … ….as we can set in gpay": a sentence opening with the cue continues the last one
                context = sentence if sentence[: m.start()].strip() or i == 0 else sentences[i - 1] + " " + sentence
                verdict = _judge(cue, m, context, masked)
                if verdict:
                    found.append(verdict)
                    break
    if not found and review_type == "feature_request":
        # The flow's classifier says "asks for a feature": a request when the asking sentence places the
        # feature at the org ("the bill reminder in gpay") rather than sending money to it.
        for sentence in sentences:
            at = sentence.find("⟪o⟫")
            if at > 0 and _asks(sentence) and re.search(r"\b(?:in|on|at|of)\s+(?:the\s+)?⟪o⟫", sentence):
                phrase = _asked_for(sentence[:at])
                if phrase:
                    found.append(("request", phrase))
    # A request beats a comparison; a named feature beats none; then the first in the text.
    return min(found, key=lambda f: (f[0] != "request", f[1] in (None, OVERALL)), default=None)


def detect(text: str, text_en: str, review_type: str, watch: WatchList) -> list[Detection]:
    """One `Detection` per watched org that the review asks to copy or compares against, in text order.

    `text_en` (a translation; "" or equal to `text` when there is none) is read as well, so an
    English cue in a translation counts. `review_type` is one signal: a `feature_request` whose
    sentence with the mention asks for something is a request even without a comparison cue.
    """
    out: dict[str, Detection] = {}
    for body in dict.fromkeys(t for t in (text, text_en) if t and t.strip()):
        mentions = find_mentions(body, watch)
        for org in dict.fromkeys(k.org for k in mentions):
            masked = _mask(body, mentions, org)
            found = _detect_one(masked, review_type)
            if found is None:
                continue
            kind, feature = found
            matched = next(k.matched for k in mentions if k.org == org)
            d = Detection(org=org, kind=kind, feature=feature or OVERALL, matched=matched)
            old = out.get(org)
            if old is None or (old.kind != "request" and d.kind == "request") or (
                    old.feature == OVERALL and d.feature != OVERALL):
                out[org] = d
    return list(out.values())


def _mask(text: str, mentions: list[Mention], org: str) -> str:
    parts, last = [], 0
    for k in mentions:
        parts.append(text[last:k.start])
        parts.append(" ⟪o⟫ " if k.org == org else " ⟪x⟫ ")
        last = k.end
    parts.append(text[last:])
    return re.sub(r"[ \t]+", " ", "".join(parts).lower().replace("’", "'"))


# ── feature keys ─────────────────────────────────────────────────────────────────────────────────
_KEY_STOP = _TRIM | {"app", "apps", "application", "please"}
_KEY_JOIN = {"cash back": "cashback", "e wallet": "ewallet", "e-wallet": "ewallet", "user interface": "ui",
             "scan and pay": "scan pay", "ad free": "ad-free", "ads free": "ad-free", "no ads": "ad-free"}


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
        if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
    return word


def feature_key(phrase: str) -> str:
    """A grouping key: content words, plurals and -ing stemmed, sorted ("scratch cards" -> "card scratch")."""
    text = phrase.lower()
    for a, b in _KEY_JOIN.items():
        text = text.replace(a, b)
    words = {_stem(w) for w in re.findall(r"[^\W_]+(?:-[^\W_]+)*", text) if w not in _KEY_STOP}
    return " ".join(sorted(words)) or "overall"
