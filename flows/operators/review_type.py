"""Review type in the Maalej & Nabil taxonomy: bug_report, feature_request, user_experience, rating.

Zero-shot by default: cue phrases that users write when they report a bug or ask for a feature
(high precision), then the nearest type prototype by embedding similarity. A model trained with
`python -m flows.train_types --data PATH [--data PATH …]` (saved as plain arrays, no pickle)
replaces both when its file exists (SIFT_TYPES_MODEL). It is deliberately small: the cue flags, the
similarity to each type prototype, the text length and a down-weighted embedding (`EMBEDDING_SCALE`),
because a model free to use the whole embedding learns one data set's labelling habits and does worse
on another set than the zero-shot rules (README, "Review-type quality, measured"). The shipped
embedding-only head (`flows/models/review_type_head.npz`, `python -m flows.train_heads`) is not the
default for that reason: it measures below the rules on reviews it was not trained on
(docs/results/heads.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flows.models import is_zero_shot, write_npz

TYPES = ("bug_report", "feature_request", "user_experience", "rating")

# Descriptions of each type in users' words; the prototype is their mean embedding.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "bug_report": (
        "the app crashes when I open it",
        "it stopped working after the update and shows an error",
        "the payment failed and the money was debited but not credited",
        "I can't log in, the page keeps loading and freezes",
        "this feature is broken, please fix the bug",
        "it does not sync and data is lost",
    ),
    "feature_request": (
        "please add an option to export my data",
        "it would be great if you could add dark mode",
        "I wish the app had a widget",
        "you should add support for multiple accounts",
        "please bring back the old feature and allow us to customize it",
        "I would give five stars if you add split bill",
    ),
    "user_experience": (
        "I use this app every day to pay my bills and it saves me time",
        "it helped me keep track of my expenses on my trips",
        "I travel a lot and this app makes booking easy",
        "we use it at work to share documents with the team",
        "since I started using it I never miss a payment",
        "easy to navigate and I can find what I need quickly",
    ),
    "rating": (
        "great app",
        "love it, best app ever",
        "worst app, useless",
        "awesome, five stars",
        "very good and nice",
        "terrible, do not install",
    ),
}

_BUG = re.compile(
    r"\b(crash\w*|bug\w*|glitch\w*|error\w*|freez\w*|hang(s|ing)?|stuck|broken|not (working|loading|opening|responding)"
    r"|doesn'?t (work|load|open)|does not (work|load|open)|won'?t (work|load|open|let)|can'?t (log|sign|open|load)"
    r"|cannot (log|sign|open|load)|fail(s|ed|ing|ure)?|debited|deducted|not (received|credited)|keeps? (crashing|closing|stopping)"
    r"|force clos\w*|black screen|blank|lag\w*|slow|problem\w*|issue\w*|drain\w*|out of memory|keeps? (saying|asking|showing)"
    r"|unable to|not able to|no longer|stopped)\b",
    re.IGNORECASE,
)
_FEATURE = re.compile(
    r"\b(please (add|make|allow|include|bring|give|let|provide|support|consider|introduce)|pls add|plz add"
    r"|would (be|love) (nice|great|awesome|good|helpful|cool)|would love|i wish|wish (it|there|you)|should (add|have|be able|allow|include)"
    r"|need(s)? (an?|the) (option|feature|way|setting)|add (an?|the|more|support|option)|feature request|hope you (add|will|can)"
    r"|it would be|would be (nice|great|better) if|if (you|they) (add|could|would)|allow (us|me|users) to|option to|ability to"
    r"|would like|i want|we want|wanted|miss(ing)? (the|some|a|an|using|feature|option)|lack(s|ing)?( of)? (some|a|an|the|basic|certain)?\s*(feature|option|support)"
    r"|need(s)? (some|more|a|an|the)?\s*(feature|option|support)|support for|bring (it|back)|could have been|could(')?ve been"
    r"|hope(fully)? (you|they|the next|in the next)|in (the )?(next|future) (update|version)|add (it|this|that))\b",
    re.IGNORECASE,
)
CUES = (_BUG, _FEATURE)


# The embedding enters a trained model multiplied by this: with one L2 penalty for all weights, a
# smaller scale means a stronger prior toward the cue/prototype/length features.
EMBEDDING_SCALE = 0.2


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(n, 2) flags: has a bug cue, has a feature-request cue."""
    return np.array([[1.0 if cue.search(t) else 0.0 for cue in CUES] for t in texts], dtype=np.float32)


def length_features(texts: Sequence[str]) -> np.ndarray:
    """(n, 4): log word count (scaled), and flags for at most 3, at most 8, at least 25 words."""
    words = np.array([len(t.split()) for t in texts], dtype=np.float32)
    return np.stack([np.log1p(words) / 5, words <= 3, words <= 8, words >= 25], axis=1).astype(np.float32)


def type_features(vectors: np.ndarray, texts: Sequence[str], prototypes: np.ndarray,
                  embedding_scale: float = EMBEDDING_SCALE) -> np.ndarray:
    """(n, 2 + 4 + 4 + dims): cue flags, prototype similarities, length, embedding × scale."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return np.hstack([cue_features(texts), vectors @ prototypes.T, length_features(texts), vectors * embedding_scale])


@dataclass(frozen=True)
class TypeModel:
    """A linear model over one of three inputs; arrays only, loaded from an .npz file.

    `inputs` says what the weights read: `type_features` (cue flags, prototype similarities, length
    and the scaled embedding; `prototypes` are the type prototype vectors it was trained with, kept in
    the file so the features do not depend on re-encoding them), `embedding` (the embedding alone: the
    shipped head, `flows/models/review_type_head.npz`), or `embedding+cues` (an older file: [embedding,
    cue flags]). A file without `inputs` is read as `type_features` when it holds prototypes, else as
    `embedding+cues`.
    """

    weights: np.ndarray  # (features, classes)
    bias: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    prototypes: np.ndarray | None = None  # (types, dims)
    embedding_scale: float = EMBEDDING_SCALE
    inputs: str = ""  # "" = inferred: type_features with prototypes, else embedding+cues
    meta: dict = field(default_factory=dict, compare=False)

    INPUTS = ("type_features", "embedding", "embedding+cues")

    def __post_init__(self):
        if not self.inputs:
            object.__setattr__(self, "inputs", "type_features" if self.prototypes is not None else "embedding+cues")
        if self.inputs not in self.INPUTS:
            raise ValueError(f"review-type model inputs {self.inputs!r} is not one of {', '.join(self.INPUTS)}")
        if self.inputs == "type_features" and self.prototypes is None:
            raise ValueError("a review-type model over type_features needs its prototypes")

    @classmethod
    def load(cls, path: Path) -> TypeModel:
        with np.load(path, allow_pickle=False) as z:
            return cls(weights=z["weights"].astype(np.float32), bias=z["bias"].astype(np.float32),
                       classes=tuple(str(c) for c in z["classes"]),
                       prototypes=z["prototypes"] if "prototypes" in z.files else None,
                       embedding_scale=float(z["embedding_scale"]) if "embedding_scale" in z.files else 1.0,
                       inputs=str(z["inputs"]) if "inputs" in z.files else "",
                       meta=json.loads(str(z["meta"])) if "meta" in z.files else {})

    def save(self, path: Path, meta: dict | None = None) -> None:
        arrays = {"weights": self.weights.astype(np.float32), "bias": self.bias.astype(np.float32),
                  "classes": np.array(self.classes), "inputs": np.array(self.inputs),
                  "meta": np.array(json.dumps(meta or self.meta or {}, sort_keys=True))}
        if self.prototypes is not None:
            arrays.update(prototypes=self.prototypes.astype(np.float32), embedding_scale=np.float32(self.embedding_scale))
        write_npz(path, arrays)

    def features(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.inputs == "embedding":
            return vectors
        if self.inputs == "embedding+cues":
            return np.hstack([vectors, cue_features(texts)])
        return type_features(vectors, texts, self.prototypes, self.embedding_scale)

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """(n, classes) softmax probabilities, columns in `classes` order."""
        logits = self.features(vectors, texts) @ self.weights + self.bias
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        return probs / probs.sum(axis=1, keepdims=True)

    def predict(self, vectors: np.ndarray, texts: Sequence[str]) -> list[tuple[str, float]]:
        probs = self.probabilities(vectors, texts)
        best = probs.argmax(axis=1)
        return [(self.classes[i], float(probs[row, i])) for row, i in enumerate(best)]


class TypeClassifier:
    """Assigns a review type and a confidence to each (vector, text) pair."""

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray], model_path: Path | None = None):
        """The model at `model_path` when that file exists; zero-shot when it is unset, missing or the word
        `zero-shot` (SIFT_TYPES_MODEL=zero-shot)."""
        self.model = TypeModel.load(model_path) if not is_zero_shot(model_path) and model_path.is_file() else None
        self._prototypes: np.ndarray | None = None
        self._encode = encode

    @property
    def prototypes(self) -> np.ndarray:
        if self._prototypes is None:
            self._prototypes = prototype_vectors(self._encode)
        return self._prototypes

    def classify(self, vectors: np.ndarray, texts: Sequence[str]) -> list[tuple[str, float]]:
        if len(texts) == 0:
            return []
        if self.model is not None:
            return self.model.predict(vectors, texts)
        return zero_shot(vectors, texts, self.prototypes)


def prototype_vectors(encode: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """(types, dims): the unit-length mean embedding of each type's `PROTOTYPES`, in `TYPES` order."""
    rows = []
    for name in TYPES:
        v = encode(list(PROTOTYPES[name])).mean(axis=0)
        rows.append(v / (np.linalg.norm(v) or 1.0))
    return np.vstack(rows).astype(np.float32)


# Without cues, a text shorter than UX_MIN_WORDS is a rating rather than a user experience, and one
# shorter than REPORT_MIN_WORDS a rating rather than a bug report or request ("ok", "works as expected").
UX_MIN_WORDS = 12
REPORT_MIN_WORDS = 4


def zero_shot(vectors: np.ndarray, texts: Sequence[str], prototypes: np.ndarray) -> list[tuple[str, float]]:
    """Cues first (a feature request often mentions a problem, so it wins over a bug cue), then the
    nearest of the four prototypes, so a bug report or request in words no cue knows still gets its type."""
    sims = vectors @ prototypes.T
    out = []
    for row, text in enumerate(texts):
        bug, feature = (bool(c.search(text)) for c in CUES)
        if feature:
            i = 1
        elif bug:
            i = 0
        else:
            i, words = int(sims[row].argmax()), len(text.split())
            if (i == 2 and words < UX_MIN_WORDS) or (i in (0, 1) and words < REPORT_MIN_WORDS):
                i = 3  # too short to describe use, a fault or a wish: praise or blame
        out.append((TYPES[i], float(sims[row, i])))
    return out
