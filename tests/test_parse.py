from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from flows.operators.parse import MAX_TEXT_CHARS, identity, parse_message
from core.records import MAX_DETAIL_CHARS, Rejected, Review
from tests.helpers import RECEIVED, raw

APPS = frozenset({"paynest"})


def test_valid_review_keeps_every_field():
    msg = raw({
        "id": "r-1", "app_id": "paynest", "text": "  UPI payment failed twice  ", "source": "Google_Play",
        "rating": 2, "created_at": "2026-10-03T14:22:05+05:30", "author": "asha", "app_version": "4.12.0",
        "lang": "en", "meta": {"thumbs": 3},
    })
    review = parse_message(msg, APPS)
    assert isinstance(review, Review)
    assert (review.id, review.app_id, review.text, review.source) == ("paynest/r-1", "paynest", "UPI payment failed twice", "google_play")
    assert (review.rating, review.author, review.app_version, review.lang_hint) == (2, "asha", "4.12.0", "en")
    assert review.created_at == datetime(2026, 10, 3, 8, 52, 5, tzinfo=timezone.utc)
    assert review.meta == {"thumbs": 3}
    assert review.raw == msg.payload


def test_defaults_when_optional_fields_are_missing():
    review = parse_message(raw({"app_id": "paynest", "text": "refund not received yet"}), APPS)
    assert isinstance(review, Review)
    assert review.source == "unknown" and review.rating is None
    assert review.created_at == RECEIVED
    assert review.id.startswith("paynest/h-")


def test_id_without_given_id_is_a_content_hash_independent_of_key_order():
    a = parse_message(raw('{"app_id":"paynest","text":"otp not coming"}'), APPS)
    b = parse_message(raw('{"text":"otp not coming","app_id":"paynest"}', n=2), APPS)
    c = parse_message(raw('{"app_id":"paynest","text":"otp not coming!"}'), APPS)
    assert a.id == b.id != c.id


def test_naive_timestamp_is_taken_as_utc():
    review = parse_message(raw({"app_id": "paynest", "text": "x y z", "created_at": "2026-10-01 10:00:00"}), APPS)
    assert review.created_at == datetime(2026, 10, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("payload", "reason", "detail_part"),
    [
        ("not json", "malformed_json", "not valid JSON"),
        ('{"app_id": "paynest", "text": "trunc', "malformed_json", "not valid JSON"),
        ("[1, 2]", "malformed_json", "got list"),
        ("", "blank_line", "blank"),
        (" \t\x0c\x1c\x85\u3000\r", "blank_line", "7 characters"),
        ('{"text": "hello there friend"}', "missing_field", "'app_id'"),
        ('{"app_id": "paynest"}', "missing_field", "'text'"),
        ('{"app_id": "paynest", "text": "   "}', "missing_field", "empty"),
        ('{"app_id": "paynest", "text": 42}', "invalid_field", "must be a string"),
        ('{"app_id": "paynest", "text": "ok ok ok", "rating": "five"}', "invalid_field", "'rating'"),
        ('{"app_id": "paynest", "text": "ok ok ok", "rating": 9}', "invalid_field", "between 1 and 5"),
        ('{"app_id": "paynest", "text": "ok ok ok", "rating": true}', "invalid_field", "'rating'"),
        ('{"app_id": "paynest", "text": "ok ok ok", "created_at": "yesterday"}', "invalid_field", "ISO 8601"),
        ('{"app_id": "paynest", "text": "ok ok ok", "id": {"a": 1}}', "invalid_field", "'id'"),
        ('{"app_id": "paynest", "text": "ok ok ok", "meta": [1]}', "invalid_field", "'meta'"),
        ('{"app_id": ["x"], "text": "ok ok ok"}', "invalid_field", "'app_id'"),
        ('{"app_id": "other-app", "text": "ok ok ok"}', "unknown_app", "other-app"),
    ],
)
def test_bad_input_is_rejected_with_reason(payload, reason, detail_part):
    out = parse_message(raw(payload), APPS)
    assert isinstance(out, Rejected)
    assert out.reason == reason
    assert detail_part in out.detail
    assert out.raw == payload
    assert out.origin == "test:1"


def test_rejected_keeps_given_id_else_hashes_the_payload():
    kept = parse_message(raw('{"id": "m-9", "app_id": "paynest", "rating": "five", "text": "a b c"}'), APPS)
    assert isinstance(kept, Rejected) and kept.id == "paynest/m-9" and kept.app_id == "paynest"
    hashed = parse_message(raw("not json"), APPS)
    assert hashed.id.startswith("_/h-") and (hashed.id, hashed.fingerprint) == identity("not json")
    assert parse_message(raw("not json", n=7), APPS).id == hashed.id  # redelivery maps to the same record


def test_ids_are_namespaced_by_the_app_the_message_names():
    """Issue 18.1: an `otherapp` message reusing a paynest review's id was stored over it as `unknown_app`."""
    review = parse_message(raw({"id": "r-1", "app_id": "paynest", "text": "UPI payment failed twice"}), APPS)
    other = parse_message(raw({"id": "r-1", "app_id": "otherapp", "text": "UPI payment failed twice"}), APPS)
    no_app = parse_message(raw({"id": "r-1", "text": "UPI payment failed twice"}), APPS)
    bad_app = parse_message(raw({"id": "r-1", "app_id": "pay nest", "text": "x y z"}), APPS)
    assert (review.id, other.id, no_app.id, bad_app.id) == ("paynest/r-1", "otherapp/r-1", "_/r-1", "_/r-1")
    assert (other.reason, no_app.reason, bad_app.reason) == ("unknown_app", "missing_field", "invalid_field")
    assert {r.app_id for r in (other, no_app, bad_app)} == {"otherapp", None}


def test_fingerprint_tells_a_redelivery_from_a_message_reusing_the_id():
    first = parse_message(raw('{"id": "r-1", "app_id": "paynest", "text": "refund not received"}'), APPS)
    again = parse_message(raw('{"text": "refund not received",  "app_id": "paynest", "id": "r-1"}', n=2), APPS)
    other = parse_message(raw('{"id": "r-1", "app_id": "paynest"}', n=3), APPS)  # missing_field
    assert first.id == again.id == other.id == "paynest/r-1"
    assert first.fingerprint == again.fingerprint != other.fingerprint
    assert len(first.fingerprint) == 32 and (first.id, first.fingerprint) == identity(first.raw)


def test_an_id_too_long_for_the_store_is_not_taken_as_given():
    """`<app>/<id>` must fit Elasticsearch's 512-byte `_id`: at most 200 characters and 256 UTF-8 bytes."""
    wide = "💸" * 65  # 65 characters, 260 bytes
    out = parse_message(raw({"id": wide, "app_id": "paynest", "text": "payment failed again"}), APPS)
    assert isinstance(out, Rejected) and out.reason == "invalid_field" and out.id.startswith("paynest/h-")
    assert isinstance(parse_message(raw({"id": wide[:64], "app_id": "paynest", "text": "payment failed"}), APPS), Review)


def test_rejection_details_are_bounded_and_the_raw_input_is_kept():
    """Issue 18.9: a 4,300-digit rating put 4,344 characters into one detail."""
    payload = '{"id": "big", "app_id": "paynest", "text": "payment failed", "rating": ' + "9" * 4300 + "}"
    out = parse_message(raw(payload), APPS)
    assert isinstance(out, Rejected) and out.reason == "invalid_field"
    assert "'rating' must be between 1 and 5" in out.detail and len(out.detail) < 150
    assert out.raw == payload  # the offending value is still there, in full
    long = Rejected(id="x", app_id=None, reason="malformed_json", detail="why " * 2000, raw="", origin="t",
                    received_at=RECEIVED, at=RECEIVED)
    assert len(long.detail) == MAX_DETAIL_CHARS and long.detail.endswith("… [8,000 characters, cut]")
    assert long.detail.startswith("why why") and long.to_doc()["detail"] == long.detail


def test_oversized_text_is_rejected_not_truncated():
    out = parse_message(raw({"app_id": "paynest", "text": "a " * MAX_TEXT_CHARS}), APPS)
    assert isinstance(out, Rejected) and out.reason == "too_large"


def test_control_characters_are_removed_and_deep_nesting_is_rejected():
    review = parse_message(raw({"app_id": "paynest", "text": "pay\x00ment \x07failed\nagain"}), APPS)
    assert review.text == "payment failed\nagain"
    deep = "[" * 100_000 + "]" * 100_000
    out = parse_message(raw(deep), APPS)
    assert isinstance(out, Rejected) and out.reason == "malformed_json"


def test_payload_round_trips_through_json_for_unicode():
    review = parse_message(raw(json.dumps({"app_id": "paynest", "text": "पेमेंट फेल ₹499"})), APPS)
    assert review.text == "पेमेंट फेल ₹499"


def test_poison_message_is_rejected_but_left_for_the_dead_letter_queue():
    from dataclasses import replace

    from core.records import Ack

    msg = replace(raw({"id": "p1", "app_id": "paynest", "text": "payment failed again"}),
                  ack=Ack("q", "h", "m"), receive_count=5)
    out = parse_message(msg, APPS, max_receives=5)
    assert isinstance(out, Rejected) and out.reason == "poison_message" and out.id == "paynest/p1"
    assert out.ack is None  # not deleted: the redrive policy moves it to the DLQ
    assert isinstance(parse_message(replace(msg, receive_count=4), APPS, max_receives=5), Review)
    assert isinstance(parse_message(msg, APPS, max_receives=0), Review)
    hashed = parse_message(replace(msg, payload='{"app_id":"paynest","text":"a b c"}'), APPS, max_receives=5)
    assert hashed.id == parse_message(raw('{"app_id":"paynest","text":"a b c"}'), APPS).id
