"""The shipped heads (flows/models): what they are made of, how they are chosen, and that they rebuild."""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flows
from bench.heads import bootstrap_difference, f1_binary, head_is_better
from flows import train_heads
from flows.models import INFORMATIVE_HEAD, MODELS_DIR, REVIEW_TYPE_HEAD, write_npz
from flows.operators.informative import InformativenessModel, load_model
from flows.operators.review_type import TYPES, TypeClassifier, TypeModel
from core.settings import PROJECT_ROOT, Settings

SHARED = PROJECT_ROOT.parent / "shared" / "data"
ACTIONABLE = ["the app crashes every time I open the camera", "please add an option to split bills with friends",
              "money debited twice for one recharge and no refund yet"]
EMPTY = ["love it", "best app ever!!", "awesome app, five stars"]


@pytest.mark.parametrize("path", [INFORMATIVE_HEAD, REVIEW_TYPE_HEAD])
def test_shipped_heads_are_a_few_kb_of_plain_arrays_from_redistributable_labels(path):
    assert path.parent == Path(flows.__file__).resolve().parent / "models"
    assert 0 < path.stat().st_size < 16_000
    with np.load(path, allow_pickle=False) as data:  # plain arrays only
        assert data["weights"].shape[0] == 384 and data["weights"].dtype == np.float32
        meta = json.loads(str(data["meta"]))
    assert [s["file"] for s in meta["trained_on"]] == [train_heads.MAALEJ, "bench/data/review_types_written.csv"]
    assert meta["licence"] == "GPL-3.0" and meta["command"] == "python -m flows.train_heads"
    notice = (MODELS_DIR / "NOTICE").read_text(encoding="utf-8")
    assert path.name in notice and "GPL-3.0" in notice
    assert "GNU GENERAL PUBLIC LICENSE" in (MODELS_DIR / "LICENSE-GPL-3.0").read_text(encoding="utf-8")


def test_shipped_heads_are_package_data():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = config["tool"]["setuptools"]["package-data"]["flows.models"]
    assert {"*.npz", "NOTICE", "LICENSE-GPL-3.0"} <= set(shipped)
    assert (MODELS_DIR / "__init__.py").is_file()  # a package, so setuptools finds it


@pytest.mark.skipif(not (SHARED / train_heads.MAALEJ).is_file(), reason="../shared/data is not beside the checkout")
def test_shipped_heads_were_built_from_the_current_training_files():
    written = PROJECT_ROOT / "bench" / "data" / "review_types_written.csv"
    expected = {train_heads.MAALEJ: SHARED / train_heads.MAALEJ, "bench/data/review_types_written.csv": written}
    for path in (INFORMATIVE_HEAD, REVIEW_TYPE_HEAD):
        with np.load(path, allow_pickle=False) as data:
            sources = json.loads(str(data["meta"]))["trained_on"]
        for source in sources:
            assert source["sha256"] == hashlib.sha256(expected[source["file"]].read_bytes()).hexdigest(), source["file"]


def test_the_informative_head_is_the_default_and_zero_shot_stays_a_choice(embedder, tmp_path, caplog):
    assert Settings.from_env({}).informative_model == INFORMATIVE_HEAD
    default = load_model(Settings.from_env({}).informative_model, embedder.encode)
    assert default.kind == "trained:informative_head.npz" and not default.needs_texts
    chosen = Settings.from_env({"SIFT_INFORMATIVE_MODEL": "zero-shot"}).informative_model
    with caplog.at_level(logging.WARNING, logger="flows.operators.informative"):
        assert load_model(chosen, embedder.encode).kind == "zero-shot"
    assert not caplog.records  # chosen on purpose: no warning
    with caplog.at_level(logging.WARNING, logger="flows.operators.informative"):
        assert load_model(tmp_path / "typo.npz", embedder.encode).kind == "zero-shot"
    assert "typo.npz" in caplog.text
    other = tmp_path / "mine.npz"
    InformativenessModel(weights=np.ones(384, dtype=np.float32), bias=0.0, threshold=0.3).save(other)
    assert load_model(Settings.from_env({"SIFT_INFORMATIVE_MODEL": str(other)}).informative_model,
                      embedder.encode).threshold == pytest.approx(0.3)


def test_the_informative_head_scores_actionable_reviews_above_praise(embedder):
    head = InformativenessModel.load(INFORMATIVE_HEAD)
    good, bad = head.score(embedder.encode(ACTIONABLE)), head.score(embedder.encode(EMPTY))
    assert good.min() > head.threshold > bad.max()


def test_the_type_head_is_shipped_but_zero_shot_stays_the_types_default(embedder):
    assert TypeClassifier(embedder.encode, Settings.from_env({}).types_model).model is None
    assert TypeClassifier(embedder.encode, Settings.from_env({"SIFT_TYPES_MODEL": "zero-shot"}).types_model).model is None
    head = TypeClassifier(embedder.encode, REVIEW_TYPE_HEAD)
    assert head.model.inputs == "embedding" and set(head.model.classes) == set(TYPES)
    texts = ["the app keeps crashing whenever I try to send money", "please add a dark mode and a widget",
             "awesome app"]
    assert [t for t, _ in head.classify(embedder.encode(texts), texts)] == ["bug_report", "feature_request", "rating"]


def test_write_npz_gives_the_same_bytes_for_the_same_arrays_and_refuses_objects(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "meta": np.array(json.dumps({"a": 1}))}
    write_npz(tmp_path / "a.npz", arrays)
    write_npz(tmp_path / "b.npz", dict(reversed(list(arrays.items()))))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz", allow_pickle=False) as data:
        assert np.array_equal(data["w"], arrays["w"])
    with pytest.raises(ValueError, match="Python objects"):
        write_npz(tmp_path / "c.npz", {"x": np.array([{"a": 1}], dtype=object)})


def _tiny_sets(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """A Maalej-shaped and a written-shaped CSV, and embeddings in which each type has its own direction."""
    rng = np.random.default_rng(7)
    rows = [(f"review {i} of kind {TYPES.index(t)}", t) for i, t in enumerate(TYPES * 20)]
    (tmp_path / "labeled").mkdir()
    pd.DataFrame({"id": range(60), "text": [t for t, _ in rows[:60]], "label": [y for _, y in rows[:60]]}).to_csv(
        tmp_path / train_heads.MAALEJ, index=False)
    written = tmp_path / "written.csv"
    pd.DataFrame({"text": [t for t, _ in rows[60:]], "label": [y for _, y in rows[60:]]}).to_csv(written, index=False)
    centres = rng.standard_normal((4, 384))
    vectors = np.vstack([centres[TYPES.index(y)] + 0.8 * rng.standard_normal(384) for _, y in rows])
    return written, tmp_path, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_train_heads_rebuilds_the_same_bytes_and_the_check_says_so(tmp_path):
    written, data, vectors = _tiny_sets(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    report = train_heads.build(data, first, folds=3, written=written, vectors=vectors)
    train_heads.build(data, second, folds=3, written=written, vectors=vectors)
    assert train_heads.compare(second, first) == {
        INFORMATIVE_HEAD.name: {"same_bytes": True}, REVIEW_TYPE_HEAD.name: {"same_bytes": True}}
    assert report["informative"]["rows"] == 80 and report["informative"]["informative"] == 60
    assert report["informative"]["nested_cv"]["f1"] > 0.9 and report["review_type"]["nested_cv"]["macro_f1"] > 0.9
    types = TypeModel.load(first / REVIEW_TYPE_HEAD.name)
    assert [t for t, _ in types.predict(vectors[:4].astype(np.float32), ["a"] * 4)] == list(TYPES)
    head = InformativenessModel.load(first / INFORMATIVE_HEAD.name)
    assert head.meta["trained_on"][1]["file"] == "bench/data/review_types_written.csv"
    # a different training set gives a different file, and compare() says how far apart they are
    train_heads.build(data, second, folds=3, written=written, vectors=vectors[::-1].copy())
    changed = train_heads.compare(second, first)[INFORMATIVE_HEAD.name]
    assert not changed["same_bytes"] and changed["max_abs_difference"] > 0


def test_bootstrap_difference_is_zero_for_equal_predictions_and_positive_for_a_better_one():
    truth = np.array([True, False] * 50)
    same = bootstrap_difference(f1_binary, truth.copy(), truth.copy(), truth)
    assert same == {"difference": 0.0, "ci95": [0.0, 0.0]}
    worse = truth.copy()
    worse[:30] = ~worse[:30]
    better = bootstrap_difference(f1_binary, truth.copy(), worse, truth)
    assert better["difference"] > 0 and better["ci95"][0] > 0


def test_a_head_is_called_better_only_when_it_wins_on_every_held_out_measure():
    def entry(head, zero, metric="f1"):
        return {"head": {metric: head}, "zero_shot": {metric: zero}}

    report = {"informativeness": {"arminer": entry(0.74, 0.72), "dev_a": entry(0.92, 0.91)},
              "review_type": {"clap_bug_feature": entry(0.70, 0.67, "mean"), "clap_mapped": entry(0.61, 0.60, "macro_f1")}}
    assert head_is_better(report) == (True, True)
    report["informativeness"]["dev_b"] = entry(0.90, 0.90)  # a tie is not better
    report["review_type"]["clap_second"] = entry(0.50, 0.55, "macro_f1")
    assert head_is_better(report) == (False, False)
