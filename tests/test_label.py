from __future__ import annotations

import numpy as np
import pytest

from flows.appmeta import AppMetadata, Label
from flows.operators.label import OTHER, LabelIndex

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
