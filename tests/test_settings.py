from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.settings import DECLARED, PROJECT_ROOT, SETTINGS, ConfigError, Settings, _shown, render_doc


def test_defaults_run_the_embedded_demo():
    s = Settings.from_env({})
    assert s.source == "file" and s.store == "sqlite"
    assert s.input_path == PROJECT_ROOT / "var" / "demo" / "reviews.jsonl"
    assert s.sqlite_path == PROJECT_ROOT / "var" / "sift.db"
    assert s.es.verify_certs is True


def test_values_are_parsed():
    s = Settings.from_env({
        "SIFT_SOURCE": "SQS", "SIFT_SQS_QUEUE_URLS": "http://q/a, http://q/b", "SIFT_STORE": "elasticsearch",
        "SIFT_ES_URL": "http://127.0.0.1:9200", "SIFT_BATCH_SIZE": "32", "SIFT_MIN_WORDS": "2",
        "SIFT_ES_VERIFY_CERTS": "no", "SIFT_INPUT": "/tmp/x.jsonl", "SIFT_LOG_LEVEL": "debug",
    })
    assert s.source == "sqs" and s.sqs.queue_urls == ("http://q/a", "http://q/b")
    assert s.store == "elasticsearch" and s.es.url == "http://127.0.0.1:9200" and not s.es.verify_certs
    assert (s.batch_size, s.min_words, s.input_path, s.log_level) == (32, 2, Path("/tmp/x.jsonl"), "DEBUG")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SIFT_SOURCE": "kafka"}, "SIFT_SOURCE='kafka' is not one of file, sqs"),
        ({"SIFT_BATCH_SIZE": "lots"}, "SIFT_BATCH_SIZE='lots' is not an integer"),
        ({"SIFT_BATCH_SIZE": "0"}, "SIFT_BATCH_SIZE=0 is outside 1..4096"),
        ({"SIFT_LABEL_THRESHOLD": "high"}, "SIFT_LABEL_THRESHOLD='high' is not a number"),
        ({"SIFT_ES_VERIFY_CERTS": "maybe"}, "SIFT_ES_VERIFY_CERTS='maybe' is not a boolean"),
        ({"SIFT_SOURCE": "sqs"}, "SIFT_SOURCE=sqs needs SIFT_SQS_QUEUE_URLS"),
        ({"SIFT_STORE": "elasticsearch"}, "needs SIFT_ES_URL or ELASTIC_CLOUD_ID"),
        ({"ELASTIC_CLOUD_ID": "x:abc"}, "ELASTIC_API_KEY is empty"),
        ({"SIFT_ES_URL": "localhost:9200"}, "must start with http:// or https://"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError) as e:
        Settings.from_env(env)
    assert message in str(e.value)


def test_api_key_is_not_in_repr():
    s = Settings.from_env({"ELASTIC_CLOUD_ID": "dep:abc", "ELASTIC_API_KEY": "s3cret"})
    assert "s3cret" not in repr(s)


def test_feed_trusted_proxies_are_ip_networks():
    s = Settings.from_env({"SIFT_FEED_TRUSTED_PROXIES": "10.1.2.3, 192.168.0.0/16,2001:db8::/32"})
    assert s.feed.trusted_proxies == ("10.1.2.3/32", "192.168.0.0/16", "2001:db8::/32")
    assert Settings.from_env({}).feed.trusted_proxies == ()  # no forwarded header is believed by default
    with pytest.raises(ConfigError, match="SIFT_FEED_TRUSTED_PROXIES: 'proxy.local' is not an IP address"):
        Settings.from_env({"SIFT_FEED_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"})


def test_feed_request_timeout_is_bounded():
    assert Settings.from_env({}).feed.request_timeout == 10.0
    assert Settings.from_env({"SIFT_FEED_REQUEST_TIMEOUT": "2.5"}).feed.request_timeout == 2.5
    with pytest.raises(ConfigError, match="SIFT_FEED_REQUEST_TIMEOUT=0.0 is outside 0.1..600.0"):
        Settings.from_env({"SIFT_FEED_REQUEST_TIMEOUT": "0"})


# --- each setting declared once (core/settings.py SETTINGS) --------------------------------------

def _fields(cls, prefix: str = "") -> set[str]:
    """Every leaf field of a settings dataclass, as `group.name` paths."""
    out = set()
    for f in dataclasses.fields(cls):
        default = getattr(cls, f.name, None) if f.default is dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out |= _fields(type(default), f"{prefix}{f.name}.")
        else:
            out.add(prefix + f.name)
    return out


def test_every_field_is_declared_once_and_every_declaration_fills_a_field():
    declared = [s.attr for s in SETTINGS]
    assert len(declared) == len(set(declared)), "a field is declared twice"
    assert set(declared) == _fields(Settings)
    envs = [s.env for s in SETTINGS]
    assert len(envs) == len(set(envs)), "a variable is declared twice"


def test_dataclass_defaults_are_the_declared_defaults():
    assert Settings() == Settings.from_env({})
    assert Settings().tickets.alpha_hour == DECLARED["tickets.alpha_hour"].default == 1e-6


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.type in ("int", "float")], ids=lambda s: s.env)
def test_numbers_outside_their_declared_bounds_are_refused(setting):
    too_big = setting.hi + (1 if setting.type == "int" else 0.5)
    with pytest.raises(ConfigError, match=f"{setting.env}=.* is outside"):
        Settings.from_env({setting.env: str(too_big)})


def _doc_rows(text: str) -> dict[str, str]:
    """variable -> default cell of the settings table in docs/configuration.md."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 4:
            rows[cells[0].strip("`")] = cells[1]
    return rows


def test_the_configuration_page_and_the_declarations_agree_both_ways():
    page = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = _doc_rows(page)
    declared = {s.env: s for s in SETTINGS}
    assert set(rows) - set(declared) == set(), "the page documents variables the code does not read"
    assert set(declared) - set(rows) == set(), "the code reads variables the page does not document"
    for env, cell in rows.items():
        assert cell == _shown(declared[env].default), env
    assert page == render_doc(), "docs/configuration.md is out of date: python -m core.settings --doc docs/configuration.md"
