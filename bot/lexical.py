"""The lexical side of retrieval: BM25 over every chunk in the store.

Chroma's own sparse index is not available in local mode, so we keep a BM25
index beside the store, derived from it and saved under the knowledge-base
home. It holds term statistics only, never a chunk's text or metadata (those
stay in Chroma, which is asked for the few passages a query returns): per
chunk its id, its source and its length; per term its postings (which chunks
hold it, how often); per source which version of it is held (the
:func:`~ingest.store.chunk_digest` of its chunk ids that the store's source
record carries), its URL and the id of its first chunk (which an answer reads with
its passages). So the index can tell cheaply, from the source
records alone, whether it agrees with the store; on open, and whenever the
store's revision changes, it compares them and re-reads only the sources that
were added, changed or removed.

An update never re-indexes the chunks it keeps. Postings live in immutable
segments: a re-read source's chunks become a new small segment, a removed
source's chunks are marked dead, and the document frequencies, chunk count and
mean length (all over live chunks) are adjusted by the difference. Scores are
computed at query time from those statistics, with the same arithmetic as
bm25s's eagerly precomputed Lucene BM25 (which this index used to rebuild in
full after every change), so they are the same numbers. Small segments are
merged once there are many, and dead chunks dropped once they are many.
Segments are saved once, as ``.npy`` files that open memory-mapped; a save
writes the new segments and a small manifest.

Each segment also keeps its chunks' vectors (float32, as stored in Chroma, read
in the same calls as the chunks), so a query scores the dense similarity of a
chunk only BM25 proposed without asking the store for its vector: one store call
fewer per query (an HTTP request in server mode) for 1.5 kB of disk per chunk,
memory-mapped like the postings. They are the store's vectors, derived and
replaced with the chunks, so the similarities are the same numbers.

Queries read one immutable :class:`LexicalSnapshot`; a refresh builds the next
one aside and swaps it in with one assignment, so a query never pairs BM25
scores with another snapshot's chunk table.
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import itertools
import json
import logging
import math
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.terms import query_terms, terms
from ingest.store import ChromaStore, SourceRecord, StoredChunk, chunk_digest

log = logging.getLogger(__name__)

# Anserini's (and BEIR's) BM25 defaults; better than 1.2/0.75 on SciFact's train claims.
BM25_K1 = 0.9
BM25_B = 0.4
_FORMAT = "7"
_MANIFEST = "manifest.json"
_ARRAYS = ("lengths", "terms", "indptr", "docs", "tfs", "vectors")
_MAX_SEGMENTS = 8
"""More segments than this and every one but the largest is merged into one."""
_MAX_DEAD = 0.25
"""A larger share of dead chunks and the whole index is rewritten without them."""
_SETTLED_S = 60.0
"""Files no manifest names are deleted once this old (a save in progress is younger)."""
_UNVERIFIED = "unverified"
"""Key of a source whose chunks did not match its record when read (a write under way)."""


def version_key(record: SourceRecord) -> str:
    """Which version of a source the index must hold: its chunk-id digest when recorded."""
    if record.digest:
        return record.digest
    return f"legacy:{record.content_hash}:{record.chunks}:{record.ingested_at}"


class Vocabulary:
    """Term -> term id, append-only and shared by the snapshots built from one another.

    Only the index's writer (under its lock) adds terms; a snapshot knows the
    ids below the length of its own document-frequency array.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self.words: list[str] = list(words)
        self.ids: dict[str, int] = {w: i for i, w in enumerate(self.words)}

    def add(self, tokens: Sequence[str]) -> list[int]:
        ids, out = self.ids, []
        for token in tokens:
            i = ids.get(token)
            if i is None:
                i = ids[token] = len(self.words)
                self.words.append(token)
            out.append(i)
        return out


@dataclass(frozen=True, eq=False)
class Segment:
    """The postings of some chunks, by term (compressed sparse columns); never changed.

    ``terms`` are the sorted term ids present; term ``terms[j]`` occurs in local
    chunks ``docs[indptr[j]:indptr[j + 1]]``, ``tfs`` times each. ``vectors`` holds
    each chunk's stored (dense) vector, one row per chunk.
    """

    name: str
    ids: tuple[str, ...]
    lengths: np.ndarray
    terms: np.ndarray
    indptr: np.ndarray
    docs: np.ndarray
    tfs: np.ndarray
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(
        cls, ids: Sequence[str], token_ids: Sequence[Sequence[int]], vectors: np.ndarray
    ) -> Segment:
        n = len(ids)
        lengths = np.array([len(t) for t in token_ids], dtype=np.int32)
        flat = np.fromiter(
            itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum())
        )
        key = flat * max(n, 1) + np.repeat(np.arange(n, dtype=np.int64), lengths)
        pairs, counts = np.unique(key, return_counts=True)  # by term, then by chunk
        return cls._from_pairs(
            tuple(ids), lengths, pairs // max(n, 1), pairs % max(n, 1), counts, vectors
        )

    @classmethod
    def _from_pairs(
        cls,
        ids: tuple[str, ...],
        lengths: np.ndarray,
        term_of: np.ndarray,
        docs: np.ndarray,
        tfs: np.ndarray,
        vectors: np.ndarray,
    ) -> Segment:
        present, starts = np.unique(term_of, return_index=True)
        return cls(
            name=uuid.uuid4().hex[:16],
            ids=ids,
            lengths=lengths,
            terms=present.astype(np.int32),
            indptr=np.append(starts, len(term_of)).astype(np.int64),
            docs=docs.astype(np.int32),
            tfs=tfs.astype(np.float32),
            vectors=np.ascontiguousarray(vectors, dtype=np.float32),
        )

    @classmethod
    def merge(cls, parts: Sequence[tuple[Segment, np.ndarray]]) -> Segment:
        """One segment of the chunks each part keeps (``keep``: a mask over its chunks)."""
        ids: list[str] = []
        lengths, term_of, docs, tfs, vectors = [], [], [], [], []
        offset = 0
        for segment, keep in parts:
            renumber = np.cumsum(keep) - 1 + offset
            posting_terms = np.repeat(segment.terms, np.diff(segment.indptr))
            alive = keep[segment.docs]
            term_of.append(posting_terms[alive].astype(np.int64))
            docs.append(renumber[segment.docs[alive]])
            tfs.append(segment.tfs[alive])
            ids += itertools.compress(segment.ids, keep.tolist())
            lengths.append(segment.lengths[keep])
            vectors.append(segment.vectors[keep])
            offset += int(keep.sum())
        all_terms = np.concatenate(term_of) if term_of else np.zeros(0, np.int64)
        all_docs = np.concatenate(docs) if docs else np.zeros(0, np.int64)
        order = np.lexsort((all_docs, all_terms))
        return cls._from_pairs(
            tuple(ids),
            np.concatenate(lengths).astype(np.int32) if lengths else np.zeros(0, np.int32),
            all_terms[order],
            all_docs[order],
            (np.concatenate(tfs) if tfs else np.zeros(0, np.float32))[order],
            np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32),
        )

    def postings(self, term: int) -> tuple[np.ndarray, np.ndarray] | None:
        j = int(np.searchsorted(self.terms, term))
        if j == len(self.terms) or self.terms[j] != term:
            return None
        start, end = self.indptr[j], self.indptr[j + 1]
        return self.docs[start:end], self.tfs[start:end]

    def frequencies(self, keep: np.ndarray, size: int) -> np.ndarray:
        """Per term id (``size`` of them): in how many of the chunks ``keep`` marks it occurs."""
        posting_terms = np.repeat(self.terms, np.diff(self.indptr))
        return np.bincount(posting_terms[keep[self.docs]], minlength=size)[:size]

    def save(self, directory: Path) -> None:
        for field in _ARRAYS:
            np.save(directory / f"{self.name}.{field}.npy", getattr(self, field))
        (directory / f"{self.name}.ids.json").write_text(json.dumps(self.ids), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, name: str) -> Segment:
        arrays = {f: np.load(directory / f"{name}.{f}.npy", mmap_mode="r") for f in _ARRAYS}
        ids = tuple(json.loads((directory / f"{name}.ids.json").read_text(encoding="utf-8")))
        return cls(name=name, ids=ids, **arrays)


@dataclass(frozen=True, eq=False)
class LexicalSnapshot:
    """One consistent state of the index: term statistics of every chunk, by position.

    Positions run over the segments in order; a removed chunk keeps its position,
    dead (source index -1), until its segment is merged. Never changed after it
    is built; hold on to one for the whole of a query.
    """

    revision: str | None
    sources: Mapping[str, str]
    """Source id -> :func:`version_key` of the version held."""
    vocabulary: Vocabulary
    segments: tuple[Segment, ...]
    source_names: tuple[str, ...]
    source_index: np.ndarray
    """Per position: index into ``source_names``, or -1 for a dead chunk."""
    document_frequency: np.ndarray
    """Per term id: how many live chunks hold it."""
    count: int
    total_length: int
    urls: Mapping[str, str | None]
    """Source id -> URL from its record (for citations without another store call)."""
    openings: Mapping[str, str]
    """Source id -> id of its first chunk (read with the passages, for rules that need what
    an article is about)."""

    @classmethod
    def empty(cls) -> LexicalSnapshot:
        return cls(
            None,
            {},
            Vocabulary(),
            (),
            (),
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            0,
            0,
            {},
            {},
        )

    @classmethod
    def build(
        cls,
        chunks: Sequence[tuple[StoredChunk, np.ndarray]],
        sources: Mapping[str, str],
        revision: str | None,
        urls: Mapping[str, str | None] | None = None,
    ) -> LexicalSnapshot:
        """An index of ``chunks`` (each with its vector) alone, tokenised now."""
        return cls.empty().updated(set(), chunks, sources, revision, urls or {})

    @functools.cached_property
    def offsets(self) -> np.ndarray:
        return np.cumsum([0] + [len(s) for s in self.segments])

    @functools.cached_property
    def ids(self) -> tuple[str, ...]:
        """Chunk id per position (dead chunks included)."""
        return tuple(itertools.chain.from_iterable(s.ids for s in self.segments))

    @functools.cached_property
    def position(self) -> Mapping[str, int]:
        """Live chunk id -> position."""
        alive = self.source_index >= 0
        return {i: p for p, i in enumerate(self.ids) if alive[p]}

    @functools.cached_property
    def known_words(self) -> list[str]:
        """Every term a live chunk holds, sorted (for the word forms :meth:`related` finds)."""
        words = self.vocabulary.words
        return sorted(words[int(i)] for i in np.flatnonzero(self.document_frequency > 0))

    def live_ids(self) -> list[str]:
        """Ids of the chunks held, in position order."""
        alive = self.source_index >= 0
        return [i for p, i in enumerate(self.ids) if alive[p]]

    def source_of(self, position: int) -> str:
        return self.source_names[int(self.source_index[position])]

    def vectors(self, positions: Sequence[int]) -> np.ndarray:
        """The stored vectors of the chunks at ``positions``, one row each."""
        owners = (np.searchsorted(self.offsets, positions, side="right") - 1).tolist()
        by_segment: dict[int, list[int]] = {}
        for i, owner in enumerate(owners):
            by_segment.setdefault(owner, []).append(i)
        rows: list[np.ndarray] = [np.empty(0)] * len(owners)
        for owner, wanted in by_segment.items():
            local = [int(positions[i]) - int(self.offsets[owner]) for i in wanted]
            for i, row in zip(wanted, _rows(self.segments[owner].vectors, local)):
                rows[i] = row
        return np.stack(rows)

    def with_revision(self, revision: str, urls: Mapping[str, str | None]) -> LexicalSnapshot:
        """The same contents, known to match the store at ``revision``."""
        return replace(self, revision=revision, urls=dict(urls))

    def __len__(self) -> int:
        return self.count

    # --- scoring ------------------------------------------------------------------------

    def _term_id(self, term: str) -> int | None:
        i = self.vocabulary.ids.get(term)
        if i is None or i >= len(self.document_frequency) or self.document_frequency[i] == 0:
            return None
        return i

    def scores(self, question: str, source: str | None = None) -> np.ndarray:
        """BM25 score of every position (0 for dead chunks and chunks outside ``source``).

        Lucene BM25 as bm25s computes it, term by term in the question's order, so
        the float32 sums are the ones its precomputed index gives.
        """
        size = len(self.source_index)
        scores = np.zeros(size, dtype=np.float32)
        known = [i for i in (self._term_id(t) for t in query_terms(question)) if i is not None]
        if not known or not self.count:
            return scores
        n = self.count
        mean_length = np.float64(self.total_length) / np.float64(n)
        for term in known:
            df = int(self.document_frequency[term])
            idf = np.float64(np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5))))
            for offset, segment in zip(self.offsets, self.segments):
                found = segment.postings(term)
                if found is None:
                    continue
                docs, tfs = found
                tf = tfs.astype(np.float64)
                lengths = segment.lengths[docs].astype(np.float64)
                norm = BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / mean_length)
                scores[docs + offset] += (idf * (tf / (norm + tf))).astype(np.float32)
        wanted = self.source_index >= 0
        if source is not None:
            wanted &= self.source_index == self._source_number(source)
        return np.where(wanted, scores, np.float32(0.0))

    def _source_number(self, source: str) -> int:
        try:
            return self.source_names.index(source)
        except ValueError:
            return -2

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks (unknown terms: the maximum)."""
        n = max(self.count, 1)
        i = self._term_id(term)
        df = 0 if i is None else int(self.document_frequency[i])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def known(self, term: str) -> bool:
        return self._term_id(term) is not None

    def related(self, term: str) -> bool:
        """Known, or a word form of a known term ("taken" for "take", "spent" for "spend": the
        stemmer keeps irregular forms apart): a known term shares all of its stem but the last
        letter, and at least four ("specul" is not "specif", "mixtur" not "mix")."""
        if self.known(term):
            return True
        if len(term) < 4:
            return False
        words = self.known_words
        at = bisect.bisect_left(words, term)
        shared = max(
            (_common_prefix(term, words[i]) for i in (at - 1, at) if 0 <= i < len(words)),
            default=0,
        )
        return shared >= max(4, len(term) - 1)

    # --- updating ----------------------------------------------------------------------

    def updated(
        self,
        dropped: set[str],
        fetched: Sequence[tuple[StoredChunk, np.ndarray]],
        sources: Mapping[str, str],
        revision: str | None,
        urls: Mapping[str, str | None],
    ) -> LexicalSnapshot:
        """This index without the chunks of ``dropped`` sources, plus ``fetched`` (chunks
        with their vectors, tokenised now)."""
        vocabulary = self.vocabulary
        token_ids = [vocabulary.add(terms(chunk.indexed_text)) for chunk, _ in fetched]
        size = len(vocabulary.words)
        df = np.zeros(size, dtype=np.int64)
        df[: len(self.document_frequency)] = self.document_frequency
        source_index = self.source_index.copy()
        count, total = self.count, self.total_length
        gone = [self.source_names.index(s) for s in dropped if s in self.source_names]
        if gone:
            dying = np.isin(source_index, gone)
            for offset, segment in zip(self.offsets, self.segments):
                local = dying[offset : offset + len(segment)]
                if local.any():
                    df -= segment.frequencies(local, size)
                    count -= int(local.sum())
                    total -= int(segment.lengths[local].sum())
            source_index[dying] = -1
        names = list(self.source_names)
        number = {name: i for i, name in enumerate(names)}
        segments = list(self.segments)
        if fetched:
            segment = Segment.build(
                [c.id for c, _ in fetched], token_ids, np.stack([v for _, v in fetched])
            )
            df += segment.frequencies(np.ones(len(segment), dtype=bool), size)
            count += len(segment)
            total += int(segment.lengths.sum())
            for chunk, _ in fetched:
                if chunk.source_id not in number:
                    number[chunk.source_id] = len(names)
                    names.append(chunk.source_id)
            new = np.array([number[c.source_id] for c, _ in fetched], dtype=np.int32)
            source_index = np.concatenate([source_index, new])
            segments.append(segment)
        openings = {s: i for s, i in self.openings.items() if s not in dropped}
        openings.update((c.source_id, c.id) for c, _ in fetched if c.position == 0)
        snapshot = LexicalSnapshot(
            revision=revision,
            sources=dict(sources),
            vocabulary=vocabulary,
            segments=tuple(segments),
            source_names=tuple(names),
            source_index=source_index.astype(np.int32),
            document_frequency=df,
            count=count,
            total_length=total,
            urls=dict(urls),
            openings=openings,
        )
        return snapshot._compacted()

    def _compacted(self) -> LexicalSnapshot:
        """Merge small segments once there are many; drop dead chunks once they are many.

        Merged segments are neighbours and keep their chunks' order, so positions
        keep their order too (rankings break ties by position).
        """
        size = len(self.source_index)
        dead = size - self.count
        if dead and dead > _MAX_DEAD * size:
            first = 0
        elif len(self.segments) > _MAX_SEGMENTS:
            first = 1  # the first segment is the big one every full build starts from
        else:
            return self
        offset = int(self.offsets[first])
        parts = [
            (segment, self.source_index[start : start + len(segment)] >= 0)
            for start, segment in zip(self.offsets[first:], self.segments[first:])
        ]
        merged = Segment.merge(parts)
        tail = self.source_index[offset:]
        return replace(
            self,
            segments=self.segments[:first] + ((merged,) if len(merged) else ()),
            source_index=np.concatenate([self.source_index[:offset], tail[tail >= 0]]),
        )


_EMPTY = LexicalSnapshot.empty()


class LexicalIndex:
    """BM25 over the store's chunks, persisted in ``directory``; see the module docstring."""

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

    def refresh(self, store: ChromaStore, *, checked_later: bool = False) -> LexicalSnapshot:
        """The snapshot matching the store now, updating the index first if it is stale.

        The store's revision is the cheap test (one read); on open and whenever
        it changed, every source's version is compared with the store's records
        and only sources that differ are re-read (a revision a crashed writer
        left unbumped therefore cannot hide a change from an index being opened).

        Args:
            checked_later: The caller compares the snapshot's ``revision`` with
                the store's after its own reads, and refreshes then if they
                differ: a snapshot checked against the store before is returned
                without reading the revision now.
        """
        with store.snapshot():
            snapshot = self._snapshot
            if checked_later and self._checked:
                return snapshot
            current = store.revision()
            if self._checked and snapshot.revision == current:
                return snapshot
            with self._lock:
                snapshot = self._snapshot
                if self._checked and snapshot.revision == current:
                    return snapshot
                if not self._checked:
                    snapshot = self._load() or snapshot
                records = store.sources()
                wanted = {sid: version_key(r) for sid, r in records.items()}
                urls = {sid: r.url for sid, r in records.items()}
                if dict(snapshot.sources) == wanted:
                    updated = snapshot.with_revision(current, urls)
                else:
                    updated = self._update(snapshot, store, wanted, current, urls)
                    updated = self._save(updated)
                self._checked = _UNVERIFIED not in updated.sources.values()
                self._snapshot = updated  # one assignment: queries see old or new, never a mix
                return updated

    def _update(
        self,
        snapshot: LexicalSnapshot,
        store: ChromaStore,
        wanted: dict[str, str],
        revision: str,
        urls: Mapping[str, str | None],
    ) -> LexicalSnapshot:
        changed = [sid for sid, key in wanted.items() if snapshot.sources.get(sid) != key]
        dropped = set(changed) | (set(snapshot.sources) - set(wanted))
        if not snapshot.sources or len(changed) > len(wanted) // 2:
            snapshot = LexicalSnapshot.empty()  # a new vocabulary: no terms of removed chunks
            fetched = [(c, v) for c, v in store.all_chunks_with_vectors() if c.source_id in wanted]
            changed, dropped = list(wanted), set()
        else:
            fetched = list(store.source_chunks_with_vectors(changed))
        sources = {sid: key for sid, key in snapshot.sources.items() if sid not in dropped}
        by_source: dict[str, list[str]] = {sid: [] for sid in changed}
        for chunk, _ in fetched:
            by_source[chunk.source_id].append(chunk.id)
        for sid in changed:
            sources[sid] = _checked_key(wanted[sid], by_source[sid])
        updated = snapshot.updated(dropped, fetched, sources, revision, urls)
        log.info(
            "lexical index updated: %d of %d sources re-read, %d chunks",
            len(changed),
            len(wanted),
            len(updated),
        )
        return updated

    # --- persistence ----------------------------------------------------------------

    def _save(self, snapshot: LexicalSnapshot) -> LexicalSnapshot:
        """Write the segments not saved yet, then the manifest (one rename), then tidy up.

        A kill at any step leaves the previous manifest and every file it names.
        Returns the snapshot with the segments just written memory-mapped from
        their files (the same numbers), so a process that built the index does
        not keep its postings and vectors in memory; unchanged if it could not save.
        """
        directory = self.directory
        try:
            directory.mkdir(parents=True, exist_ok=True)
            written = set()
            for segment in snapshot.segments:
                if not (directory / f"{segment.name}.ids.json").exists():
                    segment.save(directory)
                    written.add(segment.name)
            generation = uuid.uuid4().hex[:16]
            np.save(directory / f"state-{generation}.source_index.npy", snapshot.source_index)
            np.save(directory / f"state-{generation}.df.npy", snapshot.document_frequency)
            manifest = {
                "format": _FORMAT,
                "generation": generation,
                "sources": dict(snapshot.sources),
                "source_names": list(snapshot.source_names),
                "segments": [s.name for s in snapshot.segments],
                "count": snapshot.count,
                "total_length": snapshot.total_length,
                "openings": dict(snapshot.openings),
                "vocabulary": snapshot.vocabulary.words[: len(snapshot.document_frequency)],
            }
            aside = directory / f".{_MANIFEST}.{generation}"
            aside.write_text(json.dumps(manifest), encoding="utf-8")
            os.replace(aside, directory / _MANIFEST)
            used = {f"state-{generation}"} | {s.name for s in snapshot.segments}
            settled = time.time() - _SETTLED_S  # newer files may be another process's save
            for path in directory.iterdir():
                name = path.name
                if name != _MANIFEST and name.split(".", 1)[0] not in used:
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime < settled:
                            path.unlink()
            segments = [
                Segment.load(directory, s.name) if s.name in written else s
                for s in snapshot.segments
            ]
            return replace(snapshot, segments=tuple(segments))
        except OSError as exc:  # a read-only home still answers, it just rebuilds next time
            log.warning("could not save the lexical index to %s: %s", directory, exc)
            return snapshot

    def _load(self) -> LexicalSnapshot | None:
        """The saved index (any revision: it is checked against the store's records)."""
        directory = self.directory
        try:
            manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != _FORMAT:
                return None
            state = f"state-{manifest['generation']}"
            return LexicalSnapshot(
                revision=None,
                sources=dict(manifest["sources"]),
                vocabulary=Vocabulary(manifest["vocabulary"]),
                segments=tuple(Segment.load(directory, n) for n in manifest["segments"]),
                source_names=tuple(manifest["source_names"]),
                source_index=np.load(directory / f"{state}.source_index.npy"),
                document_frequency=np.load(directory / f"{state}.df.npy"),
                count=int(manifest["count"]),
                total_length=int(manifest["total_length"]),
                urls={},
                openings=dict(manifest["openings"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _rows(array: np.ndarray, rows: Sequence[int]) -> list[np.ndarray]:
    """Rows of ``array``; from a saved segment, read from its file rather than its mapping.

    A search needs the vectors of about a hundred chunks. Touching them through the
    memory map made the kernel map the whole file into the process (all 154 MB of
    a 100k-chunk index counted in its RSS after one search); reading the rows with
    ``pread`` costs a few microseconds each and maps nothing.
    """
    if not isinstance(array, np.memmap) or not array.filename:
        return [np.asarray(array[r]) for r in rows]
    filename: str = array.filename
    offset: int = array.offset
    if not array.flags.c_contiguous or os.path.getsize(filename) != offset + array.nbytes:
        return [np.asarray(array[r]) for r in rows]  # a view of part of the file
    width = array.shape[1] * array.itemsize
    with open(filename, "rb", buffering=0) as handle:
        return [
            np.frombuffer(os.pread(handle.fileno(), width, offset + r * width), array.dtype)
            for r in rows
        ]


def _checked_key(key: str, ids: Iterable[str]) -> str:
    """``key`` if the chunks read match it, else :data:`_UNVERIFIED` (re-read next time)."""
    ids = list(ids)
    if key.startswith("legacy:"):
        count = int(key.split(":")[2])
        return key if count == len(ids) else _UNVERIFIED
    return key if chunk_digest(ids) == key else _UNVERIFIED
