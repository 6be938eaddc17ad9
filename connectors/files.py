"""Local JSONL / CSV review files as a Bytewax source.

One partition per file (the file is the unit of parallelism); each line (JSONL)
or row (CSV) becomes one `RawMessage`. The resume state is the number of
records already emitted, so a resumed run continues where its snapshot was.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from flows.records import RawMessage

log = logging.getLogger(__name__)

_CSV_INT_FIELDS = ("rating",)


class InputFileError(OSError):
    """The input file is missing or unreadable; the message names it."""


def check_readable(path: Path) -> None:
    """Raise `InputFileError` with a clear reason unless `path` is a readable file."""
    if not path.exists():
        raise InputFileError(f"input file {str(path)!r} does not exist (SIFT_INPUT)")
    if not path.is_file():
        raise InputFileError(f"input path {str(path)!r} is not a file (SIFT_INPUT)")
    try:
        with path.open("rb") as f:
            f.read(1)
    except OSError as e:
        raise InputFileError(f"cannot read input file {str(path)!r}: {e.strerror} (SIFT_INPUT)") from e
    if path.suffix.lower() not in (".jsonl", ".json", ".ndjson", ".csv"):
        raise InputFileError(f"input file {str(path)!r} must be .jsonl or .csv (SIFT_INPUT)")


def count_records(path: Path) -> int:
    """How many records the source will emit for `path` (for progress output)."""
    return sum(1 for _ in _records(path))


def _records(path: Path) -> Iterator[str]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                yield json.dumps(_csv_row(row), ensure_ascii=False)
    else:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line


def _csv_row(row: dict[str | None, str | None]) -> dict[str, object]:
    """CSV cells are strings: drop empty ones and turn integral ratings into ints."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if key is None or value is None or value == "":
            continue
        if key in _CSV_INT_FIELDS and value.strip().lstrip("-").isdigit():
            out[key] = int(value)
        elif key == "meta":
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError:
                out[key] = value
        else:
            out[key] = value
    return out


class _FilePartition(StatefulSourcePartition[RawMessage, int]):
    def __init__(self, path: Path, batch_size: int, resume_state: int | None):
        self._path = path
        self._batch_size = batch_size
        self._pos = resume_state or 0
        self._it = _records(path)
        for _ in range(self._pos):
            next(self._it, None)

    def next_batch(self) -> list[RawMessage]:
        batch: list[RawMessage] = []
        now = datetime.now(timezone.utc)
        for payload in self._it:
            self._pos += 1
            batch.append(RawMessage(payload=payload, origin=f"{self._path.name}:{self._pos}", received_at=now))
            if len(batch) >= self._batch_size:
                return batch
        if batch:
            return batch
        raise StopIteration

    def snapshot(self) -> int:
        return self._pos


class ReviewFileSource(FixedPartitionedSource[RawMessage, int]):
    """Reads review files; one partition per file, exactly-once with recovery."""

    def __init__(self, paths: list[Path], batch_size: int = 64):
        self.paths = [Path(p) for p in paths]
        self.batch_size = batch_size

    def list_parts(self) -> list[str]:
        return [str(p) for p in self.paths]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _FilePartition:
        return _FilePartition(Path(for_part), self.batch_size, resume_state)
