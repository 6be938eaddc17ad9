"""The core: typed records, settings, denoise and language rules, app metadata and watch-list commands, logs.

Every other package imports it; it imports none of them (`pyproject.toml`'s import-linter contracts).
"""
