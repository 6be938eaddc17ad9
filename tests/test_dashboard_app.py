"""The dashboard's pages in Streamlit's AppTest, on a store filled by the real flow from the demo stream.

Every page must render without an exception and show the store's own numbers, labels and cluster
names; ticket and feature-request pages are checked empty (said plainly) and with documents written
here (the flow does not make them yet).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard_app import queries as q
from tests.browser.dashboard_store import FEATURES, HOSTILE, demo_store, empty_store, store_with_documents
from tests.helpers import ROOT

APP = str(ROOT / "dashboard_app" / "app.py")
PAGES = ["views/overview.py", "views/issues.py", "views/search.py", "views/tickets.py", "views/competitors.py",
         "views/health.py"]


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    return demo_store(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def with_docs(tmp_path_factory):
    return store_with_documents(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def empty(tmp_path_factory):
    return empty_store(tmp_path_factory.getbasetemp())


def open_page(monkeypatch, store, page: str | None = None) -> AppTest:
    """The app on `store`, switched to `page` and rendered; fails on any exception."""
    for name, value in store.env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r} in {[m.label for m in at.metric]}"
    return found[0]


def frame(at: AppTest, with_column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if with_column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {with_column!r}")


def markdown_bodies(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown] + [c.value for c in at.caption]


def texts(at: AppTest) -> list[str]:
    """`st.text` elements: review text, shown without any Markdown parsing."""
    return [t.value for t in at.text]


# ── every page ───────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_demo_store_without_html(monkeypatch, demo, page):
    at = open_page(monkeypatch, demo, page)
    assert at.title and at.title[0].value
    assert not any(m.proto.allow_html for m in at.markdown), "review text must never go through unsafe_allow_html"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_says_plainly_when_the_store_is_empty(monkeypatch, empty, page):
    at = open_page(monkeypatch, empty, page)
    if page.endswith("search.py") or page.endswith("overview.py") or page.endswith("issues.py"):
        assert any("holds no reviews yet" in i.value for i in at.info)
    elif page.endswith("tickets.py"):
        assert any(i.value.startswith("No tickets yet") for i in at.info)
    elif page.endswith("competitors.py"):
        assert any(i.value.startswith("No competitor feature requests yet") for i in at.info)
        assert set(frame(at, "org")["org"]) >= {"Google Pay", "PhonePe", "Paytm"}  # from the app metadata
    else:
        assert metric(at, "Stored").value == "0"
        assert any("is empty" in i.value for i in at.info)


# ── overview ─────────────────────────────────────────────────────────────────────────────────────

def test_overview_numbers_are_the_store_counts_of_the_last_seven_days(monkeypatch, demo):
    store = demo.open()
    rows = store.counts_over_time("primary_label", "day")
    last = max(pd.Timestamp(b) for b, _, _ in rows)
    in_window = [(b, v, n) for b, v, n in rows if pd.Timestamp(b) > last - timedelta(days=7)]
    per_label = {v: sum(n for _, lv, n in in_window if lv == v) for v in store.counts().by_label}
    at = open_page(monkeypatch, demo)
    assert at.title[0].value == "Overview"
    assert metric(at, "Reviews").value == f"{sum(per_label.values()):,}"
    table = frame(at, "label").set_index("label")
    assert set(table.index) == set(store.counts().by_label)  # every label of the store, none made up
    assert table["current"].to_dict() == per_label
    assert len(at.get("vega_lite_chart")) == 3  # labels, types, sentiment


def test_overview_all_time_flags_the_injected_payment_incident_as_a_spike(monkeypatch, demo):
    at = open_page(monkeypatch, demo)
    at.sidebar.selectbox(key="window").select("All time").run()
    assert not at.exception
    spikes = metric(at, "Spikes in window")
    assert int(spikes.value) >= 1
    assert any(t.startswith("Spiking in this window: ") and "payments" in t for t in texts(at))
    assert metric(at, "Reviews").value == f"{demo.open().counts().enriched:,}"


# ── issues ───────────────────────────────────────────────────────────────────────────────────────

def test_issues_ranks_the_stores_clusters_with_names_and_representative_reviews(monkeypatch, demo):
    store = demo.open()
    clusters = {c["cluster_id"]: c for c in store.top_clusters(app_id="paynest", limit=1000)}
    at = open_page(monkeypatch, demo, "views/issues.py")
    table = frame(at, "name")
    assert len(table) == len(clusters)
    assert set(table["name"]) == {c["name"] for c in clusters.values()}
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["score"].is_monotonic_decreasing  # ranked by priority × volume
    assert table["priority"].dropna().between(0, 1).all() and table["priority"].notna().sum() >= 10
    # the first card is the top-ranked cluster, quoting its representative review; all of it plain text
    top = next(c for c in clusters.values() if c["name"] == table["name"].iloc[0])
    rep = store.get(top["representative"])
    assert f"#1 · {top['primary_label']} · {top['name']}" in texts(at)
    assert q.shorten(rep["text_en"] or rep["text"], q.REVIEW_CHARS) in texts(at)
    assert any(t.startswith("App versions: ") for t in texts(at))
    assert not any(top["name"] in m for m in markdown_bodies(at))


def test_issues_filter_by_label_and_link_to_the_ticket(monkeypatch, with_docs):
    store = with_docs.open()
    tickets = q.tickets_by_cluster(q.all_documents(store, "tickets"))
    cluster_id, ticket = sorted(tickets.items())[0]
    label = next(c["primary_label"] for c in store.top_clusters(limit=1000) if c["cluster_id"] == cluster_id)
    at = open_page(monkeypatch, with_docs, "views/issues.py")
    at.multiselect(key="issue_labels").select(label).run()
    table = frame(at, "name")
    assert set(table["label"]) == {label}
    row = table[table["ticket_id"] == ticket["id"]]
    assert len(row) == 1 and row["priority"].iloc[0] == round(ticket["priority"], 3)  # the ticket's priority wins
    if row["rank"].iloc[0] <= 10:
        assert any(ticket["id"] in p.value for p in at.get("page_link")), "the issue card links to its ticket"


# ── search ───────────────────────────────────────────────────────────────────────────────────────

def test_keyword_search_finds_the_word_and_filters_apply(monkeypatch, demo):
    at = open_page(monkeypatch, demo, "views/search.py")
    assert at.info and "Type what users might say" in at.info[0].value
    at.radio(key="search_mode").set_value("Keyword")
    at.text_input(key="search_text").input("debited").run()
    hits = frame(at, "text")
    assert len(hits) > 0
    assert all("debited" in f"{t} {e}".lower() for t, e in zip(hits["text"], hits["text_en"], strict=True))
    at.multiselect(key="search_ratings").select(1).run()
    at.multiselect(key="search_labels").select("payments").run()
    hits = frame(at, "text")
    assert len(hits) > 0 and set(hits["rating"]) == {1} and set(hits["primary_label"]) == {"payments"}


def test_semantic_search_finds_the_meaning_in_other_words(monkeypatch, demo):
    at = open_page(monkeypatch, demo, "views/search.py")
    # the demo's 4.12.0 incident (payments stuck on "Processing" after the PIN, error PN-417), in other words
    query = "since the last update my transfers never finish when I key in my secret code"
    at.text_input(key="search_text").input(query).run()
    assert not at.exception, [e.value for e in at.exception]
    hits = frame(at, "text")
    assert len(hits) > 10
    top = hits.head(10)
    assert (top["primary_label"] == "payments").sum() >= 6
    symptom = re.compile(r"processing|pn-?417", re.I)
    assert not symptom.search(query)
    assert sum(bool(symptom.search(f"{t} {e}")) for t, e in zip(top["text"], top["text_en"], strict=True)) >= 5
    # the top hits are shown as plain text
    assert q.shorten(hits["text_en"].iloc[0] or hits["text"].iloc[0], q.REVIEW_CHARS) in texts(at)


# ── tickets ──────────────────────────────────────────────────────────────────────────────────────

def test_tickets_the_flow_raised_are_listed_with_the_exact_snapin_json(monkeypatch, demo):
    store = demo.open()
    tickets = q.all_documents(store, "tickets")
    assert any(t["primary_label"] == "payments" for t in tickets), "the demo's payment incident raises a ticket"
    at = open_page(monkeypatch, demo, "views/tickets.py")
    assert metric(at, "Tickets").value == str(len(tickets))
    table = frame(at, "severity")
    assert sorted(table["id"]) == sorted(t["id"] for t in tickets)
    assert [q.severity_rank(s) for s in table["severity"]] == sorted(q.severity_rank(s) for s in table["severity"])
    shown = store.get_document("tickets", table["id"].iloc[0])
    assert shown["title"] in texts(at)  # data, shown as text
    assert shown["priority_reason"].startswith(shown["severity"])
    assert f"Why: {shown['priority_reason']}" in texts(at)  # the one line behind severity and priority
    assert table.set_index("id").loc[shown["id"], "why"] == shown["priority_reason"]
    assert json.dumps(shown, indent=2, ensure_ascii=False) in [c.value for c in at.code]
    reps = [r for r in shown.get("representatives") or []]
    assert all(q.shorten(r.get("text_en") or r.get("text"), q.REVIEW_CHARS) in texts(at) for r in reps)


def test_tickets_show_severity_versions_counts_and_escape_review_text(monkeypatch, with_docs):
    store = with_docs.open()
    everything = q.all_documents(store, "tickets")
    at = open_page(monkeypatch, with_docs, "views/tickets.py")
    assert metric(at, "Tickets").value == str(len(everything))
    assert metric(at, "Blocker").value == str(sum(t.get("severity") == "blocker" for t in everything))
    table = frame(at, "severity").set_index("id")
    assert table.loc["test-tkt-1", ["severity", "count", "versions"]].tolist() == ["blocker", 20, "4.12.0, 4.11.0"]
    assert table.loc["test-tkt-2", "versions"] == "4.12.0"
    at.selectbox(key="ticket_pick").select("test-tkt-1").run()
    assert json.dumps(store.get_document("tickets", "test-tkt-1"), indent=2, ensure_ascii=False) in [c.value for c in at.code]
    assert HOSTILE in texts(at)  # the hostile representative, as plain text
    assert not any("alert(" in m for m in markdown_bodies(at)) and not any(m.proto.allow_html for m in at.markdown)
    at.multiselect(key="ticket_severity").select("medium").run()
    assert set(frame(at, "severity")["severity"]) == {"medium"}


def test_tickets_page_opens_the_ticket_named_in_the_link(monkeypatch, with_docs):
    for name, value in with_docs.env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("views/tickets.py")
    at.query_params["ticket"] = "test-tkt-3"
    at.run()
    assert not at.exception
    assert at.selectbox(key="ticket_pick").value == "test-tkt-3"
    assert any(t.startswith("test-tkt-3 · version ") for t in texts(at))


def test_refresh_reads_new_documents_without_reloading(monkeypatch, with_docs, tmp_path):
    copy = tmp_path / "sift.db"
    src = with_docs.open()
    src.conn.execute("VACUUM INTO ?", (str(copy),))
    src.close()
    store = type(with_docs)(db=copy, input=with_docs.input, watchlist=with_docs.watchlist, lines=with_docs.lines)
    before = len(q.all_documents(store.open(), "tickets"))
    at = open_page(monkeypatch, store, "views/tickets.py")
    assert metric(at, "Tickets").value == str(before)
    s = store.open()
    extra = {**s.get_document("tickets", "test-tkt-3"), "id": "test-tkt-4", "updated_at": "2026-10-29T00:00:00+00:00"}
    s.write_documents("tickets", [extra])
    at.run()
    assert metric(at, "Tickets").value == str(before)  # still the cached answer
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert metric(at, "Tickets").value == str(before + 1)


# ── competitors ──────────────────────────────────────────────────────────────────────────────────

def test_competitors_show_the_flows_watch_list_gaps_against_wins_and_feature_requests(monkeypatch, demo):
    store = demo.open()
    requests = q.all_documents(store, "feature_requests")
    mentions = q.all_documents(store, "competitor_mentions")
    [state] = q.all_documents(store, "watch_state")
    assert requests and mentions, "the demo's watch-list command makes the flow find gaps and wins"
    at = open_page(monkeypatch, demo, "views/competitors.py")
    assert metric(at, "Feature requests").value == str(len(requests))
    assert metric(at, "Gaps").value == str(sum(m["side"] == "gap" for m in mentions))
    assert metric(at, "Wins").value == str(sum(m["side"] == "win" for m in mentions))
    orgs = frame(at, "status").set_index("org")
    assert set(orgs.index[orgs["status"] == "watching"]) == {o["name"] for o in state["orgs"]}
    per_org = pd.Series([r["org"] for r in requests]).value_counts()
    assert orgs["requests"].to_dict() == {o: int(per_org.get(o, 0)) for o in orgs.index}
    balance = frame(at, "switching_away").set_index("org")
    gaps = pd.Series([m["org"] for m in mentions if m["side"] == "gap"]).value_counts()
    assert balance["gaps"].to_dict() == {o: int(gaps.get(o, 0)) for o in balance.index}
    top = frame(at, "example")
    groups = pd.Series([(r["org"], r["feature_group"]) for r in requests if r.get("feature_group")]).value_counts()
    assert top["requests"].iloc[0] == groups.iloc[0] and (top["label"] != "").all()
    assert len(at.get("vega_lite_chart")) == 3  # gaps against wins, requests over time, top features


def test_competitors_mark_removed_orgs_and_show_hostile_text_as_plain_text(monkeypatch, with_docs):
    at = open_page(monkeypatch, with_docs, "views/competitors.py")
    orgs = frame(at, "status").set_index("org")
    assert orgs.loc["Freecharge", "status"] == "removed"
    assert orgs.loc["Google Pay", "requests"] >= sum(org == "Google Pay" for org, _ in FEATURES)
    latest = frame(at, "text_en")
    assert HOSTILE in latest["text"].tolist()  # a table cell, never Markdown
    assert not any(HOSTILE in m for m in markdown_bodies(at))


# ── pipeline health ──────────────────────────────────────────────────────────────────────────────

def test_health_shows_ingested_stored_rejected_and_untranslated_from_the_store(monkeypatch, demo):
    counts = demo.open().counts()
    at = open_page(monkeypatch, demo, "views/health.py")
    assert metric(at, "Ingested").value == f"{demo.lines:,}"
    assert metric(at, "Stored").value == f"{counts.total:,}" and counts.total == demo.lines
    assert metric(at, "Enriched").value == f"{counts.enriched:,}"
    assert metric(at, "Rejected").value == f"{counts.rejected:,}"
    assert metric(at, "Kept untranslated").value == f"{sum(counts.untranslated_by_lang.values()):,}"
    assert metric(at, "Records / s").value != "–" and metric(at, "Lag p50").value != "–"
    recent = frame(at, "reason")
    assert set(recent["reason"]) <= set(counts.by_reason) and len(recent) == min(100, counts.rejected)
    assert len(at.get("vega_lite_chart")) == 3  # reasons, languages, throughput


def test_before_the_flow_has_written_the_dashboard_says_so_and_creates_nothing(monkeypatch, tmp_path):
    db = tmp_path / "not-yet" / "sift.db"
    monkeypatch.setenv("SIFT_STORE", "sqlite")
    monkeypatch.setenv("SIFT_SQLITE_PATH", str(db))
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("cannot be read yet" in e.value and "./run_flow.sh" in e.value for e in at.error)
    assert not db.parent.exists()  # the dashboard reads only: no file, no table, no index
