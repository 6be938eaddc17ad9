from __future__ import annotations

import pickle
from datetime import datetime, timezone

import numpy as np

from flows.operators.cluster import ClusterConfig, ClusterState, cluster_step, learn_predict, project, tokens
from core.records import EnrichedReview, Measures, Review

CFG = ClusterConfig(n_clusters=3, dims=16, seed=7)
T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def item(i: int, vector: np.ndarray, text: str) -> EnrichedReview:
    review = Review(id=f"r{i}", app_id="paynest", text=text, source="test", created_at=T0, received_at=T0, origin="t")
    v = vector / np.linalg.norm(vector)
    return EnrichedReview(review=review, measures=Measures(3, 0.0), lang="en", text_en=text, translated=False,
                          primary_label="payments", label_score=0.9, embedding=tuple(v.tolist()))


def two_topics(n: int, seed: int = 0) -> list[EnrichedReview]:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(384), rng.standard_normal(384)
    out = []
    for i in range(n):
        base, text = (a, "payment failed money debited") if i % 2 == 0 else (b, "cashback reward missing")
        out.append(item(i, base + 0.05 * rng.standard_normal(384), text))
    return out


def run(items, state=None):
    outs = []
    for it in items:
        state, out = cluster_step(state, it, CFG)
        outs.append(out)
    return state, outs


def test_projection_is_deterministic_and_unit_length():
    v = tuple(np.ones(384) / np.sqrt(384))
    p1, p2 = project(v, CFG), project(v, CFG)
    assert p1 == p2 and len(p1) == 16
    assert abs(sum(x * x for x in p1.values()) - 1.0) < 1e-5


def test_same_topic_lands_in_the_same_cluster_and_topics_separate():
    _, outs = run(two_topics(60))
    late = outs[20:]
    a_ids = {o.theme_id for o in late[0::2]}
    b_ids = {o.theme_id for o in late[1::2]}
    assert len(a_ids) == 1 and len(b_ids) == 1 and a_ids != b_ids
    assert outs[0].theme_id.startswith("paynest:payments:c")


def test_same_seed_same_assignments():
    _, a = run(two_topics(30))
    _, b = run(two_topics(30))
    assert [o.theme_id for o in a] == [o.theme_id for o in b]


def test_state_survives_a_pickle_round_trip():
    items = two_topics(40)
    state, _ = run(items[:30])
    restored = pickle.loads(pickle.dumps(state))
    assert isinstance(restored, ClusterState)
    _, cont_a = run(items[30:], state)
    _, cont_b = run(items[30:], restored)
    assert [o.theme_id for o in cont_a] == [o.theme_id for o in cont_b]
    assert len(pickle.dumps(state)) < 200_000  # small enough to snapshot often


def test_tokens_drop_stopwords_and_short_words():
    assert tokens("The UPI payment is NOT working, please fix it!") == ["upi", "payment", "working", "fix"]


def test_themes_have_a_readable_name():
    _, outs = run(two_topics(40))
    assert set(outs[-2].theme_name.split(" / ")) <= {"payment", "failed", "money", "debited"}
    assert len(outs[-2].theme_name.split(" / ")) == 3
    assert "cashback" in outs[-1].theme_name and "payment" not in outs[-1].theme_name


def test_theme_ids_survive_a_restart_from_a_snapshot():
    """A recovery restart resumes from the pickled state: later reviews keep their cluster ids."""
    items = two_topics(80)
    state, first = run(items[:40])
    _, uninterrupted = run(items[40:], state)
    _, resumed = run(items[40:], pickle.loads(pickle.dumps(state)))
    assert [o.theme_id for o in resumed] == [o.theme_id for o in uninterrupted]
    assert {o.theme_id for o in resumed} == {o.theme_id for o in first[20:]}


def test_learn_predict_is_rivers_learn_predict_one_bit_for_bit():
    """The array version gives River's answers and leaves River's centres and random state exactly as River would,
    from empty centres (River draws their coordinates on first use) through hundreds of updates."""
    cfg = ClusterConfig()
    rng = np.random.default_rng(3)
    ours, rivers = ClusterState.new(cfg).model, ClusterState.new(cfg).model
    for i in range(400):
        v = rng.standard_normal(384)
        v[: 1 + i % 7] += 3.0  # a few topics, so several centres win
        x = project(tuple(v.tolist()), cfg)
        assert learn_predict(ours, x) == rivers.learn_predict_one(x)
    assert {c: dict(v) for c, v in ours.centers.items()} == {c: dict(v) for c, v in rivers.centers.items()}
    assert ours._rng.getstate() == rivers._rng.getstate()
