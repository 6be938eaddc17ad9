"""Review-type quality checks: the second-annotation agreement report and the project's written set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.types_quality import ANNOTATED_SETS, ANNOTATIONS, evaluate_agreement, evaluate_types
from flows.operators.review_type import TYPES

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "labeled"
WRITTEN = ROOT / "bench" / "data" / "review_types_written.csv"

TEXTS = [
    ("the app crashes every time I open my statement", "bug_report"),
    ("please add an option to export my transactions", "feature_request"),
    ("I pay my rent with it on the first of every month and the receipt lands in my mail at once", "user_experience"),
    ("great app", "rating"),
]


def _tiny_set(tmp_path: Path) -> tuple[Path, Path]:
    data, notes = tmp_path / "data", tmp_path / "notes"
    data.mkdir(), notes.mkdir()
    name = "review_types_maalej2016.csv"
    pd.DataFrame({"id": [7, 8, 9, 10], "text": [t for t, _ in TEXTS], "label": [y for _, y in TEXTS]}).to_csv(data / name, index=False)
    # The annotator agrees with the set on three rows and calls the request a bug report.
    pd.DataFrame({"row": [0, 1, 2, 3], "id": [7, 8, 9, 10],
                  "label": ["bug_report", "bug_report", "user_experience", "rating"]}).to_csv(notes / name, index=False)
    return data, notes


def test_agreement_compares_set_annotator_and_classifier(tmp_path, embedder):
    data, notes = _tiny_set(tmp_path)
    report = evaluate_agreement(data, annotations=notes, encode=embedder.encode)["review_types_maalej2016.csv"]
    assert report["rows"] == 4 and report["classifier"] == "zero-shot"
    annotator = report["annotator_vs_set"]
    assert annotator["f1"]["user_experience"] == annotator["f1"]["rating"] == 1.0
    assert annotator["f1"]["feature_request"] == 0.0 and annotator["f1"]["bug_report"] == pytest.approx(2 / 3, abs=1e-4)
    assert report["classifier_vs_set"]["macro_f1"] == 1.0  # these four are textbook cases for the zero-shot rules


def test_agreement_refuses_an_annotation_of_another_version_of_the_set(tmp_path, embedder):
    data, notes = _tiny_set(tmp_path)
    frame = pd.read_csv(notes / "review_types_maalej2016.csv")
    frame.loc[1, "id"] = 99
    frame.to_csv(notes / "review_types_maalej2016.csv", index=False)
    with pytest.raises(SystemExit, match="rows and ids do not match"):
        evaluate_agreement(data, annotations=notes, encode=embedder.encode)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside the checkout")
def test_committed_annotations_point_at_rows_of_the_shared_sets():
    for file in sorted(ANNOTATIONS.glob("*.csv")):
        second = pd.read_csv(file)
        source = pd.read_csv(SHARED / file.name)
        assert file.name in ANNOTATED_SETS and len(second) == 200 and second["row"].is_unique
        assert (source["id"].iloc[second["row"]].astype(str).values == second["id"].astype(str).values).all()
        assert set(second["label"]) == set(TYPES)


def test_zero_shot_types_on_the_projects_written_reviews(tmp_path):
    """The written set has clean labels; a bug report or request without cue words must still be found."""
    result = evaluate_types(WRITTEN)
    assert result["rows"] == len(pd.read_csv(WRITTEN)) > 900
    assert result["macro_f1"] >= 0.75, result
    assert min(c["f1"] for c in result["per_class"].values()) >= 0.65, result
