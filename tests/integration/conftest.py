"""Fixtures for tests against the real ElasticMQ and Elasticsearch (started by scripts/services.sh)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from connectors.elasticsearch_store import ElasticsearchStore
from core.settings import ElasticsearchSettings

AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def sqs(sqs_endpoint):
    return boto3.client("sqs", endpoint_url=sqs_endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture
def queue_url(sqs):
    url = sqs.create_queue(QueueName=f"sift-test-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


@pytest.fixture
def es_store(es_url):
    store = ElasticsearchStore(ElasticsearchSettings(url=es_url, index_prefix=f"it-{uuid.uuid4().hex[:8]}"))
    yield store
    store.client.indices.delete(index=f"{store.cfg.index_prefix}-*", ignore_unavailable=True)
    store.close()


def send_all(sqs, url: str, lines: list[str]) -> None:
    for start in range(0, len(lines), 10):
        chunk = lines[start : start + 10]
        resp = sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        )
        assert not resp.get("Failed"), resp["Failed"]


def queue_depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])




def flow_env(queue_url: str, es_url: str, sqs_endpoint: str, prefix: str, **extra: str) -> dict[str, str]:
    """Environment for the flow reading `queue_url` and writing Elasticsearch indices `prefix-*`."""
    return {
        "SIFT_SOURCE": "sqs", "SIFT_SQS_QUEUE_URLS": queue_url, "SIFT_SQS_STOP_AFTER_IDLE": "4",
        "SIFT_SQS_VISIBILITY_TIMEOUT": "300", "SIFT_STORE": "elasticsearch", "SIFT_ES_URL": es_url,
        "SIFT_ES_INDEX_PREFIX": prefix, "AWS_ENDPOINT_URL_SQS": sqs_endpoint, **AWS_ENV, **extra,
    }
