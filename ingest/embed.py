"""The embed stage of ingest: chunks, and every sentence of each chunk, to vectors.

:class:`ChunkEncoder` embeds each chunk and each of its sentences on its own; the
answerer uses the sentence vectors to pick the sentences to quote. It runs the
bundled model (:mod:`ingest.embedding_model`) on one of three runtimes
(``KB_INGEST_RUNTIME``):

* ``onnx`` (the default): the fp32 ONNX export (:mod:`ingest.onnx_encoder`) on
  every core with length-sorted batches, torch's vectors to float precision at
  1.5x its speed (1.6x through the whole ingest, which hands it about 256 chunks at a
  time);
* ``onnx-int8``: the dynamically quantised copy (int8 weights per channel) of the
  export, 3.4x torch's speed, its vectors at a mean cosine of 0.994 (chunks) and
  0.993 (sentences) to torch's; SciFact nDCG@10 0.7432 against 0.7427 with fp32
  vectors, but answers on the dev split slightly worse (see :data:`DEFAULT_RUNTIME`);
* ``torch``: sentence-transformers (:mod:`ingest.torch_encoder`), the reference
  the export is checked against.

(Sentence vectors pooled from the chunk's own forward pass, "late chunking", cost
nothing extra but carry the whole passage's meaning: on the dev questions they found
the sentence that holds the answer 58% of the time against 64% for sentences
embedded alone.) ``benchmarks/embed_runtimes.py`` compares the runtimes' speed and
their agreement with torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from ingest.embedding_model import DIMENSIONS, Vectors, default_model_cache
from ingest.errors import ModelError
from ingest.models import Chunk, EmbeddedChunk
from ingest.onnx_encoder import OnnxEncoder, export_onnx, ingest_encoder, quantize_onnx
from ingest.torch_encoder import encode_with_torch, sentence_transformer

Runtime = Literal["onnx", "onnx-int8", "torch"]
"""How :class:`ChunkEncoder` runs the model: the ONNX export (fp32), its
dynamically quantised int8 copy, or sentence-transformers on torch."""
RUNTIMES: tuple[str, ...] = get_args(Runtime)
DEFAULT_RUNTIME: Runtime = "onnx"
"""fp32 ONNX. int8 (``onnx-int8``) is 1.6x faster through the whole ingest and keeps SciFact hybrid nDCG@10
(0.7432 against 0.7427), but on the dev split its answers were never better and up to
2 points worse (cites the evidence) and 3 worse (states the fact), refitted or not:
answers are what a user reads every time, ingest is paid once. Questions are embedded
by the fp32 export whatever the runtime."""

TORCH_SLICE = 8
"""Chunks embedded between two progress reports on torch, which reports nothing itself.
(The ONNX runtimes embed all chunks given in one length-sorted pass and report after each
batch: embedded eight chunks at a time, padding and small batches made the pipeline half
as fast.)"""


class ChunkEncoder:
    """Embeds chunks and each of their sentences, with ONNX Runtime (fp32) by default.

    Args:
        batch_size: Texts per forward pass.
        runtime: ``"onnx"`` (the default: the fp32 export), ``"onnx-int8"`` (the
            export, dynamically quantised: faster) or ``"torch"``
            (sentence-transformers, the reference).
        cache_dir: Where the ONNX models are exported once (default:
            :func:`~ingest.embedding_model.default_model_cache`); unused by ``"torch"``.
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
        return sentence_transformer()

    def _onnx_encoder(self) -> OnnxEncoder:
        if self._onnx is None:
            if self.runtime == "onnx-int8":
                path = quantize_onnx(self.cache_dir)
            else:
                path = export_onnx(self.cache_dir)
            # one session per model and thread count, like torch's one model
            self._onnx = ingest_encoder(path, self.threads)
        return self._onnx

    def encode_texts(
        self, texts: Sequence[str], progress: Callable[[float], None] | None = None
    ) -> Vectors:
        """Plain normalised embeddings of ``texts`` (what ``model.encode`` returns).

        ``progress``, when given, is called with the share of the work done so far.
        """
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if self.runtime != "torch":
            return self._onnx_encoder().encode(texts, self.batch_size, progress)
        vectors = encode_with_torch(texts, self.batch_size)
        if progress:
            progress(1.0)
        return vectors

    def encode(
        self, chunks: Sequence[Chunk], progress: Callable[[int], None] | None = None
    ) -> list[EmbeddedChunk]:
        """Embed chunks (title and section header included) and each of their sentences.

        ``progress``, when given, is called with how many of ``chunks`` count as
        embedded so far, each time that number grows (last with ``len(chunks)``).
        """
        if not chunks:
            return []
        if self.runtime == "torch":  # sentence-transformers reports nothing: a slice at a time
            results = []
            for start in range(0, len(chunks), TORCH_SLICE):
                results.extend(self._encode_together(chunks[start : start + TORCH_SLICE]))
                if progress:
                    progress(len(results))
            return results
        return self._encode_together(chunks, progress)

    def _encode_together(
        self, chunks: Sequence[Chunk], progress: Callable[[int], None] | None = None
    ) -> list[EmbeddedChunk]:
        texts = [chunk.indexed_text for chunk in chunks]
        sentences = [_quotable(text) for chunk in chunks for text in chunk.sentence_texts]
        reported = [0]

        def share_done(share: float) -> None:
            done = min(len(chunks), int(share * len(chunks)))
            if progress and done > reported[0]:
                reported[0] = done
                progress(done)

        if self.runtime == "torch":
            vectors = self.encode_texts(texts)
            sentence_vectors = self.encode_texts(sentences)
        else:  # one length-sorted pass over every chunk and sentence: little padding
            both = self.encode_texts([*texts, *sentences], share_done)
            vectors, sentence_vectors = both[: len(texts)], both[len(texts) :]
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
