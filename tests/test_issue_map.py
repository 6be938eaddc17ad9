"""The shipped issue metric (flows/models/issue_map.npz): what it is made of, how it is trained, how the issue
step uses it."""

from __future__ import annotations

import hashlib
import json
import logging

import numpy as np
import pytest

from core.settings import PROJECT_ROOT, Settings
from flows import train_issue_map
from flows.dataflow import issue_config
from flows.models import ISSUE_MAP, write_npz
from flows.operators.issues import load_metric, represent

WRITTEN = PROJECT_ROOT / "bench" / "data" / "issue_groups_written.csv"


def test_the_shipped_map_is_plain_arrays_built_from_the_current_written_set():
    assert 0 < ISSUE_MAP.stat().st_size < 400_000
    with np.load(ISSUE_MAP, allow_pickle=False) as data:
        assert data["weights"].shape == (384, 384)
        meta = json.loads(str(data["meta"]))
    assert meta["command"] == "python -m flows.train_issue_map" and "GPL" not in meta["licence"]
    assert meta["trained_on"] == [{"file": "bench/data/issue_groups_written.csv",
                                   "sha256": hashlib.sha256(WRITTEN.read_bytes()).hexdigest()}]


def test_the_written_set_has_neighbouring_issues_and_generic_reviews_per_app():
    texts, apps, issues = train_issue_map.read_groups([WRITTEN])
    assert len(texts) >= 1000 and len(set(zip(apps, texts))) == len(texts)  # no review written twice for one app
    for app in set(apps):
        named = [i for a, i in zip(apps, issues) if a == app and "#" not in i]
        generic = [i for a, i in zip(apps, issues) if a == app and "#" in i]
        assert len(set(named)) >= 10 and min(named.count(i) for i in set(named)) >= 6
        assert len(generic) == len(set(generic)) >= 10  # each generic review is an issue of its own


def test_generic_reviews_of_two_files_are_never_one_issue(tmp_path):
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("app,issue,text\nx,generic,nice app\nx,login_fails,cannot log in\n", encoding="utf-8")
    _, _, issues = train_issue_map.read_groups([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert issues[1] == issues[3] == "x|login_fails" and issues[0] != issues[2]


def test_read_groups_refuses_a_row_without_an_issue(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("app,issue,text\nx,login_fails,cannot log in\nx,,no issue here\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="row 3 lacks text, app or issue"):
        train_issue_map.read_groups([bad])


def test_training_pulls_an_issue_together_and_pushes_an_apps_other_issues_apart():
    rng = np.random.default_rng(3)
    shared = rng.standard_normal(384)  # every review of the app shares a direction (its tone), as MiniLM's do
    centres = rng.standard_normal((3, 384))
    vectors = np.vstack([shared + 0.6 * centres[k] + rng.standard_normal(384) for k in range(3) for _ in range(6)])
    issues = [f"a|issue{k}" for k in range(3) for _ in range(6)]
    apps = ["a"] * len(issues)
    before = train_issue_map.pair_similarity(vectors, issues, apps)
    weights = train_issue_map.train_map(vectors, issues, apps, epochs=200)
    after = train_issue_map.pair_similarity(train_issue_map.apply_map(vectors, weights), issues, apps)
    assert after["same_issue"] > before["same_issue"] and after["other_issue"] < before["other_issue"]
    again = train_issue_map.train_map(vectors, issues, apps, epochs=200)
    assert np.array_equal(weights, again)  # fixed seed, full batch: the same map every time


def test_the_issue_step_compares_under_the_named_map_and_warns_when_it_is_missing(tmp_path, caplog):
    swap = np.eye(4, dtype=np.float32)[[1, 0, 2, 3]] * 2.0
    path = tmp_path / "map.npz"
    write_npz(path, {"weights": swap.astype(np.float16)})
    x = (1.0, 0.0, 0.0, 0.0)
    assert np.allclose(represent(x, str(path)), [0.0, 1.0, 0.0, 0.0])
    assert np.allclose(represent(x), [1.0, 0.0, 0.0, 0.0])
    with caplog.at_level(logging.WARNING, logger="flows.operators.issues"):
        assert load_metric(str(tmp_path / "missing.npz")) is None
    assert "no issue metric file" in caplog.text and np.allclose(represent(x, str(tmp_path / "missing.npz")), x)


def test_the_shipped_map_is_the_default_and_none_turns_it_off():
    assert issue_config(Settings.from_env({})).metric.endswith("flows/models/issue_map.npz")
    assert issue_config(Settings.from_env({"SIFT_ISSUE_METRIC": "none"})).metric == ""


def test_under_the_shipped_map_one_issues_paraphrases_stand_further_from_a_neighbouring_issue(embedder):
    """Texts not in the written set: two reports of missing referral rewards, two of cashback that stopped, and two
    rants; the map widens the gap between a pair of one issue and a pair across the two, and makes rants less alike."""
    texts = ["my referral bonus never came even though my friend signed up",
             "invited two friends with my code, still no refer reward",
             "no cashback on any payment anymore", "they stopped giving cashback on bill payments",
             "app is so bad worst experience", "horrible app never use it"]
    vectors = embedder.encode(texts)

    def sims(metric: str) -> tuple[float, float, float]:
        z = np.stack([represent(tuple(v), metric) for v in vectors])
        s = z @ z.T
        return (s[0, 1] + s[2, 3]) / 2, float(s[:2, 2:4].mean()), s[4, 5]

    raw_same, raw_across, raw_rants = sims("")
    same, across, rants = sims(str(ISSUE_MAP))
    assert same - across > raw_same - raw_across + 0.01
    assert rants < raw_rants
