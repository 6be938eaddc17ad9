"""bench.coherence: a blind sheet of sampled tickets (no titles, no injected incident) and the readers' score."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from bench import coherence
from bench.replay import INCIDENT_ID
from connectors.sqlite_store import SqliteStore
from tests.test_store_contract import enriched

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)


def _stream(work, tickets: dict[str, list[tuple[str, str]]]) -> None:
    (work / "replay").mkdir(parents=True)
    store = SqliteStore(work / "replay" / "file.db")
    store.setup()
    reviews, docs = [], []
    for n, (issue, members) in enumerate(tickets.items()):
        reviews += [enriched(rid, text=text, cluster=issue, seed=i) for i, (rid, text) in enumerate(members)]
        docs.append({"id": f"tkt-{n}", "app_id": "paynest", "updated_at": T0.isoformat(), "version": 1,
                     "title": f"[PayNest] Payments: secret title {n}", "cluster_id": f"paynest:payments:{issue}",
                     "representatives": [{"review_id": members[0][0]}]})
    store.write(reviews)
    store.write_documents("tickets", docs)
    store.close()


def test_the_sheet_shows_reviews_only_leaves_injected_incidents_out_and_the_score_counts_yes(tmp_path):
    _stream(tmp_path / "a", {"i0": [(f"paynest/a{i}", f"otp never arrives {i}") for i in range(12)],
                             "i1": [(f"paynest/{INCIDENT_ID}-{i}", f"qr payment error {i}") for i in range(6)]})
    _stream(tmp_path / "b", {"i0": [(f"paynest/b{i}", f"refund pending {i}") for i in range(3)]})
    out = tmp_path / "sheet"
    result = coherence.write_sheet([tmp_path / "a", tmp_path / "b"], 30, 5, out, "cmd")
    assert result["tickets"] == 2 and result["available"] == {"a": 1, "b": 1}
    sheet = (out / "sheet.txt").read_text()
    assert "secret title" not in sheet and "qr payment error" not in sheet
    assert sheet.count("=== TICKET") == 2 and sheet.count("otp never arrives") == coherence.SHOWN
    key = (out / "key.csv").read_text().splitlines()
    (out / "reader.tsv").write_text("1\tyes\tone issue\n2\tno\tmixed\n")
    scored = coherence.score(out / "key.csv", out / "reader.tsv")
    assert (scored["coherent"], scored["tickets"], scored["share"]) == (1, 2, 0.5) and len(key) == 3


def test_score_reads_several_readers_into_one_page_and_one_annotation_file_each(tmp_path, capsys):
    _stream(tmp_path / "a", {"i0": [(f"paynest/a{i}", f"otp never arrives {i}") for i in range(4)]})
    _stream(tmp_path / "b", {"i0": [(f"paynest/b{i}", f"refund pending {i}") for i in range(3)]})
    out = tmp_path / "sheet"
    coherence.write_sheet([tmp_path / "a", tmp_path / "b"], 30, 5, out, "cmd")
    (out / "a.tsv").write_text("1\tyes\tone issue\n2\tyes\tone issue\n")
    (out / "b.tsv").write_text("1\tyes\tone issue\n2\tno\tmixed\n")
    doc, notes = tmp_path / "doc.md", [tmp_path / "a.csv", tmp_path / "b.csv"]
    assert coherence.main(["score", "--key", str(out / "key.csv"), str(out / "key.csv"), "--answers", str(out / "a.tsv"),
                           str(out / "b.tsv"), "--doc", str(doc), "--annotations", *map(str, notes)]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (last["lowest_share"], last["highest_share"]) == (0.5, 1.0)
    page = doc.read_text()
    assert "reader A: **2 of 2 (100%)**" in page and "reader B: **1 of 2 (50%)**" in page
    assert "all readers' verdicts: **3 of 4 (75%)**" in page
    assert [len(n.read_text().splitlines()) for n in notes] == [3, 3] and "no" in notes[1].read_text()
