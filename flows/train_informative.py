"""Train the informativeness classifier: `python -m flows.train_informative --data PATH`.

PATH is a CSV with `text` and `label` (informative / non-informative). The model is
logistic regression (scikit-learn) on the MiniLM embeddings the flow already computes;
5-fold cross-validated precision / recall / F1 are printed before the final fit on all
rows, which is saved as plain arrays to SIFT_INFORMATIVE_MODEL (default
var/models/informative.npz). The flow uses it on its next start; delete the file to go
back to the zero-shot default.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m flows.train_informative", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="CSV with text and label columns")
    parser.add_argument("--out", type=Path, help="model file (default: SIFT_INFORMATIVE_MODEL)")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)

    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from flows.operators.embed import Embedder
    from flows.operators.informative import InformativenessModel
    from flows.settings import Settings

    settings = Settings.from_env()
    out = args.out or settings.informative_model
    try:
        df = pd.read_csv(args.data).dropna(subset=["text", "label"])
    except (OSError, ValueError, KeyError) as e:
        print(f"train_informative: error: cannot read {args.data}: {e}", file=sys.stderr)
        return 2
    labels = df["label"].astype(str).str.strip().str.lower()
    if not set(labels) <= {"informative", "non-informative"} or labels.nunique() != 2:
        print(f"train_informative: error: labels must be informative / non-informative, got {sorted(set(labels))}",
              file=sys.stderr)
        return 2
    y = (labels == "informative").to_numpy()
    embedder = Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch)
    x = embedder.encode(df["text"].astype(str).tolist())
    classifier = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    proba = cross_val_predict(classifier, x, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                              method="predict_proba")[:, 1]
    predicted = proba >= args.threshold
    tp, fp, fn = int((predicted & y).sum()), int((predicted & ~y).sum()), int((~predicted & y).sum())
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    cv = {"precision": round(precision, 4), "recall": round(recall, 4),
          "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 4)}
    classifier.fit(x, y)
    model = InformativenessModel(weights=classifier.coef_[0].astype(np.float32),
                                 bias=float(classifier.intercept_[0]), threshold=args.threshold, kind="trained")
    meta = {"data": str(args.data), "rows": int(len(y)), "informative": int(y.sum()), "cv5": cv}
    model.save(out, meta)
    print(json.dumps({"saved": str(out), **meta}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
