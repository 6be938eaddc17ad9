"""The project's development set of gold issues: which public rows it holds, and how it is joined back.

The rows are chosen by a fixed rule from `../shared/data` (no sampling, so a re-run picks the same rows):

- `labeled/categories_clap2017_rq1.csv`: every review whose CLAP category is not OTHER, of each app with at
  least `CLAP_MIN_PER_APP` such reviews (bug reports, requests, performance, energy, security, usability);
- `streams/upi_phonepe_paytm_2025.csv`: every review rated 1-3 with at least `UPI_MIN_WORDS` words that
  the collectors guessed to be English (it still holds Hinglish).

Two readers grouped each app's reviews into issues from the texts alone, following
`docs/annotation/issue-guideline.md`; `bench/data/annotations/issues/reader_<reader>.csv` keeps only
`set, row, id, group` (row: 0-based position among the set's data rows). `build` joins them with the
texts read at run time into a CSV for `python -m bench.issues`:

    python -m bench.issue_set build --data ../shared/data --out var/issues_dev.csv
    python -m bench.issue_set sheets --data ../shared/data --out DIR     # what a reader is given

A reader's group `none` (no concrete problem or request) is a group of one per review.

Gold priority: two blind readers marked each of reader A's issues HIGH or NORMAL following
`docs/annotation/priority-guideline.md`; `bench/data/annotations/priority/priority.csv` keeps only
`app, issue, priority_a, priority_b` (issue: reader A's group, `none|<set>:<row>` for a review alone).
`build` adds each row's issue priority as `priority_a` / `priority_b` (empty when not marked).
`import-priority` writes that file from the readers' answer sheets (`<n>TAB<HIGH|NORMAL>`) and the key
that numbered the issues (`n,app,issue`):

    python -m bench.issue_set import-priority --key KEY.csv --answers A.tsv B.tsv
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ANNOTATIONS = Path(__file__).parent / "data" / "annotations" / "issues"
PRIORITY = Path(__file__).parent / "data" / "annotations" / "priority" / "priority.csv"
READERS = ("a", "b")
PRIORITIES = ("HIGH", "NORMAL")
CLAP = "labeled/categories_clap2017_rq1.csv"
UPI = "streams/upi_phonepe_paytm_2025.csv"
CLAP_MIN_PER_APP = 8
UPI_MIN_WORDS = 6
NO_ISSUE = "none"


@dataclass(frozen=True)
class Row:
    """One review of the development set."""

    set: str  # the file, relative to the data folder
    row: int  # 0-based position among that file's data rows
    id: str
    app: str
    text: str
    rating: str
    date: str
    version: str
    thumbs_up: str = ""  # store reviews only


def _read(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise SystemExit(f"{path}: missing (the development set of issues reads it)")
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def select_rows(data: Path) -> list[Row]:
    """The development set's rows, in file order, CLAP first."""
    clap = _read(data / CLAP)
    kept = [(i, r) for i, r in enumerate(clap) if r["category"] != "OTHER"]
    per_app = Counter(r["app"] for _, r in kept)
    rows = [Row(CLAP, i, r["id"], r["app"], r["review"], r["rating"], r["date_iso"], r["version"])
            for i, r in kept if per_app[r["app"]] >= CLAP_MIN_PER_APP]
    for i, r in enumerate(_read(data / UPI)):
        rating = r["rating"].strip()
        if (r["lang_guess"] == "en" and rating and float(rating) <= 3
                and len(r["text"].split()) >= UPI_MIN_WORDS):
            rows.append(Row(UPI, i, r["review_id"], r["app"], r["text"], rating, r["date"], r["app_version"],
                            r.get("thumbs_up", "")))
    return rows


def load_annotation(reader: str, rows: list[Row], annotations: Path = ANNOTATIONS) -> list[str]:
    """One reader's group per row (in `rows` order), checked against the rows' sets, positions and ids."""
    path = annotations / f"reader_{reader}.csv"
    with path.open(newline="", encoding="utf-8") as f:
        marks = {(m["set"], int(m["row"])): m for m in csv.DictReader(f)}
    groups = []
    for r in rows:
        mark = marks.get((r.set, r.row))
        if mark is None:
            raise SystemExit(f"{path}: no group for row {r.row} of {r.set}")
        if mark["id"] != r.id:
            raise SystemExit(f"{path}: row {r.row} of {r.set} has id {r.id!r}, the annotation says {mark['id']!r};"
                             " is it another version of the set?")
        groups.append(mark["group"])
    if len(marks) != len(rows):
        raise SystemExit(f"{path}: {len(marks)} groups for {len(rows)} rows")
    return groups


def load_priority(path: Path = PRIORITY) -> dict[tuple[str, str], dict[str, str]]:
    """(app, reader A's issue) -> {"priority_a": ..., "priority_b": ...}; empty when the file is absent."""
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        return {(m["app"], m["issue"]): {f"priority_{x}": m[f"priority_{x}"] for x in READERS} for m in csv.DictReader(f)}


def build(data: Path, out: Path, annotations: Path = ANNOTATIONS, priority: Path = PRIORITY) -> dict:
    """Write the joined CSV (texts from `data`, groups of every reader, the issue's gold priority per reader);
    returns a summary."""
    rows = select_rows(data)
    by_reader = {reader: load_annotation(reader, rows, annotations) for reader in READERS}
    priorities = load_priority(priority)
    marked = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["set", "row", "id", "app", "text", "rating", "date", "version", *(f"issue_{x}" for x in READERS),
                    *(f"priority_{x}" for x in READERS), "thumbs_up"])
        for i, r in enumerate(rows):
            issues = [f"{NO_ISSUE}|{r.set}:{r.row}" if by_reader[x][i] == NO_ISSUE else by_reader[x][i]
                      for x in READERS]
            gold = priorities.get((r.app, issues[0]), {})
            marked += bool(gold)
            w.writerow([r.set, r.row, r.id, r.app, r.text, r.rating, r.date, r.version, *issues,
                        *(gold.get(f"priority_{x}", "") for x in READERS), r.thumbs_up])
    return {"rows": len(rows), "apps": len({r.app for r in rows}), "out": str(out),
            **{f"groups_{x}": len({g for g in by_reader[x] if g != NO_ISSUE}) for x in READERS},
            **{f"none_{x}": sum(g == NO_ISSUE for g in by_reader[x]) for x in READERS},
            "rows_with_priority": marked}


def import_priority(key: Path, answers: list[Path], out: Path = PRIORITY) -> dict:
    """Write `app, issue, priority_a, priority_b` from the issue key and one answer sheet per reader (in
    `READERS` order); every issue of the key must be answered exactly once by every reader."""
    with key.open(newline="", encoding="utf-8") as f:
        issues = {int(m["n"]): (m["app"], m["issue"]) for m in csv.DictReader(f)}
    labels: dict[str, dict[int, str]] = {}
    for reader, path in zip(READERS, answers, strict=True):
        marks: dict[int, str] = {}
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            n, _, label = line.strip().partition("\t")
            label = label.strip().upper()
            if not n.strip().isdigit() or label not in PRIORITIES:
                raise SystemExit(f"{path}:{line_no}: expected <n><TAB>HIGH|NORMAL, got {line!r}")
            if int(n) in marks:
                raise SystemExit(f"{path}:{line_no}: issue {n} answered twice")
            marks[int(n)] = label
        if set(marks) != set(issues):
            missing, extra = sorted(set(issues) - set(marks)), sorted(set(marks) - set(issues))
            raise SystemExit(f"{path}: answers do not match the key: missing {missing[:10]}, unknown {extra[:10]}")
        labels[reader] = marks
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["app", "issue", *(f"priority_{x}" for x in READERS)])
        for n in sorted(issues, key=lambda n: issues[n]):
            w.writerow([*issues[n], *(labels[x][n] for x in READERS)])
    return {"issues": len(issues), "out": str(out),
            **{f"high_{x}": sum(v == "HIGH" for v in labels[x].values()) for x in READERS}}


def write_sheets(data: Path, out: Path) -> dict:
    """One tab-separated file per app for a reader: `n<TAB>text` (n = position in the development set)."""
    rows = select_rows(data)
    out.mkdir(parents=True, exist_ok=True)
    per_app: dict[str, list[tuple[int, Row]]] = {}
    for n, r in enumerate(rows):
        per_app.setdefault(r.app, []).append((n, r))
    for app, items in per_app.items():
        with (out / f"{app}.tsv").open("w", encoding="utf-8") as f:
            for n, r in items:
                f.write(f"{n}\t{' '.join(r.text.split())}\n")
    return {"rows": len(rows), "apps": len(per_app), "out": str(out)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.issue_set", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "sheets", "import-priority"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--key", type=Path, help="import-priority: n,app,issue of the numbered issues")
    parser.add_argument("--answers", type=Path, nargs="+", help="import-priority: one answer sheet per reader (A, B)")
    args = parser.parse_args(argv)
    if args.command == "import-priority":
        if args.key is None or not args.answers:
            parser.error("import-priority needs --key and --answers")
        summary = import_priority(args.key, args.answers, args.out or PRIORITY)
    elif args.out is None:
        parser.error(f"{args.command} needs --out")
    else:
        summary = build(args.data, args.out) if args.command == "build" else write_sheets(args.data, args.out)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
