"""Translation to English behind one interface: batched, cached, and never losing a review.

`Translator` is what a backend implements (`connectors/translate.py` has AWS
Translate and argostranslate); `NoTranslator` is the `none` backend. The batch
step `TranslateBatch` sends each batch's non-English texts to the backend once
per language, remembers successful translations in a bounded LRU cache, and
turns every outcome into a `Translation`:

- `not_needed`: English (or no language could be placed); `text_en` is the text;
- `translated`: `text_en` is the backend's English;
- `untranslated`: the backend cannot translate this language (always so with
  `none`); the original text is kept and labelled in its own language group;
- `failed`: the backend raised or refused; the original is kept and flagged.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Iterable
from core.records import Measures, Review, Translation, Translator, failed, untranslated

log = logging.getLogger(__name__)
NO_TRANSLATION_NEEDED = frozenset({"en", "und"})


def review_lang(review: Review, m: Measures) -> str:
    """The detected language; the input's own `lang` field only when detection placed nothing."""
    if m.lang == "und" and review.lang_hint:
        return review.lang_hint.lower()
    return m.lang


class TranslateBatch:
    """Callable for `op.flat_map_batch`: `[(Review, Measures)] -> [(Review, Measures, Translation)]`."""

    def __init__(self, translator: Translator, cache_size: int = 10_000):
        self.translator = translator
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], str] = OrderedDict()

    def _cached(self, key: tuple[str, str]) -> str | None:
        text = self._cache.get(key)
        if text is not None:
            self._cache.move_to_end(key)
        return text

    def _remember(self, key: tuple[str, str], text_en: str) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = text_en
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def __call__(self, batch: list[tuple[Review, Measures]]) -> Iterable[tuple[Review, Measures, Translation]]:
        results: list[Translation | None] = [None] * len(batch)
        todo: dict[str, dict[str, list[int]]] = {}  # lang -> text -> rows
        for i, (review, m) in enumerate(batch):
            lang = review_lang(review, m)
            if lang in NO_TRANSLATION_NEEDED:
                results[i] = Translation("not_needed", review.text, lang)
            elif not self.translator.supports(lang):
                results[i] = untranslated(review.text, lang, f"{self.translator.name} cannot translate {lang!r}")
            elif (hit := self._cached((lang, review.text))) is not None:
                results[i] = Translation("translated", hit, lang, f"{self.translator.name} (cached)")
            else:
                todo.setdefault(lang, {}).setdefault(review.text, []).append(i)
        for lang, rows_by_text in todo.items():
            texts = list(rows_by_text)
            try:
                done = self.translator.translate(texts, lang)
                if len(done) != len(texts):
                    raise ValueError(f"backend returned {len(done)} translations for {len(texts)} texts")
            except Exception as e:  # a backend bug or outage must not lose reviews
                log.warning("translate: %s failed on %d %r texts: %s", self.translator.name, len(texts), lang, e)
                done = [failed(t, lang, f"{type(e).__name__}: {e}") for t in texts]
            for text, translation in zip(texts, done):
                if translation.status == "translated":
                    self._remember((lang, text), translation.text_en)
                for row in rows_by_text[text]:
                    results[row] = translation
        counts = Counter(t.status for t in results if t)
        if todo:
            log.debug("translate: %d reviews: %s", len(batch), dict(counts))
        return [(review, m, t) for (review, m), t in zip(batch, results) if t is not None]
