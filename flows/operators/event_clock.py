"""An event-time clock for Bytewax windows that wakes a key when its watermark reaches a window's close.

Bytewax 0.21's `EventClock` asks the runtime to wake a key at `to_system_utc(close_time)`, which is the
close time itself unless told otherwise. Reviews are dated when they were written, so a window of
yesterday's reviews "closes" in the past: the runtime calls that key's `on_notify` again at once, and
again, for as long as the window stays open (its watermark is the key's newest review minus the
allowed lateness, plus the system time since). A replayed or backlogged stream kept the worker busy
calling the window steps about a million times per 5,000 reviews, holding the GIL.

`WatermarkClock` is that same clock with one change: a key asks to be woken when its own watermark
will reach the close time (`now + (close_time - watermark)`), which the watermark's definition makes
exact. Watermarks, lateness, which window a review lands in and when a window closes are unchanged,
and so is the snapshot state: it is `EventClock`'s own, so recovery data from before still resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Tuple

from bytewax.operators.windowing import Clock, ClockLogic, EventClock


def _system_utc() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class WatermarkClockLogic(ClockLogic[Any, Any]):
    """Delegates to one key's `EventClock` logic; only `to_system_utc` differs."""

    inner: ClockLogic[Any, Any]
    now_getter: Callable[[], datetime]

    def before_batch(self) -> None:
        self.inner.before_batch()

    def on_item(self, value: Any) -> Tuple[datetime, datetime]:
        return self.inner.on_item(value)

    def on_notify(self) -> datetime:
        return self.inner.on_notify()

    def on_eof(self) -> datetime:
        return self.inner.on_eof()

    def to_system_utc(self, timestamp: datetime) -> Optional[datetime]:
        """The system time at which this key's watermark reaches `timestamp` (now, if it already has)."""
        watermark = self.inner.on_notify()  # the watermark as of now; advancing "now" is all it changes
        now = self.now_getter()
        if timestamp <= watermark:
            return now
        try:
            return now + (timestamp - watermark)
        except OverflowError:  # a watermark near datetime.min (no item yet): nothing to wake for
            return None

    def snapshot(self) -> Any:
        return self.inner.snapshot()


@dataclass
class WatermarkClock(Clock[Any, Any]):
    """`EventClock(ts_getter, wait_for_system_duration)` whose keys wake when their window can close."""

    ts_getter: Callable[[Any], datetime]
    wait_for_system_duration: timedelta
    now_getter: Callable[[], datetime] = _system_utc

    def build(self, resume_state: Any) -> WatermarkClockLogic:
        inner = EventClock(self.ts_getter, self.wait_for_system_duration, now_getter=self.now_getter)
        return WatermarkClockLogic(inner.build(resume_state), self.now_getter)
