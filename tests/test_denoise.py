from __future__ import annotations

import pytest

from core.appmeta import parse_app
from flows.operators.denoise import count_words, denoise, measure, non_english_ratio
from core.rules import DenoiseRules
from flows.operators.parse import parse_message
from core.records import Rejected
from tests.helpers import raw

RULES = DenoiseRules(min_words=3, max_non_english_ratio=0.3).with_overrides({}, ("UPI", "KYC", "OTP", "cashback"))


def review(text: str, author: str | None = None):
    payload = {"id": "d1", "app_id": "paynest", "text": text}
    if author:
        payload["author"] = author
    return parse_message(raw(payload), {"paynest"})


@pytest.mark.parametrize(
    ("text", "words", "ratio"),
    [
        ("UPI payment failed", 3, 0.0),
        ("don't charge me twice", 4, 0.0),
        ("👍👍👍", 0, 0.0),
        ("पेमेंट फेल", 2, 1.0),
        ("₹499 debited", 2, 0.0),
        ("payment फेल", 2, 0.2222),
    ],
)
def test_word_count_and_non_english_ratio(text, words, ratio):
    m = measure(text)
    assert (count_words(text), non_english_ratio(text)) == (words, ratio)
    assert (m.word_count, m.non_english_ratio) == (words, ratio)


def test_mentions_hashtags_and_urls_are_not_words():
    assert measure("@FNBSA #LoveFNB https://t.co/x").word_count == 0


def test_kept_review_carries_its_measures():
    r = review("UPI payment failed twice today")
    kept = denoise(r, RULES)
    assert not isinstance(kept, Rejected)
    assert kept[0] == r
    m = kept[1]
    assert (m.word_count, m.lang, m.spelling_error_ratio, m.spam_markers) == (5, "en", 0.0, ())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("good app", "too_short"),
        ("👍👍👍", "too_short"),
        ("@FNBSA #LoveFNB", "too_short"),
        ("ᴳᴼᴼᴰ ᴬᴾᴾ ᵛᵉʳʸ ᴺᴵᶜᴱ", "non_english"),
        ("ʕ•ᴥ•ʔ ಠ_ಠ ᕙ(⇀‸↼‶)ᕗ ლ(ಠ益ಠლ)", "non_english"),
        ("use my referral code PN7K2X get ₹100 cashback", "referral_spam"),
        ("Apliquen mi código! Son $100 pesos gratis vitervaevabut40", "referral_spam"),
        ("@FNBSA I'm saving for my kids studies #LoveFNB", "contest_spam"),
        ("@FNBSA It has helped me when the ATMs were not working so Cash@Till has been a very good help #LoveFNB",
         "contest_spam"),
        ("@FNBSA Not standing on the lines for long hours #LoveFBN", "contest_spam"),  # a typo in the tag
        ("@Naledi30469606 Hi there Naledi, lets look into this for you. Please DM us your ID and contact number.",
         "brand_reply"),
        ("@JDM26JDM We're sorry to hear this and will need to investigate further to advise.", "brand_reply"),
        ("@EEltezza Hi there, we have sent you a DM", "brand_reply"),
        ("@user_x Hi Sam. Apologies for any inconvenience caused. Were you able to download the statement?", "brand_reply"),
        ("@user_y Apologies, we are experiencing an issue with transfers and will resolve it soon.", "brand_reply"),
        ("@user_z Good day, kindly note that the monthly fee is billed for the rewards programme.", "brand_reply"),
        ("@user_w Hi there, please contact our colleagues in Kenya and they will gladly assist you.", "brand_reply"),
        ("@user_v Thank you. Our teams will respond to your email shortly.", "brand_reply"),
        ("Deutsche Bank cuts ties to Standard Bank's Zimbabwean unit  https://t.co/mMiqQIUulN", "broadcast"),
        ("Team Leader - Standard Bank - Gauteng  https://t.co/Z1KfuYyHq1 #jobs #joblinks", "broadcast"),
        ("asdfg hjkl qwerty zxcvb", "gibberish"),
        ("good good good good good good", "gibberish"),
        ("xyzzy blorft quuxing frobnicated", "misspelled"),
    ],
)
def test_noise_is_rejected_with_reason_and_measures(text, reason):
    rules = RULES.with_overrides({"contest_hashtags": ["#LoveFNB"]})
    out = denoise(review(text), rules)
    assert isinstance(out, Rejected), out
    assert out.reason == reason and out.id == "paynest/d1" and out.app_id == "paynest"
    assert out.fingerprint and out.fingerprint == review(text).fingerprint  # the message's: the store tells redeliveries
    assert out.measures == measure(text, rules) and out.detail
    assert '"d1"' in out.raw  # the original payload, not just the text


@pytest.mark.parametrize(
    "text",
    [
        "payment failed",  # short, but names a problem
        "KYC OTP cashback UPI not working",  # domain words are not spelling errors
        "पेमेंट फेल हो गया पैसे कट गए",  # Hindi is kept (untranslated later), not rejected
        "payment fail ho gaya aur paise kat gaye",
        "El pago falló pero me cobraron el dinero",
        "aplikasi gk bisa di buka sejak update",
        "No me llega mi código de confirmación para iniciar sesión",  # a complaint about a code is not spam
        "@FNBSA #LoveFNB your app has been down since morning and I cannot pay",  # contest tag, real problem
        "@FNBSA we are still waiting for you to look into my dispute",  # a user's "we", not the bank's voice
        "@Nedbank please DM me, my card was swallowed by the ATM",
        "@StandardBankZA the inconvenience caused by your cash jam should be recorded, my money is gone",
        "@StandardBankZA your team is useless, I have called for days and the app still fails",  # the user's "your team"
        "Sorry to hear that the app is down for you too, mine crashes as well",  # not addressed to anyone
        "plz fix d app, mony not recieved",
    ],
)
def test_real_signal_is_kept(text):
    rules = RULES.with_overrides({"contest_hashtags": ["LoveFNB"]})
    assert not isinstance(denoise(review(text), rules), Rejected)


def test_spelling_uses_the_app_vocabulary():
    plain = measure("paynest wallet mandate neft", DenoiseRules())
    with_vocab = measure("paynest wallet mandate neft", DenoiseRules().with_overrides({}, ("PayNest",)))
    assert plain.spelling_error_ratio == 0.25 and with_vocab.spelling_error_ratio == 0.0


def test_thresholds_are_configurable():
    assert not isinstance(denoise(review("good app"), DenoiseRules(min_words=2)), Rejected)
    assert not isinstance(
        denoise(review("xyzzy blorft quuxing frobnicated"), DenoiseRules(max_spelling_error_ratio=1.0)), Rejected
    )
    spam = review("use my referral code PN7K2X get ₹100 cashback")
    assert not isinstance(denoise(spam, DenoiseRules(spam_rules=False)), Rejected)


def test_per_app_overrides_come_from_app_metadata():
    app = parse_app({
        "app_id": "paynest", "labels": [{"name": "payments", "description": "payments"}],
        "denoise": {"min_words": 1, "contest_hashtags": ["#LoveFNB"]},
    })
    rules = DenoiseRules().with_overrides(app.denoise)
    assert rules.min_words == 1 and rules.contest_hashtags == ("lovefnb",)
    by_app = {"paynest": rules}
    assert not isinstance(denoise(review("nice"), DenoiseRules(), by_app), Rejected)
    with pytest.raises(ValueError, match="unknown denoise setting"):
        parse_app({"app_id": "x", "labels": [{"name": "a", "description": "a"}], "denoise": {"min_wrds": 1}})
    with pytest.raises(ValueError, match="must be like"):
        DenoiseRules().with_overrides({"min_words": "three"})


def parse_then_denoise(message):
    item = parse_message(raw(message), {"paynest"})
    return item if isinstance(item, Rejected) else denoise(item, RULES)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"id": "big", "app_id": "paynest", "text": "payment failed " * 70_000}, "too_large"),  # ~1 MB of text
        ("x" * 1_048_576, "too_large"),  # 1 MB that is not even JSON
        ({"id": "e", "app_id": "paynest", "text": ""}, "missing_field"),
        ({"id": "e", "app_id": "paynest", "text": " \n\t "}, "missing_field"),
        ("", "blank_line"),
    ],
)
def test_huge_and_empty_inputs_end_as_rejected_records_with_a_reason(message, reason):
    out = parse_then_denoise(message)
    assert isinstance(out, Rejected) and out.reason == reason and out.detail


def test_longest_accepted_text_goes_through_denoise_without_crashing():
    from flows.operators.parse import MAX_TEXT_CHARS

    for text in ("the app crashes " * 1000)[:MAX_TEXT_CHARS], ("ꙮ" * MAX_TEXT_CHARS), ("asdf " * 2000)[:MAX_TEXT_CHARS]:
        out = parse_then_denoise({"id": "l", "app_id": "paynest", "text": text})
        assert isinstance(out, Rejected) or out[1].word_count > 0


@pytest.mark.parametrize("text", [
    "@StandardBankZA Your app has not been working the whole morning https://t.co/ifh8OIpuYb",  # speaks to the bank
    "I paid my bill twice, see the receipt https://t.co/x1",  # someone's own experience
    "Standard Bank mobile app crashes again  https://t.co/JljLrS9QnI via @Finextra",  # a link, but a problem
    "Deutsche Bank cuts ties to Standard Bank's Zimbabwean unit",  # no link: not a broadcast by this rule
])
def test_a_link_from_a_person_or_about_a_problem_is_not_a_broadcast(text):
    out = denoise(review(text), RULES)
    assert not (isinstance(out, Rejected) and out.reason == "broadcast"), out


def test_a_contest_entry_that_names_a_problem_is_kept():
    rules = RULES.with_overrides({"contest_hashtags": ["#LoveFNB"]})
    for text in ("@FNBSA #LoveFNB my card is blocked since Monday", "#LoveFNB proof of payment emails are delayed today"):
        assert not isinstance(denoise(review(text), rules), Rejected), text


def test_an_error_code_is_not_a_referral_code_but_a_code_with_a_reward_is():
    assert not isinstance(denoise(review("after the update every payment fails with code PN417 at the PIN screen"), RULES),
                          Rejected)
    out = denoise(review("Sign up with code AB12XY and get ₹100 in your account"), RULES)
    assert isinstance(out, Rejected) and out.reason == "referral_spam"
