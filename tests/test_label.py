from __future__ import annotations

import numpy as np
import pytest

from core.appmeta import AppMetadata, Label
from flows.operators.label import OTHER, LabelIndex
from tests.helpers import ROOT

TOY_APP = AppMetadata(
    app_id="toy",
    name="Toy",
    labels=(
        Label("payments", "payment transfer", ("payment failed", "transfer stuck")),
        Label("login", "login otp", ("otp missing", "cannot login")),
    ),
)
VOCAB = ["payment", "transfer", "failed", "stuck", "login", "otp", "missing", "cannot", "weather"]


def toy_encode(texts):
    """Bag-of-words over a tiny vocabulary: enough to test the arithmetic without a model."""
    out = np.zeros((len(texts), len(VOCAB)), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().split():
            if w in VOCAB:
                out[i, VOCAB.index(w)] += 1
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


def test_assign_picks_best_label_and_other_below_threshold():
    index = LabelIndex.build(TOY_APP, toy_encode, threshold=0.5)
    got = index.assign(toy_encode(["payment failed again", "otp missing", "weather"]))
    assert [label for label, _ in got] == ["payments", "login", OTHER]
    assert got[0][1] == pytest.approx(1.0, abs=1e-6)
    assert got[2][1] == pytest.approx(0.0)


def test_phrase_matrix_has_every_phrase_and_a_centroid_per_label():
    index = LabelIndex.build(TOY_APP, toy_encode, threshold=0.5)
    assert index.phrase_vectors.shape == (2 * (3 + 1), len(VOCAB))
    assert index.assign(np.zeros((0, len(VOCAB)), dtype=np.float32)) == []


def test_demo_labels_with_the_real_model(apps, embedder):
    index = LabelIndex.build(apps["paynest"], embedder.encode, threshold=0.4)
    texts = [
        "I sent money by UPI, it failed but the amount was debited from my bank",
        "the one time password never arrives so I can't sign in",
        "app keeps crashing since the latest update",
        "my favourite colour is green and I like long walks",
    ]
    labels = [label for label, _ in index.assign(embedder.encode(texts))]
    assert labels == ["payments", "login_otp", "performance", OTHER]


def _enrich_one(enricher, text: str):
    from datetime import datetime, timezone

    from core.records import Translation
    from core.records import Measures, Review

    now = datetime(2026, 10, 1, tzinfo=timezone.utc)
    review = Review(id="r1", app_id="paynest", text=text, source="test", created_at=now, received_at=now, origin="t")
    translation = Translation(text_en=text, lang="en", status="not_needed")
    return list(enricher([(review, Measures(len(text.split()), 0.0, lang="en"), translation)]))[0]


def test_label_reload_while_running(tmp_path, embedder):
    """Editing the app metadata file changes labels and competitors on the next batch, without a restart;
    a broken edit keeps the last good metadata."""
    import json
    import os

    from core.appmeta import AppCatalog
    from flows.operators.enrich import Enricher

    meta = json.loads((ROOT / "demo" / "apps" / "paynest.json").read_text(encoding="utf-8"))
    path = tmp_path / "paynest.json"
    path.write_text(json.dumps(meta), encoding="utf-8")
    catalog = AppCatalog(path, check_seconds=0.0)
    enricher = Enricher(embedder, catalog, label_threshold=0.4)
    text = "please let me split a dinner bill with friends and send them a reminder, Splitwise does this"
    before = _enrich_one(enricher, text)
    assert before.primary_label != "bill_splitting"
    assert "Splitwise" not in before.competitors

    meta["labels"].append({"name": "bill_splitting", "description": "Splitting a bill or expense among friends",
                           "examples": ["split the dinner bill with friends", "remind friends to pay their share"]})
    meta["competitors"].append({"name": "Splitwise", "aliases": ["splitwise"]})
    path.write_text(json.dumps(meta), encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert catalog.refresh()
    after = _enrich_one(enricher, text)
    assert after.primary_label == "bill_splitting"
    assert "Splitwise" in after.competitors

    path.write_text("{ not json", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2 * 10**9))
    assert not catalog.refresh()
    assert _enrich_one(enricher, text).primary_label == "bill_splitting"
