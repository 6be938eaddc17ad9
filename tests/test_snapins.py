"""The DevRev snap-in (snapins/sift) end to end: the real flow fills a store from the demo, the real
feed (`python -m connectors.feed`) serves it, the snap-in's functions run in Node as DevRev would run
them (`node dist/main.js`, events built from the package's fixtures), and DevRev is the local
stand-in of tests/devrev_standin.py, which records every call.

The flow runs twice on one demo stream: first on its first part, then (after /watch_competitors
#CRED) on all of it, which gives some tickets later versions and CRED feature requests. /competitors
shows the flow's own watch list (the feed's GET /v1/watchlist): the orgs of the demo's first command,
which the snap-in never sent, and CRED once a flow run has applied it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from demo.generate import DEFAULT_APP, generate, watch_command, write
from tests.devrev_standin import DevRevStandIn
from tests.helpers import ROOT, free_port
from tests.test_feed import TOKEN, Feed, page_all, start_feed, stop_feed

SNAPIN = ROOT / "snapins" / "sift" / "code"
FIXTURES = SNAPIN / "src" / "fixtures"
DEVREV_TOKEN = "devrev-service-account-token-5e1f"
SNAP_IN_ID = "don:integration:dvrv-us-1:devo/0:snap_in/1b2c3d4e-sift"
FEATURE_LABEL = "competitor_feature"
NEW_ORG, NEW_TAG = "CRED", "#CRED"

DEMO_N = 400  # the demo stream squeezed into 4 days: a few issue tickets and competitor-feature tickets
DEMO_DAYS = 4
FIRST_RUN = 200  # records of the first flow run; the second runs on all DEMO_N
FLOW_ENV = {
    "SIFT_SOURCE": "file", "SIFT_STORE": "sqlite", "SIFT_PROGRESS_SECONDS": "0", "SIFT_LOG_LEVEL": "warning",
    "SIFT_TICKET_WINDOW_MINUTES": "720", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
}
# The demo app with lower ticket thresholds, so a small stream raises tickets and later versions of them.
THRESHOLDS = {"min_reviews": 3, "min_feature_requests": 2, "alpha_hour": 0.01, "alpha_day": 0.01}


def _unavailable(message: str) -> None:
    if os.environ.get("SIFT_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def main_js() -> Path:
    """The snap-in built (`npm run build`) when its sources are newer than dist/."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("node and npm are needed for the snap-in tests: scripts/bootstrap.sh test installs them")
    if not (SNAPIN / "node_modules").is_dir():
        _unavailable(f"the snap-in's packages are not installed: scripts/bootstrap.sh test (or npm ci in {SNAPIN})")
    main = SNAPIN / "dist" / "main.js"
    sources = [*SNAPIN.joinpath("src").rglob("*.ts"), SNAPIN / "package.json", SNAPIN / "tsconfig.json"]
    if not main.exists() or max(p.stat().st_mtime for p in sources) > main.stat().st_mtime:
        built = subprocess.run(["npm", "run", "build"], cwd=SNAPIN, capture_output=True, text=True, timeout=300)
        assert built.returncode == 0, built.stdout + built.stderr
    return main


@dataclass
class Demo:
    root: Path
    feed: Feed
    lines: list[str]
    flow_ended: float = 0.0

    @property
    def watch_file(self) -> Path:
        return self.feed.watch_file

    def run_flow(self, records: int) -> None:
        """`python -m bytewax.run flows.main` on the first `records` lines, into the feed's store."""
        stream = write(self.root / f"reviews-{records}.jsonl", self.lines[:records])
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIFT_")}
        env.update(FLOW_ENV, PYTHONPATH=str(ROOT), SIFT_INPUT=str(stream), SIFT_SQLITE_PATH=str(self.root / "sift.db"),
                   SIFT_WATCHLIST_FILE=str(self.watch_file), SIFT_APPS=str(self.root / "apps"))
        result = subprocess.run([sys.executable, "-m", "bytewax.run", "flows.main"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"the flow failed on the demo stream:\n{result.stderr[-3000:]}"
        self.flow_ended = time.monotonic()

    def settled(self) -> None:
        """Wait out the feed's settle time (2 s), so every document the flow wrote is served."""
        time.sleep(max(0.0, self.flow_ended + 2.5 - time.monotonic()))

    def tickets(self) -> dict[str, dict]:
        items, _ = page_all(self.feed, "/v1/tickets", limit=500)
        return {t["id"]: t for t in items}

    def feature_requests(self, org: str) -> list[dict]:
        items, _ = page_all(self.feed, "/v1/feature-requests", limit=500, org=org)
        return items


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("snapin-e2e")
    app = json.loads(DEFAULT_APP.read_text(encoding="utf-8"))
    app["tickets"] = THRESHOLDS
    write(root / "apps" / "paynest.json", [json.dumps(app)])
    first = watch_command()  # the snap-in's first command, as run_flow.sh writes it: every competitor but CRED
    first["command"] = " ".join(w for w in first["command"].split() if w != NEW_TAG)
    assert first["command"] != watch_command()["command"]
    feed = start_feed(root)
    write(feed.watch_file, [json.dumps(first)])
    demo = Demo(root, feed, generate(n=DEMO_N, seed=7, days=DEMO_DAYS))
    try:
        demo.run_flow(FIRST_RUN)
        demo.settled()
        yield demo
    finally:
        stop_feed(feed)


@dataclass
class Run:
    """One function run: its exit code and its log lines."""

    returncode: int
    out: list[str]
    err: list[str]

    @property
    def lines(self) -> list[str]:
        return self.out + self.err


@dataclass
class SnapIn:
    """The installed snap-in: the platform's side (events, saved inputs) around a fresh DevRev stand-in."""

    main_js: Path
    demo: Demo
    devrev: DevRevStandIn
    tmp: Path
    events: list[dict] = field(default_factory=list)

    def event(self, fixture: str, function: str, feed_url: str | None = None, token: str = TOKEN) -> dict:
        """An event as DevRev hands it: the fixture, this installation's endpoint and token, the saved inputs."""
        event = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))[0]
        event["execution_metadata"].update(devrev_endpoint=self.devrev.url, function_name=function)
        event["context"]["secrets"] = {"service_account_token": DEVREV_TOKEN}
        event["input_data"]["global_values"] = copy.deepcopy(self.devrev.inputs[SNAP_IN_ID])
        if feed_url is not None:
            event["input_data"]["global_values"]["feed_url"] = feed_url
        event["input_data"]["keyrings"] = {"sift_feed_token": token}
        event["input_data"]["resources"]["keyrings"]["sift_feed_token"]["secret"] = token
        return event

    def run(self, function: str, event: dict) -> Run:
        self.events.append(event)
        path = self.tmp / f"event-{len(self.events)}.json"
        path.write_text(json.dumps([event]), encoding="utf-8")
        result = subprocess.run(["node", str(self.main_js), "--functionName", function, "--fixturePath", str(path)],
                                cwd=SNAPIN, capture_output=True, text=True, timeout=120)
        run = Run(result.returncode, result.stdout.splitlines(), result.stderr.splitlines())
        assert run.returncode == 0, f"{function} crashed:\n{result.stdout}{result.stderr}"
        return run

    def tick(self, function: str, **kwargs) -> Run:
        return self.run(function, self.event("timer_tick.json", function, **kwargs))

    def tick_both(self) -> tuple[Run, Run]:
        return self.tick("ticket_creator"), self.tick("other_features")

    def command(self, name: str, parameters: str) -> Run:
        event = self.event("competitors_command.json", "other_features")
        event["payload"]["command_id"] = event["payload"]["command_id"].rsplit("/", 1)[0] + f"/{name}"
        event["payload"]["parameters"] = parameters
        return self.run("other_features", event)

    @property
    def saved(self) -> dict:
        return self.devrev.inputs[SNAP_IN_ID]


@pytest.fixture
def snapin(main_js, demo, tmp_path) -> Iterator[SnapIn]:
    fixture = json.loads((FIXTURES / "timer_tick.json").read_text(encoding="utf-8"))[0]
    inputs = {**fixture["input_data"]["global_values"], "feed_url": demo.feed.url}
    devrev = DevRevStandIn(token=DEVREV_TOKEN, inputs={SNAP_IN_ID: inputs}).start()
    try:
        yield SnapIn(main_js, demo, devrev, tmp_path)
    finally:
        devrev.stop()


def assert_mirrored(snapin: SnapIn, tickets: dict[str, dict]) -> None:
    """Exactly one DevRev work per Sift ticket, saying what the ticket's latest version says."""
    works = snapin.devrev.works_by_ref()
    assert sorted(works) == sorted(f"sift:{tid}" for tid in tickets)
    for tid, ticket in tickets.items():
        [work] = works[f"sift:{tid}"]
        assert (work["type"], work["title"], work["body"], work["severity"]) == (
            "ticket", ticket["devrev"]["title"], ticket["devrev"]["body"], ticket["devrev"]["severity"])
        assert sorted(t["tag"]["name"] for t in work["tags"]) == sorted(ticket["devrev"]["tags"])
        assert work["applies_to_part"]["id"] == snapin.saved["part"]
        assert [o["id"] for o in work["owned_by"]] == [snapin.saved["owner"]]


def first_orgs() -> dict[str, list[str]]:
    """The orgs of the demo's first command (every competitor but CRED), by their app-metadata names and
    hashtags, which is how the flow resolves and lists them."""
    app = json.loads(DEFAULT_APP.read_text(encoding="utf-8"))
    return {c["name"]: c["hashtags"] for c in app["competitors"] if NEW_TAG not in c["hashtags"]}


def listing(orgs: dict[str, list[str]]) -> str:
    """Orgs as /competitors lists them: in the flow's order (by name without case, spaces or punctuation)."""
    key = lambda name: re.sub(r"[\W_]+", "", name.lower())  # noqa: E731
    return ", ".join(f"{name} ({' '.join(orgs[name])})" for name in sorted(orgs, key=key))


LAST_CHANGE = r" Last change the flow applied: {} \(\d{{4}}-\d\d-\d\d \d\d:\d\d UTC\)\."


def summary(run: Run) -> str:
    [line] = run.lines
    return line


def test_two_ticks_after_a_demo_run_leave_exactly_one_work_per_sift_ticket(snapin, demo):
    tickets = demo.tickets()
    features = {tid for tid, t in tickets.items() if t["primary_label"] == FEATURE_LABEL}
    issues = set(tickets) - features
    assert issues and features, "the demo run must raise both issue and competitor-feature tickets"

    first = snapin.tick_both()
    after_first = snapin.devrev.mark()
    second = snapin.tick_both()

    assert_mirrored(snapin, tickets)
    assert snapin.devrev.count("works.create") == len(tickets), "one works.create per Sift ticket, no retry"
    assert [summary(r) for r in first] == [
        f"sift ticket_creator: {len(issues)} tickets read, {len(issues)} created, 0 updated, 0 unchanged",
        f"sift other_features: {len(features)} tickets read, {len(features)} created, 0 updated, 0 unchanged"]
    # the second tick starts after the saved cursors: nothing new to read, nothing written
    assert [summary(r) for r in second] == [
        "sift ticket_creator: 0 tickets read, 0 created, 0 updated, 0 unchanged",
        "sift other_features: 0 tickets read, 0 created, 0 updated, 0 unchanged"]
    assert snapin.devrev.since(after_first) == [], "nothing after the saved cursors: no DevRev call at all"
    assert snapin.saved["ticket_cursor"] and snapin.saved["feature_ticket_cursor"]
    # tag names became tag ids, each missing tag created once
    names = Counter(c.body["name"] for c in snapin.devrev.since(0, "tags.create"))
    assert names == Counter({n for t in tickets.values() for n in t["devrev"]["tags"]})


def test_a_restart_with_the_same_cursor_or_a_lost_one_creates_nothing(snapin, demo):
    tickets = {tid: t for tid, t in demo.tickets().items() if t["primary_label"] != FEATURE_LABEL}
    n = len(tickets)

    # the function dies before it saves its cursor (here: the save fails): the works exist, the cursor does not
    snapin.devrev.fail("snap-ins.update", 503)
    died = snapin.tick("ticket_creator")
    assert snapin.saved["ticket_cursor"] == ""
    assert len(died.err) == 1 and "the cursor was not saved (DevRev snap-ins.update answered 503" in died.err[0]
    restarted = snapin.tick("ticket_creator")  # the same cursor again
    assert summary(restarted) == f"sift ticket_creator: {n} tickets read, 0 created, 0 updated, {n} unchanged"

    redelivered = snapin.run("ticket_creator", snapin.events[-1])  # DevRev delivers that event once more
    assert summary(redelivered) == f"sift ticket_creator: {n} tickets read, 0 created, 0 updated, {n} unchanged"

    snapin.saved["ticket_cursor"] = ""  # the cursor is lost
    lost = snapin.tick("ticket_creator")
    assert summary(lost) == f"sift ticket_creator: {n} tickets read, 0 created, 0 updated, {n} unchanged"
    assert snapin.saved["ticket_cursor"]

    snapin.saved["ticket_cursor"] = "not-a-cursor"  # or damaged: the feed answers 400
    damaged = snapin.tick("ticket_creator")
    assert summary(damaged) == (f"sift ticket_creator: {n} tickets read, 0 created, 0 updated, {n} unchanged; "
                                "the feed refused the saved cursor, so every ticket was read again")

    assert snapin.devrev.count("works.create") == n
    assert snapin.devrev.count("works.update") == 0
    assert_mirrored(snapin, tickets)


def test_feed_and_devrev_failures_give_one_message_and_the_next_tick_retries(snapin, demo):
    tickets = {tid: t for tid, t in demo.tickets().items() if t["primary_label"] != FEATURE_LABEL}
    n = len(tickets)
    assert n >= 2, "the page needs a second ticket for works.create to fail on"

    down = snapin.tick("ticket_creator", feed_url=f"http://127.0.0.1:{free_port()}")
    assert down.out == [] and len(down.err) == 1
    assert "stopped: could not reach the Sift feed at http://127.0.0.1:" in down.err[0]
    refused = snapin.tick("ticket_creator", token="wrong-token-0123456789")
    assert refused.err == ["sift ticket_creator: error: 0 tickets read, 0 created, 0 updated, 0 unchanged; stopped: "
                           "the Sift feed refused the token (401 on GET /v1/tickets): check the sift_feed_token connection"]
    assert "wrong-token" not in "\n".join(refused.lines)
    assert snapin.devrev.calls == [], "nothing reaches DevRev while the feed fails"

    snapin.devrev.fail("works.list", 401)
    unauthorized = snapin.tick("ticket_creator")
    assert len(unauthorized.err) == 1 and "stopped: DevRev works.list answered 401 (unauthenticated:" in unauthorized.err[0]

    snapin.devrev.fail("works.create", 503, skip=1)  # the second ticket of the page fails
    partial = snapin.tick("ticket_creator")
    assert len(partial.err) == 1
    assert partial.err[0].startswith(f"sift ticket_creator: error: {n} tickets read, {n - 1} created, 0 updated, "
                                     f"0 unchanged; stopped: 1 of {n} tickets not written (Sift ticket ")
    assert "DevRev works.create answered 503 (service_unavailable: injected failure of works.create)" in partial.err[0]
    assert partial.err[0].endswith("they are retried on the next tick")
    assert snapin.saved["ticket_cursor"] == "", "the cursor does not move past a page that is not all written"

    retried = snapin.tick("ticket_creator")
    assert summary(retried) == f"sift ticket_creator: {n} tickets read, 1 created, 0 updated, {n - 1} unchanged"
    assert_mirrored(snapin, tickets)
    assert snapin.devrev.count("works.create", 201) == n


def test_a_lost_works_create_answer_leaves_one_work(snapin, demo):
    tickets = {tid: t for tid, t in demo.tickets().items() if t["primary_label"] != FEATURE_LABEL}
    snapin.devrev.fail("works.create", 500, after=True)  # made, but the answer never arrives
    run = snapin.tick("ticket_creator")
    n = len(tickets)
    assert summary(run) == f"sift ticket_creator: {n} tickets read, {n - 1} created, 0 updated, 1 unchanged"
    assert_mirrored(snapin, tickets)


def test_watch_competitors_reaches_the_flow_and_later_versions_update_the_same_works(snapin, demo):
    snapin.tick_both()
    before = demo.tickets()
    assert_mirrored(snapin, before)
    assert demo.feature_requests(NEW_ORG) == []

    watch = snapin.command("watch_competitors", NEW_TAG)
    assert watch.err == [] and watch.out == [f"sift other_features: add {NEW_ORG} for paynest: accepted by the feed"]
    [line] = demo.watch_file.read_text(encoding="utf-8").splitlines()[-1:]
    assert json.loads(line) | {"issued_at": None, "id": None} == {
        "app_id": "paynest", "action": "add", "orgs": [{"name": NEW_ORG, "hashtags": [NEW_TAG], "aliases": []}],
        "issued_at": None, "id": None}
    # the answer shows the flow's list as it stands: the first command's orgs, which the snap-in never sent;
    # CRED is not in it yet, because no flow run has read the command
    first, with_new = first_orgs(), {**first_orgs(), NEW_ORG: [NEW_TAG]}
    [answer] = snapin.devrev.timeline
    assert answer["object"] == SNAP_IN_ID and answer["visibility"] == "internal"
    assert re.fullmatch(re.escape(f"Sift will watch {NEW_ORG}: the feed accepted the command, and the flow applies it "
                                  f"when it next reads the watch list. Competitors Sift watches for paynest now: "
                                  f"{listing(first)}.") + LAST_CHANGE.format(r"watching BHIM \(.*\)"), answer["body"])
    snapin.command("competitors", "")
    assert re.fullmatch(re.escape(f"Competitors Sift watches for paynest: {listing(first)}.")
                        + LAST_CHANGE.format(r"watching BHIM \(.*\)"), snapin.devrev.timeline[-1]["body"])

    demo.run_flow(DEMO_N)  # the next flow run reads the watch list with the command in it
    demo.settled()
    assert demo.feature_requests(NEW_ORG), f"the flow run after /watch_competitors has no feature request for {NEW_ORG}"
    snapin.command("competitors", "")  # now the flow's list has CRED, next to the orgs the snap-in never sent
    assert re.fullmatch(re.escape(f"Competitors Sift watches for paynest: {listing(with_new)}.")
                        + LAST_CHANGE.format(re.escape(f"watching {NEW_ORG} ({NEW_TAG}; cred, cred app, cread)")),
                        snapin.devrev.timeline[-1]["body"])

    after = demo.tickets()
    bumped = {tid for tid in before if after[tid]["version"] > before[tid]["version"]}
    new = set(after) - set(before)
    assert bumped, "the second flow run must give some ticket a later version"
    mark, first_tick = snapin.devrev.mark(), len(snapin.events)
    snapin.tick_both()
    snapin.tick_both()
    updated = [c.body["id"] for c in snapin.devrev.since(mark, "works.update")]
    work_of = {w[0]["id"]: ref.removeprefix("sift:") for ref, w in snapin.devrev.works_by_ref().items()}
    assert sorted(work_of[w] for w in updated) == sorted(bumped), "one works.update per later version, on its work"
    assert len(snapin.devrev.since(mark, "works.create")) == len(new)
    assert_mirrored(snapin, after)

    # that tick's event again, with its (older) saved cursor: the later versions are read again, not re-applied
    cursor = snapin.saved["ticket_cursor"]
    again = snapin.run("ticket_creator", snapin.events[first_tick])
    read = sum(t["primary_label"] != FEATURE_LABEL for t in after.values())
    assert summary(again) == f"sift ticket_creator: {read} tickets read, 0 created, 0 updated, {read} unchanged"
    assert snapin.saved["ticket_cursor"] == cursor

    unwatch = snapin.command("unwatch_competitors", NEW_TAG)
    assert unwatch.out == [f"sift other_features: remove {NEW_ORG} for paynest: accepted by the feed"]
    assert json.loads(demo.watch_file.read_text(encoding="utf-8").splitlines()[-1])["action"] == "remove"
    assert snapin.devrev.timeline[-1]["body"].startswith(
        f"Sift will stop watching {NEW_ORG}: the feed accepted the command, and the flow applies it when it next reads "
        f"the watch list. Competitors Sift watches for paynest now: {listing(with_new)}.")
    demo.run_flow(0)  # a flow run on no reviews applies the remove, and changes nothing else
    demo.settled()
    snapin.command("competitors", "")
    assert re.fullmatch(re.escape(f"Competitors Sift watches for paynest: {listing(first)}.")
                        + LAST_CHANGE.format(f"stopped watching {NEW_ORG}"), snapin.devrev.timeline[-1]["body"])
    assert demo.tickets() == after, "the flow run on no reviews left every ticket as it was"


def test_commands_answer_mistakes_on_the_timeline_without_calling_the_feed(snapin, demo):
    lines_before = demo.watch_file.read_text(encoding="utf-8")
    snapin.command("watch_competitors", "")
    snapin.command("watch_competitors", "#CRED paytm")
    too_many = snapin.command("watch_competitors", " ".join(f"#Org{i}" for i in range(51)))  # the feed says 422
    bodies = [e["body"] for e in snapin.devrev.timeline]
    assert bodies == [
        "Sift: no hashtag given. Usage: /watch_competitors #GooglePay #PhonePe …",
        'Sift: "paytm" is not a hashtag. Usage: /watch_competitors #GooglePay #PhonePe …',
        "Sift: the feed refused the command: at most 50 orgs per command."]
    assert len(too_many.err) == 1 and too_many.err[0].endswith("the feed refused the command: at most 50 orgs per command")
    assert demo.watch_file.read_text(encoding="utf-8") == lines_before

    down = snapin.run("other_features", snapin.event("watch_competitors_command.json", "other_features",
                                                     feed_url=f"http://127.0.0.1:{free_port()}"))
    assert len(down.err) == 1 and "could not reach the Sift feed" in down.err[0]
    assert snapin.devrev.timeline[-1]["body"].endswith("Nothing was changed; send the command again.")
    assert demo.watch_file.read_text(encoding="utf-8") == lines_before
