from __future__ import annotations

import pickle

from flows.operators.dedup import DedupConfig, DedupState, dedup_step, simhash
from flows.operators.denoise import denoise
from core.rules import DenoiseRules
from flows.operators.parse import parse_message
from core.records import MAX_DETAIL_CHARS, Rejected
from tests.helpers import raw

SPAM = "Earn ₹5000 daily from home 💰💰 no investment, WhatsApp 98XXXXXX21 for details"
CFG = DedupConfig(max_repeats=2, capacity=50)


def kept(text: str, n: int, author: str | None = None):
    payload = {"id": f"r{n}", "app_id": "paynest", "text": text, **({"author": author} if author else {})}
    out = denoise(parse_message(raw(payload, n), {"paynest"}), DenoiseRules())
    assert not isinstance(out, Rejected), out
    return out


def run(items, cfg=CFG, state=None):
    outs = []
    for item in items:
        state, out = dedup_step(state, item, cfg)
        outs.append(out)
    return state, outs


def test_near_copies_share_a_signature_and_different_reviews_do_not():
    a = simhash("use my referral code PN7K2X get ₹100 cashback")
    b = simhash("use my referral code PNQ9ZZ get ₹50 cashback!!")
    c = simhash("payment failed but money debited from my SBI account")
    assert (a ^ b).bit_count() <= 3 < (a ^ c).bit_count()


def test_repeated_spam_is_rejected_after_the_allowed_copies():
    variants = [SPAM, SPAM.replace("💰💰", "💰"), SPAM + "!!", SPAM, SPAM.replace("98XXXXXX21", "97XXXXXX55")]
    _, outs = run([kept(t, i) for i, t in enumerate(variants)])
    assert [o.reason if isinstance(o, Rejected) else "kept" for o in outs] == [
        "kept", "kept", "repeated_spam", "repeated_spam", "repeated_spam"]
    assert outs[4].measures.repeat_count == 5 and "messenger" in outs[4].measures.spam_markers


def test_repeated_real_complaints_are_counted_not_rejected():
    text = "all my payments failing since yesterday, amount deducted each time"
    _, outs = run([kept(text, i, author=f"user{i}") for i in range(6)])
    assert not any(isinstance(o, Rejected) for o in outs)
    assert [o[1].repeat_count for o in outs] == [1, 2, 3, 4, 5, 6]


def test_same_author_same_text_is_a_duplicate_and_the_first_is_kept():
    text = "refund not received even after 7 days, please help"
    _, outs = run([kept(text, 1, author="Priya"), kept(text, 2, author="priya ")])
    assert not isinstance(outs[0], Rejected)
    assert isinstance(outs[1], Rejected) and outs[1].reason == "duplicate"


def test_state_is_bounded_and_survives_pickle():
    items = [kept(f"review number {word} about payments and refunds", i)
             for i, word in enumerate(["alpha beta gamma delta epsilon zeta eta theta iota kappa".split()[i % 10] * (i + 1)
                                       for i in range(120)])]
    state, _ = run(items, DedupConfig(capacity=50))
    assert len(state.seen) <= 50
    assert sum(len(v) for v in state.bands.values()) == 4 * len(state.seen)
    copy = pickle.loads(pickle.dumps(state))
    spam = [kept(SPAM, 1000 + i) for i in range(3)]
    _, a = run(spam, state=state)
    _, b = run(spam, state=copy)
    assert [type(o).__name__ for o in a] == [type(o).__name__ for o in b]
    assert isinstance(DedupState(), DedupState)


def test_a_redelivered_review_gets_its_first_verdict_again():
    # SQS redelivers what a crashed flow did not acknowledge; a resumed flow may already hold it in its snapshot.
    text = "refund not received even after 7 days, please help"
    first, copy = kept(text, 1, author="Priya"), kept(text, 2, author="priya")
    state, outs = run([first, copy])
    assert outs[1].reason == "duplicate"
    state, again = run([first, copy, first], state=pickle.loads(pickle.dumps(state)))
    assert not isinstance(again[0], Rejected) and again[0][1].repeat_count == 1
    assert again[1].reason == "duplicate" and "2 times" in again[1].detail
    assert state.seen[simhash(text)].count == 2  # redeliveries are not more copies


def test_a_redelivered_spam_copy_that_was_let_through_stays_kept():
    state, outs = run([kept(SPAM, i) for i in range(40)])
    assert [isinstance(o, Rejected) for o in outs[:3]] == [False, False, True]
    # copy 0 was let through 39 copies ago: no longer among the recent ids, still recognised
    state, again = run([kept(SPAM, 0), kept(SPAM, 2)], state=state)
    assert not isinstance(again[0], Rejected)
    assert again[1].reason == "repeated_spam"


def test_an_author_redelivered_after_its_id_left_the_recent_ids_is_not_a_duplicate():
    text = "all my payments failing since yesterday, amount deducted each time"
    cfg = DedupConfig(max_repeats=2, capacity=50, max_ids=4)
    state, _ = run([kept(text, 1, author="asha")] + [kept(text, i, author=f"user{i}") for i in range(2, 12)], cfg)
    entry = state.seen[simhash(text)]
    assert not any(key.startswith("paynest/r1#") for key in entry.recent) and len(entry.recent) == 4
    _, again = run([kept(text, 1, author="asha"), kept(text, 99, author="asha")], cfg, state)
    assert not isinstance(again[0], Rejected)
    assert again[1].reason == "duplicate"


def test_a_different_message_reusing_an_id_is_judged_on_its_own():
    """Issue 18.1: the same id with other content is not a redelivery (the store keeps it apart as id_conflict)."""
    text = "refund not received even after 7 days, please help"
    first = kept(text, 1, author="priya")
    reuse = kept(text + "!!", 1, author="priya")  # id r1 again, another message, same author, a near copy
    assert reuse[0].id == first[0].id and reuse[0].fingerprint != first[0].fingerprint
    state, outs = run([first, reuse, first])
    assert outs[1].reason == "duplicate" and not isinstance(outs[2], Rejected)
    assert state.seen[simhash(text)].count == 2


def test_a_duplicate_detail_stays_bounded_whatever_the_author():
    author = "\U000e0041" * 200  # tag characters: kept in the author, each one 10 characters of repr
    text = "refund not received even after 7 days, please help"
    _, outs = run([kept(text, 1, author=author), kept(text, 2, author=author)])
    assert outs[1].reason == "duplicate" and len(outs[1].detail) == MAX_DETAIL_CHARS
    assert outs[1].detail.endswith("characters, cut]")


def test_deepcopy_of_the_state_is_equal_and_independent():
    # Bytewax deep-copies the state at every snapshot; DedupState copies its containers itself (faster).
    import copy

    items = [kept(SPAM, 1), kept(SPAM, 2, author="a"), kept("refund not received after 7 days, please help", 3, author="b")]
    state, _ = run(items)
    clone = copy.deepcopy(state)
    assert clone == state and clone is not state
    assert list(clone.seen) == list(state.seen) and all(list(c.recent) == list(s.recent)
                                                        for c, s in zip(clone.seen.values(), state.seen.values()))
    more = [kept(SPAM, 4, author="a"), kept(SPAM, 5), kept("refund not received after 7 days, please help", 6, author="b")]
    clone_after, from_clone = run(more, state=clone)
    assert state == copy.deepcopy(state) and state != clone_after  # the original did not change with the clone
    state_after, from_state = run(more, state=state)
    assert [getattr(o, "reason", "kept") for o in from_clone] == [getattr(o, "reason", "kept") for o in from_state]
    assert clone_after == state_after


def rated(text: str, n: int, rating: int):
    payload = {"id": f"t{n}", "app_id": "paynest", "text": text, "rating": rating, "author": f"user{n}"}
    out = denoise(parse_message(raw(payload, n), {"paynest"}), DenoiseRules())
    assert not isinstance(out, Rejected), out
    return out


def test_praise_that_reuses_other_reviews_sentences_is_templated_spam():
    # a paid-review campaign: different praise, the same stitched-in sentence, five stars
    openers = ["This is a really excellent app.", "It is an really great app.", "Truly a masterclass in design.",
               "This is a fantastic app overall.", "Such a smooth and lovely app."]
    template = "Even after reinstalling the app a few times, the issue didn't go away."
    _, outs = run([rated(f"{o} {template}", i, 5) for i, o in enumerate(openers)])
    reasons = [o.reason if isinstance(o, Rejected) else "kept" for o in outs]
    assert reasons == ["kept", "kept", "templated_spam", "templated_spam", "templated_spam"]
    assert "reuses a sentence" in outs[2].detail and "rated 5" in outs[2].detail


def test_an_incidents_complaints_that_share_a_sentence_are_kept():
    # many users, one failure, the same words: low ratings and no spam marker, so repetition is not spam
    sentence = "payment failed but the money got debited from my account"
    _, outs = run([rated(f"{sentence} {extra}", i, 1) for i, extra in
                   enumerate(["please help", "fix it", "third time today", "worst update", "where is my money"])])
    assert not any(isinstance(o, Rejected) for o in outs)
    assert all(o[1].repeat_count >= 1 for o in outs)


def test_sentence_memory_is_bounded_and_survives_a_pickle_round_trip():
    cfg = DedupConfig(max_repeats=2, capacity=50, sentence_capacity=20)
    state, _ = run([rated(f"review number {i} says the app works well on my phone", i, 5) for i in range(40)], cfg)
    assert len(state.sentences) <= 20
    again = pickle.loads(pickle.dumps(state))
    assert again.sentences == state.sentences
