"""WatermarkClock: Bytewax's EventClock, but a key with a window open in the past is not woken over and over."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import bytewax.operators as op
import bytewax.operators.windowing as win
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSink, TestingSource, run_main

from flows.operators.event_clock import WatermarkClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)
WAIT = timedelta(minutes=10)


class FakeNow:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def at(item: tuple[str, datetime]) -> datetime:
    return item[1]


def test_a_window_closing_in_the_past_wakes_its_key_when_the_watermark_gets_there():
    now = FakeNow(NOW)
    logic = WatermarkClock(at, WAIT, now_getter=now).build(None)
    two_days_ago = NOW - timedelta(days=2)
    logic.before_batch()
    ts, watermark = logic.on_item(("r1", two_days_ago))
    assert (ts, watermark) == (two_days_ago, two_days_ago - WAIT)

    close = two_days_ago + timedelta(minutes=30)
    # EventClock would ask for `close` itself: two days ago, so "due" on every wake-up until it closes.
    assert logic.to_system_utc(close) == NOW + timedelta(minutes=40)
    now.at = NOW + timedelta(minutes=15)  # the watermark moves with system time, the wake-up does not
    assert logic.to_system_utc(close) == NOW + timedelta(minutes=40)
    now.at = NOW + timedelta(minutes=40)
    assert logic.on_notify() == close
    assert logic.to_system_utc(close) == now.at  # due now
    assert logic.to_system_utc(close - timedelta(hours=1)) == now.at


def test_state_is_event_clocks_own_and_resumes():
    now = FakeNow(NOW)
    logic = WatermarkClock(at, WAIT, now_getter=now).build(None)
    logic.before_batch()
    logic.on_item(("r1", NOW - timedelta(hours=3)))
    snapshot = logic.snapshot()
    plain = win.EventClock(at, WAIT, now_getter=now).build(snapshot)
    resumed = WatermarkClock(at, WAIT, now_getter=now).build(snapshot)
    assert resumed.on_notify() == plain.on_notify() == NOW - timedelta(hours=3) - WAIT


def _windows(clock, items):
    flow = Dataflow("clock")
    keyed = op.key_on("key", op.input("in", flow, TestingSource(items, batch_size=3)), lambda item: item[0][0])
    out = win.collect_window("win", keyed, clock, win.TumblingWindower(timedelta(hours=1), align_to=NOW))
    closed: list = []
    late: list = []
    run_main(flow_with_sinks(flow, out, closed, late))
    return sorted(closed), sorted(late)


def flow_with_sinks(flow, out, closed, late):
    op.output("closed", out.down, TestingSink(closed))
    op.output("late", out.late, TestingSink(late))
    return flow


def test_same_windows_and_late_items_as_event_clock():
    base = NOW - timedelta(days=3)
    items = [(f"{key}{i}", base + timedelta(minutes=m))
             for i, (key, m) in enumerate([("a", 5), ("a", 50), ("b", 20), ("a", 70), ("b", 200),
                                           ("a", 65),  # behind a's newest by less than the wait: on time
                                           ("a", 400), ("a", 30),  # far behind a's watermark: late
                                           ("b", 195), ("a", 430)])]
    want = _windows(win.EventClock(at, WAIT), items)
    got = _windows(WatermarkClock(at, WAIT), items)
    assert got == want
    closed, late = got
    assert [(key, item[0]) for key, (_, item) in late] == [("a", "a7")]
    assert [(key, [i[0] for i in members]) for key, (_, members) in closed] == [
        ("a", ["a0", "a1"]), ("a", ["a5", "a3"]), ("a", ["a6"]), ("a", ["a9"]), ("b", ["b2"]), ("b", ["b8", "b4"])]  # in event-time order
