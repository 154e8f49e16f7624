"""A deterministic stand-in for the embedding model, for the fast test tier.

Each word (lower-cased, ``\\w+``) is hashed to one of :data:`~ingest.embedding_model.DIMENSIONS`
axes; a text's vector is its bag of words, L2-normalised. So vectors are
predictable: the same text gives the same vector in every process, texts with
no word in common are (almost always) orthogonal, and sharing more words means
a higher cosine. It embeds in microseconds and loads nothing, so unit tests of
the store and the retriever run without torch or onnxruntime. It is not a
model of meaning: "car" and "automobile" are unrelated to it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from ingest.embedding_model import DIMENSIONS
from ingest.models import Chunk, EmbeddedChunk, Span
from ingest.store import SourceRecord, SourceWrite, chunk_digest

_WORD = re.compile(r"\w+")


def _axis(word: str) -> int:
    # hashlib, not hash(): Python salts str hashes per process.
    return (
        int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big") % DIMENSIONS
    )


class HashingEmbedder:
    """Bag-of-words vectors, shape ``(n, DIMENSIONS)``, rows L2-normalised.

    Callable like the query encoder (``embed(["a question"])``), and
    :meth:`embed_chunks` gives what :class:`~ingest.embed.ChunkEncoder` gives.
    A text without words gets a fixed unit vector, as a model gives every text one.
    """

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_texts(texts)

    def vector(self, text: str) -> np.ndarray:
        vector = np.zeros(DIMENSIONS, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            vector[_axis(word)] += 1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0
            return vector
        return vector / norm

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self.vector(text) for text in texts]).astype(np.float32)

    def embed_chunks(self, chunks: Sequence[Chunk]) -> list[EmbeddedChunk]:
        """Chunk vectors from ``indexed_text`` and one vector per sentence, like ChunkEncoder."""
        return [
            EmbeddedChunk(
                self.vector(chunk.indexed_text),
                self.encode_texts(chunk.sentence_texts).reshape(len(chunk.sentences), DIMENSIONS),
            )
            for chunk in chunks
        ]


EMBED = HashingEmbedder()


def make_chunk(source: str, position: int, sentences: list[str], **fields: object) -> Chunk:
    """A chunk of ``sentences`` (joined by spaces), as the chunker makes one: an id from
    its source, position and text, and a section path for every sentence."""
    text = " ".join(sentences)
    spans, start = [], 0
    for sentence in sentences:
        spans.append(Span(start, start + len(sentence)))
        start += len(sentence) + 1
    values: dict[str, object] = {
        "id": f"{source}#{position}:{chunk_digest([text])[:8]}",
        "source_id": source,
        "title": source.title(),
        "section": "",
        "text": text,
        "start": 0,
        "end": len(text),
        "position": position,
        "header": "",
        "sentences": tuple(spans),
        "sentence_sections": ("",) * len(spans),
    }
    values.update(fields)
    return Chunk(**values)  # type: ignore[arg-type]


def source_write(source: str, chunks: list[Chunk]) -> SourceWrite:
    """What an ingest of ``source`` with these chunks hands the store, embedded by :data:`EMBED`."""
    record = SourceRecord(source, source.title(), "text", f"hash-{source}", 0, "2025-01-01")
    return SourceWrite(record, chunks, EMBED.embed_chunks(chunks))
