"""bench.replay --real: a shared stream through ElasticMQ into the flow and out to Elasticsearch."""

from __future__ import annotations

import json

import pytest
from elasticsearch import Elasticsearch

from bench.replay import main
from tests.integration.conftest import AWS_ENV
from tests.test_replay import STREAMS

pytestmark = pytest.mark.integration


@pytest.mark.skipif(not STREAMS.is_dir(), reason=f"the shared streams are not at {STREAMS} (../shared/data beside the "
                                                   "checkout); they are never copied into the project")
def test_real_replay_stores_every_row_and_cleans_up(es_url, sqs_endpoint, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SIFT_ES_URL", es_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_endpoint)
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    data = STREAMS / "dana_ewallet_id.csv"
    assert main(["--data", str(data), "--limit", "200", "--real", "--no-shuffle", "--work", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["store"] == "elasticsearch"
    assert result["rows"] == result["stored"] == 200
    assert result["false_alarms"] is None
    client = Elasticsearch(es_url)
    assert not client.indices.get(index="replay-*", ignore_unavailable=True, allow_no_indices=True)
