"""Issues: clusters per label ranked by priority, with names, keywords, trend sparkline, representative
reviews, app versions and the ticket when one exists."""

from __future__ import annotations

import streamlit as st

from dashboard_app import charts, data, ui
from dashboard_app import queries as q

CARDS = 10


def card(row, key: str) -> None:
    """One issue: numbers, a sparkline with spikes, versions, representative reviews, ticket link. Its
    label, name, keywords and versions are data: `st.text`, never Markdown."""
    with st.container(border=True):
        st.text(f"#{row['rank']} · {row['label']} · {row['name']}")
        st.text("Keywords: " + str(row["keywords"]))
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("In window", f"{row['current']:,}", row["trend"], delta_color="off", delta_arrow="off",
                  chart_data=row["sparkline"] or None, chart_type="area")
        m2.metric("All time", f"{row['total']:,}")
        m3.metric("Avg rating", "–" if row["avg_rating"] is None else f"{row['avg_rating']:.1f}★")
        m4.metric("Priority", "–" if row["priority"] is None else f"{row['priority']:.2f}")
        if row["versions"]:
            st.text(f"App versions: {row['versions']}")
        cid = row["cluster_id"]
        prof = data.cluster_profile(key, ui.app_id(), cid) or {}
        rep = data.review(key, row["representative"]) if row["representative"] else None
        reviews = ([rep] if rep else []) + [r for r in prof.get("reviews", []) if not rep or r["id"] != rep["id"]]
        for i, r in enumerate(reviews[:3]):
            tag = "representative" if i == 0 and rep else "high priority"
            meta = " · ".join(str(x) for x in (tag, r.get("lang"), r.get("app_version"),
                                               f"{r['rating']}★" if r.get("rating") else None) if x)
            with st.container(border=True):
                st.text(q.shorten(r.get("text_en") or r.get("text"), q.REVIEW_CHARS))  # plain text, never Markdown
                if r.get("text_en") and r.get("text") and r["text_en"] != r["text"]:
                    st.text("original: " + q.shorten(r["text"], 200))
                st.text(meta)
        ticket_id = row["ticket_id"] if isinstance(row["ticket_id"], str) else ""  # pandas makes a missing one NaN
        if ticket_id:  # a page link's label is Markdown: only an id and a severity that cannot be any
            ticket = q.plain_token(ticket_id)
            severity = q.known(row["ticket_severity"], q.SEVERITY_ORDER) or "no severity"
            st.page_link("views/tickets.py", label=f"Ticket {ticket} ({severity})" if ticket else f"Ticket ({severity})",
                         icon=":material/confirmation_number:", query_params={"ticket": ticket_id})
        else:
            st.caption("No ticket for this cluster yet.")


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    interval, size, window_name = ui.window()
    st.title("Issues")
    if ui.empty_store_notice():
        return
    clusters = data.clusters(key, app)
    if not clusters:
        st.info("No clusters yet: no enriched review has a cluster.")
        return
    series = data.spiky_series(key, "cluster_id", interval, app)
    window = q.window_of(series, size, interval)
    labels = sorted({c["primary_label"] for c in clusters})
    f1, f2 = st.columns([3, 1])
    chosen = f1.multiselect("Primary labels", labels, placeholder="All labels", key="issue_labels")
    rank_by = f2.selectbox("Rank by", list(q.RANKINGS), key="issue_rank")
    table = data.issues(key, app, interval, size, tuple(sorted(chosen)), rank_by)
    st.caption(
        f"{window_name} ({window.label if window else '–'}). {len(table):,} clusters. A cluster's priority is its "
        f"ticket's when it has one, else the mean priority of its reviews that a search for its keywords finds "
        f"(the {data.SAMPLED_CLUSTERS} busiest clusters); score = priority × log2(1 + reviews in window)."
    )
    st.dataframe(
        table.drop(columns=["cluster_id", "representative", "growth", "ticket_severity"]),
        hide_index=True, width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn("#", width="small"), "label": "Label", "name": "Cluster",
            "keywords": "Keywords", "current": st.column_config.NumberColumn("In window", format="%d"),
            "previous": st.column_config.NumberColumn("Previous", format="%d"), "trend": "Trend",
            "total": st.column_config.NumberColumn("All time", format="%d"),
            "avg_rating": st.column_config.NumberColumn("Avg ★", format="%.1f"),
            "priority": st.column_config.ProgressColumn("Priority", min_value=0.0, max_value=1.0, format="%.2f"),
            "score": st.column_config.NumberColumn("Score", format="%.2f"), "versions": "App versions",
            "sampled": st.column_config.NumberColumn("Sampled", format="%d"),
            "sparkline": st.column_config.LineChartColumn("Trend since previous window", y_min=0),
            "last_seen": "Last seen", "ticket_id": "Ticket",
        },
    )
    top = table.head(CARDS)
    st.subheader(f"Top {len(top)} issues")
    names = {cid: f"#{rank} {name}" for cid, rank, name in zip(top["cluster_id"], top["rank"], top["name"], strict=True)}
    trend = series[series["value"].isin(list(names))].assign(value=lambda d: d["value"].map(names))
    shown = q.in_window(trend, window.prev_start or window.start, window.end) if window else trend
    st.altair_chart(charts.small_multiples(shown, window, interval, columns=5, width=140,
                                           order=list(names.values())), width="content")
    for _, row in top.iterrows():
        card(row, key)


ui.live(render)
