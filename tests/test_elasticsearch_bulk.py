"""The Elasticsearch store's bulk-result pairing, without a server (the server tests are in
tests/integration/test_elasticsearch_faults.py)."""

from __future__ import annotations

import pytest

from connectors.elasticsearch_store import _failures
from connectors.store import StoreError


def test_a_bulk_result_that_names_another_action_is_never_taken_as_written():
    actions = [{"_op_type": "index", "_index": "r", "_id": "a"}, {"_op_type": "delete", "_index": "j", "_id": "a"},
               {"_op_type": "index", "_index": "r", "_id": "b"}]
    ok = {"status": 201, "result": "created"}
    refused = {"status": 429, "error": {"type": "cluster_block_exception", "reason": "blocked"}}
    in_order = [(True, {"index": {"_id": "a", **ok}}), (False, {"delete": {"_id": "a", "status": 404}}),
                (False, {"index": {"_id": "b", **refused}})]
    assert _failures(actions, in_order) == ([actions[2]], ["429 cluster_block_exception: blocked"], [])
    # the order a retrying helper yields: a retried failure after the rest
    reordered = [in_order[0], in_order[2], in_order[1]]
    with pytest.raises(StoreError, match="came where delete 'a' was expected"):
        _failures(actions, reordered)
