"""Hybrid retrieval: dense (Chroma, MiniLM) and lexical (BM25) rankings, fused.

Both rankers propose candidates; every candidate then gets both scores exactly
(BM25 is scored over all chunks, missing dense similarities are computed from
the stored vectors the lexical index keeps, without a store call), and the two are fused (see :mod:`bot.fusion`). Near-
duplicate passages (the same article ingested twice, say) are dropped.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from bot.fusion import Calibration
from bot.lexical import LexicalIndex, LexicalSnapshot
from ingest.store import ChromaStore, StoredChunk

CANDIDATES = 100
"""How many candidates each ranker proposes before fusion (the depth fusion is calibrated on)."""
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
    openings: Mapping[str, StoredChunk] = field(default_factory=dict)
    """Source id -> first chunk, for the articles of the passages (when asked for)."""


Mode = Literal["hybrid", "dense", "lexical"]


class HybridRetriever:
    """Retrieves passages for a query vector and text from one store."""

    def __init__(self, store: ChromaStore, lexical: LexicalIndex) -> None:
        self.store = store
        self.lexical = lexical

    def retrieve(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        source: str | None = None,
        *,
        checked_later: bool = False,
        with_openings: bool = False,
        promote: Callable[[Passage], bool] | None = None,
    ) -> Retrieval:
        """The ``k`` best passages, best first, without near-duplicates.

        Args:
            checked_later: Rank with the lexical index as last checked against
                the store, without reading the store's revision first: the
                caller compares it with ``Retrieval.lexical.revision`` afterwards.
            with_openings: Also read the first chunk of each article the passages
                come from, in the same store call as the passages.
            promote: Says of a passage that it holds what the question asks for by
                name (the list headed "Advantages of LLMs" for "What are the advantages
                of LLMs?"). When none of the ``k`` best does, the best such passage among
                those the first store call read takes the last place.
        """
        table = self.lexical.refresh(self.store, checked_later=checked_later)
        openings: dict[str, StoredChunk] | None = {} if with_openings else None
        fetch = k + k // 2 + 1
        read = [0]
        ranked = _counted(
            self.ranking(query, vector, source, table=table, fetch=fetch, openings=openings), read
        )
        passages = _without_duplicates(ranked, k)
        if promote is not None and passages and not any(map(promote, passages)):
            # only what the first store call read: looking further costs no request
            promoted = next(
                (p for p in itertools.islice(ranked, max(0, fetch - read[0])) if promote(p)), None
            )
            if promoted is not None and not _duplicates(promoted, passages[:-1]):
                passages[-1] = promoted
        return Retrieval(query, vector, passages, table, openings or {})

    def ranking(
        self,
        query: str,
        vector: np.ndarray,
        source: str | None = None,
        mode: Mode = "hybrid",
        table: LexicalSnapshot | None = None,
        fetch: int = 16,
        openings: dict[str, StoredChunk] | None = None,
    ) -> Iterator[Passage]:
        """Every candidate passage, best first, scored by ``mode``: one order, however far read.

        The first tier is each ranker's top :data:`CANDIDATES` (``hybrid`` uses
        both rankers), fused with statistics taken from them: the depth fusion
        was calibrated on. Only a caller that reads past it fetches the next
        tier (each ranker's top twice as deep, less what came before), scored
        with the same statistics and placed below; and so on until the rankers
        run out. So the first ``n`` passages are the same for every caller that
        reads ``n`` or more. Every candidate gets both scores; everything
        lexical comes from one snapshot (``table``, or the index refreshed now).

        Passages' texts and metadata are read from the store as the caller gets
        to them: the first ``fetch`` in one call, then twice as many, and so on.
        With ``openings``, the first call also reads the first chunk of each
        of their articles, and puts it there by source id.
        """
        if table is None:
            table = self.lexical.refresh(self.store)
        first_call = openings is not None
        for tier in self._tiers(query, vector, source, mode, table):
            start = 0
            while start < len(tier):
                part = tier[start : start + fetch]
                ids = [table.ids[p] for p, *_ in part]
                firsts = _openings_of(table, part) if first_call else {}
                chunks = {c.id: c for c in self.store.chunks(list(dict.fromkeys([*ids, *firsts])))}
                if openings is not None and first_call:
                    openings.update((firsts[i], chunks[i]) for i in firsts if i in chunks)
                    first_call = False
                for position, score, dense, lexical in part:
                    chunk = chunks.get(table.ids[position])
                    if chunk is not None:  # gone since the snapshot (a server has no lock)
                        yield Passage(chunk, score, dense, lexical)
                start += fetch
                fetch *= 2

    def rank_sources(
        self, query: str, vector: np.ndarray, k: int, mode: Mode = "hybrid"
    ) -> list[tuple[str, float]]:
        """Sources ranked by their best passage, as :func:`rank_sources` ranks :meth:`ranking`
        (the same order), without reading any passage's text."""
        table = self.lexical.refresh(self.store)
        best: dict[str, float] = {}
        for tier in self._tiers(query, vector, None, mode, table):
            for position, score, _, _ in tier:
                best.setdefault(table.source_of(position), score)
                if len(best) == k:
                    return list(best.items())
        return list(best.items())

    def _tiers(
        self, query: str, vector: np.ndarray, source: str | None, mode: Mode, table: LexicalSnapshot
    ) -> Iterator[list[tuple[int, float, float, float]]]:
        """The ranking as (position, score, dense, lexical), tier by tier, each tier sorted."""
        if not len(table):
            return
        bm25 = table.scores(query, source)
        lexical_order = np.argsort(-bm25, kind="stable")[: int((bm25 > 0).sum())]
        dense: dict[str, float] = {}
        seen: set[int] = set()
        calibration: Calibration | None = None
        depth = CANDIDATES
        while True:
            candidates: list[int] = []
            exhausted = True
            if mode != "lexical":
                hits = self.store.dense_ids(vector, min(depth, len(table)), source)
                dense.update(hits)
                candidates += [table.position[i] for i, _ in hits if i in table.position]
                exhausted = len(hits) < min(depth, len(table)) or depth >= len(table)
            if mode != "dense":
                candidates += [int(i) for i in lexical_order[:depth]]
                exhausted = exhausted and len(lexical_order) <= depth
            tier = [i for i in dict.fromkeys(candidates) if i not in seen]
            seen.update(tier)
            if tier:
                missing = [i for i in tier if table.ids[i] not in dense]
                dense.update(_similarities(table, vector, missing))
                dense_scores = np.array([dense.get(table.ids[i], 0.0) for i in tier])
                lexical_scores = bm25[tier].astype(np.float64)
                if mode == "dense":
                    scores = dense_scores
                elif mode == "lexical":
                    scores = lexical_scores
                else:
                    calibration = calibration or Calibration.of(dense_scores, lexical_scores)
                    scores = calibration.fuse(dense_scores, lexical_scores)
                yield [
                    (
                        tier[j],
                        float(scores[j]),
                        float(dense_scores[j]),
                        float(lexical_scores[j]),
                    )
                    for j in np.argsort(-scores, kind="stable")
                ]
            if exhausted:
                return
            depth *= 2


def _openings_of(
    table: LexicalSnapshot, part: list[tuple[int, float, float, float]]
) -> dict[str, str]:
    """First-chunk id -> source id, for the articles of the candidates in ``part``."""
    sources = dict.fromkeys(table.source_of(p) for p, *_ in part)
    return {table.openings[s]: s for s in sources if s in table.openings}


def _similarities(
    table: LexicalSnapshot, vector: np.ndarray, positions: list[int]
) -> dict[str, float]:
    """Cosine similarity of the query to the chunks at ``positions`` (unit vectors)."""
    if not positions:
        return {}
    rows = table.vectors(positions)
    return {table.ids[p]: float(np.dot(row, vector)) for p, row in zip(positions, rows)}


def rank_sources(passages: Iterable[Passage], k: int) -> list[tuple[str, float]]:
    """Sources ranked by their best passage (the order ``kb.search`` shows them in)."""
    best: dict[str, float] = {}
    for passage in passages:
        best.setdefault(passage.chunk.source_id, passage.score)
        if len(best) == k:
            break
    return list(best.items())


def _counted(passages: Iterator[Passage], read: list[int]) -> Iterator[Passage]:
    """``passages``, counting in ``read[0]`` how many have been taken."""
    for passage in passages:
        read[0] += 1
        yield passage


def _without_duplicates(passages: Iterable[Passage], k: int) -> list[Passage]:
    kept: list[Passage] = []
    for passage in passages:
        if _duplicates(passage, kept):
            continue
        kept.append(passage)
        if len(kept) == k:
            break
    return kept


def _duplicates(passage: Passage, kept: list[Passage]) -> bool:
    """Whether ``passage`` is a near-duplicate of one of ``kept`` (the same text ingested twice)."""
    words = _words(passage.chunk.text)
    return any(_jaccard(words, _words(other.chunk.text)) >= _DUPLICATE_JACCARD for other in kept)


@functools.lru_cache(maxsize=1024)
def _words(text: str) -> frozenset[str]:
    return frozenset(_WORDS.findall(text.lower()))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(len(a | b), 1)
