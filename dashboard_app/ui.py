"""Pieces every page shares: the sidebar (app, window, refresh), live re-rendering, and notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import streamlit as st

from dashboard_app import data

ALL_APPS = "All apps"
WINDOWS = {  # label -> (interval, buckets in a window; None = everything, no previous window)
    "Last 24 hours": ("hour", 24),
    "Last 7 days": ("day", 7),
    "Last 14 days": ("day", 14),
    "All time": ("day", None),
}
DEFAULT_WINDOW = "Last 7 days"
LIVE_EVERY = 30  # seconds between live re-renders when auto-refresh is on


def sidebar() -> None:
    """App picker, window, refresh button and auto-refresh toggle (state kept across pages)."""
    key = data.config_key()
    apps = data.apps(key)
    with st.sidebar:
        options = [ALL_APPS, *sorted(apps)]
        choice = st.selectbox("App", options, key="app_choice",
                              help="All apps also counts records rejected before their app was known.",
                              format_func=lambda a: a if a == ALL_APPS else f"{apps[a].name} ({a})")
        st.session_state["app_id"] = None if choice == ALL_APPS else choice
        st.selectbox("Window", list(WINDOWS), index=list(WINDOWS).index(DEFAULT_WINDOW), key="window",
                     help="Current window, compared with the window of the same length before it. "
                          "Windows end at the newest review in the store.")
        if st.button("Refresh data", icon=":material/refresh:", width="stretch"):
            data.clear()
            st.session_state["refreshed_at"] = datetime.now(timezone.utc)
            st.rerun()
        st.toggle(f"Auto-refresh every {LIVE_EVERY} s", key="live")
        refreshed = st.session_state.get("refreshed_at")
        st.caption(f"Store: {data.where()}  \nCached for {data.TTL} s"
                   + (f"; refreshed {refreshed:%H:%M:%S} UTC" if refreshed else ""))


def app_id() -> str | None:
    return st.session_state.get("app_id")


def window() -> tuple[str, int | None, str]:
    """(interval, buckets per window or None, label) from the sidebar."""
    label = st.session_state.get("window", DEFAULT_WINDOW)
    interval, size = WINDOWS.get(label, WINDOWS[DEFAULT_WINDOW])
    return interval, size, label


def live(render: Callable[[], None]) -> None:
    """Run a page body as a fragment that re-renders itself every `LIVE_EVERY` s when auto-refresh is
    on: only the page reruns (no page reload), and the cached queries expire on their TTL."""
    every = LIVE_EVERY if st.session_state.get("live") else None

    @st.fragment(run_every=every)
    def body() -> None:
        now = datetime.now(timezone.utc)
        last = st.session_state.get("live_cleared_at")
        if every and (last is None or (now - last).total_seconds() >= every):
            data.clear()  # a timed re-render reads fresh numbers; widget clicks in between stay cached
            st.session_state["live_cleared_at"] = now
        render()

    body()


def empty_store_notice() -> bool:
    """Say plainly that the store is empty and how to fill it; True when it is."""
    counts = data.counts(data.config_key(), app_id())
    if counts.total:
        return False
    st.info(f"The store ({data.where()}) holds no reviews yet. Run `./run_flow.sh` to process the demo "
            "stream, or point `SIFT_SQLITE_PATH` / `SIFT_ES_URL` at a filled store.")
    return True
