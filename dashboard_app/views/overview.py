"""Overview: volume and sentiment over time per primary label and review type, this window against
the previous one, spikes in red."""

from __future__ import annotations

import streamlit as st

from dashboard_app import charts, data, ui
from dashboard_app import queries as q


def shown(df, window):
    """The part of a series drawn: the previous and the current window (everything for all time)."""
    return q.in_window(df, window.prev_start or window.start, window.end)


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    interval, size, window_name = ui.window()
    st.title("Overview")
    if ui.empty_store_notice():
        return
    rule = q.SpikeRule.for_interval(interval)
    labels = q.flag_spikes(data.series(key, "primary_label", interval, app), rule)
    types = data.series(key, "review_type", interval, app)
    sentiment = data.series(key, "sentiment", interval, app)
    window = q.window_of(labels, size, interval)
    if window is None:
        st.info("No enriched reviews yet: every stored record so far was rejected (see Pipeline health).")
        return
    previous = "the previous window" if window.prev_start is not None else "nothing (all time)"
    st.caption(f"{window_name}: {window.label}, against {previous}. Windows end at the newest review.")

    by_label = q.compare_windows(labels, window)
    by_type = q.compare_windows(types, window).set_index("value")
    by_sent = q.compare_windows(sentiment, window).set_index("value")
    cur, prev = int(by_label["current"].sum()), int(by_label["previous"].sum())
    neg_cur = int(by_sent["current"].get("negative", 0))
    neg_prev = int(by_sent["previous"].get("negative", 0))
    bugs_cur, bugs_prev = int(by_type["current"].get("bug_report", 0)), int(by_type["previous"].get("bug_report", 0))
    spikes_now = q.in_window(labels, window.start, window.end)
    spikes_now = spikes_now[spikes_now["spike"]]

    has_prev = window.prev_start is not None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Reviews", f"{cur:,}", f"{cur - prev:+,} vs previous" if has_prev else None, border=True)
    share = neg_cur / cur if cur else 0.0
    prev_share = neg_prev / prev if prev else 0.0
    c2.metric("Negative", f"{share:.0%}", f"{(share - prev_share) * 100:+.0f} pts" if has_prev and prev else None,
              delta_color="inverse", border=True)
    c3.metric("Bug reports", f"{bugs_cur:,}", f"{bugs_cur - bugs_prev:+,}" if has_prev else None,
              delta_color="inverse", border=True)
    spiking = sorted(set(spikes_now["value"]))
    c4.metric("Spikes in window", f"{len(spikes_now):,}", f"in {len(spiking)} labels" if spiking else "none",
              delta_color="off", delta_arrow="off", border=True)
    if spiking:
        st.text("Spiking in this window: " + ", ".join(spiking))  # label names are data: never Markdown

    st.subheader("Volume per primary label")
    st.altair_chart(charts.small_multiples(shown(labels, window), window, interval, columns=4, width=200),
                    width="content")
    spark_from = window.prev_start or window.start
    table = by_label.rename(columns={"value": "label"})
    table["spike"] = [bool(spikes_now["value"].eq(v).any()) for v in table["label"]]
    table["last buckets"] = [q.sparkline_values(labels, v, spark_from) for v in table["label"]]
    st.dataframe(
        table, hide_index=True, width="stretch",
        column_config={
            "label": "Primary label", "current": st.column_config.NumberColumn("This window", format="%d"),
            "previous": st.column_config.NumberColumn("Previous", format="%d"),
            "change": st.column_config.NumberColumn("Change", format="%+d"), "trend": "Trend",
            "spike": st.column_config.CheckboxColumn("Spike now"),
            "last buckets": st.column_config.LineChartColumn("Since the previous window", y_min=0),
        },
    )

    left, right = st.columns(2)
    with left:
        st.subheader("Review types")
        st.altair_chart(charts.stacked(shown(types, window), interval, charts.TYPE_COLORS), width="stretch")
    with right:
        st.subheader("Sentiment")
        st.altair_chart(charts.stacked(shown(sentiment, window), interval, charts.SENTIMENT_COLORS, normalize=True),
                        width="stretch")
    st.caption("Review types and sentiment are over all labels: the store aggregates one field at a time.")


ui.live(render)
