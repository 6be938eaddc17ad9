"""Small builders shared by tests."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flows.records import RawMessage

RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def raw(payload: str | dict[str, Any], n: int = 1) -> RawMessage:
    """A RawMessage as a source would emit it (dicts are serialised to JSON)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return RawMessage(payload=text, origin=f"test:{n}", received_at=RECEIVED)
