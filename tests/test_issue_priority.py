"""Issue priority: the fitted rule, its tally, the flow's and the bench's use of the same function, and severity."""

from __future__ import annotations

import dataclasses
import pickle
from datetime import datetime, timedelta, timezone

import numpy as np

from bench.issue_priority import gold_issues, issue_labels
from bench.issue_set import import_priority
from flows.operators.issue_priority import (
    HIGH_AT, MAX_VERSIONS, MEDIUM_AT, WEEKS, AppBaseline, IssueFacts, Tally, facts_of, issue_priority, level_of,
    merge_tallies, signals,
)
from flows.operators.issues import IssueConfig, issue_step
from flows.operators.tickets import Thresholds, WindowStats, severity
from flows.operators.volume import volume_step
from core.records import EnrichedReview, Measures, Review

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def facts(reviews: float, informativeness: float = 0.8, app_reviews: float = 200.0, rating: float | None = 2.0,
          app_rating: float | None = 3.5, versions: int = 1) -> IssueFacts:
    return IssueFacts(reviews=reviews, rating=rating, versions=versions, negative=reviews,
                      informativeness=informativeness, bug_share=0.5, thumbs_up=0.0, review_priority=0.6, this_week=int(reviews),
                      last_week=0, app=AppBaseline(app_reviews, app_rating, app_reviews / 2))


def test_priority_rises_with_size_share_and_informativeness_and_stays_in_0_1():
    assert issue_priority(facts(30)).score > issue_priority(facts(3)).score > issue_priority(facts(1)).score
    assert issue_priority(facts(10, app_reviews=20)).score > issue_priority(facts(10, app_reviews=2000)).score
    assert issue_priority(facts(5, informativeness=0.9)).score > issue_priority(facts(5, informativeness=0.3)).score
    for n in (0, 1, 10, 10_000):
        assert 0.0 <= issue_priority(facts(n)).score <= 1.0


def test_level_thresholds():
    assert level_of(HIGH_AT) == "high" and level_of(HIGH_AT - 1e-6) == "medium"
    assert level_of(MEDIUM_AT) == "medium" and level_of(MEDIUM_AT - 1e-6) == "low"


def test_the_reason_states_the_facts_the_rule_uses():
    p = issue_priority(facts(34, app_reviews=340, rating=1.4, app_rating=3.9, versions=3))
    assert p.reason.startswith("34 reviews, 10% of the app's issue reviews")
    assert "1.4★ against the app's 3.9★" in p.reason and "3 versions" in p.reason and "informativeness 0.80" in p.reason


def add(t: Tally, at: datetime, rating: int | None = 1, version: str = "1.0") -> None:
    t.add(at.timestamp(), rating, negative=bool(rating and rating <= 2), informativeness=0.7, version=version)


def test_the_tally_is_bounded_picklable_and_decays_with_event_time():
    t = Tally()
    for i in range(40):
        add(t, T0 + timedelta(days=i), version=f"1.{i}")
    assert len(t.versions) <= MAX_VERSIONS and len(t.weeks) <= WEEKS
    assert pickle.loads(pickle.dumps(t)) == t
    assert 20 < t.reviews < 40  # a 30-day half-life over 40 days
    fresh = Tally()
    for i in range(10):
        add(fresh, T0 + timedelta(hours=i))
    assert 9.9 < fresh.reviews < 10 and fresh.mean_rating == 1.0  # nine hours of a 30-day half-life
    late = Tally()
    for i in (9, 0, 5):  # out of order: the same counts
        add(late, T0 + timedelta(hours=i))
    inorder = Tally()
    for i in (0, 5, 9):
        add(inorder, T0 + timedelta(hours=i))
    assert abs(late.reviews - inorder.reviews) < 1e-9


def test_merging_two_tallies_counts_both():
    a, b, both = Tally(), Tally(), Tally()
    for i in range(6):
        add(a if i % 2 else b, T0 + timedelta(hours=i), rating=1 + i % 5, version=f"2.{i % 3}")
        add(both, T0 + timedelta(hours=i), rating=1 + i % 5, version=f"2.{i % 3}")
    merged = merge_tallies(a, b)
    assert abs(merged.reviews - both.reviews) < 1e-9 and abs(merged.rating_sum - both.rating_sum) < 1e-9
    assert set(merged.versions) == set(both.versions) and merged.weeks == both.weeks


def enriched(i: int, app: str, vector: np.ndarray, rating: int, at: datetime, version: str) -> EnrichedReview:
    text = "payment failed and money debited from my account twice"
    r = Review(id=f"{app}-{i}", app_id=app, text=text, source="test", created_at=at, received_at=at, origin="t",
               rating=rating, app_version=version)
    return EnrichedReview(review=r, measures=Measures(9, 0.0), lang="en", text_en=text, translated=False,
                          primary_label="payments", label_score=0.9, embedding=tuple(vector.tolist()),
                          review_type="bug_report", sentiment="negative", informativeness=0.6 + 0.03 * (i % 5))


def test_the_flow_and_the_bench_compute_one_issue_priority():
    """An issue's reviews through the flow's app volume and issue steps, and the same rows as a gold group in
    the bench: the same priority and reason."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal(384)
    rows = []
    for i in range(12):
        v = base + 0.05 * rng.standard_normal(384)
        rows.append(enriched(i, "paynest", v / np.linalg.norm(v), 1 + i % 3, T0 + timedelta(minutes=7 * i),
                             f"4.{i % 3}"))
    app_state, issue_state, out = None, None, []
    for item in rows:
        app_state, stamped = volume_step(app_state, item)
        issue_state, done = issue_step(issue_state, stamped, IssueConfig())
        out.append(done)
    assert len({o.cluster_id for o in out}) == 1
    keys, _, gold_facts, _ = gold_issues(rows, ["debit"] * len(rows), ["paynest"] * len(rows))
    expected = issue_priority(gold_facts[0])
    assert out[-1].cluster_priority == expected.score and out[-1].cluster_priority_reason == expected.reason
    assert "12 reviews" in expected.reason and "3 versions" in expected.reason
    assert signals(gold_facts[0])["share"] == signals(facts_of(issue_state.issues[0].tally, AppBaseline(
        out[-1].app_issue_reviews, out[-1].app_rating, out[-1].app_negative)))["share"]


def test_severity_of_a_passing_window_follows_the_issue_priority_and_a_spike_raises_it_one_step():
    limits = Thresholds(min_reviews=5)
    for priority, level, spiked in ((0.1, "low", "medium"), (0.3, "medium", "high"), (0.8, "high", "blocker")):
        stats = WindowStats(count=20, issue_priority=priority)
        assert severity(stats, limits, "day", 1e-9) == level
        assert severity(stats, limits, "hour", 1e-13) == spiked
        assert severity(dataclasses.replace(stats, count=9), limits, "hour", 1e-13) == level


def test_gold_priority_is_imported_as_ids_and_labels_and_joined_per_issue(tmp_path):
    key = tmp_path / "key.csv"
    key.write_text("n,app,issue\n1,pay,otp_missing\n2,pay,none|s.csv:4\n", encoding="utf-8")
    (tmp_path / "a.tsv").write_text("1\tHIGH\n2\tNORMAL\n", encoding="utf-8")
    (tmp_path / "b.tsv").write_text("2\tNORMAL\n1\tNORMAL\n", encoding="utf-8")
    out = tmp_path / "priority.csv"
    summary = import_priority(key, [tmp_path / "a.tsv", tmp_path / "b.tsv"], out)
    assert summary["high_a"] == 1 and summary["high_b"] == 0
    assert out.read_text(encoding="utf-8").splitlines() == [
        "app,issue,priority_a,priority_b", "pay,none|s.csv:4,NORMAL,NORMAL", "pay,otp_missing,HIGH,NORMAL"]
    (tmp_path / "b.tsv").write_text("1\tNORMAL\n", encoding="utf-8")
    try:
        import_priority(key, [tmp_path / "a.tsv", tmp_path / "b.tsv"], out)
    except SystemExit as e:
        assert "missing [2]" in str(e)
    else:
        raise AssertionError("an answer sheet missing an issue was accepted")
    assert issue_labels(["x", "x", "y"], ["HIGH", "high", "NORMAL"]) == {"x": 1, "y": 0}


def test_state_from_a_snapshot_taken_before_tallies_existed_still_runs():
    """Bytewax restores pickled state: an app or an issue pickled by the previous version has no tally."""
    rng = np.random.default_rng(8)
    v = rng.standard_normal(384)
    first = enriched(0, "paynest", v / np.linalg.norm(v), 1, T0, "4.0")
    app_state, stamped = volume_step(None, first)
    issue_state, _ = issue_step(None, stamped, IssueConfig())
    del app_state.__dict__["tally"]
    for issue in issue_state.issues.values():
        del issue.__dict__["tally"]
    old_app, old_issues = pickle.loads(pickle.dumps(app_state)), pickle.loads(pickle.dumps(issue_state))
    second = enriched(1, "paynest", v / np.linalg.norm(v), 1, T0 + timedelta(minutes=1), "4.0")
    app_state, stamped = volume_step(old_app, second)
    _, done = issue_step(old_issues, stamped, IssueConfig())
    assert done.cluster_id.endswith(":i0") and done.cluster_priority_reason.startswith("1 review")  # counted from the restart
    assert app_state.tally.reviews > 0.99
