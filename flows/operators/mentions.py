"""Competitor mentions: names, aliases and hashtags from the app's metadata, found in review text.

Matching is case-insensitive on word boundaries, ignores spaces inside names ("Google Pay",
"googlepay", "#GooglePay" all match), and returns each competitor's canonical name once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flows.appmeta import Competitor


def _pattern(phrase: str) -> str:
    words = [re.escape(w) for w in re.split(r"\s+", phrase.strip().lstrip("#")) if w]
    return r"\s*".join(words)


@dataclass(frozen=True)
class MentionFinder:
    """One compiled regex per competitor; `find` is pure."""

    names: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls, competitors: Iterable[Competitor]) -> MentionFinder:
        names, patterns = [], []
        for c in competitors:
            phrases = {c.name, *c.aliases, *c.hashtags}
            alternatives = sorted({_pattern(p) for p in phrases if p.strip().lstrip("#")}, key=len, reverse=True)
            if alternatives:
                names.append(c.name)
                patterns.append(re.compile(r"(?<![\w])#?(?:" + "|".join(alternatives) + r")(?![\w])", re.IGNORECASE))
        return cls(tuple(names), tuple(patterns))

    def find(self, text: str) -> tuple[str, ...]:
        return tuple(name for name, pattern in zip(self.names, self.patterns) if pattern.search(text))
