"""The model on torch (sentence-transformers): the reference the ONNX export is checked against.

Selectable for ingest with ``KB_INGEST_RUNTIME=torch`` (fp32) or ``torch-bf16`` (bf16
autocast, which ``auto`` takes for a large ingest on a CPU with AMX); otherwise torch
loads only to export the ONNX model once. Loads once per process and never touches the network
(with the entry points' :data:`~ingest.embedding_model.PROCESS_ENVIRONMENT`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embedding_model import DIMENSIONS, MAX_TOKENS, Vectors, model_dir, normalise
from ingest.errors import ModelError

BF16_SLICE = 128
"""Texts per ``model.encode`` call in a bf16 pass, between two progress reports (each call
runs batches of its own; the texts come length-sorted, so each batch pads little)."""

_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def sentence_transformer() -> Any:
    """The process-wide sentence-transformers model (loads torch).

    Raises:
        ModelError: The model could not be loaded.
    """
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


def multiplies_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX, ``amx_bf16``).

    There torch's bf16 autocast runs the model on passages about 2.4x as fast as torch's
    fp32 (1.9x the fp32 ONNX export), vectors at a cosine of 0.99998 to fp32's; without
    it bf16 is emulated and slower. Read from
    ``/proc/cpuinfo`` (Linux), without importing torch; ``False`` elsewhere.
    """
    return _cpu_has("amx_bf16")


@cache
def _cpu_has(flag: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return flag in line.split(":", 1)[-1].split()
    except OSError:
        pass
    return False


def encode_with_bf16(
    texts: Sequence[str],
    batch_size: int = 32,
    progress: Callable[[float], None] | None = None,
) -> Vectors:
    """Normalised embeddings of ``texts``, in order, with torch's bf16 autocast.

    The texts go through length-sorted, :data:`BF16_SLICE` at a time; ``progress`` is
    called after each slice with the share of the characters embedded so far.
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    import torch

    model = sentence_transformer()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    total = sum(len(text) for text in texts) or 1
    out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    done = 0
    for start in range(0, len(order), BF16_SLICE):
        rows = order[start : start + BF16_SLICE]
        batch = [texts[i] for i in rows]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            vectors = model.encode(
                batch, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False
            )
        out[rows] = normalise(np.asarray(vectors, dtype=np.float32))
        done += sum(len(text) for text in batch)
        if progress:
            progress(done / total)
    return out


def encode_with_torch(texts: Sequence[str], batch_size: int = 32) -> Vectors:
    """Normalised embeddings of ``texts``, in order (what ``model.encode`` returns)."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = sentence_transformer().encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
