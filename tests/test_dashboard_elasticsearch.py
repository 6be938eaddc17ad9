"""The dashboard on the Elasticsearch store: the real flow fills fresh indices from a small demo
stream, then every page renders in AppTest with the store's own numbers (needs the real server)."""

from __future__ import annotations

import json
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from connectors.elasticsearch_store import ElasticsearchStore
from dashboard_app import queries as q
from demo.generate import generate, watch_command, write
from core.settings import ElasticsearchSettings
from tests.helpers import ROOT, run_flow

pytestmark = pytest.mark.integration

APP = str(ROOT / "dashboard_app" / "app.py")


@pytest.fixture(scope="module")
def es_demo(es_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("dashboard-es")
    prefix = f"dash-{uuid.uuid4().hex[:8]}"
    write(root / "reviews.jsonl", generate(n=200, seed=7, days=7))
    write(root / "watch.jsonl", [json.dumps(watch_command())])
    env = {"SIFT_STORE": "elasticsearch", "SIFT_ES_URL": es_url, "SIFT_ES_INDEX_PREFIX": prefix,
           "SIFT_INPUT": str(root / "reviews.jsonl"), "SIFT_WATCHLIST_FILE": str(root / "watch.jsonl"),
           "SIFT_SOURCE": "file"}
    result = run_flow({**env, "SIFT_PROGRESS_SECONDS": "0", "SIFT_LOG_LEVEL": "warning",
                       "SIFT_TICKET_WINDOW_MINUTES": "1440"}, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=prefix))
    store.refresh()
    yield env, store
    store.client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True)
    store.close()


def render(monkeypatch, env: dict[str, str], page: str) -> AppTest:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_overview_and_health_show_the_elasticsearch_counts(monkeypatch, es_demo):
    env, store = es_demo
    counts = store.counts()
    at = render(monkeypatch, env, "views/health.py")
    assert metric(at, "Stored") == f"{counts.total:,}" == "200"
    assert metric(at, "Rejected") == f"{counts.rejected:,}"
    at = render(monkeypatch, env, "views/overview.py")
    at.sidebar.selectbox(key="window").select("All time").run()
    assert metric(at, "Reviews") == f"{counts.enriched:,}"


def test_issues_and_search_on_elasticsearch(monkeypatch, es_demo):
    env, store = es_demo
    clusters = store.top_clusters(limit=1000)
    at = render(monkeypatch, env, "views/issues.py")
    table = next(df.value for df in at.dataframe if "name" in df.value.columns)
    assert set(table["name"]) == {c["name"] for c in clusters}
    assert table["priority"].notna().sum() >= min(10, len(clusters))
    at = render(monkeypatch, env, "views/search.py")
    at.radio(key="search_mode").set_value("Keyword")
    at.text_input(key="search_text").input("debited").run()
    hits = next(df.value for df in at.dataframe if "text" in df.value.columns)
    assert len(hits) > 0 and all("debit" in f"{t} {e}".lower() for t, e in zip(hits["text"], hits["text_en"], strict=True))


def test_tickets_and_competitors_on_elasticsearch(monkeypatch, es_demo):
    env, store = es_demo
    tickets = q.all_documents(store, "tickets")
    requests = q.all_documents(store, "feature_requests")
    at = render(monkeypatch, env, "views/tickets.py")
    if tickets:
        assert metric(at, "Tickets") == str(len(tickets))
    else:
        assert at.info[0].value.startswith("No tickets yet")
    at = render(monkeypatch, env, "views/competitors.py")
    assert requests, "the watch-list command makes the flow find feature requests"
    assert metric(at, "Feature requests") == str(len(requests))
