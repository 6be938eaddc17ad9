"""Embedding throughput and agreement of the backends, measured interleaved in one run.

    python -m bench.encode --n 2000 [--data CSV] [--short CSV] [--reps 5] [--threads 2] [--types CSV]

On two text sets (`--data`: longer labelled reviews; `--short`: a short-review stream), `--n` distinct
texts each, it times, in rotating order within every repetition:

- `torch-st32`: sentence-transformers `encode(texts, batch_size=32)` in one call, fp32 (DESIGN's reference);
- `torch`, `onnx`, `onnx-int8`: `Embedder` (length-sorted micro-batches of `--batch`, cache off), called
  with `--call` texts at a time as the flow does.

It reports the median texts/s of each, the speed-up over `torch-st32`, and the cosine of each text's
vector with the reference (min, 1st percentile, mean). `--types CSV` also scores the zero-shot review
type (as `python -m bench.quality types --data CSV`, whose `Embedder()` is always torch) with each
backend and reports macro-F1. Also: the share of exact duplicates in the first `--n` rows of the short
stream (what the cache serves without encoding). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LONG = DATA / "labeled" / "review_types_maalej2016.csv"
SHORT = DATA / "streams" / "upi_phonepe_paytm_2025.csv"
BACKENDS = ("torch", "onnx", "onnx-int8")


def load_texts(path: Path, n: int, column: str = "text") -> tuple[list[str], float]:
    """The first `n` distinct texts, and the share of exact duplicates among the first `n` rows."""
    import pandas as pd

    rows = pd.read_csv(path)[column].dropna().astype(str)
    rows = rows[rows.str.strip() != ""]
    head = rows.head(n)
    return rows.drop_duplicates().head(n).tolist(), round(1 - head.nunique() / max(len(head), 1), 4)


def cosine_stats(vectors: np.ndarray, reference: np.ndarray) -> dict:
    cos = np.sum(vectors * reference, axis=1)
    return {"min": round(float(cos.min()), 5), "p1": round(float(np.percentile(cos, 1)), 5),
            "mean": round(float(cos.mean()), 5)}


def types_macro_f1(embedder, path: Path) -> float:
    """Zero-shot review-type macro-F1, as `bench.types_quality.evaluate_types` without a model."""
    from sklearn.metrics import f1_score

    from flows.operators.review_type import TYPES, TypeClassifier
    from flows.train_types import load_labeled

    texts, gold = load_labeled(path, "text", "label", "")
    predicted = [t for t, _ in TypeClassifier(embedder.encode).classify(embedder.encode(texts), texts)]
    return round(float(f1_score(gold, predicted, labels=list(TYPES), average="macro", zero_division=0)), 4)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m bench.encode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="distinct texts per set")
    parser.add_argument("--data", type=Path, default=LONG, help="CSV with a text column: longer reviews")
    parser.add_argument("--short", type=Path, default=SHORT, help="CSV with a text column: short reviews")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch / onnxruntime intra-op threads")
    parser.add_argument("--batch", type=int, default=32, help="Embedder micro-batch size")
    parser.add_argument("--call", type=int, default=256, help="texts per Embedder.encode call (the flow's batch)")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--types", type=Path, help="also report zero-shot review-type macro-F1 per backend on this CSV")
    args = parser.parse_args(argv)
    for given in (args.data, args.short, args.types):
        if given is not None and not given.is_file():
            print(f"bench.encode: error: {given} does not exist", file=sys.stderr)
            return 2
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    import torch

    from flows.operators.embed import Embedder

    torch.set_num_threads(args.threads)
    sets = {}
    for name, path in (("long", args.data), ("short", args.short)):
        texts, duplicates = load_texts(path, args.n)
        sets[name] = {"path": str(path), "texts": texts, "duplicates_in_first_n": duplicates,
                      "words": round(statistics.mean(len(t.split()) for t in texts), 1)}

    embedders = {b: Embedder(None, args.threads, args.batch, b, cache_size=0) for b in backends}
    reference_model = (embedders.get("torch") or Embedder(None, args.threads, args.batch, "torch")).model

    def run(variant: str, texts: list[str]) -> np.ndarray:
        if variant == "torch-st32":
            return reference_model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
        embedder = embedders[variant]
        return np.concatenate([embedder.encode(texts[i:i + args.call]) for i in range(0, len(texts), args.call)])

    variants = ["torch-st32", *backends]
    started, load_before = time.time(), os.getloadavg()[0]
    for variant in variants:  # load, export and warm up outside the timed runs
        t = time.perf_counter()
        run(variant, sets["long"]["texts"][:64])
        print(f"# {variant}: ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    times: dict[tuple[str, str], list[float]] = {}
    vectors: dict[tuple[str, str], np.ndarray] = {}
    for rep in range(args.reps):
        order = variants[rep % len(variants):] + variants[:rep % len(variants)]
        for name, entry in sets.items():
            for variant in order:
                t = time.perf_counter()
                vectors[name, variant] = run(variant, entry["texts"])
                times.setdefault((name, variant), []).append(len(entry["texts"]) / (time.perf_counter() - t))
        print(f"# rep {rep + 1}/{args.reps} done, load {os.getloadavg()[0]:.1f}", file=sys.stderr)

    results = {}
    print(f"{'set':6} {'variant':11} {'texts/s':>8} {'x st32':>7} {'cos min':>8} {'cos p1':>8} {'cos mean':>8}  runs")
    for name, entry in sets.items():
        base = statistics.median(times[name, "torch-st32"])
        results[name] = {k: v for k, v in entry.items() if k != "texts"} | {"n": len(entry["texts"]), "variants": {}}
        for variant in variants:
            rate = statistics.median(times[name, variant])
            cos = cosine_stats(vectors[name, variant], vectors[name, "torch-st32"])
            results[name]["variants"][variant] = {
                "texts_per_s": round(rate, 1), "speedup": round(rate / base, 2), "cosine": cos,
                "runs": [round(r, 1) for r in times[name, variant]],
            }
            print(f"{name:6} {variant:11} {rate:8.1f} {rate / base:7.2f} {cos['min']:8.4f} {cos['p1']:8.4f} "
                  f"{cos['mean']:8.4f}  {' '.join(f'{r:.0f}' for r in times[name, variant])}")
    report = {"threads": args.threads, "batch": args.batch, "call": args.call, "reps": args.reps,
              "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)], "sets": results}
    if args.types is not None:
        report["types_macro_f1"] = {"data": str(args.types)}
        for backend in backends:
            report["types_macro_f1"][backend] = f1 = types_macro_f1(embedders[backend], args.types)
            print(f"review-type macro-F1 (zero-shot) {backend:10} {f1:.4f}")
    print(f"# {time.time() - started:.0f} s", file=sys.stderr)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
