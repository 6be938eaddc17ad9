"""Rebuild the shipped issue metric: `python -m flows.train_issue_map [--data CSV ...] [--check]`.

`flows/models/issue_map.npz` is a linear map of the 384-d MiniLM embedding that the issue step
compares reviews by (`flows.operators.issues.vector_of`): under it, two reviews of one issue are close
and two reviews of one app about different issues, or about none, are not. MiniLM alone finds
"referral reward not credited" and "no cashback offers" (or any two angry reviews of one app) about
as close as two reports of one problem; the map learns which directions of the embedding tell
neighbouring problems apart.

Trained only on the project's own written set, `bench/data/issue_groups_written.csv` (`app`, `issue`,
`text`; `issue` is `generic` for a review that names no concrete problem): English reviews of
fictional apps, eight per issue, neighbouring problems on purpose (model card: docs/models.md). The
readers' development set (real reviews) is never trained on; `python -m bench.issues` measures the
flow with this map on it.

Loss, full batch: pull every pair of one issue together (1 - cosine), push every pair of one app in
different issues below cosine `MARGIN` (weighted by `repel`), and keep the map near the identity
(`keep`). The map starts at the identity; Adam, fixed seed, so a rebuild gives the same bytes on the same
machine: `--check` rebuilds into a temporary folder and compares with the shipped file (exit 1 when
they differ). Printed, last line one JSON object: the rows, issues, the pair similarities before and
after, and the file's size.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from core.settings import PROJECT_ROOT
from flows.models import ISSUE_MAP, write_npz

WRITTEN = PROJECT_ROOT / "bench" / "data" / "issue_groups_written.csv"
GENERIC = "generic"
MARGIN = 0.3
REPEL = 3.0
KEEP = 0.003
EPOCHS = 500
LR = 0.003
SEED = 0


def read_groups(paths: list[Path]) -> tuple[list[str], list[str], list[str]]:
    """Texts, apps and issue labels; a `generic` review is an issue of its own (it is like no other)."""
    texts, apps, issues = [], [], []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for n, row in enumerate(csv.DictReader(handle)):
                text, app, issue = (row.get(k, "").strip() for k in ("text", "app", "issue"))
                if not (text and app and issue):
                    raise SystemExit(f"flows.train_issue_map: error: {path} row {n + 2} lacks text, app or issue")
                texts.append(text)
                apps.append(app)
                issues.append(f"{app}|{issue}" if issue != GENERIC else f"{app}|{GENERIC}#{len(texts)}")
    return texts, apps, issues


def train_map(vectors: np.ndarray, issues: list[str], apps: list[str], repel: float = REPEL, keep: float = KEEP,
              epochs: int = EPOCHS, lr: float = LR, seed: int = SEED) -> np.ndarray:
    """The map (dims x dims, applied as `x @ map`) under which one issue's reviews are close and an app's
    other reviews are not."""
    import torch

    torch.manual_seed(seed)
    x = torch.tensor(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=torch.float32)
    ident = torch.eye(x.shape[1])
    labels = np.asarray(issues)
    groups = np.asarray(apps)
    off = ~torch.eye(len(labels), dtype=torch.bool)
    same = torch.from_numpy(labels[:, None] == labels[None, :]) & off
    same_app = torch.from_numpy(groups[:, None] == groups[None, :]) & off
    other = same_app & ~same
    weights = torch.nn.Parameter(ident.clone())
    optimizer = torch.optim.Adam([weights], lr=lr)
    for _ in range(epochs):
        z = torch.nn.functional.normalize(x @ weights, dim=1)
        sim = z @ z.T
        loss = (1 - sim)[same].mean() + repel * torch.relu(sim - MARGIN)[other].mean() + keep * ((weights - ident) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weights.detach().numpy()


def apply_map(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mapped = vectors @ weights
    return mapped / np.linalg.norm(mapped, axis=1, keepdims=True)


def pair_similarity(vectors: np.ndarray, issues: list[str], apps: list[str]) -> dict:
    """Mean cosine of pairs of one issue and of pairs of one app in different issues."""
    z = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = z @ z.T
    labels, groups = np.asarray(issues), np.asarray(apps)
    off = ~np.eye(len(labels), dtype=bool)
    same = (labels[:, None] == labels[None, :]) & off
    other = (groups[:, None] == groups[None, :]) & off & ~same
    return {"same_issue": round(float(sim[same].mean()), 3), "other_issue": round(float(sim[other].mean()), 3)}


def _name(path: Path) -> str:
    """The training file as the model card names it: relative to the project when it is inside it."""
    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return path.name


def build(paths: list[Path], out: Path, cache: Path | None = None) -> dict:
    from core.settings import Settings
    from flows.operators.embed import Embedder
    from flows.operators.text import meaning_text
    from flows.train_types import encode_cached

    texts, apps, issues = read_groups(paths)
    settings = Settings.from_env()
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, settings.embed_backend)
    vectors = encode_cached(embedder.encode, [meaning_text(t, (a,)) for t, a in zip(texts, apps)], cache)
    weights = train_map(vectors, issues, apps)
    meta = {"command": "python -m flows.train_issue_map", "licence": "the project's own (written for Sift)",
            "trained_on": [{"file": _name(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in paths],
            "margin": MARGIN, "repel": REPEL, "keep": KEEP, "epochs": EPOCHS, "lr": LR, "seed": SEED}
    write_npz(out, {"weights": weights.astype(np.float16), "meta": np.array(json.dumps(meta, sort_keys=True))})
    shipped = np.load(out, allow_pickle=False)["weights"].astype(np.float32)
    sizes = Counter(issues)
    return {"rows": len(texts), "apps": len(set(apps)), "issues": sum(1 for n in sizes.values() if n >= 2),
            "generic": sum(1 for i in issues if f"|{GENERIC}#" in i),
            "before": pair_similarity(vectors, issues, apps), "after": pair_similarity(apply_map(vectors, shipped), issues, apps),
            "file": str(out), "bytes": out.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.train_issue_map", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, nargs="+", default=[WRITTEN], help="written issue groups (app, issue, text)")
    parser.add_argument("--out", type=Path, default=ISSUE_MAP)
    parser.add_argument("--cache", type=Path, default=None, help="keep the embeddings by text in this .npz")
    parser.add_argument("--check", action="store_true", help="rebuild into a temporary folder and compare with --out")
    args = parser.parse_args(argv)
    for path in args.data:
        if not path.is_file():
            print(f"flows.train_issue_map: error: {path} does not exist", file=sys.stderr)
            return 2
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            report = build(args.data, Path(tmp) / args.out.name, args.cache)
            same = args.out.is_file() and (Path(tmp) / args.out.name).read_bytes() == args.out.read_bytes()
        report["matches_shipped"] = same
        print(json.dumps(report))
        return 0 if same else 1
    report = build(args.data, args.out, args.cache)
    print(f"issue map: {report['rows']} written reviews, {report['issues']} issues, {report['generic']} generic; "
          f"pairs of one issue {report['before']['same_issue']} -> {report['after']['same_issue']}, "
          f"of different issues {report['before']['other_issue']} -> {report['after']['other_issue']}; "
          f"{report['bytes']:,} bytes to {report['file']}", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
