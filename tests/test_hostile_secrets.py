"""Secrets and review text stay out of what gets printed or logged (issue 9, security).

Credentials come from the environment or from `NAME_FILE`; a settings object's repr/str (which ends
up in tracebacks and debug output) must never show them, and the store "target" that the flow logs
at INFO must not carry the user:password of a URL. The pure steps log no review text at INFO or above.
"""

from __future__ import annotations

import logging

import pytest

from flows.operators.dedup import DedupConfig, dedup_step
from flows.operators.denoise import denoise
from core.rules import DenoiseRules
from flows.operators.parse import parse_message
from flows.operators.translate import TranslateBatch
from core.records import NoTranslator
from core.records import Rejected
from core.settings import ConfigError, ElasticsearchSettings, Settings
from tests.helpers import raw

SECRETS = {
    "ELASTIC_API_KEY": "k-5ecret-api-key-VnVXa2lIT0JoT",
    "SIFT_ES_PASSWORD": "p-5ecret-password-hunter2",
    "SIFT_FEED_TOKEN": "t-5ecret-feed-token-0123456789abcdef",
}
URL_WITH_CREDENTIALS = "https://elastic:u-5ecret-in-url@es.example:9200"


def _printed(settings: Settings) -> list[str]:
    return [repr(settings), str(settings), f"{settings}", repr(settings.es), str(settings.es), repr(settings.feed),
            str(settings.feed), settings.es.target]


@pytest.mark.parametrize("via_file", [False, True], ids=["env", "file"])
def test_settings_repr_and_str_never_show_a_secret(tmp_path, via_file: bool) -> None:
    env = {"SIFT_ES_URL": "https://es.example:9200", "SIFT_ES_USERNAME": "elastic", "SIFT_STORE": "elasticsearch"}
    for name, value in SECRETS.items():
        if via_file:
            path = tmp_path / name.lower()
            path.write_text(value + "\n", encoding="utf-8")
            env[f"{name}_FILE"] = str(path)
        else:
            env[name] = value
    settings = Settings.from_env(env)
    assert (settings.es.api_key, settings.es.password, settings.feed.token) == tuple(SECRETS.values())
    for text in _printed(settings):
        for name, value in SECRETS.items():
            assert value not in text, f"{name} shows in {text[:80]!r}…"


def test_cloud_target_names_the_deployment_not_the_key() -> None:
    settings = Settings.from_env({"ELASTIC_CLOUD_ID": "sift-prod:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyRhYmMkZGVm",
                                  "ELASTIC_API_KEY": SECRETS["ELASTIC_API_KEY"], "SIFT_STORE": "elasticsearch"})
    assert settings.es.target == "cloud:sift-prod"
    assert all(SECRETS["ELASTIC_API_KEY"] not in text for text in _printed(settings))


def test_es_target_strips_user_and_password_from_the_url() -> None:
    target = ElasticsearchSettings(url=URL_WITH_CREDENTIALS).target
    assert "u-5ecret-in-url" not in target and "elastic:" not in target
    assert target == "https://es.example:9200"


def test_settings_repr_hides_a_password_inside_the_es_url() -> None:
    settings = Settings.from_env({"SIFT_ES_URL": URL_WITH_CREDENTIALS, "SIFT_STORE": "elasticsearch"})
    assert all("u-5ecret-in-url" not in text for text in _printed(settings))


def test_config_error_for_a_bad_es_url_does_not_quote_its_password() -> None:
    with pytest.raises(ConfigError) as e:
        Settings.from_env({"SIFT_ES_URL": "es://elastic:u-5ecret-in-url@es.example:9200"})
    assert "u-5ecret-in-url" not in str(e.value)


def test_pure_steps_log_no_review_text_at_info(caplog) -> None:
    marker = "zq7 private payment failed review text"
    payloads = [
        {"id": "kept", "app_id": "paynest", "text": f"UPI {marker} and money got debited from my account"},
        {"id": "short", "app_id": "paynest", "text": "zq7"},
        {"id": "bad", "app_id": "paynest", "text": marker, "rating": "five"},
        f'{{"app_id": "paynest", "text": "{marker}", "rating": NaN}}',
        {"id": "c1", "app_id": "paynest", "text": f"\x85\x90 {marker} \uffff"},
    ]
    caplog.set_level(logging.DEBUG)
    kept = []
    for i, payload in enumerate(payloads):
        parsed = parse_message(raw(payload, n=i), frozenset({"paynest"}))
        if isinstance(parsed, Rejected):
            continue
        out = denoise(parsed, DenoiseRules())
        if not isinstance(out, Rejected):
            _, out = dedup_step(None, out, DedupConfig())
            kept.append(out)
    TranslateBatch(NoTranslator())([k for k in kept if not isinstance(k, Rejected)])
    loud = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert not [m for m in loud if "zq7" in m]
