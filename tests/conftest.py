"""Shared fixtures: the real embedding model (loaded once) and the real test services."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from core.appmeta import AppMetadata, load_apps
from flows.operators.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ES_URL = os.environ.get("SIFT_TEST_ES_URL", "http://127.0.0.1:9200")
SQS_URL = os.environ.get("SIFT_TEST_SQS_URL", "http://127.0.0.1:9324")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(threads=2)


@pytest.fixture(scope="session")
def apps() -> dict[str, AppMetadata]:
    return load_apps(ROOT / "demo" / "apps")


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as e:
        return hasattr(e, "code")  # an HTTP error status still means the server answers


def _require(name: str, url: str) -> str:
    if _reachable(url):
        return url
    message = f"{name} is not reachable at {url}; start it with scripts/services.sh start"
    if os.environ.get("SIFT_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def es_url() -> str:
    return _require("Elasticsearch", ES_URL)


@pytest.fixture(scope="session")
def sqs_endpoint() -> str:
    _require("ElasticMQ", SQS_URL + "/?Action=ListQueues")
    return SQS_URL


