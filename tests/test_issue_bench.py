"""The development set of gold issues and `python -m bench.issues` on it (reads ../shared/data at run time)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from bench.issue_set import ANNOTATIONS, PRIORITY, READERS, build, load_annotation, select_rows
from bench.issues import bcubed, main

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is not there")


def test_bcubed_on_a_worked_example():
    gold = ["a", "a", "a", "b", "b"]
    assert bcubed(gold, gold) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    alone = bcubed(gold, ["1", "2", "3", "4", "5"])
    assert alone["precision"] == 1.0 and alone["recall"] == round((3 * (1 / 3) + 2 * (1 / 2)) / 5, 4)
    one = bcubed(gold, ["x"] * 5)
    assert one["recall"] == 1.0 and one["precision"] == round((3 * 3 / 5 + 2 * 2 / 5) / 5, 4)


@needs_shared
def test_committed_issue_annotations_point_at_the_shared_rows():
    rows = select_rows(SHARED)
    assert 600 <= len(rows) <= 1000 and len({r.app for r in rows}) > 20
    for reader in READERS:
        groups = load_annotation(reader, rows)  # checks set, position and id of every row
        concrete = [g for g in groups if g != "none"]
        assert len(concrete) > 0.8 * len(rows) and len(set(concrete)) > 100
    with (ANNOTATIONS / "reader_a.csv").open(newline="") as f:
        assert next(csv.reader(f)) == ["set", "row", "id", "group"]  # ids and groups only, never texts


@needs_shared
def test_an_annotation_of_another_version_of_the_set_is_refused(tmp_path):
    rows = select_rows(SHARED)
    lines = (ANNOTATIONS / "reader_a.csv").read_text(encoding="utf-8").splitlines()
    head, first, *rest = lines
    parts = first.split(",")
    parts[2] = parts[2] + "x"
    (tmp_path / "reader_a.csv").write_text("\n".join([head, ",".join(parts), *rest]) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="another version"):
        load_annotation("a", rows, tmp_path)


@needs_shared
def test_online_issues_and_issue_priority_against_the_gold_and_their_baselines(tmp_path, capsys):
    data = tmp_path / "issues_dev.csv"
    summary = build(SHARED, data)
    assert summary["rows"] == len(select_rows(SHARED))
    assert summary["rows_with_priority"] == summary["rows"]  # every row's issue has both readers' priority
    code = main(["--data", str(data), "--text-col", "text", "--gold-col", "issue_a", "--group-col", "app",
                 "--rating-col", "rating", "--agreement-col", "issue_b", "--version-col", "version",
                 "--reach-col", "thumbs_up", "--priority-col", "priority_a", "--priority-other-col", "priority_b",
                 "--priority-transfer-col", "set"])
    assert code == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # issue #22's acceptance on the development set: the issue priority beats size alone by 0.05 AUC in one run
    priority = report["priority"]
    assert priority["rule"]["auc"] >= priority["baselines"]["size"] + 0.05, priority
    assert priority["rule_cv"]["auc_leave_one_app_out"] >= priority["baselines"]["size"] + 0.05, priority
    assert priority["readers"]["kappa"] > 0.6, priority["readers"]
    # fitted on one source's issues only, the rule still beats size alone on the other's
    assert all(t["rule"] > t["size"] for t in priority["transfer"].values()) and len(priority["transfer"]) == 2
    online = report["online"]
    batch = max(report["agglomerative"], report["hdbscan"], key=lambda r: r["f1"])
    # The raw-embedding bar trades B³ F1 for large issues that are one gold issue (what a ticket reader asks):
    # measured 0.707 against 0.727 (agglomerative, best of its sweep), and 13 of 22 large clusters pure against 14 of 26.
    assert online["f1"] >= batch["f1"] - 0.03, report
    assert online["large_pure"] / online["large"] >= batch["large_pure"] / batch["large"], report
    assert online["f1"] >= report["singletons"]["f1"] + 0.05, report
    assert report["agreement"]["f1"] > 0.8, report
    assert online["ms_per_review"] < 3.0  # generous: timing is noisy here; bench.throughput measures it


@needs_shared
def test_committed_gold_priority_is_ids_and_labels_for_every_reader_a_issue():
    rows = select_rows(SHARED)
    groups = load_annotation("a", rows)
    issues = {(r.app, g if g != "none" else f"none|{r.set}:{r.row}") for r, g in zip(rows, groups)}
    with PRIORITY.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["app", "issue", "priority_a", "priority_b"]  # never texts
        marks = list(reader)
    assert {(m["app"], m["issue"]) for m in marks} == issues
    assert all(m["priority_a"] in ("HIGH", "NORMAL") and m["priority_b"] in ("HIGH", "NORMAL") for m in marks)


def test_large_purity_counts_clusters_big_enough_for_a_ticket_and_those_a_reader_calls_one_issue():
    from bench.issues import large_purity

    gold = ["a"] * 5 + ["a"] * 4 + ["b"] * 2 + ["c"] * 4
    predicted = ["x"] * 5 + ["y"] * 6 + ["z"] * 4  # x: all a; y: 4 a + 2 b (0.67); z: too small
    assert large_purity(gold, predicted) == (2, 1)
    assert large_purity(gold, predicted, share=0.6) == (2, 2)


def test_a_learned_map_pulls_one_issues_reviews_together_and_pushes_the_apps_others_apart():
    from bench.issue_metric import train_map

    rng = np.random.default_rng(3)
    shared = rng.standard_normal(384)
    a = shared + 0.9 * rng.standard_normal((6, 384))  # issue a: near the app's common direction
    b = shared + 0.9 * rng.standard_normal((6, 384))  # issue b: the same, different noise
    x = np.vstack([a, b])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    gold, groups = ["a"] * 6 + ["b"] * 6, ["app"] * 12

    def gap(v: np.ndarray) -> float:
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        s = v @ v.T
        within = (s[:6, :6].sum() - 6 + s[6:, 6:].sum() - 6) / 60
        return float(within - s[:6, 6:].mean())

    mapped = x @ train_map(x, gold, groups, repel=3.0, epochs=80)
    assert gap(mapped) > gap(x) + 0.05
