"""The dashboard's data shaping (`dashboard_app.queries`): pure functions on plain data, no Streamlit."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

from dashboard_app import queries as q
from core.appmeta import Competitor


def rows(values: dict[str, list[int]], start: str = "2026-10-01") -> list[tuple[str, str, int]]:
    days = pd.date_range(start, periods=max(len(v) for v in values.values()), freq="D")
    return [(f"{d:%Y-%m-%d}", name, n) for name, counts in values.items() for d, n in zip(days, counts) if n]


# ── text ─────────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("value", "token"), [
    ("tkt-3f2a9c0d1b7e4a55", "tkt-3f2a9c0d1b7e4a55"), ("test-tkt-1", "test-tkt-1"),
    ("www.evil.example", None), ("a@evil.example", None), ("http://evil.example", None),
    (":material/home:", None), ("**bold**", None), ("tkt_1", None), ("", None), (None, None), ("x" * 65, None),
])
def test_plain_token_lets_through_only_what_markdown_cannot_use(value, token):
    assert q.plain_token(value) == token


def test_known_keeps_only_vocabulary_values():
    assert q.known("blocker", q.SEVERITY_ORDER) == "blocker"
    assert q.known(":red[blocker]", q.SEVERITY_ORDER) is None and q.known(None, q.SEVERITY_ORDER) is None


def test_shorten_puts_text_on_one_line_and_cuts_it():
    assert q.shorten("line one\n\n  line two") == "line one line two"
    cut = q.shorten("word " * 300, limit=50)
    assert len(cut) == 50 and cut.endswith("…") and "\n" not in cut
    assert q.shorten(None) == ""


# ── series and windows ───────────────────────────────────────────────────────────────────────────

def test_series_frame_fills_missing_buckets_with_zero_for_every_value():
    df = q.series_frame([("2026-10-01", "a", 2), ("2026-10-03", "a", 1), ("2026-10-02", "b", 4)], "day")
    assert len(df) == 6
    assert df[df["value"] == "a"]["count"].tolist() == [2, 0, 1]
    assert df[df["value"] == "b"]["count"].tolist() == [0, 4, 0]
    hourly = q.series_frame([("2026-10-01T10:00", "x", 1), ("2026-10-01T13:00", "x", 1)], "hour")
    assert hourly["count"].tolist() == [1, 0, 0, 1]
    assert q.series_frame([], "day").empty


def test_windows_end_at_the_newest_bucket_and_compare_with_the_one_before():
    df = q.series_frame(rows({"a": [1] * 10 + [5] * 4, "b": [2] * 14}), "day")
    w = q.window_of(df, 4)
    assert (w.start, w.end, w.prev_start) == (pd.Timestamp("2026-10-11"), pd.Timestamp("2026-10-15"),
                                              pd.Timestamp("2026-10-07"))
    cmp = q.compare_windows(df, w).set_index("value")
    assert cmp.loc["a", ["current", "previous", "change", "trend"]].tolist() == [20, 4, 16, "×5.0"]
    assert cmp.loc["b", "trend"] == "×1.0"
    everything = q.window_of(df, None)
    assert everything.prev_start is None
    assert q.compare_windows(df, everything).set_index("value").loc["a", "current"] == 30
    assert q.window_of(q.series_frame([]), 7) is None


def test_trend_says_new_when_nothing_came_before():
    assert q.format_trend(3, 0) == "new" and q.format_trend(0, 0) == "–" and q.format_trend(1, 4) == "×0.2"
    assert q.ratio(4, 0) is None and q.ratio(4, 2) == 2.0


def test_spikes_need_history_volume_and_a_clear_jump():
    flat = [3, 4, 3, 5, 4, 3, 4, 4]
    assert not any(q.spikes(flat))
    assert q.spikes(flat + [30, 4]) == [False] * 8 + [True, False]
    assert not any(q.spikes([0, 0, 0, 4]))  # under min_count
    assert not any(q.spikes([30, 0]))  # not enough history to judge
    noisy = [1, 9, 2, 10, 1, 8, 2, 11]
    assert not q.spikes(noisy + [14])[-1]  # within the series' own spread
    assert q.spikes([0, 0, 0, 0, 5])[-1]  # from nothing to min_count is a spike


def test_hourly_spikes_look_back_a_day_so_every_evening_is_not_a_spike():
    day = [1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 6, 6, 5, 5, 6, 7, 8, 9, 9, 8, 6, 4, 2]
    hourly = q.SpikeRule.for_interval("hour")
    assert not any(q.spikes(day * 3, hourly)[24:])
    assert q.spikes(day * 2 + [30], hourly)[-1]


def test_flag_spikes_marks_the_bucket_of_the_value_that_jumped():
    df = q.flag_spikes(q.series_frame(rows({"payments": [3, 4, 3, 4, 3, 4, 30], "ui": [3, 4, 3, 4, 3, 4, 4]})))
    flagged = df[df["spike"]]
    assert flagged[["value", "count"]].values.tolist() == [["payments", 30]]
    assert q.flag_spikes(q.series_frame([])).empty


def test_sparklines_give_each_value_its_counts_oldest_first():
    df = q.series_frame(rows({"a": [1, 2, 3], "b": [0, 5, 0]}))
    assert q.sparklines(df) == {"a": [1, 2, 3], "b": [0, 5, 0]}
    assert q.sparklines(df, pd.Timestamp("2026-10-02")) == {"a": [2, 3], "b": [5, 0]}
    assert q.sparkline_values(df, "a", pd.Timestamp("2026-10-03")) == [3]


# ── issues ───────────────────────────────────────────────────────────────────────────────────────

CLUSTERS = [
    {"cluster_id": "app:payments:c1", "primary_label": "payments", "count": 40, "avg_rating": 1.4,
     "keywords": ["debited", "failed"], "name": "debited / failed", "representative": "r1", "last_seen": "x"},
    {"cluster_id": "app:ui:c0", "primary_label": "ui", "count": 60, "avg_rating": 3.9,
     "keywords": ["dark", "mode"], "name": "dark / mode", "representative": "r2", "last_seen": "y"},
    {"cluster_id": "app:otp:c2", "primary_label": "otp", "count": 5, "avg_rating": 1.0,
     "keywords": [], "name": "otp / late", "representative": None, "last_seen": "z"},
]


def test_issues_are_ranked_by_priority_weighted_by_volume_and_carry_the_ticket():
    series = q.series_frame(rows({"app:payments:c1": [1, 1, 2, 12], "app:ui:c0": [5, 5, 5, 5], "app:otp:c2": [0, 0, 0, 1]}))
    window = q.window_of(series, 1)
    profiles = {"app:payments:c1": {"priority": 0.9, "sampled": 12, "version_counts": {"4.12.0": 9, "4.11.0": 3}},
                "app:ui:c0": {"priority": 0.3, "sampled": 20, "version_counts": {}}}
    tickets = {"app:otp:c2": {"id": "t1", "severity": "high", "priority": 0.95, "app_versions": ["4.12.0"]}}
    df = q.issues_frame(CLUSTERS, series, window, profiles, tickets)
    # 0.9·log2(13) > 0.95·log2(2) (one review, its ticket's priority) > 0.3·log2(6)
    assert df["cluster_id"].tolist() == ["app:payments:c1", "app:otp:c2", "app:ui:c0"]
    top = df.iloc[0]
    assert (top["current"], top["previous"], top["trend"], top["versions"]) == (12, 2, "×6.0", "4.12.0 (75%) · 4.11.0 (25%)")
    assert top["score"] == pytest.approx(0.9 * 3.7004, abs=1e-3) and top["sparkline"] == [2, 12]
    otp = df.iloc[1]
    assert (otp["ticket_id"], otp["priority"], otp["versions"]) == ("t1", 0.95, "4.12.0 (100%)")
    by_volume = q.issues_frame(CLUSTERS, series, window, profiles, tickets, "reviews in window")
    assert by_volume["cluster_id"].iloc[0] == "app:payments:c1" and by_volume["rank"].tolist() == [1, 2, 3]
    assert q.issues_frame([], series, window, {}, {}).empty


def test_a_cluster_sample_keeps_only_its_own_reviews_and_adds_the_representative():
    class Store:
        def search_text(self, query, k, app_id):
            assert query == "debited failed" and app_id == "app"
            return [{"id": "a", "cluster_id": "app:payments:c1", "priority": 0.8, "app_version": "4.12.0"},
                    {"id": "b", "cluster_id": "app:refunds:c0", "priority": 0.1}]

        def get(self, record_id):
            return {"id": record_id, "cluster_id": "app:payments:c1", "priority": 0.6, "app_version": "4.11.0",
                    "review_type": "bug_report"}

    sample = q.cluster_sample(Store(), CLUSTERS[0], app_id="app")
    assert [d["id"] for d in sample] == ["r1", "a"]
    prof = q.profile(sample)
    assert prof["priority"] == 0.7 and prof["versions"] == ["4.11.0", "4.12.0"] and prof["sampled"] == 2
    assert q.cluster_query(CLUSTERS[2]) == "otp   late"


def test_tickets_by_cluster_keeps_the_newest():
    docs = [{"id": "t1", "cluster_id": "c", "updated_at": "2026-10-01"}, {"id": "t2", "cluster_id": "c", "updated_at": "2026-10-02"},
            {"id": "t3", "cluster_id": None, "updated_at": "2026-10-03"}]
    assert {k: v["id"] for k, v in q.tickets_by_cluster(docs).items()} == {"c": "t2"}


# ── search ───────────────────────────────────────────────────────────────────────────────────────

def test_search_filters_keep_the_store_order():
    hits = [{"id": str(i), "primary_label": "payments" if i % 2 else "ui", "review_type": "bug_report", "lang": "en",
             "rating": i % 5 + 1, "created_at": f"2026-10-{i + 1:02d}T12:00:00+05:30"} for i in range(10)]
    f = q.SearchFilters(labels=("payments",), ratings=(2, 4))
    assert [h["id"] for h in q.filter_hits(hits, f)] == ["1", "3"]
    dated = q.SearchFilters(since=datetime(2026, 10, 3, tzinfo=timezone.utc), until=datetime(2026, 10, 5, tzinfo=timezone.utc))
    assert [h["id"] for h in q.filter_hits(hits, dated)] == ["2", "3"]
    assert len(q.filter_hits(hits, q.SearchFilters(), limit=3)) == 3
    frame = q.hits_frame([{**hits[0], "text": "<b>x</b>", "text_en": "<b>x</b>", "score": 0.5}])
    assert frame["text"].iloc[0] == "<b>x</b>" and frame["text_en"].iloc[0] == ""  # same text shown once


# ── tickets and competitors ──────────────────────────────────────────────────────────────────────

def test_tickets_are_listed_most_severe_first():
    docs = [{"id": "a", "severity": "low", "count": 50}, {"id": "b", "severity": "blocker", "count": 5, "trend_ratio": 3},
            {"id": "c", "severity": "high", "priority": 0.7, "app_versions": ["4.12.0", "4.12.1"]},
            {"id": "d", "severity": "high", "priority": 0.9, "priority_reason": "high: 9 reviews this hour"}]
    df = q.tickets_frame(docs)
    assert df["id"].tolist() == ["b", "d", "c", "a"]
    assert df["why"].tolist() == ["", "high: 9 reviews this hour", "", ""]
    assert df.set_index("id").loc["b", "trend"] == "×3.0" and df.set_index("id").loc["c", "versions"] == "4.12.0, 4.12.1"
    assert q.severity_counts(docs) == {"blocker": 1, "high": 2, "low": 1}
    assert q.tickets_frame([]).empty


def test_watched_orgs_come_from_the_flows_watch_state_then_removals_then_the_metadata_then_the_requests():
    comps = [Competitor("Google Pay", ("#GooglePay",), ("gpay",)), Competitor("Paytm", ("#Paytm",))]
    state = [{"id": "ws-paynest", "app_id": "paynest", "orgs": [{"name": "PhonePe", "hashtags": ["#PhonePe"]}],
              "issued_at": "2026-10-01T09:00:00+05:30", "updated_at": "2026-10-02"}]
    watchlist = [{"id": "w1", "org": "PhonePe", "hashtags": ["#PhonePe"], "status": "removed", "updated_at": "2026-09-01"},
                 {"id": "w2", "org": "Google Pay", "hashtags": ["#GooglePay"], "aliases": ["gpay"], "status": "removed",
                  "updated_at": "2026-10-02"}]
    requests = q.requests_frame([{"id": "1", "org": "Google Pay", "feature": "Split bills!", "created_at": "2026-10-01T10:00:00Z"},
                                 {"id": "2", "org": "PhonePe", "feature": "split  bills", "created_at": "2026-10-02T10:00:00Z"},
                                 {"id": "3", "org": "Cred", "feature": "rent payments", "created_at": "2026-10-02T11:00:00Z"}])
    mentions = q.mentions_frame([{"org": "PhonePe", "direction": "competitor_ahead", "side": "gap"},
                                 {"org": "PhonePe", "direction": "own_ahead", "side": "win"},
                                 {"org": "PhonePe", "direction": "switching_to", "side": "win"}])
    orgs = q.watched_orgs(state, watchlist, comps, requests, q.competitor_balance(mentions))
    assert orgs["org"].tolist()[0] == "PhonePe"  # watched first: the watch state wins over an older removal
    by_org = orgs.set_index("org")
    assert by_org.loc["PhonePe", ["status", "requests", "since", "gaps", "wins"]].tolist() == [
        "watching", 1, "2026-10-01", 1, 2]
    assert by_org.loc["Google Pay", ["status", "aliases"]].tolist() == ["removed", "gpay"]
    assert by_org.loc["Paytm", "status"] == "not watched (app metadata)"
    assert by_org.loc["Cred", "status"] == "feature requests only"
    over_time = q.requests_over_time(requests)
    assert over_time["count"].sum() == 3 and set(over_time["value"]) == {"Google Pay", "PhonePe", "Cred"}


def test_gaps_against_wins_per_competitor_and_week():
    docs = [{"org": "Google Pay", "direction": d, "side": s, "created_at": at} for d, s, at in [
        ("competitor_ahead", "gap", "2026-10-05T10:00:00Z"), ("switching_away", "gap", "2026-10-06T10:00:00Z"),
        ("own_ahead", "win", "2026-10-14T10:00:00Z"), ("neutral", "neutral", "2026-10-14T11:00:00Z")]]
    docs.append({"org": "PhonePe", "direction": "switching_to", "side": "win", "created_at": "2026-10-20T10:00:00Z"})
    mentions = q.mentions_frame(docs)
    balance = q.competitor_balance(mentions).set_index("org")
    assert balance.loc["Google Pay", ["gaps", "wins", "neutral", "competitor_ahead", "switching_away"]].tolist() == [
        2, 1, 1, 1, 1]
    assert balance.loc["PhonePe", ["gaps", "wins", "switching_to"]].tolist() == [0, 1, 1]
    weekly = q.balance_over_time(mentions)
    gpay = weekly[weekly["org"] == "Google Pay"].pivot(index="week", columns="side", values="count")
    assert gpay["gaps"].tolist() == [2, 0, 0] and gpay["wins"].tolist() == [0, 1, 0]  # Mondays 5, 12, 19 Oct


def test_top_features_group_by_the_flows_feature_group_with_the_label_they_map_to():
    docs = [{"id": str(i), "org": "Google Pay", "feature": f, "feature_group": g, "feature_group_name": "hide payments",
             "label": lab, "text_en": f"wants {f}"}
            for i, (f, g, lab) in enumerate([("hide payment history", "g1", "payments"), ("hide transactions", "g1", "payments"),
                                             ("hide payments", "g1", "new_ui_design")])]
    docs += [{"id": "9", "org": "Google Pay", "feature": "dark mode", "feature_group": "g2", "label": "new_ui_design"},
             {"id": "10", "org": "Google Pay", "feature": None, "feature_group": None, "label": "payments"}]
    top = q.top_features(q.requests_frame(docs))
    assert top.iloc[0][["label", "org", "feature", "requests"]].tolist() == ["payments", "Google Pay", "hide payments", 3]
    assert top.iloc[0]["example"] == "wants hide payment history" and len(top) == 2  # the featureless request: no row
    legacy = q.requests_frame([{"id": "1", "org": "X", "feature": "UPI Lite"}, {"id": "2", "org": "X", "feature": "upi lite"}])
    assert legacy["group"].nunique() == 1 and q.top_features(legacy)["requests"].tolist() == [2]  # the flow's key


# ── pipeline health ──────────────────────────────────────────────────────────────────────────────

def test_timing_lag_and_throughput_from_records():
    reviews = [{"received_at": f"2026-11-01T10:00:{s:02d}+00:00", "processed_at": f"2026-11-01T10:00:{s + 2:02d}+00:00",
                "created_at": "2026-11-01T09:00:00+00:00"} for s in range(0, 40, 2)]
    rejected = [{"received_at": "2026-11-01T10:00:10+00:00", "at": "2026-11-01T10:00:11+00:00"}]
    timing = q.timing_frame(reviews, rejected)
    assert len(timing) == 21 and set(timing["kind"]) == {"enriched", "rejected"}
    lag = q.lag_summary(timing)
    assert lag["p50_s"] == 2.0 and lag["p95_s"] == 2.0 and lag["newest"] == pd.Timestamp("2026-11-01T10:00:40")
    assert q.run_rate(timing, 210) == pytest.approx(210 / 38)
    assert q.bucket_size(timing) == "1s"
    per = q.throughput(timing, 210, "10s")
    assert per["per_minute"].sum() * 10 / 60 == pytest.approx(210)
    assert q.lag_summary(q.timing_frame([], []))["p50_s"] is None and q.run_rate(q.timing_frame([], []), 5) is None


def test_durations_read_naturally():
    assert [q.format_duration(s) for s in (0.25, 12.34, 300, 10800, 259200, None)] == [
        "250 ms", "12.3 s", "5.0 min", "3.0 h", "3.0 d", "–"]


def test_all_documents_follows_the_cursor_to_the_end():
    class Store:
        docs = [{"id": str(i)} for i in range(7)]

        def list_documents(self, kind, cursor=None, limit=50, app_id=None):
            start = int(cursor or 0)
            batch = self.docs[start:start + limit]
            return batch, str(start + len(batch)) if batch else cursor

    assert [d["id"] for d in q.all_documents(Store(), "tickets", page=3)] == [str(i) for i in range(7)]
    assert len(q.all_documents(Store(), "tickets", page=3, limit=4)) == 4
