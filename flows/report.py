"""Run summary: `python -m flows.report` prints what the store holds against what the input had.

For a file input every line (JSONL) or row (CSV) ends as exactly one record, but lines that carry
the same message (same id and content: what a redelivery looks like) share one record, so the
summary counts the input's distinct messages as `parse` identifies them and explains any difference
between lines and stored records in one line.

Exit status 0 when every input message has its record in the store (enriched or rejected),
1 when some are missing (stderr says how many and what to do), 2 on a configuration error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from connectors.files import InputFileError, check_readable, origin, records
from connectors.backends import open_store
from connectors.store import StoreCounts, StoreError
from flows.operators.parse import identity
from core.settings import ConfigError, Settings


@dataclass(frozen=True)
class InputTally:
    """What a file input holds: its lines (or CSV rows), the blank ones, and its distinct messages."""

    lines: int
    blank: int
    messages: int

    @property
    def repeats(self) -> int:
        """Lines that carry a message an earlier line already carried (they share its record)."""
        return self.lines - self.messages


def tally_input(path: Path) -> InputTally:
    """Count `path` the way the flow reads it: one message per line, identified as `parse` identifies it."""
    lines = blank = 0
    seen: set[tuple[str, str]] = set()
    for number, payload in enumerate(records(path), start=1):
        lines += 1
        blank += not payload.strip()
        seen.add(identity(payload, origin(path, number)))
    return InputTally(lines, blank, len(seen))


def _row(counts: dict[str, int]) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(f"{k} {v:,}" for k, v in items) or "none"


def difference(counts: StoreCounts, read: InputTally) -> str | None:
    """One line explaining why the store does not hold one record per input line, or None when it does."""
    stored, repeats = counts.total, read.repeats
    one = repeats == 1
    shared = (f"{repeats:,} {'line repeats' if one else 'lines repeat'} an earlier line's message (same id and content) "
              f"and {'shares' if one else 'share'} its record") if repeats else ""
    also = f"; {shared}" if shared else ""
    if stored < read.messages:
        return (f"  MISSING   {read.messages - stored:,} of {read.messages:,} input messages have no record in the store: "
                f"the flow stopped before storing them (see its log), run it again to resume{also}")
    if stored > read.messages:
        return (f"  extra     {stored - read.messages:,} more records than this input's {read.messages:,} messages: "
                f"the store also holds records of another input or run{also}")
    if repeats:
        return f"  shared    {read.lines:,} lines, {stored:,} records: {shared}"
    return None


def format_summary(counts: StoreCounts, read: InputTally | None, where: str) -> str:
    """The human summary; `read` is the input file's tally when the input is a file."""
    lines = [f"summary ({where})"]
    if read is not None:
        blank = f" ({read.blank:,} blank)" if read.blank else ""
        lines.append(f"  read      {read.lines:,} input lines{blank}, {read.messages:,} distinct messages")
    lines.append(f"  stored    {counts.total:,} records: {counts.enriched:,} enriched · {counts.rejected:,} rejected")
    lines.append(f"  rejected  {_row(counts.by_reason)}")
    lines.append(f"  labels    {_row(counts.by_label)}")
    if counts.untranslated_by_lang:
        lines.append(f"  kept untranslated (no translation backend) by language: {_row(counts.untranslated_by_lang)}")
    if read is not None and (line := difference(counts, read)):
        lines.append(line)
    return "\n".join(lines)


def format_tickets(tickets: list[dict], limit: int = 15) -> str:
    """Tickets raised, most severe and largest first: severity, reviews, versions, title."""
    if not tickets:
        return "tickets   none raised (no cluster passed the ticket thresholds in any window)"
    rank = {"blocker": 0, "high": 1, "medium": 2, "low": 3}
    ordered = sorted(tickets, key=lambda t: (rank.get(t.get("peak_severity"), 4), -t.get("total_count", 0), t["id"]))
    lines = [f"tickets   {len(tickets)} raised (peak severity → now · reviews · versions · title)"]
    for t in ordered[:limit]:
        severity = f"{t.get('peak_severity', '?')} → {t.get('severity', '?')}"
        lines.append(f"  {severity:17s} {t.get('total_count', 0):5,}  v{t.get('version', 1):<3} {t.get('title', t['id'])}")
    if len(tickets) > limit:
        lines.append(f"  … and {len(tickets) - limit} more (see the dashboard or GET /v1/tickets)")
    return "\n".join(lines)


def all_documents(store, kind: str) -> list[dict]:
    """Every document of `kind`, following cursors to the end."""
    out, cursor = [], None
    while True:
        page, cursor = store.list_documents(kind, cursor=cursor, limit=500)
        out.extend(page)
        if cursor is None or not page:
            return out


def main() -> int:
    try:
        settings = Settings.from_env()
        read = None
        if settings.source == "file":
            check_readable(settings.input_path)
            read = tally_input(settings.input_path)
        store = open_store(settings)
        store.setup()
        store.refresh()
        counts = store.counts()
        tickets = all_documents(store, "tickets")
        store.close()
    except (ConfigError, InputFileError, StoreError) as e:
        print(f"sift: error: {e}", file=sys.stderr)
        return 2
    where = f"sqlite {settings.sqlite_path}" if settings.store == "sqlite" else f"elasticsearch {settings.es.target}"
    print(format_summary(counts, read, where))
    print(format_tickets(tickets))
    if read is not None and counts.total < read.messages:
        print(f"sift: incomplete: {read.messages - counts.total:,} of {read.messages:,} messages of "
              f"{settings.input_path} are not in the store (exit status 1); see the MISSING line above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
