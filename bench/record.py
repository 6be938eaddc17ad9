"""Write a measured figure's page: `python -m bench.record docs/results/NAME.md -- COMMAND ...`.

Runs COMMAND (a bench or training command that prints a table and, as its last line, one JSON
object), echoes its output, and writes docs/results/NAME.md with the exact command, the UTC time,
the machine's load average before and after, and the output as printed. Figures in docs/ come from
such pages, so a re-run refreshes them and nobody types a measured number by hand. The page is
written only when the command succeeds; the exit status is the command's.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def page(argv: list[str], doc: Path, output: str, started: datetime, load_before: str, load_after: str) -> str:
    """The results page for one run of `argv`."""
    command = shlex.join(argv).replace(sys.executable, "python")
    return (f"# `{command}`\n\n"
            f"Written by `python -m bench.record {doc} -- {command}` on {started:%Y-%m-%d %H:%M} UTC "
            f"(load average {load_before} before, {load_after} after, {os.cpu_count()} cores); re-run it to refresh "
            f"this page.\n\n```\n{output.rstrip()}\n```\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.record", description=__doc__.splitlines()[0])
    parser.add_argument("doc", type=Path, help="the page to write, e.g. docs/results/throughput.md")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command after --")
    if command[0] == "python":
        command = [sys.executable, *command[1:]]
    started, before = datetime.now(timezone.utc), _load()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        print(f"bench.record: {shlex.join(command)} exited {done.returncode}; {args.doc} left as it was", file=sys.stderr)
        return done.returncode
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(page(command, args.doc, done.stdout, started, before, _load()), encoding="utf-8")
    print(f"bench.record: wrote {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
