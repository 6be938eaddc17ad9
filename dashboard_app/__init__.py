"""Streamlit dashboard over the review store (pages arrive with issue 8)."""
