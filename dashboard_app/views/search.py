"""Search: semantic (kNN on the review embeddings) or keyword (full text), filtered by app, label,
review type, language, rating and date."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from dashboard_app import data, ui
from dashboard_app import queries as q

MODES = {"Semantic": "meaning, in any wording (kNN on embeddings)", "Keyword": "these words (full-text search)"}
SHOWN = 50
EXAMPLE = "money debited but payment failed"


def render() -> None:
    key, app = data.config_key(), ui.app_id()
    st.title("Search")
    if ui.empty_store_notice():
        return
    days = data.series(key, "primary_label", "day", app)
    langs = data.series(key, "lang", "day", app)
    labels = sorted(set(days["value"]))
    text = st.text_input("Search reviews", key="search_text", placeholder=f"e.g. {EXAMPLE}")
    mode = st.radio("Match", list(MODES), horizontal=True, key="search_mode", format_func=lambda m: f"{m}: {MODES[m]}")
    with st.expander("Filters", expanded=True):
        f1, f2, f3, f4 = st.columns(4)
        pick_labels = f1.multiselect("Primary label", labels, key="search_labels", placeholder="any")
        pick_types = f2.multiselect("Review type", q.REVIEW_TYPES, key="search_types", placeholder="any")
        pick_langs = f3.multiselect("Language", sorted(set(langs["value"])), key="search_langs", placeholder="any")
        pick_ratings = f4.multiselect("Rating", [1, 2, 3, 4, 5], key="search_ratings", placeholder="any",
                                      format_func=lambda r: f"{r}★")
        first, last = days["bucket"].min().date(), days["bucket"].max().date()
        dates = st.date_input("Created between (UTC)", value=(first, last), min_value=first, max_value=last,
                              key="search_dates")
    since = until = None
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        since = datetime.combine(dates[0], time.min, tzinfo=timezone.utc)
        until = datetime.combine(dates[1], time.min, tzinfo=timezone.utc) + timedelta(days=1)
    filters = q.SearchFilters(labels=tuple(pick_labels), types=tuple(pick_types), langs=tuple(pick_langs),
                              ratings=tuple(pick_ratings), since=since, until=until)
    if not text.strip():
        st.info(f"Type what users might say, for example “{EXAMPLE}”. Semantic search finds the same "
                "meaning in other words; keyword search finds these words (original or translated text).")
        return
    if mode == "Semantic":
        pool = data.semantic_search(key, text.strip(), app)
    else:
        pool = data.keyword_search(key, text.strip(), app)
    hits = q.filter_hits(pool, filters, limit=SHOWN)
    st.caption(f"{len(hits)} of the {len(pool)} best {mode.lower()} matches pass the filters "
               f"(filters apply to the {data.SEARCH_POOL} best matches).")
    if not hits:
        st.warning("No review matches. Loosen the filters or try other words.")
        return
    for d in hits[:5]:
        meta = " · ".join(str(x) for x in (f"score {float(d.get('score') or 0):.2f}", d.get("primary_label"),
                                           d.get("review_type"), d.get("sentiment"), d.get("lang"),
                                           f"{d['rating']}★" if d.get("rating") else None,
                                           (d.get("created_at") or "")[:10]) if x)
        with st.container(border=True):
            st.text(q.shorten(d.get("text_en") or d.get("text"), q.REVIEW_CHARS))  # plain text, never Markdown
            st.text(meta)  # labels and languages are data too
    st.dataframe(
        q.hits_frame(hits), hide_index=True, width="stretch",
        column_config={
            "score": st.column_config.NumberColumn("Score", format="%.3f"),
            "created_at": st.column_config.DatetimeColumn("Created (UTC)", format="YYYY-MM-DD HH:mm"),
            "primary_label": "Label", "review_type": "Type", "sentiment": "Sentiment",
            "rating": st.column_config.NumberColumn("★", format="%d"), "lang": "Lang", "app_version": "Version",
            "text": st.column_config.TextColumn("Text", width="large"), "text_en": "English (if translated)",
            "cluster_name": "Cluster", "id": "Review id",
        },
    )


ui.live(render)
