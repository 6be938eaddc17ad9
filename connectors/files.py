"""Local JSONL / CSV review files as a Bytewax source.

One partition per file (the file is the unit of parallelism); each line (JSONL)
or row (CSV) becomes one `RawMessage`, whose origin is `<file name>:<number>`.
The resume state is the number of records already emitted, so a resumed run
continues where its snapshot was.

A JSONL line is a physical line: the file is split on `\n` only, so a raw CR or
any other Unicode line or record separator inside a line stays in it. One CR
before the `\n` (a CRLF file) is dropped, and so is a UTF-8 byte-order mark
before the first line. Blank and whitespace-only lines are emitted too (parse
records them as `blank_line`), so line N of the file is always record N and
every physical line ends as exactly one record.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from core.records import RawMessage

log = logging.getLogger(__name__)

_CSV_INT_FIELDS = ("rating",)
_TAIL_CHUNK = 1 << 20  # bytes read per batch by JsonlTailSource


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
    """How many records the source will emit for `path`: its physical lines (JSONL) or rows (CSV)."""
    return sum(1 for _ in records(path))


def origin(path: Path, number: int) -> str:
    """Where record `number` (from 1) of `path` came from, as the source writes it on the message."""
    return f"{path.name}:{number}"


def records(path: Path) -> Iterator[str]:
    """The payload of every record the source emits for `path`, in order (see the module docstring)."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                yield json.dumps(_csv_row(row), ensure_ascii=False)
    else:
        with path.open("rb") as f:
            for number, line in enumerate(f):  # a binary file splits on b"\n" only
                line = line.removesuffix(b"\n").removesuffix(b"\r")
                if number == 0:
                    line = line.removeprefix(codecs.BOM_UTF8)
                yield line.decode("utf-8", errors="replace")


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
        self._it = records(path)
        for _ in range(self._pos):
            next(self._it, None)

    def next_batch(self) -> list[RawMessage]:
        batch: list[RawMessage] = []
        now = datetime.now(timezone.utc)
        for payload in self._it:
            self._pos += 1
            batch.append(RawMessage(payload=payload, origin=origin(self._path, self._pos), received_at=now))
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


class _TailPartition(StatefulSourcePartition[RawMessage, int]):
    """Complete lines of one JSONL file from a byte offset; with `follow`, waits for more instead of ending."""

    def __init__(self, path: Path, follow: bool, poll_seconds: float, resume_state: int | None):
        self._path = path
        self._follow = follow
        self._poll = timedelta(seconds=poll_seconds)
        self._offset = resume_state or 0
        self._awake: datetime | None = None

    def next_batch(self) -> list[RawMessage]:
        now = datetime.now(timezone.utc)
        try:
            with self._path.open("rb") as f:
                f.seek(self._offset)
                data = f.read(_TAIL_CHUNK)
        except FileNotFoundError:
            data = b""
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits for its newline
        if not complete:
            if not self._follow:
                if data:
                    log.warning("%s: ignoring an unfinished last line (%d bytes without a newline)", self._path, len(data))
                raise StopIteration
            self._awake = now + self._poll
            return []
        self._awake = None
        start = self._offset
        self._offset += len(complete)
        return [
            RawMessage(payload=line.decode("utf-8", errors="replace"), origin=f"{self._path.name}@{start}", received_at=now)
            for line in complete.splitlines() if line.strip()
        ]

    def next_awake(self) -> datetime | None:
        return self._awake

    def snapshot(self) -> int:
        return self._offset


class JsonlTailSource(FixedPartitionedSource[RawMessage, int]):
    """One JSONL file read line by line, exactly-once with recovery (the resume state is a byte offset).

    Only complete lines are read, so a writer appending under a lock is never seen half-way.
    With `follow` the source keeps polling for appended lines (for a long-running flow);
    without it, it ends at the end of the file (a missing file is an empty input).
    """

    def __init__(self, path: Path, follow: bool = False, poll_seconds: float = 1.0):
        self.path = Path(path)
        self.follow = follow
        self.poll_seconds = poll_seconds

    def list_parts(self) -> list[str]:
        return [str(self.path)]

    def build_part(self, step_id: str, for_part: str, resume_state: int | None) -> _TailPartition:
        return _TailPartition(Path(for_part), self.follow, self.poll_seconds, resume_state)
