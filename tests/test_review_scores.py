"""Review type, sentiment, competitor mentions and priority: the per-review scores of issue 5."""

from __future__ import annotations

import numpy as np
import pytest

from flows.appmeta import Competitor
from flows.operators.mentions import MentionFinder
from flows.operators.priority import review_priority
from flows.operators.review_type import TYPES, TypeClassifier, TypeModel, cue_features
from flows.operators.sentiment import sentiment

COMPETITORS = (
    Competitor("Google Pay", hashtags=("#GooglePay", "#GPay"), aliases=("gpay", "google pay", "tez")),
    Competitor("PhonePe", hashtags=("#PhonePe",), aliases=("phone pe",)),
    Competitor("CRED", aliases=("cred",)),
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Google Pay has split bill, please add it", ("Google Pay",)),
        ("switching to #PhonePe because of cashback", ("PhonePe",)),
        ("gpay and phone pe are both faster", ("Google Pay", "PhonePe")),
        ("GOOGLEPAY never fails", ("Google Pay",)),
        ("my credit card payment failed", ()),
        ("I paid my CRED bill", ("CRED",)),
        ("telephone pen", ()),
    ],
)
def test_competitor_mentions(text, found):
    assert MentionFinder.build(COMPETITORS).find(text) == found


def test_sentiment_prefers_the_rating_and_reads_text_without_one():
    assert sentiment("I love it", 1) == ("negative", -1.0)
    assert sentiment("ok", 3) == ("neutral", 0.0)
    label, score = sentiment("this app is terrible, worst experience", None)
    assert label == "negative" and score < -0.5
    assert sentiment("great app, love the design", None)[0] == "positive"


def test_priority_orders_what_a_team_should_look_at_first():
    bug = review_priority("bug_report", -1.0, 0.9, 1)
    request = review_priority("feature_request", 0.5, 0.8, 4)
    praise = review_priority("rating", 1.0, 0.1, 5)
    assert 1.0 >= bug > request > praise >= 0.0
    assert review_priority("bug_report", -1.0, 1.0, 1) == 1.0


def test_cues_flag_bug_reports_and_feature_requests():
    flags = cue_features(["app crashes on startup", "please add dark mode", "love it"])
    assert flags.tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]


def test_zero_shot_types_with_the_real_model(embedder):
    texts = [
        "the app keeps crashing whenever I try to send money",
        "it would be great if you could add a split bill option",
        "I use it every day to pay my electricity bill and recharge my phone, it saves me a trip to the shop",
        "awesome app",
    ]
    got = [t for t, _ in TypeClassifier(embedder.encode).classify(embedder.encode(texts), texts)]
    assert got == list(TYPES)


def test_trained_model_round_trips_through_npz_without_pickle(tmp_path):
    rng = np.random.default_rng(0)
    model = TypeModel(weights=rng.standard_normal((386, 4)).astype(np.float32),
                      bias=np.zeros(4, dtype=np.float32), classes=TYPES)
    model.save(tmp_path / "types.npz")
    loaded = TypeModel.load(tmp_path / "types.npz")
    vectors = rng.standard_normal((3, 384)).astype(np.float32)
    texts = ["a", "please add b", "crash c"]
    assert loaded.predict(vectors, texts) == model.predict(vectors, texts)
    assert TypeClassifier(lambda t: None, tmp_path / "types.npz").model is not None
    assert TypeClassifier(lambda t: None, tmp_path / "missing.npz").model is None
