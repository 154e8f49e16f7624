"""The model on ONNX Runtime: exported once from the bundled weights, used for queries and ingest.

* :func:`export_onnx` exports the weights once per model cache (torch loads only
  then) and checks the export against torch (:mod:`ingest.torch_encoder`);
  :func:`quantize_onnx` makes its int8 copy.
* :class:`OnnxEncoder` runs an export; :class:`QueryEncoder` embeds questions on one
  thread and loads in a fraction of a second without torch, so ``kb ask`` starts fast.
"""

from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embedding_model import (
    DIMENSIONS,
    MAX_TOKENS,
    SEP_ID,
    Vectors,
    model_dir,
    normalise,
    tokenizer,
)
from ingest.errors import ModelError
from ingest.torch_encoder import encode_with_torch

log = logging.getLogger(__name__)

_ONNX_FILE = "all-MiniLM-L6-v2.onnx"
_INT8_FILE = "all-MiniLM-L6-v2.int8.onnx"
_EXPORT_CHECK_MIN_COSINE = 0.999


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
    reference = encode_with_torch(probes)
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
    root = logging.getLogger()
    root.addFilter(_no_preprocessing_advice)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(source, partial, per_channel=per_channel, weight_type=QuantType.QInt8)
        os.replace(partial, target)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise ModelError(f"could not quantise the embedding model: {exc}") from exc
    finally:
        root.removeFilter(_no_preprocessing_advice)


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """Drops onnxruntime's "consider pre-processing" warning (on the root logger), which
    every first ingest printed now that int8 is the default; the quantised model is
    checked by its measured agreement with torch, not by that advice."""
    return "pre-processing before quantization" not in record.getMessage()


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

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Vectors:
        """Normalised mean-pooled vectors of ``texts``, in order.

        Without ``batch_size`` all texts go through in one padded batch; with it,
        texts are sorted by token count first so each batch pads little, and
        ``progress`` is called after each batch with the share of the work done
        (padded tokens, which is what a batch costs).
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
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
        costs = [len(rows) * len(encodings[rows[-1]].ids) for rows in batches]
        total = sum(costs)
        out = np.empty((len(encodings), DIMENSIONS), dtype=np.float32)
        done = 0
        for rows, cost in zip(batches, costs):
            out[rows] = self._run([encodings[i].ids for i in rows])
            done += cost
            if progress:
                progress(done / total)
        return out

    def _run(self, token_ids: list[list[int]]) -> Vectors:
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, tokens in enumerate(token_ids):
            n = len(tokens)
            if n == MAX_TOKENS:  # truncation dropped [SEP]; the model expects it last
                ids[row, :n] = [*tokens[: n - 1], SEP_ID]
            else:
                ids[row, :n] = tokens
            mask[row, :n] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (hidden,) = self._session.run(None, feeds)
        summed = (hidden * mask[..., None]).sum(axis=1)
        pooled: np.ndarray = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return normalise(pooled)


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


_ingest_encoders: dict[tuple[Path, int], OnnxEncoder] = {}
_ingest_lock = threading.Lock()


def ingest_encoder(path: Path, threads: int) -> OnnxEncoder:
    """The process-wide session for one model file and thread count, for long ingest runs
    (idle threads do not spin, so they never starve a query in another thread or process)."""
    with _ingest_lock:
        key = (path, threads)
        if key not in _ingest_encoders:
            _ingest_encoders[key] = OnnxEncoder(path, threads=threads, spin=False)
        return _ingest_encoders[key]
