"""The dashboard's data access: one store client per configuration (`st.cache_resource`) and every
query cached for `TTL` seconds (`st.cache_data`). Pages call these, never the store directly.

Each cached query takes the configuration key first, so two configurations in one process (tests)
never share results. The shaping itself lives in `dashboard_app.queries`.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import pandas as pd
import streamlit as st

from connectors.backends import open_reader
from connectors.store import ReviewReader, StoreCounts, StoreUnavailable
from dashboard_app import queries as q
from core.appmeta import AppMetadata, load_apps
from core.settings import Settings

log = logging.getLogger(__name__)

TTL = 60  # seconds a query result is reused; the Refresh button clears them at once
SEARCH_POOL = 300  # hits fetched before the page's filters are applied
SAMPLED_CLUSTERS = 24  # clusters (most reviews in the window first) whose reviews are sampled for priority


def config_key() -> str:
    """The environment that decides which store and apps the dashboard reads."""
    names = sorted(k for k in os.environ if k.startswith(("SIFT_", "ELASTIC_")))
    return "|".join(f"{k}={_secret_safe(k, os.environ[k])}" for k in names)


def _secret_safe(name: str, value: str) -> str:
    """Secrets take part in the key only as a digest."""
    if any(part in name for part in ("PASSWORD", "API_KEY", "TOKEN")):
        return hashlib.sha256(value.encode()).hexdigest()[:16]
    return value


@st.cache_resource(show_spinner=False)
def _settings(key: str) -> Settings:
    return Settings.from_env()


def settings() -> Settings:
    return _settings(config_key())


@st.cache_resource(show_spinner="Connecting to the store…")
def _store(key: str) -> ReviewReader:
    reader = open_reader(_settings(key))  # the read side only: the dashboard never creates an index
    reader.check_readable()  # raises until the flow has created the store (not cached, so checked again)
    return reader


def store(key: str | None = None) -> ReviewReader:
    try:
        return _store(key or config_key())
    except StoreUnavailable as e:
        st.error(f"The store cannot be read yet: {e}. Start the flow (./run_flow.sh) and refresh.")
        st.stop()


@st.cache_resource(show_spinner=False)
def _apps(key: str) -> dict[str, AppMetadata]:
    try:
        return load_apps(_settings(key).apps_path)
    except Exception as e:  # the dashboard still shows the store without metadata
        log.warning("app metadata not loaded: %s", e)
        return {}


def apps(key: str | None = None) -> dict[str, AppMetadata]:
    return _apps(key or config_key())


@st.cache_resource(show_spinner="Loading the embedding model…")
def _embedder(key: str):
    from flows.operators.embed import Embedder

    s = _settings(key)
    return Embedder(model_path=s.model_path or None, threads=s.torch_threads)


def embed(text: str, key: str | None = None) -> list[float]:
    """The query's vector from the same model the flow used for the stored reviews."""
    return _embedder(key or config_key()).encode([text])[0].tolist()


def where() -> str:
    s = settings()
    return f"SQLite {s.sqlite_path}" if s.store == "sqlite" else f"Elasticsearch {s.es.target}"


def clear() -> None:
    """Forget every cached query result (the store client and the model stay)."""
    st.cache_data.clear()


# ── cached queries ───────────────────────────────────────────────────────────────────────────────

@st.cache_data(ttl=TTL, show_spinner=False)
def counts(key: str, app_id: str | None) -> StoreCounts:
    return store(key).counts(app_id=app_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def series(key: str, field: str, interval: str, app_id: str | None) -> pd.DataFrame:
    """Zero-filled `bucket, value, count` of enriched reviews by `field`."""
    return q.series_frame(store(key).counts_over_time(field=field, interval=interval, app_id=app_id), interval)


@st.cache_data(ttl=TTL, show_spinner=False)
def spiky_series(key: str, field: str, interval: str, app_id: str | None) -> pd.DataFrame:
    """`series` with the `spike` flag of `queries.SpikeRule.for_interval`."""
    return q.flag_spikes(series(key, field, interval, app_id), q.SpikeRule.for_interval(interval))


@st.cache_data(ttl=TTL, show_spinner=False)
def issues(key: str, app_id: str | None, interval: str, size: int | None, labels: tuple[str, ...],
           rank_by: str) -> pd.DataFrame:
    """The ranked issues table (see `queries.issues_frame`) for the chosen labels."""
    chosen = [c for c in clusters(key, app_id) if not labels or c["primary_label"] in labels]
    cids = spiky_series(key, "cluster_id", interval, app_id)
    window = q.window_of(cids, size, interval)
    cmp = q.compare_windows(cids, window).set_index("value")
    busiest = sorted(chosen, key=lambda c: (-int(cmp["current"].get(c["cluster_id"], 0)), c["cluster_id"]))
    profiles = cluster_profiles(key, app_id, tuple(sorted(c["cluster_id"] for c in busiest[:SAMPLED_CLUSTERS])))
    tickets = q.tickets_by_cluster(documents(key, "tickets", app_id))
    return q.issues_frame(chosen, cids, window, profiles, tickets, rank_by)


@st.cache_data(ttl=TTL, show_spinner=False)
def clusters(key: str, app_id: str | None, limit: int = 1000) -> list[dict[str, Any]]:
    return store(key).top_clusters(app_id=app_id, limit=limit)


def cluster_profiles(key: str, app_id: str | None, wanted: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Sampled profile (priority, versions) and top sampled reviews of each wanted cluster id."""
    return {cid: prof for cid in wanted if (prof := cluster_profile(key, app_id, cid)) is not None}


@st.cache_data(ttl=TTL, show_spinner=False)
def cluster_profile(key: str, app_id: str | None, cluster_id: str) -> dict[str, Any] | None:
    cluster = next((c for c in clusters(key, app_id) if c["cluster_id"] == cluster_id), None)
    if cluster is None:
        return None
    sample = q.cluster_sample(store(key), cluster, app_id=app_id, k=q.SAMPLE_HITS)
    top = sorted(sample, key=lambda d: -(d.get("priority") or 0))[:3]
    return {**q.profile(sample), "reviews": [_slim(d) for d in top]}


def _slim(doc: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "text", "text_en", "lang", "rating", "app_version", "created_at", "priority", "review_type", "source")
    return {k: doc.get(k) for k in keep}


@st.cache_data(ttl=TTL, show_spinner=False)
def review(key: str, review_id: str) -> dict[str, Any] | None:
    doc = store(key).get(review_id)
    return _slim(doc) if doc else None


@st.cache_data(ttl=TTL, show_spinner=False)
def documents(key: str, kind: str, app_id: str | None) -> list[dict[str, Any]]:
    return q.all_documents(store(key), kind, app_id=app_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def keyword_search(key: str, text: str, app_id: str | None, k: int = SEARCH_POOL) -> list[dict[str, Any]]:
    return store(key).search_text(text, k=k, app_id=app_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def semantic_search(key: str, text: str, app_id: str | None, k: int = SEARCH_POOL) -> list[dict[str, Any]]:
    return store(key).knn(embed(text, key), k=k, app_id=app_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def rejected(key: str, app_id: str | None, limit: int = 500) -> list[dict[str, Any]]:
    return store(key).list_rejected(app_id=app_id, limit=limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def timing(key: str, app_id: str | None, k: int = 500) -> pd.DataFrame:
    return q.timing_frame(q.review_sample(store(key), app_id=app_id, k=k), rejected(key, app_id, k))


@st.cache_data(ttl=TTL, show_spinner=False)
def input_records(key: str) -> int | None:
    """Records in the input file when the source is a file (what "ingested" means there)."""
    from connectors.files import count_records

    s = _settings(key)
    if s.source != "file" or not s.input_path.is_file():
        return None
    try:
        return count_records(s.input_path)
    except OSError:
        return None
