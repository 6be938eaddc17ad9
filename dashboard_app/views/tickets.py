"""Tickets: every ticket with severity, priority and why, versions and counts, and the exact JSON the snap-in receives."""

from __future__ import annotations

import json

import streamlit as st

from dashboard_app import charts, data, ui
from dashboard_app import queries as q


def detail(ticket: dict) -> None:
    """One ticket: its numbers, body, representative reviews and the JSON the feed serves. Its strings
    (title, id, status, versions, tags, trend) are data: `st.text`, never Markdown."""
    st.subheader("Ticket", anchor=False)
    st.text(str(ticket.get("title") or ticket["id"]))
    st.text(f"{ticket['id']} · version {ticket.get('version', '–')} · status {ticket.get('status', '–')} · "
            f"updated {ticket.get('updated_at', '–')}")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Severity", q.known(ticket.get("severity"), q.SEVERITY_ORDER) or "–")
    ratio = ticket.get("trend_ratio")
    c2.metric("Reviews in window", f"{ticket.get('count', 0):,}",
              f"×{float(ratio):.1f}" if isinstance(ratio, (int, float)) else None, delta_color="off", delta_arrow="off")
    c3.metric("Reviews in total", f"{ticket.get('total_count', 0):,}")
    priority = ticket.get("priority")
    c4.metric("Priority", "–" if priority is None else f"{float(priority):.2f}")
    st.text(f"Why: {ticket.get('priority_reason') or '–'}")  # the one line behind severity and priority
    versions = ", ".join(map(str, ticket.get("app_versions") or [])) or "–"
    st.text(f"App versions: {versions}\n"
            f"Window: {ticket.get('window_start', '–')} → {ticket.get('window_end', '–')}\n"
            f"First / last seen: {ticket.get('first_seen', '–')} / {ticket.get('last_seen', '–')}\n"
            f"Tags: {', '.join(map(str, ticket.get('tags') or [])) or '–'}\n"
            f"Trend: {ticket.get('trend') or '–'}")
    body, reviews, payload = st.tabs(["Body", "Representative reviews", "JSON for the snap-in"])
    with body:
        # The exact Markdown DevRev receives, shown as source: it quotes review text, which must never become
        # rendered HTML or a clickable link here.
        st.code(str(ticket.get("body") or "(no body)"), language="markdown", wrap_lines=True)
    with reviews:
        reps = ticket.get("representatives") or []
        if not reps:
            st.caption("This ticket lists no representative reviews.")
        for r in reps:
            with st.container(border=True):
                st.text(q.shorten(r.get("text_en") or r.get("text"), q.REVIEW_CHARS))  # plain text, never Markdown
                if r.get("text") and r.get("text") != r.get("text_en"):
                    st.text("original: " + q.shorten(r["text"], 200))
                st.text(" · ".join(str(x) for x in (r.get("review_id"), r.get("lang")) if x))
    with payload:
        st.caption("`GET /v1/tickets/{id}` on the feed returns this document exactly as stored; "
                   "`devrev` is the body for DevRev `works.create`.")
        st.code(json.dumps(ticket, indent=2, ensure_ascii=False), language="json")


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    st.title("Tickets")
    tickets = data.documents(key, "tickets", app)
    if not tickets:
        st.info("No tickets yet. The flow raises a ticket when a cluster passes the app's volume and priority "
                "thresholds within a window, and updates it in later windows; they will be listed here.")
        return
    sev = q.severity_counts(tickets)
    cols = st.columns(len(sev) + 1)
    cols[0].metric("Tickets", f"{len(tickets):,}", border=True)
    for col, (name, n) in zip(cols[1:], sev.items(), strict=True):
        col.metric(name.capitalize(), f"{n:,}", border=True)
    f1, f2 = st.columns(2)
    severities = f1.multiselect("Severity", list(sev), key="ticket_severity", placeholder="any")
    statuses = sorted({str(t.get("status")) for t in tickets if t.get("status")})
    status = f2.multiselect("Status", statuses, key="ticket_status", placeholder="any")
    shown = [t for t in tickets if (not severities or str(t.get("severity") or "unknown") in severities)
             and (not status or str(t.get("status")) in status)]
    table = q.tickets_frame(shown)
    left, right = st.columns([3, 1])
    with left:
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={
                "severity": "Severity", "peak_severity": "Peak", "title": st.column_config.TextColumn("Title", width="large"),
                "primary_label": "Label", "count": st.column_config.NumberColumn("In window", format="%d"),
                "total_count": st.column_config.NumberColumn("Total", format="%d"), "trend": "Trend",
                "versions": "App versions", "status": "Status", "version": st.column_config.NumberColumn("v", format="%d"),
                "priority": st.column_config.NumberColumn("Priority", format="%.2f"),
                "why": st.column_config.TextColumn("Why", width="large"),
                "first_seen": "First seen", "last_seen": "Last seen", "updated_at": "Updated", "id": "Ticket id",
            },
        )
    with right:
        st.altair_chart(charts.bars(q.counted(sev, "severity"), "severity", colors=charts.SEVERITY_COLORS,
                                    title="By severity"), width="stretch")
    if table.empty:
        st.caption("No ticket matches these filters.")
        return
    ids = table["id"].tolist()
    wanted = st.query_params.get("ticket")
    by_id = {t["id"]: t for t in tickets}
    choice = st.selectbox("Ticket", ids, index=ids.index(wanted) if wanted in ids else 0, key="ticket_pick",
                          format_func=lambda i: f"[{by_id[i].get('severity') or '–'}] {by_id[i].get('title') or i}")
    detail(by_id[choice])


ui.live(render)
