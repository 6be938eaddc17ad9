"""The per-app watch list of competitor organisations: small, picklable Bytewax state.

`WatchList` holds frozen `WatchedOrg`s (names, hashtags, aliases: strings only). `resolve` maps a
snap-in command onto the app metadata's competitor ("#PhonePe" -> "PhonePe" with its aliases).

    >>> from core.records import WatchCommand
    >>> watch = WatchList()
    >>> watch.apply(WatchCommand("add", "paynest", "Google Pay", ("#GooglePay",), ("gpay",)))
    'watching Google Pay (#GooglePay; gpay)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.appmeta import Competitor
from core.records import WatchCommand


def norm(text: str) -> str:
    """Case-, space- and punctuation-free form: "#Google Pay", "google-pay" -> "googlepay"."""
    return re.sub(r"[\W_]+", "", text.lower())


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    """Distinct items, case-insensitively; spacing variants ("phone pe", "phonepe") are kept apart."""
    seen: dict[str, str] = {}
    for item in items:
        key = " ".join(item.lower().split())
        if key and key not in seen:
            seen[key] = item.strip()
    return tuple(seen.values())


# ── the watch list (per-app state) ───────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class WatchedOrg:
    """A watched organisation as users write it: canonical name, hashtags, aliases."""

    name: str
    hashtags: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return norm(self.name)

    @property
    def forms(self) -> frozenset[str]:
        """Normalised name, hashtags and aliases: what identifies this org in a command."""
        return frozenset(f for f in map(norm, (self.name, *self.hashtags, *self.aliases)) if f)


def resolve(cmd: WatchCommand, competitors: tuple[Competitor, ...] = ()) -> WatchedOrg:
    """The org a command names; the metadata's competitor (canonical name, merged aliases) when one matches.

    A match is on any normalised form: "#PhonePe" (org "Phone Pe") resolves to "PhonePe".
    """
    wanted = {f for f in map(norm, (cmd.org, *cmd.hashtags, *cmd.aliases)) if f}
    for c in competitors:
        if wanted & {f for f in map(norm, (c.name, *c.hashtags, *c.aliases)) if f}:
            return WatchedOrg(c.name, _dedupe((*cmd.hashtags, *c.hashtags)), _dedupe((*c.aliases, *cmd.aliases)))
    return WatchedOrg(cmd.org.strip(), _dedupe(cmd.hashtags), _dedupe(cmd.aliases))


@dataclass
class WatchList:
    """One app's watched orgs by normalised name. Picklable and small: strings only.

    `apply` adds (replacing a watched org's hashtags and aliases) or removes one org and returns a
    one-line description of the change; removing an org that is not watched changes nothing.
    """

    orgs: dict[str, WatchedOrg] = field(default_factory=dict)

    def apply(self, cmd: WatchCommand, competitors: tuple[Competitor, ...] = ()) -> str:
        org = resolve(cmd, competitors)
        known = self._find(org)
        if cmd.action == "add":
            if known is not None:
                del self.orgs[known]
            self.orgs[org.key] = org
            verb = "now watching" if known is not None else "watching"
            tags = " ".join(org.hashtags)
            aliases = ", ".join(org.aliases)
            detail = "; ".join(p for p in (tags, aliases) if p)
            return f"{verb} {org.name}" + (f" ({detail})" if detail else "")
        if cmd.action == "remove":
            if known is None:
                return f"not watching {cmd.org!r}; nothing removed"
            removed = self.orgs.pop(known)
            return f"stopped watching {removed.name}"
        raise ValueError(f"watch-list command {cmd.id!r}: action must be add or remove, got {cmd.action!r}")

    def _find(self, org: WatchedOrg) -> str | None:
        if org.key in self.orgs:
            return org.key
        return next((k for k, o in self.orgs.items() if o.forms & org.forms), None)

    @property
    def watched(self) -> tuple[WatchedOrg, ...]:
        return tuple(self.orgs[k] for k in sorted(self.orgs))

    def __len__(self) -> int:
        return len(self.orgs)



def watch_of(competitors: Iterable[Competitor]) -> WatchList:
    """A watch list of every competitor in the app metadata (what enrichment looks for)."""
    orgs = [WatchedOrg(c.name, tuple(c.hashtags), tuple(c.aliases)) for c in competitors if c.name.strip()]
    return WatchList({o.key: o for o in orgs})

