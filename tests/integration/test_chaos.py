"""The flow killed with SIGKILL mid-stream, against the real ElasticMQ and Elasticsearch, with Bytewax recovery on.

The other failure tests live with the delivery tests they extend (tests/integration/test_delivery.py), also with
recovery on: Elasticsearch stopped for 30 s mid-run (nothing acknowledged while it is down, the backlog drains,
nothing lost) and a poison message (dead-letter queue after the configured receives, a `poison_message` record,
the flow keeps going).
"""

from __future__ import annotations

import os

import pytest

from bench.chaos import run_chaos

pytestmark = pytest.mark.integration


N = int(os.environ.get("SIFT_CHAOS_MESSAGES", "5000"))  # ~100 reviews/s on an idle 2-core machine


def test_three_kill_9s_while_consuming_5000_messages_lose_and_duplicate_nothing(es_url, sqs_endpoint, tmp_path):
    r = run_chaos(N, kills=3, seed=11, es_url=es_url, sqs_endpoint=sqs_endpoint, workdir=tmp_path,
                  snapshot=5, timeout=1800, say=print)
    print(r)
    assert r.kills == 3 and r.restarts >= 3
    assert r.enriched + r.rejected == r.stored == r.sent == N
    assert r.duplicates == 0 and r.lost == 0 and r.queue_left == 0
    # every valid review enriched: a redelivered message never came back as a `duplicate` of itself
    assert r.wrong_kind == 0 and r.rejected == N // 100 and "duplicate" not in r.rejected_by_reason
    # ticket documents are upserted by their stable id: one per ticket, and a stored version never went back
    assert r.tickets > 0 and r.ticket_version_regressions == 0
