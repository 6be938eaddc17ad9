from __future__ import annotations

import pytest

from flows.operators.denoise import DenoiseRules, denoise, measure
from flows.operators.parse import parse_message
from flows.records import Measures, Rejected
from tests.helpers import raw

RULES = DenoiseRules(min_words=3, max_non_english_ratio=0.3)


def review(text: str):
    return parse_message(raw({"id": "d1", "app_id": "paynest", "text": text}), {"paynest"})


@pytest.mark.parametrize(
    ("text", "words", "ratio"),
    [
        ("UPI payment failed", 3, 0.0),
        ("don't charge me twice", 4, 0.0),
        ("👍👍👍", 0, 0.0),
        ("पेमेंट फेल", 2, 1.0),
        ("₹499 debited", 2, 0.0),
        ("payment फेल", 2, 0.2222),
    ],
)
def test_measure(text, words, ratio):
    assert measure(text) == Measures(word_count=words, non_english_ratio=ratio)


def test_kept_review_carries_its_measures():
    r = review("UPI payment failed twice today")
    kept = denoise(r, RULES)
    assert kept == (r, Measures(word_count=5, non_english_ratio=0.0))


@pytest.mark.parametrize(
    ("text", "reason"),
    [("good app", "too_short"), ("👍👍👍", "too_short"), ("पेमेंट फेल हो गया पैसे कट गए", "non_english")],
)
def test_noise_is_rejected_with_reason_and_measures(text, reason):
    out = denoise(review(text), RULES)
    assert isinstance(out, Rejected)
    assert out.reason == reason and out.id == "d1" and out.app_id == "paynest"
    assert out.measures == measure(text)
    assert '"d1"' in out.raw  # the original payload, not just the text


def test_thresholds_are_configurable():
    assert not isinstance(denoise(review("good app"), DenoiseRules(min_words=2)), Rejected)
    assert not isinstance(denoise(review("पेमेंट फेल हो गया"), DenoiseRules(max_non_english_ratio=1.0)), Rejected)
