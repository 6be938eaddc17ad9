"""The Sift dataflow, top to bottom: reviews in -> parse -> denoise -> dedup -> translate -> embed + label -> cluster -> store.

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
from flows.operators.dedup import DedupConfig, dedup_step
from flows.operators.denoise import DenoiseRules, denoise
from flows.operators.embed import Embedder
from flows.operators.enrich import Enricher
from flows.operators.review_type import TypeClassifier
from flows.operators.informative import load_model
from flows.operators.parse import parse_message
from flows.operators.translate import NoTranslator, TranslateBatch, Translator
from flows.records import EnrichedReview, Outcome, RawMessage, Rejected, Review
from flows.settings import Settings


def _is_review(item: Review | Rejected) -> bool:
    return isinstance(item, Review)


def _is_kept(item: object) -> bool:
    return not isinstance(item, Rejected)


def _app(item: tuple[Review, object]) -> str:
    return item[0].app_id


def _app_label(item: EnrichedReview) -> str:
    """Cluster key: English (original or translated) shares `app:label`; untranslated text gets `app:label:lang`."""
    key = f"{item.review.app_id}:{item.primary_label}"
    return key if item.lang_group == "en" else f"{key}:{item.lang_group}"


def denoise_rules(settings: Settings, apps: dict[str, AppMetadata]) -> dict[str, DenoiseRules]:
    """Global rules from settings, with each app's vocabulary and `"denoise"` overrides."""
    base = DenoiseRules(
        min_words=settings.min_words,
        max_non_english_ratio=settings.max_non_english_ratio,
        max_spelling_error_ratio=settings.max_spelling_error_ratio,
        max_gibberish_ratio=settings.max_gibberish_ratio,
    )
    return {app_id: base.with_overrides(app.denoise, app.vocabulary) for app_id, app in apps.items()}


def build_flow(
    settings: Settings,
    apps: dict[str, AppMetadata],
    source: Source[RawMessage],
    sink: Sink[Outcome],
    embedder: Embedder | None = None,
    translator: Translator | None = None,
) -> Dataflow:
    """Wire the production steps between `source` and `sink`; `translator` defaults to the `none` backend."""
    embedder = embedder or Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch)
    rules = denoise_rules(settings, apps)
    dedup = DedupConfig(max_repeats=settings.dedup_max_repeats, capacity=settings.dedup_capacity)
    informativeness = load_model(settings.informative_model, embedder.encode, settings.informative_threshold)
    clusters = ClusterConfig(n_clusters=settings.clusters_per_label, dims=settings.cluster_dims, seed=settings.seed)

    flow = Dataflow("sift")
    raw = op.input("reviews_in", flow, source)
    # RawMessage

    parsed = op.map("parse", raw, partial(parse_message, known_apps=frozenset(apps), max_receives=settings.sqs.max_receives))
    valid = op.branch("is_valid", parsed, _is_review)
    # trues: Review, falses: Rejected (malformed_json, missing_field, invalid_field, unknown_app, too_large,
    # poison_message)

    denoised = op.map("denoise", valid.trues, partial(denoise, rules=DenoiseRules(), app_rules=rules))
    kept = op.branch("is_kept", denoised, _is_kept)
    # trues: (Review, Measures), falses: Rejected (too_short, non_english, referral_spam, contest_spam, gibberish,
    # misspelled)

    by_app = op.key_on("by_app", kept.trues, _app)
    deduped = op.stateful_map("dedup", by_app, partial(dedup_step, cfg=dedup))
    unique = op.branch("is_unique", op.key_rm("unkey_app", deduped), _is_kept)
    # trues: (Review, Measures with repeat_count), falses: Rejected (repeated_spam, duplicate)

    translated = op.flat_map_batch("translate", unique.trues, TranslateBatch(translator or NoTranslator(), settings.translate_cache))
    # (Review, Measures, Translation); one backend call per language per batch, cached

    types = TypeClassifier(embedder.encode, settings.types_model)
    enricher = Enricher(embedder, apps, settings.label_threshold, informativeness, types)
    enriched = op.flat_map_batch("embed_label", translated, enricher)
    # EnrichedReview with embedding, primary_label, informativeness, review_type, sentiment, competitors,
    # priority; one encode call per batch

    keyed = op.key_on("by_app_label", enriched, _app_label)
    clustered = op.stateful_map("cluster", keyed, partial(cluster_step, cfg=clusters))
    # (app_id:label[:lang], EnrichedReview with cluster_id and keywords)

    outcomes = op.merge("outcomes", op.key_rm("unkey", clustered), valid.falses, kept.falses, unique.falses)
    op.output("store", outcomes, sink)
    return flow
