"""Language detection that holds up on short and code-mixed reviews.

polyglot's `Detector` (CLD2) is right on a sentence of ordinary prose and wrong
where app reviews live: two-word praise, Hindi written in Latin letters
(Hinglish, which CLD2 calls Malay or Malagasy) and emoji. So detection runs in
layers, cheapest and surest first:

1. script: letters of an Indic (or other non-Latin) script decide the language
   outright (Devanagari -> `hi`, Tamil -> `ta`, ...);
2. Hinglish: Latin text full of common romanized-Hindi words -> `hi-Latn`;
3. CLD2 through polyglot, with its confidence;
4. very short Latin text that CLD2 cannot place but whose words are English
   dictionary words -> `en` with a confidence that grows with the text's length.

Pure: no I/O; the English word list is loaded once per process.
"""

from __future__ import annotations

import copyreg
import logging
import re
import types
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from core.rules import LangRules, words

UNDETERMINED = "und"
HINGLISH = "hi-Latn"

# Unicode script (the first word of a character's name) -> language when that script dominates.
SCRIPT_LANG = {
    "DEVANAGARI": "hi", "BENGALI": "bn", "GURMUKHI": "pa", "GUJARATI": "gu", "ORIYA": "or", "TAMIL": "ta",
    "TELUGU": "te", "KANNADA": "kn", "MALAYALAM": "ml", "SINHALA": "si", "THAI": "th", "HANGUL": "ko",
    "HIRAGANA": "ja", "KATAKANA": "ja", "CJK": "zh", "ARABIC": "ar", "HEBREW": "he", "GREEK": "el",
    "CYRILLIC": "ru", "GEORGIAN": "ka", "ARMENIAN": "hy", "ETHIOPIC": "am", "KHMER": "km", "MYANMAR": "my",
}
# Scripts shared by several languages: CLD2's answer wins when it names one of these.
SCRIPT_FAMILY = {
    "DEVANAGARI": {"hi", "mr", "ne", "sa"}, "BENGALI": {"bn", "as"}, "ARABIC": {"ar", "fa", "ur", "ps"},
    "CYRILLIC": {"ru", "uk", "bg", "sr", "mk", "be", "kk"}, "CJK": {"zh", "zh-Hant", "ja"},
}
# Romanized Hindi words that are not (common) English words.
HINGLISH_WORDS = frozenset(
    """hai hain nahi nahin nhi nai ho hota hoti hote hua hui gaya gaye gayi gya raha rahi rahe rha rhi kar karo
    karna karte karta kiya kiye kya kyu kyun kyon kab kaise kaisa kuch koi sab mera meri mere mujhe muje hum tum
    aap apna apne paise paisa bhai yaar accha acha achha achcha achha bahut bohot bahot bhut bekar bakwas mast
    badiya badhiya bdiya sahi galat abhi tak bhi aur lekin magar ke ki ka ko se mein wala wali wale jab toh
    aaya aayi aaye diya dete deta lagta laga chal chalta wapas kat kaat jata jati jaata liye baar kal din bola
    bol isme usme yeh ye woh wo hoga hogi mila milta milega kyunki dhyan rakho karne karke pe bhej
    bheje bheja khul khulta hu hoon hun zyada jyada thoda sirf bilkul kabhi hamesha mei bohat hei aati aata rha rhe krna kro""".split()
)
_STRIP = re.compile(r"https?://\S+|www\.\S+|[@#][\w.]+", re.UNICODE)
_LATIN = "LATIN"
# What CLD2 refuses as "invalid UTF-8": controls (but tab, newlines, form feed), lone surrogates, noncharacters.
_NONCHARS = "\ufdd0-\ufdef" + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
_CLD2_INVALID = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff{_NONCHARS}]")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LangResult:
    """A detected language (BCP 47-ish code), how sure we are (0..1), the dominant script and the layer that decided."""

    lang: str
    confidence: float
    script: str
    method: str


def letters_by_script(text: str) -> dict[str, int]:
    """Count letters per Unicode script (the first word of the character name)."""
    counts: dict[str, int] = {}
    for c in text:
        if unicodedata.category(c)[0] not in "LM":
            continue
        name = unicodedata.name(c, "")
        script = name.split(" ", 1)[0] if name else "UNKNOWN"
        if script in ("HIRAGANA", "KATAKANA", "CJK", "HANGUL"):
            pass
        elif c.isascii() or script in ("LATIN", "MODIFIER"):
            script = _LATIN
        counts[script] = counts.get(script, 0) + 1
    return counts


def content_text(text: str) -> str:
    """The text without URLs, @mentions and #hashtags (tweets carry many)."""
    return _STRIP.sub(" ", text)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """pyspellchecker's English word list (loaded once)."""
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en").word_frequency.dictionary)


def hinglish_share(tokens: list[str]) -> tuple[int, float]:
    hits = sum(1 for t in tokens if t in HINGLISH_WORDS)
    return hits, (hits / len(tokens) if tokens else 0.0)


@lru_cache(maxsize=1)
def _quiet_polyglot() -> None:
    """Once per process: `Logger.setLevel` clears the cache of every logger (torch and transformers register
    hundreds), which cost more than CLD2 itself when it ran for every review."""
    logging.getLogger("polyglot.detect.base").setLevel(logging.ERROR)


def cld2(text: str) -> tuple[str, float, bool]:
    """polyglot's best guess: (code, confidence 0..1, reliable); `und` when it has none.

    Characters CLD2 rejects as invalid UTF-8 (controls, surrogates, noncharacters) are blanked first.
    """
    import pycld2
    from polyglot.detect import Detector
    from polyglot.detect.base import UnknownLanguage

    # Importing polyglot registers a Python 2 pickler for bound methods that fails on every one of them (River's
    # KMeans holds one), which made every Bytewax recovery snapshot of the cluster state crash; drop it.
    copyreg.dispatch_table.pop(types.MethodType, None)
    _quiet_polyglot()
    try:
        detector = Detector(_CLD2_INVALID.sub(" ", text), quiet=True)
    except (UnknownLanguage, ValueError, pycld2.error) as e:
        log.debug("polyglot could not detect %r: %s", text[:40], e)
        return UNDETERMINED, 0.0, False
    best = detector.languages[0]
    code = best.code if best.code not in ("un", "xxx") else UNDETERMINED
    return code, best.confidence / 100.0, bool(detector.reliable)


def detect(text: str, rules: LangRules = LangRules()) -> LangResult:
    """The language of `text` with a confidence; see the module docstring for the layers."""
    body = content_text(text)
    scripts = letters_by_script(body)
    total = sum(scripts.values())
    if total == 0:
        return LangResult(UNDETERMINED, 0.0, "NONE", "no_letters")
    script, count = max(scripts.items(), key=lambda kv: kv[1])
    share = count / total
    length_factor = min(1.0, total / rules.short_letters)

    if script != _LATIN and share >= 0.5:
        lang = SCRIPT_LANG.get(script, UNDETERMINED)
        guess, conf, reliable = cld2(body)
        if guess in SCRIPT_FAMILY.get(script, ()) and reliable:
            lang = guess
        return LangResult(lang, round(max(share, conf) * (0.5 + 0.5 * length_factor), 3), script, "script")

    tokens = words(body)
    hits, hshare = hinglish_share(tokens)
    if hits >= rules.hinglish_min_hits and hshare >= rules.hinglish_min_share:
        confidence = min(1.0, 0.5 + hshare) * (0.6 + 0.4 * min(1.0, hits / 3))
        return LangResult(HINGLISH, round(confidence, 3), script, "hinglish")

    guess, conf, reliable = cld2(body)
    english = english_words()
    known = sum(1 for t in tokens if t in english) / len(tokens) if tokens else 0.0
    if total >= rules.short_letters and reliable and guess != UNDETERMINED:
        return LangResult(guess, round(conf, 3), script, "cld2")
    # Short or unreliable: CLD2 alone is a coin toss here, so weigh its guess against the dictionary.
    scale = 0.4 + 0.6 * length_factor
    if guess == "en" or (known >= rules.min_english_share and not reliable):
        confidence = max(known, conf if guess == "en" else 0.0) * scale
        return LangResult("en", round(confidence, 3), script, "cld2_short" if guess == "en" else "short_english")
    if guess != UNDETERMINED and reliable:
        return LangResult(guess, round(conf * scale, 3), script, "cld2_short")
    return LangResult(UNDETERMINED, round(conf * scale * 0.5, 3), script, "unplaced")
