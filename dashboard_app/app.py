"""Sift dashboard: `streamlit run dashboard_app/app.py`.

Reads the configured store (SQLite by default, Elasticsearch when `SIFT_STORE=elasticsearch`) through
the same settings as the flow. Each page is a module in `dashboard_app/views/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only this folder on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard_app import ui  # noqa: E402

VIEWS = Path(__file__).resolve().parent / "views"
PAGES = [
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/monitoring:", default=True),
    st.Page(VIEWS / "issues.py", title="Issues", icon=":material/bug_report:", url_path="issues"),
    st.Page(VIEWS / "search.py", title="Search", icon=":material/search:", url_path="search"),
    st.Page(VIEWS / "tickets.py", title="Tickets", icon=":material/confirmation_number:", url_path="tickets"),
    st.Page(VIEWS / "competitors.py", title="Competitors", icon=":material/storefront:", url_path="competitors"),
    st.Page(VIEWS / "health.py", title="Pipeline health", icon=":material/health_and_safety:", url_path="health"),
]

st.set_page_config(page_title="Sift", page_icon=":material/insights:", layout="wide")
page = st.navigation(PAGES)
ui.sidebar()
page.run()
