"""bench.competitors: the stratified sample, the blind sheet and the readers' scores (no model, no flow)."""

from __future__ import annotations

import csv
import json

import pytest

from bench.competitors import cohen_kappa, main, read_answers, score, stratified, write_sheet
from tests.helpers import ROOT


def _found(direction: str, n: int) -> list[dict]:
    return [{"review_id": f"{direction}-{i}", "stream": "s", "app": "PayNest", "competitor": "Google Pay",
             "direction": direction, "feature": "hide payments" if i % 2 else "", "cue": "c", "text": f"review {len(direction)}-{i}"}
            for i in range(n)]


def test_the_sample_fills_the_request_directions_first_and_takes_all_when_short():
    found = _found("competitor_ahead", 40) + _found("switching_away", 10) + _found("own_ahead", 40) + _found(
        "switching_to", 5) + _found("neutral", 400)
    picked = stratified(found, 100, seed=3)
    counts = {d: sum(x["direction"] == d for x in picked) for d in ("competitor_ahead", "switching_away", "own_ahead",
                                                                     "switching_to", "neutral")}
    assert len(picked) == 100 and counts["switching_away"] == 10 and counts["switching_to"] == 5
    assert counts["competitor_ahead"] == 40  # the switching_away shortfall goes to competitor_ahead first
    assert stratified(found, 100, seed=3) == picked and stratified(found, 100, seed=4) != picked


def test_the_sheet_never_shows_the_direction_and_the_key_does(tmp_path):
    picked = _found("competitor_ahead", 2) + _found("own_ahead", 1)
    write_sheet(picked, tmp_path)
    sheet = (tmp_path / "sheet.txt").read_text()
    assert "#3" in sheet and "competitor: Google Pay" in sheet and "feature phrase: (none)" in sheet
    assert "competitor_ahead" not in sheet.split("\n", 3)[3] and "own_ahead" not in sheet
    rows = list(csv.DictReader((tmp_path / "key.csv").open()))
    assert [r["direction"] for r in rows] == ["competitor_ahead", "competitor_ahead", "own_ahead"]


def test_scores_precision_per_direction_concreteness_and_kappa(tmp_path):
    key = {1: {"direction": "competitor_ahead", "feature": "hide payments"},
           2: {"direction": "competitor_ahead", "feature": ""},
           3: {"direction": "switching_away", "feature": "postpaid eligibility"},
           4: {"direction": "own_ahead", "feature": ""}}
    a = {1: ("competitor_ahead", True), 2: ("neutral", False), 3: ("switching_away", False), 4: ("own_ahead", False)}
    b = {1: ("competitor_ahead", True), 2: ("competitor_ahead", False), 3: ("switching_away", True),
         4: ("own_ahead", False)}
    result = score(key, {"a": a, "b": b})
    ra = result["readers"]["a"]
    assert ra["precision"]["competitor_ahead"] == {"n": 2, "correct": 1, "precision": 0.5}
    assert ra["precision"]["switching_away"]["precision"] == 1.0 and ra["concrete_share"] == 0.5
    assert result["readers"]["b"]["precision"]["competitor_ahead"]["precision"] == 1.0
    g = result["agreement"]
    assert g["direction_percent"] == 0.75 and g["concrete_percent"] == 0.5 and g["concrete_rows"] == 2
    assert g["direction_kappa"] == round(cohen_kappa([x[0] for x in a.values()], [x[0] for x in b.values()]), 3)
    assert cohen_kappa(["x", "y"], ["x", "y"]) == 1.0 and cohen_kappa(["x", "y"], ["y", "x"]) == -1.0


def test_answers_are_read_as_tab_separated_lines_and_a_bad_direction_is_an_error(tmp_path):
    good = tmp_path / "a.tsv"
    good.write_text("n\tdirection\tconcrete\n1\tcompetitor_ahead\tyes\n#2\tneutral\tno\n")
    assert read_answers(good) == {1: ("competitor_ahead", True), 2: ("neutral", False)}
    bad = tmp_path / "b.tsv"
    bad.write_text("1\tahead\tyes\n")
    with pytest.raises(ValueError, match="b.tsv:1"):
        read_answers(bad)


def test_score_mode_writes_the_doc_and_ids_plus_labels_only(tmp_path, capsys):
    picked = _found("competitor_ahead", 2) + _found("switching_away", 2)
    write_sheet(picked, tmp_path)
    for name, answers in (("reader_a", ["competitor_ahead\tyes", "neutral\tno", "switching_away\tyes", "switching_away\tno"]),
                          ("reader_b", ["competitor_ahead\tyes", "competitor_ahead\tno", "switching_away\tyes",
                                        "own_ahead\tno"])):
        (tmp_path / f"{name}.tsv").write_text("".join(f"{i}\t{a}\n" for i, a in enumerate(answers, 1)))
    doc, out = tmp_path / "competitors.md", tmp_path / "annotations"
    assert main(["--score", str(tmp_path), "--readers", str(tmp_path / "reader_a.tsv"), str(tmp_path / "reader_b.tsv"),
                 "--doc", str(doc), "--annotations", str(out)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["readers"]["reader_a"]["precision"]["switching_away"]["precision"] == 1.0
    assert "| reader_a |" in doc.read_text() and "Cohen's kappa" in doc.read_text()
    rows = list(csv.DictReader((out / "reader_a.csv").open()))
    assert list(rows[0]) == ["review_id", "stream", "competitor", "direction", "concrete"]
    assert all(not any(v.startswith("review ") for v in r.values()) for r in rows)  # no review text


def test_the_guideline_names_every_direction():
    text = (ROOT / "docs" / "annotation" / "competitor-guideline.md").read_text()
    assert all(f"`{d}`" in text for d in ("competitor_ahead", "switching_away", "own_ahead", "switching_to", "neutral"))
