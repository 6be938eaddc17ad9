"""Issue 18.4: every physical line of a JSONL file (split on \\n only) ends as exactly one record, and the run
summary agrees. A raw CR inside a line split it in two, lines holding only \\x1c, \\x0c, U+0085 or U+3000
vanished without a count, origin line numbers drifted after either, and the summary printed `MISSING 15`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

from connectors.files import count_records, origin, records
from connectors.store import StoreCounts
from flows.report import InputTally, format_summary, tally_input
from tests.helpers import ROOT, run_flow


def _ok(rid: str, text: str) -> str:
    return json.dumps({"id": rid, "app_id": "paynest", "text": text})


# (line, what it must become); joined with "\n" below, so every entry is one physical line
HOSTILE: list[tuple[str, str]] = [
    ("\ufeff" + _ok("bom", "UPI payment failed but the money was debited from my account"), "enriched"),
    ('{"id": "cr-inside", "app_id": "paynest", "text": "payment failed\rmoney debited twice"}', "malformed_json"),
    ('{"id": "cr-between",\r"app_id": "paynest", "text": "refund is stuck for ten days now, please help"}', "enriched"),
    ("", "blank_line"),
    ("   \t ", "blank_line"),
    ("\x1c", "blank_line"),
    ("\x0c", "blank_line"),
    ("\x85", "blank_line"),
    ("\u3000", "blank_line"),
    ("\u3000", "blank_line"),  # the same blank content twice: still two lines, two records
    ("\r", "blank_line"),  # a CRLF blank line
    (_ok("crlf", "the app crashes every time I open the scanner") + "\r", "enriched"),
    ('{"id": "ls", "app_id": "paynest", "text": "OTP never arrives\u2028so I cannot log in to my account"}', "enriched"),
    ("not json\rat all", "malformed_json"),
    ("\x1d\x1e\x1f\x0b", "blank_line"),
    (_ok("last", "cashback for my electricity bill was never credited to me"), "enriched"),  # no final newline
]


def _stored(db) -> dict[str, tuple[str, str]]:
    """origin -> (kind, reason) of every stored record."""
    with sqlite3.connect(db) as conn:
        out = {json.loads(doc)["origin"]: ("rejected", reason) for doc, reason in conn.execute("SELECT doc, reason FROM rejected")}
        for (doc,) in conn.execute("SELECT doc FROM reviews"):
            out[json.loads(doc)["origin"]] = ("enriched", "enriched")
    return out


def test_n_physical_lines_give_n_stored_records_and_the_summary_agrees(tmp_path):
    path = tmp_path / "hostile.jsonl"
    path.write_bytes("\n".join(line for line, _ in HOSTILE).encode("utf-8"))
    n = len(HOSTILE)
    assert path.read_bytes().count(b"\n") == n - 1 and count_records(path) == n
    assert [origin(path, i) for i in (1, n)] == ["hostile.jsonl:1", f"hostile.jsonl:{n}"]

    db = tmp_path / "sift.db"
    env = {"SIFT_SOURCE": "file", "SIFT_INPUT": str(path), "SIFT_STORE": "sqlite", "SIFT_SQLITE_PATH": str(db),
           "SIFT_WATCHLIST_FILE": str(tmp_path / "no-commands.jsonl"), "SIFT_PROGRESS_SECONDS": "0"}
    result = run_flow(env)
    assert result.returncode == 0, result.stderr[-3000:]

    stored = _stored(db)
    assert len(stored) == n  # one record per physical line, each at its own line number
    assert {o: kind if kind == "enriched" else reason for o, (kind, reason) in stored.items()} == {
        f"hostile.jsonl:{i}": expected for i, (_, expected) in enumerate(HOSTILE, start=1)}

    report = subprocess.run([sys.executable, "-m", "flows.report"], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    assert f"read      {n} input lines (9 blank), {n} distinct messages" in report.stdout
    assert f"stored    {n} records" in report.stdout
    assert "MISSING" not in report.stdout and "shared" not in report.stdout


def test_the_summary_explains_a_difference_in_one_line(tmp_path):
    path = tmp_path / "in.jsonl"
    same = _ok("r1", "refund is stuck for ten days now")
    path.write_text("\n".join([same, same, "", "", _ok("r2", "payment failed twice")]) + "\n", encoding="utf-8")
    read = tally_input(path)
    assert read == InputTally(lines=5, blank=2, messages=4) and read.repeats == 1
    assert [p for p in records(path)] == [same, same, "", "", _ok("r2", "payment failed twice")]

    def summary(total: int) -> list[str]:
        return format_summary(StoreCounts(enriched=total, rejected=0), read, "test").splitlines()

    assert summary(4)[-1] == ("  shared    5 lines, 4 records: 1 line repeats an earlier line's message "
                              "(same id and content) and shares its record")
    assert summary(2)[-1] == ("  MISSING   2 of 4 input messages have no record in the store: the flow stopped "
                              "before storing them (see its log), run it again to resume; 1 line repeats an earlier "
                              "line's message (same id and content) and shares its record")
    assert summary(6)[-1].startswith("  extra     2 more records than this input's 4 messages")
    clean = InputTally(lines=4, blank=2, messages=4)
    assert not any(line.startswith(("  shared", "  MISSING", "  extra"))
                   for line in format_summary(StoreCounts(enriched=4, rejected=0), clean, "test").splitlines())
