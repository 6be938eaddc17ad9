"""Competitor feature requests through the real flow: watch-list commands as a second input, joined with reviews.

The flow is run in phases over one Bytewax recovery store, as a restarted production flow would be: each
phase's sources hold everything so far and resume where the previous phase stopped, so the watch list
that a later phase sees is the one restored from the recovery snapshot.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import TestingSink, TestingSource, run_main

from flows.dataflow import build_flow
from flows.operators.feature_requests import commands_from
from core.records import RawMessage
from core.settings import Settings
from tests.helpers import raw

SETTINGS = Settings.from_env({"SIFT_CLUSTERS_PER_LABEL": "4", "SIFT_APPS_RELOAD_SECONDS": "0",
                              "SIFT_TICKET_MIN_FEATURE_REQUESTS": "3"})
T0 = datetime(2026, 10, 6, 9, 0, tzinfo=timezone.utc)
ADD = {"app_id": "paynest", "command": "add #GooglePay"}
REMOVE = {"app_id": "paynest", "command": "remove #GooglePay"}
REQUESTS = [
    "gpay has scratch cards, please add scratch cards here too",
    "Google Pay gives scratch cards. Please add scratch cards to PayNest",
    "#GooglePay has scratch cards, why can't you add a scratch card",
    "I paid my electricity bill with PayNest today and it went through fine",  # no competitor: nothing
    "PayNest is much better than gpay, love it",  # a win: counted, never a request
    "Switched from Google Pay to PayNest last month, no regrets",  # an arrival: counted, never a request
    "gpay is far better than this app",  # a gap with no concrete feature: a request, never in a ticket
    "gpay is best for transactions and overall experience",  # a gap whose phrase is generic: the same
]
LATER = ["gpay has a dark mode, please add dark mode to this app as well"]


def _review(i: int, text: str) -> dict:
    return {"id": f"fr{i}", "app_id": "paynest", "text": text, "rating": 3,
            "created_at": (T0 + timedelta(minutes=i)).isoformat()}


def _phase(apps, embedder, recovery, commands: list[dict], reviews: list[str]):
    documents: list = []
    source = TestingSource([raw(_review(i, t), n=i) for i, t in enumerate(reviews)], batch_size=8)
    watch = TestingSource([raw(c, n=i) for i, c in enumerate(commands)])
    flow = build_flow(SETTINGS, apps, source, TestingSink([]), embedder=embedder,
                      documents_sink=TestingSink(documents), watch_source=watch)
    run_main(flow, epoch_interval=timedelta(seconds=0), recovery_config=RecoveryConfig(str(recovery)))
    return documents


def _of(documents, kind: str) -> list[dict]:
    return [d.doc for d in documents if d.kind == kind]


def test_watch_add_detect_restart_remove(tmp_path, apps, embedder):
    init_db_dir(tmp_path, 1)

    # 1. the snap-in adds #GooglePay; the watch list document says so
    first = _phase(apps, embedder, tmp_path, [ADD], [])
    [watching] = _of(first, "watchlist")
    assert watching["org"] == "Google Pay" and watching["status"] == "watching"
    assert "#GooglePay" in watching["hashtags"] and "gpay" in watching["aliases"]  # merged from the app metadata
    [state] = _of(first, "watch_state")  # and the app's whole list, which GET /v1/watchlist serves
    assert state["id"] == "ws-paynest" and state["command_id"] == watching["command_id"]
    assert state["orgs"] == [{"name": "Google Pay", "hashtags": watching["hashtags"], "aliases": watching["aliases"]}]

    # 2. after a restart, every mention is stored with its direction; only gaps are feature requests
    second = _phase(apps, embedder, tmp_path, [ADD], REQUESTS)
    directions = {m["review_id"]: m["direction"] for m in _of(second, "competitor_mentions")}
    assert directions == {"paynest/fr0": "competitor_ahead", "paynest/fr1": "competitor_ahead",
                          "paynest/fr2": "competitor_ahead", "paynest/fr4": "own_ahead",
                          "paynest/fr5": "switching_to", "paynest/fr6": "competitor_ahead",
                          "paynest/fr7": "competitor_ahead"}
    requests = {r["review_id"]: r for r in _of(second, "feature_requests")}
    assert sorted(requests) == ["paynest/fr0", "paynest/fr1", "paynest/fr2", "paynest/fr6", "paynest/fr7"]
    assert {r["org"] for r in requests.values()} == {"Google Pay"}
    scratch = [requests[f"paynest/fr{i}"] for i in range(3)]
    assert all("scratch card" in r["feature"] for r in scratch)
    assert {r["matched"].lower() for r in scratch} >= {"gpay", "google pay"}
    # one feature group (the issue layer's clustering over the phrases), mapped to the app's own label
    assert len({r["feature_group"] for r in scratch}) == 1 and scratch[0]["feature_group"]
    assert {r["label"] for r in scratch} == {"rewards_cashback"}
    for vague in (requests["paynest/fr6"], requests["paynest/fr7"]):
        assert vague["feature"] is None and vague["feature_group"] is None  # counted, never a ticket
    # three requests for one feature in one window pass SIFT_TICKET_MIN_FEATURE_REQUESTS=3: a ticket
    [ticket] = _of(second, "tickets")
    assert ticket["primary_label"] == "competitor_feature" and ticket["count"] == 3
    assert ticket["cluster_id"] == scratch[0]["feature_group"]
    assert ticket["title"].startswith("[PayNest] Competitor feature: rewards_cashback: Google Pay's scratch card")
    assert ticket["severity"] == "medium"  # judged by count: 3 requests, the minimum

    # 3. removing it stops new records
    third = _phase(apps, embedder, tmp_path, [ADD, REMOVE], REQUESTS + LATER)
    assert [d["status"] for d in _of(third, "watchlist")] == ["removed"]
    assert [d["orgs"] for d in _of(third, "watch_state")] == [[]]
    assert _of(third, "feature_requests") == [] and _of(third, "competitor_mentions") == []


def test_a_feed_line_reparses_to_the_same_command_id():
    line = json.dumps({"app_id": "paynest", "action": "add", "orgs": [{"name": "Google Pay", "hashtags": ["#GooglePay"]}],
                       "issued_at": "2026-10-06T09:00:00+00:00"})
    message = RawMessage(payload=line, origin="commands.jsonl@0", received_at=T0)
    again = RawMessage(payload=line, origin="commands.jsonl@0", received_at=T0 + timedelta(days=1))
    assert [c.id for c in commands_from(message)] == [c.id for c in commands_from(again)]
    assert commands_from(RawMessage(payload="{not json", origin="x", received_at=T0)) == []


def test_the_app_itself_is_never_watched():
    from flows.operators.feature_requests import WatchConfig, watch_step
    from core.watchlist import parse_commands

    cfg = WatchConfig(competitors=lambda app_id: (), app_names=lambda app_id: "PayNest")
    [cmd] = parse_commands({"app_id": "paynest", "command": "add #PayNest"})
    watch, [doc, state] = watch_step(None, cmd, cfg)
    assert len(watch) == 0 and doc.doc["status"] == "removed" and "app itself" in doc.doc["change"]
    assert state.kind == "watch_state" and state.doc["orgs"] == [] and state.doc["change"] == doc.doc["change"]


def test_the_watch_state_is_the_whole_list_when_a_command_names_an_org_by_another_name():
    """Why the flow writes `watch_state`: "remove #GPay" stops Google Pay (gpay is one of its names), but its
    per-org document is `wl-paynest-gpay`, so `wl-paynest-googlepay` still says `watching`. Only the whole
    list after each command says what the flow watches."""
    from flows.operators.feature_requests import WatchConfig, watch_step
    from core.watchlist import parse_commands

    at = iter(T0 + timedelta(seconds=s) for s in range(10))
    cfg = WatchConfig(competitors=lambda app_id: (), now=lambda: next(at))
    stored: dict[tuple[str, str], dict] = {}  # (kind, id) -> document, upserted as the store does
    watch = None
    for payload in ({"app_id": "paynest", "action": "add", "orgs": [{"name": "Google Pay", "aliases": ["gpay"]}]},
                    {"app_id": "paynest", "command": "add #CRED"},
                    {"app_id": "paynest", "command": "remove #GPay"}):
        [cmd] = parse_commands(payload, received_at=T0)
        watch, docs = watch_step(watch, cmd, cfg)
        stored.update({(d.kind, d.doc["id"]): d.doc for d in docs})
        assert [d.kind for d in docs] == ["watchlist", "watch_state"]
        assert docs[-1].ack is cmd.ack

    per_org = sorted(d["org"] for (kind, _), d in stored.items() if kind == "watchlist" and d["status"] == "watching")
    assert per_org == ["CRED", "Google Pay"], "the per-org documents still say Google Pay is watched"
    state = stored[("watch_state", "ws-paynest")]
    assert state["orgs"] == [{"name": "CRED", "hashtags": ["#CRED"], "aliases": []}]
    assert state["change"] == "stopped watching Google Pay"
    assert state["updated_at"] == (T0 + timedelta(seconds=2)).isoformat()  # the third command's


def test_feature_groups_follow_meaning_not_wording(tmp_path, apps, embedder):
    """"hide payment history" and "hide transactions" are one feature; "scratch cards" is another."""
    init_db_dir(tmp_path, 1)
    reviews = ["gpay lets you hide payment history, please add it",
               "Google Pay has hide transactions, why can't you do this",
               "gpay has scratch cards, please add them"]
    docs = _phase(apps, embedder, tmp_path, [ADD], reviews)
    groups = {r["feature"]: r["feature_group"] for r in _of(docs, "feature_requests")}
    assert set(groups) == {"hide payment history", "hide transactions", "scratch cards"}
    assert groups["hide payment history"] == groups["hide transactions"] != groups["scratch cards"]


def test_the_summary_reads_gaps_and_wins_from_what_the_flow_stored(tmp_path, apps, embedder):
    """The flow's own documents, written to a store, summed per competitor as GET /v1/competitors/summary serves."""
    from connectors.sqlite_store import SqliteStore
    from connectors.store import competitor_summary

    init_db_dir(tmp_path, 1)
    docs = _phase(apps, embedder, tmp_path, [ADD], REQUESTS)
    store = SqliteStore(tmp_path / "sift.db")
    store.setup()
    for kind in ("competitor_mentions", "feature_requests"):
        store.write_documents(kind, _of(docs, kind))
    [gpay] = competitor_summary(store, "paynest")["competitors"]
    assert (gpay["org"], gpay["gaps"], gpay["wins"], gpay["neutral"]) == ("Google Pay", 5, 2, 0)
    assert gpay["directions"] == {"competitor_ahead": 5, "own_ahead": 1, "switching_to": 1}
    assert gpay["requests_without_feature"] == 2  # fr6 (no phrase) and fr7 (a generic one)
    [feature] = gpay["features"]
    assert feature["requests"] == 3 and "scratch card" in feature["feature"] and feature["label"] == "rewards_cashback"
    later = competitor_summary(store, "paynest", since=T0 + timedelta(minutes=5))["competitors"]
    assert [(c["gaps"], c["wins"]) for c in later] == [(2, 1)]  # fr5 (an arrival), fr6 and fr7 (gaps) only
    store.close()
