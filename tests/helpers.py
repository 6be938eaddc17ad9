"""Small builders shared by tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.records import RawMessage

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def raw(payload: str | dict[str, Any], n: int = 1) -> RawMessage:
    """A RawMessage as a source would emit it (dicts are serialised to JSON)."""
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return RawMessage(payload=text, origin=f"test:{n}", received_at=RECEIVED)


def run_flow(env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run `python -m bytewax.run flows.main` as the user would, with `env` on top of ours."""
    return subprocess.run(
        [sys.executable, "-m", "bytewax.run", "flows.main"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout,
    )


def free_port() -> int:
    """A loopback port nobody listens on (for 'unreachable server' tests)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
