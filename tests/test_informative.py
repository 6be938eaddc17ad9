from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from flows import train_informative
from flows.operators.informative import InformativenessModel, LexicalBlock, char_ngrams, load_model, word_ngrams

ACTIONABLE = ["the app crashes every time I open the camera", "please add an option to split bills with friends",
              "money debited twice for one recharge and no refund yet"]
EMPTY = ["love it", "best app ever!!", "awesome app, five stars"]


def test_zero_shot_scores_actionable_reviews_above_praise(embedder):
    model = InformativenessModel.zero_shot(embedder.encode)
    good, bad = model.score(embedder.encode(ACTIONABLE)), model.score(embedder.encode(EMPTY))
    assert model.kind == "zero-shot"
    assert good.min() > model.threshold > bad.max()


def test_embedding_only_model_round_trips_and_is_preferred(tmp_path, embedder):
    rng = np.random.default_rng(1)
    model = InformativenessModel(weights=rng.standard_normal(384).astype(np.float32), bias=0.1, threshold=0.4)
    path = tmp_path / "informative.npz"
    model.save(path, {"trained_on": "test"})
    loaded = load_model(path, embedder.encode)
    vectors = embedder.encode(ACTIONABLE)
    assert loaded.kind == "trained:informative.npz" and loaded.threshold == np.float32(0.4)
    assert np.allclose(loaded.score(vectors), model.score(vectors), atol=1e-6)
    assert np.allclose(loaded.score(vectors, ACTIONABLE), model.score(vectors), atol=1e-6)
    assert load_model(tmp_path / "missing.npz", embedder.encode).kind == "zero-shot"


@pytest.mark.parametrize("text", ["Hello  WORLD\tfoo\u00a0bar!", "a", "ab c", "", "  ", "pago falló, ¿por qué?",
                                  "mast app hai bhai", "पेमेंट फेल", "don't crash 👍👍"])
def test_analyzers_match_scikit_learn(text):
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    word = TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()
    assert char_ngrams(text) == char(text)
    assert word_ngrams(text) == word(text)


def test_lexical_block_equals_scikit_learn_tfidf():
    docs = ["app crashes on start", "crashes crashes again", "love this app", "please add dark mode", "love love"]
    for name, analyzer in (("word", word_ngrams), ("char", char_ngrams)):
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
        matrix = vectorizer.fit_transform(docs)
        weights = np.random.default_rng(0).standard_normal(matrix.shape[1])
        block = LexicalBlock(name, dict(vectorizer.vocabulary_), vectorizer.idf_, weights)
        queries = docs + ["unseen words only", "app app crashes"]
        expected = vectorizer.transform(queries) @ weights
        assert np.allclose(block.logits(queries), expected, atol=1e-5), name


def _synthetic_csv(path, n=60):
    rng = np.random.default_rng(3)
    problems = ["crashes when I open it", "login fails after update", "please add export", "refund not received",
                "error on save", "freezes on the payment screen"]
    praise = ["great game", "love it", "awesome fun", "best app ever", "nice and fun", "so good"]
    rows = []
    for i in range(n):
        informative = i % 2 == 0
        text = f"{rng.choice(problems if informative else praise)} {rng.choice(['', 'really', 'today', 'lol'])} {i}"
        rows.append({"app": "x", "label": "informative" if informative else "non-informative",
                     "rating": 2 if informative else 5, "text": text})
    import pandas as pd

    pd.DataFrame(rows).to_csv(path, index=False)
    return [r["text"] for r in rows], np.array([r["label"] == "informative" for r in rows])


def test_training_cli_reports_nested_cv_and_saves_a_pickle_free_model(tmp_path, monkeypatch, capsys):
    texts, truth = _synthetic_csv(tmp_path / "labels.csv")
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((len(texts), 384)).astype(np.float32)  # no signal: the words must carry it
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    np.save(tmp_path / "emb.npy", vectors)
    monkeypatch.setattr(train_informative, "GRID", ((10.0, 0.5),))
    monkeypatch.setattr(train_informative, "FALLBACK_GRID", ((1.0, 1.0),))
    out = tmp_path / "model.npz"
    code = train_informative.main(["--data", str(tmp_path / "labels.csv"), "--out", str(out),
                                   "--embeddings", str(tmp_path / "emb.npy"), "--folds", "3"])
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["nested_cv"]["f1"] > 0.9 and len(report["nested_cv"]["chosen_per_fold"]) == 3
    assert {"holdout", "selected", "fallback_nested_cv"} <= set(report)
    with np.load(out, allow_pickle=False) as data:  # loads without pickle
        assert {"word_terms", "char_idf", "fallback_weights"} <= set(data.files)
    model = InformativenessModel.load(out)
    assert [b.analyzer for b in model.lexical] == ["word", "char"] and model.needs_texts
    scores = model.score(vectors, texts)
    assert ((scores >= model.threshold) == truth).mean() > 0.95
    assert model.score(vectors).shape == (len(texts),)  # no texts: the embedding-only fallback
    assert model.threshold_for(with_texts=False) == model.fallback_threshold
    with pytest.raises(ValueError, match="texts for"):
        model.score(vectors, texts[:-1])
    assert model.score(vectors[:0], []).shape == (0,)


def test_training_cli_rejects_bad_labels(tmp_path, capsys):
    (tmp_path / "bad.csv").write_text("text,label\nhello,maybe\nbye,informative\n")
    assert train_informative.main(["--data", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "m.npz")]) == 2
    assert "labels must be" in capsys.readouterr().err
