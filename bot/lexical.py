"""The lexical side of retrieval: BM25 over every chunk in the store.

Chroma's own sparse index is not available in local mode, so we keep a bm25s
index beside the store, derived from it and saved under the knowledge-base
home. It is kept per source: each source's entry remembers which version of
the source it holds (the :func:`~ingest.store.chunk_digest` of its chunk ids
that the store's source record carries). So the index can tell cheaply, from
the source records alone, whether it agrees with the store; on open, and
whenever the store's revision changes, it compares them and re-reads only the
sources that were added, changed or removed. Saved tokens mean a persisted
index opens without re-tokenising.

Queries read one immutable :class:`LexicalSnapshot`; a refresh builds the next
one aside and swaps it in with one assignment, so a query never pairs BM25
scores with another snapshot's chunk table.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.terms import query_terms, terms
from ingest.models import Span
from ingest.store import ChromaStore, SourceRecord, StoredChunk, chunk_digest

log = logging.getLogger(__name__)

# Anserini's (and BEIR's) BM25 defaults; better than 1.2/0.75 on SciFact's train claims.
BM25_K1 = 0.9
BM25_B = 0.4
_FORMAT = "2"
_UNVERIFIED = "unverified"
"""Key of a source whose chunks did not match its record when read (a write under way)."""


def version_key(record: SourceRecord) -> str:
    """Which version of a source the index must hold: its chunk-id digest when recorded."""
    if record.digest:
        return record.digest
    return f"legacy:{record.content_hash}:{record.chunks}:{record.ingested_at}"


@dataclass(frozen=True, eq=False)
class LexicalSnapshot:
    """One consistent state of the index: chunk table, tokens and BM25 built from them.

    Never changed after it is built; hold on to one for the whole of a query.
    """

    revision: str | None
    chunks: tuple[StoredChunk, ...]
    tokens: tuple[list[str], ...]
    sources: Mapping[str, str]
    """Source id -> :func:`version_key` of the version held."""
    position: Mapping[str, int] = field(default_factory=dict)
    source_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    bm25: Any = None
    document_frequency: Mapping[str, int] = field(default_factory=dict)
    prefixes: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        chunks: Sequence[StoredChunk],
        tokens: Sequence[list[str]],
        sources: Mapping[str, str],
        revision: str | None,
    ) -> LexicalSnapshot:
        import bm25s

        bm25 = None
        if chunks:
            bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
            bm25.index(list(tokens), show_progress=False)
        frequency: Counter[str] = Counter()
        for doc in tokens:
            frequency.update(set(doc))
        return cls(
            revision=revision,
            chunks=tuple(chunks),
            tokens=tuple(tokens),
            sources=dict(sources),
            position={chunk.id: i for i, chunk in enumerate(chunks)},
            source_of=np.array([chunk.source_id for chunk in chunks], dtype=object),
            bm25=bm25,
            document_frequency=frequency,
            prefixes=frozenset(t[:4] for t in frequency if len(t) >= 4),
        )

    def with_revision(self, revision: str) -> LexicalSnapshot:
        """The same contents, known to match the store at ``revision``."""
        import dataclasses

        return dataclasses.replace(self, revision=revision)

    def __len__(self) -> int:
        return len(self.chunks)

    def scores(self, question: str, source: str | None = None) -> np.ndarray:
        """BM25 score of every chunk (0 for chunks outside ``source``)."""
        if self.bm25 is None:
            return np.zeros(len(self.chunks), dtype=np.float32)
        known = [t for t in query_terms(question) if t in self.document_frequency]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores(known), dtype=np.float32)
        if source is not None:
            scores = np.where(self.source_of == source, scores, 0.0).astype(np.float32)
        return scores

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks (unknown terms: the maximum)."""
        n = max(len(self.chunks), 1)
        df = self.document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self.document_frequency

    def related(self, term: str) -> bool:
        """Known, or a word form of a known term ("taken" for "take": the stemmer keeps
        irregular forms apart), judged by a shared four-letter stem start."""
        if term in self.document_frequency:
            return True
        return len(term) >= 4 and term[:4] in self.prefixes


_EMPTY = LexicalSnapshot.build((), (), {}, None)


class LexicalIndex:
    """BM25 over the chunk table, persisted in ``directory``; see the module docstring.

    Also the in-memory table of every chunk (text and citation metadata), so a
    lexical hit can become a citation without another store round trip.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._snapshot = _EMPTY
        self._checked = False  # compared with the store's source records since opening
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> LexicalSnapshot:
        return self._snapshot

    # Conveniences reading the current snapshot (a query should hold one snapshot instead).
    @property
    def revision(self) -> str | None:
        return self._snapshot.revision

    @property
    def chunks(self) -> tuple[StoredChunk, ...]:
        return self._snapshot.chunks

    def __len__(self) -> int:
        return len(self._snapshot)

    def scores(self, question: str, source: str | None = None) -> np.ndarray:
        return self._snapshot.scores(question, source)

    def idf(self, term: str) -> float:
        return self._snapshot.idf(term)

    def known(self, term: str) -> bool:
        return self._snapshot.known(term)

    def related(self, term: str) -> bool:
        return self._snapshot.related(term)

    # --- freshness ------------------------------------------------------------------

    def refresh(self, store: ChromaStore) -> LexicalSnapshot:
        """The snapshot matching the store now, updating the index first if it is stale.

        The store's revision is the cheap test (one read); on open and whenever
        it changed, every source's version is compared with the store's records
        and only sources that differ are re-read (a revision a crashed writer
        left unbumped therefore cannot hide a change from an index being opened).
        """
        with store.snapshot():
            current = store.revision()
            snapshot = self._snapshot
            if self._checked and snapshot.revision == current:
                return snapshot
            with self._lock:
                snapshot = self._snapshot
                if self._checked and snapshot.revision == current:
                    return snapshot
                if not self._checked:
                    snapshot = self._load() or snapshot
                wanted = {sid: version_key(r) for sid, r in store.sources().items()}
                if dict(snapshot.sources) == wanted:
                    updated = snapshot.with_revision(current)
                else:
                    updated = self._update(snapshot, store, wanted, current)
                    self._save(updated)
                self._checked = _UNVERIFIED not in updated.sources.values()
                self._snapshot = updated  # one assignment: queries see old or new, never a mix
                return updated

    def _update(
        self,
        snapshot: LexicalSnapshot,
        store: ChromaStore,
        wanted: dict[str, str],
        revision: str,
    ) -> LexicalSnapshot:
        changed = [sid for sid, key in wanted.items() if snapshot.sources.get(sid) != key]
        dropped = set(changed) | (set(snapshot.sources) - set(wanted))
        if not snapshot.sources or len(changed) > len(wanted) // 2:
            kept_chunks: list[StoredChunk] = []
            kept_tokens: list[list[str]] = []
            fetched = [c for c in store.all_chunks() if c.source_id in wanted]
            changed = list(wanted)
        else:
            keep = [i for i, c in enumerate(snapshot.chunks) if c.source_id not in dropped]
            kept_chunks = [snapshot.chunks[i] for i in keep]
            kept_tokens = [snapshot.tokens[i] for i in keep]
            fetched = list(store.source_chunks(changed))
        sources = {sid: key for sid, key in snapshot.sources.items() if sid not in dropped}
        by_source: dict[str, list[str]] = {sid: [] for sid in changed}
        for chunk in fetched:
            by_source[chunk.source_id].append(chunk.id)
        for sid in changed:
            sources[sid] = _checked_key(wanted[sid], by_source[sid])
        tokens = kept_tokens + [terms(chunk.indexed_text) for chunk in fetched]
        updated = LexicalSnapshot.build(kept_chunks + fetched, tokens, sources, revision)
        log.info(
            "lexical index updated: %d of %d sources re-read, %d chunks",
            len(changed),
            len(wanted),
            len(updated),
        )
        return updated

    # --- persistence ----------------------------------------------------------------

    def _save(self, snapshot: LexicalSnapshot) -> None:
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lexical-", dir=self.directory.parent))
        try:
            payload = {
                "format": _FORMAT,
                "sources": dict(snapshot.sources),
                "chunks": [_chunk_to_json(c) for c in snapshot.chunks],
                "tokens": list(snapshot.tokens),
            }
            (staging / "index.json").write_text(json.dumps(payload), encoding="utf-8")
            backup = self.directory.with_name(self.directory.name + ".old")
            if self.directory.exists():
                os.replace(self.directory, backup)
            os.replace(staging, self.directory)
            shutil.rmtree(backup, ignore_errors=True)
        except OSError as exc:  # a read-only home still answers, it just rebuilds next time
            log.warning("could not save the lexical index to %s: %s", self.directory, exc)
            shutil.rmtree(staging, ignore_errors=True)

    def _load(self) -> LexicalSnapshot | None:
        """The saved index (any revision: it is checked against the store's records)."""
        path = self.directory / "index.json"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("format") != _FORMAT:
                return None
            table = [_chunk_from_json(c) for c in payload["chunks"]]
            return LexicalSnapshot.build(table, payload["tokens"], payload["sources"], None)
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _checked_key(key: str, ids: Iterable[str]) -> str:
    """``key`` if the chunks read match it, else :data:`_UNVERIFIED` (re-read next time)."""
    ids = list(ids)
    if key.startswith("legacy:"):
        count = int(key.split(":")[2])
        return key if count == len(ids) else _UNVERIFIED
    return key if chunk_digest(ids) == key else _UNVERIFIED


def _chunk_to_json(chunk: StoredChunk) -> dict[str, Any]:
    data = asdict(chunk)
    data["sentences"] = [[s.start, s.end] for s in chunk.sentences]
    return data


def _chunk_from_json(data: dict[str, Any]) -> StoredChunk:
    sentences = tuple(Span(int(a), int(b)) for a, b in data.pop("sentences"))
    sections = tuple(data.pop("sentence_sections", ()))
    return StoredChunk(**data, sentences=sentences, sentence_sections=sections)
