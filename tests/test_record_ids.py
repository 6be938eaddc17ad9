"""Issue 18.1 through the real flow and the real SQLite store: a producer that reuses a stored review's id, from
its own app or another one, never replaces it; redelivering the same message still rewrites its one record."""

from __future__ import annotations

import json

from bytewax.testing import TestingSource, run_main

from connectors.sqlite_store import SqliteStore
from connectors.store_sink import StoreSink
from flows.dataflow import build_flow
from flows.operators.parse import identity
from core.records import conflict_id
from core.settings import Settings
from tests.helpers import raw

SETTINGS = Settings.from_env({"SIFT_CLUSTERS_PER_LABEL": "4", "SIFT_APPS_RELOAD_SECONDS": "0"})
REVIEW = json.dumps({"id": "r-1", "app_id": "paynest", "text": "UPI payment failed but the money was debited twice",
                     "rating": 1})


def _run(apps, embedder, db, payloads: list[str]) -> None:
    source = TestingSource([raw(p, n=i) for i, p in enumerate(payloads)], batch_size=8)
    run_main(build_flow(SETTINGS, apps, source, StoreSink(lambda: SqliteStore(db), progress_seconds=0), embedder=embedder))


def test_a_reused_id_never_replaces_the_stored_review(apps, embedder, tmp_path):
    db = tmp_path / "sift.db"
    _run(apps, embedder, db, [REVIEW])
    store = SqliteStore(db)
    first = store.get("paynest/r-1")
    assert first["kind"] == "enriched" and first["fingerprint"] == identity(REVIEW)[1]

    other_app = json.dumps({"id": "r-1", "app_id": "otherapp", "text": "UPI payment failed but the money was debited twice"})
    missing = json.dumps({"id": "r-1", "app_id": "paynest"})
    rewritten = json.dumps({"id": "r-1", "app_id": "paynest", "text": "great app, everything works", "rating": 5})
    redelivered = json.dumps(json.loads(REVIEW), indent=1)  # the same message, spaced differently
    _run(apps, embedder, db, [other_app, missing, rewritten, REVIEW, redelivered, missing])

    after = store.get("paynest/r-1")
    assert after["kind"] == "enriched" and (after["text"], after["fingerprint"]) == (first["text"], first["fingerprint"])
    assert store.get("otherapp/r-1")["reason"] == "unknown_app"  # its own namespace: no conflict at all
    for payload, verdict in ((missing, "missing_field"), (rewritten, "enriched")):
        doc = store.get(conflict_id("paynest/r-1", identity(payload)[1]))
        assert doc["reason"] == "id_conflict" and doc["raw"] == payload and verdict in doc["detail"], doc
    counts = store.counts()
    assert (counts.enriched, counts.rejected, counts.by_reason) == (1, 3, {"unknown_app": 1, "id_conflict": 2})
    store.close()
