"""The Chroma adapter: the only module that imports ``chromadb``.

Three collections per knowledge base, so every process sharing one Chroma
(embedded on disk or a ``chroma run`` server) sees the same state:

* ``{name}-chunks``: one record per chunk (passage text, vector, citation metadata);
* ``{name}-sentences``: one vector per sentence of each chunk, for answer extraction;
* ``{name}-sources``: the ingestion bookkeeping, one record per source (content
  hash, title, chunk count, ingest time) plus a revision marker that changes on
  every write, so other processes know when to refresh derived indexes.

Results leave this module as our own dataclasses, never as Chroma's nested lists.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embed import DIMENSIONS, EmbeddedChunk
from ingest.errors import StoreError
from ingest.models import Chunk, Span

log = logging.getLogger(__name__)

_REVISION_ID = "kb:revision"
_PLACEHOLDER = [1.0] + [0.0] * (DIMENSIONS - 1)  # source records need a vector; never searched
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 256, "max_neighbors": 32}
_PAGE = 5000


@dataclass(frozen=True)
class SourceRecord:
    """What the store knows about one ingested source."""

    source_id: str
    title: str
    kind: str
    content_hash: str
    chunks: int
    ingested_at: str
    published: str | None = None
    description: str | None = None
    url: str | None = None


StoredChunk = Chunk
"""A chunk as read back from the store: the same record that was written."""


def _sentence_ids(chunk: Chunk) -> list[str]:
    return [sentence_id(chunk.id, i) for i in range(len(chunk.sentences))]


@dataclass(frozen=True)
class DenseHit:
    chunk: StoredChunk
    similarity: float


@dataclass(frozen=True)
class SourceWrite:
    """Everything needed to replace one source's chunks in one go."""

    record: SourceRecord
    chunks: Sequence[Chunk]
    embedded: Sequence[EmbeddedChunk]


def sentence_id(chunk_id: str, index: int) -> str:
    return f"{chunk_id}:{index}"


class _EmbeddingFunction:
    """Our model, registered with Chroma so it never falls back to its own download."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self._embed = embed

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        if self._embed is None:
            raise StoreError("this knowledge base embeds queries itself; pass vectors, not texts")
        return list(self._embed(list(input)))

    @staticmethod
    def name() -> str:
        return "kb-all-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _EmbeddingFunction:
        return _EmbeddingFunction()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:
        return self(input)


class ChromaStore:
    """Chunks, sentence vectors and source bookkeeping in Chroma.

    Use :meth:`embedded` for a folder on disk or :meth:`server` for a
    ``chroma run`` server shared by several processes.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        embed_query: Callable[[list[str]], np.ndarray] | None = None,
        description: str = "",
    ) -> None:
        self.name = name
        self.description = description
        self._client = client
        function = _EmbeddingFunction(embed_query)
        try:
            self._chunks = self._collection(f"{name}-chunks", function)
            self._sentences = self._collection(f"{name}-sentences", function)
            self._sources = self._collection(f"{name}-sources", function)
            self._max_batch = int(client.get_max_batch_size())
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"could not open the knowledge base {description}: {exc}") from exc

    @classmethod
    def embedded(
        cls, path: Path, name: str, embed_query: Callable[[list[str]], np.ndarray] | None = None
    ) -> ChromaStore:
        """A store in a folder on disk (Chroma ``PersistentClient``)."""
        import chromadb
        from chromadb.config import Settings

        path.mkdir(parents=True, exist_ok=True)
        try:
            client = chromadb.PersistentClient(
                path=str(path), settings=Settings(anonymized_telemetry=False)
            )
        except Exception as exc:
            raise StoreError(f"could not open the Chroma store at {path}: {exc}") from exc
        return cls(client, name, embed_query, description=f"at {path}")

    @classmethod
    def server(
        cls,
        host: str,
        port: int,
        name: str,
        *,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        embed_query: Callable[[list[str]], np.ndarray] | None = None,
    ) -> ChromaStore:
        """A store on a Chroma server (``chroma run``), shared with other processes."""
        import chromadb
        from chromadb.config import Settings

        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        try:
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                headers=headers or {},
                settings=Settings(anonymized_telemetry=False),
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"could not reach the Chroma server at {where}: {exc}") from exc
        return cls(client, name, embed_query, description=f"on {where}")

    def _collection(self, name: str, function: _EmbeddingFunction) -> Any:
        return self._client.get_or_create_collection(
            name=name,
            embedding_function=function,
            configuration={"hnsw": dict(HNSW)},
        )

    # --- bookkeeping --------------------------------------------------------------

    def revision(self) -> str:
        """A token that changes whenever any process writes to this knowledge base."""
        try:
            got = self._sources.get(ids=[_REVISION_ID], include=["metadatas"])
        except Exception as exc:
            raise StoreError(
                f"could not read the knowledge base {self.description}: {exc}"
            ) from exc
        metadatas = got.get("metadatas") or []
        return str(metadatas[0].get("value", "")) if metadatas else ""

    def _bump_revision(self) -> None:
        self._sources.upsert(
            ids=[_REVISION_ID],
            embeddings=[_PLACEHOLDER],
            metadatas=[{"kind": "revision", "value": uuid.uuid4().hex}],
        )

    def sources(self) -> dict[str, SourceRecord]:
        """Every source in the knowledge base, by source id."""
        records = {}
        for _, metadata in self._paged(self._sources, where={"kind": "source"}):
            record = _record_from_metadata(metadata)
            records[record.source_id] = record
        return records

    def source(self, source_id: str) -> SourceRecord | None:
        got = self._sources.get(ids=[source_id], include=["metadatas"])
        metadatas = got.get("metadatas") or []
        return _record_from_metadata(metadatas[0]) if metadatas else None

    # --- chunks -------------------------------------------------------------------

    def count(self) -> int:
        return int(self._chunks.count())

    def chunk_ids(self, source_id: str) -> list[str]:
        got = self._chunks.get(where={"source": source_id}, include=[])
        return list(got["ids"])

    def chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Chunks by id, in the order asked (unknown ids are skipped)."""
        if not ids:
            return []
        got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            i: _chunk_from_row(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
        }
        return [by_id[i] for i in ids if i in by_id]

    def all_chunks(self) -> Iterator[StoredChunk]:
        """Every chunk, page by page (for building the lexical index)."""
        offset = 0
        while True:
            got = self._chunks.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for row in zip(got["ids"], got["documents"], got["metadatas"]):
                yield _chunk_from_row(*row)
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE

    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored chunk vectors by id (unknown ids are skipped)."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    def existing_vectors(self, ids: Sequence[str]) -> dict[str, EmbeddedChunk]:
        """Stored vectors for chunks that are already embedded, to skip re-embedding them."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["embeddings", "metadatas"])
        found = {}
        for chunk_id, vector, metadata in zip(got["ids"], got["embeddings"], got["metadatas"]):
            count = len(_spans(metadata))
            wanted = [sentence_id(chunk_id, i) for i in range(count)]
            sentences = self._sentences.get(ids=wanted, include=["embeddings"])
            by_id = dict(zip(sentences["ids"], sentences["embeddings"]))
            if len(by_id) != count:
                continue  # incomplete (an interrupted write): embed again
            found[chunk_id] = EmbeddedChunk(
                np.asarray(vector, dtype=np.float32),
                np.asarray([by_id[s] for s in wanted], dtype=np.float32).reshape(count, DIMENSIONS),
            )
        return found

    def sentence_vectors(self, chunks: Sequence[StoredChunk]) -> dict[str, np.ndarray]:
        """Per-chunk sentence vectors, shape (sentences, DIMENSIONS)."""
        wanted = [sid for chunk in chunks for sid in _sentence_ids(chunk)]
        if not wanted:
            return {}
        got = self._sentences.get(ids=wanted, include=["embeddings"])
        by_id = dict(zip(got["ids"], got["embeddings"]))
        result = {}
        for chunk in chunks:
            rows = [by_id.get(sid) for sid in _sentence_ids(chunk)]
            if all(r is not None for r in rows) and rows:
                result[chunk.id] = np.asarray(rows, dtype=np.float32)
        return result

    def dense_search(self, vector: np.ndarray, k: int, source: str | None = None) -> list[DenseHit]:
        """Nearest chunks by cosine similarity, best first."""
        total = self.count()
        if total == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, total),
            where={"source": source} if source else None,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        return [DenseHit(_chunk_from_row(i, d, m), 1.0 - float(dist)) for i, d, m, dist in rows]

    # --- writes -------------------------------------------------------------------

    def write(self, writes: Sequence[SourceWrite]) -> None:
        """Replace the chunks of each source (upsert new, delete stale) and record it.

        Raises:
            StoreError: Chroma refused the write.
        """
        if not writes:
            return
        try:
            chunks = [c for w in writes for c in w.chunks]
            embedded = [e for w in writes for e in w.embedded]
            self._upsert_chunks(chunks, embedded)
            for write in writes:
                keep = {c.id for c in write.chunks}
                stale = [i for i in self.chunk_ids(write.record.source_id) if i not in keep]
                self._delete_chunks(stale)
            records = [w.record for w in writes]
            for batch in _batches(records, self._max_batch):
                self._sources.upsert(
                    ids=[r.source_id for r in batch],
                    embeddings=[_PLACEHOLDER] * len(batch),
                    metadatas=[_record_metadata(r) for r in batch],
                )
            self._bump_revision()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"could not write to the knowledge base: {exc}") from exc

    def delete_source(self, source_id: str) -> int:
        """Remove a source and its chunks; returns how many chunks were removed."""
        try:
            ids = self.chunk_ids(source_id)
            self._delete_chunks(ids)
            self._sources.delete(ids=[source_id])
            self._bump_revision()
        except Exception as exc:
            raise StoreError(f"could not remove {source_id}: {exc}") from exc
        return len(ids)

    def add_raw(
        self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray, source: str
    ) -> None:
        """Bulk-insert synthetic chunks with no sentence data (benchmarks only)."""
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._chunks.upsert(
                ids=list(ids[start:end]),
                documents=list(texts[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                metadatas=[
                    {
                        "source": source,
                        "title": source,
                        "section": "",
                        "start": 0,
                        "end": len(t),
                        "position": start + i,
                        "header": "",
                        "sentence_starts": [0],
                        "sentence_ends": [len(t)],
                    }
                    for i, t in enumerate(texts[start:end])
                ],
            )
        self._bump_revision()

    def _upsert_chunks(self, chunks: Sequence[Chunk], embedded: Sequence[EmbeddedChunk]) -> None:
        for batch in _batches(list(zip(chunks, embedded)), self._max_batch):
            self._chunks.upsert(
                ids=[c.id for c, _ in batch],
                documents=[c.text for c, _ in batch],
                embeddings=np.stack([e.vector for _, e in batch]),
                metadatas=[_chunk_metadata(c) for c, _ in batch],
            )
        rows = [
            (sentence_id(c.id, i), c, vector)
            for c, e in zip(chunks, embedded)
            for i, vector in enumerate(e.sentence_vectors)
        ]
        for batch in _batches(rows, self._max_batch):
            self._sentences.upsert(
                ids=[sid for sid, _, _ in batch],
                embeddings=np.stack([v for _, _, v in batch]),
                metadatas=[{"chunk": c.id, "source": c.source_id} for _, c, _ in batch],
            )

    def _delete_chunks(self, ids: Sequence[str]) -> None:
        for batch in _batches(list(ids), self._max_batch):
            self._chunks.delete(ids=batch)
            self._sentences.delete(where={"chunk": {"$in": batch}})

    def _paged(
        self, collection: Any, where: dict[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            got = collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from zip(got["ids"], got["metadatas"])
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE


def _batches(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source_id,
        "title": chunk.title,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "position": chunk.position,
        "header": chunk.header,
        "sentence_starts": [s.start for s in chunk.sentences],
        "sentence_ends": [s.end for s in chunk.sentences],
        "sentence_sections": list(chunk.sentence_sections) or [""],
    }


def _spans(metadata: dict[str, Any]) -> tuple[Span, ...]:
    starts = metadata.get("sentence_starts") or []
    ends = metadata.get("sentence_ends") or []
    return tuple(Span(int(s), int(e)) for s, e in zip(starts, ends))


def _chunk_from_row(chunk_id: str, document: str | None, metadata: dict[str, Any]) -> StoredChunk:
    return StoredChunk(
        id=chunk_id,
        source_id=str(metadata.get("source", "")),
        title=str(metadata.get("title", "")),
        section=str(metadata.get("section", "")),
        text=document or "",
        start=int(metadata.get("start", 0)),
        end=int(metadata.get("end", 0)),
        position=int(metadata.get("position", 0)),
        header=str(metadata.get("header", "")),
        sentences=_spans(metadata),
        sentence_sections=tuple(str(x) for x in metadata.get("sentence_sections") or ()),
    )


def _record_metadata(record: SourceRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "kind": "source",
        "source_id": record.source_id,
        "source_kind": record.kind,
        "title": record.title,
        "content_hash": record.content_hash,
        "chunks": record.chunks,
        "ingested_at": record.ingested_at,
    }
    for key in ("published", "description", "url"):
        value = getattr(record, key)
        if value:
            metadata[key] = value
    return metadata


def _record_from_metadata(metadata: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source_id=str(metadata.get("source_id", "")),
        title=str(metadata.get("title", "")),
        kind=str(metadata.get("source_kind", "")),
        content_hash=str(metadata.get("content_hash", "")),
        chunks=int(metadata.get("chunks", 0)),
        ingested_at=str(metadata.get("ingested_at", "")),
        published=metadata.get("published"),
        description=metadata.get("description"),
        url=metadata.get("url"),
    )
