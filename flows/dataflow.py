"""The Sift dataflow, top to bottom: reviews in -> parse -> denoise -> translate -> embed + label -> dedup -> themes
-> issues -> store; reviews with an issue -> event-time windows per issue -> ticket registry -> tickets; and watch-list commands in ->
watch list per app, joined with the clustered reviews -> feature requests (and weekly windows -> competitor tickets).

Every input ends as exactly one outcome at the store sink: an `EnrichedReview`
or a `Rejected` carrying its reason. `build_flow` takes the sources and sinks so
tests can run the production steps with `TestingSource` / `TestingSink`.

`build_flow` is written in composite steps (Bytewax `@operator`s: `validate`, `clean`, `enrich`, `dedup`,
`issues`, `tickets`, `watch_list`); a step that can reject returns `Checked(oks, errs)`, whose errs go to
the store as `Rejected` records. Their inner step ids nest (`sift.dedup.dedup`), so a recovery snapshot
taken before the steps were grouped does not resume: start such a run over (`./run_flow.sh --fresh`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Generic, TypeVar

import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.dataflow import Dataflow, Stream, operator
from bytewax.inputs import Source
from bytewax.outputs import Sink

from core.appmeta import AppCatalog, AppMetadata, own_names
from flows.operators.cluster import ClusterConfig, cluster_step
from flows.operators.dedup import DedupConfig, dedup_enriched_step
from flows.operators.denoise import denoise
from flows.operators.embed import Embedder
from flows.operators.enrich import Enricher
from flows.operators.event_clock import WatermarkClock
from flows.operators.issues import IssueConfig, issue_step
from flows.operators.feature_requests import (
    FEATURE_LABEL, FeatureLabeller, WatchConfig, commands_from, feature_group_step, group_key, grouped_outputs, watch_step,
)
from flows.operators.review_type import TypeClassifier
from flows.operators.informative import load_model
from flows.operators.parse import parse_message
from flows.operators.tickets import (
    ALIGN_TO, DAY, HOUR, MONTH, WEEK, LateReview, TicketConfig, Thresholds, WindowClosed, WindowStats, fold_review, merge_stats,
    registry_step, review_time,
)
from flows.operators.volume import volume_step
from flows.operators.translate import TranslateBatch
from core.records import (
    Document, EnrichedReview, Measures, NoTranslator, Outcome, RawMessage, Rejected, Review, Translator, WatchCommand,
)
from core.rules import DenoiseRules
from core.settings import Settings

X = TypeVar("X")


def _is_review(item: Review | Rejected) -> bool:
    return isinstance(item, Review)


def _is_kept(item: object) -> bool:
    return not isinstance(item, Rejected)


def _app_label(item: EnrichedReview) -> str:
    """Cluster key: English (original or translated) shares `app:label`; untranslated text gets `app:label:lang`."""
    key = f"{item.review.app_id}:{item.primary_label}"
    return key if item.lang_group == "en" else f"{key}:{item.lang_group}"


def _cluster(item: EnrichedReview) -> str:
    return item.cluster_id or ""


def _has_issue(item: EnrichedReview) -> bool:
    return item.cluster_id is not None


def _ticket_documents(docs: list[dict]) -> list[Document]:
    return [Document("tickets", doc) for doc in docs]


def _flatten(items: list) -> list:
    return items


def _is_command(item: WatchCommand | Document) -> bool:
    return isinstance(item, WatchCommand)


def _is_document(item: object) -> bool:
    return isinstance(item, Document)


def _command_app(cmd: WatchCommand) -> str:
    return cmd.app_id


def _review_app(item: EnrichedReview) -> str:
    return item.review.app_id


def _current(apps: dict[str, AppMetadata] | AppCatalog):
    return apps.current if isinstance(apps, AppCatalog) else (lambda: apps)


def ticket_config(settings: Settings, apps: dict[str, AppMetadata] | AppCatalog,
                  scales: tuple[tuple[str, timedelta], ...]) -> TicketConfig:
    """Scales and DevRev fields from settings; thresholds per app (its `"tickets"` metadata, else settings),
    read from the catalog each time so edited metadata applies to the next window. Competitor-feature groups
    need `min_feature_requests` requests, counted alone."""
    current = _current(apps)
    t = settings.tickets

    def thresholds(app_id: str, label: str) -> Thresholds:
        meta = current().get(app_id)
        own = meta.tickets if meta else {}
        if label == FEATURE_LABEL:
            return Thresholds(int(own.get("min_feature_requests", t.min_feature_requests)), by_count=True)
        alpha = ((HOUR, float(own.get("alpha_hour", t.alpha_hour))), (DAY, float(own.get("alpha_day", t.alpha_day))),
                 (WEEK, float(own.get("alpha_week", t.alpha_week))), (MONTH, float(own.get("alpha_month", t.alpha_month))))
        return Thresholds(int(own.get("min_reviews", t.min_reviews)), alpha=alpha,
                          prior_share=float(own.get("prior_share", t.prior_share)),
                          prior_share_week=float(own.get("prior_share_week", t.prior_share_week)),
                          resolve_days=float(own.get("resolve_days", t.resolve_days)))

    def app_name(app_id: str) -> str:
        meta = current().get(app_id)
        return meta.name if meta else app_id

    return TicketConfig(scales=scales, thresholds=thresholds, app_names=app_name,
                        devrev_part=t.devrev_part, devrev_owner=t.devrev_owner)


def app_names(apps: dict[str, AppMetadata] | AppCatalog) -> Callable[[str], tuple[str, ...]]:
    """The app's own names from its (reloaded) metadata, with the spellings users write it in: an issue is never
    named by them, and they are taken out of what the issue step compares. Worked out once per app and
    metadata version (`own_names` reads every app's competitors), not once per review."""
    current = _current(apps)
    known: dict[str, tuple[str, ...]] = {}
    seen: list[object] = [None]

    def names(app_id: str) -> tuple[str, ...]:
        catalog = current()
        if catalog is not seen[0]:
            seen[0] = catalog
            known.clear()
        if app_id not in known:
            known[app_id] = own_names(catalog, app_id)
        return known[app_id]

    return names


def issue_scales(settings: Settings) -> tuple[tuple[str, timedelta], ...]:
    """Hourly windows for incidents (`SIFT_TICKET_WINDOW_MINUTES`), daily ones, weekly ones for recurring issues and
    28-day ones for the recurring issues of an app too quiet for any week to hold enough of one issue's reviews."""
    return ((HOUR, timedelta(minutes=settings.tickets.window_minutes)), (DAY, timedelta(days=1)), (WEEK, timedelta(days=7)),
            (MONTH, timedelta(days=28)))


def watch_config(apps: dict[str, AppMetadata] | AppCatalog) -> WatchConfig:
    current = _current(apps)

    def competitors(app_id: str):
        meta = current().get(app_id)
        return meta.competitors if meta else ()

    def app_name(app_id: str) -> str:
        meta = current().get(app_id)
        return meta.name if meta else app_id

    return WatchConfig(competitors=competitors, app_names=app_name, app_aliases=app_names(apps))


def _events(scale: str):
    def closed(window: tuple[int, WindowStats]) -> WindowClosed:
        return WindowClosed(window[0], window[1], scale)

    def late(item: tuple[int, EnrichedReview]) -> LateReview:
        return LateReview(item[0], item[1], scale)

    return closed, late


@operator
def tickets(step_id: str, items: Stream[EnrichedReview], settings: Settings, apps,
            scales: tuple[tuple[str, timedelta], ...]) -> Stream[Document]:
    """Tumbling event-time windows per `cluster_id` (the issue) at each scale -> one ticket registry per issue
    -> ticket documents. Reviews with no issue (praise, bare ratings) are counted in the store, never in a ticket."""
    by_cluster = op.key_on("by_cluster", op.filter("with_issue", items, _has_issue), _cluster)
    clock = WatermarkClock(review_time, wait_for_system_duration=timedelta(seconds=settings.tickets.late_seconds))
    streams = []
    for scale, length in scales:
        windower = win.TumblingWindower(length=length, align_to=ALIGN_TO)
        windows = win.fold_window(f"{scale}_windows", by_cluster, clock, windower, WindowStats, fold_review, merge_stats)
        # down: (cluster_id, (window_id, WindowStats)) when the window closes; late: (cluster_id, (window_id, review))
        closed, late = _events(scale)
        streams += [op.map_value(f"{scale}_closed", windows.down, closed),
                    op.map_value(f"{scale}_late", windows.late, late)]
    events = op.merge("window_events", *streams)
    registry = op.stateful_map("registry", events, partial(registry_step, cfg=ticket_config(settings, apps, scales)))
    return op.flat_map("versions", op.key_rm("unkey", registry), _ticket_documents)


def issue_config(settings: Settings) -> IssueConfig:
    metric = "" if settings.issue_metric.name == "none" else str(settings.issue_metric)
    return IssueConfig(join=settings.issue_join, join_floor=settings.issue_join_floor, merge=settings.issue_merge, metric=metric,
                       raw_join=settings.issue_raw_join,
                       max_issues=settings.issue_max_per_label,
                       fade_days=settings.issue_fade_days, seed=settings.seed)


def denoise_rules(settings: Settings, apps: Mapping[str, AppMetadata]) -> dict[str, DenoiseRules]:
    """Global rules from settings, with each app's vocabulary and `"denoise"` overrides."""
    base = DenoiseRules(
        min_words=settings.min_words,
        max_non_english_ratio=settings.max_non_english_ratio,
        max_spelling_error_ratio=settings.max_spelling_error_ratio,
        max_gibberish_ratio=settings.max_gibberish_ratio,
    )
    return {app_id: base.with_overrides(app.denoise, app.vocabulary) for app_id, app in apps.items()}


class ParseStep:
    """`parse_message` against the apps the catalog holds at that moment: an app added to the metadata while
    the flow runs is accepted from its next review on."""

    def __init__(self, apps: dict[str, AppMetadata] | AppCatalog, max_receives: int):
        self._current = _current(apps)
        self._max_receives = max_receives

    def __call__(self, raw: RawMessage) -> Review | Rejected:
        return parse_message(raw, self._current(), self._max_receives)


class DenoiseStep:
    """`denoise` with each app's rules as the catalog holds them: rebuilt when it reloads, so edited `"denoise"`
    settings and vocabulary apply from the next review on (and a new app gets its own rules)."""

    def __init__(self, settings: Settings, apps: dict[str, AppMetadata] | AppCatalog):
        self._settings = settings
        self._current = _current(apps)
        self._rules: tuple[Mapping[str, AppMetadata], dict[str, DenoiseRules]] | None = None  # (apps, their rules)

    def __call__(self, review: Review) -> tuple[Review, Measures] | Rejected:
        apps = self._current()
        cached = self._rules
        if cached is None or cached[0] is not apps:  # a reload replaces the catalog's dict
            cached = self._rules = (apps, denoise_rules(self._settings, apps))
        return denoise(review, cached[1][review.app_id])  # parse let through only apps the catalog holds


@dataclass(frozen=True)
class Checked(Generic[X]):
    """What a step that can reject returns: the items it passed, and the `Rejected` records it made."""

    oks: Stream[X]
    errs: Stream[Rejected]


@operator
def validate(step_id: str, raw: Stream[RawMessage], apps, max_receives: int) -> Checked[Review]:
    """Parse and validate each message; errs: blank_line, malformed_json, missing_field, invalid_field, unknown_app,
    too_large, poison_message."""
    valid = op.branch("is_valid", op.map("parse", raw, ParseStep(apps, max_receives)), _is_review)
    return Checked(valid.trues, valid.falses)


@operator
def clean(step_id: str, reviews: Stream[Review], settings: Settings, apps) -> Checked[tuple[Review, Measures]]:
    """Measure each review and keep it with its measures; errs: too_short, non_english, referral_spam, contest_spam,
    gibberish, misspelled."""
    kept = op.branch("is_kept", op.map("denoise", reviews, DenoiseStep(settings, apps)), _is_kept)
    return Checked(kept.trues, kept.falses)


@operator
def enrich(step_id: str, kept: Stream[tuple[Review, Measures]], settings: Settings, translator: Translator,
           enricher: Enricher) -> Stream[EnrichedReview]:
    """Translate (one backend call per language per batch, cached), then embed once per batch and score: primary
    label, informativeness, review type, sentiment, competitors, priority.

    Both run on the worker that received the review, before anything is exchanged between workers: with SQS every
    worker encodes what it receives (after dedup, which is keyed by app, a busy app's reviews would all be encoded
    on one worker)."""
    translated = op.flat_map_batch("translate", kept, TranslateBatch(translator, settings.translate_cache))
    # (Review, Measures, Translation)
    return op.flat_map_batch("embed_label", translated, enricher)


@operator
def dedup(step_id: str, enriched: Stream[EnrichedReview], settings: Settings, apps) -> Checked[EnrichedReview]:
    """Per app: repeated spam and same-author duplicates are rejected, repeats counted; then the app's event-time
    volume (app_rate, app_latest_version), counting what the issue step lets form an issue with each app's own
    names from `apps`. errs: repeated_spam, duplicate, templated_spam."""
    cfg = DedupConfig(max_repeats=settings.dedup_max_repeats, capacity=settings.dedup_capacity)
    by_app = op.key_on("by_app", enriched, _review_app)
    deduped = op.stateful_map("dedup", by_app, partial(dedup_enriched_step, cfg=cfg))
    counted = op.stateful_map("app_volume", deduped, partial(volume_step, names=app_names(apps)))
    # (app_id, EnrichedReview with app_rate and app_latest_version | Rejected)
    unique = op.branch("is_unique", op.key_rm("unkey_app", counted), _is_kept)
    return Checked(unique.trues, unique.falses)


@operator
def issues(step_id: str, reviews: Stream[EnrichedReview], settings: Settings, apps) -> Stream[EnrichedReview]:
    """Per (app, label[, language]): the coarse theme (River KMeans), then the review's issue (online discovery:
    cluster_id, cluster_name, keywords, examples, priority; praise and uninformative reviews get none)."""
    clusters = ClusterConfig(n_clusters=settings.clusters_per_label, dims=settings.cluster_dims, seed=settings.seed)
    keyed = op.key_on("by_app_label", reviews, _app_label)
    themed = op.stateful_map("cluster", keyed, partial(cluster_step, cfg=clusters))
    clustered = op.stateful_map("issues", themed, partial(issue_step, cfg=issue_config(settings), names=app_names(apps)))
    return op.key_rm("unkey", clustered)


@dataclass(frozen=True)
class WatchOut:
    """What the watch list makes: the bare acks of invalid queue commands, documents to store (an org's watch-list
    change, the app's whole watch_state, every competitor mention with its direction, the feature requests), and
    the reviews in their competitor-feature group."""

    acks: Stream[Document]
    documents: Stream[Document]
    features: Stream[EnrichedReview]


@operator
def watch_list(step_id: str, messages: Stream[RawMessage], reviews: Stream[EnrichedReview], apps,
               enricher: Enricher) -> WatchOut:
    """Watch-list commands per app joined with the clustered reviews -> competitor mentions with a direction; the
    requests that name a concrete feature are mapped to the app's own label and grouped (feature requests)."""
    commands = op.flat_map("parse_commands", messages, commands_from)
    valid_commands = op.branch("is_command", commands, _is_command)
    # trues: WatchCommand; falses: Document carrying only the ack of an invalid queue message
    watch_events = op.merge("watch_events", op.key_on("command_app", valid_commands.trues, _command_app),
                            op.key_on("review_app", reviews, _review_app))
    watch_cfg = watch_config(apps)
    joined = op.stateful_map("watchlist", watch_events, partial(watch_step, cfg=watch_cfg))
    watch_out = op.branch("is_document", op.flat_map("watch_out", op.key_rm("unkey_watch", joined), _flatten),
                          _is_document)
    # trues: Document (an org's watchlist change, the app's whole watch_state, a competitor mention with its
    # direction, a feature request with no concrete feature); falses: FeatureMention (a request with one)
    labelled = op.flat_map_batch("feature_label", watch_out.falses,
                                 FeatureLabeller(enricher.embedder.encode, enricher.index_for))
    # FeatureMention with the phrase's vector and the app's own label it maps to
    grouped = op.stateful_map("feature_groups", op.key_on("by_feature_key", labelled, group_key), feature_group_step)
    # (app:competitor:org:label, FeatureMention in its feature group)
    feature_out = op.branch("is_feature_doc", op.flat_map("feature_out", op.key_rm("unkey_features", grouped),
                                                          partial(grouped_outputs, cfg=watch_cfg)), _is_document)
    # trues: Document (feature_requests); falses: EnrichedReview in its competitor-feature group
    return WatchOut(valid_commands.falses, op.merge("watch_documents", watch_out.trues, feature_out.trues),
                    feature_out.falses)


def build_flow(
    settings: Settings,
    apps: dict[str, AppMetadata],
    source: Source[RawMessage],
    sink: Sink[Outcome],
    embedder: Embedder | None = None,
    translator: Translator | None = None,
    documents_sink: Sink[Document] | None = None,
    watch_source: Source[RawMessage] | None = None,
) -> Dataflow:
    """Wire the production steps between `source` and `sink`; `translator` defaults to the `none` backend.
    Tickets, feature requests and watch-list changes go to `documents_sink`; without one those steps are
    left out. Watch-list commands come from `watch_source` (none: nothing is watched)."""
    embedder = embedder or Embedder(settings.model_path or None, settings.torch_threads, settings.encode_batch, settings.embed_backend)
    # Every step reads app metadata from the catalog, which follows the files while the flow runs.
    catalog = AppCatalog(settings.apps_path, settings.apps_reload_seconds, apps) if settings.apps_reload_seconds else apps

    flow = Dataflow("sift")
    raw = op.input("reviews_in", flow, source)  # RawMessage
    valid = validate("validate", raw, catalog, settings.sqs.max_receives)  # oks: Review
    kept = clean("clean", valid.oks, settings, catalog)  # oks: (Review, Measures)
    informativeness = load_model(settings.informative_model, embedder.encode, settings.informative_threshold)
    types = TypeClassifier(embedder.encode, settings.types_model)
    enricher = Enricher(embedder, catalog, settings.label_threshold, informativeness, types)
    enriched = enrich("enrich", kept.oks, settings, translator or NoTranslator(), enricher)  # EnrichedReview
    unique = dedup("dedup", enriched, settings, catalog)  # oks: EnrichedReview with repeat_count, app_rate
    clustered = issues("issues", unique.oks, settings, catalog)  # EnrichedReview with its theme and issue
    op.output("store", op.merge("outcomes", clustered, valid.errs, kept.errs, unique.errs), sink)
    # The store keeps each id for the first message written under it: an outcome of a different message reusing
    # the id is stored as its own id_conflict record (connectors/store.py), never over the first.

    if documents_sink is None:
        return flow
    documents = [tickets("tickets", clustered, settings, catalog, issue_scales(settings))]
    if watch_source is not None:
        watched = watch_list("watch_list", op.input("watchlist_in", flow, watch_source), clustered, catalog, enricher)
        feature_windows = ((WEEK, timedelta(hours=settings.tickets.feature_window_hours)),)
        documents += [watched.acks, watched.documents, tickets("features", watched.features, settings, catalog, feature_windows)]
    op.output("documents_out", op.merge("documents", *documents), documents_sink)
    return flow
