"""Competitor watch list, mentions and directions (issues 7 and 21), pure: no model, no flow."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from demo.generate import COMPETITOR, COMPETITOR_FEATURES
from core.appmeta import Competitor, load_apps
from flows.operators.competitors import (
    COMPETITOR_AHEAD, NEUTRAL, OWN_AHEAD, SWITCHING_AWAY, SWITCHING_TO, Detection, WatchedOrg, WatchList, concrete,
    detect, feature_key, find_mentions, resolve,
)
from core.watchlist import parse_commands
from core.records import WatchCommand

ROOT = Path(__file__).resolve().parent.parent
COMPETITORS = load_apps(ROOT / "demo" / "apps" / "paynest.json")["paynest"].competitors
ALL = "add #GooglePay #PhonePe #Paytm #AmazonPay #BHIM #CRED"


def watching(command: str = ALL, competitors: tuple[Competitor, ...] = COMPETITORS, watch: WatchList | None = None) -> WatchList:
    watch = watch if watch is not None else WatchList()
    for cmd in parse_commands({"app_id": "paynest", "command": command}):
        watch.apply(cmd, competitors)
    return watch


def found(text: str, watch: WatchList, review_type: str = "", text_en: str = "", app: str = "PayNest",
          judged: bool = True) -> list[tuple[str, str, str | None]]:
    """(org, direction, feature) per named org; `judged`: only the mentions with a direction other than neutral."""
    return [(d.org, d.direction, d.feature) for d in detect(text, watch, app=app, text_en=text_en, review_type=review_type)
            if not judged or d.direction != NEUTRAL]


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
    assert found("kwik has a gold wallet, please add", watch) == [("MobiKwik", COMPETITOR_AHEAD, "gold wallet")]
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
        [("Google Pay", COMPETITOR_AHEAD, "split bill")],
        [("Google Pay", COMPETITOR_AHEAD, "tap to pay")],
        [("Google Pay", COMPETITOR_AHEAD, "group bill splitting")],
    ]
    assert [d.matched for r in reviews for d in detect(r, watch)] == ["gpay", "Google Pay", "#GooglePay"]
    watching("remove #GPay", watch=watch)  # any of the org's hashtags or aliases names it
    assert len(watch) == 0
    assert [found(r, watch) for r in reviews] == [[], [], []]


def test_watch_list_survives_pickle_and_stays_small():
    watch = watching()
    review = "Paytm me movie ticket booking hai, yaha kab aayega? gpay is faster than this app"
    before = detect(review, watch, app="PayNest")  # builds and caches the patterns
    data = pickle.dumps(watch)
    assert len(data) < 1500
    assert b"re\n_compile" not in data and b"Pattern" not in data
    restored = pickle.loads(data)
    assert restored == watch and detect(review, restored, app="PayNest") == before
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


# ── directions ────────────────────────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text", [
    "paid via Google Pay", "PhonePe is down", "I use g pay Paytm phone pe", "sent money to my paytm wallet",
    "I like gpay", "other than gpay nothing works", "paytm has been down since morning", "PhonePe has the same problem",
    "transfer from CRED failed, please fix", "Like gpay and paytm?", "and then gpay asked for the pin",
    "gpay is better than paytm",  # two other apps compared: neither is ahead of this one
    "gpay is good",  # a compliment to another app judges nothing here
])
def test_mere_mentions_are_neutral(text):
    got = detect(text, watching(), app="PayNest")
    assert got and {d.direction for d in got} == {NEUTRAL}


@pytest.mark.parametrize("text,expected", [
    # competitor_ahead: English and Hinglish
    ("Google Pay has scratch cards, please add", ("Google Pay", COMPETITOR_AHEAD, "scratch cards")),
    ("add UPI lite like Paytm", ("Paytm", COMPETITOR_AHEAD, "upi lite")),
    ("why is there no split bill? even gpay has it", ("Google Pay", COMPETITOR_AHEAD, "split bill")),
    ("gpay is far better than this app", ("Google Pay", COMPETITOR_AHEAD, None)),
    ("slower than paytm", ("Paytm", COMPETITOR_AHEAD, None)),
    ("No CASHBACK OFFERS like #Paytm.", ("Paytm", COMPETITOR_AHEAD, "cashback offers")),
    ("Very poor service compared to Google pay don't download", ("Google Pay", COMPETITOR_AHEAD, None)),
    ("Paytm me movie ticket booking hai, yaha kab aayega?", ("Paytm", COMPETITOR_AHEAD, "movie ticket booking")),
    ("gpay me hide payment ka option hai, yaha kab aayega?", ("Google Pay", COMPETITOR_AHEAD, "hide payment")),
    ("isse acha to gpay hai", ("Google Pay", COMPETITOR_AHEAD, None)),
    ("phonepe se bhi bekar hai", ("PhonePe", COMPETITOR_AHEAD, None)),
    ("Me gustaría una opción de apartados como en Paytm", ("Paytm", COMPETITOR_AHEAD, "apartados")),
    # advice to others to go there recommends the competitor (the guideline): a gap, not the writer leaving
    ("cash back is not available better to go with G pay", ("Google Pay", COMPETITOR_AHEAD, "cash back")),
    ("gpay use karo, isme cashback nahi milta", ("Google Pay", COMPETITOR_AHEAD, "cashback")),
    # switching_away
    ("switching to PhonePe because it shows refund status", ("PhonePe", SWITCHING_AWAY, "refund status")),
    ("not eligible for postpaid, so I use Google Pay instead", ("Google Pay", SWITCHING_AWAY, "postpaid eligibility")),
    ("cash back is not available, I will go with G pay", ("Google Pay", SWITCHING_AWAY, "cash back")),
    ("uninstalling this, moving to phonepe", ("PhonePe", SWITCHING_AWAY, None)),
    ("I am deleting this app, gpay has fingerprint login", ("Google Pay", SWITCHING_AWAY, "fingerprint login")),
    ("gpay pe shift kar raha hu, yaha cashback nahi milta", ("Google Pay", SWITCHING_AWAY, "cashback")),
    # own_ahead
    ("much better than gpay", ("Google Pay", OWN_AHEAD, None)),
    ("best app than google pay", ("Google Pay", OWN_AHEAD, None)),
    ("unlike gpay it shows the refund status", ("Google Pay", OWN_AHEAD, "refund status")),
    ("phonepe se acha hai", ("PhonePe", OWN_AHEAD, None)),
    ("mejor que la app de Paytm", ("Paytm", OWN_AHEAD, None)),
    # switching_to
    ("Switched from paytm to this app due to beautiful UI.", ("Paytm", SWITCHING_TO, None)),  # praise is no feature
    ("Switched from paytm to this app due to the simple interface.", ("Paytm", SWITCHING_TO, "simple interface")),
    ("I used to use paytm but now only this app", ("Paytm", SWITCHING_TO, None)),
    ("phonepe chhod ke ye app use kar raha hu", ("PhonePe", SWITCHING_TO, None)),
])
def test_directions_in_english_and_hinglish(text, expected):
    assert found(text, watching()) == [expected]


@pytest.mark.parametrize("text,direction", [
    ("better than gpay", OWN_AHEAD),
    ("not better than gpay", COMPETITOR_AHEAD),  # negation turns the win into a gap
    ("gpay is better", COMPETITOR_AHEAD),
    ("gpay is not better", OWN_AHEAD),
    ("gpay is worse", OWN_AHEAD),
    ("worse than gpay", COMPETITOR_AHEAD),
    ("I will switch to gpay", SWITCHING_AWAY),
    ("I will never switch to gpay", OWN_AHEAD),
    ("phonepe se acha hai", OWN_AHEAD),
    ("phonepe se acha nahi hai", COMPETITOR_AHEAD),
])
def test_negation_and_comparatives(text, direction):
    [(org, got, _)] = found(text, watching())
    assert got == direction, text


@pytest.mark.parametrize("text,direction", [
    # the writer goes (first person, a modal of the writer, a narrated act): switching_away
    ("I'm gonna switch to gpay", SWITCHING_AWAY),
    ("I went with gpay instead", SWITCHING_AWAY),
    ("not eligible for postpaid, so I use Google Pay instead", SWITCHING_AWAY),
    ("High convenience fee on bill payments. Would rather use Amazon pay.", SWITCHING_AWAY),
    ("couldn't wait for the branch, so used the time to open an account at gpay", SWITCHING_AWAY),
    ("i think now i have to make time and go try gpay", SWITCHING_AWAY),
    ("gpay pe shift kar raha hu", SWITCHING_AWAY),
    ("ab se gpay hi use karunga", SWITCHING_AWAY),
    ("me cambié a Paytm", SWITCHING_AWAY),
    # the writer tells others to go there: a recommendation, competitor_ahead
    ("Instead go for Google pay.", COMPETITOR_AHEAD),
    ("better to go with gpay", COMPETITOR_AHEAD),
    ("worst app, use gpay instead", COMPETITOR_AHEAD),
    ("please don't ever install this go for better upi apps like g pay", COMPETITOR_AHEAD),
    ("Switch to gpay guys", COMPETITOR_AHEAD),
    ("go try gpay", COMPETITOR_AHEAD),
    ("gpay use karo", COMPETITOR_AHEAD),
    ("sab log gpay pe shift ho jao", COMPETITOR_AHEAD),
    ("mejor usa Paytm", COMPETITOR_AHEAD),
    # negation still binds to the switch
    ("I will never switch to gpay", OWN_AHEAD),
])
def test_leaving_is_the_writers_act_and_advice_recommends(text, direction):
    [(org, got, _)] = found(text, watching())
    assert got == direction, text


@pytest.mark.parametrize("text,direction", [
    # the writer leaves the app itself, and the same text puts the competitor ahead: leaving wins
    ("I am changing this bank, it's the pits of all banks, gpay is better than this", SWITCHING_AWAY),
    ("I am uninstalling this app, gpay is far better", SWITCHING_AWAY),
    ("I used Paytm and PayNest previously, their charges don't come close to gpay", SWITCHING_AWAY),
    ("low device me PayNest nahi chal raha, gpay bhut mast chal raha he, lagta he PayNest use karna band karna hoga",
     SWITCHING_AWAY),
    ("ye app uninstall kar raha hu, gpay best hai", SWITCHING_AWAY),
    ("La cancelé, Paytm es mejor", SWITCHING_AWAY),
    # no leaving: a negated or asked one, or an order to others
    ("I will not delete this app, gpay is better though", COMPETITOR_AHEAD),
    ("how do I close my account? gpay is better", COMPETITOR_AHEAD),
    ("I uninstalled this app and reinstalled it, gpay is better though", COMPETITOR_AHEAD),
    ("PayNest me transaction delete karna hai, gpay is better", COMPETITOR_AHEAD),
    ("gpay is far better than this app", COMPETITOR_AHEAD),
    ("uninstalling this app, gpay is much better", SWITCHING_AWAY),
    # leaving the app says nothing of a competitor it does not put ahead
    ("I am deleting this app, paid via gpay today", NEUTRAL),
])
def test_leaving_the_app_turns_a_gap_into_a_switch(text, direction):
    got = [d for d in detect(text, watching(), app="PayNest") if d.org == "Google Pay" or d.org == "Paytm"]
    assert got[-1].direction == direction, text


@pytest.mark.parametrize("text,direction", [
    ("gpay is good but PayNest is best", OWN_AHEAD),
    ("gpay is good but this app has more offers", OWN_AHEAD),
    ("gpay is good, this app is not", COMPETITOR_AHEAD),
    ("gpay is good but this app keeps failing", COMPETITOR_AHEAD),
    ("PayNest is good, but gpay is more simple", COMPETITOR_AHEAD),
    ("gpay acha hai lekin PayNest best hai", OWN_AHEAD),
])
def test_a_compliment_that_turns_to_the_app(text, direction):
    """When praise of the competitor turns ("but", "lekin") to the app, what is said of the app decides."""
    [(org, got, _)] = found(text, watching())
    assert got == direction, text


def test_the_app_itself_is_read_as_this_app():
    """A review of PhonePe that names PhonePe: the name is the app, not a competitor, and reads like "this app"."""
    watch = watching()
    assert found("Switched from paytm to PhonePe, smooth", watch, app="PhonePe") == [("Paytm", SWITCHING_TO, None)]
    assert found("paytm is better than phonepe", watch, app="PhonePe") == [("Paytm", COMPETITOR_AHEAD, None)]


def test_every_demo_competitor_template_gets_its_direction_and_feature():
    """The demo generator's competitor reviews, with every name, alias and hashtag of every competitor. The demo's
    "used X for years, PayNest is smoother" is neutral: a known miss of the cues (no comparison names X)."""
    expected = {"req": COMPETITOR_AHEAD, "neg": None, "pos": OWN_AHEAD}
    watch, misses = watching(), []
    for comp in COMPETITORS:
        for mention in (comp.name, *comp.aliases, *comp.hashtags):
            for sentiment, templates in COMPETITOR.items():
                for template in templates:
                    if template.startswith("used "):
                        continue
                    for feature in COMPETITOR_FEATURES[comp.name] if "{feature}" in template else [None]:
                        text = template.format(comp=mention, feature=feature)
                        got = detect(text, watch, app="PayNest")
                        want = expected[sentiment] or (SWITCHING_AWAY if template.startswith(("switching", "moved"))
                                                       else COMPETITOR_AHEAD)
                        if [(d.org, d.direction) for d in got] != [(comp.name, want)] or (
                                feature and got[0].key != feature_key(feature)):
                            misses.append((text, got))
    assert misses == []


def test_enumerations_count_for_each_org_and_one_detection_per_org():
    got = found("better than google pay and phone pay in terms of cashback offers. google pay is slow", watching())
    assert got == [("Google Pay", OWN_AHEAD, "cashback offers"), ("PhonePe", OWN_AHEAD, "cashback offers")]
    got = found("better than google pay and phone pay in terms of smooth transactions", watching())
    assert got == [("Google Pay", OWN_AHEAD, None), ("PhonePe", OWN_AHEAD, None)]  # what every app does: no feature


def test_translation_is_read_too():
    text = "Paytm wala feature chahiye"  # no comparison cue in the original
    assert found(text, watching()) == []
    assert found(text, watching(), text_en="please add the wallet feature like Paytm") == [
        ("Paytm", COMPETITOR_AHEAD, "wallet")]


def test_review_type_feature_request_places_the_feature_at_the_org():
    text = "please add bill due date reminders, they are there in gpay"
    assert found(text, watching(), review_type="feature_request") == [
        ("Google Pay", COMPETITOR_AHEAD, "bill due date reminders")]
    assert found("please add money to my gpay account", watching(), review_type="feature_request") == []


@pytest.mark.parametrize("phrase,ok", [
    ("hide payments", True), ("postpaid eligibility", True), ("cashback on bill payments", True),
    ("scratch cards", True), ("overall experience", False), ("service", False), ("better", False), ("speed", False),
    ("i raised a support ticket", False), ("", False),
    # a capability, product or behaviour: a specific word, in any language
    ("fingerprint login", True), ("simple interface", True), ("virtual card", True), ("debit orders", True),
    ("manually set the amount in qr code", True), ("tarjeta virtual", True), ("comprobantes de SPEI", True),
    ("hide payment ka option", True), ("movie ticket booking", True), ("charges", True), ("dark theme", True),
    # generic product words, what every payments app does, praise, quality nouns, quantifiers, a lone adjective
    ("better app", False), ("good service", False), ("the app", False), ("features", False), ("transactions", False),
    ("smooth transactions", False), ("amooth transactions", False), ("fast payments", False), ("the card", False),
    ("beautiful UI", False), ("interface", False), ("both accounts", False), ("seriedad", False),
    ("mil veces más seriedad", False), ("rapidez", False), ("kecepatan", False), ("colorful", False),
    ("intuitiva", False), ("acha app", False), ("mast service", False), ("bahut badhiya experience", False),
    ("buen servicio", False), ("tarjeta para activarla", False),
    # a clause someone said is no feature's name; "no ads" is one
    ("intention of this keyboard is not speed", False), ("used to lag", False), ("no ads", True),
])
def test_a_feature_phrase_is_concrete_or_not(phrase, ok):
    assert concrete(phrase) is ok, phrase


def test_a_name_is_no_feature():
    assert concrete("phonepe", frozenset({"phonepe"})) is False
    assert concrete("phonepe postpaid", frozenset({"phonepe"})) is True
    assert concrete("phonepe") is True  # an unknown word is specific: only the names given are excluded


def test_a_generic_phrase_leaves_the_mention_its_direction_and_no_feature():
    """"gpay is best for transactions": a gap, counted as a request, with no feature (so never a ticket)."""
    [d] = detect("worst service... G PAY IS BEST FOR TRANSACTIONS", watching(), app="PayNest")
    assert (d.direction, d.feature, d.key, d.is_request) == (COMPETITOR_AHEAD, None, "", True)
    [d] = detect("make a very simple interface like gpay please", watching(), app="PayNest")
    assert (d.direction, d.feature) == (COMPETITOR_AHEAD, "simple interface")


def test_a_mention_without_a_concrete_feature_carries_none():
    """"better service than gpay" is a win with no feature; "gpay is better" a gap with none: never a ticket."""
    [d] = detect("gpay is way better, overall experience is smooth", watching(), app="PayNest")
    assert d.direction == COMPETITOR_AHEAD and d.is_request and d.feature is None and d.key == ""


def test_detection_key_groups_phrasings():
    assert feature_key("scratch card") == feature_key("scratch cards") == feature_key("the Scratch Cards") == "card scratch"
    assert feature_key("group bill splitting") == "bill group split"
    assert feature_key("cash back") == feature_key("Cashback") == "cashback"
    assert Detection("Paytm", COMPETITOR_AHEAD, "UPI Lite", "paytm").key == "lite upi"


def test_the_apps_own_aliases_come_from_the_metadata_of_apps_that_watch_it():
    """Paytm's metadata knows PhonePe as "phone pay" (and PhonePe's own lists it): a review of PhonePe that writes
    "phone pay" speaks of this app, here leaving it for the competitor it praises."""
    from core.appmeta import own_names
    from flows.dataflow import watch_config
    from flows.operators.competitors import watch_of

    apps = load_apps(ROOT / "bench" / "apps")
    aliases = own_names(apps, "phonepe")
    assert {"phone pay", "phonepay"} <= set(aliases)
    assert "#PhonePe" in aliases and "#PhonePe" not in own_names({k: v for k, v in apps.items() if k != "paytm"}, "phonepe")
    assert watch_config(apps).app_aliases("phonepe") == aliases
    watch = watch_of(apps["phonepe"].competitors)
    text = "low device me phone pay nahi chal raha, paytm bhut mast chal raha he, lagta he phone pay use karna band karna hoga"
    assert [d.direction for d in detect(text, watch, app="PhonePe", rating=1, app_aliases=aliases)] == [SWITCHING_AWAY]
    assert [d.direction for d in detect(text, watch, app="PhonePe", rating=1)] == [COMPETITOR_AHEAD]  # not read as this app
