"""Pipeline health: ingested, stored, rejected by reason, untranslated by language, lag, throughput."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import charts, data, ui
from dashboard_app import queries as q


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    st.title("Pipeline health")
    counts = data.counts(key, app)
    ingested = data.input_records(key) if app is None else None
    untranslated = sum(counts.untranslated_by_lang.values())

    c = st.columns(5)
    c[0].metric("Ingested", "–" if ingested is None else f"{ingested:,}",
                help="Records in the input file (file source, all apps). A queue has no total to compare with.",
                border=True)
    missing = None if ingested is None else ingested - counts.total
    c[1].metric("Stored", f"{counts.total:,}",
                None if missing is None else ("all stored" if missing <= 0 else f"{missing:,} not stored yet"),
                delta_color="off" if not missing or missing <= 0 else "inverse", delta_arrow="off", border=True)
    c[2].metric("Enriched", f"{counts.enriched:,}", border=True)
    share = counts.rejected / counts.total if counts.total else 0.0
    c[3].metric("Rejected", f"{counts.rejected:,}", f"{share:.1%} of stored", delta_color="off",
                delta_arrow="off", border=True)
    c[4].metric("Kept untranslated", f"{untranslated:,}",
                f"{untranslated / counts.enriched:.1%} of enriched" if counts.enriched else None,
                delta_color="off", delta_arrow="off", border=True)
    if not counts.total:
        st.info(f"The store ({data.where()}) is empty: nothing has been processed yet. Run `./run_flow.sh`.")
        return

    left, right = st.columns(2)
    with left:
        st.subheader("Rejected by reason")
        if counts.by_reason:
            st.altair_chart(charts.bars(q.counted(counts.by_reason, "reason"), "reason", color="#ff7f0e"),
                            width="stretch")
        else:
            st.caption("Nothing rejected.")
    with right:
        st.subheader("Kept untranslated, by language")
        if counts.untranslated_by_lang:
            st.altair_chart(charts.bars(q.counted(counts.untranslated_by_lang, "language"), "language",
                                        color="#9467bd"), width="stretch")
            st.caption("Kept with their language and clustered apart; set `SIFT_TRANSLATE` to translate them.")
        else:
            st.caption("Every kept review is English or translated.")

    timing = data.timing(key, app)
    lag = q.lag_summary(timing)
    rate = q.run_rate(timing, counts.total)
    st.subheader("Lag and throughput")
    t = st.columns(4)
    t[0].metric("Lag p50", q.format_duration(lag["p50_s"]), help="From receipt to durable storage.", border=True)
    t[1].metric("Lag p95", q.format_duration(lag["p95_s"]), border=True)
    t[2].metric("Records / s", "–" if rate is None else f"{rate:,.1f}",
                help="Stored records over the span of storage times.", border=True)
    newest = lag["newest"]
    t[3].metric("Last stored (UTC)", "–" if newest is None else f"{pd.Timestamp(newest):%H:%M:%S}",
                None if newest is None else f"{pd.Timestamp(newest):%d %b %Y}", delta_color="off", delta_arrow="off",
                border=True)
    per_minute = q.throughput(timing, counts.total, q.bucket_size(timing))
    if not per_minute.empty:
        st.altair_chart(charts.throughput_chart(per_minute), width="stretch")
    st.caption(f"Timing from a sample of {lag['records']:,} records (the newest rejected ones and enriched ones "
               "picked independently of time), scaled to the stored total: the store keeps no timing aggregate.")

    st.subheader("Latest rejected records")
    recent = data.rejected(key, app)[:100]
    if recent:
        frame = pd.DataFrame([{"at": q.naive_utc(r.get("at")), "reason": r.get("reason"), "detail": r.get("detail"),
                               "input": q.shorten(r.get("raw"), 200), "id": r.get("id")} for r in recent])
        st.dataframe(frame, hide_index=True, width="stretch",
                     column_config={"at": st.column_config.DatetimeColumn("Stored at (UTC)", format="YYYY-MM-DD HH:mm:ss"), "reason": "Reason", "detail": "Detail",
                                    "input": st.column_config.TextColumn("Raw input", width="large"), "id": "Id"})


ui.live(render)
