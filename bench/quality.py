"""Quality measurements of the denoiser on real data (read at run time, never copied into the project).

    python -m bench.quality filter --data ../shared/data/labeled/informative_arminer2014_train.csv [--model M.npz]
        precision / recall / F1 of the informative flag (kept by the denoiser AND informativeness at or
        above the threshold) against `label` (informative / non-informative), and the fraction of
        informative reviews the denoiser rejects. The model is `--model`, else SIFT_INFORMATIVE_MODEL
        (default: the shipped head, docs/models.md; `zero-shot` for the zero-shot model); a model
        trained on the same file is measured on its own training data (use the trainer's nested CV
        instead). The last line is one JSON object. `python -m bench.heads` compares the shipped
        heads with zero-shot on held-out sets.

    python -m bench.quality streams --data ../shared/data/streams
        per stream: kept, rejected by reason, detected languages, how the collectors' `lang_guess`
        maps to detected languages, and contest-hashtag tweets caught. The last line is one JSON object.

    python -m bench.quality types --data PATH [--train PATH | --model PATH] [--map clap]
        macro-F1 and per-class precision / recall / F1 of the review type (zero-shot by default).

    python -m bench.quality clusters --data PATH --gold-col COLUMN
        purity and NMI of the coarse KMeans themes against a gold column (issues: `python -m bench.issues`).

    python -m bench.quality agreement --data ../shared/data/labeled [--model PATH]
        on the rows of the public sets that `bench/data/annotations/` labels a second time: macro-F1
        and Cohen's kappa of the set's labels against that second annotation, of the review type
        against each, per class F1 too.

Each review goes through the production steps: parse, denoise (with the app's rules) and dedup.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from bench.types_quality import evaluate_agreement, evaluate_clusters, evaluate_types
from core.appmeta import AppMetadata, load_apps
from flows.dataflow import denoise_rules
from flows.operators.dedup import DedupConfig, dedup_step
from flows.operators.denoise import denoise
from core.rules import DenoiseRules
from flows.operators.parse import parse_message
from core.records import RawMessage, Rejected
from core.settings import PROJECT_ROOT, Settings

# What a product team would put in each stream's app metadata `"denoise"` object.
STREAM_RULES = {"sa_bank_tweets_2021.csv": {"contest_hashtags": ["LoveFNB"]}}


def _app(settings: Settings, app_id: str, overrides: dict) -> tuple[AppMetadata, DenoiseRules]:
    app = load_apps(settings.apps_path)[app_id]
    rules = denoise_rules(settings, {app_id: app})[app_id].with_overrides(overrides)
    return app, rules


def run_denoiser(texts: list[str], rules: DenoiseRules, settings: Settings, app_id: str) -> list:
    """Each text through parse -> denoise -> dedup; returns (Review, Measures) or Rejected per text."""
    state, out = None, []
    cfg = DedupConfig(max_repeats=settings.dedup_max_repeats, capacity=settings.dedup_capacity)
    now = time.time()
    from datetime import datetime, timezone

    at = datetime.fromtimestamp(now, timezone.utc)
    for i, text in enumerate(texts):
        raw = RawMessage(json.dumps({"id": str(i), "app_id": app_id, "text": text}), f"bench:{i}", at)
        item = parse_message(raw, {app_id})
        if not isinstance(item, Rejected):
            item = denoise(item, rules)
        if not isinstance(item, Rejected):
            state, item = dedup_step(state, item, cfg)
        out.append(item)
    return out


def filter_quality(path: Path, settings: Settings, app_id: str, model_path: Path | None = None) -> dict:
    import pandas as pd

    from flows.operators.embed import Embedder
    from flows.operators.informative import load_model

    df = pd.read_csv(path).dropna(subset=["text", "label"])
    texts = df["text"].astype(str).tolist()
    truth = (df["label"].astype(str).str.strip().str.lower() == "informative").tolist()
    _, rules = _app(settings, app_id, {})
    outcomes = run_denoiser(texts, rules, settings, app_id)
    kept_rows = [i for i, o in enumerate(outcomes) if not isinstance(o, Rejected)]
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch)
    model = load_model(model_path or settings.informative_model, embedder.encode, settings.informative_threshold)
    kept_texts = [texts[i] for i in kept_rows]
    scores = model.score(embedder.encode(kept_texts), kept_texts)
    predicted = [False] * len(texts)
    for row, score in zip(kept_rows, scores):
        predicted[row] = bool(score >= model.threshold)
    tp = sum(p and t for p, t in zip(predicted, truth))
    fp = sum(p and not t for p, t in zip(predicted, truth))
    fn = sum(t and not p for p, t in zip(predicted, truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    rejected_informative = sum(1 for o, t in zip(outcomes, truth) if t and isinstance(o, Rejected))
    reasons = Counter(o.reason for o, t in zip(outcomes, truth) if t and isinstance(o, Rejected))
    return {
        "data": str(path), "reviews": len(texts), "informative": sum(truth), "model": model.kind,
        "threshold": round(model.threshold, 3),
        "precision": round(precision, 4), "recall": round(recall, 4),
        "f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
        "informative_rejected": round(rejected_informative / max(sum(truth), 1), 4),
        "informative_rejected_by_reason": dict(reasons.most_common()),
        "rejected": sum(isinstance(o, Rejected) for o in outcomes),
    }


def stream_quality(folder: Path, settings: Settings, app_id: str) -> dict:
    import pandas as pd

    report = {}
    for file in sorted(folder.glob("*.csv")):
        df = pd.read_csv(file)
        df = df[df["text"].notna()]
        texts = df["text"].astype(str).tolist()
        overrides = STREAM_RULES.get(file.name, {})
        _, rules = _app(settings, app_id, overrides)
        outcomes = run_denoiser(texts, rules, settings, app_id)
        kept = [o for o in outcomes if not isinstance(o, Rejected)]
        langs = Counter(m.lang for _, m in kept)
        entry = {
            "rows": len(texts), "kept": len(kept),
            "rejected": dict(Counter(o.reason for o in outcomes if isinstance(o, Rejected)).most_common()),
            "kept_languages": dict(langs.most_common(8)),
            "kept_non_english": sum(n for lang, n in langs.items() if lang not in ("en", "und")),
        }
        if "lang_guess" in df.columns:
            by_guess: dict[str, Counter] = {}
            for guess, text, o in zip(df["lang_guess"].astype(str), texts, outcomes):
                m = o.measures if isinstance(o, Rejected) else o[1]
                if m is not None:
                    by_guess.setdefault(guess, Counter())[m.lang] += 1
            entry["lang_guess_to_detected"] = {g: dict(c.most_common(4)) for g, c in by_guess.items()}
        for tag in overrides.get("contest_hashtags", []):
            tagged = [o for t, o in zip(texts, outcomes) if f"#{tag.lower()}" in t.lower()]
            entry[f"#{tag}"] = {"tweets": len(tagged), "rejected": dict(
                Counter(o.reason if isinstance(o, Rejected) else "kept" for o in tagged).most_common())}
        report[file.name] = entry
    return report


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m bench.quality", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("filter", "streams", "types", "clusters", "agreement"))
    parser.add_argument("--data", type=Path, required=True, help="labelled CSV (filter, types, clusters), folder of stream CSVs (streams) or of the labelled sets (agreement)")
    parser.add_argument("--app", default="paynest", help="app_id whose metadata (SIFT_APPS) gives the rules")
    parser.add_argument("--train", type=Path, help="types: train on this CSV, then test on --data")
    parser.add_argument("--model", type=Path, help="types, agreement, filter: use this trained model instead of the default")
    parser.add_argument("--text-col", default="text")
    parser.add_argument("--label-col", default="label", help="types: label column")
    parser.add_argument("--map", default="", choices=("", "clap"), help="types: map CLAP categories to the four types")
    parser.add_argument("--gold-col", default="cluster", help="clusters: gold cluster column")
    parser.add_argument("--k", type=int, default=6, help="clusters: KMeans k")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    for given in (args.data, args.model):
        if given is not None and not given.exists():
            print(f"bench.quality: error: {given} does not exist", file=sys.stderr)
            return 2
    started = time.time()
    if args.what == "types":
        result = evaluate_types(args.data, args.train, args.model, args.text_col, args.label_col, args.map)
    elif args.what == "agreement":
        result = evaluate_agreement(args.data, args.model)
    elif args.what == "clusters":
        result = evaluate_clusters(args.data, args.text_col, args.gold_col, args.k)
    elif args.what == "filter":
        result = filter_quality(args.data, settings, args.app, args.model)
    else:
        result = stream_quality(args.data, settings, args.app)
    if args.what == "streams":
        for name, entry in result.items():
            print(f"{name}: {json.dumps(entry, ensure_ascii=False)}")
    print(f"# {time.time() - started:.0f} s; models and rules as configured (project root {PROJECT_ROOT})",
          file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
