from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np

from flows.operators.issues import IssueConfig, IssueState, forms_issue, is_praise, issue_step, phrases_of
from core.records import EnrichedReview, Measures, Review

CFG = IssueConfig()
T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
RNG = np.random.default_rng(11)
TOPICS = {name: RNG.standard_normal(384) for name in ("debit", "otp", "cashback", "crash")}
TEXTS = {
    "debit": "money debited but not credited to the receiver",
    "otp": "otp not received on my registered mobile number",
    "cashback": "cashback reward not credited after the bill payment",
    "crash": "app crashes on startup after the latest update",
}


def item(i: int, topic: str, noise: float = 0.3, *, text: str | None = None, review_type: str = "bug_report",
         sentiment: str = "negative", at: datetime = T0, vector: np.ndarray | None = None,
         rng: np.random.Generator = RNG) -> EnrichedReview:
    v = TOPICS[topic] + noise * np.linalg.norm(TOPICS[topic]) / np.sqrt(384) * rng.standard_normal(384) \
        if vector is None else vector
    v = v / np.linalg.norm(v)
    text = text or TEXTS[topic]
    review = Review(id=f"r{i}", app_id="paynest", text=text, source="test", created_at=at, received_at=at, origin="t")
    return EnrichedReview(review=review, measures=Measures(len(text.split()), 0.0), lang="en", text_en=text,
                          translated=False, primary_label="payments", label_score=0.9, embedding=tuple(v.tolist()),
                          review_type=review_type, sentiment=sentiment, priority=0.7)


def run(items, state=None, cfg=CFG):
    outs = []
    for it in items:
        state, out = issue_step(state, it, cfg)
        outs.append(out)
    return state, outs


VARIANTS = {
    "debit": ("money debited but not credited to the receiver", "my money debited but not credited, please help",
              "sent 500 rs, money debited but not credited yet"),
    "otp": ("otp not received on my registered mobile number", "login fails because otp not received",
            "otp not received since morning, cannot pay"),
}


def stream(n: int, topics=("debit", "otp"), seed: int = 0) -> list[EnrichedReview]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        variants = VARIANTS.get(topic, (TEXTS[topic],))
        out.append(item(i, topic, rng=rng, at=T0 + timedelta(minutes=i), text=variants[(i // len(topics)) % len(variants)]))
    return out


def test_same_issue_shares_an_id_and_a_far_review_starts_a_new_issue():
    state, outs = run(stream(40))
    debit = {o.cluster_id for o in outs[0::2]}
    otp = {o.cluster_id for o in outs[1::2]}
    assert len(debit) == 1 and len(otp) == 1 and debit != otp
    assert outs[0].cluster_id == "paynest:payments:i0" and outs[1].cluster_id == "paynest:payments:i1"
    state, (crash,) = run([item(99, "crash")], state)
    assert crash.cluster_id == "paynest:payments:i2"
    assert len(state.issues) == 3


def test_issue_is_named_by_a_key_phrase_of_its_members():
    _, outs = run(stream(20))
    assert outs[-2].cluster_name == "money debited but not credited"
    assert outs[-1].cluster_name == "otp not received"
    assert outs[-2].cluster_name != outs[-1].cluster_name
    assert "money" in outs[-2].cluster_keywords or "debited" in outs[-2].cluster_keywords


def test_key_phrases_do_not_start_or_end_with_a_function_word():
    phrases, words = phrases_of("Money debited but not credited to the receiver")
    assert "money debited but not credited" in phrases and "debited but not credited" in phrases
    assert not any(p.split()[0] in {"but", "to", "the"} or p.split()[-1] in {"but", "to", "the"} for p in phrases)
    assert {"money", "debited", "credited", "receiver"} <= words
    across, _ = phrases_of("OTP not coming, tried 5 times")
    assert "otp not coming" in across and not any("tried" in p for p in across)  # never across punctuation


def test_praise_is_stored_without_an_issue_and_never_grows_one():
    state, outs = run(stream(10))
    sizes = {n: i.size for n, i in state.issues.items()}
    praise = [
        item(100, "debit", text="good app", review_type="rating", sentiment="positive"),
        item(101, "debit", text="best upi app in india", review_type="rating", sentiment="positive"),
        item(102, "debit", text="I use it every day to pay bills, love it", review_type="user_experience",
             sentiment="positive"),
    ]
    state, praised = run(praise, state)
    assert all(is_praise(p) for p in praise)
    assert [p.cluster_id for p in praised] == [None, None, None]
    assert {n: i.size for n, i in state.issues.items()} == sizes
    assert not is_praise(item(103, "debit", review_type="user_experience", sentiment="negative"))
    # a contrast or a concrete complaint is feedback, whatever the type
    assert not is_praise(item(104, "debit", text="great app but it eats my battery", review_type="rating",
                              sentiment="positive"))
    assert not is_praise(item(105, "debit", text="bad for battery", review_type="rating"))
    assert is_praise(item(106, "debit", text="worst app ever", review_type="rating"))
    # a complaint that names only its own label ("payments") names no issue either; one word more does
    assert is_praise(item(107, "debit", text="payment issues", review_type="bug_report"))
    assert not is_praise(item(108, "debit", text="payment pending", review_type="bug_report"))
    # ... nor one that names only the app, in any of its own spellings
    vague = item(109, "debit", text="my phone pay is not working", review_type="bug_report")
    assert is_praise(vague, ("PhonePe", "phone pay")) and not is_praise(vague)


def test_untranslated_text_is_judged_by_sentiment_alone():
    hinglish = item(1, "debit", text="paisa kat gaya transfer nahi hua", review_type="rating")
    hinglish = replace(hinglish, lang="hi-Latn", translation="untranslated")
    assert not is_praise(hinglish)
    assert is_praise(replace(hinglish, sentiment="positive"))
    _, (out,) = run([hinglish])
    assert out.cluster_id == "paynest:payments:hi-Latn:i0"


MERGING = IssueConfig(join=0.75, join_floor=0.75, merge=0.7)


def two_problems(seed: int):
    """Directions a and b of two problems (cosine 0.6: two issues at join 0.75), a bridge between them (0.89 to
    both), and `near(i, v)`: a review of direction v."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(384)
    a /= np.linalg.norm(a)
    u = rng.standard_normal(384)
    u -= (u @ a) * a
    u /= np.linalg.norm(u)
    b = 0.6 * a + 0.8 * u
    bridge = (a + b) / np.linalg.norm(a + b)

    def near(i: int, v: np.ndarray) -> EnrichedReview:
        return item(i, "debit", vector=v + 0.01 * rng.standard_normal(384))

    return a, b, bridge, near


def test_converging_issues_merge_and_the_merged_id_points_to_the_survivor():
    a, b, bridge, near = two_problems(4)
    state, outs = run([near(i, a) for i in range(3)] + [near(10 + i, b) for i in range(3)], cfg=MERGING)
    assert [o.cluster_id[-2:] for o in outs] == ["i0"] * 3 + ["i1"] * 3
    # reviews between them draw the two issues together until they are one
    state, more = run([near(20 + i, bridge) for i in range(3)], state, cfg=MERGING)
    assert state.merged == 1 and len(state.issues) == 1
    (survivor,) = state.issues
    gone = 1 - survivor
    assert state.resolve(gone) == survivor and state.aliases == {gone: survivor}
    assert more[-1].cluster_id == f"paynest:payments:i{survivor}"
    assert state.issues[survivor].size == 9
    # a later review like the merged one's lands in the survivor
    state, (late,) = run([near(30, a if gone == 0 else b)], state, cfg=MERGING)
    assert late.cluster_id == f"paynest:payments:i{survivor}"
    assert late.issue_merged == (f"paynest:payments:i{gone}",)  # so the survivor's ticket can name the merged one


def test_when_issues_merge_the_larger_one_keeps_its_id_even_when_it_is_younger():
    """A big issue that has already raised a ticket keeps its id when a small older one converges with it."""
    a, b, bridge, near = two_problems(5)
    state, _ = run([near(i, a) for i in range(2)] + [near(10 + i, b) for i in range(8)], cfg=MERGING)
    state, more = run([near(20 + i, bridge) for i in range(4)], state, cfg=MERGING)
    assert state.merged == 1 and list(state.issues) == [1] and state.aliases == {0: 1}
    assert more[-1].cluster_id == "paynest:payments:i1"


def test_live_issues_are_capped_and_stale_ones_fade():
    cfg = IssueConfig(max_issues=5, fade_days=7)
    rng = np.random.default_rng(8)
    far = [item(i, "debit", vector=rng.standard_normal(384), at=T0 + timedelta(hours=i)) for i in range(40)]
    state, outs = run(far, cfg=cfg)
    assert len(state.issues) == 5 and state.evicted == 35
    assert len({o.cluster_id for o in outs}) == 40  # ids are never reused
    # a month later every old issue has faded
    state, _ = run([item(100, "otp", at=T0 + timedelta(days=30))], state, cfg=cfg)
    assert list(state.issues) == [40]
    for issue in state.issues.values():
        assert len(issue.phrases) <= 2 * cfg.max_phrases and len(issue.candidates) <= cfg.candidates


def test_state_is_bounded_over_a_long_varied_stream():
    cfg = IssueConfig(max_issues=50)
    rng = np.random.default_rng(2)
    words = "upi otp kyc refund cashback wallet bank card login update crash slow money ticket".split()
    items = []
    for i in range(3000):
        text = " ".join(rng.choice(words, size=8))
        items.append(item(i, "debit", vector=rng.standard_normal(384), text=text, at=T0 + timedelta(minutes=i)))
    state, _ = run(items, cfg=cfg)
    assert len(state.issues) <= 50 and len(state.aliases) <= cfg.max_aliases
    assert len(pickle.dumps(state)) < 2_000_000


def test_state_survives_a_pickle_round_trip_and_ids_stay_stable_across_a_restart():
    items = stream(80, topics=("debit", "otp", "cashback"))
    state, first = run(items[:40])
    restored = pickle.loads(pickle.dumps(state))
    assert isinstance(restored, IssueState)
    _, uninterrupted = run(items[40:], state)
    _, resumed = run(items[40:], restored)
    assert [o.cluster_id for o in resumed] == [o.cluster_id for o in uninterrupted]
    assert {o.cluster_id for o in resumed} == {o.cluster_id for o in first}
    assert [o.cluster_name for o in resumed] == [o.cluster_name for o in uninterrupted]


def test_examples_are_central_and_diverse_members_not_the_first_review():
    rng = np.random.default_rng(5)
    centre = TOPICS["crash"]
    outlier = item(0, "crash", vector=centre + 0.9 * rng.standard_normal(384))  # a far-ish first member
    rest = [item(i, "crash", vector=centre + 0.5 * rng.standard_normal(384)) for i in range(1, 30)]
    _, outs = run([outlier, *rest], cfg=IssueConfig(join=0.3))
    last = outs[-1]
    assert last.cluster_id == outs[0].cluster_id
    assert last.cluster_representative != "r0" and last.cluster_representative == last.issue_examples[0]
    assert len(set(last.issue_examples)) == 3
    members = {o.id for o in outs}
    assert set(last.issue_examples) <= members


def test_issue_priority_grows_with_the_issue_and_fades_when_it_goes_quiet():
    """The issue's priority (docs/priority.md) is computed from its own reviews: more of them raise it, a month
    without any lowers it (its counts decay), and each review carries the facts behind it."""
    rng = np.random.default_rng(3)

    def at(i: int, when: datetime) -> EnrichedReview:
        return item(i, "debit", 0.2, at=when, rng=rng)

    quiet = [at(i, T0 + timedelta(hours=2 * i)) for i in range(3)]
    burst = [at(100 + i, T0 + timedelta(hours=24, minutes=i)) for i in range(30)]
    later = [at(200, T0 + timedelta(days=45))]
    _, outs = run(quiet + burst + later)
    assert len({o.cluster_id for o in outs}) == 1
    calm, grown, after = outs[len(quiet) - 1], outs[len(quiet) + len(burst) - 1], outs[-1]
    assert grown.cluster_priority > calm.cluster_priority + 0.2
    assert after.cluster_priority < grown.cluster_priority
    assert 0 <= calm.cluster_priority <= 1 and 0 <= grown.cluster_priority <= 1
    assert calm.cluster_priority_reason.startswith("3 reviews") and grown.cluster_priority_reason.startswith("33 reviews")
    assert grown.cluster_growth > 5  # the hourly growth is still reported on the review


def test_an_uninformative_review_is_stored_without_an_issue_and_never_grows_one():
    state, outs = run([replace(item(i, "debit"), informative=False) for i in range(5)])
    assert all(o.cluster_id is None for o in outs) and not state.issues
    assert not forms_issue(replace(item(9, "debit"), informative=False)) and forms_issue(item(9, "debit"))


def test_an_issue_is_not_named_by_the_words_every_issue_of_the_key_uses():
    texts = {"debit": "standard bank app: money debited but not credited", "otp": "standard bank app: otp not received",
             "cashback": "standard bank app: cashback reward not credited", "crash": "standard bank app: crashes on startup"}
    reviews = [item(i, topic, text=texts[topic], at=T0 + timedelta(minutes=i))
               for i, topic in enumerate(["debit", "otp", "cashback", "crash"] * 15)]
    state, outs = run(reviews)
    assert {"standard", "bank"} <= state.background
    names = {o.cluster_name for o in outs[-4:]}
    assert names == {"money debited but not credited", "otp not received", "cashback reward not credited",
                     "crashes on startup"}


def test_an_issue_is_never_named_by_the_apps_own_name():
    reviews = [item(i, "crash", text=f"Standard Bank app crashes on startup again {'today' if i % 2 else 'now'}")
               for i in range(6)]
    state = None
    for r in reviews:
        state, out = issue_step(state, replace(r, review=replace(r.review, app_id="standardbankza")), CFG,
                                names=lambda app_id: ("Standard Bank",))
    assert out.cluster_name == "crashes on startup"
    assert not {"standard", "bank"} & set(out.cluster_keywords)


def test_the_spellings_users_write_the_apps_name_in_never_name_an_issue():
    from core.appmeta import own_names, parse_app

    meta = parse_app({"app_id": "phonepe", "name": "PhonePe", "aliases": ["phone pay"],
                      "labels": [{"name": "payments", "description": "payments", "examples": ["payment failed"]}]})
    names = own_names({"phonepe": meta}, "phonepe")
    assert names == ("PhonePe", "phone pay")  # the id "phonepe" is the name, case aside
    state = None
    for i in range(6):
        r = item(i, "crash", text=f"my phone pay crashes on startup {'today' if i % 2 else 'again'}")
        state, out = issue_step(state, replace(r, review=replace(r.review, app_id="phonepe")), CFG,
                                names=lambda app_id: names)
    assert out.cluster_name == "crashes on startup"
    assert not {"phone", "pay"} & set(out.cluster_keywords)


def test_untranslated_reviews_are_compared_by_their_words():
    def spanish(i: int, text: str, vector: np.ndarray) -> EnrichedReview:
        base = item(i, "debit", text=text, vector=vector, sentiment="negative", at=T0 + timedelta(minutes=i))
        return replace(base, lang="es", translation="untranslated", text_en=text)

    same = RNG.standard_normal(384)  # the English model reads every Spanish review alike
    texts = ["No me deja entrar a la app desde ayer", "no puedo entrar, no me deja entrar a mi cuenta",
             "la tarjeta de crédito nunca llegó", "mi tarjeta de crédito no llega a mi casa"]
    _, outs = run([spanish(i, t, same) for i, t in enumerate(texts)])
    ids = [o.cluster_id for o in outs]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert ids[0].startswith("paynest:payments:es:")


def test_an_issue_whose_members_share_no_phrase_is_named_by_the_words_they_share():
    texts = ["my referral reward never came", "no cashback on any payment", "referral money not credited",
             "cashback offers are gone", "referral bonus is too small"]
    state = None
    for i, text in enumerate(texts):
        state, out = issue_step(state, item(i, "cashback", text=text), CFG)
    assert out.cluster_name == "referral / cashback"
    state, alone = issue_step(None, item(9, "cashback", text="the referral program stopped paying"), CFG)
    assert alone.cluster_name and "/" not in alone.cluster_name  # one review: its own phrase


def test_the_apps_own_names_are_worked_out_once_and_follow_edited_metadata(tmp_path):
    import json as _json
    import time as _time

    from core.appmeta import AppCatalog
    from flows.dataflow import app_names
    from tests.helpers import ROOT

    paynest = _json.loads((ROOT / "demo" / "apps" / "paynest.json").read_text(encoding="utf-8"))
    (tmp_path / "paynest.json").write_text(_json.dumps({**paynest, "aliases": ["pay nest"]}), encoding="utf-8")
    names = app_names(AppCatalog(tmp_path, check_seconds=0.01))
    first = names("paynest")
    assert "pay nest" in first and names("paynest") is first  # the same tuple: not recomputed per review
    (tmp_path / "paynest.json").write_text(_json.dumps({**paynest, "aliases": ["paynest upi app"]}), encoding="utf-8")
    _time.sleep(0.05)
    assert "paynest upi app" in names("paynest") and "pay nest" not in names("paynest")


def test_words_most_of_a_keys_reviews_use_do_not_make_two_untranslated_reviews_one_issue():
    """A credit-card label's reviews all say "tarjeta de crédito": once most of the key's reviews use a word, it
    names the key, so a missing card and a payment that closes the app stay two issues."""
    def spanish(i: int, text: str) -> EnrichedReview:
        base = item(i, "debit", text=text, sentiment="negative", at=T0 + timedelta(minutes=i))
        return replace(base, lang="es", translation="untranslated", text_en=text)

    first = ["quiero una tarjeta de crédito con más límite", "la tarjeta de crédito tiene comisión anual",
             "mi tarjeta de crédito llegó rota", "pedí tarjeta de crédito hace un mes y nada",
             "el estado de cuenta de la tarjeta de crédito está mal", "subieron la tasa de la tarjeta de crédito",
             "no dan tarjeta de crédito a estudiantes", "la tarjeta de crédito metálica pesa mucho"]
    missing, closes = "la tarjeta de crédito no aparece tras la actualización", "se cierra la app al pagar la tarjeta de crédito"
    texts = first + [missing, closes] * 3
    reviews = [spanish(i, t) for i, t in enumerate(texts)]
    _, outs = run(reviews)
    assert outs[8].cluster_id != outs[9].cluster_id
    assert len({o.cluster_id for o in outs[8::2]}) == 1 and len({o.cluster_id for o in outs[9::2]}) == 1
    _, plain = run(reviews, cfg=replace(CFG, lexical_common=1.0))  # no word is ever common: the shared words bind
    assert len({o.cluster_id for o in plain[8:]}) < len({o.cluster_id for o in outs[8:]})


def test_under_a_metric_a_join_also_needs_the_raw_embeddings_bar(tmp_path):
    """A map that reads two problems alike (here: it collapses every review onto one direction) cannot make them
    one issue when the raw embedding keeps them apart."""
    from flows.models import write_npz

    a, b = (TOPICS[t] / np.linalg.norm(TOPICS[t]) for t in ("debit", "otp"))
    collapse = np.outer(a + b, a).astype(np.float32)
    path = tmp_path / "collapse.npz"
    write_npz(path, {"weights": collapse.astype(np.float16)})
    reviews = stream(12)
    _, mapped = run(reviews, cfg=replace(CFG, metric=str(path)))
    assert len({o.cluster_id for o in mapped}) == 1
    _, guarded = run(reviews, cfg=replace(CFG, metric=str(path), raw_join=0.5))
    assert len({o.cluster_id for o in guarded[0::2]}) == 1 and len({o.cluster_id for o in guarded[1::2]}) == 1
    assert guarded[0].cluster_id != guarded[1].cluster_id


def test_untranslated_reviews_are_not_one_issue_by_their_labels_word_and_read_accents_alike():
    def spanish(i: int, text: str) -> EnrichedReview:
        base = item(i, "debit", text=text, sentiment="negative", at=T0 + timedelta(minutes=i))
        return replace(base, lang="es", translation="untranslated", text_en=text, primary_label="credito")

    texts = ["crédito bloqueado", "crédito rechazado", "después de la actualización", "despues de la actualizacion"]
    _, outs = run([spanish(i, t) for i, t in enumerate(texts)])
    assert outs[0].cluster_id != outs[1].cluster_id  # they share only the label's word
    assert outs[2].cluster_id == outs[3].cluster_id  # the same words, with and without accents
