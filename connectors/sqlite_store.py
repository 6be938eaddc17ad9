"""Embedded store: one SQLite file, vectors as float32 blobs, exact cosine kNN.

Durable on return from `write` (one transaction per batch, WAL journal).
Several workers or processes may write the same file; SQLite serialises them.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from connectors.store import StoreCounts, StoreError, StoreUnavailable, split
from flows.records import Outcome

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    primary_label TEXT NOT NULL,
    cluster_id TEXT,
    lang TEXT,
    source TEXT,
    rating INTEGER,
    doc TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_app_label ON reviews (app_id, primary_label, created_at);
CREATE INDEX IF NOT EXISTS reviews_cluster ON reviews (cluster_id);
CREATE TABLE IF NOT EXISTS rejected (
    id TEXT PRIMARY KEY,
    app_id TEXT,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS rejected_reason ON rejected (reason);
"""


class SqliteStore:
    """`ReviewStore` on a local SQLite file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except (OSError, sqlite3.Error) as e:
                raise StoreUnavailable(f"cannot open SQLite store {str(self.path)!r}: {e}") from e
            self._conn = conn
        return self._conn

    def setup(self) -> None:
        with self._lock:
            try:
                self.conn.executescript(_SCHEMA)
            except sqlite3.Error as e:
                raise StoreUnavailable(f"cannot create tables in {str(self.path)!r}: {e}") from e

    def write(self, outcomes: Sequence[Outcome]) -> None:
        enriched, rejected = split(outcomes)
        review_rows = [
            (
                doc["id"],
                doc["app_id"],
                doc["created_at"],
                doc["primary_label"],
                doc["cluster_id"],
                doc["lang"],
                doc["source"],
                doc["rating"],
                json.dumps({k: v for k, v in doc.items() if k != "embedding"}, ensure_ascii=False),
                np.asarray(e.embedding, dtype=np.float32).tobytes(),
            )
            for e in enriched
            for doc in (e.to_doc(),)
        ]
        rejected_rows = [
            (doc["id"], doc["app_id"], doc["reason"], doc["at"], json.dumps(doc, ensure_ascii=False))
            for r in rejected
            for doc in (r.to_doc(),)
        ]
        with self._lock:
            try:
                with self.conn:  # one transaction: all or nothing
                    self.conn.executemany("DELETE FROM rejected WHERE id = ?", [(r[0],) for r in review_rows])
                    self.conn.executemany("DELETE FROM reviews WHERE id = ?", [(r[0],) for r in rejected_rows])
                    self.conn.executemany(
                        "INSERT OR REPLACE INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?)", review_rows
                    )
                    self.conn.executemany("INSERT OR REPLACE INTO rejected VALUES (?,?,?,?,?)", rejected_rows)
            except sqlite3.Error as e:
                raise StoreError(f"SQLite write of {len(outcomes)} records to {str(self.path)!r} failed: {e}") from e

    def refresh(self) -> None:
        """Nothing to do: SQLite reads see committed writes."""

    def counts(self, app_id: str | None = None) -> StoreCounts:
        where, args = ("WHERE app_id = ?", (app_id,)) if app_id else ("", ())
        with self._lock:
            c = self.conn
            enriched = c.execute(f"SELECT COUNT(*) FROM reviews {where}", args).fetchone()[0]
            rejected = c.execute(f"SELECT COUNT(*) FROM rejected {where}", args).fetchone()[0]
            by_reason = dict(c.execute(f"SELECT reason, COUNT(*) FROM rejected {where} GROUP BY reason", args))
            by_label = dict(
                c.execute(f"SELECT primary_label, COUNT(*) FROM reviews {where} GROUP BY primary_label", args)
            )
        return StoreCounts(enriched=enriched, rejected=rejected, by_reason=by_reason, by_label=by_label)

    def get(self, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self.conn.execute("SELECT doc FROM reviews WHERE id = ?", (record_id,)).fetchone()
            if row:
                return {**json.loads(row[0]), "kind": "enriched"}
            row = self.conn.execute("SELECT doc FROM rejected WHERE id = ?", (record_id,)).fetchone()
        return {**json.loads(row[0]), "kind": "rejected"} if row else None

    def knn(self, vector: Sequence[float], k: int = 10, app_id: str | None = None) -> list[dict[str, Any]]:
        where, args = ("WHERE app_id = ?", (app_id,)) if app_id else ("", ())
        with self._lock:
            rows = self.conn.execute(f"SELECT doc, embedding FROM reviews {where}", args).fetchall()
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        query = np.asarray(vector, dtype=np.float32)
        query /= np.linalg.norm(query) or 1.0
        scores = matrix @ query
        best = np.argsort(-scores, kind="stable")[:k]
        return [{**json.loads(rows[i][0]), "score": float(scores[i])} for i in best]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
