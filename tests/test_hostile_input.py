"""Hostile input (issue 9): parsing and every pure step end in a record, never in a crash.

Hypothesis generates random bytes (decoded with surrogateescape / replace / latin-1), lone
surrogates, control characters and NUL, Unicode noncharacters, bidi overrides, emoji with
zero-width joiners, HTML/script, NaN/Infinity and huge numbers, deeply nested JSON, every review
field with the wrong type or missing, unknown apps and dates outside any calendar. Each property
runs a bounded, derandomized number of examples (deterministic in CI); every crash found is kept
as an `@example`. One end-to-end test runs the real flow on a fixed batch of hostile messages.

A longer, random hunt: `SIFT_HOSTILE_EXAMPLES=5000 python -m pytest -q tests/test_hostile_input.py
-k "not real_flow" --hypothesis-show-statistics`.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from connectors.sqlite_store import SqliteStore
from core.appmeta import load_apps
from flows.operators.dedup import DedupConfig, dedup_step
from flows.operators.denoise import denoise
from core.rules import DenoiseRules
from flows.operators.parse import EARLIEST, FUTURE_SKEW, MAX_DEPTH, MAX_RAW_CHARS, parse_message
from core.records import is_app_id
from flows.operators.translate import TranslateBatch
from core.records import NoTranslator, Translation
from core.watchlist import ACTIONS, parse_commands
from core.records import MAX_DETAIL_CHARS, EnrichedReview, Measures, RawMessage, Rejected, Review, valid_text
from tests.helpers import RECEIVED, ROOT, raw

HUNT = int(os.environ.get("SIFT_HOSTILE_EXAMPLES", "0"))  # > 0: that many random (not derandomized) examples
PURE = settings(
    max_examples=HUNT or 200, deadline=None, derandomize=not HUNT, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
APPS = load_apps(ROOT / "demo" / "apps")
KNOWN = frozenset(APPS)
APP_RULES = {app_id: DenoiseRules().with_overrides(app.denoise, app.vocabulary) for app_id, app in APPS.items()}
PARSE_REASONS = {"blank_line", "malformed_json", "missing_field", "invalid_field", "unknown_app", "too_large", "poison_message"}
DENOISE_REASONS = {"too_short", "non_english", "referral_spam", "contest_spam", "brand_reply", "broadcast", "gibberish", "misspelled"}
DEDUP_REASONS = {"repeated_spam", "duplicate", "templated_spam"}
TRANSLATIONS = {"not_needed", "translated", "untranslated", "failed"}
MAX_RECEIVES = 5

# ── strategies ────────────────────────────────────────────────────────────────────────────────
SPECIALS = [
    "\x00", "\x07", "\x1b[31m", "\r\n", "\x0b", "\x7f", "\x85", "\x9f", "\ufeff", "\ufffe", "\uffff", "\ufdd0",
    "\U0001fffe", "\U0010ffff", "\ud800", "\udfff", "\udcff", "\ud83d", "\u202e", "\u202d", "\u2066", "\u2069",
    "\u200b", "\u200d", "\u2028", "\u2029", "\u00a0", "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "e" + "\u0301" * 40,
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"'><svg/onload=alert(1)>", "{{7*7}}",
    "${jndi:ldap://x/a}", "'; DROP TABLE reviews; --", "%s%n%x", "पेमेंट फेल हो गया", "مرحبا بالعالم", "שלום",
    "付款失败", "Ｆｕｌｌｗｉｄｔｈ", "𝓯𝓪𝓷𝓬𝔂 𝓽𝓮𝔁𝓽", "payment failed money debited", "app crashes on login",
    "#giveaway", "https://user:pass@example.com/a?b=c", "WhatsApp 98XXXXXX21", "referral code PN7K2X ₹100",
    "qwerty asdf zxcv", "good good good good good", "1 " * 30,
]
any_char = st.one_of(st.characters(exclude_categories=()), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF))
decoded_bytes = st.tuples(st.binary(max_size=120), st.sampled_from(["surrogateescape", "replace", "latin-1"])).map(
    lambda t: t[0].decode("latin-1") if t[1] == "latin-1" else t[0].decode("utf-8", t[1])
)
hostile_text = st.one_of(
    st.text(any_char, max_size=120),
    decoded_bytes,
    st.tuples(st.lists(st.sampled_from(SPECIALS) | st.text(any_char, max_size=8), max_size=16),
              st.sampled_from(["", " "])).map(lambda t: t[1].join(t[0])),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(), hostile_text,  # floats() includes NaN, ±Infinity and -0.0
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4), max_leaves=12
)
offsets = st.sampled_from([None, timezone.utc, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
dates = st.one_of(
    st.datetimes(timezones=offsets).map(datetime.isoformat),
    st.sampled_from(["yesterday", "2026-13-01", "2026-10-01T25:00", "0001-01-01T00:00+12:00", "9999-12-31T23:59-12:00",
                     "2026-10-01T10:00:00+24:00", "  2026-10-01  ", "1969-12-31T23:59:59Z", "2100-01-01"]),
)
optional_string = st.one_of(hostile_text, json_values, st.sampled_from(["en", "hi-Latn", "EN", "xx-" * 80, "", " "]))
ids = st.one_of(st.text(max_size=20), st.integers(), hostile_text, st.just("x" * 201))
review_text = st.one_of(hostile_text, st.sampled_from(SPECIALS),
                        st.tuples(st.sampled_from(SPECIALS), hostile_text, st.sampled_from(SPECIALS)).map(" ".join))
# Well-typed messages for a known app whose strings are hostile: these reach denoise and beyond.
near_valid = st.fixed_dictionaries(
    {"app_id": st.sampled_from(sorted(KNOWN)), "text": review_text},
    optional={
        "id": ids, "rating": st.integers(0, 6), "author": hostile_text, "app_version": hostile_text,
        "created_at": st.datetimes(datetime(1970, 1, 2), datetime(2026, 11, 1), timezones=offsets)
        .map(datetime.isoformat) | dates,
        "source": hostile_text, "lang": st.sampled_from(["en", "hi-Latn", "es_MX", "x", "zz-"]),
        "meta": st.dictionaries(hostile_text, json_values, max_size=4),
    },
)
# Anything goes: every field missing, of the wrong type, or hostile; unknown fields too.
wild = st.tuples(
    st.fixed_dictionaries({}, optional={
        "id": st.one_of(ids, json_values),
        "app_id": st.one_of(st.sampled_from(sorted(KNOWN) + ["unknown-app", "", " paynest", "paynest\n", "PAYNEST"]),
                            json_values),
        "text": st.one_of(hostile_text, json_values),
        "rating": st.one_of(st.integers(-10, 10), st.sampled_from([1e308, -0.0, 5.0, 4.5, "5", "five", 10**30, True]),
                            json_values),
        "created_at": st.one_of(dates, hostile_text, json_values),
        "author": optional_string, "app_version": optional_string, "lang": optional_string, "source": optional_string,
        "meta": st.one_of(st.dictionaries(hostile_text, json_values, max_size=4), json_values),
    }),
    st.dictionaries(hostile_text, json_values, max_size=3),  # unknown fields
).map(lambda t: {**t[1], **t[0]})
messages = st.one_of(near_valid, wild)


def as_json(strategy: st.SearchStrategy) -> st.SearchStrategy[str]:
    """JSON text, ASCII-escaped or not (a lone surrogate stays in the text then); NaN literals too."""
    return st.tuples(strategy, st.booleans()).map(lambda t: json.dumps(t[0], ensure_ascii=t[1]))


payloads = st.one_of(
    as_json(near_valid), as_json(near_valid), as_json(near_valid), as_json(wild),
    hostile_text,
    json_values.map(json.dumps),
    st.tuples(messages.map(json.dumps), st.integers(0, 300)).map(lambda t: t[0][: t[1]]),  # cut-off JSON
)


def nested(depth: int, inner: str = "1") -> str:
    return '{"a":' * depth + inner + "}" * depth


MEGABYTE = "payment failed money debited " * 36_000  # ~1 MB
CRASHERS = [  # each crashed a step before issue 9
    '{"app_id": "paynest", "text": "payment failed money debited", "rating": NaN}',
    '{"app_id": "paynest", "text": "payment failed money debited", "rating": Infinity}',
    '{"app_id": "paynest", "text": "payment failed money debited", "rating": -Infinity}',
    '{"app_id": "paynest", "text": "payment failed money debited", "rating": 1e400}',
    '{"app_id": "paynest", "text": "payment failed money debited", "rating": ' + "9" * 5000 + "}",
    '{"app_id": "paynest", "text": "\x85\x90 payment failed, money debited twice"}',  # CLD2: "invalid UTF-8"
    '{"app_id": "paynest", "text": "UPI payment failed\x7f money debited"}',
    '{"app_id": "paynest", "text": "payment failed \\uffff money debited from account"}',
]
NOT_STORABLE = [  # parsed into records that no store could write
    '{"app_id": "paynest", "text": "payment failed money debited", "id": "\\ud800"}',
    '{"app_id": "paynest", "text": "payment failed money debited", "meta": {"k\\udcff": ["\\ud800"]}}',
    '{"app_id": "paynest\\u0000", "text": "payment failed money debited"}',
    '{"app_id": "paynest\\n", "text": "payment failed money debited"}',
    '{"app_id": "paynest", "text": "payment failed money debited", "meta": ' + nested(900) + "}",
    '{"app_id": "paynest", "text": "payment failed money debited", "x": ' + nested(995) + "}",
    '{"app_id": "paynest", "text": "payment failed money debited", "created_at": "9999-12-31T23:59:59-12:00"}',
    '{"app_id": "paynest", "text": "payment failed money debited", "created_at": "0001-01-01T00:00:00+12:00"}',
    '{"app_id": "paynest", "text": "payment failed money debited", "lang": "../../etc/passwd"}',
]


# ── helpers ───────────────────────────────────────────────────────────────────────────────────
def message(payload: str, receive_count: int = 1) -> RawMessage:
    return RawMessage(payload=payload, origin="test:1", received_at=RECEIVED, receive_count=receive_count)


def review(text: str, rid: str = "r1", author: str | None = None, lang_hint: str | None = None) -> Review:
    return Review(id=rid, app_id="paynest", text=text, source="test", created_at=RECEIVED, received_at=RECEIVED,
                  origin="test:1", author=author, lang_hint=lang_hint)


def enriched(r: Review, m: Measures) -> EnrichedReview:
    """What enrichment would make of a kept review (no model: the pure properties stay fast)."""
    return EnrichedReview(review=r, measures=m, lang=m.lang, text_en=r.text, translated=False, primary_label="other",
                          label_score=0.5, embedding=(0.5, 0.5, 0.5, 0.5), cluster_id=f"{r.app_id}:other:c0",
                          processed_at=RECEIVED)


def pure_steps(payload: str, receive_count: int = 1) -> EnrichedReview | Rejected:
    """parse -> denoise -> dedup (fresh state) -> translate (`none`), as the flow chains them."""
    parsed = parse_message(message(payload, receive_count), KNOWN, max_receives=MAX_RECEIVES)
    if isinstance(parsed, Rejected):
        return parsed
    kept = denoise(parsed, DenoiseRules(), APP_RULES)
    if isinstance(kept, Rejected):
        return kept
    _, unique = dedup_step(None, kept, DedupConfig())
    if isinstance(unique, Rejected):
        return unique
    [(r, m, _)] = TranslateBatch(NoTranslator())([unique])
    return enriched(r, m)


def assert_clean(text: str) -> None:
    """What parse promises about kept strings."""
    assert text == valid_text(text), "lone surrogate kept"
    bad = [c for c in text if (c < " " and c not in "\n\t") or "\x7f" <= c <= "\x9f" or "\u202a" <= c <= "\u202e"
           or "\u2066" <= c <= "\u2069" or (ord(c) & 0xFFFE) == 0xFFFE or "\ufdd0" <= c <= "\ufdef"]
    assert not bad, f"unwanted characters kept: {bad!r}"


def assert_storable(doc: dict[str, Any]) -> None:
    """Strict JSON (no NaN), encodable as UTF-8 (no lone surrogates), and reads back equal."""
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    text.encode("utf-8")
    assert json.loads(text) == doc


# ── parse ─────────────────────────────────────────────────────────────────────────────────────
@PURE
@given(payload=payloads, receive_count=st.sampled_from([1, 1, 1, 2, MAX_RECEIVES - 1, MAX_RECEIVES, MAX_RECEIVES + 1]))
@example(payload="[" * 10_000 + "]" * 10_000, receive_count=1)
@example(payload=nested(10_000), receive_count=1)
@example(payload=json.dumps({"app_id": "paynest", "text": MEGABYTE}), receive_count=1)
@example(payload=MEGABYTE, receive_count=1)
@example(payload=b"\xff\xfe{\x00\xc3(".decode("utf-8", "surrogateescape"), receive_count=1)
@example(payload='{"app_id": "paynest", "text": "\\u0000\\u0000"}', receive_count=1)
@example(payload=nested(MAX_DEPTH + 1), receive_count=MAX_RECEIVES)
@example(payload=CRASHERS[0], receive_count=MAX_RECEIVES)
@example(payload=CRASHERS[0], receive_count=1)
@example(payload=CRASHERS[1], receive_count=1)
@example(payload=CRASHERS[2], receive_count=1)
@example(payload=CRASHERS[3], receive_count=1)
@example(payload=CRASHERS[4], receive_count=1)
@example(payload=NOT_STORABLE[0], receive_count=1)
@example(payload=NOT_STORABLE[1], receive_count=1)
@example(payload=NOT_STORABLE[2], receive_count=1)
@example(payload=NOT_STORABLE[3], receive_count=1)
@example(payload=NOT_STORABLE[4], receive_count=1)
@example(payload=NOT_STORABLE[5], receive_count=1)
@example(payload=NOT_STORABLE[6], receive_count=1)
@example(payload=NOT_STORABLE[7], receive_count=1)
@example(payload=NOT_STORABLE[8], receive_count=1)
def test_parse_never_raises_and_keeps_the_raw_input(payload: str, receive_count: int) -> None:
    out = parse_message(message(payload, receive_count), KNOWN, max_receives=MAX_RECEIVES)
    event(getattr(out, "reason", "kept"))
    assert isinstance(out, (Review, Rejected))
    namespace, local = out.id.split("/", 1)  # ids are namespaced by the app the message names, else "_"
    assert namespace == (out.app_id or "_") and 0 < len(local) <= 200 and out.id.isprintable()
    assert len(out.id.encode("utf-8")) <= 512  # Elasticsearch's limit for an _id
    assert len(out.fingerprint) == 32
    if isinstance(out, Rejected):
        assert out.reason in PARSE_REASONS and out.detail and len(out.detail) <= MAX_DETAIL_CHARS
        assert out.raw == payload[:MAX_RAW_CHARS]  # the first 10,000 characters, as documented
        assert out.app_id is None or is_app_id(out.app_id)
        assert (out.reason == "poison_message") == (receive_count >= MAX_RECEIVES)
        assert_storable(out.to_doc())
        return
    assert receive_count < MAX_RECEIVES
    assert out.app_id in KNOWN and out.raw == payload
    assert out.text and out.text == out.text.strip()
    for text in (out.text, out.author or "", out.app_version or "", out.source, out.lang_hint or ""):
        assert_clean(text)
    assert out.rating is None or 1 <= out.rating <= 5
    assert EARLIEST <= out.created_at <= RECEIVED + FUTURE_SKEW
    assert_storable(enriched(out, Measures(3, 0.0)).to_doc())


def test_crashers_and_unstorable_inputs_get_a_reason() -> None:
    reasons = [getattr(parse_message(raw(p), KNOWN), "reason", "kept") for p in CRASHERS[:5] + NOT_STORABLE]
    assert reasons == ["malformed_json"] * 5 + [
        "invalid_field", "kept", "invalid_field", "invalid_field", "malformed_json", "malformed_json",
        "invalid_field", "invalid_field", "invalid_field"]
    kept = parse_message(raw(NOT_STORABLE[1]), KNOWN)  # meta keeps its data; lone surrogates become U+FFFD
    assert kept.meta == {"k\ufffd": ["\ufffd"]}


def test_text_loses_controls_and_bidi_overrides_but_keeps_emoji_and_markup() -> None:
    text = "\u202eevil\u202c <b>pay</b>\x00 failed\x85 \ufffe👨\u200d👩\u200d👧 \U0010ffff\tok\r\n"
    out = parse_message(raw({"app_id": "paynest", "text": text}), KNOWN)
    assert isinstance(out, Review)
    assert out.text == "evil <b>pay</b> failed 👨\u200d👩\u200d👧 \tok"


# ── denoise, dedup, translate ─────────────────────────────────────────────────────────────────
@PURE
@given(text=st.one_of(hostile_text, st.sampled_from(SPECIALS)))
@example(text="\x85\x90 payment failed money debited")  # pycld2.error: "input contains invalid UTF-8"
@example(text="a\x7fb c d")
@example(text="\ufffe payment failed today")
@example(text="\U0010ffff hello there my friend")
@example(text="\ud800 payment failed money debited")
@example(text="\ud800")
@example(text="")
@example(text="1 " * 4000)
@example(text=("payment failed money debited " * 300)[:8000])
def test_denoise_never_raises(text: str) -> None:
    out = denoise(review(text), DenoiseRules(), APP_RULES)
    event(getattr(out, "reason", "kept"))
    if isinstance(out, Rejected):
        assert out.reason in DENOISE_REASONS and out.detail and out.measures is not None
        assert_storable(out.to_doc())
    else:
        kept, m = out
        assert kept.text == text and isinstance(m, Measures)


BACKTRACKERS = [  # 8,000 characters that cost 2-16 s of CPU each in the spam regexes before issue 9
    "use" + " " * 7990 + "x",
    "use" + "\u3000" * 7990,
    "usa mi código " + "1" * 7900 + "_",
    "con código " + "9" * 7980 + "_",
]


def test_denoise_cost_stays_linear_on_backtracking_bait() -> None:
    denoise(review("warm up the word lists and CLD2"), DenoiseRules())
    for text in BACKTRACKERS:
        start = time.process_time()  # CPU time: not inflated by other processes on a shared machine
        denoise(review(text), DenoiseRules(), APP_RULES)
        assert time.process_time() - start < 1.0, f"{text[:16]!r}… took {time.process_time() - start:.1f} s"


def test_sentiment_cost_stays_bounded_on_an_emoji_flood() -> None:
    from flows.operators.sentiment import sentiment

    text = "payment failed badly " + "😀 " * 3990
    if not isinstance(denoise(review(text), DenoiseRules(), APP_RULES), tuple):
        raise RuntimeError("precondition: denoise keeps this review, so it reaches sentiment")
    sentiment("warm up", None)
    start = time.process_time()
    sentiment(text, None)
    assert time.process_time() - start < 1.0


@PURE
@given(payload=payloads)
@example(payload=CRASHERS[5])
@example(payload=CRASHERS[6])
@example(payload=CRASHERS[7])
def test_pure_steps_end_in_one_storable_outcome(payload: str) -> None:
    out = pure_steps(payload)
    event(getattr(out, "reason", "kept"))
    assert isinstance(out, (EnrichedReview, Rejected))
    if isinstance(out, Rejected):
        assert out.reason in PARSE_REASONS | DENOISE_REASONS | DEDUP_REASONS and out.detail
        assert len(out.detail) <= MAX_DETAIL_CHARS
    assert_storable(out.to_doc())


dedup_items = st.lists(
    st.tuples(st.one_of(hostile_text, st.sampled_from(SPECIALS)), st.sampled_from([None, "", "ann", "Ann ", "bob"]),
              st.sampled_from([(), ("url",), ("phone", "messenger")])),
    max_size=40,
)


@PURE
@given(items=dedup_items)
@example(items=[("\ud800", "ann", ())])  # a lone surrogate could not be hashed
@example(items=[("payment failed money debited", "ann", ("url",))] * 12)
def test_dedup_never_raises_and_its_memory_stays_bounded(items: list) -> None:
    cfg = DedupConfig(max_repeats=1, capacity=8, max_authors=2)
    state = None
    for i, (text, author, markers) in enumerate(items):
        r = review(text, rid=f"r{i}", author=author)
        state, out = dedup_step(state, (r, Measures(3, 0.0, spam_markers=markers)), cfg)
        if isinstance(out, Rejected):
            assert out.reason in DEDUP_REASONS and out.id == r.id and len(out.detail) <= MAX_DETAIL_CHARS
            assert_storable(out.to_doc())
        else:
            assert out[0] is r and out[1].repeat_count >= 1
        assert len(state.seen) <= cfg.capacity
        assert all(len(entry.authors) <= cfg.max_authors for entry in state.seen.values())
        assert set().union(*state.bands.values()) == set(state.seen)  # no band keeps an evicted signature
    if state is not None:
        again = pickle.loads(pickle.dumps(state))  # Bytewax snapshots pickle the state
        assert list(again.seen) == list(state.seen) and again.bands == state.bands


class _HostileTranslator:
    """A backend that supports everything and misbehaves by language: raises, returns too few, or echoes."""

    name = "hostile"

    def supports(self, lang: str) -> bool:
        return True

    def translate(self, texts, lang):
        if lang.startswith("x"):
            raise RuntimeError(f"backend down for {lang!r}")
        if lang.startswith("y"):
            return []
        return [Translation("translated", f"EN {t}", lang) for t in texts]


@PURE
@given(batch=st.lists(st.tuples(st.one_of(hostile_text, st.sampled_from(SPECIALS)),
                                st.sampled_from(["en", "und", "hi", "x-bad", "yy", "zz", "hi-Latn"]),
                                st.sampled_from([None, "es", "xx", "yy", "EN"])), max_size=20),
       backend=st.sampled_from([NoTranslator(), _HostileTranslator()]))
def test_translate_returns_one_translation_per_review_and_bounds_its_cache(batch: list, backend) -> None:
    step = TranslateBatch(backend, cache_size=3)
    items = [(review(text, rid=f"r{i}", lang_hint=hint), Measures(3, 0.0, lang=lang))
             for i, (text, lang, hint) in enumerate(batch)]
    out = step(items)
    assert [r.id for r, _, _ in out] == [r.id for r, _ in items]
    assert all(t.status in TRANSLATIONS and t.text_en == (f"EN {r.text}" if t.status == "translated" else r.text)
               for r, _, t in out)
    assert len(step._cache) <= 3


# ── watch-list commands ───────────────────────────────────────────────────────────────────────
good_tags = st.from_regex(r"#[A-Za-z][A-Za-z0-9]{0,15}", fullmatch=True)
hashtag_words = good_tags | st.sampled_from(["add", "remove", "/add", "ADD", "watch", "#GooglePay", "#PhonePe", "#", "#_x",
                                             "#Ünïcode", "#" + "a" * 90, "#a\u202e", "#\ud800", "#x\x00"])
orgs = st.fixed_dictionaries({}, optional={
    "name": st.one_of(hostile_text, st.just("Google Pay"), json_values),
    "hashtags": st.one_of(st.lists(st.one_of(hashtag_words, hostile_text), max_size=3), json_values),
    "aliases": st.one_of(st.lists(st.one_of(st.just("gpay"), hostile_text), max_size=3), json_values),
})
near_valid_orgs = st.fixed_dictionaries(
    {"hashtags": st.lists(good_tags, min_size=1, max_size=2)},
    optional={"name": st.one_of(st.text(max_size=20), hostile_text),
              "aliases": st.lists(st.text(min_size=1, max_size=20) | hostile_text, max_size=3)},
)
near_valid_commands = st.one_of(
    st.fixed_dictionaries({"app_id": st.just("paynest"), "command": st.lists(hashtag_words, min_size=1, max_size=5).map(
        lambda words: " ".join(["add", *words]))}),
    st.fixed_dictionaries({"app_id": st.just("paynest"), "action": st.sampled_from(ACTIONS),
                           "orgs": st.lists(near_valid_orgs | orgs, min_size=1, max_size=3)}),
)
commands = near_valid_commands | st.fixed_dictionaries({}, optional={
    "app_id": st.one_of(st.sampled_from(["paynest", "", " ", "pay nest", "\ud800"]), json_values),
    "command": st.one_of(hostile_text, st.lists(hashtag_words, max_size=5).map(" ".join), json_values),
    "action": st.one_of(st.sampled_from(list(ACTIONS) + ["drop"]), json_values),
    "orgs": st.one_of(st.lists(st.one_of(orgs, json_values), max_size=4), json_values),
})
command_payloads = st.one_of(
    commands,
    commands.map(json.dumps),
    commands.map(lambda c: json.dumps(c, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    hostile_text, st.binary(max_size=80), json_values.map(json.dumps),
)


@PURE
@given(payload=command_payloads)
@example(payload="[" * 100_000)  # RecursionError from json.loads
@example(payload=b"[" * 100_000)
@example(payload={"app_id": "paynest", "action": "add", "orgs": [{"name": "G\ud800"}]})  # unstorable name
@example(payload={"app_id": "paynest", "action": "add", "orgs": [{"name": "G", "aliases": ["\x00"]}]})
@example(payload={"app_id": "\x00", "command": "add #GooglePay"})
@example(payload=b"\xff\xfe\x00")
def test_parse_commands_raises_only_value_error(payload) -> None:
    try:
        parsed = parse_commands(payload, received_at=RECEIVED)
    except ValueError as e:
        assert type(e) is ValueError and str(e)  # not a UnicodeError from deep inside
        event("ValueError")
        return
    event("parsed")
    assert parsed
    for command in parsed:
        assert command.action in ACTIONS and is_app_id(command.app_id) and command.org and command.id
        assert_storable(command.to_doc())


# ── to_doc and the SQLite store ───────────────────────────────────────────────────────────────
@PURE
@given(raw_text=st.one_of(hostile_text, decoded_bytes))
@example(raw_text=b"\xff{\x80}".decode("utf-8", "surrogateescape"))
@example(raw_text="\ud83d\ude00 split pair \ud83d")
def test_rejected_doc_is_storable_whatever_the_raw_input(raw_text: str) -> None:
    rejected = Rejected(id="r1", app_id=None, reason="malformed_json", detail="x", raw=raw_text, origin="test:1",
                        received_at=RECEIVED, at=RECEIVED)
    doc = rejected.to_doc()
    assert_storable(doc)
    assert doc["raw"] == raw_text or "\ufffd" in doc["raw"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = SqliteStore(tmp_path_factory.mktemp("hostile") / "x.db")
    s.setup()
    yield s
    s.close()


@settings(PURE, max_examples=HUNT or 120)
@given(payload=payloads, query=hostile_text)
@example(payload='{"app_id": "paynest", "text": "payment \\u0000 failed \\ud800 money debited <script>x</script>"}',
         query="\x00")
@example(payload=NOT_STORABLE[1], query="\ud800")
@example(payload=b"\xff\x00{}".decode("utf-8", "surrogateescape"), query='"')
def test_sqlite_store_reads_every_outcome_back_equal(store: SqliteStore, payload: str, query: str) -> None:
    out = pure_steps(payload)
    [stored] = store.write([out])  # examples share the store: a message reusing an earlier one's id is kept apart
    expected = {k: v for k, v in stored.to_doc().items() if k != "embedding"}
    kind = "enriched" if isinstance(stored, EnrichedReview) else "rejected"
    assert store.get(stored.id) == {**expected, "kind": kind}
    if stored.id != out.id:
        assert stored.reason == "id_conflict" and store.get(out.id)["fingerprint"] != out.fingerprint
    store.search_text(query)  # any query is safe
    assert store.counts().total >= 1  # json_extract over every stored document still works


def test_sqlite_store_refuses_nan_instead_of_breaking_every_query(store: SqliteStore) -> None:
    from connectors.store import StoreError

    bad = Rejected(id="nan", app_id=None, reason="malformed_json", detail="x", raw="", origin="t", received_at=RECEIVED,
                   at=RECEIVED, measures=Measures(3, float("nan")))
    before = store.counts().total
    with pytest.raises(StoreError, match="not storable JSON"):
        store.write([bad])
    assert store.get("nan") is None and store.counts().total == before  # nothing stored, and counts still work


# ── the real flow ─────────────────────────────────────────────────────────────────────────────
def _ok(rid: str, text: str, **fields: Any) -> str:
    return json.dumps({"id": rid, "app_id": "paynest", "text": text, **fields}, ensure_ascii=False)


E2E = [
    *CRASHERS, *NOT_STORABLE,
    "[" * 10_000 + "]" * 10_000, nested(40), MEGABYTE, json.dumps({"app_id": "paynest", "text": MEGABYTE}), "", "  ",
    "null", "[]", '"a string"', "{not json", b"\xff\xfe\x00junk".decode("utf-8", "surrogateescape"),
    b'{"app_id": "paynest", "text": "caf\xc3 payment failed"}'.decode("utf-8", "replace"),
    _ok("html", "<script>alert('x')</script> payment failed and money debited from my account"),
    _ok("bidi", "\u202epayment failed\u202c but the money was debited from my bank account"),
    _ok("zwj", "👨\u200d👩\u200d👧\u200d👦 family plan payment failed, money debited twice 🏳️\u200d🌈"),
    _ok("nul", "payment\u0000 failed\u0007 and money got debited from the account"),
    _ok("c1", "payment\u0085 failed\u009f and money\u007f got debited from the account"),
    _ok("nonchar", "payment failed \uffff\ufdd0 and money got debited \U0010ffff from the account"),
    _ok("surrogate", "payment failed \ud800 and money got debited from the account"),
    _ok("sqli", "'; DROP TABLE reviews; -- payment failed and money debited from account"),
    _ok("fancy", "𝓹𝓪𝔂𝓶𝓮𝓷𝓽 𝓯𝓪𝓲𝓵𝓮𝓭 𝓶𝓸𝓷𝓮𝔂 𝓭𝓮𝓫𝓲𝓽𝓮𝓭"),
    _ok("hindi", "पेमेंट फेल हो गया और पैसे कट गए"),
    _ok("longest", ("upi payment failed but money debited from account " * 200)[:8000].strip()),
    _ok("meta-deep", "payment failed and money got debited from my account", meta=json.loads(nested(MAX_DEPTH - 1))),
    _ok("lang", "pago fallido pero me cobraron el dinero de la cuenta", lang="es-MX"),
    _ok("rating-str", "payment failed and money got debited from my account", rating="5"),
    _ok("rating-big", "payment failed and money got debited from my account", rating=10**30),
    _ok("ok", "UPI payment failed but money got debited from my account", rating=1,
        created_at="2026-10-01T10:00:00+05:30"),
    _ok("future", "UPI payment failed but money got debited from my account", created_at="2031-01-01T00:00:00Z"),
    _ok("epoch", "UPI payment failed but the money got debited from my bank", created_at="1970-01-01T00:00:00Z"),
    _ok("skew", "UPI payment failed and my money got debited from the bank", created_at="2026-11-02T11:00:00+14:00"),
    _ok("day-one", "UPI payment failed and my money got debited from the account", created_at="0001-01-01T00:00:00Z"),
    json.dumps({"id": "unknown", "app_id": "unknown-app", "text": "payment failed"}),
    json.dumps({"id": ["list"], "app_id": "paynest", "text": "payment failed money debited"}),
    json.dumps({"id": "missing"}), json.dumps({"app_id": None, "text": None, "rating": None}),
]


WATCH_E2E = [
    '{"app_id": "paynest", "command": "add #GooglePay #PhonePe"}',
    '{"app_id": "paynest", "action": "add", "orgs": [{"name": "Cred", "hashtags": ["#CRED"], "aliases": ["cred app"]}]}',
    '{"app_id": "paynest", "command": "remove #PhonePe"}',
    "[" * 500 + "]" * 500, "{not json", "", "null", '{"app_id": "paynest", "command": NaN}',
    '{"app_id": "pay\u0000nest", "command": "add #GooglePay"}',
    '{"app_id": "paynest", "action": "add", "orgs": [{"name": "G\ud800"}]}',
    '{"app_id": "paynest", "action": "add", "orgs": [{"name": "\u202eyaPelgooG", "aliases": ["<script>x</script>"]}]}',
    '{"app_id": "unknown-app", "command": "add #GooglePay"}',
    json.dumps({"app_id": "paynest", "command": "add " + " ".join(f"#Org{i}" for i in range(60))}),
]


def test_watch_list_line_nested_10000_deep_is_skipped_not_fatal() -> None:
    from flows.operators.feature_requests import commands_from

    line = RawMessage(payload="[" * 10_000 + "]" * 10_000, origin="watch:1", received_at=RECEIVED)
    assert commands_from(line) == []


def _optional_io(build_flow, documents: list, commands: list[RawMessage]) -> dict[str, Any]:
    """The document sink and watch-list source, for a `build_flow` that has them (their wiring is still settling)."""
    from bytewax.testing import TestingSink, TestingSource

    params = inspect.signature(build_flow).parameters
    io: dict[str, Any] = {}
    if "documents_sink" in params:
        io["documents_sink"] = TestingSink(documents)
    if "watch_source" in params:
        io["watch_source"] = TestingSource(commands)
    return io


def test_real_flow_stores_exactly_one_outcome_per_hostile_message(apps, embedder, tmp_path) -> None:
    from bytewax.testing import TestingSink, TestingSource, run_main

    from flows.dataflow import build_flow
    from core.settings import Settings

    messages = [raw(p, n=i) for i, p in enumerate(E2E)]
    expected = Counter(parse_message(m, frozenset(apps)).id for m in messages)
    assert len(expected) == len(E2E), "test payloads must have distinct ids"
    out: list = []
    documents: list = []
    commands = [RawMessage(payload=p, origin=f"watch:{i}", received_at=RECEIVED) for i, p in enumerate(WATCH_E2E)]
    flow = build_flow(Settings.from_env({"SIFT_CLUSTERS_PER_LABEL": "4"}), apps, TestingSource(messages, batch_size=16),
                      TestingSink(out), embedder=embedder, **_optional_io(build_flow, documents, commands))
    run_main(flow)
    assert Counter(o.id for o in out) == expected
    by_id = {o.id.split("/", 1)[1]: o for o in out}  # by the message's own id
    for rid in ("html", "bidi", "zwj", "nul", "c1", "nonchar", "surrogate", "sqli", "meta-deep", "lang", "ok", "epoch",
                "skew"):
        assert isinstance(by_id[rid], EnrichedReview), (rid, by_id[rid])
    assert by_id["html"].review.text.startswith("<script>")  # stored as text; escaping is the reader's job
    rejected = ("future", "day-one", "unknown", "rating-str", "rating-big", "missing")
    assert {rid: by_id[rid].reason for rid in rejected} == {
        "future": "invalid_field", "day-one": "invalid_field", "unknown": "unknown_app", "rating-str": "invalid_field",
        "rating-big": "invalid_field", "missing": "missing_field"}
    for document in documents:  # tickets and watch-list documents quote input text: strict, encodable JSON too
        json.dumps(document, allow_nan=False, ensure_ascii=False, default=str).encode("utf-8")
    store = SqliteStore(tmp_path / "e2e.db")
    store.setup()
    store.write(out)
    assert store.counts().total == len(E2E)
    assert all(store.get(rid) is not None for rid in expected)
    store.close()
