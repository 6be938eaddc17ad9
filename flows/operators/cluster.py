"""Coarse themes per (app, primary label) with River's incremental KMeans (issues are `issues.py`).

Vectors are first reduced with a fixed, seeded Gaussian random projection
(384 -> `dims`, then re-normalised), which keeps cosine geometry closely while
making River's per-item cost several times smaller. The per-key state
(`ClusterState`) is small and picklable, so Bytewax can snapshot it.

Guarantees: a cluster id is the index of a KMeans centre, so it never changes
meaning; centres move slowly (`halflife` 0.02), so a review about the same issue
next week lands in the same id.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from operator import itemgetter

import numpy as np
from river import cluster as river_cluster

from core.records import EnrichedReview

STOPWORDS = frozenset(
    """a about after again all also am an and any app are as at be because been but by can
    cant could did didnt do does doesnt dont even every for from get got had has have having he
    her here him his how i if im in into is it its ive just me more most my no not now of on
    once one only or other our out over please so some still than that the their them then
    there these they this to too up us very was we were what when where which while who why
    will with would you your yes ok also really much many thing things use using used
    since yesterday today morning ago hours days now already always never again still every each
    time times asap sir pls plz guys
    hai raha rahi rahe nahi nhi kya aur bhi mera mere meri yeh kuch koi gaya gaye gayi hota hoti tha thi
    que los las por para con una uno pero muy más del mis esta este
    के है हैं नहीं में का की से को और पर भी ही तो हो रहा रही कर ये यह वो मैं मेरा मेरे मेरी ने एक""".split()
)
_TOKEN = re.compile(r"[^\W\d_][\w\u0900-\u097F'’]+")  # words in any script, Devanagari vowel signs included
_HANDLES_AND_LINKS = re.compile(r"@\w+|https?://\S+|www\.\S+")
MAX_TERMS_PER_CLUSTER = 400


@dataclass(frozen=True)
class ClusterConfig:
    """Hyperparameters, stored verbatim; randomness comes only from `seed`."""

    n_clusters: int = 6
    dims: int = 96
    seed: int = 42
    halflife: float = 0.02
    keywords: int = 5
    seed_similarity: float = 0.6


@dataclass
class ClusterState:
    """Learned state of one (app, label): River KMeans centres and per-cluster term counts."""

    model: river_cluster.KMeans
    sizes: Counter = field(default_factory=Counter)
    terms: dict[int, Counter] = field(default_factory=dict)
    all_terms: Counter = field(default_factory=Counter)
    seeded: int = 0  # centres placed on real reviews so far (the rest are still random)

    @classmethod
    def new(cls, cfg: ClusterConfig) -> ClusterState:
        # Centres start near the unit sphere, where the projected vectors live.
        sigma = 1.0 / math.sqrt(cfg.dims)
        return cls(model=river_cluster.KMeans(n_clusters=cfg.n_clusters, halflife=cfg.halflife, sigma=sigma, seed=cfg.seed))


@lru_cache(maxsize=8)
def projection(in_dims: int, out_dims: int, seed: int) -> np.ndarray:
    """A fixed Gaussian projection matrix; the same arguments give the same matrix."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((in_dims, out_dims)) / math.sqrt(out_dims)).astype(np.float32)


def project(vector: tuple[float, ...], cfg: ClusterConfig) -> dict[int, float]:
    """The reduced, unit-length vector as the dict River expects."""
    v = np.asarray(vector, dtype=np.float32) @ projection(len(vector), cfg.dims, cfg.seed)
    v /= np.linalg.norm(v) or 1.0
    return dict(enumerate(v.tolist()))


def tokens(text: str) -> list[str]:
    """Lower-case content words for cluster keywords."""
    text = _HANDLES_AND_LINKS.sub(" ", text.lower())
    return [t for t in _TOKEN.findall(text) if t not in STOPWORDS and len(t) > 2]


def keywords(state: ClusterState, cid: int, n: int) -> tuple[str, ...]:
    """Top terms of cluster `cid` by c-TF-IDF: frequent here, rare in sibling clusters."""
    counts = state.terms.get(cid)
    if not counts:
        return ()
    total = sum(counts.values())
    avg_terms = sum(state.all_terms.values()) / max(len(state.terms), 1)

    def weight(item: tuple[str, int]) -> tuple[float, str]:
        term, count = item
        return (-(count / total) * math.log(1 + avg_terms / max(state.all_terms[term], 1)), term)

    return tuple(term for _, term in sorted(map(weight, counts.most_common(40)))[:n])


def cluster_step(
    state: ClusterState | None, item: EnrichedReview, cfg: ClusterConfig
) -> tuple[ClusterState, EnrichedReview]:
    """Learn from `item`; set its theme: `theme_id` (the KMeans centre index, stable as the centres move)
    and `theme_name` (the theme's top c-TF-IDF keywords)."""
    if state is None:
        state = ClusterState.new(cfg)
    review = item.review
    x = project(item.embedding, cfg)
    cid = _seed(state, x, cfg) if state.seeded < cfg.n_clusters else None
    if cid is None:
        cid = learn_predict(state.model, x)
    state.sizes[cid] += 1
    counts = state.terms.setdefault(cid, Counter())
    words = [w for w in tokens(item.text_en) if w != review.app_id]
    counts.update(words)
    state.all_terms.update(words)
    if len(counts) > 2 * MAX_TERMS_PER_CLUSTER:
        state.terms[cid] = Counter(dict(counts.most_common(MAX_TERMS_PER_CLUSTER)))
    if len(state.all_terms) > 4 * MAX_TERMS_PER_CLUSTER:
        state.all_terms = Counter(dict(state.all_terms.most_common(2 * MAX_TERMS_PER_CLUSTER)))
    group = "" if item.lang_group == "en" else f":{item.lang_group}"
    top_terms = keywords(state, cid, cfg.keywords)
    enriched = dataclasses.replace(
        item,
        theme_id=f"{review.app_id}:{item.primary_label}{group}:c{cid}",
        theme_name=" / ".join(top_terms[:3]) or item.primary_label,
    )
    return state, enriched


@lru_cache(maxsize=8)
def _getter(dims: int) -> itemgetter:
    return itemgetter(*range(dims))


def learn_predict(model: river_cluster.KMeans, x: dict[int, float]) -> int:
    """`model.learn_predict_one(x)`, bit for bit, without River's per-coordinate Python loop.

    River sums `abs(c[k] - x[k]) ** 2` over the keys left to right (a float sum on CPython 3.11, the same
    as `np.cumsum`), takes the first nearest centre and moves it by `c + halflife * (x - c)`: the same
    float64 operations here, on arrays. Any other case (a centre River has not filled yet, whose random
    coordinates it draws on first use, another `p`, sparse keys, CPython >= 3.12 whose `sum` compensates)
    goes to River itself.
    """
    dims, k = len(x), len(model.centers)
    centers = model.centers
    # Dense keys 0..dims-1 (what `project` gives); a centre only ever receives such keys, so a full one has them all.
    if (model.p != 2 or sys.version_info >= (3, 12) or dims < 2 or min(x) != 0 or max(x) != dims - 1
            or any(len(c) != dims for c in centers.values()) or min(centers) != 0 or max(centers) != k - 1):
        return model.learn_predict_one(x)
    get = _getter(dims)
    matrix = np.fromiter(chain.from_iterable(map(get, centers.values())), dtype=np.float64, count=k * dims)
    matrix = matrix.reshape(k, dims)
    xv = np.fromiter(get(x), dtype=np.float64, count=dims)
    distances = np.cumsum(np.square(np.abs(matrix - xv)), axis=1)[:, -1]
    closest = int(np.argmin(distances))
    moved = matrix[closest] + model.halflife * (xv - matrix[closest])
    centers[closest].update(zip(range(dims), moved.tolist()))
    return closest


def _seed(state: ClusterState, x: dict[int, float], cfg: ClusterConfig) -> int | None:
    """Place the next random centre on `x` unless a seeded centre already covers it.

    Random starting centres far from the data never win an item, so k-means collapses into a
    few clusters; seeding from the first distinct reviews uses every centre.
    """
    for i in range(state.seeded):
        center = state.model.centers[i]
        if sum(center[k] * v for k, v in x.items()) >= cfg.seed_similarity:
            return None
    cid = state.seeded
    center = state.model.centers[cid]
    center.clear()
    center.update(x)
    state.seeded += 1
    return cid
