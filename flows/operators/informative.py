"""Informativeness (AR-Miner's notion): does a review carry something a developer can act on?

One linear model over the review's MiniLM embedding, `sigmoid(v . w + b)`, with
two ways to get `w` and `b`:

- zero-shot (the default): `w` points from the centroid of non-informative
  prototype phrases ("great app", "love it") to the centroid of informative ones
  ("crashes when I open it", "please add ..."), scaled so the prototypes land
  near logits of +-2;
- trained: logistic regression on a labelled CSV (`python -m
  flows.train_informative`), saved as plain arrays in an `.npz` file (no pickle).

`load_model` uses the trained file when it exists, else the zero-shot model.
Pure apart from reading that file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INFORMATIVE = (
    "the app crashes when I open it",
    "it keeps freezing and I have to restart",
    "after the latest update I cannot log in",
    "payment failed but the money was debited from my account",
    "the button does not work on my phone",
    "please add an option to export my data",
    "it would be great if you could add dark mode",
    "I get an error message every time I try to save",
    "notifications are not showing up",
    "the sync stopped working since yesterday",
    "the app is very slow and drains my battery",
    "too many ads, please remove the pop ups",
    "refund not received after seven days",
    "OTP never arrives so I cannot verify my number",
    "the new design is confusing, I cannot find the settings",
    "should have an option to change the font size",
)
NON_INFORMATIVE = (
    "great app",
    "I love this app",
    "best app ever",
    "awesome, five stars",
    "nice app, very good",
    "useless app",
    "worst app ever",
    "thank you so much",
    "good job guys",
    "amazing, keep it up",
    "I like it",
    "very helpful app",
    "this is the best",
    "highly recommended to everyone",
)


@dataclass(frozen=True)
class InformativenessModel:
    """`score(vectors)` in 0..1; at or above `threshold` a review counts as informative."""

    weights: np.ndarray
    bias: float
    threshold: float = 0.5
    kind: str = "zero-shot"

    def score(self, vectors: np.ndarray) -> np.ndarray:
        if vectors.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        logits = vectors.astype(np.float32) @ self.weights + self.bias
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    @classmethod
    def zero_shot(cls, encode: Callable[[Sequence[str]], np.ndarray], threshold: float = 0.5) -> InformativenessModel:
        pos, neg = encode(list(INFORMATIVE)), encode(list(NON_INFORMATIVE))
        direction = pos.mean(axis=0) - neg.mean(axis=0)
        p, n = pos @ direction, neg @ direction
        midpoint = (p.mean() + n.mean()) / 2
        scale = 4.0 / max(float(p.mean() - n.mean()), 1e-6)  # prototype centroids at logits about +-2
        return cls(weights=(direction * scale).astype(np.float32), bias=float(-midpoint * scale),
                   threshold=threshold, kind="zero-shot")

    def save(self, path: Path, meta: dict | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez(f, weights=self.weights, bias=np.float32(self.bias), threshold=np.float32(self.threshold),
                     meta=np.array(json.dumps(meta or {})))

    @classmethod
    def load(cls, path: Path) -> InformativenessModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(weights=data["weights"].astype(np.float32), bias=float(data["bias"]),
                       threshold=float(data["threshold"]), kind=f"trained:{path.name}")


def load_model(path: Path | None, encode: Callable[[Sequence[str]], np.ndarray], threshold: float = 0.5
               ) -> InformativenessModel:
    """The trained model at `path` when it exists, else the zero-shot model with `threshold`."""
    if path is not None and path.is_file():
        model = InformativenessModel.load(path)
        log.info("informativeness: trained model %s (threshold %.2f)", path, model.threshold)
        return model
    return InformativenessModel.zero_shot(encode, threshold)
