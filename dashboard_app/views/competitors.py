"""Competitors: watched orgs, feature requests per org over time, and the most requested features."""

from __future__ import annotations

import streamlit as st

from dashboard_app import charts, data, ui
from dashboard_app import queries as q


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    interval = "day"
    st.title("Competitors")
    apps = data.apps(key)
    competitors = [c for a in apps.values() if app is None or a.app_id == app for c in a.competitors]
    requests = q.requests_frame(data.documents(key, "feature_requests", app))
    orgs = q.watched_orgs(data.documents(key, "watchlist", app), competitors, requests)

    st.subheader("Watched organisations")
    if not (orgs["status"] == "watching").any():
        st.info("No organisation is watched yet. The other_features snap-in adds them with a watch-list command "
                "(`POST /v1/watchlist` on the feed, e.g. `add #GooglePay #PhonePe`).")
    if not orgs.empty:
        st.dataframe(orgs, hide_index=True, width="stretch",
                     column_config={"org": "Organisation", "status": "Status", "hashtags": "Hashtags",
                                    "aliases": "Aliases", "since": "Since",
                                    "requests": st.column_config.NumberColumn("Feature requests", format="%d")})
    if requests.empty:
        st.info("No competitor feature requests yet. When a review asks for something a watched organisation "
                "has (“Google Pay has…, please add”), the flow stores it as a feature request and it shows here.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Feature requests", f"{len(requests):,}", border=True)
    c2.metric("Organisations", f"{requests['org'].nunique():,}", border=True)
    c3.metric("Distinct features", f"{requests['feature_key'].nunique():,}", border=True)

    st.subheader("Feature requests per organisation over time")
    over_time = q.requests_over_time(requests, interval)
    st.altair_chart(charts.stacked(over_time, interval), width="stretch")

    st.subheader("Most requested features")
    top = q.top_features(requests)
    left, right = st.columns([2, 3])
    with left:
        chart_data = top.assign(what=top["org"] + ": " + top["feature"])
        st.altair_chart(charts.bars(chart_data, "what", "requests"), width="stretch")
    with right:
        st.dataframe(top, hide_index=True, width="stretch",
                     column_config={"org": "Organisation", "feature": "Feature",
                                    "requests": st.column_config.NumberColumn("Requests", format="%d"),
                                    "example": st.column_config.TextColumn("Example review", width="large")})

    st.subheader("Latest requests")
    latest = requests.sort_values("created", ascending=False).head(100)
    st.dataframe(latest[["created", "org", "kind", "feature", "text", "text_en", "lang", "source", "status"]],
                 hide_index=True, width="stretch",
                 column_config={"created": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
                                "org": "Organisation", "kind": "Kind", "feature": "Feature", "text": "Review",
                                "text_en": "English", "lang": "Lang", "source": "Source", "status": "Status"})


ui.live(render)
