"""The lexical side of retrieval: BM25 over every chunk in the store.

Chroma's own sparse index is not available in local mode, so we keep a bm25s
index, built from the chunks in the store and saved under the knowledge-base
home together with the store revision it reflects. Any process that finds the
store at a different revision (because it, or another process sharing the
Chroma server, ingested or forgot something) rebuilds it.
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
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bot.terms import query_terms, terms
from ingest.models import Span
from ingest.store import ChromaStore, StoredChunk

log = logging.getLogger(__name__)

# Anserini's (and BEIR's) BM25 defaults; better than 1.2/0.75 on SciFact's train claims.
BM25_K1 = 0.9
BM25_B = 0.4
_FORMAT = "1"


class LexicalIndex:
    """BM25 over the chunk table, persisted in ``directory``.

    Also the in-memory table of every chunk (text and citation metadata), so a
    lexical hit can become a citation without another store round trip.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.revision: str | None = None
        self.chunks: list[StoredChunk] = []
        self.position: dict[str, int] = {}
        self._sources: np.ndarray = np.zeros(0, dtype=object)
        self._bm25: Any = None
        self._document_frequency: Counter[str] = Counter()
        self._prefixes: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.chunks)

    # --- freshness ------------------------------------------------------------------

    def refresh(self, store: ChromaStore) -> None:
        """Make the index match the store: load it from disk or rebuild it if stale."""
        current = store.revision()
        if current == self.revision:
            return
        with self._lock:
            if current == self.revision:
                return
            if not self._load(current):
                self._build(store.all_chunks(), current)
                self._save()

    def _build(self, chunks: Iterable[StoredChunk], revision: str) -> None:
        table = list(chunks)
        tokens = [terms(chunk.indexed_text) for chunk in table]
        self._set(table, tokens, revision)
        log.info("lexical index rebuilt: %d chunks", len(table))

    def _set(self, table: list[StoredChunk], tokens: list[list[str]], revision: str) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each build at DEBUG
        bm25 = None
        if table:
            bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="lucene")
            bm25.index(tokens, show_progress=False)
        frequency: Counter[str] = Counter()
        for doc in tokens:
            frequency.update(set(doc))
        self.chunks = table
        self.position = {chunk.id: i for i, chunk in enumerate(table)}
        self._sources = np.array([chunk.source_id for chunk in table], dtype=object)
        self._tokens = tokens
        self._document_frequency = frequency
        self._prefixes = frozenset(t[:4] for t in frequency if len(t) >= 4)
        self._bm25 = bm25
        self.revision = revision

    # --- queries --------------------------------------------------------------------

    def scores(self, question: str, source: str | None = None) -> np.ndarray:
        """BM25 score of every chunk (0 for chunks outside ``source``)."""
        if self._bm25 is None:
            return np.zeros(len(self.chunks), dtype=np.float32)
        known = [t for t in query_terms(question) if t in self._document_frequency]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        scores = np.asarray(self._bm25.get_scores(known), dtype=np.float32)
        if source is not None:
            scores = np.where(self._sources == source, scores, 0.0).astype(np.float32)
        return scores

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks (unknown terms: the maximum)."""
        n = max(len(self.chunks), 1)
        df = self._document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return term in self._document_frequency

    def related(self, term: str) -> bool:
        """Known, or a word form of a known term ("taken" for "take": the stemmer keeps
        irregular forms apart), judged by a shared four-letter stem start."""
        if term in self._document_frequency:
            return True
        return len(term) >= 4 and term[:4] in self._prefixes

    # --- persistence ----------------------------------------------------------------

    def _save(self) -> None:
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lexical-", dir=self.directory.parent))
        try:
            payload = {
                "format": _FORMAT,
                "revision": self.revision,
                "chunks": [_chunk_to_json(c) for c in self.chunks],
                "tokens": self._tokens,
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

    def _load(self, revision: str) -> bool:
        path = self.directory / "index.json"
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if payload.get("format") != _FORMAT or payload.get("revision") != revision:
            return False
        table = [_chunk_from_json(c) for c in payload["chunks"]]
        self._set(table, payload["tokens"], revision)
        return True


def _chunk_to_json(chunk: StoredChunk) -> dict[str, Any]:
    data = asdict(chunk)
    data["sentences"] = [[s.start, s.end] for s in chunk.sentences]
    return data


def _chunk_from_json(data: dict[str, Any]) -> StoredChunk:
    sentences = tuple(Span(int(a), int(b)) for a, b in data.pop("sentences"))
    sections = tuple(data.pop("sentence_sections", ()))
    return StoredChunk(**data, sentences=sentences, sentence_sections=sections)
