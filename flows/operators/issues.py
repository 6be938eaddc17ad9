"""Online issue discovery per (app, primary label): issues are born, grow, merge and fade; there is no fixed k.

A review is compared by its embedding when its text is English (original or translated; the enrich step
embeds it without handles, links and the app's name), else by its words (`vector_of`, with the
`lexical_*` bars). Each issue keeps the sum of its members' unit vectors, so the *average-link* similarity of a review to
an issue (its mean cosine to every member) is one dot product: `x · sum / n`. A review joins the issue
it clears by the widest margin, when it clears one, else it starts a new issue. The bar falls with the
issue's size, from `join` for an issue of one review towards `join_floor` (`floor + (join - floor) /
sqrt(size)`): the mean similarity to a grown issue's many members is naturally lower than to one. Under
the issue metric (a learnt map of the embedding) a join also needs the raw embedding's average-link
similarity to reach `raw_join`, from a second sum per issue: the map pulls a topic's neighbouring problems
together as well as one problem's paraphrases. For text compared by its words, a word most of the key's
reviews use names the key, not an issue, and counts for nothing (`IssueState.common_words`), as do the
words of the key's label. After a review joins, the issue is compared with the others the same way
(`sum_a · sum_b / (n_a n_b)`, the raw sums against `raw_join` too); at `merge` or above the smaller issue
folds into the larger one (the younger into the older on a tie), and the merged id points to the
survivor (`IssueState.aliases`): later reviews of either carry the survivor's id, and name the merged
one (`issue_merged`), so the survivor's ticket lists it (`merged_from`).

Guarantees:
- ids are `<key>:i<n>` with `n` counted per key, never reused; state is small, picklable and
  snapshotted by Bytewax, so ids are stable across a recovery restart;
- only reviews that `forms_issue` start or grow an issue: praise and bare ratings (`is_praise`) and
  reviews the informativeness model finds uninformative are stored (and counted) with no issue;
- memory is bounded: at most `max_issues` live issues per key (the least recently active one is
  evicted first), an issue with no review for `fade_days` of event time is dropped, and aliases and a
  word-compared key's word counts are capped; a dropped issue's summary stays in the store on its reviews (name, keywords, representative);
- names are key phrases of 2-5 words from the members' own text, ranked by how many members use
  them (centrality) and how rare they are in the key's other issues (distinctiveness), never made of
  the app's own name or of words most of the key's issues use (`background_words`); the
  representative is the member nearest the issue's mean, and `examples` are picked by MMR (central
  and unlike each other).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.operators.cluster import STOPWORDS
from flows.operators.issue_priority import (
    AppBaseline, IssuePriority, Tally, add_review, facts_of, issue_priority, merge_tallies,
)
from flows.operators.text import HANDLES_AND_LINKS, PLAIN_VOWELS, lexical_words, meaning_text, words_vector
from core.records import EnrichedReview

log = logging.getLogger(__name__)
_WORD = re.compile(r"[^\W\d_][\w\u0900-\u097F'’]*")
MERGED_SHOWN = 5
_CLAUSE = re.compile(r"[.,;:!?()\[\]\n|/\"“”…]+|\s-\s")
# Words that may sit inside a key phrase but never open or close it.
_EDGE_WORDS = STOPWORDS | frozenset("is are was be been being to of in on at for with and or but not no".split())


@dataclass(frozen=True)
class IssueConfig:
    """Hyperparameters, stored verbatim."""

    join: float = 0.62  # average-link similarity at which a review joins an issue of one member
    join_floor: float = 0.45  # ... and the level that threshold falls to as the issue grows (by 1/sqrt(size))
    merge: float = 0.55  # average-link similarity at which two issues become one
    only_feedback: bool = True  # only reviews that `forms_issue` start or grow an issue (off for feature phrases)
    lexical_untranslated: bool = True  # untranslated reviews are compared by their words (`vector_of`) ...
    lexical_join: float = 0.25  # ... with these bars: shared words are rarer than close embeddings
    lexical_join_floor: float = 0.08
    lexical_merge: float = 0.15
    lexical_common: float = 0.5  # a word more than this share of a word-compared key's reviews use counts for nothing,
    lexical_common_after: int = 8  # ... once the key has seen this many reviews (`IssueState.common_words`)
    max_vocabulary: int = 1000  # word counts kept per key for that
    merge_min_size: int = 2  # both issues need this many members before they can merge
    max_issues: int = 200  # live issues per key
    fade_days: float = 60.0  # event-time days without a review before an issue leaves memory
    max_aliases: int = 500
    max_phrases: int = 80  # phrase counts kept per issue
    examples: int = 3
    candidates: int = 8  # members kept per issue as representative candidates
    sketch_dims: int = 48  # candidates' vectors are kept as seeded random projections of this size
    seed: int = 42
    metric: str = ""  # a linear map of the embedding (`flows.train_issue_map`) English text is compared under; "" for none
    raw_join: float = -1.0  # under a metric, the raw average-link similarity a join or merge also needs; -1: none
    fast_hours: float = 1.0  # half-life of the "now" activity counter
    slow_hours: float = 24.0  # half-life of the baseline activity counter


def by_words(cfg: IssueConfig) -> IssueConfig:
    """The bars for keys compared by their words (`vector_of`)."""
    return dataclasses.replace(cfg, join=cfg.lexical_join, join_floor=cfg.lexical_join_floor, merge=cfg.lexical_merge)


@dataclass
class Activity:
    """Event-time activity of one issue: decayed review counts and the running mean review priority."""

    fast: float = 0.0
    slow: float = 0.0
    at: float = 0.0  # event time (epoch seconds) the counters are decayed to
    mean_priority: float = 0.0
    reviews: int = 0

    def add(self, at: float, priority: float, cfg: IssueConfig) -> None:
        """Count one review at event time `at`; late reviews count with their decayed weight."""
        if self.reviews == 0:
            self.at = at
        if at >= self.at:
            self.fast *= _decay(at - self.at, cfg.fast_hours)
            self.slow *= _decay(at - self.at, cfg.slow_hours)
            self.at = at
            weight_fast = weight_slow = 1.0
        else:
            weight_fast, weight_slow = _decay(self.at - at, cfg.fast_hours), _decay(self.at - at, cfg.slow_hours)
        self.fast += weight_fast
        self.slow += weight_slow
        self.reviews += 1
        self.mean_priority += (priority - self.mean_priority) / min(self.reviews, 50)

    def growth(self, cfg: IssueConfig) -> float:
        """Recent rate over baseline rate (1.0 = steady); 1.0 until a few reviews are in."""
        if self.fast < 3:
            return 1.0
        return (self.fast / cfg.fast_hours) / (self.slow / cfg.slow_hours)


def merge_activity(a: Activity, b: Activity, cfg: IssueConfig) -> Activity:
    """Both issues' counters, decayed to the later of their times; the mean priority weighted by reviews."""
    at = max(a.at, b.at)
    reviews = a.reviews + b.reviews
    mean = (a.mean_priority * a.reviews + b.mean_priority * b.reviews) / max(reviews, 1)
    fast = a.fast * _decay(at - a.at, cfg.fast_hours) + b.fast * _decay(at - b.at, cfg.fast_hours)
    slow = a.slow * _decay(at - a.at, cfg.slow_hours) + b.slow * _decay(at - b.at, cfg.slow_hours)
    return Activity(fast=fast, slow=slow, at=at, mean_priority=mean, reviews=reviews)


def _decay(seconds: float, halflife_hours: float) -> float:
    return 0.5 ** (seconds / (3600 * halflife_hours))


def priority_of(issue: Issue, item: EnrichedReview) -> IssuePriority:
    """The issue's priority (`flows.operators.issue_priority`, docs/priority.md) as of `item`: its tally against
    the app's baseline stamped on `item` by the app volume step."""
    app = AppBaseline(item.app_issue_reviews, item.app_rating, item.app_negative)
    return issue_priority(facts_of(_tally(issue), app))


def _tally(issue: Issue) -> Tally:
    tally = getattr(issue, "tally", None)
    if tally is None:  # an issue from a snapshot taken before issues kept a tally
        tally = issue.tally = Tally()
    return tally


@dataclass
class Issue:
    """One live issue: the running sum of member vectors and what names and shows it."""

    number: int
    total: np.ndarray  # sum of member unit vectors (float32)
    size: int
    first_seen: float  # event time, epoch seconds
    last_seen: float
    phrases: Counter = field(default_factory=Counter)  # key-phrase -> members using it
    words: Counter = field(default_factory=Counter)  # content word -> members using it
    # (review id, sketch of its vector) of a few central members
    candidates: list[tuple[str, tuple[float, ...]]] = field(default_factory=list)
    name: str = ""
    activity: Activity = field(default_factory=Activity)
    tally: Tally = field(default_factory=Tally)  # what its priority is computed from
    raw_total: np.ndarray | None = None  # sum of members' raw unit embeddings, kept when `raw_join` is on


@dataclass
class IssueState:
    """Learned state of one (app, label): its live issues, the id counter and merged-id pointers."""

    issues: dict[int, Issue] = field(default_factory=dict)
    next_number: int = 0
    aliases: dict[int, int] = field(default_factory=dict)  # merged issue number -> survivor
    phrase_df: Counter = field(default_factory=Counter)  # phrase -> live issues using it
    evicted: int = 0
    merged: int = 0
    seen: int = 0  # reviews of the key that formed an issue
    background: frozenset = frozenset()  # words most issues of the key use (`background_words`)
    word_df: Counter = field(default_factory=Counter)  # word -> reviews of the key using it (keys compared by words)

    def __setstate__(self, state: dict) -> None:  # snapshots written before these fields existed
        self.__dict__.update({"seen": 0, "background": frozenset(), "word_df": Counter(), **state})

    def common_words(self, cfg: IssueConfig) -> frozenset[str]:
        """Words more than `lexical_common` of the key's reviews use ("tarjeta", "crédito" in a credit-card label):
        they name the key, so they do not make two of its reviews one issue. None before `lexical_common_after`
        reviews."""
        if self.seen < cfg.lexical_common_after:
            return frozenset()
        bar = cfg.lexical_common * self.seen
        return frozenset(w for w, c in self.word_df.items() if c > bar)

    def resolve(self, number: int) -> int:
        """The live issue a (possibly merged) number now lives in."""
        seen = 0
        while number in self.aliases and seen < 64:
            number, seen = self.aliases[number], seen + 1
        return number


# Words that carry a verdict or a plea but no issue: a review made only of these (and function words) names nothing
# a developer could act on ("worst app ever", "please solve my problem").
GENERIC_WORDS = frozenset("""
    good great nice best awesome excellent amazing super superb fantastic wonderful perfect love loved lovely like
    liked cool fine fun useful helpful easy fast simple smooth happy satisfied thanks thank thankyou recommended
    recommend bad worst worse poor terrible horrible useless waste rubbish pathetic hate fake fraud ever experience
    experienced application apps service overall rating stars star star5 five totally absolutely keep working work
    works well osm gud badhiya accha acha bekar bakwas
    problem problems issue issues solve solved resolve resolved fix fixed help kindly sir mam really totally
""".split())
# Verbs every complaint uses: shared by members, they still name nothing ("referral / give").
_PLAIN_VERBS = frozenset("""
    give gives giving gave given get gets getting got make makes making made take takes taking took use uses using
    used show shows showing showed try tried trying want wanted need needed say says said tell told come came going
    went done doing able unable still even also always every time times
""".split())
# A contrast or a wish turns praise into feedback: "great app but it eats battery", "nice, please add dark mode".
_CONTRAST = re.compile(
    r"\b(but|however|though|although|except|unfortunately|only (?:thing|problem|issue|downside)|wish|"
    r"please|pls|plz|should|needs?|want|lekin|par|magar)\b", re.IGNORECASE)


def forms_issue(item: EnrichedReview, names: tuple[str, ...] = ()) -> bool:
    """Whether a review may start or grow an issue: it is not praise, and, when its text is English (the
    informativeness model reads only English), informative. The app's volume (`volume.py`) counts the same
    reviews, so a ticket's share test compares like with like. `names`: the app's own names (`is_praise`)."""
    return (item.informative or item.lang_group != "en") and not is_praise(item, names)


def is_praise(item: EnrichedReview, names: tuple[str, ...] = ()) -> bool:
    """Generic praise or a bare rating: counted and stored, never an issue.

    A bare rating names nothing beyond a verdict, the app (its id and own `names`) and the review's own label
    ("good app", "worst app ever", "best upi app in india", "my phone pay is not working" for PhonePe, "payment
    issue" labelled `payments`, "loan problem" labelled `loans_investments`);
    praise is a positive review (or, for English, one typed `rating` / `user_experience`) with no contrast
    or wish in it. "Great app but it eats battery" and "bad for battery" are feedback, not praise.
    """
    text = item.text_en if item.lang_group == "en" else item.review.text
    label, own = _label_words(item.primary_label), _own_words(item.review.app_id, tuple(names))
    content = [w for w in words_of(text) if w not in STOPWORDS and w not in GENERIC_WORDS and len(w) > 2
               and w not in own and w not in label]
    if not content:
        return True
    if _CONTRAST.search(text):
        return False
    if item.lang_group != "en":
        return item.sentiment == "positive"
    return item.sentiment == "positive" and item.review_type in ("rating", "user_experience")


@lru_cache(maxsize=512)
def _label_words(label: str) -> frozenset[str]:
    """The words of a label id and their plain plurals: `loans_investments` -> loan(s), investment(s)."""
    words = [w for w in label.lower().translate(PLAIN_VOWELS).split("_") if len(w) > 2]
    return frozenset(form for w in words for form in (w, w.removesuffix("s"), w.removesuffix("s") + "s"))


def words_of(text: str) -> list[str]:
    return _WORD.findall(HANDLES_AND_LINKS.sub(" ", text.lower()))


@lru_cache(maxsize=256)
def _own_words(app_id: str, names: tuple[str, ...]) -> frozenset[str]:
    return frozenset({app_id.lower(), *(w for name in names for w in words_of(name))})


def phrases_of(text: str, own: frozenset[str] | str = frozenset()) -> tuple[set[str], set[str]]:
    """(key-phrase candidates of 2-5 words, content words) of one text.

    A candidate lies within one clause (never across punctuation), neither starts nor ends with a
    function word and holds at most two of them, e.g. "money debited but not credited", "otp not received".
    `own`: the app's own name words (and id), which are neither content words nor phrase edges.
    """
    own = frozenset({own}) if isinstance(own, str) else own
    phrases: set[str] = set()
    content: set[str] = set()
    budget = 80
    for clause in _CLAUSE.split(HANDLES_AND_LINKS.sub(" ", text.lower())):
        tokens = _WORD.findall(clause)[:budget]
        budget -= len(tokens)
        content.update(t for t in tokens if t not in STOPWORDS and len(t) > 2 and t not in own)
        for i, first in enumerate(tokens):
            if first in _EDGE_WORDS or len(first) < 3 or first in own:
                continue
            inner = 0
            for j in range(i + 1, min(i + 5, len(tokens))):
                last = tokens[j]
                if last in _EDGE_WORDS:
                    inner += 1
                    if inner > 2:
                        break
                    continue
                if len(last) > 2 and last not in own:
                    phrases.add(" ".join(tokens[i:j + 1]))
        if budget <= 0:
            break
    return phrases, content


@lru_cache(maxsize=4)
def _sketch_matrix(in_dims: int, out_dims: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((in_dims, out_dims)) / math.sqrt(out_dims)).astype(np.float32)


def compared_by_words(item: EnrichedReview, cfg: IssueConfig) -> bool:
    """A review kept untranslated, which the English embedding model reads poorly, is compared by its words.
    A key holds one language group, so all its reviews are compared the same way."""
    return cfg.lexical_untranslated and item.lang_group != "en"


def vector_of(item: EnrichedReview, cfg: IssueConfig, names: tuple[str, ...] = (),
              common: frozenset[str] = frozenset()) -> np.ndarray:
    """What the issue step compares: the embedding of English text (original or translated), else the
    review's words without the app's own `names` and the `common` words that name its key (`lexical_vector`)."""
    if compared_by_words(item, cfg):
        return words_vector(review_words(item, names), skip=common)
    return represent(item.embedding, cfg.metric)


def review_words(item: EnrichedReview, names: tuple[str, ...] = ()) -> list[str]:
    """The words a review kept untranslated is compared by (`lexical_words`), without the app's own `names`."""
    return lexical_words(meaning_text(item.review.text, names))


def represent(embedding: tuple[float, ...], metric: str = "") -> np.ndarray:
    """The unit vector of `embedding`, under the `metric` map when one is named."""
    x = np.asarray(embedding, dtype=np.float32)
    weights = load_metric(metric) if metric else None
    if weights is not None and weights.shape[0] == len(x):
        x = x @ weights
    return x / (np.linalg.norm(x) or 1.0)


@lru_cache(maxsize=4)
def load_metric(path: str) -> np.ndarray | None:
    """The map in the `.npz` at `path` (`weights`, dims x dims); None, with a warning, when there is no such file."""
    if not Path(path).is_file():
        log.warning("issues: no issue metric file %s; comparing the raw embedding (set SIFT_ISSUE_METRIC=none "
                    "to choose that without this warning)", path)
        return None
    with np.load(path, allow_pickle=False) as archive:
        weights = archive["weights"].astype(np.float32)
    log.info("issues: comparing English text under the issue metric %s (%dx%d)", path, *weights.shape)
    return weights


def sketch(x: np.ndarray, cfg: IssueConfig) -> np.ndarray:
    v = x @ _sketch_matrix(len(x), cfg.sketch_dims, cfg.seed)
    return v / (np.linalg.norm(v) or 1.0)


def issue_step(state: IssueState | None, item: EnrichedReview, cfg: IssueConfig, key: str = "",
               names: Callable[[str], tuple[str, ...]] = lambda app_id: ()) -> tuple[IssueState, EnrichedReview]:
    """Assign `item` to an issue of its key (or none, for praise) and learn from it.

    `names(app_id)`: the app's own names ("Standard Bank"), whose words never name an issue.

    Sets `cluster_id` (`<app>:<label>[:lang]:i<n>`), `cluster_name` (the key phrase),
    `cluster_keywords`, `cluster_representative`, `issue_examples`, and the issue's priority as of this
    review (`cluster_priority`, `cluster_priority_reason`: `priority_of`) on the returned review.
    """
    if state is None:
        state = IssueState()
    own = names(item.review.app_id)  # the app's name first, then how users also spell it: all taken out of the text
    if cfg.only_feedback and not forms_issue(item, own):
        return state, dataclasses.replace(item, cluster_id=None, cluster_name="", cluster_keywords=(),
                                          cluster_representative="", issue_examples=(), issue_merged=())
    if compared_by_words(item, cfg):
        cfg = by_words(cfg)
    at = item.review.created_at.timestamp()
    app_id = item.review.app_id
    phrases, content = phrases_of(meaning_text(item.text_en, own), _own_words(app_id, own[:1]))
    if compared_by_words(item, cfg):
        words = review_words(item, own)  # read once: compared below, then counted in the key's word counts
        x = words_vector(words, skip=state.common_words(cfg) | _label_words(item.primary_label))
        state.word_df.update(set(words))
        if len(state.word_df) > 4 * cfg.max_vocabulary:  # only frequent words can be common: rare ones go
            state.word_df = Counter(dict(state.word_df.most_common(cfg.max_vocabulary)))
    else:
        x = vector_of(item, cfg, own)
    raw = raw_of(item, cfg)
    _fade(state, at, cfg)
    number = assign(state, x, cfg, raw)
    state.seen += 1
    if number is None:
        number = _start(state, x, at, cfg, raw)
        issue = state.issues[number]
    else:
        issue = state.issues[number]
        issue.total += x
        if raw is not None and issue.raw_total is not None:
            issue.raw_total += raw
        issue.size += 1
        issue.last_seen = max(issue.last_seen, at)
        issue.first_seen = min(issue.first_seen, at)
    _learn_text(state, issue, phrases, content, cfg)
    if state.seen % 50 == 0:
        state.background = background_words(state)
    issue.activity.add(at, item.priority, cfg)
    add_review(_tally(issue), item)
    _offer_candidate(issue, item.id, x, cfg)
    number = _maybe_merge(state, number, cfg)
    issue = state.issues[number]
    issue.name = name_of(state, issue)
    group = "" if item.lang_group == "en" else f":{item.lang_group}"
    prefix = key or f"{item.review.app_id}:{item.primary_label}{group}"
    examples = examples_of(issue, cfg)
    merged = tuple(f"{prefix}:i{old}" for old in merged_into(state, number, MERGED_SHOWN))
    priority = priority_of(issue, item)
    return state, dataclasses.replace(
        item,
        cluster_id=f"{prefix}:i{number}",
        cluster_name=issue.name or item.primary_label,
        cluster_keywords=keywords_of(issue, skip=state.background),
        cluster_representative=examples[0] if examples else item.id,
        issue_examples=examples,
        issue_merged=merged,
        cluster_priority=priority.score,
        cluster_priority_reason=priority.reason,
        cluster_growth=round(issue.activity.growth(cfg), 3),
    )


def assign(state: IssueState, x: np.ndarray, cfg: IssueConfig, raw: np.ndarray | None = None) -> int | None:
    """The number of the issue `x` joins, or None when no issue is similar enough.

    With `raw` (the review's raw unit embedding, `raw_of`), an issue is joinable only when the raw
    average-link similarity also reaches `raw_join`: a metric tuned to pull paraphrases together must not pull
    in a neighbouring problem the raw embedding keeps apart."""
    if not state.issues:
        return None
    numbers = list(state.issues)
    totals = np.stack([state.issues[n].total for n in numbers])
    sizes = np.fromiter((state.issues[n].size for n in numbers), dtype=np.float32, count=len(numbers))
    similarity = (totals @ x) / sizes
    margin = similarity - (cfg.join_floor + (cfg.join - cfg.join_floor) / np.sqrt(sizes))
    if raw is not None:
        margin[_raw_similarity(state, numbers, raw, sizes) < cfg.raw_join] = -np.inf
    best = int(np.argmax(margin))
    return numbers[best] if margin[best] >= 0 else None


def raw_of(item: EnrichedReview, cfg: IssueConfig) -> np.ndarray | None:
    """The review's raw unit embedding when joins also need `raw_join` (a metric is on and the text is compared
    by its embedding); else None."""
    if cfg.raw_join <= -1.0 or not cfg.metric or compared_by_words(item, cfg):
        return None
    return represent(item.embedding)


def _raw_similarity(state: IssueState, numbers: list[int], raw: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Average-link raw similarity of `raw` to each issue; an issue without a raw sum (from an older snapshot)
    passes."""
    totals = [getattr(state.issues[n], "raw_total", None) for n in numbers]
    kept = np.fromiter((t is not None for t in totals), dtype=bool, count=len(totals))
    out = np.full(len(numbers), np.inf, dtype=np.float32)
    if kept.any():
        out[kept] = np.stack([t for t in totals if t is not None]) @ raw / sizes[kept]
    return out


def _start(state: IssueState, x: np.ndarray, at: float, cfg: IssueConfig, raw: np.ndarray | None = None) -> int:
    if len(state.issues) >= cfg.max_issues:
        stalest = min(state.issues.values(), key=lambda i: (i.last_seen, i.size, i.number))
        _drop(state, stalest.number)
        state.evicted += 1
    number = state.next_number
    state.next_number += 1
    state.issues[number] = Issue(number=number, total=x.copy(), size=1, first_seen=at, last_seen=at,
                                 raw_total=None if raw is None else raw.copy())
    return number


def _drop(state: IssueState, number: int) -> None:
    issue = state.issues.pop(number)
    state.phrase_df.subtract(issue.phrases.keys())
    state.phrase_df += Counter()  # drops counts at zero
    for old in [k for k, v in state.aliases.items() if v == number]:
        del state.aliases[old]


def merged_into(state: IssueState, number: int, limit: int) -> list[int]:
    """The most recent issue numbers that were merged into `number` (directly or through another merge)."""
    return [old for old, target in reversed(state.aliases.items()) if target == number][:limit]


def _fade(state: IssueState, now: float, cfg: IssueConfig) -> None:
    horizon = now - cfg.fade_days * 86400
    for number in [n for n, i in state.issues.items() if i.last_seen < horizon]:
        _drop(state, number)
        state.evicted += 1


def _learn_text(state: IssueState, issue: Issue, phrases: set[str], content: set[str], cfg: IssueConfig) -> None:
    # In sorted order: ties among equally common phrases then break the same way in every run (set order does not).
    phrases, content = sorted(phrases), sorted(content)
    new = [p for p in phrases if p not in issue.phrases]
    issue.phrases.update(phrases)
    issue.words.update(content)
    state.phrase_df.update(new)
    if len(issue.phrases) > 2 * cfg.max_phrases:
        kept = dict(issue.phrases.most_common(cfg.max_phrases))
        state.phrase_df.subtract([p for p in issue.phrases if p not in kept])
        state.phrase_df += Counter()
        issue.phrases = Counter(kept)
    if len(issue.words) > 2 * cfg.max_phrases:
        issue.words = Counter(dict(issue.words.most_common(cfg.max_phrases)))


def _offer_candidate(issue: Issue, review_id: str, x: np.ndarray, cfg: IssueConfig) -> None:
    """Keep the `candidates` members nearest the issue's current mean."""
    issue.candidates.append((review_id, tuple(round(float(v), 3) for v in sketch(x, cfg))))
    _trim_candidates(issue, cfg)


def _maybe_merge(state: IssueState, number: int, cfg: IssueConfig) -> int:
    """Fold `number` and its most similar issue into the larger one (the older on a tie) when they have converged."""
    issue = state.issues[number]
    if issue.size < cfg.merge_min_size:
        return number
    others = [n for n, i in state.issues.items() if n != number and i.size >= cfg.merge_min_size]
    if not others:
        return number
    totals = np.stack([state.issues[n].total for n in others])
    sizes = np.fromiter((state.issues[n].size for n in others), dtype=np.float32, count=len(others))
    similarity = (totals @ issue.total) / (sizes * issue.size)
    raw = getattr(issue, "raw_total", None)
    if raw is not None:  # both issues' raw sums: their raw average-link similarity must reach `raw_join` too
        similarity[_raw_similarity(state, others, raw / issue.size, sizes) < cfg.raw_join] = -np.inf
    best = int(np.argmax(similarity))
    if similarity[best] < cfg.merge:
        return number
    # The larger issue survives (the older one on a tie): an issue that has grown, and maybe raised a ticket, keeps its id.
    survivor, gone = sorted((number, others[best]), key=lambda n: (-state.issues[n].size, n))
    keep, drop = state.issues[survivor], state.issues[gone]
    keep.total = keep.total + drop.total
    if getattr(keep, "raw_total", None) is not None and getattr(drop, "raw_total", None) is not None:
        keep.raw_total = keep.raw_total + drop.raw_total
    else:
        keep.raw_total = None
    keep.size += drop.size
    keep.first_seen = min(keep.first_seen, drop.first_seen)
    keep.last_seen = max(keep.last_seen, drop.last_seen)
    shared = [p for p in drop.phrases if p in keep.phrases]
    keep.phrases.update(drop.phrases)
    keep.words.update(drop.words)
    state.phrase_df.subtract(shared)
    keep.candidates = keep.candidates + drop.candidates
    keep.activity = merge_activity(keep.activity, drop.activity, cfg)
    keep.tally = merge_tallies(_tally(keep), _tally(drop))
    del state.issues[gone]
    state.phrase_df += Counter()
    for old, target in list(state.aliases.items()):
        if target == gone:
            state.aliases[old] = survivor
    state.aliases[gone] = survivor
    while len(state.aliases) > cfg.max_aliases:
        del state.aliases[next(iter(state.aliases))]
    state.merged += 1
    _trim_candidates(keep, cfg)
    return survivor


def _trim_candidates(issue: Issue, cfg: IssueConfig) -> None:
    if len(issue.candidates) > cfg.candidates:
        centre = sketch(issue.total, cfg)
        issue.candidates = sorted(issue.candidates, key=lambda c: -float(np.dot(centre, c[1])))[:cfg.candidates]


def background_words(state: IssueState) -> frozenset[str]:
    """Words used by at least a third of the members of more than half of the key's issues ("standard bank",
    "paytm", "app"): they name the key, not one issue, so no issue is named by them alone. Needs four
    issues of two or more members; recomputed every 50 reviews."""
    grown = [i for i in state.issues.values() if i.size >= 2]
    if len(grown) < 4:
        return frozenset()
    spread: Counter = Counter()
    for issue in grown:
        spread.update(w for w, c in issue.words.items() if c >= issue.size / 3)
    return frozenset(w for w, c in spread.items() if c > len(grown) / 2)


def name_of(state: IssueState, issue: Issue) -> str:
    """The key phrase used by most members, weighted by its rarity in the key's other issues; when no phrase is
    shared, the one or two words most members share ("referral / cashback"); for a single review, its phrase."""
    if not issue.phrases:
        return ""
    live = max(len(state.issues), 1)
    background = state.background
    best, best_score = "", 0.0
    for phrase, count in issue.phrases.most_common(30):
        if count < 2 and issue.size > 1:
            break
        words = phrase.split()
        content = sum(w not in _EDGE_WORDS and w not in background for w in words)
        if content == 0:
            continue
        coverage = count / issue.size
        rarity = math.log(1 + live / max(state.phrase_df[phrase], 1))
        score = coverage * rarity * (1 + 0.15 * min(content - 1, 3)) * 0.95 ** (len(words) - content)
        if score > best_score:
            best, best_score = phrase, score
    if not best and issue.size > 1:  # members word it differently: the words they share name it
        shared = [w for w, c in issue.words.most_common(12)
                  if c >= 2 and w not in background and w not in GENERIC_WORDS and w not in _PLAIN_VERBS][:2]
        if shared:
            return " / ".join(shared)
    if not best:  # every phrase and word seen once: the first member's best phrase stands in
        best = max(issue.phrases, key=lambda p: (p.count(" ") <= 3, len(p)))
    return best


def keywords_of(issue: Issue, n: int = 5, skip: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Top content words: used by many members, with the phrase name's words first; `skip`: background words."""
    ranked = [w for w, _ in issue.words.most_common(n + 3 + len(skip)) if w not in skip]
    lead = [w for w in issue.name.split() if w in issue.words and w not in skip]
    out: list[str] = []
    for w in [*lead, *ranked]:
        if w not in out:
            out.append(w)
    return tuple(out[:n])


def examples_of(issue: Issue, cfg: IssueConfig) -> tuple[str, ...]:
    """Maximal marginal relevance over the candidates: central, then unlike the ones already chosen."""
    if not issue.candidates:
        return ()
    centre = sketch(issue.total, cfg)
    vectors = np.asarray([c[1] for c in issue.candidates], dtype=np.float32)
    relevance = vectors @ centre
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(cfg.examples, len(issue.candidates)):
        redundancy = (vectors @ vectors[chosen].T).max(axis=1)
        score = 0.6 * relevance - 0.4 * redundancy
        score[chosen] = -np.inf
        chosen.append(int(np.argmax(score)))
    return tuple(issue.candidates[i][0] for i in chosen)
