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
        store.close()
    except (ConfigError, InputFileError, StoreError) as e:
        print(f"sift: error: {e}", file=sys.stderr)
        return 2
    where = f"sqlite {settings.sqlite_path}" if settings.store == "sqlite" else f"elasticsearch {settings.es.target}"
    print(format_summary(counts, read, where))
    return 1 if read is not None and counts.total < read else 0


if __name__ == "__main__":
    raise SystemExit(main())
