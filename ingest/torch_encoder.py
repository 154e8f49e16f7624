"""The model on torch (sentence-transformers): the reference the ONNX export is checked against.

Selectable for ingest with ``KB_INGEST_RUNTIME=torch``; otherwise torch loads only
to export the ONNX model once. Loads once per process and never touches the network
(with the entry points' :data:`~ingest.embedding_model.PROCESS_ENVIRONMENT`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ingest.embedding_model import DIMENSIONS, MAX_TOKENS, Vectors, model_dir
from ingest.errors import ModelError

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
