"""Properties of the seeded demo stream (demo/generate.py) and the PayNest app metadata."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from demo.generate import BASE_DAYS, DEFAULT_APP, INCIDENT, INCIDENT_VERSION, build, generate, load_app, main

IST = timezone(timedelta(hours=5, minutes=30))
START = date(2026, 10, 1)
N = 6000
REQUIRED = ("id", "app_id", "text", "source", "created_at", "author")
FAILED_PAYMENT = re.compile(r"fail|debit|deduct|pending|not credited|kat gaye", re.I)
INCIDENT_SYMPTOM = re.compile(r"processing|pn-?417", re.I)  # the 4.12.0 incident: payments freeze after the PIN


@lru_cache(maxsize=None)
def _lines(seed: int = 7, n: int = N) -> tuple[str, ...]:
    return tuple(generate(n=n, seed=seed, start=START.isoformat(), days=BASE_DAYS))


def _valid(line: str) -> dict[str, Any] | None:
    """The record if it passes the review-in contract, else None (what the flow must reject)."""
    try:
        rec = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(rec, dict) or any(k not in rec for k in REQUIRED):
        return None
    if not isinstance(rec["text"], str) or not rec["text"].strip() or not rec["app_id"]:
        return None
    rating = rec.get("rating")
    if rating is not None and (type(rating) is not int or not 1 <= rating <= 5):
        return None
    try:
        created = datetime.fromisoformat(rec["created_at"])
    except ValueError:
        return None
    return rec if created.tzinfo is not None else None


def _records(seed: int = 7) -> list[dict[str, Any]]:
    return [r for r in map(_valid, _lines(seed)) if r is not None]


def _day(rec: dict[str, Any]) -> int:
    return (datetime.fromisoformat(rec["created_at"]).astimezone(IST).date() - START).days


def test_same_seed_is_byte_identical_and_seed_matters() -> None:
    assert list(_lines(7)) == generate(n=N, seed=7, start="2026-10-01", days=28)
    assert _lines(7) != _lines(8)


def test_count_and_contract_fields() -> None:
    lines = _lines()
    assert len(lines) == N
    assert len(generate(n=250, seed=1)) == 250
    assert len(_records()) / N >= 0.95
    sources = Counter(r["source"] for r in _records())
    assert set(sources) == {"google_play", "app_store", "twitter"}
    assert 0.6 < sources["google_play"] / N < 0.8 and 0.05 < sources["twitter"] / N < 0.15


def test_malformed_share_and_variants() -> None:
    bad = [line for line in _lines() if _valid(line) is None]
    assert 0.005 <= len(bad) / N <= 0.02
    parsed = []
    for line in bad:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append(None)
    objects = [p for p in parsed if isinstance(p, dict)]
    assert None in parsed and any(isinstance(p, list) for p in parsed)
    assert any("text" not in p for p in objects) and any("app_id" not in p for p in objects)
    assert any(p.get("text", "x").strip() == "" for p in objects)
    assert any(p.get("rating") in ("five", 9) for p in objects)
    assert any(p.get("created_at") == "yesterday" for p in objects)


def test_ids_unique_and_sorted_by_created_at() -> None:
    recs = _records()
    assert len({r["id"] for r in recs}) == len(recs)
    times = [datetime.fromisoformat(r["created_at"]) for r in recs]
    assert times == sorted(times)
    assert all(_day(r) in range(BASE_DAYS) for r in recs)


def test_ratings_follow_source_and_sentiment() -> None:
    recs = _records()
    assert all("rating" not in r and "app_version" not in r for r in recs if r["source"] == "twitter")
    assert all("rating" in r and "app_version" in r for r in recs if r["source"] != "twitter")
    tweets = [r["text"] for r in recs if r["source"] == "twitter"]
    assert sum(("@" in t or "#" in t) for t in tweets) == len(tweets)
    rated = [r for r in recs if "rating" in r]
    low = [r["rating"] for r in rated if FAILED_PAYMENT.search(r["text"])]
    high = [r["rating"] for r in rated if re.search(r"love|highly recommended|super convenient", r["text"], re.I)]
    assert sum(low) / len(low) < 2.2 and sum(high) / len(high) > 4.0


def test_incident_after_4_12_0_is_a_new_failure_the_everyday_stream_never_reports() -> None:
    pairs = [(kind, rec) for kind, rec in ((k, _valid(line)) for k, line in
                                           build(n=N, seed=7, start=START.isoformat(), days=BASE_DAYS)) if rec]
    assert [rec for kind, rec in pairs if kind != "incident" and INCIDENT_SYMPTOM.search(rec["text"])] == []
    incident = [rec for kind, rec in pairs if kind == "incident"]
    assert sum(bool(INCIDENT_SYMPTOM.search(r["text"])) for r in incident) / len(incident) > 0.95
    assert all(r.get("app_version", INCIDENT_VERSION) == INCIDENT_VERSION for r in incident)
    incident_days = range(int(INCIDENT[0]), int(INCIDENT[1]) + 1)
    spike = Counter(_day(r) for r in incident if _day(r) in incident_days)
    assert sum(spike.values()) >= 200 and min(spike[d] for d in incident_days[:-1]) >= 40
    assert sum(_day(r) not in incident_days for r in incident) < 0.1 * len(incident)  # a tail after the hotfix
    rated = [r for r in incident if "rating" in r]
    assert sum(r["rating"] == 1 for r in rated) / len(rated) > 0.6
    # people, not one template: many wordings, with typos, in English and Hinglish
    texts = [r["text"] for r in incident]
    assert len(set(texts)) > 0.6 * len(texts)
    assert len({re.sub(r"\W+", " ", t.lower())[:20] for t in texts}) >= 20
    assert sum(bool(re.search(r"\b(ke baad|nahi|daalte)\b", t, re.I)) for t in texts) >= 0.08 * len(texts)
    versions_before = {r.get("app_version") for r in _records() if _day(r) < 15}
    assert INCIDENT_VERSION not in versions_before and "4.12.1" not in versions_before


def test_otp_spike_on_one_day() -> None:
    per_day = Counter(_day(r) for r in _records() if re.search(r"\botp\b", r["text"], re.I))
    (_, peak), (_, second) = per_day.most_common(2)
    assert peak >= 3 * second


def test_languages_noise_and_spam_present() -> None:
    texts = [r["text"] for r in _records()]
    assert sum(bool(re.search(r"[\u0900-\u097F]", t)) for t in texts) >= 0.02 * N
    assert sum(bool(re.search(r"\b(reembolso|aplicación|pago|cuenta)\b", t)) for t in texts) >= 0.01 * N
    assert sum(bool(re.search(r"\b(nahi|paise|bahut|kat gaye)\b", t, re.I)) for t in texts) >= 0.05 * N
    assert sum(bool(re.search(r"referral code|refer code|with code|use code", t)) for t in texts) >= 50
    repeated = Counter(texts).most_common(1)[0]
    assert repeated[1] >= 30 and len({r["author"] for r in _records() if r["text"] == repeated[0]}) > 20
    assert any(not re.search(r"[A-Za-z\u0900-\u097F]", t) for t in texts)  # emoji-only
    assert len({t for t in texts if len(t.split()) >= 5}) > 1000  # compositional, not a handful of templates


def test_competitors_mentioned_by_name_alias_and_hashtag() -> None:
    meta = load_app(DEFAULT_APP)
    texts = " ".join(r["text"] for r in _records())

    def mentioned(form: str) -> bool:
        return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", texts, re.I) is not None

    for comp in meta["competitors"]:
        assert mentioned(comp["name"]), comp["name"]
        assert any(map(mentioned, comp["aliases"])) and any(map(mentioned, comp["hashtags"])), comp["name"]


def test_app_metadata_labels() -> None:
    meta = load_app(DEFAULT_APP)
    assert meta["app_id"] == "paynest" and meta["name"] == "PayNest" and meta["description"]
    names = [label["name"] for label in meta["labels"]]
    assert names == ["payments", "refunds", "login_otp", "kyc_account", "rewards_cashback", "bills_recharge",
                     "performance", "customer_support", "ui_ux", "security_fraud"]
    for label in meta["labels"]:
        assert label["description"].strip() and len(label["examples"]) >= 6
        assert len(set(label["examples"])) == len(label["examples"])
    assert len(meta["vocabulary"]) >= 35 and {"upi", "kyc", "otp", "npci"} <= set(meta["vocabulary"])
    assert {c["name"] for c in meta["competitors"]} >= {"Google Pay", "PhonePe", "Paytm", "Amazon Pay", "BHIM", "CRED"}
    assert all(c["hashtags"] and c["aliases"] for c in meta["competitors"])
    assert meta["tickets"] == {"min_reviews": 5}


def test_cli_writes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "nested" / "reviews.jsonl"
    main(["--out", str(out), "--n", "300", "--seed", "3", "--days", "14"])
    assert out.read_text(encoding="utf-8").splitlines() == generate(n=300, seed=3, days=14)
    err = capsys.readouterr().err
    assert "300 lines" in err and "feedback=" in err and "malformed=" in err


def test_demo_watch_command_is_a_valid_snap_in_command() -> None:
    from demo.generate import watch_command
    from core.watchlist import parse_commands

    commands = parse_commands(watch_command())
    assert [c.hashtags[0] for c in commands] == ["#GooglePay", "#PhonePe", "#Paytm", "#AmazonPay", "#BHIM", "#CRED"]
    assert all(c.action == "add" and c.app_id == "paynest" for c in commands)
