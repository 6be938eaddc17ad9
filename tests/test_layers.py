"""The import layers hold: `lint-imports` checks the contracts in pyproject.toml ([tool.importlinter]).

Roots (flows.main, flows.report, the dashboard) > flows.dataflow > operators | connectors > core
(records, settings, rules, app metadata, watch-list commands); no connector imports an operator,
operators do no I/O of their own, and no module imports its siblings in a circle.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    assert lint.exists(), "lint-imports is missing: install the test extras (scripts/bootstrap.sh test)"
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    kept = done.stdout.count(" KEPT")
    assert kept == len(contracts) >= 3, done.stdout[-2000:]
