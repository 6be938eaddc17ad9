"""Feature phrases: what a competitor mention is about ("scratch cards", "postpaid eligibility"),
whether that is a concrete feature, and one grouping key for it.

The text given here is lower-cased with the org's mentions written ⟪o⟫ (others ⟪x⟫, the app
itself ⟪a⟫). A phrase is at most 8 words, trimmed of stopwords at both ends; `concrete` says
whether it names something a team could build: a phrase is concrete when one of its words is
`specific` (not a generic product word, an everyday payments object, praise, a quality noun, a
quantifier or a name), so "hide payment history" is and "overall experience", "smooth
transactions", "beautiful UI" are not. `feature_key` is the one string key of a phrase, shared by
the flow and the dashboard (plurals and -ing stemmed, stopwords dropped, words sorted). Pure.

    >>> feature_key("Scratch cards")
    'card scratch'
    >>> concrete("hide payment history"), concrete("overall experience")
    (True, False)
"""

from __future__ import annotations

import re

from flows.operators.competitors.lexicon import dictionary, edits1
from flows.operators.review_type import CUES


def any_of(*alternatives: str) -> str:
    """One regex group of alternatives, each written as a regex; a space stands for any whitespace."""
    return "(?:" + "|".join(a.replace(" ", r"\s+") for a in alternatives) + ")"


F = r"(?P<f>[^.!?;:,()⟪⟫]{2,120})"  # a feature phrase, cleaned by `clean`
REASON = any_of("because(?: of)?", "coz", "cuz", "bcz", "bcoz", "bcos", "bcuz", "cause", "since", "as", "due to",
                "for", "kyunki", "kyuki", "kyonki", "porque", "ya que", "karena", "soalnya")
ASKS = re.compile(r"\b" + any_of(
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


def asks(text: str) -> bool:
    return bool(ASKS.search(text) or _FEATURE_CUE.search(text))


# What a review asks for: the object of "please add …", "why is there no …", "agregar …".
# Lookaheads, so that asks may overlap ("que tuviera X y que exista Y").
_ASKED = [re.compile(r"\b(?=" + verbs + r"\s+" + F + ")") for verbs in (
    any_of("add", "adding", "bring(?: back)?", "introduce", "provide", "give(?: us)?", "include", "enable", "implement",
         "launch", "allow", "support", "make", "create", "start", "need", "want",
         r"wish (?:you had|there was|there were|it had)"),
    any_of(r"why (?:is )?(?:there )?no", "there is no", r"there'?s no", r"no option (?:to|for)",
         r"(?:don'?t|do not|doesn'?t|does not) have", "lacks?", "missing",
         r"(?:would|will) be (?:nice|great|good|helpful|better) (?:if|to)", r"option (?:to|for)"),
    any_of("agregar", "agreguen", "pongan", "poner", "tener", "tuviera", "tuvieran", "hubiera", "exista", "existiera",
         "permitan", "incluyan", "implementen", "sacaran", "otorgara", "dieran", "agregaran", "den"),
    any_of("tambahkan", "tambahin", "tambah", "adakan", "kasih"),
)]

COMPARATIVE_WORD = re.compile(
    r"\b(?:better|worse|best|worst|more|less|rather|faster|quicker|slower|smoother|easier|simpler|cheaper|costlier"
    r"|safer|nicer|cleaner|lighter|heavier|higher|lower|bigger|smaller|greater|stronger|clearer|friendlier|superior|inferior"
    r"|mejor|peor|m[aá]s|menos|lebih)\b")
# A statement that "X has F" is a comparison only in a text that compares or contrasts.
# Nouns that head an enumeration ("apps like gpay, phonepe"): the comparison is elsewhere in the sentence.
ENUM_HEADS = frozenset("""
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
yahan wala wali wale bahut bhut m me mein na naa nahi isme ismein usme usmein iss
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
NEGATIVE = frozenset("""
problem problems issue issues bug bugs error errors glitch down fail failed failing failure fraud scam been same
nothing never stopped blocked crash crashes crashed hang hangs nahi nhi nai na not no
""".split())
NOT_A_FEATURE = re.compile(r"^(?:been|become|made|done|gone|shown|given|taken|seen|no|not|nothing|never|to|\w+ed)$")
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


def words_of(phrase: str) -> list[str]:
    phrase = re.sub(r"\b(?:features?|options?|things|facilit(?:y|ies)|services?)\s+(?:like|such\s+as|including)\s+", " ",
                    phrase)
    phrase = re.sub(r"⟪[ox]⟫", " , ", phrase.lower().replace("’", "'"))
    words = [w.strip("'\"-*") for w in re.findall(r"[^\W_]+(?:['\-][^\W_]+)*", phrase)]
    return [w for w in words if w]


def clean(phrase: str | None, backward: bool = False, any_clause: bool = False) -> str | None:
    """A readable feature phrase of at most 8 words, or None when nothing is left.

    Forward (the text after a cue) keeps the first clause; backward (the text before "like X")
    the last one; `any_clause` moves on to the next clause when one is all stopwords. Ends are
    trimmed of stopwords; an adjective alone becomes its noun ("faster" -> "speed").
    """
    if not phrase:
        return None
    segments: list[list[str]] = [[]]
    for w in words_of(phrase):
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
        while segment and (segment[0] in _TRIM or segment[0] in _LEAD_ONLY) and not (
                segment[0] in _DESIGN and segment[1:2] and segment[1] in _ASPECT):  # keep "simple interface"
            segment.pop(0)
        segment = segment[:8]
        while segment and (segment[-1] in _TRIM or segment[-1] in _TRAIL_ONLY):
            segment.pop()
        return " ".join(segment)
    return mapped


def asked_for(text: str, last: bool = False) -> str | None:
    """The object of an ask in `text` ("please add split bill" -> "split bill"): the first, or the `last`."""
    found = []
    for pattern in _ASKED:
        for m in pattern.finditer(text):
            phrase = clean(m.group("f"), any_clause=True)
            if phrase and not (set(phrase.split()) & NEGATIVE):
                found.append((m.start(), phrase))
    if not found:
        return None
    return (max if last else min)(found)[1]


def after(sentence: str, end: int) -> str | None:
    """The reason or clause right after the org: "… PhonePe because it shows refund status" -> "refund status"."""
    rest = sentence[end:]
    aspect = any_of("in terms of", "when it comes to", r"for (?!years|months|days|long|me\b)", "at", "en cuanto a", "para")
    m = re.match(rf"\s*{aspect}\s+{F}", rest)
    if m:
        return clean(m.group("f"))
    m = re.match(rf"\s*,?\s*(?:[\w']+\s+){{0,3}}?{REASON}\s+{F}", rest)
    if m:
        subject = r"^(?:it|they|it's|its|there|he|she|this|that|the\s+app|esta|ahi|ahí)\s+"
        reason = re.sub(subject + r"(?:is\s+|are\s+|has\s+|have\s+|seems\s+|feels\s+|looks\s+)?", "", m.group("f").strip())
        return clean(reason)
    m = re.match(r"\s*(?:its|it's|their|the|su|sus)\s+(?P<f>(?:[\w'-]+\s+){1,3}?)(?:is|are|was|were|es|son)\s", rest)
    if m:  # "gpay its interface is simple"
        return clean(m.group("f"))
    m = re.match(r"[^,]*,\s*(?P<f>[^.!?;:,()⟪⟫]{2,120})", rest)
    if m:  # "better than gpay, cashback is real here": the clause's subject, only when it is a statement
        parts = re.split(r"\s(?:is|are|was|were|feels|works|es|son)\s", m.group("f"), maxsplit=1)
        if len(parts) == 2 or re.search(r"\bhere\s*$|\b(?:more|better|m[aá]s|mejor)\b", m.group("f")):
            return clean(parts[0])
    return None


def before(sentence: str, start: int) -> str | None:
    """The complaint before a switch: "cash back is not available, better to go with gpay" -> "cash back"."""
    connectors = any_of("so", "and", "hence", "therefore", "thus", "that'?s why", "isliye", "i'?m", "i am", "i'?ll", "i will",
                      "gonna", "going to", "will", "now", "better", "i", "to", "just", "have", "had", "finally", "then")
    text = re.sub(rf"(?:\b{connectors}\s*)+$", "", sentence[:start].strip(" ,"))
    complaint = any_of("is", "are", "was", "were", "isn'?t", "aren'?t", "not", "nahi", "nhi", "keeps?", "kept", "never",
                     "no longer")
    parts = re.split(rf"\s{complaint}\s", text, maxsplit=1)
    return clean(parts[0].split(",")[-1]) if len(parts) == 2 else None


def compared(pre: str) -> str | None:
    """The feature in the words before "than X": "gives better cashback" -> "cashback"; "is more secure" -> "security";
    "handles debit orders better" -> "debit orders"."""
    words = [(w, i) for i, w in enumerate(words_of(pre))]
    at = max((i for w, i in words if COMPARATIVE_WORD.fullmatch(w)), default=None)
    if at is None:
        return None
    after = [w for w, i in words[at + 1:]]
    linking = ("a", "to", "than", "que", "with", "con", "de", "like", "como")
    cut = next((k for k, w in enumerate(after) if w in linking), None)
    if cut is None and after and after[-1] in ENUM_HEADS:
        return None  # "go for better upi apps like gpay": better apps, no feature named
    after = after[:cut]  # "más intuitiva a bancos como BBVA" -> "intuitiva"
    if after:
        return clean(" ".join(after)) or clean(words[at][0])
    # the clause that does it better
    head = re.split(r",|\b(?:that|which|who|is|are|was|were|it's|its|and|es|son|que|y)\b", pre)[-1]
    clause = words_of(head)[:-1][-6:]
    if set(clause) & {"i", "we", "you", "me", "my", "u", "yo", "tu"}:
        clause = []  # "never thought i would like a keyboard better": about the writer, not a feature
    return clean(" ".join(clause)) or clean(words[at][0])



# ── concreteness ─────────────────────────────────────────────────────────────────────────────────
# A phrase is a concrete feature when at least one of its words is *specific*: a word that names a capability,
# a product or a behaviour. These classes of words are not specific, in any number:
# - generic product words: the app, the service, the experience, a feature, support, people, time …;
_GENERIC = frozenset("""
experience experiences overall service services app apps application applications everything anything thing things
stuff performance quality work works working use usage using user users one ones it bank banks banking account
accounts platform feature features option options facility facilities function functions functionality system way
level side speed smoothness simplicity ease reliability transparency convenience congestion security friendliness
customer customers support help people money time times day days month months year years problem problems issue
issues review rating star stars process version update game games browser keyboard client tool
say says said know think feel like love want need get got make made do does did go goes went come came try tried
servicio servicios experiencia aplicación aplicacion aplicaciones app cuenta cuentas banco bancos todo cosa cosas
calidad atención atencion plataforma proceso
aplikasi layanan semua
""".split())
# - the everyday objects of a payments or banking app, which every such app has: "transactions", "payments",
#   "the card" are no feature until a specific word says which ("hide payments", "virtual card", "bill payments");
_DOMAIN = frozenset("""
transaction transactions payment payments transfer transfers card cards deposit deposits
transacción transaccion transacciones pago pagos transferencia transferencias tarjeta tarjetas depósito deposito
depósitos depositos movimiento movimientos
transaksi pembayaran kartu
""".split())
# - how an app looks, judged as a whole ("interface", "UI", "design"): a feature only with a design property
#   a team can build ("simple interface", "dark theme"), never with praise alone ("beautiful UI");
_ASPECT = frozenset("ui ux interface interfaces design layout look looks theme appearance interfaz diseño tampilan"
                    .split())
_DESIGN = frozenset("""
simple simpler simplest simplified minimal minimalist clean cleaner uncluttered clutter-free dark light lite
customisable customizable sencilla sencillo simples
""".split())
# - words that judge rather than name (sentiment and quality adjectives, their intensifiers), comparatives;
_EVALUATIVE = frozenset("""
good great best better nice excellent awesome amazing fantastic wonderful superb super brilliant perfect lovely
beautiful attractive pretty elegant cool fine ok okay decent fabulous outstanding impressive incredible
bad worse worst poor terrible horrible awful pathetic useless ugly lame rubbish nonsense disappointing annoying
fast faster quick quicker rapid slow slower smooth smoother easy easier simple hard difficult reliable unreliable
secure safe stable friendly user-friendly convenient helpful useful intuitive seamless hassle-free transparent
clear proper real genuine trusted trustworthy efficient responsive professional serious solid accurate inaccurate
effective ineffective
acha accha achha achi acchi badhiya mast sahi behtar bekar bakwas ghatiya faltu kharab bura buri
bueno buena buenos buenas buen gran mal excelente genial malo mala pésimo pesimo pésima pesima rápido rapido rápida rapida lento
lenta fácil facil intuitiva intuitivo segura seguro estable cómoda comoda
bagus mantap jelek buruk cepat lambat mudah aman
""".split())
# - quantifiers and pronouns: "both accounts", "something", "it";
_QUANTIFIER = frozenset("""
both either neither each every several whole entire lots kind sort type types various any some all
someone somebody anyone anybody everyone everybody
""".split())
_PERSONAL = frozenset("i me my mine we our us you your u he she his her they them their im i'm i've ive".split())
# - abstract quality nouns made from adjectives ("seriousness", "stability", "seriedad", "rapidez", "kecepatan");
_QUALITY_NOUN = re.compile(r"^(?:\w{4,}(?:ness|ity|idad|dad|ez|eza|tud)|ke\w{3,}an)$")
# - a verb that carries its object as a pronoun ("activarla", "usarlo"): the thing is named elsewhere.
_CLITIC_VERB = re.compile(r"^\w{2,}(?:ar|er|ir|ár|ér|ír)(?:la|lo|las|los|le|les|me|te|nos)$")
# A phrase with a verb of its own ("is not speed", "used to lag", "has definitely filled in") is a clause someone
# said, not the name of a feature.
_CLAUSE_WORD = re.compile(r"^(?:is|are|was|were|am|be|been|being|isn't|aren't|wasn't|weren't|has|have|had|hasn't"
                          r"|haven't|does|did|doesn't|didn't|don't|can|can't|cannot|could|couldn't|would|wouldn't"
                          r"|will|won't|should|shouldn't|must|not|never|used|went|came|es|son|era|fue|está|están"
                          r"|estaba|ha|han|había|nunca|tha|thi|nahi|nhi|adalah|tidak|bukan)$")
# A phrase of one word shaped like an adjective ("colorful", "intuitiva") is a quality, not a feature.
_ADJECTIVE_SHAPE = re.compile(r"^\w{3,}(?:ful|ous|ive|able|ible|osa|oso|iva|ivo|ble)$")


def _near(word: str, known: frozenset[str]) -> str | None:
    """`word`'s one-edit neighbour in `known` when `word` is no dictionary word of five letters or more:
    "amooth" -> "smooth"."""
    if len(word) < 5 or not word.isalpha():
        return None
    if word in dictionary():
        return None
    hits = sorted(edits1(word) & known)
    return hits[0] if hits else None


_NOT_SPECIFIC = _TRIM | _FILLER | _GENERIC | _DOMAIN | _ASPECT | _EVALUATIVE | _QUANTIFIER | frozenset(_ADJ_FEATURE)


def specific(word: str) -> bool:
    """True when `word` can name a feature by itself: not a stopword, generic, domain, aspect, evaluative,
    quantifier or comparative word, no quality noun, no verb with a pronoun object, no misspelling of those."""
    if len(word) <= 1 or word.isdigit() or word in _NOT_SPECIFIC or COMPARATIVE_WORD.fullmatch(word):
        return False
    if _QUALITY_NOUN.match(word) or _CLITIC_VERB.match(word):
        return False
    return _near(word, _NOT_SPECIFIC) is None


def concrete(phrase: str | None, names: frozenset[str] = frozenset()) -> bool:
    """True when `phrase` names a concrete feature: at most 8 words, about no person, and either a specific word
    ("cashback on bill payments", "fingerprint login", "hide payments") or a design property of how the app looks
    ("simple interface"). Generic, domain, evaluative and quality words alone are no feature ("overall experience",
    "smooth transactions", "beautiful UI", "seriedad", "both accounts"), nor a lone adjective ("colorful"), nor the
    words of `names` (the competitors' and the app's own names)."""
    if not phrase:
        return False
    words = words_of(phrase)
    if not words or len(words) > 8 or set(words) & _PERSONAL:
        return False
    words = [w for w in words if w not in names]
    if any(_CLAUSE_WORD.match(w) for w in words):
        return False
    if len(words) == 1 and _ADJECTIVE_SHAPE.match(words[0]):
        return False
    if any(specific(w) for w in words):
        return True
    return bool(set(words) & _DESIGN and set(words) & _ASPECT)


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
