"""The embedder's contract (shape, dtype, unit norm, input order, cache) and the ONNX backends' agreement
with torch on real reviews read from ../shared/data at run time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.operators.embed import Embedder
from core.records import DIMS
from core.settings import ConfigError, Settings
from tests.conftest import ROOT

DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_texts() -> list[str]:
    """~50 real texts: 40 labelled app reviews of all lengths and 10 short UPI reviews (some non-English)."""
    reviews, stream = DATA / "labeled" / "review_types_maalej2016.csv", DATA / "streams" / "upi_phonepe_paytm_2025.csv"
    if not (reviews.is_file() and stream.is_file()):
        pytest.skip(f"shared data not found under {DATA}")
    long = pd.read_csv(reviews)["text"].dropna().astype(str).drop_duplicates()
    short = pd.read_csv(stream)["text"].dropna().astype(str).drop_duplicates()
    return long.iloc[::90].head(40).tolist() + short.iloc[::700].head(10).tolist()


class StubRunner:
    """Deterministic unit vectors from the text; records the micro-batches it was given."""

    def __init__(self):
        self.batches: list[list[str]] = []

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        rows = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=DIMS) for t in texts])
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def stubbed(**kwargs) -> tuple[Embedder, StubRunner]:
    embedder, runner = Embedder(**kwargs), StubRunner()
    embedder._runner = runner
    return embedder, runner


def test_micro_batches_are_length_sorted_bounded_and_rows_come_back_in_input_order():
    texts = ["a much longer review text here", "ok", "medium length", "x", "another fairly long one", "hm"]
    embedder, runner = stubbed(batch_size=2, cache_size=0)
    got = embedder.encode(texts)
    assert [len(b) for b in runner.batches] == [2, 2, 2]
    flat = [t for b in runner.batches for t in b]
    assert [len(t) for t in flat] == sorted(len(t) for t in texts)
    np.testing.assert_array_equal(got, np.vstack([StubRunner().encode_batch([t]) for t in texts]))


def test_duplicates_are_encoded_once_and_served_identical_from_the_cache():
    embedder, runner = stubbed(batch_size=8, cache_size=100)
    first = embedder.encode(["slow app", "great", "slow app"])
    assert sum(len(b) for b in runner.batches) == 2
    np.testing.assert_array_equal(first[0], first[2])
    again = embedder.encode(["great", "new one", "slow app"])
    assert runner.batches[-1] == ["new one"]
    np.testing.assert_array_equal(again[0], first[1])
    np.testing.assert_array_equal(again[2], first[0])
    again[0] = 0.0  # callers own their copy; the cached vector is untouched
    np.testing.assert_array_equal(embedder.encode(["great"])[0], first[1])


def test_cache_is_a_bounded_lru():
    embedder, runner = stubbed(batch_size=4, cache_size=3)
    for i in range(10):
        embedder.encode([f"text {i}"])
    assert embedder.cache_len() == 3
    embedder.encode(["text 7"])  # recent: a hit, and now the most recently used
    embedder.encode(["text 0"])  # evicted long ago: encoded again, evicts text 8
    assert [b for b in runner.batches[-1:]] == [["text 0"]] and len(runner.batches) == 11
    embedder.encode(["text 7", "text 9"])
    assert len(runner.batches) == 11 and embedder.cache_len() == 3


def test_no_cache_and_empty_input():
    embedder, runner = stubbed(cache_size=0)
    embedder.encode(["same", "same"])
    embedder.encode(["same"])
    assert runner.batches == [["same"], ["same"]] and embedder.cache_len() == 0
    empty = embedder.encode([])
    assert empty.shape == (0, DIMS) and empty.dtype == np.float32


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="'tensorrt' is not one of onnx, torch, onnx-int8"):
        Embedder(backend="tensorrt")
    with pytest.raises(ValueError, match="batch_size=0"):
        Embedder(batch_size=0)


def test_backend_setting():
    assert Settings.from_env({}).embed_backend == "onnx"
    assert Settings.from_env({"SIFT_EMBED_BACKEND": "torch"}).embed_backend == "torch"
    assert Settings.from_env({"SIFT_EMBED_BACKEND": "ONNX-int8"}).embed_backend == "onnx-int8"
    with pytest.raises(ConfigError, match="SIFT_EMBED_BACKEND='gpu' is not one of onnx, torch, onnx-int8"):
        Settings.from_env({"SIFT_EMBED_BACKEND": "gpu"})


@pytest.fixture(scope="session")
def torch_embedder() -> Embedder:
    return Embedder(threads=2, backend="torch")


@pytest.fixture(scope="session")
def reference(torch_embedder, real_texts) -> np.ndarray:
    """Torch fp32, one text at a time: no padding, no batching, no cache."""
    return np.vstack([torch_embedder.model.encode([t], normalize_embeddings=True) for t in real_texts])


def check_contract(vectors: np.ndarray, n: int) -> None:
    assert vectors.shape == (n, DIMS) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_torch_contract_and_order_with_real_texts(torch_embedder, real_texts, reference):
    fresh = Embedder(threads=2, batch_size=8, cache_size=0, backend="torch")
    fresh._runner = torch_embedder.runner  # the same loaded model, without this object's cache
    got = fresh.encode(real_texts)
    check_contract(got, len(real_texts))
    assert np.min(np.sum(got * reference, axis=1)) > 0.99999


@pytest.fixture(scope="session")
def onnx_dir(tmp_path_factory):
    pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: the ONNX backends cannot run")
    return tmp_path_factory.mktemp("onnx")


# int8: measured on this set min ~0.97, mean ~0.988 (dynamic per-tensor activation quantisation; the
# 0.99-per-text aim is not reached, see bench.encode); the bounds guard against a broken recipe.
@pytest.mark.parametrize(("backend", "min_cosine", "mean_cosine"), [("onnx", 0.9999, 0.99999), ("onnx-int8", 0.96, 0.985)])
def test_onnx_backends_agree_with_torch(backend, min_cosine, mean_cosine, onnx_dir, real_texts, reference):
    embedder = Embedder(threads=2, batch_size=16, backend=backend, onnx_dir=onnx_dir)
    got = embedder.encode(real_texts)
    check_contract(got, len(real_texts))
    cosine = np.sum(got * reference, axis=1)
    worst = int(cosine.argmin())
    print(f"{backend}: cosine with torch min {cosine.min():.4f} mean {cosine.mean():.4f}")
    assert cosine.min() >= min_cosine, f"{backend}: worst text {real_texts[worst]!r} at {cosine[worst]:.4f}"
    assert cosine.mean() >= mean_cosine
    assert embedder.encode([real_texts[3]])[0].tobytes() == got[3].tobytes()


def test_onnx_tokenizer_matches_the_models_own(real_texts):
    """The ONNX backend tokenizes with `tokenizers` from tokenizer.json (no transformers, so no torch, in the
    flow's process): the same ids, masks and padding as `AutoTokenizer` for real and awkward texts."""
    from transformers import AutoTokenizer

    from flows.operators.embed import _max_seq_length, _tokenizer, default_model_path

    path = default_model_path()
    max_length = _max_seq_length(path)
    ours = _tokenizer(path, max_length)
    theirs = AutoTokenizer.from_pretrained(str(path))
    awkward = ["", " ", "😀😀", "word " * 600, "नमस्ते, भुगतान विफल हो गया", "¡Pago fallido!", "UPI\tpin\n\nreset"]
    for batch in (real_texts[:25], real_texts[25:], awkward):
        want = theirs(batch, padding=True, truncation=True, max_length=max_length, return_tensors="np")
        got = ours(batch)
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert ours(["word " * 600])["input_ids"].shape == (1, max_length)
