"""Tickets: the registry's decisions (pure) and a replay through the real flow with event-time windows."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bytewax.testing import TestingSink, TestingSource, run_main

from flows.dataflow import build_flow
from flows.operators.issue_priority import level_of
from flows.operators.tickets import (
    ALIGN_TO, DAY, MONTH, SEVERITIES, WEEK, LateReview, TicketConfig, Thresholds, WindowClosed, WindowStats, fold_review, registry_step,
    significance, ticket_id,
)
from core.records import EnrichedReview, Measures, Review
from core.settings import Settings
from tests.helpers import raw

HOUR = timedelta(hours=1)
T0 = datetime(2026, 10, 5, 0, 0, tzinfo=timezone.utc)
WID0 = int((T0 - ALIGN_TO) / HOUR)
SCALES = (("hour", HOUR), (DAY, timedelta(days=1)), (WEEK, timedelta(days=7)), (MONTH, timedelta(days=28)))
CFG = TicketConfig(scales=SCALES, thresholds=lambda app_id, label: Thresholds(min_reviews=5),
                   app_names=lambda app_id: "PayNest", devrev_part="PROD-1", devrev_owner="DEVU-7")


def review(i: int, at: datetime, text: str = "payment failed but money debited", cluster: str = "paynest:payments:i1",
           cluster_priority: float = 0.8, lang: str = "en", version: str = "4.12.0", app_rate: float = 0.0,
           latest: str = "", app_rate_now: float = 0.0) -> EnrichedReview:
    r = Review(id=f"r{i}", app_id="paynest", text=text, source="google_play", created_at=at, received_at=at,
               origin="t", rating=1, app_version=version)
    return EnrichedReview(review=r, measures=Measures(5, 0.0), lang=lang, text_en=text, translated=False,
                          primary_label="payments", label_score=0.8, embedding=(0.0,), cluster_id=cluster,
                          cluster_name="money debited but not credited", cluster_keywords=("money", "debited", "credited"),
                          sentiment="negative", priority=0.9, cluster_priority=cluster_priority, cluster_growth=2.0,
                          app_rate=app_rate, app_rate_now=app_rate_now, app_latest_version=latest or version)


def window(wid: int, n: int, scale: str = "hour", **kw) -> WindowClosed:
    length = dict(SCALES)[scale]
    stats = WindowStats()
    start = ALIGN_TO + wid * length
    for i in range(n):
        stats = fold_review(stats, review(wid * 1000 + i, start + (length / max(n, 1)) * i,
                                          text=f"payment {i} failed but money debited", **kw))
    return WindowClosed(wid, stats, scale)


def replay(events, state=None):
    published = []
    for event in events:
        state, docs = registry_step(state, event, CFG)
        published += docs
    return state, published


def test_an_issue_over_five_windows_is_one_ticket_with_five_versions_and_growing_counts():
    state, published = replay([window(WID0 + h, 6 + 2 * h) for h in range(5)])
    assert [t["version"] for t in published] == [1, 2, 3, 4, 5]
    assert {t["id"] for t in published} == {ticket_id("paynest:payments:i1")}
    assert [t["count"] for t in published] == [6, 8, 10, 12, 14]
    assert [t["total_count"] for t in published] == [6, 14, 24, 36, 50]
    assert published[0]["trend"].startswith("new") and published[1]["trend"].startswith("×1.3 vs previous hour")
    assert published[-1]["created_at"] == published[0]["created_at"]
    assert pickle.loads(pickle.dumps(state)).ticket == state.ticket


def test_low_volume_raises_nothing_and_a_steady_issue_stops_raising_once_its_baseline_knows_it():
    _, quiet = replay([window(WID0 + h, 2) for h in range(5)])
    assert quiet == []
    state, steady = replay([window(WID0 + h, 6) for h in range(48)])  # 6 an hour for two days
    assert len(steady) > 1 and steady[0]["status"] == "open"
    assert steady[-1]["status"] == "cooling" and steady[-1]["severity"] == "low"
    assert steady[-1]["priority_reason"].startswith("low, cooling: 6 reviews this hour, ×1.0 vs the previous hour; ")
    assert all(t["trigger_scale"] == "hour" for t in steady)
    raised_at = [t["window_start"] for t in steady]
    assert max(raised_at) < (ALIGN_TO + (WID0 + 30) * HOUR).isoformat()  # the second day is the baseline


def test_a_loud_app_needs_more_than_a_quiet_one_for_the_same_hour():
    # 6 reviews of one issue in an hour: an incident for an app with 10 kept reviews an hour, noise for one with 1,000
    _, quiet_app = replay([window(WID0, 6, app_rate=10.0)])
    _, loud_app = replay([window(WID0, 6, app_rate=1000.0)])
    assert len(quiet_app) == 1 and loud_app == []
    _, loud_spike = replay([window(WID0, 60, app_rate=1000.0)])  # 3x the expected 20
    assert len(loud_spike) == 1 and loud_spike[0]["scales"]["hour"]["expected"] == 20.0


def test_an_app_wide_burst_raises_every_issues_expectation_alike():
    # an issue with 2 of the app's 20 reviews an hour for six hours: its usual share is 10%
    history = [window(WID0 + h, 2, app_rate=20.0, app_rate_now=20.0) for h in range(6)]
    state, _ = replay(history)
    assert state.ticket is None  # two an hour never passed
    # the whole app bursts to 150 an hour (an outage, a campaign): 16 of them is about the issue's usual share
    _, with_app = replay([window(WID0 + 6, 16, app_rate=20.0, app_rate_now=150.0)], pickle.loads(pickle.dumps(state)))
    # the same 16 while the app stays at 20 an hour: the issue itself spikes
    _, alone = replay([window(WID0 + 6, 16, app_rate=20.0, app_rate_now=20.0)], state)
    assert [(t["status"], t["trigger_scale"], t["scales"]["hour"]["count"]) for t in alone] == [("open", "hour", 16)]
    assert alone[0]["scales"]["hour"]["expected"] < 3
    assert with_app == []


def test_significance_is_the_poisson_upper_tail():
    assert significance(0, 1.0) == 1.0
    assert abs(significance(1, 1.0) - (1 - 0.36787944)) < 1e-6
    assert abs(significance(3, 2.0) - (1 - 0.67667642)) < 1e-6  # 1 - P(X <= 2)


def test_a_quiet_apps_recurring_issue_is_raised_weekly_and_a_spike_raises_the_same_tickets_severity():
    # 2 kept reviews an hour (336 a week): 20 reviews of one issue in a week is a notable share; no hour stands out
    state, weekly = replay([window(WID0 // 168, 20, scale=WEEK, app_rate=2.0, cluster_priority=0.3)])
    assert [(t["trigger_scale"], t["severity"], t["status"]) for t in weekly] == [(WEEK, "medium", "open")]
    assert "week: 20 reviews where 1.7 were expected" in weekly[0]["body"]  # 336 x prior_share_week 0.005
    assert weekly[0]["priority_reason"].startswith("medium: 20 reviews this week, none the previous week; priority 0.30")
    next_week_hour = (WID0 // 168 + 1) * 168 + 10
    # the issue's priority has risen to 0.8 (a high level) by the time it spikes
    state, spiked = replay([window(next_week_hour, 9, app_rate=2.0)], state)
    assert [(t["id"], t["severity"], t["version"]) for t in spiked] == [(weekly[0]["id"], "high", 2)]
    assert set(spiked[0]["scales"]) == {WEEK, "hour"}


def test_a_sparse_apps_recurring_issue_too_thin_for_any_week_is_raised_at_the_month_scale():
    # 0.3 kept reviews an hour (about 200 in 28 days): 2 reports a week never make a week, 8 in four weeks do
    state, weekly = replay([window(WID0 // 168 + k, 2, scale=WEEK, app_rate=0.3) for k in range(4)])
    assert weekly == []
    state, monthly = replay([window(WID0 // 672, 8, scale=MONTH, app_rate=0.3)], state)
    assert [(t["trigger_scale"], t["status"]) for t in monthly] == [(MONTH, "open")]
    assert "month: 8 reviews where 1.0 were expected" in monthly[0]["body"]  # 201.6 x prior_share_week 0.005
    assert not replay([window(WID0 // 672, 4, scale=MONTH, app_rate=0.3)])[1]  # fewer than min_reviews


def test_a_recurring_issue_needs_a_few_reports_a_week_and_more_in_a_louder_app():
    def raised(count: int, app_rate: float) -> bool:
        return bool(replay([window(WID0 // 168, count, scale=WEEK, app_rate=app_rate)])[1])

    assert raised(7, 2.0) and not raised(4, 2.0)  # 336 kept reviews a week: 7 reports are one; 4 are too few
    assert not raised(7, 20.0) and raised(30, 20.0)  # 3,360 a week: 7 are not notable, 30 are


def test_an_issue_quiet_for_resolve_days_is_resolved_and_reopens_as_a_regression_with_versions():
    state, first = replay([window(WID0, 8, version="4.12.0")])
    assert first[0]["status"] == "open" and first[0]["versions_all"] == ["4.12.0"]
    back = WID0 + 24 * 5  # five days later, on a newer version
    state, later = replay([window(back, 8, version="4.13.0")], state)
    assert [t["status"] for t in later] == ["resolved", "reopened"]
    assert later[0]["severity"] == "low" and later[0]["regression"]["versions_before"] == ["4.12.0"]
    reopened = later[1]
    assert reopened["regression"]["versions_after"] == ["4.13.0"] and "regression" in reopened["tags"]
    assert reopened["regression"]["resolved_at"].startswith((T0 + timedelta(days=3, hours=1)).date().isoformat())
    assert "Regression: resolved" in reopened["body"]
    assert len({t["id"] for t in first + later}) == 1


def test_a_ticket_says_when_its_issue_is_not_seen_since_a_version():
    state, _ = replay([window(WID0, 8, version="4.12.0")])
    # the app has shipped 4.12.1 since; a cooling window still from 4.12.0 reviews
    _, [cooling] = replay([window(WID0 + 1, 1, version="4.12.0", latest="4.12.1")], state)
    assert cooling["status"] == "cooling" and cooling["not_seen_since"] == "4.12.0"
    assert "not seen since 4.12.0" in cooling["body"]


def test_a_spike_is_raised_in_the_first_window_it_appears_and_severity_follows_it():
    _, published = replay([window(WID0, 2), window(WID0 + 1, 40), window(WID0 + 2, 1)])
    first = published[0]
    assert first["window_start"] == (ALIGN_TO + (WID0 + 1) * HOUR).isoformat()
    assert first["severity"] == "blocker" and first["trend"].startswith("×20.0")
    assert published[-1]["severity"] == "low" and published[-1]["version"] == 2  # cooled down: one update
    assert len(published) == 2


def test_late_reviews_are_counted_on_the_next_version():
    events = [window(WID0, 6), LateReview(WID0, review(1, T0)), LateReview(WID0, review(2, T0)), window(WID0 + 1, 6)]
    _, published = replay(events)
    assert [t["late_count"] for t in published] == [0, 2]
    assert published[-1]["total_count"] == 6 + 6 + 2


def test_a_review_behind_the_watermark_counts_in_its_window_while_that_window_is_open():
    # From a queue, reviews arrive out of order: Bytewax calls one late as soon as it is behind the watermark,
    # before its own window has closed. It belongs in that window, not on some later version.
    early = [LateReview(WID0, review(900 + i, T0 + timedelta(minutes=i))) for i in range(2)]
    _, published = replay([*early, window(WID0, 4), window(WID0 + 1, 6)])
    assert [(t["count"], t["late_count"]) for t in published] == [(6, 0), (6, 0)]
    assert published[0]["window_start"] == (ALIGN_TO + WID0 * HOUR).isoformat()
    assert published[-1]["total_count"] == 12


def test_a_window_whose_reviews_all_came_late_is_decided_before_the_next_one():
    late = [LateReview(WID0, review(900 + i, T0 + timedelta(minutes=i))) for i in range(6)]
    state, published = replay([*late, window(WID0 + 1, 8)])
    assert [(t["window_start"], t["count"], t["version"]) for t in published] == [
        ((ALIGN_TO + WID0 * HOUR).isoformat(), 6, 1), ((ALIGN_TO + (WID0 + 1) * HOUR).isoformat(), 8, 2)]
    assert published[1]["trend"].startswith("×1.3 vs previous hour (6 → 8)")
    assert state.scales["hour"].held == {}
    assert pickle.loads(pickle.dumps(state)) == state


def test_ticket_content_is_readable_and_shaped_for_devrev():
    stats = window(WID0, 7).stats
    stats = fold_review(stats, replace(review(99, T0, text="pagos fallan y me cobraron", lang="es"),
                                       translation="untranslated", priority=2.0))
    _, [ticket] = replay([WindowClosed(WID0, stats)])
    assert ticket["title"] == "[PayNest] Payments: money debited but not credited"
    assert "**8 reviews**" in ticket["body"] and "4.12.0" in ticket["body"]
    assert "_in es, not translated_" in ticket["body"]
    assert 3 <= len(ticket["representatives"]) <= 5
    assert ticket["devrev"] == {"type": "ticket", "title": ticket["title"], "body": ticket["body"],
                                "severity": ticket["severity"], "tags": ticket["tags"],
                                "applies_to_part": "PROD-1", "owned_by": ["DEVU-7"]}


def test_review_text_cannot_inject_markup_into_the_body():
    stats = fold_review(window(WID0, 6).stats, replace(review(7, T0, text="<script>alert(1)</script> payment failed"),
                                                         priority=5.0))
    _, [ticket] = replay([WindowClosed(WID0, stats)])
    assert "<script>" not in ticket["body"] and "&lt;script&gt;" in ticket["body"]


# --- the same through the real flow: TestingSource -> ... -> fold_window -> registry -> TestingSink ---

ISSUE = ["UPI payment of ₹{n} failed but money was debited from my bank account",
         "payment failed again, ₹{n} deducted and the receiver got nothing",
         "money debited ₹{n} but transaction shows failed, please refund"]
SPIKE = ["OTP not received on my phone for {n} minutes, cannot log in",
         "login OTP never arrives, tried {n} times today",
         "no OTP SMS so I am locked out of my account after {n} attempts"]
QUIET = ["please add a dark mode option to the app, version {n}"]


def _payloads() -> list[dict]:
    out, i = [], 0
    for hour in range(5):
        start = T0 + hour * HOUR
        plan = [(ISSUE, 6 + 2 * hour), (QUIET, 1)] + ([(SPIKE, 25)] if hour == 3 else [])
        for templates, n in plan:
            for k in range(n):
                text = templates[k % len(templates)].format(n=100 + i)
                at = start + timedelta(seconds=(k * 3600) // n)
                local = at.astimezone(timezone(timedelta(hours=5, minutes=30)))  # offsets other than UTC must work
                out.append({"id": f"t{i:04d}", "app_id": "paynest", "text": text, "rating": 1,
                            "created_at": local.isoformat(), "app_version": "4.12.0"})
                i += 1
    return sorted(out, key=lambda p: p["created_at"])


def test_replay_through_the_flow(apps, embedder):
    settings = Settings.from_env({"SIFT_CLUSTERS_PER_LABEL": "4", "SIFT_APPS_RELOAD_SECONDS": "0",
                                  "SIFT_TICKET_LATE_SECONDS": "60"})
    payloads = _payloads()
    outcomes: list = []
    documents: list = []
    source = TestingSource([raw(p, n=i) for i, p in enumerate(payloads)], batch_size=32)
    run_main(build_flow(settings, apps, source, TestingSink(outcomes), embedder=embedder,
                        documents_sink=TestingSink(documents)))
    tickets = [d.doc for d in documents if d.kind == "tickets"]
    assert len(tickets) == len(documents)
    assert len(outcomes) == len(payloads)
    by_id: dict[str, list[dict]] = {}
    for t in tickets:
        by_id.setdefault(t["id"], []).append(t)
    enriched = {o.id.removeprefix("paynest/"): o for o in outcomes if isinstance(o, EnrichedReview)}
    issue_cluster = enriched["t0000"].cluster_id
    issue = by_id.pop(ticket_id(issue_cluster))
    hourly = [t for t in issue if t["trigger_scale"] == "hour"]
    assert [t["version"] for t in hourly] == [1, 2, 3, 4, 5]
    counts = [t["count"] for t in hourly]
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert [t["version"] for t in issue] == list(range(1, len(issue) + 1))  # one ticket across the scales
    spike_ids = [p["id"] for p in payloads if "OTP" in p["text"]]
    spike_cluster = enriched[spike_ids[0]].cluster_id
    spike = by_id.pop(ticket_id(spike_cluster))
    assert spike[0]["window_start"] == (T0 + 3 * HOUR).isoformat() and spike[0]["trigger_scale"] == "hour"
    assert spike[0]["primary_label"] == "login_otp"
    quiet_ids = {enriched[p["id"]].cluster_id for p in payloads if "dark mode" in p["text"]}
    assert not any(ticket_id(c) in by_id for c in quiet_ids)
    for t in tickets:  # severity from the issue's priority (a spike one step up), and one line saying why
        assert t["priority_reason"].startswith(f"{t['severity']}: " if t["status"] in ("open", "reopened")
                                               else f"{t['severity']}, {t['status']}: ") and f"priority {t['priority']:.2f} from " in t["priority_reason"]
        if t["status"] in ("open", "reopened"):
            level = SEVERITIES.index(level_of(t["priority"]))
            assert SEVERITIES.index(t["severity"]) in (level, level + 1)
        assert f"- Why: {t['priority_reason']}" in t["body"]
    issue_reviews = [o for o in enriched.values() if o.cluster_id == issue_cluster]
    assert issue[-1]["priority"] in {o.cluster_priority for o in issue_reviews}


def test_a_ticket_names_the_issues_merged_into_its_issue():
    stats = WindowStats()
    for i in range(6):
        item = review(i, T0 + timedelta(minutes=i))
        stats = fold_review(stats, replace(item, issue_merged=("paynest:payments:i7",) if i == 3 else ()))
    _, [ticket] = replay([WindowClosed(WID0, stats)])
    assert ticket["merged_from"] == ["paynest:payments:i7"]



def test_app_metadata_overrides_the_ticket_rule_and_bad_values_are_refused():
    import json as _json

    import pytest

    from core.appmeta import parse_app
    from flows.dataflow import issue_scales, ticket_config
    from core.settings import PROJECT_ROOT

    base = _json.loads((PROJECT_ROOT / "demo" / "apps" / "paynest.json").read_text(encoding="utf-8"))
    app = parse_app({**base, "tickets": {"min_reviews": 3, "alpha_hour": 0.05, "prior_share": 0.1, "resolve_days": 7}})
    settings = Settings.from_env({})
    limits = ticket_config(settings, {app.app_id: app}, issue_scales(settings)).thresholds(app.app_id, "payments")
    assert (limits.min_reviews, limits.alpha_for("hour"), limits.alpha_for("week"), limits.prior_share,
            limits.resolve_days) == (3, 0.05, settings.tickets.alpha_week, 0.1, 7.0)
    for bad in ({"alpha_hour": 2}, {"min_priority": 0.6}, {"prior_share": "x"}):
        with pytest.raises(ValueError, match="tickets"):
            parse_app({**base, "tickets": bad})


def test_a_week_window_that_began_before_the_resolution_does_not_reopen_the_ticket():
    week = WID0 // 168 + 1  # a week window starting after T0
    start_hour = week * 168  # its first hour
    state, first = replay([window(start_hour + 1, 8)])  # an hourly spike early in the week
    state, resolved = replay([window(start_hour + 24 * 5, 1)], state)  # five days later: quiet, so resolved
    assert [t["status"] for t in first + resolved] == ["open", "resolved"]
    # the week window closes at its end and passes on the spike's reviews: old evidence, no regression
    _, after = replay([window(week, 40, scale=WEEK, app_rate=1.0)], state)
    assert after == [] and state.status == "resolved"


def test_a_window_of_happy_reviews_that_ask_for_nothing_never_raises_a_ticket():
    def happy(wid: int, n: int, review_type: str) -> WindowClosed:
        stats = WindowStats()
        start = ALIGN_TO + wid * HOUR
        for i in range(n):
            item = dataclasses.replace(review(wid * 1000 + i, start + (HOUR / n) * i, text=f"great app {i}, but the issue"),
                                       sentiment="positive", review_type=review_type)
            stats = fold_review(stats, item)
        return WindowClosed(wid, stats, "hour")

    # a paid-review campaign: praise with a complaint stitched in, a spike all the same
    _, campaign = replay([happy(WID0, 30, "bug_report")])
    assert campaign == []
    # happy users asking for the same feature are a request worth a ticket
    _, requests = replay([happy(WID0, 30, "feature_request")])
    assert len(requests) == 1 and requests[0]["status"] == "open"
    # complaints in the same numbers pass
    _, complaints = replay([window(WID0, 30)])
    assert len(complaints) == 1
