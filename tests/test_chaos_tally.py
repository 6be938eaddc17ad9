"""bench.chaos's counts, without servers: matched by content, they hold for plain and for app-namespaced ids."""

from __future__ import annotations

import json

from bench.chaos import APPS, Result, messages, tally
from flows.operators.parse import identity


def stored(m, rid: str) -> tuple[str, str, dict]:
    """The record a message becomes under record id `rid`."""
    if m.kind == "enriched":
        return rid, "enriched", {"app_id": m.app, "author": m.author, "text": m.text}
    app = json.loads(m.body)["app_id"] if m.body.endswith("}") else None
    return rid, "rejected", {"app_id": app, "raw": m.body, "reason": "malformed_json"}


def bare(m) -> str:  # ids as given; a body without a readable id gets its content hash
    return m.rid if m.body.endswith("}") else identity(m.body)[0]


def namespaced(m) -> str:  # one possible app-namespaced scheme; the counts must not depend on which
    return f"{m.app}:{bare(m)}"


def count(records) -> Result:
    result = Result()
    tally(result, EXPECTED, records)
    return result


EXPECTED = messages(300, seed=5)
REUSED = len(EXPECTED) - 300


def test_every_message_in_its_own_record_counts_clean_under_namespaced_ids():
    r = count([stored(m, namespaced(m)) for m in EXPECTED])
    assert REUSED == 6 and {m.app for m in EXPECTED} == set(APPS)
    assert (r.stored, r.lost, r.duplicates, r.overwritten, r.wrong_kind) == (len(EXPECTED), 0, 0, 0, 0)


def test_a_reused_id_written_over_counts_as_overwritten_under_plain_ids():
    last_write = {bare(m): stored(m, bare(m)) for m in EXPECTED}  # one record per id: the later message wins
    r = count(list(last_write.values()))
    assert (r.stored, r.lost, r.duplicates, r.overwritten, r.wrong_kind) == (len(EXPECTED) - REUSED, 0, 0, REUSED, 0)


def test_missing_doubled_and_foreign_content_are_each_counted():
    records = [stored(m, namespaced(m)) for m in EXPECTED]
    gone = records.pop(3)  # lost: no record holds it, and nothing else sits under its id
    records.append((gone[0] + "-again", *records[10][1:]))  # a second record of the same message
    rid, kind, src = records[20]
    records[20] = (rid, kind, {**src, "text": "someone else's review"})  # its record holds other content
    r = count(records)
    assert (r.lost, r.duplicates, r.overwritten, r.wrong_kind) == (1, 1, 1, 0)
    records.append(("x", "rejected", {"app_id": EXPECTED[0].app, "raw": EXPECTED[0].body, "reason": "duplicate"}))
    assert count(records).wrong_kind == 1  # a valid review also stored as rejected
