"""Review type, sentiment, competitor mentions and priority: the per-review scores of issue 5."""

from __future__ import annotations

import numpy as np
import pytest

from core.appmeta import Competitor
from flows.operators.competitors import mentioned
from flows.operators.priority import review_priority
from flows.operators.review_type import TYPES, TypeClassifier, TypeModel, cue_features, type_features
from flows.operators.sentiment import sentiment
from flows.train_types import drop_contradicting
from flows.train_types import main as train_types

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
        # the one matcher: derived aliases, one-edit misspellings and @handles, as the watch list finds them
        ("switched to g pay", ("Google Pay",)),
        ("phonpe is better", ("PhonePe",)),
        ("@GooglePayIndia please reply", ("Google Pay",)),
    ],
)
def test_competitor_mentions(text, found):
    assert mentioned(text, COMPETITORS) == found


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


def test_trained_model_keeps_its_prototypes_and_scale_in_the_npz(tmp_path):
    rng = np.random.default_rng(1)
    prototypes = rng.standard_normal((4, 384)).astype(np.float32)
    model = TypeModel(weights=rng.standard_normal((2 + 4 + 4 + 384, 4)).astype(np.float32),
                      bias=rng.standard_normal(4).astype(np.float32), classes=TYPES, prototypes=prototypes,
                      embedding_scale=0.3)
    model.save(tmp_path / "types.npz")
    loaded = TypeModel.load(tmp_path / "types.npz")
    assert loaded.embedding_scale == pytest.approx(0.3) and np.array_equal(loaded.prototypes, prototypes)
    vectors = rng.standard_normal((3, 384)).astype(np.float32)
    texts = ["great", "please add dark mode to the settings", "it crashes every time I open a photo"]
    assert loaded.predict(vectors, texts) == model.predict(vectors, texts)
    assert type_features(vectors, texts, prototypes).shape == (3, 394)


def test_training_leaves_out_labels_the_cues_contradict():
    texts = ["love it", "crashes all the time", "please add a widget", "crashes on start", "please add export",
             "it crashes, please add a fix option", "I use it every day for my shopping list"]
    labels = ["rating", "rating", "feature_request", "feature_request", "bug_report", "feature_request", "user_experience"]
    assert drop_contradicting(texts, labels).tolist() == [0, 2, 5, 6]


def _hashing_encode(texts):
    """A stand-in encoder for training tests: hashed bag of words, unit length, 384-d."""
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in text.lower().split():
            out[row, sum(map(ord, word)) % 384] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def test_train_types_on_two_files_with_their_own_columns(tmp_path, capsys):
    import json

    import pandas as pd

    things = ["photos", "maps", "music", "notes", "videos", "contacts", "messages", "alarms", "recipes", "tickets"]
    rows = [(f"the app crashes when I open {t}", "bug_report") for t in things]
    rows += [(f"please add an option to export {t}", "feature_request") for t in things]
    rows += [(f"I use it every day to keep my {t} in order on my trips", "user_experience") for t in things]
    rows += [(f"great app for {t}, love it", "rating") for t in things]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "a.csv", index=False)
    clap = {"bug_report": "BUG", "feature_request": "FEATURE", "user_experience": "USABILITY", "rating": "OTHER"}
    pd.DataFrame([(f"app{i % 6}", f"{text} again", clap[label]) for i, (text, label) in enumerate(rows)],
                 columns=["app", "review", "category"]).to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "model" / "types.npz"
    argv = ["--data", str(tmp_path / "a.csv"), "--data", str(tmp_path / "b.csv"), "--text-col", "text", "--text-col", "review",
            "--label-col", "label", "--label-col", "category", "--map", "none", "--map", "clap",
            "--out", str(out), "--cache", str(tmp_path / "cache.npz")]
    assert train_types(argv, encode=_hashing_encode) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["rows"] == 80 and set(report["sets"]) == {"a.csv", "b.csv"}
    assert all(0.0 <= v["trained_on_the_others_macro_f1"] <= 1.0 for v in report["sets"].values())
    classifier = TypeClassifier(_hashing_encode, out)
    assert classifier.model is not None and classifier.model.prototypes is not None
    texts = ["the app crashes when I open my calendar", "great app for games, love it"]
    assert [t for t, _ in classifier.classify(_hashing_encode(texts), texts)] == ["bug_report", "rating"]
    with pytest.raises(SystemExit):
        train_types(["--data", str(tmp_path / "a.csv"), "--data", str(tmp_path / "b.csv"), "--text-col", "a", "--text-col", "b",
                     "--text-col", "c"], encode=_hashing_encode)


def test_zero_shot_without_cues_uses_all_four_prototypes_and_keeps_short_texts_ratings(embedder):
    texts = [
        "the pay button does nothing when I tap it, tried five times today",  # a fault in words no cue knows
        "ok",
        "works as expected",
    ]
    classifier = TypeClassifier(embedder.encode)
    assert not cue_features(texts).any()
    got = [t for t, _ in classifier.classify(embedder.encode(texts), texts)]
    assert got == ["bug_report", "rating", "rating"]
