"""Stores the dashboard tests read: a demo store filled by the real flow, and copies of it with
ticket and feature-request documents written by the tests themselves.

Built once per pytest session under the session's base temp dir (both the AppTest tests and the
browser test call these; the second call finds the finished store).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from connectors.sqlite_store import SqliteStore
from demo.generate import generate, watch_command, write
from core.records import EnrichedReview, Measures, Review
from tests.helpers import run_flow

DEMO_N = 400  # records of the demo stream: the real flow runs on them (about a minute here)
DEMO_DAYS = 14  # the generator's 28-day schedule squeezed into 14 days: the incidents stay visible
DEMO_SEED = 7
TICKET_WINDOW_MINUTES = 1440  # day windows: the squeezed incident passes the app's 5-review threshold
HOSTILE = "<script>alert('x')</script> **bold** [link](http://evil.example) $x^2$ :red[red] # heading"


@dataclass(frozen=True)
class DemoStore:
    """A SQLite store and the environment that points the dashboard at it."""

    db: Path
    input: Path
    watchlist: Path
    lines: int

    @property
    def env(self) -> dict[str, str]:
        return {"SIFT_STORE": "sqlite", "SIFT_SQLITE_PATH": str(self.db), "SIFT_INPUT": str(self.input),
                "SIFT_WATCHLIST_FILE": str(self.watchlist), "SIFT_SOURCE": "file"}

    def open(self) -> SqliteStore:
        return SqliteStore(self.db)


def demo_store(base: Path) -> DemoStore:
    """The demo stream run through the real flow (`python -m bytewax.run flows.main`) into SQLite."""
    root = base / "dashboard-demo"
    done = root / "done"
    store = DemoStore(db=root / "sift.db", input=root / "reviews.jsonl", watchlist=root / "watchlist.jsonl",
                      lines=DEMO_N)
    if done.exists():
        return store
    if root.exists():
        shutil.rmtree(root)  # a half-built store from an interrupted run
    write(store.input, generate(n=DEMO_N, seed=DEMO_SEED, days=DEMO_DAYS))
    write(store.watchlist, [json.dumps(watch_command())])  # the snap-in's first command, as run_flow.sh does
    result = run_flow({**store.env, "SIFT_PROGRESS_SECONDS": "0", "SIFT_LOG_LEVEL": "warning",
                       "SIFT_TICKET_WINDOW_MINUTES": str(TICKET_WINDOW_MINUTES)}, timeout=1200)
    assert result.returncode == 0, f"the flow failed on the demo stream:\n{result.stderr[-3000:]}"
    done.write_text("ok")
    return store


def empty_store(base: Path) -> DemoStore:
    """A store with its tables and nothing in them."""
    root = base / "dashboard-empty"
    store = DemoStore(db=root / "sift.db", input=root / "none.jsonl", watchlist=root / "watchlist.jsonl", lines=0)
    if not store.db.exists():
        root.mkdir(parents=True, exist_ok=True)
        s = store.open()
        s.setup()
        s.close()
    return store


def store_with_documents(base: Path) -> DemoStore:
    """A copy of the demo store plus tickets (for its three biggest clusters), feature requests and a
    removed watch-list entry written here, all with ids that start with `test-`."""
    demo = demo_store(base)
    root = base / "dashboard-docs"
    store = DemoStore(db=root / "sift.db", input=demo.input, watchlist=root / "watchlist.jsonl", lines=demo.lines)
    if (root / "done").exists():
        return store
    root.mkdir(parents=True, exist_ok=True)
    src = demo.open()
    src.conn.execute("VACUUM INTO ?", (str(store.db),))  # a consistent copy, WAL included
    src.close()
    s = store.open()
    s.write_documents("tickets", ticket_docs(s))
    s.write_documents("feature_requests", feature_request_docs())
    s.write_documents("watchlist", [{
        "id": "test-wl-freecharge", "app_id": "paynest", "org": "Freecharge", "hashtags": ["#Freecharge"],
        "aliases": ["free charge"], "status": "removed", "issued_at": "2026-10-05T10:00:00+05:30",
        "updated_at": "2026-10-05T04:30:00+00:00"}])
    s.close()
    (root / "done").write_text("ok")
    return store


SEVERITIES = ("blocker", "high", "medium")


def ticket_docs(store: SqliteStore) -> list[dict]:
    """Tickets shaped like issue 6's, one per biggest cluster, with real representative reviews."""
    docs = []
    for i, c in enumerate(store.top_clusters(app_id="paynest", limit=3)):
        rep = store.get(c["representative"]) or {}
        title = f"{c['primary_label']}: {c['name']}"
        body = f"**{c['count']} reviews** about _{c['name']}_ (×{4 - i}.0 vs previous window).\n\n- versions: 4.12.0"
        docs.append({
            "id": f"test-tkt-{i + 1}", "app_id": "paynest", "updated_at": f"2026-10-2{i}T10:00:00+00:00",
            "created_at": "2026-10-17T09:00:00+00:00", "status": "open", "version": 5 - i,
            "primary_label": c["primary_label"], "cluster_id": c["cluster_id"], "title": title, "body": body,
            "severity": SEVERITIES[i], "tags": [c["primary_label"], "paynest"],
            "window_start": "2026-10-18T09:00:00+00:00", "window_end": "2026-10-18T10:00:00+00:00",
            "count": 20 - 5 * i, "total_count": c["count"], "trend": f"×{4 - i}.0", "trend_ratio": float(4 - i),
            "priority": round(0.9 - 0.1 * i, 2), "app_versions": ["4.12.0", "4.11.0"][: 2 - i % 2],
            "first_seen": "2026-10-17T09:12:00+00:00", "last_seen": c["last_seen"],
            "representatives": [
                {"review_id": rep.get("id"), "text": rep.get("text"), "text_en": rep.get("text_en"), "lang": rep.get("lang")},
                {"review_id": "hostile", "text": HOSTILE, "text_en": HOSTILE, "lang": "en"},
            ],
            "devrev": {"type": "ticket", "title": title, "body": body, "severity": SEVERITIES[i],
                       "tags": [{"name": c["primary_label"]}], "applies_to_part": "PROD-1", "owned_by": ["DEVU-1"]},
        })
    return docs


FEATURES = [("Google Pay", "split bills with friends")] * 3 + [("Google Pay", "UPI Lite")] * 2 + [
    ("PhonePe", "Split bills with friends!"), ("PhonePe", "insurance"), ("Paytm", "FASTag recharge reminders")]


def feature_request_docs() -> list[dict]:
    """Feature requests shaped like issue 7's; the last one carries hostile text."""
    docs = []
    for i, (org, feature) in enumerate(FEATURES):
        text = HOSTILE if i == len(FEATURES) - 1 else f"{org} has {feature}, please add it to PayNest"
        docs.append({"id": f"test-fr-{i}", "app_id": "paynest", "updated_at": f"2026-10-{10 + i}T08:00:00+00:00",
                     "org": org, "feature": feature, "review_id": f"pn-{i:06d}", "text": text, "text_en": text,
                     "lang": "en", "source": "twitter", "created_at": f"2026-10-{10 + i}T07:30:00+00:00",
                     "status": "new"})
    return docs


# Strings from data that Streamlit's Markdown would turn into a link, an e-mail link, an icon or colour,
# even backslash-escaped; the dashboard must show each of them as the text it is.
MARKDOWN_BAIT = {
    "title": "[PayNest] Feature request: Org http://evil.example/t www.evil.example :material/home: :red[red]",
    "org": "Org www.evil.example/o a@evil.example :material/home:",
    "name": "refund http://evil.example/n :material/delete: **bold**",
    "keyword": "upi www.evil.example/k",
    "keyword2": ":material/key: a@evil.example",
    "version": "4.12.0 http://evil.example/v :material/home:",
    "tag": ":material/sell: www.evil.example/tag",
    "trend": "×3.0 http://evil.example/trend",
}
BAIT_ICONS = ("home", "delete", "key", "sell")  # the icon names the bait asks for
HOSTILE_TICKET = "test-tkt-bait"
HOSTILE_CLUSTER = "paynest:payments:test-bait"
HOSTILE_REVIEWS = 60  # enough, with the ticket's priority, to rank among the issue page's ten cards


def store_with_markdown_bait(base: Path) -> DemoStore:
    """A copy of `store_with_documents` plus, written through the store's own methods, a cluster of
    reviews, a ticket, a feature request and a watch-list entry whose strings are `MARKDOWN_BAIT`."""
    docs = store_with_documents(base)
    root = base / "dashboard-bait"
    store = DemoStore(db=root / "sift.db", input=docs.input, watchlist=root / "watchlist.jsonl", lines=docs.lines)
    if (root / "done").exists():
        return store
    root.mkdir(parents=True, exist_ok=True)
    src = docs.open()
    src.conn.execute("VACUUM INTO ?", (str(store.db),))
    src.close()
    s = store.open()
    newest = max(datetime.fromisoformat(c["last_seen"]) for c in s.top_clusters(limit=1000))
    s.write([bait_review(n, newest - timedelta(minutes=n)) for n in range(HOSTILE_REVIEWS)])
    s.write_documents("tickets", [{
        "id": HOSTILE_TICKET, "app_id": "paynest", "updated_at": "2026-10-28T10:00:00+00:00",
        "created_at": "2026-10-27T09:00:00+00:00", "status": "open", "version": 1, "primary_label": "payments",
        "cluster_id": HOSTILE_CLUSTER, "title": MARKDOWN_BAIT["title"], "body": "**bait**", "severity": "low",
        "tags": [MARKDOWN_BAIT["tag"]], "window_start": "2026-10-28T09:00:00+00:00",
        "window_end": "2026-10-28T10:00:00+00:00", "count": HOSTILE_REVIEWS, "total_count": HOSTILE_REVIEWS,
        "trend": MARKDOWN_BAIT["trend"], "trend_ratio": 3.0, "priority": 1.0, "app_versions": [MARKDOWN_BAIT["version"]],
        "first_seen": "2026-10-27T09:12:00+00:00", "last_seen": "2026-10-28T09:55:00+00:00",
        "representatives": [{"review_id": "test-bait-0000", "text": "refund never came", "lang": "en"}],
    }])
    s.write_documents("feature_requests", [{
        "id": "test-fr-bait", "app_id": "paynest", "updated_at": "2026-10-28T08:00:00+00:00",
        "org": MARKDOWN_BAIT["org"], "feature": "refunds", "review_id": "test-bait-0001", "text": "refunds please",
        "text_en": "refunds please", "lang": "en", "source": "twitter", "created_at": "2026-10-28T07:30:00+00:00",
        "status": "new"}])
    s.write_documents("watchlist", [{
        "id": "test-wl-bait", "app_id": "paynest", "org": MARKDOWN_BAIT["org"], "hashtags": ["#Bait"],
        "aliases": [], "status": "watching", "issued_at": "2026-10-05T10:00:00+00:00",
        "updated_at": "2026-10-05T10:00:00+00:00"}])
    s.write_documents("watch_state", [{  # what the Competitors page reads: the flow's whole list
        "id": "ws-paynest", "app_id": "paynest", "orgs": [{"name": MARKDOWN_BAIT["org"], "hashtags": ["#Bait"],
                                                          "aliases": []}],
        "issued_at": "2026-10-05T10:00:00+00:00", "updated_at": "2026-10-29T10:00:00+00:00"}])
    s.write_documents("competitor_mentions", [{
        "id": "test-cm-bait", "app_id": "paynest", "org": MARKDOWN_BAIT["org"], "direction": "competitor_ahead",
        "side": "gap", "created_at": "2026-10-28T07:30:00+00:00", "updated_at": "2026-10-28T08:00:00+00:00"}])
    s.close()
    (root / "done").write_text("ok")
    return store


def bait_review(n: int, at: datetime) -> EnrichedReview:
    """One enriched review of the bait cluster, as the flow would store it."""
    text = f"refund {n} never came back to my account"
    review = Review(id=f"test-bait-{n:04d}", app_id="paynest", text=text, source="play_store", created_at=at,
                    received_at=at, origin=f"test:{n}", rating=1, app_version=MARKDOWN_BAIT["version"])
    return EnrichedReview(
        review=review, measures=Measures(word_count=len(text.split()), non_english_ratio=0.0, lang="en"),
        lang="en", text_en=text, translated=False, primary_label="payments", label_score=0.9,
        embedding=(1.0,) + (0.0,) * 383, cluster_id=HOSTILE_CLUSTER,
        cluster_keywords=(MARKDOWN_BAIT["keyword"], MARKDOWN_BAIT["keyword2"]), cluster_name=MARKDOWN_BAIT["name"],
        cluster_representative="test-bait-0000", processed_at=at, review_type="bug_report", sentiment="negative",
        priority=0.95, cluster_priority=0.95)
