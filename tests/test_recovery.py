"""Recovery: the flow's state pickles (Bytewax snapshots it), and run_flow.sh's helper knows where a file input resumes."""

from __future__ import annotations

import importlib.util
import pickle
from datetime import timedelta
from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, run_main

from connectors.files import ReviewFileSource
from flows.operators.cluster import ClusterState
from flows.operators.language import cld2
from tests.helpers import ROOT
from tests.test_cluster import CFG, run, two_topics

spec = importlib.util.spec_from_file_location("recovery_helper", ROOT / "scripts" / "recovery.py")
recovery = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recovery)


def test_cluster_state_pickles_after_the_language_step_imported_polyglot():
    cld2("the payment failed and my money was debited")  # imports polyglot, which used to break bound-method pickles
    state, _ = run(two_topics(20))
    again = pickle.loads(pickle.dumps(state))
    assert isinstance(again, ClusterState) and again.sizes == state.sizes


def file_flow(path: Path, out: list) -> Dataflow:
    flow = Dataflow("sift")  # the production flow id and input step id: the helper looks them up
    op.output("out", op.input("reviews_in", flow, ReviewFileSource([path], batch_size=2)), TestingSink(out))
    return flow


def test_the_helper_reads_the_file_sources_resume_position(tmp_path, monkeypatch):
    path = tmp_path / "in.jsonl"
    path.write_text("".join(f'{{"id": "r{i}", "app_id": "paynest", "text": "refund stuck"}}\n' for i in range(5)))
    db = tmp_path / "rec"
    db.mkdir()
    init_db_dir(db, 1)
    assert recovery.resume_position(db, path) is None
    out: list = []
    run_main(file_flow(path, out), epoch_interval=timedelta(seconds=0), recovery_config=RecoveryConfig(db))
    assert len(out) == 5 and recovery.resume_position(db, path) == 5

    monkeypatch.setenv("SIFT_INPUT", str(path))
    watch = tmp_path / "watch.jsonl"
    monkeypatch.setenv("SIFT_WATCHLIST_FILE", str(watch))
    assert recovery.prepare(db, count=1, workers=1) == recovery.CONSUMED
    watch.write_text('{"op": "add"}\n')
    assert recovery.prepare(db, count=1, workers=1) == 0  # new watch-list commands are worth a run
    watch.unlink()
    with path.open("a") as f:
        f.write('{"id": "r5", "app_id": "paynest", "text": "refund stuck"}\n')
    assert recovery.prepare(db, count=1, workers=1) == 0  # an appended record is read by the next run
    run_main(file_flow(path, out), epoch_interval=timedelta(seconds=0), recovery_config=RecoveryConfig(db))
    assert len(out) == 6  # only the new record


def test_fresh_removes_the_partitions_and_the_sqlite_store(tmp_path, monkeypatch):
    db = tmp_path / "rec"
    db.mkdir()
    init_db_dir(db, 2)
    store = tmp_path / "sift.db"
    store.write_text("")
    monkeypatch.setenv("SIFT_SQLITE_PATH", str(store))
    monkeypatch.setenv("SIFT_STORE", "sqlite")
    recovery.fresh(db)
    assert not list(db.iterdir()) and not store.exists()
    assert recovery.prepare(db, count=2, workers=1) == 0 and len(recovery.partitions(db)) == 2
