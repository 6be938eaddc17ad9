"""The flow killed with SIGKILL mid-stream, against the real ElasticMQ and Elasticsearch, with Bytewax recovery on,
started before its indices are ready and hit by a 429 storm, on input that reuses review ids across two apps.

The other failure tests live with the delivery tests they extend (tests/integration/test_delivery.py), also with
recovery on: Elasticsearch stopped for 30 s mid-run (nothing acknowledged while it is down, the backlog drains,
nothing lost) and a poison message (dead-letter queue after the configured receives, a `poison_message` record,
the flow keeps going).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest

from bench.chaos import APPS, run_chaos

pytestmark = pytest.mark.integration


N = int(os.environ.get("SIFT_CHAOS_MESSAGES", "5000"))  # ~100 reviews/s on an idle 2-core machine


def ids_are_app_namespaced() -> bool:
    """Whether the same review id from two apps becomes two record ids (else one app's review writes over the other's)."""
    from flows.operators.parse import parse_message
    from core.records import RawMessage

    def record_id(app: str) -> str:
        body = json.dumps({"id": "same-1", "app_id": app, "text": "refund stuck for a week now"})
        return parse_message(RawMessage(payload=body, origin="t", received_at=datetime.now(timezone.utc)), APPS).id

    return record_id(APPS[0]) != record_id(APPS[1])


def test_three_kill_9s_an_unready_start_and_a_429_storm_lose_and_duplicate_nothing(es_url, sqs_endpoint, tmp_path):
    r = run_chaos(N, kills=3, seed=11, es_url=es_url, sqs_endpoint=sqs_endpoint, workdir=tmp_path,
                  snapshot=5, timeout=1800, say=print)
    print(r)
    assert r.kills == 3 and r.restarts >= 3
    # both Elasticsearch faults reached the flow: it waited for its indices, and its writes were refused with 429
    assert r.unready_waits > 0 and r.storm_at > 0 and r.storm_refusals > 0
    # Before ids are app-namespaced, one review of each reused id is written over by the other app's: the count
    # sees exactly those; after, none.
    overwritten = 0 if ids_are_app_namespaced() else r.reused_ids
    assert r.reused_ids > 0 and r.overwritten == overwritten
    assert r.enriched + r.rejected == r.stored == r.sent - overwritten
    assert r.duplicates == 0 and r.lost == 0 and r.queue_left == 0
    # every valid review enriched: a redelivered message never came back as a `duplicate` of itself
    assert r.wrong_kind == 0 and r.rejected == N // 100 and "duplicate" not in r.rejected_by_reason
    # ticket documents are upserted by their stable id: one per ticket, and a stored version never went back
    assert r.tickets > 0 and r.ticket_version_regressions == 0
