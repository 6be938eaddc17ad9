"""Denoise: measure every review, keep real signal, reject noise with a reason and the measures.

Pure. A review either passes with its `Measures` or becomes a `Rejected` that
carries the same measures and a reason. The rules run in this order and the
first that fails decides the reason:

- `too_short`: fewer content words than `min_words` (mentions, hashtags and
  URLs do not count), unless a short review names a problem ("payment failed");
- `non_english`: English or unplaced text whose letters are mostly outside
  ASCII (fancy-font or symbol soup); a review in a language we recognise is
  kept instead (and translated, or marked untranslated);
- `referral_spam`: offers a referral / invite / promo code;
- `contest_spam`: a contest entry (the app's contest hashtags, typed with a typo
  or two, or giveaway phrases) that names no problem (a bare "not" is not one);
- `brand_reply`: the company's own customer-care reply to a user (it opens by addressing someone and
  speaks for the company: "kindly DM us", "we are looking into this", "apologies for any
  inconvenience caused", "kindly note that ...", "our teams will respond"), which is not feedback
  about the app;
- `broadcast`: a link and no first- or second-person word ("Deutsche Bank cuts ties to Standard Bank's
  Zimbabwean unit https://…", job ads, radio line-ups): news, an ad or an announcement, not someone's
  experience, unless it names a problem ("Standard Bank mobile app crashes again https://…");
- `gibberish`: keyboard mashing or one word repeated over and over;
- `misspelled`: most words of an English review are not words, even after the
  app's vocabulary and common app words are accepted.

Repeated spam needs memory across reviews: see `flows/operators/dedup.py`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timezone

from flows.operators.language import content_text, detect, english_words
from flows.operators.text import HANDLES_AND_LINKS
from core.rules import DenoiseRules, words
from core.records import Measures, Rejected, Review

_JOINERS = "'’"
ENGLISH_LIKE = frozenset({"en", "und"})

# Words no English dictionary has but every payments-app review uses; plus chat spellings that are not noise.
COMMON_APP_WORDS = frozenset(
    """app apps upi kyc otp otps cashback cashbacks login logout logins signup signin wifi bluetooth android
    iphone ios ipad update updated updates ui ux ok okay plz pls thx thanx thankyou u ur bcoz coz cuz pls asap
    gpay paytm phonepe googlepay wallet ewallet netbanking txn txns recharge recharged sms emi qr pin mpin atm
    debited credited autopay screenshot screenshots online offline wallet bugs lol omg btw fyi dm inbox
    email emails spam wtf kyc aadhaar aadhar pan ifsc neft imps rtgs utr vpa npci""".split()
)
# A review this short is still kept when it names one of these (after a minimum of two words).
ISSUE_WORDS = frozenset(
    """fail failed failing failure error errors crash crashes crashed crashing bug bugs refund refunds pending
    deducted debited stuck blocked hang hangs hanging freeze freezes slow otp login problem issue issues
    fraud scam not cannot can't cant nahi nhi nahin""".split()
)
# What a contest entry must name to be kept: a problem word itself, not a bare "not" ("Cash@Till helped me when the
# ATMs were not working #LoveFNB" is an entry; "#LoveFNB my card is blocked" is a complaint).
PROBLEM_WORDS = (ISSUE_WORDS - frozenset("not cannot can't cant nahi nhi nahin".split())) | frozenset(
    "delay delayed down offline unavailable unable declined wrong".split())
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_VOWELS = set("aeiouy")
_ELONGATED = re.compile(r"(.)\1{2,}")

_CODE_TOKEN = r"\b(?=[A-Za-z]*\d)[A-Za-z0-9]{5,}\b|\b[A-Z]{5,}\b"  # PN7K2X, josev1j7, 2221545744, ALEXISFLMEY
# Spam patterns see up to 8,000 characters of hostile text: no two unbounded quantifiers may compete for
# the same run (`\s+x?\s*`, or `\d+` retried at every digit), or one review costs seconds of CPU.
# An offer of one's own code (needs a reward or a code next to it) ...
_REFERRAL_OFFER = re.compile(
    r"referral\s+code|refer(?:ral)?\s+(?:code|link)|invite\s+code|(?:use|enter|apply)\s+(?:my\s+)?(?:promo\s+)?code"
    r"|(?:usa|usen|use|utiliza|ingresa|ingresen|pon|pongan|apliquen|aplica|aplicar|ocupa|ocupas|mete|metan|dejo|comparto|usando|con)"
    r"\s+(?:(?:mi|este|el)\s*)?c[oó]digo|(?:mi|este)\s+c[oó]digo\s*[:!]|c[oó]digo\s*:\s*\S{5,}|kode\s+(?:referral|referal|undangan|promo)",
    re.IGNORECASE,
)
# "with code X" offers a code only next to a reward ("sign up with code AB12X, get ₹100"); alone it is an error
# code ("payment fails with code PN417").
_WITH_CODE = re.compile(r"\bwith\s+(?:my\s+)?(?:promo\s+)?code\b", re.IGNORECASE)
# ... or just the name of a code (needs the code itself next to it).
_REFERRAL_NOUN = re.compile(r"c[oó]digo\s+(?:de\s+)?(?:referido|invitaci[oó]n|promocional|promoci[oó]n)|promo\s+code", re.IGNORECASE)
_REWARD = re.compile(
    r"[$₹€£]\s?\d|(?<!\d)\d+\s?(?:pesos|rs|inr|rupees|rb|ribu|mxn)\b|\b(?:rs\.?|inr)\s?\d|\bgratis\b|\bfree\b|\bcashback\b"
    r"|\bearn\b|\bgana\w*|\bregal\w*|\bbono\b|\bbonus\b|\bobt[eé]n\b|\binstantly\b",
    re.IGNORECASE,
)
_GENERIC_CONTEST = re.compile(
    r"#(?:giveaway|contest|competition|win\w*|sweepstakes?)\b|\bretweet\s+to\s+win\b|\btag\s+\d+\s+friends\b"
    r"|\bstand\s+a\s+chance\s+to\s+win\b|\bcloser\s+to\s+winning\b",
    re.IGNORECASE,
)
# The company's own voice in a reply: a request to contact it, an apology or a promise in the first person plural.
_BRAND_VOICE = re.compile(
    r"\b(?:dm|message|inbox|pm|email|call)\s+us\b|\bsend\s+us\b|\bdrop\s+us\b|\bour\s+(?:sincere\s+)?apolog"
    r"|\bsorry\s+(?:to\s+hear|for\s+the\s+(?:inconvenience|delay|frustration))|\bapologi[sz]e\s+for\s+the\s+inconvenience"
    r"|\b(?:we|we'?ll|we'?re|we'?ve|we'?d)\s+(?:will\s+|are\s+|have\s+|would\s+|can\s+)?(?:be\s+)?(?:happy\s+to\s+)?"
    r"(?:look(?:ing)?\s+into|assist(?:ing)?|investigat\w*|escalat\w*|get\s+back|sent\s+you|received\s+your|reach(?:ing)?\s+out"
    r"|follow(?:ing)?\s+up|contact(?:ing)?\s+you|just\s+a\s+dm)\b|\bhow\s+can\s+we\s+(?:help|assist)\b|\bmay\s+we\s+assist\b"
    # the apology a care desk signs with: "Apologies for any inconvenience caused", "we apologise for the delay"
    r"|\bapolog(?:y|ies|i[sz]e)\b[^.!?]{0,30}?\bfor\s+(?:the|any|this|our)\s+(?:inconvenience|delay|wait|frustration)"
    r"|\b(?:we'?re|we\s+are)\s+(?:truly\s+|really\s+|so\s+|very\s+)?sorry\s+for\b"
    r"|^\s*(?:@\w+\s+)+(?:hi\s+\w+\s*[,.]?\s*)?apologies\b"
    # a care desk's notes and hand-offs: "kindly note that ...", "they will gladly assist you", "our teams will respond"
    r"|\bkindly\s+note\s+(?:that|we)\b|\bkindly\s+advise\s+us\b|\bgladly\s+assist\b|\bso\s+(?:that\s+)?we\s+(?:may|can)\s+assist\b"
    r"|\bour\s+teams?\s+(?:are|is|will|have)\b|\bwe\s+have\s+shared\s+this\b",
    re.IGNORECASE,
)
_ADDRESSED = re.compile(r"^\s*@\w+")
# First- and second-person words of the languages Sift reads (English, Hinglish, Spanish, Indonesian): someone
# telling their experience, or speaking to the app, uses one of them.
_PERSONAL = re.compile(
    r"(?<![\w'’])(?:i|me|my|mine|myself|i'm|i’m|im|i've|i’ve|ive|i'd|i’d|i'll|i’ll|we|us|our|ours|we're|we’re"
    r"|you|your|yours|you're|you’re|u|ur|y'all|y’all|mera|meri|mere|mujhe|main|hum|humara|aap|aapka|tum|tera"
    r"|yo|mi|mis|nosotros|tu|tú|usted|saya|aku|kami|kita|kamu|anda)(?![\w'’])",
    re.IGNORECASE,
)
_MARKERS = {
    "url": re.compile(r"https?://|www\.|\bbit\.ly/|link\s+in\s+(?:my\s+)?bio", re.IGNORECASE),
    "phone": re.compile(r"(?<!\d)(?:\+?\d[\dX\- ]{8,}\d|\d{2}X{3,}\d*)(?!\d)"),
    "messenger": re.compile(r"\b(?:whats\s?app|telegram|wa\.me)\b", re.IGNORECASE),
    "money_offer": re.compile(
        r"\b(?:earn|win|claim|loot|free)\b.{0,40}(?:[$₹]\s?\d|\d+\s?(?:rs|pesos|inr)\b|cash|money|daily)"
        r"|\bno\s+investment\b|\bwork\s+from\s+home\b|\bdaily\s+income\b",
        re.IGNORECASE,
    ),
}


def count_words(text: str) -> int:
    """Runs of letters, combining marks and digits (so Devanagari words stay whole)."""
    count, inside = 0, False
    for i, c in enumerate(text):
        wordy = unicodedata.category(c)[0] in "LMN" or (
            c in _JOINERS and inside and i + 1 < len(text) and text[i + 1].isalnum()
        )
        if wordy and not inside:
            count += 1
        inside = wordy
    return count


def non_english_ratio(text: str) -> float:
    """The share of letters outside ASCII."""
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    non_ascii = sum(1 for c in letters if not c.isascii())
    return round(non_ascii / len(letters), 4) if letters else 0.0


def is_known(word: str, vocabulary: frozenset[str] = frozenset()) -> bool:
    """An English dictionary word, a common app word, or one of the app's own terms."""
    return word in english_words() or word in COMMON_APP_WORDS or word in vocabulary


def looks_gibberish(word: str) -> bool:
    """Keyboard mashing: no vowel, a long consonant run, or a run of keys along one keyboard row."""
    if len(word) < 3 or not word.isascii():
        return False
    if len(word) > 40:  # longer than any real word
        return True
    if not _VOWELS & set(word):
        return True
    if re.search(r"[^aeiouy]{5,}", word):
        return True
    return any(word[i:i + 4] in row for row in _KEYBOARD_ROWS for i in range(len(word) - 3))


def spelling_and_gibberish(tokens: list[str], vocabulary: frozenset[str]) -> tuple[float, float]:
    """Shares of Latin words that are not known words, and that look like keyboard mashing."""
    latin = [_ELONGATED.sub(r"\1\1", t) for t in tokens if t.isascii()]
    if not latin:
        return 0.0, 0.0
    unknown = [t for t in latin if not is_known(t, vocabulary) and not is_known(_ELONGATED.sub(r"\1", t), vocabulary)]
    gibberish = [t for t in unknown if looks_gibberish(t)]
    return round(len(unknown) / len(latin), 4), round(len(gibberish) / len(latin), 4)


def repetition_ratio(tokens: list[str]) -> float:
    """1 - distinct/total over the words, for four words or more ("good good good good" -> 0.75)."""
    if len(tokens) < 4:
        return 0.0
    return round(1 - len(set(tokens)) / len(tokens), 4)


def contest_tag(tag: str, contest_hashtags: tuple[str, ...]) -> bool:
    """Whether hashtag `tag` (lower case, no #) is one of the contest's, as entrants type it: one typo
    allowed in a tag of 6 letters or more, two in one of 10 or more (#BecouseUcount, #BecauseYouCount).

    >>> contest_tag("becouseucount", ("becauseucount",)), contest_tag("beacuseucount", ("becauseucount",))
    (True, True)
    >>> contest_tag("lovefnb", ("lovefnb",)), contest_tag("lovenb", ("lovefnb",)), contest_tag("fnb", ("lovefnb",))
    (True, True, False)
    """
    for wanted in contest_hashtags:
        if tag == wanted:
            return True
        allowed = 2 if len(wanted) >= 10 else 1 if len(wanted) >= 6 else 0
        if allowed and abs(len(tag) - len(wanted)) <= allowed and _edits(tag, wanted, allowed) <= allowed:
            return True
    return False


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance between `a` and `b` (an adjacent swap counts once), or `limit + 1` once above it."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def spam_markers(text: str, rules: DenoiseRules) -> tuple[str, ...]:
    """Names of the spam signals in `text`: referral, contest, brand_reply, url, phone, messenger, money_offer,
    broadcast (a link and no first- or second-person word)."""
    found = []
    code = re.search(_CODE_TOKEN, text)
    if ((_REFERRAL_OFFER.search(text) and (code or _REWARD.search(text))) or (_REFERRAL_NOUN.search(text) and code)
            or (_WITH_CODE.search(text) and code and _REWARD.search(text))):
        found.append("referral")
    tags = {t.lower() for t in re.findall(r"#(\w+)", text)}
    if any(contest_tag(t, rules.contest_hashtags) for t in tags) or _GENERIC_CONTEST.search(text):
        found.append("contest")
    if _ADDRESSED.match(text) and _BRAND_VOICE.search(text[:600]):
        found.append("brand_reply")
    found.extend(name for name, pattern in _MARKERS.items() if pattern.search(text))
    if "url" in found and not _PERSONAL.search(HANDLES_AND_LINKS.sub(" ", text)):
        found.append("broadcast")
    return tuple(found)


def measure(text: str, rules: DenoiseRules = DenoiseRules()) -> Measures:
    """Every denoise measure of `text`."""
    body = content_text(text)
    lang = detect(text, rules.lang)
    tokens = words(body)
    spelling, gibberish = (
        spelling_and_gibberish(tokens, rules.vocabulary) if lang.lang in ENGLISH_LIKE else (0.0, 0.0)
    )
    return Measures(
        word_count=count_words(body),
        non_english_ratio=non_english_ratio(text),
        lang=lang.lang,
        lang_confidence=lang.confidence,
        script=lang.script,
        spelling_error_ratio=spelling,
        gibberish_ratio=gibberish,
        repetition_ratio=repetition_ratio(tokens),
        spam_markers=spam_markers(text, rules),
    )


def names_an_issue(text: str) -> bool:
    return any(w in ISSUE_WORDS for w in words(content_text(text)))


def names_a_problem(text: str) -> bool:
    return any(w in PROBLEM_WORDS for w in words(content_text(text)))


def check(text: str, m: Measures, rules: DenoiseRules) -> tuple[str, str] | None:
    """The first failed rule as (reason, detail), or None when the review is kept."""
    if m.word_count < rules.min_words and not (m.word_count >= 2 and names_an_issue(text)):
        return "too_short", f"{m.word_count} words; minimum {rules.min_words}"
    if m.lang in ENGLISH_LIKE and m.non_english_ratio > rules.max_non_english_ratio:
        return "non_english", (
            f"{m.non_english_ratio:.0%} non-English letters in text of no other recognised language; "
            f"maximum {rules.max_non_english_ratio:.0%}"
        )
    if rules.spam_rules and "referral" in m.spam_markers:
        return "referral_spam", "offers a referral or promo code"
    if rules.spam_rules and "contest" in m.spam_markers and not names_a_problem(text):
        return "contest_spam", "contest entry that reports no problem"
    if rules.spam_rules and "brand_reply" in m.spam_markers:
        return "brand_reply", "the company's own reply to a user, not feedback"
    if rules.spam_rules and "broadcast" in m.spam_markers and not names_an_issue(text):
        return "broadcast", "a link and no first- or second-person word: news, an ad or an announcement"
    if m.gibberish_ratio >= rules.max_gibberish_ratio:
        return "gibberish", f"{m.gibberish_ratio:.0%} of words look like keyboard mashing; maximum {rules.max_gibberish_ratio:.0%}"
    if m.repetition_ratio >= rules.max_repetition_ratio:
        return "gibberish", f"{m.repetition_ratio:.0%} of words are repeats; maximum {rules.max_repetition_ratio:.0%}"
    if m.lang == "en" and m.spelling_error_ratio > rules.max_spelling_error_ratio and m.word_count >= 3:
        return "misspelled", (
            f"{m.spelling_error_ratio:.0%} of words are not English words; maximum {rules.max_spelling_error_ratio:.0%}"
        )
    return None


def denoise(
    review: Review, rules: DenoiseRules, app_rules: Mapping[str, DenoiseRules] | None = None
) -> tuple[Review, Measures] | Rejected:
    """Keep `review` with its measures, or reject it with the first failed rule.

    `app_rules` holds per-app rules (app metadata overrides); apps not in it use `rules`.
    """
    rules = (app_rules or {}).get(review.app_id, rules)
    m = measure(review.text, rules)
    failed = check(review.text, m, rules)
    if failed:
        return reject(review, m, *failed)
    return review, m


def reject(review: Review, m: Measures, reason: str, detail: str) -> Rejected:
    """A `Rejected` for `review` that keeps its raw input and measures."""
    return Rejected(
        id=review.id,
        app_id=review.app_id,
        reason=reason,
        detail=detail,
        raw=review.raw or review.text,
        origin=review.origin,
        received_at=review.received_at,
        at=datetime.now(timezone.utc),
        measures=m,
        ack=review.ack,
        fingerprint=review.fingerprint,
    )
