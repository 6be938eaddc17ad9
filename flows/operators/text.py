"""Text helpers shared by operators: what a review says without the addressing around it, and its words."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

import numpy as np

HANDLES_AND_LINKS = re.compile(r"@\w+|https?://\S+|www\.\S+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=256)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern | None:
    words = sorted({n.strip() for n in names if len(n.strip()) > 2}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


def meaning_text(text: str, names: tuple[str, ...] = ()) -> str:
    """`text` without @handles, links and the app's own `names`, for embedding; `text` itself when
    nothing else is left.

    A tweet to a bank is addressed to the bank (and often to five other accounts) and names it:
    left in, the handles and the name make every tweet to one bank look alike to the embedding model,
    whatever it reports.

    >>> meaning_text("@Nedbank @FNBSA is your app down? https://t.co/x")
    'is your app down?'
    >>> meaning_text("Standard Bank app is always down", ("Standard Bank",))
    'app is always down'
    >>> meaning_text("@Nedbank")
    '@Nedbank'
    """
    cleaned = HANDLES_AND_LINKS.sub(" ", text)
    pattern = _names_pattern(names)
    if pattern is not None:
        cleaned = pattern.sub(" ", cleaned)
    cleaned = _SPACES.sub(" ", cleaned).strip()
    return cleaned if any(ch.isalnum() for ch in cleaned) else text


# Function words of the languages the demo and the shared streams are kept in untranslated (Spanish, Indonesian,
# Hinglish), next to the English ones: they carry no issue.
_FUNCTION_WORDS = frozenset("""
    a al algo ante antes aqui aquí asi así aun aún cada como cómo con contra cual cuando de del desde donde dónde el él
    ella ellos en entre era es esa ese eso esta está este esto estos fue ha han hasta hay la las le les lo los mas más me
    mi mis muy nada ni nos o otra otro para pero poco por porque pues que qué se sea ser si sí sin sobre solo sólo son su
    sus tambien también te ti tiene todo todos tu tú un una uno unos y ya yo
    ada adalah agar akan aku aja apa atau bagi bahwa banget belum bisa buat dan dari dengan di dia gak ga harus ini itu
    jadi juga kalau kami kamu karena ke kok lagi lah masih mau nya oleh pada saat saja sama sangat saya sih sudah tapi
    tidak udah untuk yang
    the and for with this that have has was are you your not but very app its it's i'm
    hai hain ho ka ki ke ko se me mein bhi aur kya nahi nhi toh to ye yeh wo koi kuch raha rahi rahe gaya gayi
""".split())
_NEGATIONS = frozenset("no not nahi nhi nahin tidak gak ga nunca never".split())
_LEX_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


# Accented Latin vowels read as plain ones: users write "crédito" and "credito" alike.
PLAIN_VOWELS = str.maketrans("áéíóúüàèìòùâêîôûãõ", "aeiouuaeiouaeiouao")


def lexical_words(text: str) -> list[str]:
    """`text`'s content words in order, lower-cased, Latin vowels without accents, without function words; a
    negation joins the word after it ("no me deja entrar" -> `no_deja`, `entrar`)."""
    tokens = [t for t in _LEX_TOKEN.findall(HANDLES_AND_LINKS.sub(" ", text.lower().translate(PLAIN_VOWELS)))
              if len(t) > 1][:200]
    words: list[str] = []
    negate = False
    for token in tokens:
        if token in _NEGATIONS:
            negate = True
            continue
        if token in _FUNCTION_WORDS or len(token) < 3:
            continue
        words.append(f"no_{token}" if negate else token)
        negate = False
    return words


def lexical_vector(text: str, dims: int = 1024, skip: frozenset[str] = frozenset()) -> np.ndarray:
    """A unit vector of `text`'s content words and adjacent word pairs, hashed into `dims` (stable across runs).

    For text the embedding model cannot read (a language kept untranslated), reviews that share their words
    ("no me deja entrar", "no puedo entrar a la app") are close; function words count for nothing, and a
    negation joins the word after it ("no deja"). Words in `skip` count for nothing either (the issue step
    passes the words most of a key's reviews use). An empty text gives the zero vector.
    """
    return words_vector(lexical_words(text), dims, skip)


def words_vector(words: list[str], dims: int = 1024, skip: frozenset[str] = frozenset()) -> np.ndarray:
    """`lexical_vector` of words already read by `lexical_words`."""
    features: list[str] = []
    previous = ""
    for word in words:
        if word in skip:
            continue
        features.append(word)
        if previous:
            features.append(f"{previous}+{word}")
        previous = word
    v = np.zeros(dims, dtype=np.float32)
    for feature in features:
        v[zlib.crc32(feature.encode("utf-8")) % dims] += 1.0
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
