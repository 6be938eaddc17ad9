"""Run summary: `python -m flows.report` prints what the store holds against what the input had.

Exit status 0 when every input record is in the store (enriched or rejected),
1 when some are missing, 2 on a configuration error.
"""

from __future__ import annotations

import sys

from connectors.files import InputFileError, check_readable, count_records
from connectors.store import StoreCounts, StoreError, open_store
from flows.settings import ConfigError, Settings


def _row(counts: dict[str, int]) -> str:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(f"{k} {v:,}" for k, v in items) or "none"


def format_summary(counts: StoreCounts, read: int | None, where: str) -> str:
    """The human summary; `read` is the number of input records when known."""
    lines = [f"summary ({where})"]
    if read is not None:
        lines.append(f"  read      {read:,} input records")
    lines.append(f"  stored    {counts.total:,} records: {counts.enriched:,} enriched · {counts.rejected:,} rejected")
    lines.append(f"  rejected  {_row(counts.by_reason)}")
    lines.append(f"  labels    {_row(counts.by_label)}")
    if counts.untranslated_by_lang:
        lines.append(f"  kept untranslated (no translation backend) by language: {_row(counts.untranslated_by_lang)}")
    if read is not None and counts.total < read:
        lines.append(f"  MISSING   {read - counts.total:,} input records are not in the store")
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
            read = count_records(settings.input_path)
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
    return 1 if read is not None and counts.total < read else 0


if __name__ == "__main__":
    raise SystemExit(main())
