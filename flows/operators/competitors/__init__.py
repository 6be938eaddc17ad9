"""Competitor intelligence: which competitors a review names, and who it says is ahead.

- `watch`: the per-app watch list (Bytewax state) and `resolve` for snap-in commands;
- `lexicon`: the one matcher of competitor names, aliases, hashtags and misspellings, used by
  enrichment (`mentioned`) and by the watch-list join (`detect`);
- `features`: feature phrases, whether one is `concrete`, and the one `feature_key`;
- `cues`: cue phrases, each with its own judge of a mention's direction;
- `detect`: one `Detection` (org, direction, concrete feature or None) per named org.

Only `competitor_ahead` and `switching_away` (`REQUESTS`) are feature requests; `own_ahead` and
`switching_to` (`WINS`) are counted as wins; `neutral` is a mention with no judgement.
"""

from flows.operators.competitors.cues import (
    COMPETITOR_AHEAD, DIRECTIONS, NEUTRAL, OWN_AHEAD, REQUESTS, SWITCHING_AWAY, SWITCHING_TO, WINS,
)
from flows.operators.competitors.detect import Detection, detect
from flows.operators.competitors.features import concrete, feature_key
from flows.operators.competitors.lexicon import Mention, find_mentions, mentioned
from flows.operators.competitors.watch import WatchedOrg, WatchList, norm, resolve, watch_of

__all__ = [
    "COMPETITOR_AHEAD", "DIRECTIONS", "NEUTRAL", "OWN_AHEAD", "REQUESTS", "SWITCHING_AWAY", "SWITCHING_TO", "WINS",
    "Detection", "Mention", "WatchList", "WatchedOrg", "concrete", "detect", "feature_key", "find_mentions",
    "mentioned", "norm", "resolve", "watch_of",
]
