"""The embed stage of ingest: chunks, and every sentence of each chunk, to vectors.

:class:`ChunkEncoder` embeds each chunk and each of its sentences on its own; the
answerer uses the sentence vectors to pick the sentences to quote. It runs the
bundled model (:mod:`ingest.embedding_model`) on one of four runtimes
(``KB_INGEST_RUNTIME``), or lets ``auto`` (the default) choose per ingest:

* ``torch-bf16``: sentence-transformers under torch's bf16 autocast, length-sorted.
  On a CPU that multiplies bf16 in hardware (Intel AMX) it embeds passages about 1.9x
  as fast as the fp32 export and short sentences 1.2x (1.16x for SciFact's chunks with
  their sentences, 2.0x torch's fp32 pipeline end to end), its vectors
  fp32's at a cosine of 0.99998; SciFact hybrid nDCG@10 0.7453 against 0.7454, the same
  answers on the dev split. Loading torch takes seconds, so ``auto`` uses it only for an
  ingest of :data:`BF16_WORTH` chunks or more on such a CPU;
* ``onnx``: the fp32 ONNX export (:mod:`ingest.onnx_encoder`) on every core with
  length-sorted batches, torch's vectors to float precision at 1.5x its speed (1.6x
  through the whole ingest, which hands it about 256 chunks at a time); ``auto``'s
  choice for a smaller ingest or on any other CPU;
* ``onnx-int8``: the dynamically quantised copy (int8 weights per channel) of the
  export, 3.4x torch's speed, its vectors at a mean cosine of 0.994 (chunks) and
  0.993 (sentences) to torch's; SciFact nDCG@10 0.7432 against 0.7427 with fp32
  vectors, but answers on the dev split slightly worse (see :data:`DEFAULT_RUNTIME`);
* ``torch``: sentence-transformers in fp32 (:mod:`ingest.torch_encoder`), the
  reference the export is checked against.

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
from typing import Any, Literal, Protocol, get_args

import numpy as np

from ingest.embedding_model import DIMENSIONS, Vectors, default_model_cache
from ingest.errors import ModelError
from ingest.models import Chunk, EmbeddedChunk
from ingest.onnx_encoder import OnnxEncoder, export_onnx, ingest_encoder, quantize_onnx
from ingest.torch_encoder import (
    encode_with_bf16,
    encode_with_torch,
    multiplies_bf16,
    sentence_transformer,
)

Runtime = Literal["auto", "onnx", "onnx-int8", "torch", "torch-bf16"]
"""How :class:`ChunkEncoder` runs the model: the ONNX export (fp32), its dynamically
quantised int8 copy, sentence-transformers on torch in fp32 or with bf16 autocast, or
``auto``: bf16 where the CPU multiplies it in hardware and an ingest is large enough to
pay for loading torch, else the fp32 export."""
RUNTIMES: tuple[str, ...] = get_args(Runtime)
DEFAULT_RUNTIME: Runtime = "auto"
"""bf16 on torch for a large ingest on a CPU with AMX, fp32 ONNX otherwise. bf16's vectors
are fp32's at a cosine of 0.99998 (int8's: 0.994). int8 (``onnx-int8``) is faster through
the whole ingest and keeps SciFact hybrid nDCG@10 (0.7432 against 0.7427), but on the dev
split its answers were never better and up to 2 points worse (cites the evidence) and 3
worse (states the fact), refitted or not: answers are what a user reads every time,
ingest is paid once. Questions are embedded by the fp32 export whatever the runtime."""

BF16_WORTH = 1000
"""Chunks an ingest must embed for ``auto`` to load torch (6-7 s on two cores) and use
bf16. A fresh ``kb ingest`` of 600 SciFact abstracts (1,153 chunks) ran at 19.8 chunks/s
on bf16, load included, against 17.1 on fp32 ONNX (``benchmarks/ingest_runtimes.py``): the
load pays for itself from about 600 chunks on; a few articles stay on ONNX."""

TORCH_SLICE = 8
"""Chunks embedded between two progress reports on torch, which reports nothing itself.
(The ONNX runtimes embed all chunks given in one length-sorted pass and report after each
batch: embedded eight chunks at a time, padding and small batches made the pipeline half
as fast.)"""


class ChunkEmbedder(Protocol):
    """What the ingest pipeline needs of an encoder (:class:`ChunkEncoder`, or a test's
    stand-in): chunks in, one :class:`~ingest.models.EmbeddedChunk` per chunk out."""

    def encode(
        self,
        chunks: Sequence[Chunk],
        progress: Callable[[int], None] | None = None,
        ingest_total: int | None = None,
    ) -> list[EmbeddedChunk]: ...


class ChunkEncoder:
    """Embeds chunks and each of their sentences, with ONNX Runtime (fp32) by default.

    Args:
        batch_size: Texts per forward pass.
        runtime: ``"auto"`` (the default: bf16 on a CPU with AMX for a large ingest,
            else the fp32 export), ``"onnx"`` (the fp32 export), ``"onnx-int8"`` (the
            export, dynamically quantised: faster), ``"torch"`` (sentence-transformers,
            the reference) or ``"torch-bf16"`` (the same with bf16 autocast).
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

    def runtime_for(self, chunks: int) -> Runtime:
        """The runtime that embeds an ingest of ``chunks`` chunks (``auto`` resolved)."""
        if self.runtime != "auto":
            return self.runtime
        if chunks >= BF16_WORTH and multiplies_bf16():
            return "torch-bf16"
        return "onnx"

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
        self,
        texts: Sequence[str],
        progress: Callable[[float], None] | None = None,
        runtime: Runtime | None = None,
    ) -> Vectors:
        """Plain normalised embeddings of ``texts`` (what ``model.encode`` returns).

        ``progress``, when given, is called with the share of the work done so far;
        ``runtime`` overrides this encoder's (``auto`` picks by the number of texts).
        """
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        runtime = runtime or self.runtime_for(len(texts))
        if runtime == "torch-bf16":
            return encode_with_bf16(texts, self.batch_size, progress)
        if runtime != "torch":
            return self._onnx_encoder().encode(texts, self.batch_size, progress)
        vectors = encode_with_torch(texts, self.batch_size)
        if progress:
            progress(1.0)
        return vectors

    def encode(
        self,
        chunks: Sequence[Chunk],
        progress: Callable[[int], None] | None = None,
        ingest_total: int | None = None,
    ) -> list[EmbeddedChunk]:
        """Embed chunks (title and section header included) and each of their sentences.

        ``progress``, when given, is called with how many of ``chunks`` count as
        embedded so far, each time that number grows (last with ``len(chunks)``).
        ``ingest_total`` is how many chunks the whole ingest embeds, of which these
        are a batch (default: these); ``auto`` picks the runtime by it.
        """
        if not chunks:
            return []
        runtime = self.runtime_for(ingest_total or len(chunks))
        if runtime == "torch":  # sentence-transformers reports nothing: a slice at a time
            results = []
            for start in range(0, len(chunks), TORCH_SLICE):
                results.extend(self._encode_together(chunks[start : start + TORCH_SLICE], runtime))
                if progress:
                    progress(len(results))
            return results
        return self._encode_together(chunks, runtime, progress)

    def _encode_together(
        self,
        chunks: Sequence[Chunk],
        runtime: Runtime,
        progress: Callable[[int], None] | None = None,
    ) -> list[EmbeddedChunk]:
        texts = [chunk.indexed_text for chunk in chunks]
        sentences = [_quotable(text) for chunk in chunks for text in chunk.sentence_texts]
        reported = [0]

        def share_done(share: float) -> None:
            done = min(len(chunks), int(share * len(chunks)))
            if progress and done > reported[0]:
                reported[0] = done
                progress(done)

        if runtime == "torch":
            vectors = self.encode_texts(texts, runtime=runtime)
            sentence_vectors = self.encode_texts(sentences, runtime=runtime)
        else:  # one length-sorted pass over every chunk and sentence: little padding
            both = self.encode_texts([*texts, *sentences], share_done, runtime)
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
