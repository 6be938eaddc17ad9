"""Issue 18.5: every step reads app metadata from the catalog, so edits apply while the flow runs. Parse and
denoise used the start-up metadata: new apps, `denoise` settings and vocabulary waited for a restart."""

from __future__ import annotations

import json
import time

from bytewax.testing import TestingSink, TestingSource, run_main

from core.appmeta import load_apps
from flows.dataflow import build_flow
from core.records import EnrichedReview
from core.settings import Settings
from tests.helpers import ROOT, raw

MESSAGES = [
    {"id": "design", "app_id": "paynest", "text": "the new design looks great"},  # 5 words
    {"id": "jargon", "app_id": "paynest", "text": "my zorblat quixnet flumpay vextor stopped"},  # not English words
    {"id": "newcomer", "app_id": "newapp", "text": "the payment failed and the money was debited from my account"},
]


def _verdicts(out: list) -> dict[str, str]:
    return {o.id: "enriched" if isinstance(o, EnrichedReview) else o.reason for o in out}


def test_parse_and_denoise_follow_edited_app_metadata_without_a_restart(embedder, tmp_path):
    apps_dir = tmp_path / "apps"
    apps_dir.mkdir()
    paynest = json.loads((ROOT / "demo" / "apps" / "paynest.json").read_text(encoding="utf-8"))
    (apps_dir / "paynest.json").write_text(json.dumps(paynest), encoding="utf-8")
    settings = Settings.from_env({"SIFT_APPS": str(apps_dir), "SIFT_APPS_RELOAD_SECONDS": "0.01",
                                  "SIFT_CLUSTERS_PER_LABEL": "4"})
    out: list = []
    source = TestingSource([raw(m, n=i) for i, m in enumerate(MESSAGES)])
    flow = build_flow(settings, load_apps(apps_dir), source, TestingSink(out), embedder=embedder)  # built once

    run_main(flow)
    assert _verdicts(out) == {"paynest/design": "enriched", "paynest/jargon": "misspelled",
                              "newapp/newcomer": "unknown_app"}

    edited = {**paynest, "denoise": {"min_words": 6},
              "vocabulary": [*paynest.get("vocabulary", []), "zorblat quixnet", "flumpay vextor"]}
    (apps_dir / "paynest.json").write_text(json.dumps(edited), encoding="utf-8")
    (apps_dir / "newapp.json").write_text(json.dumps({**paynest, "app_id": "newapp", "name": "NewApp"}), encoding="utf-8")
    time.sleep(0.05)  # past SIFT_APPS_RELOAD_SECONDS: the next look at the files reloads them
    out.clear()
    run_main(flow)  # the same flow object: nothing was rebuilt from the new files
    assert _verdicts(out) == {"paynest/design": "too_short", "paynest/jargon": "enriched",
                              "newapp/newcomer": "enriched"}
    newcomer = next(o for o in out if o.id == "newapp/newcomer")
    assert newcomer.primary_label == "payments" and newcomer.cluster_id.startswith("newapp:payments:")
