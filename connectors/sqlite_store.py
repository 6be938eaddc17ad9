"""Embedded store: one SQLite file, vectors as float32 blobs, exact cosine kNN.

Durable on return from `write` (one transaction per batch, WAL journal).
Several workers or processes may write the same file; SQLite serialises them.
Id claims (`connectors/store.py`) live in the `claims` table: a batch takes the
write lock first (`BEGIN IMMEDIATE`), inserts its claims unless present, reads
the owners back and writes, all in one transaction, so two writers of one id
can never both own it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from connectors.store import (
    StoreCounts,
    StoreError,
    StoreUnavailable,
    check_query,
    decode_cursor,
    doc_time,
    encode_cursor,
    batch_claims,
    normalize_document,
    resolve_claims,
    split,
)
from core.records import EnrichedReview, Outcome, Rejected

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
CREATE VIRTUAL TABLE IF NOT EXISTS reviews_fts USING fts5(id UNINDEXED, text, text_en, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    app_id TEXT,
    updated_at TEXT NOT NULL,
    status TEXT,
    org TEXT,
    severity TEXT,
    primary_label TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS documents_cursor ON documents (kind, updated_at, id);
"""
# Which message owns each record id (its fingerprint); taken on first write, never changed.
_CLAIMS = "CREATE TABLE IF NOT EXISTS claims (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID"
# A store written before claims existed: its records own their ids (a record without a fingerprint is owned by
# no message a producer can send again, so its id is never taken over).
_BACKFILL_CLAIMS = """
INSERT OR IGNORE INTO claims SELECT id, coalesce(json_extract(doc, '$.fingerprint'), '') FROM reviews;
INSERT OR IGNORE INTO claims SELECT id, coalesce(json_extract(doc, '$.fingerprint'), '') FROM rejected;
"""
_CLAIM_CHUNK = 500  # ids per `IN (...)` lookup

# An upsert that never replaces a newer `version` of a document (tickets carry one): a flow resumed from an
# older snapshot re-publishes versions the store already has a later one of.
_UPSERT_DOCUMENT = """
INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)
ON CONFLICT (kind, id) DO UPDATE SET
    app_id = excluded.app_id, updated_at = excluded.updated_at, status = excluded.status, org = excluded.org,
    severity = excluded.severity, primary_label = excluded.primary_label, doc = excluded.doc
WHERE coalesce(json_extract(excluded.doc, '$.version'), 0) >= coalesce(json_extract(documents.doc, '$.version'), 0)
"""

# Keyword fields callers may group by, as SQL over the reviews table.
_FIELD_SQL = {
    "primary_label": "primary_label", "source": "source", "lang": "lang", "cluster_id": "cluster_id",
    "rating": "rating", "app_version": "json_extract(doc, '$.app_version')",
    "review_type": "json_extract(doc, '$.review_type')", "sentiment": "json_extract(doc, '$.sentiment')",
}
_BUCKET_SQL = {"day": "strftime('%Y-%m-%d', created_at)", "hour": "strftime('%Y-%m-%dT%H:00', created_at)"}


def _fts_rowid(record_id: str) -> int:
    """A stable 62-bit rowid for the full-text row of a review (fast delete on upsert)."""
    return int(hashlib.blake2b(record_id.encode(), digest_size=8).hexdigest(), 16) >> 2


def _json(doc: dict[str, Any]) -> str:
    """A document as JSON text; NaN/Infinity refused (SQLite's json_extract fails on the whole table for one)."""
    return json.dumps(doc, ensure_ascii=False, allow_nan=False)


def _where(conditions: list[tuple[str, object]]) -> tuple[str, tuple]:
    parts = [sql for sql, value in conditions if value is not None]
    args = tuple(value for _, value in conditions if value is not None)
    return (" WHERE " + " AND ".join(parts) if parts else ""), args


def _set_wal(conn: sqlite3.Connection, wait_seconds: float = 60.0) -> None:
    """Switch to WAL. Two processes opening a new file at once (the flow's `-i 0`/`-i 1` on one machine)
    can get "database is locked" at once, without SQLite's busy timeout: retry that until `wait_seconds`."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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
                _set_wal(conn)
                conn.execute("PRAGMA synchronous=NORMAL")
            except (OSError, sqlite3.Error) as e:
                raise StoreUnavailable(f"cannot open SQLite store {str(self.path)!r}: {e}") from e
            self._conn = conn
        return self._conn

    def check_readable(self) -> None:
        """The store file exists and holds the flow's tables; creates nothing (not even the file)."""
        if not self.path.is_file():
            raise StoreUnavailable(f"cannot open SQLite store {str(self.path)!r}: no such file yet (the flow creates it)")
        with self._lock:
            try:
                found = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            except sqlite3.Error as e:
                raise StoreUnavailable(f"cannot read SQLite store {str(self.path)!r}: {e}") from e
        missing = {"reviews", "rejected", "documents", "reviews_fts"} - found
        if missing:
            raise StoreUnavailable(f"SQLite store {str(self.path)!r} has no {', '.join(sorted(missing))} table yet "
                                   "(the flow creates them)")

    def setup(self) -> None:
        with self._lock:
            try:
                new_claims = not self.conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claims'").fetchone()
                self.conn.executescript(_SCHEMA + ";" + _CLAIMS + ";" + (_BACKFILL_CLAIMS if new_claims else ""))
            except sqlite3.Error as e:
                raise StoreUnavailable(f"cannot create tables in {str(self.path)!r}: {e}") from e

    def write(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        claims = batch_claims(outcomes)
        with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")  # the write lock before the claims are read: one owner per id
                try:
                    conn.executemany("INSERT OR IGNORE INTO claims VALUES (?, ?)", claims.items())
                    stored = resolve_claims(outcomes, self._owners(list(claims)))
                    enriched, rejected = split(stored)
                    review_rows, rejected_rows = self._rows(enriched, rejected)
                    conn.executemany("DELETE FROM rejected WHERE id = ?", [(r[0],) for r in review_rows])
                    conn.executemany("DELETE FROM reviews WHERE id = ?", [(r[0],) for r in rejected_rows])
                    conn.executemany("INSERT OR REPLACE INTO reviews VALUES (?,?,?,?,?,?,?,?,?,?)", review_rows)
                    conn.executemany("INSERT OR REPLACE INTO rejected VALUES (?,?,?,?,?)", rejected_rows)
                    conn.executemany(
                        "DELETE FROM reviews_fts WHERE rowid = ?",
                        [(_fts_rowid(r[0]),) for r in (*review_rows, *rejected_rows)],
                    )
                    conn.executemany(
                        "INSERT INTO reviews_fts (rowid, id, text, text_en) VALUES (?,?,?,?)",
                        [(_fts_rowid(e.id), e.id, e.review.text, e.text_en) for e in enriched],
                    )
                    conn.commit()  # one transaction: all or nothing
                except BaseException:
                    conn.rollback()
                    raise
            except (sqlite3.Error, UnicodeEncodeError) as e:  # a lone surrogate cannot be bound as UTF-8
                raise StoreError(f"SQLite write of {len(outcomes)} records to {str(self.path)!r} failed: {e}") from e
            except (ValueError, TypeError, RecursionError) as e:
                raise StoreError(f"SQLite write of {len(outcomes)} records: a document is not storable JSON: {e}") from e
        return stored

    def _owners(self, ids: list[str]) -> dict[str, str]:
        """id -> fingerprint of the message that owns it (inside the write transaction)."""
        owners: dict[str, str] = {}
        for start in range(0, len(ids), _CLAIM_CHUNK):
            chunk = ids[start : start + _CLAIM_CHUNK]
            owners.update(self.conn.execute(
                f"SELECT id, fingerprint FROM claims WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return owners

    @staticmethod
    def _rows(enriched: list[EnrichedReview], rejected: list[Rejected]) -> tuple[list[tuple], list[tuple]]:
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
                _json({k: v for k, v in doc.items() if k != "embedding"}),
                np.asarray(e.embedding, dtype=np.float32).tobytes(),
            )
            for e in enriched
            for doc in (e.to_doc(),)
        ]
        rejected_rows = [
            (doc["id"], doc["app_id"], doc["reason"], doc["at"], _json(doc))
            for r in rejected
            for doc in (r.to_doc(),)
        ]
        return review_rows, rejected_rows

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
            untranslated = dict(c.execute(
                f"SELECT lang, COUNT(*) FROM reviews {where} {'AND' if where else 'WHERE'} "
                "json_extract(doc, '$.translation') = 'untranslated' GROUP BY lang", args,
            ))
        return StoreCounts(enriched=enriched, rejected=rejected, by_reason=by_reason, by_label=by_label,
                           untranslated_by_lang=untranslated)

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

    def search_text(self, query: str, k: int = 20, app_id: str | None = None) -> list[dict[str, Any]]:
        words = "".join(c if c.isalnum() else " " for c in query).split()
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        where, args = _where([("r.app_id = ?", app_id)])
        where = where.replace(" WHERE ", " AND ", 1)
        sql = (
            "SELECT r.doc, bm25(reviews_fts) AS rank FROM reviews_fts JOIN reviews r ON r.id = reviews_fts.id "
            f"WHERE reviews_fts MATCH ?{where} ORDER BY rank LIMIT ?"
        )
        with self._lock:
            rows = self.conn.execute(sql, (match, *args, k)).fetchall()
        return [{**json.loads(doc), "score": -rank} for doc, rank in rows]

    def counts_over_time(self, field: str = "primary_label", interval: str = "day", app_id: str | None = None,
                         since: datetime | None = None, until: datetime | None = None) -> list[tuple[str, str, int]]:
        check_query(field=field, interval=interval)
        bucket, value = _BUCKET_SQL[interval], _FIELD_SQL[field]
        where, args = _where([
            ("app_id = ?", app_id),
            ("julianday(created_at) >= julianday(?)", since.isoformat() if since else None),
            ("julianday(created_at) < julianday(?)", until.isoformat() if until else None),
        ])
        sql = f"SELECT {bucket} AS b, {value} AS v, COUNT(*) FROM reviews{where} GROUP BY b, v ORDER BY b, v"
        with self._lock:
            return [(b, str(v), n) for b, v, n in self.conn.execute(sql, args)]

    def top_clusters(self, app_id: str | None = None, label: str | None = None, limit: int = 10,
                     since: datetime | None = None) -> list[dict[str, Any]]:
        where, args = _where([
            ("app_id = ?", app_id), ("primary_label = ?", label),
            ("julianday(created_at) >= julianday(?)", since.isoformat() if since else None),
        ])
        where = (where + " AND" if where else " WHERE") + " cluster_id IS NOT NULL"
        sql = (
            "SELECT cluster_id, primary_label, COUNT(*) AS n, AVG(rating), MAX(created_at), MAX(rowid) "
            f"FROM reviews{where} GROUP BY cluster_id ORDER BY n DESC, cluster_id LIMIT ?"
        )
        out = []
        with self._lock:
            for cid, plabel, n, avg, last, rowid in self.conn.execute(sql, (*args, limit)).fetchall():
                doc = json.loads(self.conn.execute("SELECT doc FROM reviews WHERE rowid = ?", (rowid,)).fetchone()[0])
                out.append({
                    "cluster_id": cid, "primary_label": plabel, "count": n,
                    "avg_rating": round(avg, 2) if avg is not None else None,
                    "keywords": doc.get("cluster_keywords", []), "last_seen": doc_time(last),
                    "name": doc.get("cluster_name", ""), "representative": doc.get("cluster_representative", ""),
                })
        return out

    def list_rejected(self, reason: str | None = None, app_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, args = _where([("reason = ?", reason), ("app_id = ?", app_id)])
        with self._lock:
            rows = self.conn.execute(f"SELECT doc FROM rejected{where} ORDER BY at DESC, id LIMIT ?", (*args, limit))
            return [json.loads(doc) for (doc,) in rows]

    def write_documents(self, kind: str, docs: Sequence[dict[str, Any]]) -> None:
        check_query(kind=kind)
        rows = []
        for doc in docs:
            doc = normalize_document(doc)
            rows.append((kind, doc["id"], doc.get("app_id"), doc["updated_at"], doc.get("status"), doc.get("org"),
                         doc.get("severity"), doc.get("primary_label"), json.dumps(doc, ensure_ascii=False)))
        with self._lock:
            try:
                with self.conn:
                    self.conn.executemany(_UPSERT_DOCUMENT, rows)
            except sqlite3.Error as e:
                raise StoreError(f"SQLite write of {len(rows)} {kind} to {str(self.path)!r} failed: {e}") from e

    def list_documents(self, kind: str, cursor: str | None = None, limit: int = 50, app_id: str | None = None,
                       **filters: str) -> tuple[list[dict[str, Any]], str | None]:
        check_query(kind=kind, filters=filters)
        after = decode_cursor(cursor) if cursor else None
        conditions: list[tuple[str, object]] = [("kind = ?", kind), ("app_id = ?", app_id)]
        conditions += [(f"{name} = ?", value) for name, value in sorted(filters.items())]
        where, args = _where(conditions)
        if after:
            where += " AND (updated_at > ? OR (updated_at = ? AND id > ?))"
            args += (after[0], after[0], after[1])
        with self._lock:
            rows = self.conn.execute(
                f"SELECT doc FROM documents{where} ORDER BY updated_at, id LIMIT ?", (*args, limit)
            ).fetchall()
        docs = [json.loads(doc) for (doc,) in rows]
        return docs, (encode_cursor(docs[-1]["updated_at"], docs[-1]["id"]) if docs else cursor)

    def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        check_query(kind=kind)
        with self._lock:
            row = self.conn.execute("SELECT doc FROM documents WHERE kind = ? AND id = ?", (kind, doc_id)).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
