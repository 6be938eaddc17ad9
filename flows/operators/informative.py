"""Informativeness (AR-Miner's notion): does a review carry something a developer can act on?

A linear score `sigmoid(logit)` in 0..1, with three kinds of model:

- the shipped head (the default, `flows/models/informative_head.npz`, built by
  `python -m flows.train_heads`): `logit = v . w + b` learnt by logistic regression on the
  embedding alone, from labels the project may redistribute (docs/models.md);
- zero-shot (`SIFT_INFORMATIVE_MODEL=zero-shot`): `logit = v . w + b` on the review's MiniLM embedding `v`,
  where `w` points from the centroid of non-informative prototype phrases ("great app",
  "love it") to the centroid of informative ones ("crashes when I open it", "please add
  ..."), scaled so the prototypes land near logits of +-2;
- trained (`python -m flows.train_informative`): logistic regression on the embedding
  *plus* TF-IDF word 1-2-grams and character 2-5-grams of the same text, all in one linear
  model. It is saved as plain arrays in an `.npz` file (no pickle): embedding weights, the
  two vocabularies with their idf and weights, the bias and the threshold. Scoring rebuilds
  the TF-IDF rows here in numpy with the very analyzers training used (`word_ngrams`,
  `char_ngrams`), so run time and training cannot drift apart. It also carries an
  embedding-only fallback (`fallback_*`) for callers that pass no texts.

`load_model` uses the model file it is given (by default the shipped head,
`flows/models/informative_head.npz`: embedding only, see docs/models.md); the word `zero-shot`, or a
file that does not exist, gives the zero-shot model. Pure apart from reading that file.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flows.models import ZERO_SHOT, is_zero_shot, write_npz

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

_WORD = re.compile(r"(?u)\b\w\w+\b")
_SPACE = re.compile(r"\s+")


def word_ngrams(text: str) -> list[str]:
    """Lower-cased word 1- and 2-grams (words of 2+ word characters), as scikit-learn's default."""
    words = _WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def char_ngrams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character `low`..`high`-grams inside space-padded words (scikit-learn's `char_wb`)."""
    grams: list[str] = []
    for word in _SPACE.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            grams.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
            if len(padded) < n:
                break
    return grams


ANALYZERS: dict[str, Callable[[str], list[str]]] = {"word": word_ngrams, "char": char_ngrams}


@dataclass(frozen=True)
class LexicalBlock:
    """One TF-IDF block (sublinear tf, idf, L2-normalised rows) and its slice of the linear model."""

    analyzer: str
    vocabulary: dict[str, int]
    idf: np.ndarray
    weights: np.ndarray

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        analyze, out = ANALYZERS[self.analyzer], np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(j for j in map(self.vocabulary.get, analyze(text)) if j is not None)
            if not counts:
                continue
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            values = tf * self.idf[cols]
            out[row] = float(values @ self.weights[cols]) / max(math.sqrt(float(values @ values)), 1e-12)
        return out


@dataclass(frozen=True)
class InformativenessModel:
    """`score(vectors, texts)` in 0..1; at or above `threshold` a review counts as informative.

    A model with lexical blocks needs the texts the vectors were made from; called without
    them it scores with its embedding-only fallback (and its own threshold is then
    `fallback_threshold`, see `threshold_for`).
    """

    weights: np.ndarray
    bias: float
    threshold: float = 0.5
    kind: str = "zero-shot"
    lexical: tuple[LexicalBlock, ...] = ()
    fallback_weights: np.ndarray | None = None
    fallback_bias: float = 0.0
    fallback_threshold: float = 0.5
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def needs_texts(self) -> bool:
        return bool(self.lexical)

    def threshold_for(self, with_texts: bool) -> float:
        return self.threshold if with_texts or not self.lexical else self.fallback_threshold

    def score(self, vectors: np.ndarray, texts: Sequence[str] | None = None) -> np.ndarray:
        if vectors.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        vectors = vectors.astype(np.float32)
        if self.lexical and texts is None:
            if self.fallback_weights is None:
                raise ValueError("this informativeness model needs the review texts")
            logits = vectors @ self.fallback_weights + self.fallback_bias
        else:
            logits = vectors @ self.weights + self.bias
            if self.lexical:
                if len(texts) != vectors.shape[0]:
                    raise ValueError(f"{len(texts)} texts for {vectors.shape[0]} vectors")
                for block in self.lexical:
                    logits = logits + block.logits(texts)
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))).astype(np.float32)

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
        arrays = {"weights": self.weights.astype(np.float32), "bias": np.float32(self.bias),
                  "threshold": np.float32(self.threshold), "meta": np.array(json.dumps(meta or self.meta or {}))}
        names = []
        for block in self.lexical:
            terms = sorted(block.vocabulary, key=block.vocabulary.__getitem__)
            arrays[f"{block.analyzer}_terms"] = np.array(json.dumps(terms, ensure_ascii=False))
            arrays[f"{block.analyzer}_idf"] = block.idf.astype(np.float32)
            arrays[f"{block.analyzer}_weights"] = block.weights.astype(np.float32)
            names.append(block.analyzer)
        arrays["lexical"] = np.array(json.dumps(names))
        if self.fallback_weights is not None:
            arrays.update(fallback_weights=self.fallback_weights.astype(np.float32),
                          fallback_bias=np.float32(self.fallback_bias),
                          fallback_threshold=np.float32(self.fallback_threshold))
        write_npz(path, arrays)

    @classmethod
    def load(cls, path: Path) -> InformativenessModel:
        with np.load(path, allow_pickle=False) as data:
            blocks = []
            for name in json.loads(str(data["lexical"])) if "lexical" in data else []:
                if name not in ANALYZERS:
                    raise ValueError(f"{path}: unknown lexical block {name!r}")
                terms = json.loads(str(data[f"{name}_terms"]))
                blocks.append(LexicalBlock(name, {t: i for i, t in enumerate(terms)},
                                           data[f"{name}_idf"].astype(np.float64),
                                           data[f"{name}_weights"].astype(np.float64)))
            fallback = "fallback_weights" in data
            return cls(weights=data["weights"].astype(np.float32), bias=float(data["bias"]),
                       threshold=float(data["threshold"]), kind=f"trained:{path.name}", lexical=tuple(blocks),
                       fallback_weights=data["fallback_weights"].astype(np.float32) if fallback else None,
                       fallback_bias=float(data["fallback_bias"]) if fallback else 0.0,
                       fallback_threshold=float(data["fallback_threshold"]) if fallback else 0.5,
                       meta=json.loads(str(data["meta"])) if "meta" in data else {})


def load_model(path: Path | None, encode: Callable[[Sequence[str]], np.ndarray], threshold: float = 0.5
               ) -> InformativenessModel:
    """The model file at `path`; the zero-shot model with `threshold` when `path` is unset, is the word
    `zero-shot`, or does not exist (then with a warning naming the path)."""
    if not is_zero_shot(path) and path.is_file():
        model = InformativenessModel.load(path)
        log.info("informativeness: trained model %s (threshold %.2f, lexical blocks %s)", path, model.threshold,
                 [b.analyzer for b in model.lexical] or "none")
        return model
    if not is_zero_shot(path):
        log.warning("informativeness: no model file %s; using the zero-shot model (set SIFT_INFORMATIVE_MODEL=%s"
                    " to choose it without this warning)", path, ZERO_SHOT)
    return InformativenessModel.zero_shot(encode, threshold)
