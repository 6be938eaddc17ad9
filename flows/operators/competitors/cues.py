"""Cue phrases around a competitor mention, each with its own judge of the mention's direction.

The text a cue reads is one sentence, lower-cased, with the judged org's mentions written ⟪o⟫, other
competitors ⟪x⟫ and the app itself ⟪a⟫. A `Cue` is a pattern and a `judge`: the judge gets the
`Hit` (the match, its sentence, the sentence before when the cue opens one, the whole masked text)
and returns a `Verdict` (direction, feature phrase or None) or None when the match means nothing.

Directions, from the app's side:
- `competitor_ahead`: the competitor has or does something better, the user asks to copy it, or tells
  others to go there ("gpay has scratch cards, please add", "slower than paytm", "not better than gpay",
  "paytm me ye feature hai, yaha kab aayega", "isse acha to gpay hai", "better to go with gpay",
  "gpay use karo");
- `switching_away`: the writer leaving, or threatening to leave, for the competitor ("I'm switching to
  gpay", "so I use Google Pay instead", "gpay pe shift kar raha hu", "me cambié a Klar"); `advised`
  tells the writer's move from advice, and `leaves_app` finds the writer leaving the app itself, which
  turns a gap in the same text into a switch;
- `own_ahead`: a competitive win ("better than phonepe", "phonepe se acha hai", "unlike gpay it
  shows the refund status", "ni a los talones le llega");
- `switching_to`: arriving from the competitor ("switched from paytm to this app", "left Nedbank");
- `neutral`: a mention with no judgement (any mention no cue judges).

Negation is read where it binds: "not better than gpay" turns a win into a gap; "I will never
switch to gpay" is a win, not a switch. A comparison between two other apps ("gpay is better
than paytm" about PhonePe, for Paytm) is neutral for the one it does not favour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flows.operators.competitors.features import (
    COMPARATIVE_WORD, ENUM_HEADS, NEGATIVE, NOT_A_FEATURE, F, after, any_of, asked_for, asks, before, clean, compared,
    words_of,
)

COMPETITOR_AHEAD = "competitor_ahead"
SWITCHING_AWAY = "switching_away"
OWN_AHEAD = "own_ahead"
SWITCHING_TO = "switching_to"
NEUTRAL = "neutral"
DIRECTIONS = (COMPETITOR_AHEAD, SWITCHING_AWAY, OWN_AHEAD, SWITCHING_TO, NEUTRAL)
REQUESTS = frozenset({COMPETITOR_AHEAD, SWITCHING_AWAY})  # the directions that are feature requests
WINS = frozenset({OWN_AHEAD, SWITCHING_TO})
_FLIP = {COMPETITOR_AHEAD: OWN_AHEAD, OWN_AHEAD: COMPETITOR_AHEAD}


@dataclass(frozen=True)
class Verdict:
    direction: str
    feature: str | None = None


@dataclass(frozen=True)
class Hit:
    """One cue match: `m` matched `sentence`; `context` is the sentence, with the one before when the cue
    opens it; `text` is the whole masked review; `rating` the stars, when known."""

    m: re.Match[str]
    sentence: str
    context: str
    text: str
    rating: int | None = None

    def group(self, name: str) -> str:
        return (self.m.groupdict().get(name) or "").strip()

    @property
    def pre(self) -> str:
        """The sentence before the match."""
        return self.sentence[: self.m.start()]

    @property
    def post(self) -> str:
        """The sentence after the match."""
        return self.sentence[self.m.end():]


@dataclass(frozen=True)
class Cue:
    """A cue phrase and the judge that reads its match."""

    name: str
    pattern: re.Pattern[str]
    judge: Callable[[Hit], Verdict | None]


# ── words ────────────────────────────────────────────────────────────────────────────────────────
_AND = r"\s*(?:,|and|or|&|/|aur|ya|y|o|dan|atau)\s*"
O = rf"(?:the\s+)?(?:⟪x⟫{_AND})*[\"“”«»]?\s*⟪o⟫(?:'s)?(?:{_AND}⟪x⟫)*(?:\s+(?:app|apps|application|upi|wallet|bank))?"
# The app itself: its name, or how a review of it points at it.
OWN = any_of("⟪a⟫(?: app)?", "this (?:app|application|one|bank|platform|wallet)", "your (?:app|bank|service|platform)",
             "you guys", "you", "u", "it", "here", "esta (?:app|aplicaci[oó]n|cuenta)", "este (?:banco|app)", "este",
             "isse", "is app", "tumse", "aapse", "apse", "iss?e? app", "aplikasi ini", "ini")
_NEG = any_of("not", "no", "never", "isn'?t", "aren'?t", "wasn'?t", "doesn'?t", "don'?t", "didn'?t", "won'?t",
              "wouldn'?t", "can'?t", "cannot", "nahi", "nahin", "nhi", "nai", "mat", "ni", "nunca", "tidak", "gak",
              "nggak", "ga", "bukan", "dont", "isnt", "wont", "cant")
_NEG_RE = re.compile(rf"\b{_NEG}\b")
_ACHHA = any_of("acha", "accha", "achha", "achaa", "achchha", "acchi", "achhi", "achi", "badhiya", "badiya", "mast",
                "sahi", "behtar", "better", "best")
_BURA = any_of("bekar", "bakwas", "ghatiya", "faltu", "kharab", "bura", "buri", "worse", "worst", "slow")
_POSITIVE_COMP = re.compile(r"\b" + any_of(
    "better", "best", "faster", "quicker", "smoother", "easier", "simpler", "cheaper", "safer", "superior", "nicer",
    "cleaner", "friendlier", "clearer", "stronger", "more reliable", "more secure", "more transparent",
    "more (?:user[- ])?friendly", "more convenient", "more helpful", "more useful", "more stable", "more intuitive",
    "more professional", "more efficient", "more affordable", "more responsive", "more trustworthy", "very helpful",
    "more rewarding", "more cashback", "more offers", "more features",
    "more (?:simple|easy|fast|smooth|secure|safe|reliable|good)",  # informal comparatives: "more simple" "less charges?", "lower charges?", "lower fees?",
    "less fees?", "less (?:expensive|complicated|congested)", "good", "mejor(?:es)?", "superior(?:es)?",
    r"m[aá]s (?:f[aá]cil|r[aá]pid[oa]|segur[oa]|intuitiv[oa]|barat[oa]|completa?o?|profesional|serio|seria|estable)",
    r"menos (?:comisiones|cobros|caro|cara)", "gusta m[aá]s", "lebih (?:baik|bagus|cepat|mudah|murah|aman)", "behtar",
) + r"\b")
_NEGATIVE_COMP = re.compile(r"\b" + any_of(
    "worse", "worst", "slower", "costlier", "inferior", "poorer", "weaker", "harder", "more expensive",
    "more complicated", "more congested", "more charges?", "more fees?", "more ads", "more problems", "more issues",
    "more (?:difficult|confusing|buggy)", "less (?:reliable|secure|friendly|user[- ]friendly|helpful|useful|stable)",
    "higher (?:charges?|fees?)", "charges? more", "charging more", "takes? longer", "peor(?:es)?",
    r"m[aá]s (?:caro|cara|lent[oa]|complicad[oa]|tardad[oa])", "lebih (?:buruk|jelek|lambat|mahal|ribet)",
) + r"\b")
_POSITIVE = frozenset("""
good great best better excellent awesome amazing nice love fast quick easy simple smooth secure safe reliable helpful
useful convenient perfect superb fantastic instant immediate transparent friendly wonderful
acha accha achha achi acchi badhiya mast sahi behtar bढ़िया
excelente bueno buena mejor rápido rápida rapido rapida fácil facil seguro segura perfecto genial increíble
bagus mantap cepat mudah aman
""".split())
_NEGATIVE_WORDS = frozenset("""
bad worse worst poor terrible horrible pathetic useless slow fail failed fails failing fraud scam waste issue issues
problem problems error errors bug bugs crash crashes hang hangs stuck charges charge fees expensive nonsense rubbish
disappointed disappointing annoying difficult confusing complicated stupid nasty rubbish hate sucks ridiculous
thieves robbed lame
bekar bakwas ghatiya faltu kharab bura
malo mala peor pésimo pesimo pésima pesima lento lenta error fallas falla robo ladrones
buruk jelek lambat ribet mahal kecewa
""".split())


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:'[^\W_]+)?", text)


def polarity(text: str) -> int:
    """+1, -1 or 0: the sign of `text`'s evaluative words, a negation just before a word flipping it."""
    score = 0
    words = _words(text)
    for i, w in enumerate(words):
        sign = 1 if w in _POSITIVE else -1 if w in _NEGATIVE_WORDS else 0
        if sign and any(_NEG_RE.fullmatch(v) for v in words[max(0, i - 3): i]):
            sign = -sign
        score += sign
    return (score > 0) - (score < 0)


def _comparison_sign(phrase: str) -> int:
    """+1 when the last comparative in `phrase` favours its subject ("better", "más fácil"), -1 when it
    disfavours it ("worse", "more expensive"), read through a negation before it ("not better" -> -1)."""
    found = [(m.start(), 1) for m in _POSITIVE_COMP.finditer(phrase)]
    found += [(m.start(), -1) for m in _NEGATIVE_COMP.finditer(phrase)]
    if not found:
        return 0
    at, sign = max(found)
    if _NEG_RE.search(" ".join(phrase[:at].split()[-3:])):
        sign = -sign
    return sign


def _negated_before(pre: str, words: int = 3) -> bool:
    return bool(_NEG_RE.search(" ".join(_words(pre)[-words:])))


def _own_in(text: str) -> bool:
    return bool(re.search(rf"(?<!\w){OWN}(?!\w)", text))


# What a user lacks here, said before a switch: "not eligible for postpaid, so I use gpay instead".
_LACK = [
    (re.compile(r"\b(?:not|never|no longer)\s+eligible\s+(?:for|to)\s+(?P<f>[^,.;!?⟪⟫]{2,60})"), "{} eligibility"),
    (re.compile(r"\b(?:there\s+is\s+|there'?s\s+)?no\s+(?:option\s+(?:to|for)\s+)?(?P<f>[^,.;!?⟪⟫]{2,60}?)\s+"
                r"(?:available|option|facility|feature|here|in\s+(?:this|the)\s+app)\b"), "{}"),
    (re.compile(r"(?P<f>[^,.;!?⟪⟫]{2,60}?)\s+(?:is|are)\s+not\s+(?:available|supported|there|possible|working)"), "{}"),
    (re.compile(r"(?P<f>[^,.;!?⟪⟫]{2,40}?)\s+(?:nahi|nhi|nahin|nai)\s+(?:milta|milti|milega|mil raha|hai|he|h|aata|aati"
                r"|deta|deti|dikhta|dikhata)\b"), "{}"),
    (re.compile(r"\b(?:doesn'?t|does\s+not|don'?t|do\s+not)\s+(?:have|support|offer|show|allow)\s+"
                r"(?P<f>[^,.;!?⟪⟫]{2,60})"), "{}"),
    (re.compile(r"\b(?:unable|not\s+able|can'?t|cannot)\s+(?:to\s+)?(?P<f>(?:add|link|pay|use|see|check|hide|set|get)"
                r"\s+[^,.;!?⟪⟫]{2,50})"), "{}"),
]


def lacking(clause: str) -> str | None:
    """The feature a clause says the app lacks, or None."""
    for pattern, form in _LACK:
        for m in pattern.finditer(clause):
            phrase = clean(m.group("f"), backward=pattern in (_LACK[1][0], _LACK[2][0], _LACK[3][0]))
            if phrase and not (set(phrase.split()) & (NEGATIVE - {"no", "not"})):
                return form.format(phrase)
    return None


def _reason(hit: Hit) -> str | None:
    """The feature behind a switch or a preference: the reason after it, else what the text says is lacking."""
    asked = asked_for(hit.text) if asks(hit.text) else None
    return after(hit.sentence, hit.m.end()) or lacking(hit.pre) or lacking(hit.context) or asked


# ── who acts: the writer, or the reader being advised ───────────────────────────────────────────────
# `switching_away` is the writer leaving, or threatening or being forced to leave; telling others to go to the
# competitor ("better to go with gpay", "instead go for gpay", "gpay use karo", "usen Klar") recommends it:
# `competitor_ahead` (docs/annotation/competitor-guideline.md).
_SELF = re.compile(
    r"\b(?:i|i'?m|im|i'?ll|i'?d|i'?ve|ive|we|we'?re|we'?ll|we'?ve|myself|let me|mai|main|maine|hum|humne|hamne"
    r"|yo|saya|aku|gua|gue|gw)\b"
    r"|\b(?:will|shall|gonna|going to|about to|have to|had to|need to|want to|wanna|rather|forced to"
    r"|ended up|may|might|thinking of|planning to)\b"
    r"|\b(?:utilicé|usé|uso|me quedo|me sigo quedando|cambi[eé]|pasé|me pas[eé]|me fui|me voy|abrí)(?!\w)")
_ADVISE = re.compile(
    r"\b(?:better|best|instead|just|please|pls|plz|kindly|should|must|guys|everyone|everybody|people|friends|folks"
    r"|sab log|aap log|sabhi|recommend\w*|mejor|mending|sebaiknya|lebih baik)\b")
# Verbs whose bare form tells someone what to use: "go for gpay", "install gpay", "try gpay", "usen Klar".
_ADVICE_VERB = re.compile(
    r"\b(?:go (?:for|with)|use|install|download|try|get|choose|pick|opt for|join|open (?:an? )?(?:new )?account"
    r"|usa|usen|utiliza|utilicen|descarga|descarguen|prueba|prueben|abre|abran)\b")
_NARRATED = re.compile(r"^\W*(?:\w+ed|\w+ing|went|gone|left|came|got|chose|took|made)\b")
# Hinglish after the verb: "gpay use karo" / "shift ho jao" tell; "use karunga" / "shift kar raha hu" do.
_HI_TELL = re.compile(r"^\s*(?:kar\s*(?:lo|lijiye|le|o)|karo|kro|kijiye|kariye|karein|karen|kare|karna chahiye"
                      r"|ho jao|ho jaiye|ho jaye|jao|jaiye|kar sakte ho)\b")
# A clause ends at a comma or a connective of contrast or consequence; "and" joins verbs that share a subject
# ("I have to make time and go try X").
_VOCATIVE = re.compile(r"\W*(?:guys|everyone|everybody|friends|folks|people|all|bhai|bhaiyo|dosto|sab log|amigos|gente)\b")
_CLAUSE = re.compile(r"[,:]|\b(?:but|so|then|hence|therefore|isliye|lekin|pero|tapi|terus|trus)\b")


def advised(pre: str, lead: str | None, post: str = "") -> bool:
    """True when a move to the competitor is advice to others, not the writer's act: no first person or modal
    of the writer in its clause ("I'm", "we", "gonna", "would rather"), not narrated ("so used the time to open
    an account at X"), and either an advice word ("better to", "instead", "please", "guys") or a bare advice verb
    ("go for X", "install X"), or a Hinglish imperative after it ("X use karo")."""
    if _HI_TELL.match(post):
        return True
    if lead is None:  # Hinglish "X pe shift kar raha hu": only an imperative after the verb tells
        return False
    clause = _CLAUSE.split(pre)[-1] + " " + lead
    if _SELF.search(clause) or _NARRATED.match(clause):
        return False
    if re.match(r"\s*(?:kar\s+(?:raha|rahe|rahi|diya|liya|dunga|denge|chuka)|karunga|karenge|karungi|ho gaya|ho raha"
                r"|hu|hoon|jaunga|jayenge)\b", post):
        return False
    return bool(_ADVISE.search(clause) or _ADVICE_VERB.search(lead) or _VOCATIVE.match(post))


# ── leaving the app itself ───────────────────────────────────────────────────────────────────────
# "I am changing this bank", "I'm deleting this app", "phone pay us karna band karna hoga", "I used absa and
# Nedbank previously", "sudah hapus": the writer leaves (or has left) the app. A competitor the same text puts
# ahead is then where the writer goes: leaving wins over a comparison (the guideline's rule).
# The app itself as what is left: its name, "this app", "you", "my account"; never a bare "it" ("I removed it").
_OWN_OBJ = (r"(?:⟪a⟫(?: app)?|this (?:app|application|bank|wallet|platform|one)|your (?:app|bank|service|platform)"
            r"|you(?: guys)?|the app|my (?:account|accounts)|esta (?:app|aplicaci[oó]n|cuenta)|este banco"
            r"|la (?:app|cuenta)|mi cuenta)(?![\w'])")
_LEAVE_OWN = [re.compile(p) for p in (
    rf"\b(?:i'?m|i am|im|i'?ll|i will|i have|i'?ve|we'?re|we are|we'?ll|we will|gonna|going to|about to|will|am"
    rf"|have to|had to|want to|wanna|just|finally|already|i|we)\s+(?:\w+\s+){{0,2}}?"
    rf"(?:uninstall\w*|delet\w*|remov\w*|leav\w*|left|quit\w*|clos\w*|chang\w*|ditch\w*|dump\w*|stop\w*\s+using"
    rf"|cancel\w*|switch\w*\s+from|mov\w*\s+from|get\s+rid\s+of)\s+{_OWN_OBJ}",
    rf"(?:^|[,.!?;:]|\band)\s*(?:uninstall(?:ing|ed)|delet(?:ing|ed)|leaving|quitting|ditching|remov(?:ing|ed)"
    rf"|clos(?:ing|ed)|cancell?(?:ing|ed))\s+{_OWN_OBJ}",  # "uninstalling paytm, phonepe is much better"
    rf"\b(?:used|was using|i was with|we were with|used to (?:use|bank with|have))\s+(?:⟪x⟫\s*(?:,|and|&|or)\s*)*"
    rf"⟪a⟫\s+(?:previously|before|earlier|for (?:years|months|long))",
    r"(?:⟪a⟫(?: app)?|this app|ye app|yeh app|is app)\s+(?:(?:ko|us|use|ka|ab|to|toh|hi|bhi|karna)\s+){0,3}"
    r"(?:band\s+kar|uninstall|delete|hata|chhod|chod|chor)\w*",
    r"\b(?:isko|ise|is app ko)\s+(?:\w+\s+)?(?:uninstall|delete|hata|band kar|chhod|chod)\w*",
    r"\b(?:la\s+cancel[eé]|cancel[eé]\s+(?:mi|la)\s+(?:cuenta|tarjeta)|cerr[eé]\s+(?:mi\s+)?cuenta"
    r"|(?:dej[eé]\s+de\s+usar|me\s+(?:voy|salgo|sal[ií]|fui)\s+de|voy\s+a\s+(?:cancelar|cerrar|dejar))"
    r"\s+(?:⟪a⟫|esta\s+app|este\s+banco|la\s+app|(?:mi|la)\s+cuenta)|dej[eé]\s+de\s+usarla)(?!\w)",
    r"\b(?:sudah|udah|udh|dah|sdh|langsung|mau)\s+(?:\w+\s+)?(?:hapus|uninstall|uninstal|copot)"
    r"(?=\s+(?:aplikasi\w*|apk|app|akun\w*|aja|saja|selamanya|⟪a⟫)\b|\s*[,.!]|\s*$)",
)]
_REINSTALL = re.compile(r"\b(?:re-?install\w*|install\w* (?:it )?again|download\w* (?:it )?again|re-?download\w*)\b")


def leaves_app(text: str) -> bool:
    """True when the masked `text` says the writer leaves, or has left, the app itself: not under a negation
    ("I won't delete this app"), in a question ("how do I close my account"), as an order to others ("don't
    install this") nor to reinstall ("I uninstalled this app and reinstalled it")."""
    for pattern in _LEAVE_OWN:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 30): m.start()] + " " + m.group()
            if not _NEG_RE.search(" ".join(_words(before)[-6:])) and not re.search(
                    r"\b(?:how|unable|can'?t|cannot|couldn'?t|trying to|tried to)\b", before) and not (
                    _REINSTALL.search(text[m.end(): m.end() + 60])):  # "uninstalled this app and reinstalled it"
                return True
    return False


# ── judges ───────────────────────────────────────────────────────────────────────────────────────
def _judge_from_own_to_o(hit: Hit) -> Verdict | None:
    """"moved from this app to gpay": leaving the app."""
    return Verdict(SWITCHING_AWAY, _reason(hit))


def _judge_left_o(hit: Hit) -> Verdict | None:
    """"switched from paytm to this app", "I want to leave @Nedbank": arriving from the competitor, unless the
    user leaves it for another competitor ("moved from gpay to paytm")."""
    if re.match(r"\s*(?:to|for|a|ke)\s+(?:the\s+)?⟪x⟫", hit.post):
        return None
    return Verdict(SWITCHING_TO, after(hit.sentence, hit.m.end()))


def _judge_switch_to_o(hit: Hit) -> Verdict | None:
    """"switching to gpay", "better to go with gpay": leaving for it; "I will never switch to gpay": a win."""
    lead = hit.pre + next((v for k, v in hit.m.groupdict().items() if k.startswith("lead") and v), "")
    if re.search(r"\bfrom\s+⟪o⟫", hit.sentence):
        return None
    clause = _CLAUSE.split(lead)[-1]  # a negation binds within its clause: "no cashback here, switching to gpay"
    if (_negated_before(clause, 4) and not re.search(r"\b(?:why|if)\b", clause)) or re.match(
            r"\s*(?:nahi|nhi|nahin|mat)\b", hit.post):  # "I will never switch to gpay", "gpay pe shift nahi karunga"
        return Verdict(OWN_AHEAD, None)
    if re.search(r"\b(?:told|tell|asked|advised|ask)\s+(?:you|him|her|them|my)\b", lead):
        return Verdict(COMPETITOR_AHEAD, _reason(hit))  # advising someone else to go there
    groups = hit.m.groupdict()
    said = None if groups.get("lead3") is not None or groups.get("lead3b") is not None else next((v for k, v in groups.items() if k.startswith("lead") and v), "")
    if advised(hit.pre, said, hit.post):
        return Verdict(COMPETITOR_AHEAD, _reason(hit))  # "better to go with gpay", "instead go for gpay"
    return Verdict(SWITCHING_AWAY, _reason(hit))


def _judge_switch_to_own(hit: Hit) -> Verdict | None:
    """"switching to @FNBSA" in a text that names the competitor: arriving from it."""
    if "⟪o⟫" not in hit.text or _negated_before(hit.pre, 4):
        return None
    if re.search(r"\bfrom\s+(?:the\s+)?⟪x⟫", hit.sentence):
        return None  # arriving from another competitor
    return Verdict(SWITCHING_TO, after(hit.sentence, hit.m.end()))


def _judge_used_to(hit: Hit) -> Verdict | None:
    """"usaba albo pero perdía dinero, klar me paga", "I used to use gpay, now this": arriving from it."""
    rest = hit.text[hit.text.find(hit.m.group()) + len(hit.m.group()):]
    if re.match(r"[^.!?]{0,80}?\b(?:but|pero|now|ahora|tapi|sekarang|ab|lekin|until|hasta)\b", rest) or "⟪a⟫" in rest:
        return Verdict(SWITCHING_TO, None)
    return None


def _judge_recommend(hit: Hit) -> Verdict | None:
    """"prefer gpay", "I recommend gpay instead", "mending gopay": the competitor is better."""
    if _negated_before(hit.pre + hit.group("lead"), 3):
        return None
    if _own_in(hit.group("lead")) and not re.search(r"\bover\s+⟪o⟫", hit.m.group()):
        return None
    if re.search(r"\b(?:go try|try out|have to try)\b", hit.group("lead")):
        if advised(hit.pre, hit.group("lead")):
            return Verdict(COMPETITOR_AHEAD, _reason(hit))  # "go try Standard Bank": advice to others
        return Verdict(SWITCHING_AWAY, _reason(hit))  # "I have to make time and go try Standard Bank"
    return Verdict(COMPETITOR_AHEAD, _reason(hit))


def _judge_prefer_own_over(hit: Hit) -> Verdict | None:
    """"prefer this over gpay", "prefiero usar Fondeadora a cualquier otro banco": a win."""
    return Verdict(OWN_AHEAD, after(hit.sentence, hit.m.end()))


def _judge_has(hit: Hit) -> Verdict | None:
    """"gpay has scratch cards, please add" / "... and you don't": the competitor has a feature."""
    slot = hit.group("f")
    first = words_of(slot)[:1]
    if not first or NOT_A_FEATURE.match(first[0]):
        return None  # "gpay has been down", "capitec has improved"
    phrase = clean(slot)
    if phrase and set(phrase.split()) & NEGATIVE:
        return None  # "paytm has the same problem", "paytm me refund nahi aata"
    if polarity(slot) < 0:  # "absa and nedbank have the most stupid cash send ever"
        return Verdict(OWN_AHEAD, phrase) if _CONTRAST.search(hit.text) else None
    if _NEG_RE.search(hit.group("verb")):
        # "even gpay doesn't have this": a win only when said as one
        return Verdict(OWN_AHEAD, phrase) if re.search(r"\beven\s+⟪o⟫|⟪o⟫\s+(?:also|bhi)\b", hit.m.group()) else None
    if not phrase or phrase in ("it", "this", "that"):
        phrase = asked_for(hit.context) or asked_for(hit.text)
    if asks(hit.text) or _CONTRAST.search(hit.text):
        return Verdict(COMPETITOR_AHEAD, phrase)
    return None


def _judge_add_like(hit: Hit) -> Verdict | None:
    """"add split bill like gpay": a request to copy the competitor."""
    slot = hit.group("f")
    if words_of(slot or "x")[-1:] and words_of(slot or "x")[-1] in ENUM_HEADS:
        return None  # "share them to anything like instagram"
    asked = asked_for(hit.sentence[hit.m.start(): hit.m.end("f")], last=True) if slot else None
    return Verdict(COMPETITOR_AHEAD, asked or clean(slot) or asked_for(hit.context) or asked_for(hit.text))


_PRE_LIKE_VERB = frozenset("""
i we they you u really dont don't do not never didn't doesn't also still people users who all everyone ppl would
will seems seem looks look sounds sound feels feel
""".split())


def _judge_like(hit: Hit) -> Verdict | None:
    """"F like gpay": a gap when the text asks for it or says the app lacks it ("no cashback offers like
    MobiKwik", "not useful like google pay"); a win or gap by the comparative when an enumeration
    follows one ("easier than banks like BBVA"); otherwise an example, not a judgement."""
    pre = hit.group("pre").lower()
    before_like = hit.pre + " " + pre
    if pre in _PRE_LIKE_VERB:
        if re.match(r"\s*(?:more|better)\b", hit.post):
            return Verdict(COMPETITOR_AHEAD, after(hit.sentence, hit.m.end()))  # "i like gpay more"
        return None  # "i like gpay"
    if pre in ENUM_HEADS:
        if re.search(rf"(?:{_POSITIVE_COMP.pattern})\s+(?:(?!(?:a|than|que|to|then)\b)\w+\s+)?$", hit.pre):
            return Verdict(COMPETITOR_AHEAD, None)  # "go for better upi apps like gpay": the others are better
        sign = _comparison_sign(before_like)
        if sign:  # "more intuitive than banks like BBVA": the app is the subject
            return Verdict(OWN_AHEAD if sign > 0 else COMPETITOR_AHEAD, compared(before_like))
        if _NEG_RE.search(before_like) and re.search(r"\b(?:face|have|had|get|got|see)\b", before_like):
            return Verdict(COMPETITOR_AHEAD, lacking(hit.text))  # "I don't face this problem with apps like BHIM"
        return None
    if asks(hit.context):
        purpose = re.match(rf"\s*,?\s*to\s+{F}", hit.post)
        return Verdict(COMPETITOR_AHEAD, asked_for(before_like, last=True)
                       or (clean(purpose.group("f")) if purpose else None)
                       or asked_for(hit.context) or clean(before_like, backward=True))
    if _negated_before(before_like, 6) and before_like.strip():
        return Verdict(COMPETITOR_AHEAD, clean(re.sub(rf".*\b{_NEG}\b", "", before_like), backward=True))
    return None


def _judge_jaisa(hit: Hit) -> Verdict | None:
    """"gpay jaisa feature do", "gpay ki tarah simple banao": a request when it asks or says the app lacks it."""
    if asks(hit.context) or _NEG_RE.search(hit.sentence):
        return Verdict(COMPETITOR_AHEAD, clean(hit.group("f")) or asked_for(hit.context))
    return None


def _judge_than(hit: Hit) -> Verdict | None:
    """"better than gpay" (a win: the review's subject is the app), "slower than paytm" or "not better than
    gpay" (a gap); "gpay is better than paytm" is another app's win, neutral here."""
    pre = hit.group("pre")
    head = hit.pre + " " + pre
    if re.search(r"\bother\s*$", pre) or re.search(r"\b(?:rather|more|less)\s*$", pre) and not _comparison_sign(pre):
        return None  # "other than gpay" means "except"
    sign = _comparison_sign(head)
    if not sign:
        return None
    clause = re.split(r"[,]|\bbut\b|\bpero\b|\btapi\b", head)[-1]
    if "⟪x⟫" in clause and not _own_in(clause):
        return None  # two other apps compared
    if re.search(r"\b(?:a|an|another|any|other|some|which|una|otra|otro)\s+(?:\w+\s+)?(?:bank|app|wallet|banco)\b", clause):
        return None  # "a bank that handles debit orders better than Standard Bank": not the app
    if re.search(r"\b(?:if|whether|si)\b", clause):
        return None  # "you're deluded if you think X is more congested than Capitec": not asserted
    between = re.search(rf"{COMPARATIVE_WORD.pattern}\s+(?P<f>[\w' -]{{2,60}}?)\s*$", pre)
    feature = after(hit.sentence, hit.m.end()) or (clean(between.group("f")) if between else None)
    return Verdict(OWN_AHEAD if sign > 0 else COMPETITOR_AHEAD, feature)


def _contrasted(hit: Hit) -> bool:
    """The text sets the competitor against the app (a contrast word, a low rating, the writer leaving the app)."""
    return bool(_CONTRAST.search(hit.text) or (hit.rating is not None and hit.rating <= 2) or leaves_app(hit.text))


def _turned(hit: Hit) -> Verdict | None:
    """"phonepe is good but paytm is best": when a praise of the competitor turns ("but", "lekin", "pero") to
    the app, what is said of the app decides; None when it does not turn to the app."""
    turn = re.search(r"\b(?:but|lekin|par|pero|tapi|whereas|while)\b(?P<rest>[^.!?]*)", hit.post)
    if not turn or not _own_in(turn.group("rest")):
        return None
    sign = _comparison_sign(turn.group("rest")) or polarity(turn.group("rest"))
    return Verdict(OWN_AHEAD if sign > 0 else COMPETITOR_AHEAD, None) if sign else None


def _judge_o_is_comp(hit: Hit) -> Verdict | None:
    """"gpay is better", "gpay is far better than this app" (a gap), "gpay is worse" (a win); "gpay is good" is
    a compliment, read as `o_good` reads one."""
    sign = _comparison_sign(hit.m.group())
    if not sign:
        return None
    if re.match(r"\s*(?:than|then|que)\s+(?:the\s+)?⟪x⟫", hit.post):
        return None  # "gpay is better than paytm": not about this app
    turned = _turned(hit)
    if turned:
        return turned
    last = max(list(_POSITIVE_COMP.finditer(hit.m.group())) + list(_NEGATIVE_COMP.finditer(hit.m.group())),
               key=lambda m: m.start())
    if last.group() in ("good", "very helpful") and not _contrasted(hit):
        return None  # "gpay is good": a compliment to another app judges nothing here
    slot = hit.group("f")
    feature = clean(slot) if slot else after(hit.sentence, hit.m.end())
    return Verdict(COMPETITOR_AHEAD if sign > 0 else OWN_AHEAD, feature)


def _judge_o_good(hit: Hit) -> Verdict | None:
    """"gpay is good", "paytm bhut mast chal raha he": a gap only in a text that contrasts it with the app
    (or a low rating), since a plain compliment to another app judges nothing here."""
    if _NEG_RE.search(hit.group("adj")) or _negated_before(hit.m.group(), 2):
        return None
    if re.match(r"\s*(?:than|then|que)\b", hit.post):
        return None  # a comparison with another app: `o_is_comp` or `than` reads it
    turned = _turned(hit)
    if turned:
        return turned
    if not _contrasted(hit):
        return None
    return Verdict(COMPETITOR_AHEAD, after(hit.sentence, hit.m.end()) or clean(hit.group("f")))


def _judge_se(hit: Hit) -> Verdict | None:
    """Hinglish "gpay se acha hai" (better than gpay: a win), "gpay se bhi bekar" (a gap)."""
    good = bool(re.search(rf"\b{_ACHHA}\b", hit.group("adj")))
    sign = 1 if good else -1
    if _NEG_RE.search(hit.post[:20]):
        sign = -sign  # "gpay se acha nahi hai"
    return Verdict(OWN_AHEAD if sign > 0 else COMPETITOR_AHEAD, after(hit.sentence, hit.m.end()))


def _judge_own_se(hit: Hit) -> Verdict | None:
    """Hinglish "isse acha to gpay hai", "tumse achaa bharat pe hai": better than this app is the competitor."""
    return Verdict(COMPETITOR_AHEAD, after(hit.sentence, hit.m.end()))


def _judge_contrast(hit: Hit) -> Verdict | None:
    """"unlike gpay, it shows refund status" / "very poor service compared to Google pay": the polarity of what
    is said of the app decides; "compared to this app" with the competitor as subject reverses it."""
    word = hit.group("how")
    if word.startswith(("as good as", "igual")):
        return None
    if word.startswith(("instead of", "en lugar de", "en vez de")):
        if re.search(r"\b(?:use|using|used|choose|chose|install|installed|prefer|recommend|pay|paying)\b", hit.pre):
            return Verdict(OWN_AHEAD, after(hit.sentence, hit.m.end()))
        return None
    unlike = word.startswith(("unlike", "a diferencia", "dibanding", "ketimbang"))
    said = hit.post if unlike else hit.pre + " " + hit.group("pre")
    relative = re.match(r"\s*,?\s*(?:que|which|who|they|jo)\b([^,]*)(?:,|$)", hit.post) if unlike else None
    if relative:  # "a diferencia de Albo, que son unos ladrones, …": what is said of the competitor
        said = hit.post[relative.end():]
        if polarity(relative.group(1)):
            return Verdict(OWN_AHEAD if polarity(relative.group(1)) < 0 else COMPETITOR_AHEAD, None)
    sign = _comparison_sign(said) or polarity(said)
    if not sign and unlike and words_of(said):
        sign = -1 if _NEG_RE.search(said) else 1  # "unlike gpay it shows the refund status": said of the app
    if not sign:
        return None
    if unlike:  # "unlike gpay it shows the refund status" -> "refund status"
        what = re.sub(r"^\s*,?\s*(?:it|this app|⟪a⟫|they|here|you|esta app|aqu[ií])\s+(?:\w+\s+)?"
                      r"(?:shows?|has|have|gives?|offers?|lets? you|allows?|tiene|te da|muestra)\s+", "", said)
        feature = clean(what) if what != said else None
    else:
        feature = after(hit.sentence, hit.m.end()) or clean(hit.group("pre"), backward=True)
    return Verdict(OWN_AHEAD if sign > 0 else COMPETITOR_AHEAD, feature)


def _judge_o_vs_own(hit: Hit) -> Verdict | None:
    """"gpay is best compared to this app": the competitor is the subject."""
    sign = _comparison_sign(hit.pre) or polarity(hit.pre)
    if not sign:
        return None
    return Verdict(COMPETITOR_AHEAD if sign > 0 else OWN_AHEAD, clean(hit.pre.split("⟪o⟫")[-1]))


def _judge_no_match(hit: Hit) -> Verdict | None:
    """"doesn't come close to gpay" (a gap), "gpay can't compare" / "ni a los talones le llega" (a win)."""
    if hit.m.groupdict().get("side_o") is not None:
        return Verdict(OWN_AHEAD, None)
    subject = re.split(r"\b(?:don'?t|doesn'?t|do\s+not|does\s+not|can'?t|cannot|no\s+se)\b", hit.m.group())[0]
    subject = (subject if subject.strip() else hit.pre).split(",")[-1]
    phrase = clean(subject, backward=True) if "⟪" not in subject else None
    return Verdict(COMPETITOR_AHEAD, phrase or after(hit.sentence, hit.m.end()))


def _judge_better_o(hit: Hit) -> Verdict | None:
    """"..., better Amazon Pay, turant support", "mending gopay": the competitor is the better choice."""
    return Verdict(COMPETITOR_AHEAD, after(hit.sentence, hit.m.end()) or lacking(hit.context))


def _judge_forced_use(hit: Hit) -> Verdict | None:
    """"the app crashes, so I have to pay via gpay", "so I installed Gpay": using the competitor instead."""
    if _negated_before(hit.group("lead"), 3):
        return None
    return Verdict(SWITCHING_AWAY, lacking(hit.context) or lacking(hit.text) or before(hit.sentence, hit.m.start()))


# ── cues ─────────────────────────────────────────────────────────────────────────────────────────
_SWITCH = any_of(
    r"switch(?:ed|ing)?", r"mov(?:e|ed|ing)", r"shift(?:ed|ing)?", r"migrat(?:e|ed|ing)", r"port(?:ed|ing)?",
    r"chang(?:e|ed|ing)", r"transfer(?:red|ring)?(?: my account)?", r"convert(?:ed|ing)?",
    r"return(?:ed|ing)?", r"jump(?:ed|ing)?", r"go(?:ing)? back", r"went back", r"com(?:e|ing) back", "came back",
    r"cambi[eé]", r"cambiar(?:me)?", r"me cambi[eé]", r"pas[eé]", "pasarme", r"me pas[eé]", r"me voy", "me fui",
    "irme", r"migr[eé]", r"regres[eé]", "pindah", "ganti", "beralih", "balik",
)
_PARTICLES = r"(?:\s+" + any_of("it", "back", "over", "myself", "my account", "my accounts", "my money", "bank", "banks",
                                "app", "apps", "completely", "permanently", "now", "all", "everything", "soon") + r")*"
_TO = any_of("to", "for", "with", "towards", "a", "por", "con", "ke", "pake", "pakai", "on", "on to", "onto")
_LEAVE = any_of(
    r"(?:switch(?:ed|ing)?|mov(?:e|ed|ing)|shift(?:ed|ing)?) (?:my (?:account|accounts|money|salary|business|banking"
    r"|savings) )?(?:over )?from",
    r"transfer(?:red|ring)? my (?:account|accounts|banking|salary|business) from",  # not "transfer from X failed"
    r"migrat(?:e|ed|ing) from", r"port(?:ed|ing)? from", r"came (?:over )?from", r"coming from", "converted from",
    r"chang(?:ed|ing) from", r"left", "leaving", r"leave", r"quit(?:ting)?", r"ditch(?:ed|ing)?",
    r"uninstall(?:ed|ing)?", r"delet(?:ed|ing)", r"clos(?:e|ed|ing) (?:my )?(?:account|accounts)(?: (?:with|at|in))?",
    r"cancel(?:l?ed|l?ing) (?:my )?(?:account|card)?(?: (?:with|at|in))?", "stopped using", "gave up(?: on)?",
    r"cambi[eé] de", r"me pas[eé] de", r"dej[eé](?: de usar)?", r"cancel[eé](?: mi cuenta (?:de|en))?",
    "pindah dari", "ganti dari",
)
_USE = any_of("use", "using", "install", "try", "download", "go for", "go with", "open an account (?:with|at)",
              "bank with", "join", "joining", "joined")
_CONTRAST = re.compile(
    r"\b(?:than|better|unlike|compared|instead|whereas|switch\w*|moving|shift\w*|but|while"
    r"|why\s+(?:don'?t|doesn'?t|can'?t|isn'?t|not|no)|(?:you|u|they)\s+(?:guys\s+)?(?:don'?t|do\s+not|dont|doesn'?t)"
    r"|not\s+here|here|this\s+app|yaha|yahan|idhar|tumhare|aapke|isme|ismein|lekin|par\s+ye"
    r"|even\s+⟪o⟫|⟪o⟫\s+(?:also|too|bhi)|mejor|en\s+cambio|aqu[ií]|ac[aá]|pero|lebih|mending|disini|di\s+sini|tapi)\b")
_INTENS = "(?:" + any_of("much", "far", "way", "a lot", "lot", "so", "very", "really", "even", "definitely", "by far",
                         "still", r"\d+\s*x", "mucho", "por mucho", "jauh", "far more", "much more", "bahut", "bhut",
                         "bohot", "kaafi", "kafi", "jyada", "zyada") + r"\s+)*"
_HAS_VERBS = any_of("also", "already", "even", "now", "still", "just") + r"?\s*" + any_of(
    "has", "have", "had", "got", "gives?", "gave", "offers?", "offered", "provides?", "provided", "shows?", "supports?",
    "comes with", "includes?", "is having", "are having", "has got", "allows?", "lets?", "introduced", "added",
    "launched", "brought", "is offering", "is giving", "is providing",
    r"(?:doesn'?t|does not|don'?t|do not) (?:even )?(?:have|offer|give|provide|show|support)",
    r"(?:s[ií]\s+|ya\s+)?" + any_of("tiene", "tienen", "te da", "ofrece", "ofrecen", "permite", "permiten", "cuenta con"),
    r"(?:udah\s+|sudah\s+|juga\s+)?" + any_of("ada", "punya", "kasih", "ngasih", "menyediakan"),
)
_LIKE = r"(?:just\s+|exactly\s+)?" + any_of(
    "like", "same as", "similar to", "as in", "as on", "as with",
    r"as (?:we|you|i|u) can (?:\w+\s+){0,3}?(?:in|on|with|through|via)",
    "as it is in", r"as (?:is )?available in", "available in", "the way", r"as (?:\w+\s+)?does",
    "como", "igual que", "tal como", r"as[ií] como", "seperti", "kayak", "kaya", "kek", r"sama (?:kayak|seperti)",
)
_AT = r"(?:" + any_of("in", "on", "with", "the", "lo hace", "lo tiene", "en", "con", "la de", "el de",
                      "con la que cuenta", "di") + r"\s+)?"
_ADD = any_of("add", "adding", "bring", "introduce", "provide", r"give(?: us)?", "include", "enable", "implement",
              "launch", "start", "allow", "support", "make", "create", "need", "want", "have", "get",
              "agregar", "agreguen", "pongan", "permitan", "tuviera", "tuvieran", "exista", "otorgara", "tambahkan",
              "tambahin")
_FL = r"(?P<f>(?:(?!\b(?:but|because|although|though|however|pero|aunque|tapi)\b)[^.!?;:()⟪⟫]){2,100}?)"
_NOT_CLOSE = (any_of("don'?t", "doesn'?t", "do not", "does not", "can'?t", "cannot") + r"\s+(?:even\s+)?"
              + any_of("come close", "compare"))


def _cue(name: str, judge: Callable[[Hit], Verdict | None], pattern: str) -> Cue:
    return Cue(name, re.compile(pattern), judge)


_OWN_W = rf"(?<!\w){OWN}(?!\w)"
CUES: tuple[Cue, ...] = (
    # switching
    _cue("from_own_to_o", _judge_from_own_to_o,
         rf"(?P<lead>)(?:{_SWITCH}|{_LEAVE.replace('from', '')})\s+from\s+{_OWN_W}\s+(?:\w+\s+){{0,3}}?{_TO}\s+{O}"),
    _cue("left_o", _judge_left_o, rf"\b{_LEAVE}\s+{O}|{O}\s+(?:ko\s+)?(?:chhod|chod|chor)\w*"),
    _cue("switch_to_o", _judge_switch_to_o,
         rf"(?P<lead>\b(?:{_SWITCH}){_PARTICLES}\s+(?:{_TO}\s+)?(?:better\s+(?:upi\s+)?apps?\s+like\s+)?){O}"
         rf"|(?P<lead2>\b(?:better (?:to )?(?:go (?:for|with)|use|using|install|try)|rather (?:use|user|go with|install)"
         rf"|instead (?:go for|use|install|try|download)|(?:go|went) (?:for|with)(?: (?:better|other) (?:\w+ )?apps? like)?"
         rf"|(?:open|opened|opening) (?:an? )?(?:new )?account (?:with|at)|join(?:ing|ed)?|bank(?:ing)? with"
         rf"|mejor (?:utilic[eé]|uso|usa|usen|me quedo con)|me quedo con|me sigo quedando con)\s+){O}"
         rf"|(?P<lead3>){O}\s+(?:pe|par|me|mein|ko|use|pr)\s+(?:\w+\s+)?"
         rf"(?:shift|switch|chala|chale|jaunga|jayenge|aa gaya|use kar(?:unga|enge|ta|te|ti|na)|install)"
         rf"|(?P<lead3b>){O}\s+(?:hi\s+|ka\s+)?(?:use|install|download)(?=\s+(?:kar|kr|ki))"
         rf"|(?P<lead4>\b{_USE}\s+){O}\s+(?:instead|now|from now)"),
    _cue("switch_to_own", _judge_switch_to_own,
         rf"\b(?:{_SWITCH}){_PARTICLES}\s+{_TO}\s+(?:⟪a⟫|this (?:app|bank|one))"
         rf"|\b(?:join(?:ing|ed)?|open(?:ed|ing)? (?:an? )?account with)\s+(?:⟪a⟫|you(?: guys)?)\b"),
    _cue("prefer_own_over", _judge_prefer_own_over,
         rf"\bprefer\w*\s+(?:\w+\s+){{0,2}}?{_OWN_W}\s+(?:over|to)\s+{O}|\bprefiero\s+(?:usar\s+)?⟪a⟫\s+a\s+[^⟪]*{O}"),
    _cue("recommend", _judge_recommend,
         rf"(?P<lead>\b(?:prefer(?:s|red|ring)?|recommend(?:ing|ed)?(?: you)?(?: to use)?|te recomiendo(?: mejor)?"
         rf"|recomiendo(?: mejor)?|prefiero|mending(?:an)?|lebih baik(?: pakai)?|try out|go try)\s+(?:\w+\s+)?){O}"),
    _cue("forced_use", _judge_forced_use,
         rf"(?P<lead>\b(?:so|now|then|finally|had to|have to|forced to|ended up|that'?s why|isliye|ab)\s+(?:i\s+|that\s+i\s+)?"
         rf"(?:\w+\s+){{0,2}}?)(?:use|using|used|install(?:ed)?|download(?:ed)?|pay(?:ing)?\s+(?:via|through|with|by|from)"
         rf"|paid\s+(?:via|through|with|by|from)|(?:made|make|did|do) (?:the |my )?payment (?:via|through|with|by|from))"
         rf"\s+{O}"),
    _cue("used_to", _judge_used_to,
         rf"\b(?:used to (?:use|have|bank with)|was using|i was with|usaba|sol[ií]a usar|ten[ií]a cuenta (?:en|con)"
         rf"|dulu pakai|pehle)\s+{O}"),
    # comparison
    _cue("no_match", _judge_no_match,
         rf"(?P<side>)" + any_of(_NOT_CLOSE + r"\s+(?:to|with)", "no match for", "nothing (?:compared|close) to",
                                 "no se compara[n]? con", "ni (?:a los talones )?le llega a") + rf"\s+{O}"
         rf"|{O}(?P<side_o>)[^.!?⟪⟫]{{0,40}}?\b(?:{_NOT_CLOSE}|no\s+se\s+compara[n]?)\b"),
    _cue("o_vs_own", _judge_o_vs_own,
         rf"\b(?:compared (?:to|with)|as opposed to|vs\.?|versus|than)\s+(?:the\s+)?(?:⟪a⟫|this app|you|u)\b"),
    _cue("o_is_comp", _judge_o_is_comp,
         rf"{O}(?:\s*,)?(?:\s+(?:it|they|which|that)(?:'s|'re)?)?\s+(?:"
         + any_of("is", "are", "was", "were", "has been", "seems?", "feels?", "works?", "worked", "runs?", "looks?",
                  "performs?", "es", "era", "jauh", "is still", "is definitely", "is also")
         + rf"\s+)?(?:not\s+)?{_INTENS}(?:{_POSITIVE_COMP.pattern}|{_NEGATIVE_COMP.pattern})"
         + r"(?:\s+(?:\w+\s+)?" + any_of("for", "in", "at", "in terms of", "when it comes to", "with", "on", "para", "en")
         + rf"\s+{F})?"),
    _cue("se", _judge_se,
         rf"{O}\s+(?:se|sey|say|sai|sy)\s+(?:(?:bhi|to|toh|kahi|kahin|bahut|bhut|jyada|zyada|kai\s+guna)\s+)*"
         rf"(?P<adj>{_ACHHA}|{_BURA}|fast|tez|sasta)\b"),
    _cue("own_se", _judge_own_se,
         rf"\b(?:tumse|tumhse|isse|isase|is\s+app\s+se|aapse|apse|⟪a⟫\s+se)\s+(?:\w+\s+){{0,2}}?(?:{_ACHHA})"
         rf"\s+(?:to\s+|toh\s+)?(?:hai\s+|he\s+)?(?:\w+\s+){{0,2}}?{O}"),
    _cue("than", _judge_than,
         r"(?P<pre>(?:[\w'-]+\s+){0,8}?)(?:than|then|que|dari|daripada|drpd)\s+(?:"
         + any_of("that of", "the one in", "in", "on", "with", r"la (?:app |aplicaci[oó]n )?de", "el de", "la de",
                  "los de", "las de", "en", "con", "app de") + rf"\s+)?{O}"),
    _cue("contrast", _judge_contrast,
         r"(?P<pre>(?:[\w'-]+\s+){0,6}?)(?P<how>"
         + any_of("unlike", "compared (?:to|with)", "comparing (?:to|with)", "in comparison (?:to|with)",
                  "as opposed to", "as good as", "instead of", "a diferencia de", "comparad[oa] con",
                  r"en comparaci[oó]n con", "en lugar de", "en vez de", "dibanding(?:kan)?", "ketimbang") + rf")\s+{O}"),
    # requests and lacks
    _cue("has", _judge_has, rf"{O}\s+(?P<verb>{_HAS_VERBS})\s+{F}"),
    _cue("hinglish_has", _judge_has,
         rf"{O}\s+" + any_of("me", "mein", "mai", "main", "mei", "mien", "pe", "par", "pr")
         + r"\s+(?:bhi\s+|to\s+|toh\s+)?(?P<f>[^.!?;:,()⟪⟫]{2,60}?)\s+(?P<verb>"
         + any_of("hai", "he", "h", "hain", "hota hai", "milta", "milti", "milega", "mil raha", "aata", "aati",
                  "available", "deta", "deti", "dete") + r")\b"),
    _cue("add_like", _judge_add_like, rf"{_ADD}\s+{_FL}\s+{_LIKE}\s+{_AT}{O}"),
    _cue("like", _judge_like, rf"(?P<pre>[\w']+)?\s*{_LIKE}\s+{_AT}{O}"),
    _cue("jaisa", _judge_jaisa,
         rf"{O}\s+(?:ke\s+|ki\s+)?" + any_of("jaisa", "jaisi", "jaise", "jesa", "jesi", "jese", "jaise hi", "ki tarah",
                                             "type") + rf"(?:\s+{F})?"),
    _cue("o_good", _judge_o_good,
         rf"{O}(?:\s*,)?\s+(?:(?:is|are|was|works?|runs?|chal\s+raha|chalta|bhi)\s+)?(?:{_INTENS})?"
         rf"(?P<adj>(?:not\s+)?(?:good|great|excellent|awesome|perfect|smooth|fast|{_ACHHA}))"
         r"(?:\s+(?:for|in|at|me|mein|with)\s+" + F + r")?"),
    _cue("better_o", _judge_better_o,
         rf"(?:^|,|\.|…)\s*(?:much\s+|so\s+)?(?:better|best|mending(?:an)?|mejor)\s+(?:is\s+|(?:to\s+)?use\s+)?{O}"
         rf"\s*(?:,|$|…|\.)"),
)
