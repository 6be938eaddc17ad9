"""Rules the denoise and language steps apply, and an app's metadata may override (its `"denoise"` block).

Core: plain frozen dataclasses, so app metadata is checked against them where it is loaded
(`core/appmeta.py`) without importing an operator. `words` is the tokenizer both use.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case letter words (apostrophes inside a word kept)."""
    return [w.lower() for w in _WORD.findall(text)]


@dataclass(frozen=True)
class LangRules:
    """Thresholds for the Hinglish check and for short texts."""

    hinglish_min_share: float = 0.25  # share of words that are romanized-Hindi words
    hinglish_min_hits: int = 1
    short_letters: int = 24  # below this many letters a CLD2 answer is not trusted on its own
    min_english_share: float = 0.5  # share of dictionary words to call a short unplaced text English


@dataclass(frozen=True)
class DenoiseRules:
    """Thresholds and word lists; a review is kept when it meets all of them. Per-app overrides via `with_overrides`."""

    min_words: int = 3
    max_non_english_ratio: float = 0.3
    max_spelling_error_ratio: float = 0.6
    max_gibberish_ratio: float = 0.5
    max_repetition_ratio: float = 0.7
    spam_rules: bool = True
    contest_hashtags: tuple[str, ...] = ()
    vocabulary: frozenset[str] = frozenset()
    lang: LangRules = LangRules()

    def with_overrides(self, overrides: Mapping[str, Any], vocabulary: tuple[str, ...] = ()) -> DenoiseRules:
        """These rules with an app's `"denoise": {...}` values and its vocabulary (words of each phrase)."""
        known = {f.name for f in dataclasses.fields(self)} - {"vocabulary", "lang"}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown denoise setting(s) {sorted(unknown)}; known: {sorted(known)}")
        values = dict(overrides)
        for name, value in values.items():
            default = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if isinstance(default, bool) != isinstance(value, bool) or (
                isinstance(default, (int, float)) and not isinstance(default, bool) and not number
            ):
                raise ValueError(f"denoise setting {name!r} must be like {default!r}, got {value!r}")
        if "contest_hashtags" in values:
            values["contest_hashtags"] = tuple(str(h).lower().lstrip("#") for h in values["contest_hashtags"])
        vocab = {w for phrase in vocabulary for w in words(phrase)}
        return dataclasses.replace(self, **values, vocabulary=self.vocabulary | vocab)
