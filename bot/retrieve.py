"""Hybrid retrieval: dense (Chroma, MiniLM) and lexical (BM25) rankings, fused.

Both rankers propose candidates; every candidate then gets both scores exactly
(BM25 is scored over all chunks, missing dense similarities are computed from
the stored vectors), and the two are fused (see :mod:`bot.fusion`). Near-
duplicate passages (the same article ingested twice, say) are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bot.fusion import fuse
from bot.lexical import LexicalIndex, LexicalSnapshot
from ingest.store import ChromaStore, StoredChunk

CANDIDATES = 100
"""How many candidates each ranker proposes before fusion."""
_DUPLICATE_JACCARD = 0.9
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its scores."""

    chunk: StoredChunk
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Retrieval:
    """Everything the answerer needs about one query."""

    query: str
    vector: np.ndarray
    passages: list[Passage]
    lexical: LexicalSnapshot | None = None
    """The lexical index as this retrieval saw it (term statistics for the answerer)."""


Mode = Literal["hybrid", "dense", "lexical"]


class HybridRetriever:
    """Retrieves passages for a query vector and text from one store."""

    def __init__(self, store: ChromaStore, lexical: LexicalIndex) -> None:
        self.store = store
        self.lexical = lexical

    def retrieve(
        self, query: str, vector: np.ndarray, k: int, source: str | None = None
    ) -> Retrieval:
        """The ``k`` best passages, best first, without near-duplicates."""
        table = self.lexical.refresh(self.store)
        ranked = self.rank(query, vector, source, depth=max(CANDIDATES, 2 * k), table=table)
        return Retrieval(query, vector, _without_duplicates(ranked, k), table)

    def rank(
        self,
        query: str,
        vector: np.ndarray,
        source: str | None = None,
        mode: Mode = "hybrid",
        depth: int = CANDIDATES,
        table: LexicalSnapshot | None = None,
    ) -> list[Passage]:
        """Every candidate passage, best first, scored by ``mode``.

        Each ranker proposes ``depth`` candidates (``hybrid`` uses both);
        every candidate gets both scores. Everything lexical comes from one
        snapshot (``table``, or the index refreshed now), never from two.
        """
        if table is None:
            table = self.lexical.refresh(self.store)
        if not len(table):
            return []
        bm25 = table.scores(query, source)
        candidates: list[int] = []
        dense: dict[str, float] = {}
        if mode != "lexical":
            hits = self.store.dense_search(vector, depth, source)
            dense = {hit.chunk.id: hit.similarity for hit in hits}
            candidates += [table.position[i] for i in dense if i in table.position]
        if mode != "dense":
            top = np.argsort(-bm25, kind="stable")[:depth]
            candidates += [int(i) for i in top if bm25[i] > 0]
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            return []
        missing = [table.chunks[i].id for i in candidates if table.chunks[i].id not in dense]
        dense.update(self._similarities(vector, missing))
        dense_scores = np.array([dense.get(table.chunks[i].id, 0.0) for i in candidates])
        lexical_scores = bm25[candidates].astype(np.float64)
        if mode == "dense":
            scores = dense_scores
        elif mode == "lexical":
            scores = lexical_scores
        else:
            scores = fuse(dense_scores, lexical_scores)
        order = np.argsort(-scores, kind="stable")
        return [
            Passage(
                table.chunks[candidates[j]],
                float(scores[j]),
                float(dense_scores[j]),
                float(lexical_scores[j]),
            )
            for j in order
        ]

    def _similarities(self, vector: np.ndarray, ids: list[str]) -> dict[str, float]:
        if not ids:
            return {}
        stored = self.store.chunk_vectors(ids)
        return {i: float(np.dot(v, vector)) for i, v in stored.items()}


def rank_sources(passages: list[Passage], k: int) -> list[tuple[str, float]]:
    """Sources ranked by their best passage (the order ``kb.search`` shows them in)."""
    best: dict[str, float] = {}
    for passage in passages:
        best.setdefault(passage.chunk.source_id, passage.score)
        if len(best) == k:
            break
    return list(best.items())


def _without_duplicates(passages: list[Passage], k: int) -> list[Passage]:
    kept: list[Passage] = []
    shingles: list[set[str]] = []
    for passage in passages:
        words = set(_WORDS.findall(passage.chunk.text.lower()))
        if any(_jaccard(words, other) >= _DUPLICATE_JACCARD for other in shingles):
            continue
        kept.append(passage)
        shingles.append(words)
        if len(kept) == k:
            break
    return kept


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(len(a | b), 1)
