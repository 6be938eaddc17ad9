"""Competitors, from what the flow stores: the watch list it applied, gaps against wins per competitor over
time, the feature requests (gaps only) and the parity map of requested features to the app's own labels."""

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
    mentions = q.mentions_frame(data.documents(key, "competitor_mentions", app))
    balance = q.competitor_balance(mentions)
    orgs = q.watched_orgs(data.documents(key, "watch_state", app), data.documents(key, "watchlist", app), competitors,
                          requests, balance)

    st.subheader("Watched organisations")
    if not (orgs["status"] == "watching").any():
        st.info("No organisation is watched yet. The other_features snap-in adds them with a watch-list command "
                "(`POST /v1/watchlist` on the feed, e.g. `add #GooglePay #PhonePe`).")
    if not orgs.empty:
        st.dataframe(orgs, hide_index=True, width="stretch",
                     column_config={"org": "Organisation", "status": "Status", "hashtags": "Hashtags",
                                    "aliases": "Aliases", "since": "Since",
                                    "requests": st.column_config.NumberColumn("Feature requests", format="%d"),
                                    "gaps": st.column_config.NumberColumn("Gaps", format="%d"),
                                    "wins": st.column_config.NumberColumn("Wins", format="%d")})

    if not balance.empty:
        st.subheader("Gaps against wins")
        st.caption("A gap: the competitor has or does something better, or a user leaves for it (these are the "
                   "feature requests). A win: the app is ahead, or a user arrives from the competitor.")
        c1, c2 = st.columns(2)
        c1.metric("Gaps", f"{int(balance['gaps'].sum()):,}", border=True)
        c2.metric("Wins", f"{int(balance['wins'].sum()):,}", border=True)
        over_time = q.balance_over_time(mentions)
        if not over_time.empty:
            st.altair_chart(charts.balance(over_time), width="stretch")
        st.dataframe(balance, hide_index=True, width="stretch",
                     column_config={"org": "Organisation", "gaps": "Gaps", "wins": "Wins", "neutral": "Neutral",
                                    "competitor_ahead": "Ahead of us", "switching_away": "Users leaving",
                                    "own_ahead": "We are ahead", "switching_to": "Users arriving"})

    if requests.empty:
        st.info("No competitor feature requests yet. When a review says a watched organisation has something the "
                "app lacks (“Google Pay has…, please add”) or a user leaves for it, the flow stores a feature "
                "request and it shows here.")
        return
    c1, c2, c3 = st.columns(3)
    c1.metric("Feature requests", f"{len(requests):,}", border=True)
    c2.metric("Organisations", f"{requests['org'].nunique():,}", border=True)
    c3.metric("Distinct features", f"{requests.loc[requests['group'] != '', 'group'].nunique():,}", border=True)

    st.subheader("Feature requests per organisation over time")
    st.altair_chart(charts.stacked(q.requests_over_time(requests, interval), interval), width="stretch")

    st.subheader("Most requested features")
    st.caption("Each competitor feature with the app's own label it maps to (the parity map). Requests that name "
               "no concrete feature are counted above, never here.")
    top = q.top_features(requests)
    left, right = st.columns([2, 3])
    with left:
        chart_data = top.assign(what=top["label"] + ": " + top["org"] + "'s " + top["feature"])
        st.altair_chart(charts.bars(chart_data, "what", "requests"), width="stretch")
    with right:
        st.dataframe(top, hide_index=True, width="stretch",
                     column_config={"label": "Our label", "org": "Organisation", "feature": "Feature",
                                    "requests": st.column_config.NumberColumn("Requests", format="%d"),
                                    "example": st.column_config.TextColumn("Example review", width="large")})

    st.subheader("Latest requests")
    latest = requests.sort_values("created", ascending=False).head(100)
    st.dataframe(latest[["created", "org", "direction", "label", "feature", "text", "text_en", "lang", "source",
                         "status"]],
                 hide_index=True, width="stretch",
                 column_config={"created": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
                                "org": "Organisation", "direction": "Direction", "label": "Our label",
                                "feature": "Feature", "text": "Review", "text_en": "English", "lang": "Lang",
                                "source": "Source", "status": "Status"})


ui.live(render)
