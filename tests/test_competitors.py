"""Competitor watch list and detection (issue 7), pure: no model, no flow."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from demo.generate import COMPETITOR, COMPETITOR_FEATURES
from flows.appmeta import Competitor, load_apps
from flows.operators.competitors import (
    OVERALL, Detection, WatchedOrg, WatchList, detect, feature_key, find_mentions, resolve,
)
from flows.watchlist import parse_commands
from flows.records import WatchCommand

ROOT = Path(__file__).resolve().parent.parent
COMPETITORS = load_apps(ROOT / "demo" / "apps" / "paynest.json")["paynest"].competitors
ALL = "add #GooglePay #PhonePe #Paytm #AmazonPay #BHIM #CRED"


def watching(command: str = ALL, competitors: tuple[Competitor, ...] = COMPETITORS, watch: WatchList | None = None) -> WatchList:
    watch = watch if watch is not None else WatchList()
    for cmd in parse_commands({"app_id": "paynest", "command": command}):
        watch.apply(cmd, competitors)
    return watch


def found(text: str, watch: WatchList, review_type: str = "", text_en: str = "") -> list[tuple[str, str, str]]:
    return [(d.org, d.kind, d.feature) for d in detect(text, text_en, review_type, watch)]


# ── watch list ────────────────────────────────────────────────────────────────────────────────────
def test_snap_in_text_command_resolves_against_app_metadata():
    watch = WatchList()
    messages = [watch.apply(cmd, COMPETITORS)
                for cmd in parse_commands({"app_id": "paynest", "command": "add #GooglePay #PhonePe"})]
    assert [o.name for o in watch.watched] == ["Google Pay", "PhonePe"]  # "#PhonePe" -> "Phone Pe" -> metadata's "PhonePe"
    assert messages[1].startswith("watching PhonePe (#PhonePe; ")
    gpay = watch.orgs["googlepay"]
    assert gpay.hashtags == ("#GooglePay", "#GPay")
    assert {"gpay", "tez", "g pay"} <= set(gpay.aliases)


def test_resolve_matches_any_form_and_keeps_unknown_orgs_as_sent():
    cmd = WatchCommand("add", "paynest", "G Pay", ("#GPay",))
    assert resolve(cmd, COMPETITORS).name == "Google Pay"
    cmd = WatchCommand("add", "paynest", "MobiKwik", ("#MobiKwik",), ("mobikwik",))
    assert resolve(cmd, COMPETITORS) == WatchedOrg("MobiKwik", ("#MobiKwik",), ("mobikwik",))


def test_add_replaces_aliases_and_remove_of_unknown_org_changes_nothing():
    watch = WatchList()
    watch.apply(WatchCommand("add", "paynest", "MobiKwik", ("#MobiKwik",), ("kwik",)))
    assert found("kwik has a gold wallet, please add", watch) == [("MobiKwik", "request", "gold wallet")]
    assert watch.apply(WatchCommand("add", "paynest", "MobiKwik", ("#MobiKwik",), ())).startswith("now watching MobiKwik")
    assert found("kwik has a gold wallet, please add", watch) == []
    assert watch.apply(WatchCommand("remove", "paynest", "Freecharge")) == "not watching 'Freecharge'; nothing removed"
    assert len(watch) == 1
    with pytest.raises(ValueError, match="'pause'"):
        watch.apply(WatchCommand("pause", "paynest", "MobiKwik", id="wl-1"))


def test_add_googlepay_then_requests_are_detected_and_remove_stops_them():
    """Issue 7 acceptance, pure: add #GooglePay -> records for gpay / Google Pay / #GooglePay; remove -> none."""
    watch = watching("add #GooglePay")
    reviews = ["gpay has split bill, please add it", "Please add tap to pay like Google Pay",
               "why is there no group bill splitting? even #GooglePay has it"]
    assert [found(r, watch) for r in reviews] == [
        [("Google Pay", "request", "split bill")],
        [("Google Pay", "request", "tap to pay")],
        [("Google Pay", "request", "group bill splitting")],
    ]
    assert [d.matched for r in reviews for d in detect(r, "", "", watch)] == ["gpay", "Google Pay", "#GooglePay"]
    watching("remove #GPay", watch=watch)  # any of the org's hashtags or aliases names it
    assert len(watch) == 0
    assert [found(r, watch) for r in reviews] == [[], [], []]


def test_watch_list_survives_pickle_and_stays_small():
    watch = watching()
    review = "Paytm me movie ticket booking hai, yaha kab aayega? gpay is faster than this app"
    before = detect(review, "", "", watch)  # builds and caches the patterns
    data = pickle.dumps(watch)
    assert len(data) < 1500
    assert b"re\n_compile" not in data and b"Pattern" not in data
    restored = pickle.loads(data)
    assert restored == watch and detect(review, "", "", restored) == before
    assert len(before) == 2


# ── mentions ──────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text", ["Google Pay", "google pay", "googlepay", "google-pay", "#GooglePay", "GPay", "g pay",
                                  "G-Pay", "@GooglePayIndia", "#GooglePay's"])
def test_spellings_of_a_watched_name(text):
    watch = watching("add #GooglePay", competitors=())  # no metadata: name, hashtag and derived aliases only
    assert [m.org for m in find_mentions(f"I tried {text} yesterday", watch)] == ["Google Pay"]


@pytest.mark.parametrize("text,org", [("paytym", "Paytm"), ("patym", "Paytm"), ("Paytms", "Paytm"), ("phonpe", "Phone Pe"),
                                      ("phoenpe", "Phone Pe"), ("Amzaon Pay", "Amazon Pay")])
def test_one_edit_misspellings(text, org):
    watch = watching("add #Paytm #PhonePe #AmazonPay", competitors=())
    assert [m.org for m in find_mentions(f"moved to {text} last week", watch)] == [org]


def test_phonepay_is_phonepe_through_the_metadata_alias():
    assert [m.org for m in find_mentions("phonepay works", watching("add #PhonePe"))] == ["PhonePe"]


@pytest.mark.parametrize("text", ["paytmall sale", "I love google play", "Paytmcash", "mobile pay", "HDFC's bank",
                                  "phone payment failed", "the cuenta is blocked", "a pay cut",
                                  "@CredibleCrypto", "#Credit score", "creado por"])
def test_no_mention_inside_other_words_or_for_real_words(text):
    watch = watching(ALL + " #Cuenca #StandardBank")
    assert find_mentions(text, watch) == []


def test_a_name_that_is_a_common_word_counts_only_capitalised():
    watch = watching("add #Pocket #Messenger", competitors=())
    assert [m.org for m in find_mentions("way better than Pocket, and Messenger too", watch)] == ["Pocket", "Messenger"]
    assert find_mentions("kept it in my pocket, best messenger ever, very good messanger", watch) == []
    assert [m.org for m in find_mentions("try #pocket", watch)] == ["Pocket"]


# ── detection ─────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text", [
    "paid via Google Pay", "PhonePe is down", "I use g pay Paytm phone pe", "sent money to my paytm wallet",
    "I like gpay", "other than gpay nothing works", "paytm has been down since morning", "PhonePe has the same problem",
    "transfer from CRED failed, please fix", "Like gpay and paytm?", "and then gpay asked for the pin",
])
def test_mere_mentions_are_not_detections(text):
    assert found(text, watching()) == []


@pytest.mark.parametrize("text,expected", [
    ("Google Pay has scratch cards, please add", ("Google Pay", "request", "scratch cards")),
    ("switching to PhonePe because it shows refund status", ("PhonePe", "comparison", "refund status")),
    ("add UPI lite like Paytm", ("Paytm", "request", "upi lite")),
    ("why is there no split bill? even gpay has it", ("Google Pay", "request", "split bill")),
    ("Paytm me movie ticket booking hai, yaha kab aayega?", ("Paytm", "request", "movie ticket booking")),
    ("CRED gives better cashback than this", ("CRED", "comparison", "cashback")),
    ("better than Amazon Pay, cashback is real here", ("Amazon Pay", "comparison", "cashback")),
    ("used BHIM for years, PayNest is smoother", ("BHIM", "comparison", "smoothness")),
    ("G PAY IS BEST FOR TRANSACTIONS", ("Google Pay", "comparison", "transactions")),
    ("Very poor service compared to Google pay don't download", ("Google Pay", "comparison", "service")),
    ("cash back is not available better to go with G pay", ("Google Pay", "comparison", "cash back")),
    ("Install Google pay , it is more transparent unlike this super-hyped app.", ("Google Pay", "comparison", "transparency")),
    ("Switched from paytm to this app due to beautiful UI.", ("Paytm", "comparison", "beautiful ui")),
    ("add this feature in which we manually set the amount in QR code ....as we can set in Google pay",
     ("Google Pay", "request", "manually set the amount in qr code")),
    ("No CASHBACK OFFERS like #Paytm.", ("Paytm", "comparison", "cashback offers")),
    ("phone pay is better than you", ("PhonePe", "comparison", OVERALL)),
    ("gpay jaisa split bill do na", ("Google Pay", "request", "split bill")),
    ("Me gustaría una opción de apartados como en Paytm", ("Paytm", "request", "apartados")),
])
def test_requests_comparisons_and_their_feature_phrases(text, expected):
    assert found(text, watching()) == [expected]


def test_every_demo_competitor_template_is_detected_with_its_feature():
    """The demo generator's competitor reviews, with every name, alias and hashtag of every competitor."""
    watch, misses = watching(), []
    for comp in COMPETITORS:
        for mention in (comp.name, *comp.aliases, *comp.hashtags):
            for sentiment, templates in COMPETITOR.items():
                for template in templates:
                    for feature in COMPETITOR_FEATURES[comp.name] if "{feature}" in template else [None]:
                        text = template.format(comp=mention, feature=feature)
                        got = detect(text, "", "", watch)
                        kind = "request" if sentiment == "req" else "comparison"
                        if [(d.org, d.kind) for d in got] != [(comp.name, kind)] or (
                                feature and got[0].key != feature_key(feature)):
                            misses.append((text, got))
    assert misses == []


def test_enumerations_count_for_each_org_and_one_detection_per_org():
    got = found("better than google pay and phone pay in terms of smooth transactions. google pay is slow", watching())
    assert got == [("Google Pay", "comparison", "transactions"), ("PhonePe", "comparison", "transactions")]


def test_translation_is_read_too():
    text = "Paytm wala feature chahiye"  # no comparison cue in the original
    assert found(text, watching()) == []
    assert found(text, watching(), text_en="please add the wallet feature like Paytm") == [("Paytm", "request", "wallet")]


def test_review_type_feature_request_places_the_feature_at_the_org():
    text = "please add bill due date reminders, they are there in gpay"
    assert found(text, watching(), review_type="feature_request") == [("Google Pay", "request", "bill due date reminders")]
    assert found("please add money to my gpay account", watching(), review_type="feature_request") == []


def test_detection_key_groups_phrasings():
    assert feature_key("scratch card") == feature_key("scratch cards") == feature_key("the Scratch Cards") == "card scratch"
    assert feature_key("group bill splitting") == "bill group split"
    assert feature_key("cash back") == feature_key("Cashback") == "cashback"
    assert Detection("Paytm", "request", "UPI Lite", "paytm").key == "lite upi"
