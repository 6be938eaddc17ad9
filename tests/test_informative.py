from __future__ import annotations

import numpy as np

from flows.operators.informative import InformativenessModel, load_model

ACTIONABLE = ["the app crashes every time I open the camera", "please add an option to split bills with friends",
              "money debited twice for one recharge and no refund yet"]
EMPTY = ["love it", "best app ever!!", "awesome app, five stars"]


def test_zero_shot_scores_actionable_reviews_above_praise(embedder):
    model = InformativenessModel.zero_shot(embedder.encode)
    good, bad = model.score(embedder.encode(ACTIONABLE)), model.score(embedder.encode(EMPTY))
    assert model.kind == "zero-shot"
    assert good.min() > model.threshold > bad.max()


def test_trained_model_round_trips_and_is_preferred(tmp_path, embedder):
    rng = np.random.default_rng(1)
    model = InformativenessModel(weights=rng.standard_normal(384).astype(np.float32), bias=0.1, threshold=0.4)
    path = tmp_path / "informative.npz"
    model.save(path, {"trained_on": "test"})
    loaded = load_model(path, embedder.encode)
    vectors = embedder.encode(ACTIONABLE)
    assert loaded.kind == "trained:informative.npz" and loaded.threshold == np.float32(0.4)
    assert np.allclose(loaded.score(vectors), model.score(vectors), atol=1e-6)
    assert load_model(tmp_path / "missing.npz", embedder.encode).kind == "zero-shot"
