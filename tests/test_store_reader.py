"""The store's read side (`open_reader`): what the dashboard and the feed get. It reads what the flow wrote
and can neither create tables nor write a record."""

from __future__ import annotations

import pytest

from connectors.backends import open_reader, open_store
from connectors.store import READ_METHODS, ReviewReader, ReviewWriter, StoreUnavailable
from core.settings import Settings


def _settings(tmp_path):
    return Settings.from_env({"SIFT_SQLITE_PATH": str(tmp_path / "store" / "sift.db")})


def test_a_reader_creates_nothing_before_the_flow_has_written(tmp_path):
    reader = open_reader(_settings(tmp_path))
    with pytest.raises(StoreUnavailable, match="no such file yet"):
        reader.check_readable()
    assert not (tmp_path / "store").exists()


def test_a_reader_refuses_a_file_without_the_flows_tables(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "sift.db").write_bytes(b"")
    with pytest.raises(StoreUnavailable, match="table yet"):
        open_reader(_settings(tmp_path)).check_readable()


def test_a_reader_reads_what_the_writer_stored_and_has_no_write_side(tmp_path):
    writer = open_store(_settings(tmp_path))
    writer.setup()
    writer.write_documents("tickets", [{"id": "t1", "app_id": "paynest", "updated_at": "2026-10-01T00:00:00+00:00"}])
    writer.close()
    reader = open_reader(_settings(tmp_path))
    reader.check_readable()
    assert reader.get_document("tickets", "t1")["app_id"] == "paynest"
    assert reader.counts().total == 0
    for name in ("setup", "write", "write_documents", "path", "conn"):
        with pytest.raises(AttributeError, match="read side"):
            getattr(reader, name)
    reader.close()


def test_the_two_sides_split_the_interface():
    writes = {name for name in vars(ReviewWriter) if not name.startswith("_")}
    assert READ_METHODS & writes == {"close"}
    assert {"setup", "write", "write_documents"} <= writes and not {"setup", "write"} & READ_METHODS
    assert {"counts", "knn", "list_documents", "check_readable"} <= set(vars(ReviewReader))
