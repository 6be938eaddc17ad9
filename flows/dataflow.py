"""The Sift dataflow, top to bottom: reviews in -> parse -> denoise -> dedup -> translate -> embed + label -> cluster -> store,
and clustered reviews -> event-time windows per cluster -> ticket registry -> tickets out.

Every input ends as exactly one outcome at the store sink: an `EnrichedReview`
or a `Rejected` carrying its reason. `build_flow` takes the sources and sinks so
tests can run the production steps with `TestingSource` / `TestingSink`.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from flows.appmeta import AppCatalog, AppMetadata
from flows.operators.cluster import ClusterConfig, cluster_step
from flows.operators.dedup import DedupConfig, dedup_step
from flows.operators.denoise import DenoiseRules, denoise
from flows.operators.embed import Embedder
from flows.operators.enrich import Enricher
from flows.operators.review_type import TypeClassifier
from flows.operators.informative import load_model
from flows.operators.parse import parse_message
from flows.operators.tickets import (
    ALIGN_TO, LateReview, TicketConfig, Thresholds, WindowClosed, WindowStats, fold_review, merge_stats, registry_step,
    review_time,
)
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


def _cluster(item: EnrichedReview) -> str:
    return item.cluster_id or ""


def _window_closed(window: tuple[int, WindowStats]) -> WindowClosed:
    return WindowClosed(*window)


def _late_review(late: tuple[int, EnrichedReview]) -> LateReview:
    return LateReview(*late)


def _versions(docs: list[dict]) -> list[dict]:
    return docs


def ticket_config(settings: Settings, apps: dict[str, AppMetadata] | AppCatalog) -> TicketConfig:
    """Window length and DevRev fields from settings; thresholds per app (its `"tickets"` metadata, else settings),
    read from the catalog each time so edited metadata applies to the next window."""
    current = apps.current if isinstance(apps, AppCatalog) else (lambda: apps)
    t = settings.tickets

    def thresholds(app_id: str) -> Thresholds:
        meta = current().get(app_id)
        own = meta.tickets if meta else {}
        return Thresholds(int(own.get("min_reviews", t.min_reviews)), float(own.get("min_priority", t.min_priority)))

    def app_name(app_id: str) -> str:
        meta = current().get(app_id)
        return meta.name if meta else app_id

    return TicketConfig(window=timedelta(minutes=t.window_minutes), thresholds=thresholds, app_names=app_name,
                        devrev_part=t.devrev_part, devrev_owner=t.devrev_owner)


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
    tickets_sink: Sink[dict] | None = None,
) -> Dataflow:
    """Wire the production steps between `source` and `sink`; `translator` defaults to the `none` backend.
    Ticket versions go to `tickets_sink`; without one the ticket steps are left out."""
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
    catalog = AppCatalog(settings.apps_path, settings.apps_reload_seconds, apps) if settings.apps_reload_seconds else apps
    enricher = Enricher(embedder, catalog, settings.label_threshold, informativeness, types)
    enriched = op.flat_map_batch("embed_label", translated, enricher)
    # EnrichedReview with embedding, primary_label, informativeness, review_type, sentiment, competitors,
    # priority; one encode call per batch

    keyed = op.key_on("by_app_label", enriched, _app_label)
    clustered = op.stateful_map("cluster", keyed, partial(cluster_step, cfg=clusters))
    # (app_id:label[:lang], EnrichedReview with cluster_id and keywords)

    clustered_reviews = op.key_rm("unkey", clustered)
    outcomes = op.merge("outcomes", clustered_reviews, valid.falses, kept.falses, unique.falses)
    op.output("store", outcomes, sink)

    if tickets_sink is not None:
        by_cluster = op.key_on("by_cluster", clustered_reviews, _cluster)
        clock = win.EventClock(review_time, wait_for_system_duration=timedelta(seconds=settings.tickets.late_seconds))
        windower = win.TumblingWindower(length=timedelta(minutes=settings.tickets.window_minutes), align_to=ALIGN_TO)
        windows = win.fold_window("ticket_windows", by_cluster, clock, windower, WindowStats, fold_review, merge_stats)
        # down: (cluster_id, (window_id, WindowStats)) when the window closes; late: (cluster_id, (window_id, review))
        events = op.merge("window_events", op.map_value("closed", windows.down, _window_closed),
                          op.map_value("late", windows.late, _late_review))
        registry = op.stateful_map("ticket_registry", events, partial(registry_step, cfg=ticket_config(settings, catalog)))
        tickets = op.flat_map("ticket_versions", op.key_rm("unkey_tickets", registry), _versions)
        # ticket documents, one per new version
        op.output("tickets_out", tickets, tickets_sink)
    return flow
