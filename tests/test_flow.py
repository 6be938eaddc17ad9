"""The production dataflow end to end with TestingSource / TestingSink and the real model."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from bytewax.testing import TestingSink, TestingSource, run_main

from demo.generate import generate
from flows.dataflow import build_flow
from flows.operators.issues import forms_issue
from core.records import EnrichedReview, Rejected
from core.settings import Settings
from tests.helpers import raw

SETTINGS = Settings.from_env({"SIFT_CLUSTERS_PER_LABEL": "4"})


def run(apps, embedder, payloads, batch_size=16):
    out: list = []
    source = TestingSource([raw(p, n=i) for i, p in enumerate(payloads)], batch_size=batch_size)
    run_main(build_flow(SETTINGS, apps, source, TestingSink(out), embedder=embedder))
    return out


CRAFTED = [
    {"id": "pay", "app_id": "paynest", "text": "UPI transfer to my friend failed but money got debited from SBI", "rating": 1},
    {"id": "otp", "app_id": "paynest", "text": "OTP SMS never arrives so I cannot log in to my account", "rating": 1},
    {"id": "crash", "app_id": "paynest", "text": "the app crashes on startup after the latest update", "rating": 2},
    {"id": "short", "app_id": "paynest", "text": "good app"},
    {"id": "hindi", "app_id": "paynest", "text": "पेमेंट फेल हो गया पैसे कट गए"},
    {"id": "bad-rating", "app_id": "paynest", "text": "cashback not credited after recharge", "rating": "five"},
    {"id": "stranger", "app_id": "unknown-app", "text": "this is a review for another app"},
    {"id": "hinglish", "app_id": "paynest", "text": "payment fail ho gaya aur paise kat gaye"},
    {"id": "referral", "app_id": "paynest", "text": "use my referral code PN7K2X get ₹100 cashback"},
] + [
    {"id": f"spam{i}", "app_id": "paynest", "author": f"bot{i}",
     "text": "Earn ₹5000 daily from home 💰💰 no investment, WhatsApp 98XXXXXX21 for details" + "!" * i}
    for i in range(4)
]


def test_every_input_becomes_exactly_one_outcome_with_the_right_kind(apps, embedder):
    out = run(apps, embedder, [json.dumps(p) for p in CRAFTED] + ["{not json"])
    by_id = {o.id: o for o in out}
    assert len(out) == len(CRAFTED) + 1 == len(by_id)
    assert {i: by_id[f"paynest/{i}"].primary_label for i in ("pay", "otp", "crash")} == {
        "pay": "payments", "otp": "login_otp", "crash": "performance"}
    assert {o.id: o.reason for o in out if isinstance(o, Rejected)} == {
        "paynest/short": "too_short", "paynest/bad-rating": "invalid_field", "unknown-app/stranger": "unknown_app",
        "paynest/referral": "referral_spam", "paynest/spam2": "repeated_spam", "paynest/spam3": "repeated_spam",
        next(o.id for o in out if o.id.startswith("_/h-")): "malformed_json"}
    pay = by_id["paynest/pay"]
    assert isinstance(pay, EnrichedReview)
    assert pay.cluster_id.startswith("paynest:payments:i") and pay.cluster_keywords
    assert pay.theme_id.startswith("paynest:payments:c")
    assert pay.review_type == "bug_report" and pay.sentiment == "negative" and 0 < pay.priority <= 1
    assert len(pay.embedding) == 384 and pay.measures.word_count == 12
    assert (pay.lang, pay.translation, pay.text_en) == ("en", "not_needed", pay.review.text)
    assert 0.5 < pay.informativeness <= 1.0 and pay.lang_confidence > 0.5
    # Hindi and Hinglish are kept, untranslated (no backend configured), and clustered apart from English
    for rid, lang in (("hindi", "hi"), ("hinglish", "hi-Latn")):
        kept = by_id[f"paynest/{rid}"]
        assert isinstance(kept, EnrichedReview)
        assert (kept.lang, kept.translation, kept.translated) == (lang, "untranslated", False)
        assert kept.cluster_id.startswith(f"paynest:{kept.primary_label}:{lang}:i")
        assert kept.to_doc()["translation"] == "untranslated"
    assert by_id["paynest/spam3"].measures.repeat_count == 4 and by_id["paynest/spam1"].measures.repeat_count == 2


def test_demo_stream_nothing_lost_nothing_duplicated(apps, embedder):
    lines = generate(n=400, seed=3)
    out = run(apps, embedder, lines, batch_size=64)
    assert len(out) == len(lines)
    assert len({o.id for o in out}) == len(out)
    kinds = Counter(type(o).__name__ for o in out)
    assert kinds["EnrichedReview"] > 150 and kinds["Rejected"] > 50
    reasons = Counter(o.reason for o in out if isinstance(o, Rejected))
    assert reasons["too_short"] > 0 and reasons["referral_spam"] > 0 and reasons["repeated_spam"] > 0
    untranslated = Counter(o.lang for o in out if isinstance(o, EnrichedReview) and o.translation == "untranslated")
    assert untranslated["hi"] > 0 and untranslated["hi-Latn"] > 0
    labels = Counter(o.primary_label for o in out if isinstance(o, EnrichedReview) and o.lang_group == "en")
    assert labels.most_common(1)[0][0] != "other"
    assert len(labels) >= 8


@pytest.mark.parametrize("batch_size", [1, 64])
def test_labels_do_not_depend_on_batching(apps, embedder, batch_size):
    lines = generate(n=60, seed=5)
    out = run(apps, embedder, lines, batch_size=batch_size)
    labels = {o.id: o.primary_label for o in out if isinstance(o, EnrichedReview)}
    reference = {o.id: o.primary_label for o in run(apps, embedder, lines, batch_size=32) if isinstance(o, EnrichedReview)}
    assert labels == reference


def test_every_enriched_record_carries_all_enrichment_fields(apps, embedder):
    lines = generate(n=150, seed=9)
    out = [o for o in run(apps, embedder, lines, batch_size=64) if isinstance(o, EnrichedReview)]
    assert out
    for o in out:
        doc = o.to_doc()
        assert doc["lang"] and doc["translation"] in ("not_needed", "translated", "untranslated", "failed")
        assert doc["primary_label"] and doc["theme_id"] and doc["theme_name"]
        assert doc["review_type"] in ("bug_report", "feature_request", "user_experience", "rating")
        assert doc["sentiment"] in ("negative", "neutral", "positive") and -1 <= doc["sentiment_score"] <= 1
        assert 0 <= doc["priority"] <= 1 and 0 <= doc["informativeness"] <= 1
        assert isinstance(doc["competitors"], list) and len(doc["embedding"]) == 384
        if not forms_issue(o):  # praise or uninformative: stored and counted, never an issue
            assert doc["cluster_id"] is None and not doc["cluster_name"] and doc["issue_examples"] == []
        else:
            assert doc["cluster_id"] and doc["cluster_name"] and doc["cluster_keywords"]
            assert doc["cluster_representative"] in doc["issue_examples"]
            assert 0 <= doc["cluster_priority"] <= 1 and doc["cluster_growth"] > 0
    assert any(o.cluster_id for o in out) and any(o.cluster_id is None for o in out)
    assert any(o.competitors for o in out)
