from __future__ import annotations

import pytest

from flows.operators.language import HINGLISH, detect


@pytest.mark.parametrize(
    ("text", "lang", "method"),
    [
        ("पेमेंट फेल हो गया पैसे कट गए", "hi", "script"),
        ("ಸೂಪರ್ ಆಪ್", "kn", "script"),
        ("யாப் சூப்பர்", "ta", "script"),
        ("payment fail ho gaya aur paise kat gaye", HINGLISH, "hinglish"),
        ("OTP nahi aa raha, login nahi ho raha", HINGLISH, "hinglish"),
        ("mast app hai bhai", HINGLISH, "hinglish"),
        ("El pago falló pero me cobraron el dinero", "es", "cld2"),
        ("sangat buruk pelayanannya baru beberapa hari aplikasi gak bisa dibuka", "id", "cld2"),
        ("the app crashes on startup after the latest update", "en", "cld2"),
    ],
)
def test_detects_scripts_hinglish_and_prose(text, lang, method):
    result = detect(text)
    assert (result.lang, result.method) == (lang, method)
    assert 0.5 <= result.confidence <= 1.0


def test_very_short_text_is_placed_but_with_low_confidence():
    short, long = detect("nice app"), detect("the app crashes on startup after the latest update")
    assert short.lang == "en" and short.confidence < long.confidence and short.confidence < 0.8
    assert detect("naice").lang == "und"  # CLD2 guesses Luxembourgish; an unreliable guess is not kept


def test_emoji_and_mentions_have_no_language():
    for text in ("👍👍👍", "@FNBSA #LoveFNB", "https://t.co/abc"):
        result = detect(text)
        assert (result.lang, result.confidence, result.method) == ("und", 0.0, "no_letters")


def test_english_with_one_hindi_loanword_stays_english():
    assert detect("the refund for my failed payment has not arrived after seven days, please help").lang == "en"
