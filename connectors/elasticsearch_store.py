"""Elasticsearch store: index templates, bulk upserts with deterministic `_id`, kNN on `dense_vector`.

At-least-once writes become an exactly-once result: every document's `_id` is
the record id, so a retried or redelivered batch overwrites itself. Retries are
bounded (attempts with exponential backoff) and each one is logged.

Id claims (`connectors/store.py`) live in `<prefix>-claims`, one document per
record id holding its owner's fingerprint. A batch first `create`s its claims in
one bulk request: Elasticsearch creates a document at most once, so of two
writers of one id exactly one succeeds; the others get 409 and read the owner
back (a real-time `mget`). Only then are the records written, conflicting ones
as `id_conflict` records under their own ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from connectors.store import (
    DOC_KINDS,
    StoreCounts,
    StoreError,
    StoreUnavailable,
    check_query,
    decode_cursor,
    doc_time,
    encode_cursor,
    batch_claims,
    normalize_document,
    resolve_claims,
    split,
)

from core.records import DIMS, EnrichedReview, Outcome, Rejected
from core.settings import ElasticsearchSettings

log = logging.getLogger(__name__)

MEASURES_MAPPING: dict[str, Any] = {
    "properties": {
        "word_count": {"type": "integer"},
        "non_english_ratio": {"type": "float"},
        "lang": {"type": "keyword"},
        "lang_confidence": {"type": "float"},
        "script": {"type": "keyword"},
        "spelling_error_ratio": {"type": "float"},
        "gibberish_ratio": {"type": "float"},
        "repetition_ratio": {"type": "float"},
        "spam_markers": {"type": "keyword"},
        "repeat_count": {"type": "integer"},
    }
}

REVIEW_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "app_id": {"type": "keyword"},
        "source": {"type": "keyword"},
        "created_at": {"type": "date"},
        "received_at": {"type": "date"},
        "processed_at": {"type": "date"},
        "text": {"type": "text"},
        "text_en": {"type": "text"},
        "lang": {"type": "keyword"},
        "lang_confidence": {"type": "float"},
        "translated": {"type": "boolean"},
        "translation": {"type": "keyword"},
        "translation_detail": {"type": "text"},
        "informativeness": {"type": "float"},
        "review_type": {"type": "keyword"},
        "type_score": {"type": "float"},
        "sentiment": {"type": "keyword"},
        "sentiment_score": {"type": "float"},
        "competitors": {"type": "keyword"},
        "priority": {"type": "float"},
        "rating": {"type": "byte"},
        "author": {"type": "keyword"},
        "app_version": {"type": "keyword"},
        "meta": {"type": "object", "enabled": False},
        "origin": {"type": "keyword"},
        "fingerprint": {"type": "keyword"},
        "measures": MEASURES_MAPPING,
        "primary_label": {"type": "keyword"},
        "label_score": {"type": "float"},
        "cluster_id": {"type": "keyword"},
        "cluster_keywords": {"type": "keyword"},
        "cluster_name": {"type": "keyword"},
        "cluster_representative": {"type": "keyword"},
        "issue_examples": {"type": "keyword"},
        "issue_merged": {"type": "keyword"},
        "app_rate": {"type": "float"},
        "app_rate_now": {"type": "float"},
        "app_latest_version": {"type": "keyword"},
        "theme_id": {"type": "keyword"},
        "theme_name": {"type": "keyword"},
        "embedding": {"type": "dense_vector", "dims": DIMS, "index": True, "similarity": "cosine"},
    },
}

REJECTED_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "app_id": {"type": "keyword"},
        "reason": {"type": "keyword"},
        "detail": {"type": "text"},
        "raw": {"type": "text"},
        "origin": {"type": "keyword"},
        "fingerprint": {"type": "keyword"},
        "received_at": {"type": "date"},
        "at": {"type": "date"},
        "measures": MEASURES_MAPPING,
    },
}

CLAIM_MAPPINGS: dict[str, Any] = {"dynamic": False, "properties": {"fingerprint": {"type": "keyword"}}}

DOC_MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "id": {"type": "keyword"},
        "app_id": {"type": "keyword"},
        "updated_at": {"type": "date"},
        "status": {"type": "keyword"},
        "org": {"type": "keyword"},
        "severity": {"type": "keyword"},
        "primary_label": {"type": "keyword"},
        "title": {"type": "text"},
    },
}
_DATE_FORMAT = {"day": "yyyy-MM-dd", "hour": "yyyy-MM-dd'T'HH:00"}
_READ_RETRY_STATUS = (429, 503)  # shards not allocated yet (503) or the search queue full (429): both pass


def _filters(**terms: Any) -> list[dict[str, Any]]:
    return [{"term": {k: v}} for k, v in terms.items() if v is not None]


def _document_action(index: str, doc: dict[str, Any]) -> dict[str, Any]:
    """An upsert by id; a document with an integer `version` (tickets) uses it as the external version, so a
    flow resumed from an older snapshot, re-publishing versions the index has a later one of, never
    replaces the later one (Elasticsearch answers 409, which is success here)."""
    action: dict[str, Any] = {"_op_type": "index", "_index": index, "_id": doc["id"], "_source": doc}
    version = doc.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version >= 0:
        action |= {"version": version, "version_type": "external_gte"}
    return action


def connect(cfg: ElasticsearchSettings):
    """A configured client (no request is made here). JSON goes through orjson: about 20x faster than the
    standard library on a review document, most of which is its 384 floats, and it holds the GIL that much
    less in the store's writer thread while the model encodes."""
    from elasticsearch import Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    kwargs: dict[str, Any] = {
        "serializer": OrjsonSerializer(),
        "request_timeout": cfg.request_timeout,
        "retry_on_timeout": True,
        "max_retries": 2,
    }
    if cfg.cloud_id:
        kwargs["cloud_id"] = cfg.cloud_id
    else:
        kwargs["hosts"] = [cfg.url]
        if cfg.url.startswith("https://"):
            kwargs["verify_certs"] = cfg.verify_certs
            if cfg.ca_certs:
                kwargs["ca_certs"] = cfg.ca_certs
    if cfg.api_key:
        kwargs["api_key"] = cfg.api_key
    elif cfg.username:
        kwargs["basic_auth"] = (cfg.username, cfg.password)
    return Elasticsearch(**kwargs)


class ElasticsearchStore:
    """`ReviewStore` on two indices, `<prefix>-reviews` and `<prefix>-rejected`, with id claims in `<prefix>-claims`."""

    def __init__(self, cfg: ElasticsearchSettings, backoff: float = 0.5):
        self.cfg = cfg
        self.reviews = f"{cfg.index_prefix}-reviews"
        self.rejected = f"{cfg.index_prefix}-rejected"
        self.claims = f"{cfg.index_prefix}-claims"
        self.documents = {kind: f"{cfg.index_prefix}-{kind.replace('_', '-')}" for kind in DOC_KINDS}
        self.backoff = backoff
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = connect(self.cfg)
        return self._client

    def check(self) -> str:
        """Fail fast with one clear line when the server is unreachable or incompatible."""
        from elasticsearch import ApiError, AuthenticationException, TransportError

        try:
            # Not `info()`: GET / is a module some distributions (the integ-test zip) leave out.
            nodes = self.client.nodes.info(node_id="_local", metric="_none")["nodes"]
        except AuthenticationException as e:
            raise StoreUnavailable(f"Elasticsearch at {self.cfg.target} rejected the credentials ({e.status_code})") from e
        except (TransportError, ApiError) as e:
            raise StoreUnavailable(f"cannot reach Elasticsearch at {self.cfg.target}: {_reason(e)}") from e
        version = next(iter(nodes.values()))["version"]
        if not version.startswith("8."):
            raise StoreUnavailable(f"Elasticsearch at {self.cfg.target} is {version}; this client needs 8.x")
        return version

    def check_readable(self) -> None:
        """The server answers and the flow's indices exist and are ready (within `ready_seconds`); creates nothing."""
        self.check()
        indices = [self.reviews, self.rejected, *self.documents.values()]
        missing = [index for index in indices if not self.client.indices.exists(index=index)]
        if missing:
            raise StoreUnavailable(f"elasticsearch at {self.cfg.target} has no index {', '.join(missing)} yet "
                                   "(the flow creates them)")
        self.wait_ready(indices)

    def setup(self) -> None:
        from elasticsearch import ApiError

        version = self.check()
        indices = [(self.reviews, REVIEW_MAPPINGS), (self.rejected, REJECTED_MAPPINGS), (self.claims, CLAIM_MAPPINGS)]
        indices += [(index, DOC_MAPPINGS) for index in self.documents.values()]
        for index, mappings in indices:
            self.client.indices.put_index_template(
                name=f"{index}-template",
                index_patterns=[f"{index}*"],
                priority=200,
                template={"settings": {"number_of_replicas": 0, "refresh_interval": "1s"}, "mappings": mappings},
            )
            if not self.client.indices.exists(index=index):
                # no wait here: `wait_ready` below waits for all the indices at once, within `ready_seconds`
                self.client.options(ignore_status=400).indices.create(index=index, wait_for_active_shards=0)
            else:  # an index made by an older version: add the fields it lacks (additive only)
                try:
                    self.client.indices.put_mapping(index=index, properties=mappings["properties"])
                except ApiError as e:
                    raise StoreUnavailable(f"index {index} has an incompatible mapping: {_reason(e)}") from e
        self.wait_ready([index for index, _ in indices])
        log.info("elasticsearch %s at %s ready: %s, %s", version, self.cfg.target, self.reviews, self.rejected)

    def wait_ready(self, indices: Sequence[str]) -> None:
        """Return once every index in `indices` can answer (cluster health of those indices yellow or green:
        each primary shard allocated); a fresh or recovering index answers 503 until then. Waits at most
        `ready_seconds`, logging each wait, then raises `StoreUnavailable`."""
        names = ",".join(indices)
        if not self.client.indices.exists(index=names):
            return  # missing is not unready: the caller's own request answers 404, as it always did
        started = time.monotonic()
        rounds = 0
        while True:
            left = self.cfg.ready_seconds - (time.monotonic() - started)
            rounds += 1  # the first round is short, so any real wait is logged
            health = self.client.options(ignore_status=408).cluster.health(
                index=names, wait_for_status="yellow", timeout=f"{max(1, min(1 if rounds == 1 else 5, int(left)))}s")
            if not health.get("timed_out") and health.get("status") in ("yellow", "green"):
                return
            elapsed = time.monotonic() - started
            state = (f"health {health.get('status')}, {health.get('unassigned_primary_shards', '?')} primary shards "
                     f"unassigned, {health.get('initializing_shards', '?')} initializing")
            if elapsed >= self.cfg.ready_seconds:
                raise StoreUnavailable(f"elasticsearch indices {names} at {self.cfg.target} not ready after "
                                       f"{elapsed:.0f}s ({state}); SIFT_ES_READY_SECONDS={self.cfg.ready_seconds:g}")
            log.warning("elasticsearch: waiting for %s to be ready (%s; %.0fs so far)", names, state, elapsed)

    def read(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`call(*args, **kwargs)`, one read request, retried with backoff while Elasticsearch answers 503 (an
        index whose shards are not allocated yet: fresh, recovering or relocating) or 429, or answers from only
        some of the shards; each retry is logged. After `ready_seconds` it raises `StoreUnavailable`: a reader
        gets the whole answer or an error, never a partial count."""
        from elasticsearch import ApiError

        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            error: ApiError | None = None
            try:
                resp = call(*args, **kwargs)
            except ApiError as e:
                if e.status_code not in _READ_RETRY_STATUS:
                    raise
                error, reason = e, f"{e.status_code} {_reason_text(e.body.get('error') if isinstance(e.body, dict) else e)}"
            else:
                shards = resp.get("_shards") or {}
                if not shards.get("failed"):
                    return resp
                failure = (shards.get("failures") or [{}])[0].get("reason")
                reason = f"{shards['failed']} of {shards.get('total')} shards failed: {_reason_text(failure)}"
            elapsed = time.monotonic() - started
            delay = min(0.25 * 2 ** (attempt - 1), 5.0)
            if elapsed + delay > self.cfg.ready_seconds:
                raise StoreUnavailable(f"elasticsearch read from {self.cfg.target} failed after {attempt} attempts in "
                                       f"{elapsed:.0f}s: {reason}") from error
            log.warning("elasticsearch read: %s (attempt %d, %.0fs so far, retrying in %.2fs)", reason, attempt, elapsed, delay)
            time.sleep(delay)

    def _actions(self, enriched: list[EnrichedReview], rejected: list[Rejected]) -> list[dict[str, Any]]:
        actions: list[dict[str, Any]] = []
        for e in enriched:
            doc = e.to_doc()
            # float32, as the index stores it: written in its shortest form (~4.8 KB of JSON instead of
            # ~8.5 KB for the float64 digits of the same values), so both sides parse half as much.
            doc["embedding"] = np.asarray(e.embedding, dtype=np.float32)
            actions.append({"_op_type": "index", "_index": self.reviews, "_id": e.id, "_source": doc})
            actions.append({"_op_type": "delete", "_index": self.rejected, "_id": e.id})
        for r in rejected:
            actions.append({"_op_type": "index", "_index": self.rejected, "_id": r.id, "_source": r.to_doc()})
            actions.append({"_op_type": "delete", "_index": self.reviews, "_id": r.id})
        return actions

    def write(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Claim the batch's ids, then bulk upsert; retries failed items and unreachable-server errors with
        backoff until `retry_seconds` have passed, then raises `StoreError`."""
        stored = resolve_claims(outcomes, self._claim(batch_claims(outcomes)))
        enriched, rejected = split(stored)
        self._write_actions(self._actions(enriched, rejected),
                            f"{len(enriched) + len(rejected)} records ({len(enriched)} enriched, {len(rejected)} rejected)")
        return stored

    def _claim(self, claims: dict[str, str]) -> dict[str, str]:
        """Create a claim for every id not claimed yet; id -> fingerprint of its owner (ours where we created it)."""
        actions = [{"_op_type": "create", "_index": self.claims, "_id": rid, "_source": {"fingerprint": fp}}
                   for rid, fp in claims.items()]
        taken = self._write_actions(actions, f"{len(actions)} id claims", level=logging.DEBUG)
        if not taken:
            return dict(claims)
        return {**claims, **self._with_retries(lambda: self._owners(taken), f"reading {len(taken)} id claims")}

    def _owners(self, ids: list[str]) -> dict[str, str]:
        resp = self.client.mget(index=self.claims, ids=ids, realtime=True)
        owners = {doc["_id"]: doc["_source"]["fingerprint"] for doc in resp["docs"] if doc.get("found")}
        missing = [rid for rid in ids if rid not in owners]
        if missing:  # a claim answered 409 moments ago: only a deleted claims index loses it
            raise StoreError(f"id claims {missing[:3]} in {self.claims} vanished between create and read")
        return owners

    def _with_retries(self, call, what: str):
        """`call()`, retried on transport errors with backoff until `retry_seconds`; then `StoreError`."""
        from elasticsearch import ApiError, TransportError

        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            try:
                return call()
            except (TransportError, ApiError) as e:
                delay = min(self.backoff * 2 ** (attempt - 1), 10.0)
                if time.monotonic() - started + delay > self.cfg.retry_seconds:
                    raise StoreError(f"elasticsearch {what} at {self.cfg.target} failed after {attempt} attempts: "
                                     f"{_reason(e)}") from e
                log.warning("elasticsearch %s failed (attempt %d, retrying in %.1fs): %s", what, attempt, delay, _reason(e))
                time.sleep(delay)

    def _write_actions(self, pending: list[dict[str, Any]], what: str, refresh: str | None = None,
                       level: int = logging.INFO) -> list[str]:
        """Send `pending`, retrying what fails with backoff until `retry_seconds`; then `StoreError`.
        Returns the ids of `create` actions whose document existed already (409: not an error)."""
        started = time.monotonic()
        attempt = 0
        existed: list[str] = []
        while True:
            attempt += 1
            failed, errors, exists = self._bulk(pending, refresh)
            existed += exists
            elapsed = time.monotonic() - started
            if not failed:
                log.log(level, "elasticsearch bulk: %s in %.0f ms%s", what, elapsed * 1000,
                        f" after {attempt} attempts" if attempt > 1 else "")
                return list(dict.fromkeys(existed))
            delay = min(self.backoff * 2 ** (attempt - 1), 10.0)
            if elapsed + delay > self.cfg.retry_seconds:
                raise StoreError(
                    f"elasticsearch bulk write to {self.cfg.target} failed for {len(failed)} actions "
                    f"after {attempt} attempts in {elapsed:.0f}s: {errors[0]}"
                )
            log.warning(
                "elasticsearch bulk: %d of %d actions failed (attempt %d, %.0fs so far, retrying in %.1fs): %s",
                len(failed), len(pending), attempt, elapsed, delay, errors[0],
            )
            time.sleep(delay)
            pending = failed

    def _bulk(self, actions: list[dict[str, Any]], refresh: str | None = None
              ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
        """One pass of bulk requests; returns the actions that failed and why, and the ids `create` found taken.

        The helper retries nothing (`max_retries=0`): an item it retried came back after the rest of its
        chunk, so the results were no longer in the order of `actions` and a failed write could be paired
        with another action's success. `_write_actions` owns every retry, 429s included."""
        from elasticsearch import ApiError, TransportError, helpers

        try:
            results = list(helpers.streaming_bulk(
                self.client, actions, chunk_size=500, max_retries=0,
                raise_on_error=False, raise_on_exception=False, yield_ok=True, **({"refresh": refresh} if refresh else {}),
            ))
        except (TransportError, ApiError) as e:
            return actions, [_reason(e)], []
        return _failures(actions, results)

    def refresh(self) -> None:
        # a refresh of an index whose shards are not allocated yet hangs until they are: wait within the bound
        self.wait_ready([self.reviews, self.rejected])
        self.client.indices.refresh(index=f"{self.reviews},{self.rejected}")

    def counts(self, app_id: str | None = None) -> StoreCounts:
        query = {"term": {"app_id": app_id}} if app_id else {"match_all": {}}
        rev = self.read(self.client.search,
            index=self.reviews, size=0, query=query, track_total_hits=True,
            aggs={
                "labels": {"terms": {"field": "primary_label", "size": 200}},
                "untranslated": {"filter": {"term": {"translation": "untranslated"}},
                                 "aggs": {"langs": {"terms": {"field": "lang", "size": 200}}}},
            },
        )
        rej = self.read(self.client.search,
            index=self.rejected, size=0, query=query, track_total_hits=True,
            aggs={"reasons": {"terms": {"field": "reason", "size": 200}}},
        )
        return StoreCounts(
            enriched=rev["hits"]["total"]["value"],
            rejected=rej["hits"]["total"]["value"],
            by_reason={b["key"]: b["doc_count"] for b in rej["aggregations"]["reasons"]["buckets"]},
            by_label={b["key"]: b["doc_count"] for b in rev["aggregations"]["labels"]["buckets"]},
            untranslated_by_lang={
                b["key"]: b["doc_count"] for b in rev["aggregations"]["untranslated"]["langs"]["buckets"]
            },
        )

    def get(self, record_id: str) -> dict[str, Any] | None:
        for index, kind in ((self.reviews, "enriched"), (self.rejected, "rejected")):
            resp = self.read(self.client.options(ignore_status=404).get, index=index, id=record_id)
            if resp.get("found"):
                return {**resp["_source"], "kind": kind}
        return None

    def knn(self, vector: Sequence[float], k: int = 10, app_id: str | None = None) -> list[dict[str, Any]]:
        knn: dict[str, Any] = {
            "field": "embedding",
            "query_vector": [float(x) for x in vector],
            "k": k,
            "num_candidates": max(100, 10 * k),
        }
        if app_id:
            knn["filter"] = {"term": {"app_id": app_id}}
        resp = self.read(self.client.search, index=self.reviews, knn=knn, size=k, source_excludes=["embedding"])
        return [{**hit["_source"], "score": hit["_score"]} for hit in resp["hits"]["hits"]]

    def search_text(self, query: str, k: int = 20, app_id: str | None = None) -> list[dict[str, Any]]:
        if not query.strip():
            return []
        resp = self.read(self.client.search,
            index=self.reviews, size=k, source_excludes=["embedding"],
            query={"bool": {"must": [{"multi_match": {"query": query, "fields": ["text", "text_en"]}}],
                            "filter": _filters(app_id=app_id)}},
        )
        return [{**hit["_source"], "score": hit["_score"]} for hit in resp["hits"]["hits"]]

    def counts_over_time(self, field: str = "primary_label", interval: str = "day", app_id: str | None = None,
                         since: datetime | None = None, until: datetime | None = None) -> list[tuple[str, str, int]]:
        check_query(field=field, interval=interval)
        span = {k: v.isoformat() for k, v in (("gte", since), ("lt", until)) if v is not None}
        filters = _filters(app_id=app_id) + ([{"range": {"created_at": span}}] if span else [])
        resp = self.read(self.client.search,
            index=self.reviews, size=0, query={"bool": {"filter": filters}},
            aggs={"t": {
                "date_histogram": {"field": "created_at", "calendar_interval": interval,
                                   "format": _DATE_FORMAT[interval], "min_doc_count": 1},
                "aggs": {"v": {"terms": {"field": field, "size": 1000}}},
            }},
        )
        out = []
        for bucket in resp["aggregations"]["t"]["buckets"]:
            for term in bucket["v"]["buckets"]:
                out.append((bucket["key_as_string"], str(term["key"]), term["doc_count"]))
        return sorted(out)

    def top_clusters(self, app_id: str | None = None, label: str | None = None, limit: int = 10,
                     since: datetime | None = None) -> list[dict[str, Any]]:
        filters = _filters(app_id=app_id, primary_label=label)
        if since is not None:
            filters.append({"range": {"created_at": {"gte": since.isoformat()}}})
        resp = self.read(self.client.search,
            index=self.reviews, size=0, query={"bool": {"filter": filters}},
            aggs={"c": {
                "terms": {"field": "cluster_id", "size": limit, "order": [{"_count": "desc"}, {"_key": "asc"}]},
                "aggs": {
                    "rating": {"avg": {"field": "rating"}},
                    "last": {"max": {"field": "created_at"}},
                    "latest": {"top_hits": {"size": 1, "sort": [{"processed_at": "desc"}],
                                            "_source": ["cluster_keywords", "primary_label",
                                                        "cluster_name", "cluster_representative"]}},
                },
            }},
        )
        out = []
        for b in resp["aggregations"]["c"]["buckets"]:
            latest = b["latest"]["hits"]["hits"][0]["_source"]
            avg = b["rating"]["value"]
            out.append({
                "cluster_id": b["key"], "primary_label": latest["primary_label"], "count": b["doc_count"],
                "avg_rating": round(avg, 2) if avg is not None else None,
                "keywords": latest.get("cluster_keywords", []), "last_seen": doc_time(b["last"]["value_as_string"]),
                "name": latest.get("cluster_name", ""), "representative": latest.get("cluster_representative", ""),
            })
        return out

    def list_rejected(self, reason: str | None = None, app_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        resp = self.read(self.client.search,
            index=self.rejected, size=limit, sort=[{"at": "desc"}, {"id": "asc"}],
            query={"bool": {"filter": _filters(reason=reason, app_id=app_id)}},
        )
        return [hit["_source"] for hit in resp["hits"]["hits"]]

    def write_documents(self, kind: str, docs: Sequence[dict[str, Any]]) -> None:
        """Bulk upsert by id with the same bounded retries as `write` (an outage does not lose a ticket);
        searchable when this returns. `refresh=true` refreshes the small document index at once: `wait_for`
        held the flow's worker until the next scheduled refresh (up to 1 s) on every batch with a ticket."""
        check_query(kind=kind)
        actions = [_document_action(self.documents[kind], d) for d in map(normalize_document, docs)]
        self._write_actions(actions, f"{len(actions)} {kind}", refresh="true")

    def list_documents(self, kind: str, cursor: str | None = None, limit: int = 50, app_id: str | None = None,
                       **filters: str) -> tuple[list[dict[str, Any]], str | None]:
        check_query(kind=kind, filters=filters)
        must = _filters(app_id=app_id, **filters)
        if cursor:
            at, doc_id = decode_cursor(cursor)
            must.append({"bool": {"should": [
                {"range": {"updated_at": {"gt": at}}},
                {"bool": {"filter": [{"term": {"updated_at": at}}, {"range": {"id": {"gt": doc_id}}}]}},
            ], "minimum_should_match": 1}})
        resp = self.read(self.client.search,
            index=self.documents[kind], size=limit, sort=[{"updated_at": "asc"}, {"id": "asc"}],
            query={"bool": {"filter": must}},
        )
        docs = [hit["_source"] for hit in resp["hits"]["hits"]]
        return docs, (encode_cursor(docs[-1]["updated_at"], docs[-1]["id"]) if docs else cursor)

    def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        check_query(kind=kind)
        resp = self.read(self.client.options(ignore_status=404).get, index=self.documents[kind], id=doc_id)
        return resp["_source"] if resp.get("found") else None

    def scan_ids(self) -> Iterator[str]:
        """Every stored id in both indices (for tests and audits); waits for both to be ready first."""
        from elasticsearch import helpers

        self.wait_ready([self.reviews, self.rejected])
        for hit in helpers.scan(self.client, index=f"{self.reviews},{self.rejected}", _source=False):
            yield hit["_id"]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _failures(actions: Sequence[dict[str, Any]], results: Sequence[tuple[bool, dict[str, Any]]]
              ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The actions whose bulk result is a failure, and why, and the ids a `create` found claimed already.
    Results come in the order of the actions; each is checked to answer its own action (same operation, same
    `_id`), so a result is never credited to another action: a mismatch raises `StoreError` and nothing of
    the pass counts as written."""
    if len(results) != len(actions):
        raise StoreError(f"elasticsearch bulk: {len(results)} results for {len(actions)} actions; nothing is taken as written")
    failed: list[dict[str, Any]] = []
    errors: list[str] = []
    exists: list[str] = []
    for action, (ok, info) in zip(actions, results):
        (op_type, op), = info.items()
        if op_type != action["_op_type"] or str(op.get("_id")) != str(action["_id"]):
            raise StoreError(
                f"elasticsearch bulk: the result for {op_type} {op.get('_id')!r} came where {action['_op_type']} "
                f"{action['_id']!r} was expected; nothing is taken as written"
            )
        if ok or (op_type == "delete" and op.get("status") == 404):
            continue
        if "version" in action and op.get("status") == 409:
            continue  # the index holds a newer version of this document: nothing to write
        if op_type == "create" and op.get("status") == 409:
            exists.append(action["_id"])  # claimed before: the caller reads the owner
            continue
        failed.append(action)
        errors.append(f"{op.get('status')} {_reason_text(op.get('error'))}")
    return failed, errors, exists


def _reason_text(error: Any) -> str:
    """An item error's type and reason, without the "Preview of field's value" ES appends (review text)."""
    if isinstance(error, dict):
        reason = str(error.get("reason")).split(". Preview of field's value", 1)[0]
        return f"{error.get('type')}: {reason[:160]}"
    return _reason(error) if isinstance(error, Exception) else str(error)[:160]


def _reason(error: Exception) -> str:
    """A short human reason from a client error, without a traceback."""
    text = str(error)
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "timed out" in text.lower() or "Timeout" in type(error).__name__:
        return "timed out"
    return text.splitlines()[0][:200] if text else type(error).__name__
