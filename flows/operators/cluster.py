"""Online clustering per (app, primary label) with River's incremental KMeans.

Vectors are first reduced with a fixed, seeded Gaussian random projection
(384 -> `dims`, then re-normalised), which keeps cosine geometry closely while
making River's per-item cost several times smaller. The per-key state
(`ClusterState`) is small and picklable, so Bytewax can snapshot it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from river import cluster as river_cluster

from flows.records import EnrichedReview

STOPWORDS = frozenset(
    """a about after again all also am an and any app are as at be because been but by can
    cant could did didnt do does doesnt dont even every for from get got had has have having he
    her here him his how i if im in into is it its ive just me more most my no not now of on
    once one only or other our out over please so some still than that the their them then
    there these they this to too up us very was we were what when where which while who why
    will with would you your yes ok also really much many thing things use using used""".split()
)
_TOKEN = re.compile(r"[a-z][a-z0-9'’]+")
MAX_TERMS_PER_CLUSTER = 400


@dataclass(frozen=True)
class ClusterConfig:
    """Hyperparameters, stored verbatim; randomness comes only from `seed`."""

    n_clusters: int = 6
    dims: int = 48
    seed: int = 42
    halflife: float = 0.3
    keywords: int = 5
    seed_similarity: float = 0.6


@dataclass
class ClusterState:
    """Learned state of one (app, label): River KMeans centres and per-cluster term counts."""

    model: river_cluster.KMeans
    sizes: Counter = field(default_factory=Counter)
    terms: dict[int, Counter] = field(default_factory=dict)
    all_terms: Counter = field(default_factory=Counter)
    # cluster -> (review id, projected vector) of the review nearest the cluster's centre so far
    representatives: dict[int, tuple[str, tuple[float, ...]]] = field(default_factory=dict)
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
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS and len(t) > 2]


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
    """Learn from `item`; assign its cluster id (the KMeans centre index, stable as the centres move),
    the cluster's current keywords, a readable name and its representative review id."""
    if state is None:
        state = ClusterState.new(cfg)
    x = project(item.embedding, cfg)
    cid = _seed(state, x, cfg) if state.seeded < cfg.n_clusters else None
    if cid is None:
        cid = state.model.learn_predict_one(x)
    state.sizes[cid] += 1
    _update_representative(state, cid, item.id, x)
    counts = state.terms.setdefault(cid, Counter())
    words = tokens(item.text_en)
    counts.update(words)
    state.all_terms.update(words)
    if len(counts) > 2 * MAX_TERMS_PER_CLUSTER:
        state.terms[cid] = Counter(dict(counts.most_common(MAX_TERMS_PER_CLUSTER)))
    if len(state.all_terms) > 4 * MAX_TERMS_PER_CLUSTER:
        state.all_terms = Counter(dict(state.all_terms.most_common(2 * MAX_TERMS_PER_CLUSTER)))
    review = item.review
    group = "" if item.lang_group == "en" else f":{item.lang_group}"
    top_terms = keywords(state, cid, cfg.keywords)
    enriched = dataclasses.replace(
        item,
        cluster_id=f"{review.app_id}:{item.primary_label}{group}:c{cid}",
        cluster_keywords=top_terms,
        cluster_name=" / ".join(top_terms[:3]) or item.primary_label,
        cluster_representative=state.representatives[cid][0],
    )
    return state, enriched


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


def _update_representative(state: ClusterState, cid: int, review_id: str, x: dict[int, float]) -> None:
    """Keep the review closest to the (moving) centre as the cluster's representative."""
    center = state.model.centers[cid]

    def distance(v) -> float:
        return sum((center[i] - v[i]) ** 2 for i in range(len(v)))

    vector = tuple(x[i] for i in range(len(x)))
    current = state.representatives.get(cid)
    if current is None or distance(vector) <= distance(current[1]):
        state.representatives[cid] = (review_id, tuple(round(v, 4) for v in vector))
