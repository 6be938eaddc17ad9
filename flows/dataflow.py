"""The Sift dataflow, top to bottom: reviews in -> parse -> denoise -> embed + label -> cluster -> store.

Every input ends as exactly one outcome at the store sink: an `EnrichedReview`
or a `Rejected` carrying its reason. `build_flow` takes the source and sink so
tests can run the production steps with `TestingSource` / `TestingSink`.
"""

from __future__ import annotations

from functools import partial

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from flows.appmeta import AppMetadata
from flows.operators.cluster import ClusterConfig, cluster_step
from flows.operators.denoise import DenoiseRules, denoise
from flows.operators.embed import Embedder
from flows.operators.enrich import Enricher
from flows.operators.parse import parse_message
from flows.records import EnrichedReview, Outcome, RawMessage, Rejected, Review
from flows.settings import Settings


def _is_review(item: Review | Rejected) -> bool:
    return isinstance(item, Review)


def _is_kept(item: object) -> bool:
    return not isinstance(item, Rejected)


def _app_label(item: EnrichedReview) -> str:
    return f"{item.review.app_id}:{item.primary_label}"


def build_flow(
    settings: Settings,
    apps: dict[str, AppMetadata],
    source: Source[RawMessage],
    sink: Sink[Outcome],
    embedder: Embedder | None = None,
) -> Dataflow:
    """Wire the production steps between `source` and `sink`."""
    embedder = embedder or Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch)
    rules = DenoiseRules(min_words=settings.min_words, max_non_english_ratio=settings.max_non_english_ratio)
    clusters = ClusterConfig(n_clusters=settings.clusters_per_label, dims=settings.cluster_dims, seed=settings.seed)

    flow = Dataflow("sift")
    raw = op.input("reviews_in", flow, source)
    # RawMessage

    parsed = op.map("parse", raw, partial(parse_message, known_apps=frozenset(apps), max_receives=settings.sqs.max_receives))
    valid = op.branch("is_valid", parsed, _is_review)
    # trues: Review, falses: Rejected (malformed_json, missing_field, invalid_field, unknown_app, too_large,
    # poison_message)

    denoised = op.map("denoise", valid.trues, partial(denoise, rules=rules))
    kept = op.branch("is_kept", denoised, _is_kept)
    # trues: (Review, Measures), falses: Rejected (too_short, non_english)

    enriched = op.flat_map_batch("embed_label", kept.trues, Enricher(embedder, apps, settings.label_threshold))
    # EnrichedReview with embedding and primary_label; one encode call per batch

    keyed = op.key_on("by_app_label", enriched, _app_label)
    clustered = op.stateful_map("cluster", keyed, partial(cluster_step, cfg=clusters))
    # (app_id:label, EnrichedReview with cluster_id and keywords)

    outcomes = op.merge("outcomes", op.key_rm("unkey", clustered), valid.falses, kept.falses)
    op.output("store", outcomes, sink)
    return flow
