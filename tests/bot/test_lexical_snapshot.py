"""The lexical index: one immutable snapshot per query, updated per source.

A fake store stands in for Chroma so that thousands of refreshes can race
queries in a few seconds; the same refresh code runs against Chroma elsewhere.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bot.lexical import LexicalIndex, LexicalSnapshot
from bot.retrieve import HybridRetriever
from ingest.models import Span
from ingest.store import SourceRecord, StoredChunk, chunk_digest


def _chunk(source: str, i: int, text: str) -> StoredChunk:
    return StoredChunk(
        id=f"{source}#{i}",
        source_id=source,
        title=source,
        section="",
        text=text,
        start=0,
        end=len(text),
        position=i,
        header="",
        sentences=(Span(0, len(text)),),
    )


def _vector(chunk: StoredChunk) -> np.ndarray:
    """A stand-in for the chunk's stored vector, told apart by its text."""
    return np.array([len(chunk.text), chunk.position, "zebra" in chunk.text], dtype=np.float32)


def _state(prefix: str, sources: int, per_source: int, marked: int) -> list[StoredChunk]:
    """Chunks of ``sources`` sources; every ``marked``-th chunk mentions zebras."""
    chunks = []
    for s, i in itertools.product(range(sources), range(per_source)):
        n = s * per_source + i
        words = "zebra stripes grazing" if n % marked == 0 else "otter river fishing"
        chunks.append(
            _chunk(f"{prefix}{s}", i, f"The {words} passage {prefix} {n} of the archive.")
        )
    return chunks


class FakeStore:
    """A store whose contents change on demand: just what refresh and rank read."""

    def __init__(self, chunks: list[StoredChunk]) -> None:
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.set(chunks)

    def set(self, chunks: list[StoredChunk]) -> None:
        with self.lock:
            self.held = list(chunks)
            self._revision = chunk_digest(c.id for c in chunks)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        with self.lock:
            yield

    def revision(self) -> str:
        return self._revision

    def sources(self) -> dict[str, SourceRecord]:
        by: dict[str, list[str]] = {}
        for c in self.held:
            by.setdefault(c.source_id, []).append(c.id)
        return {
            s: SourceRecord(s, s, "text", s, len(ids), "", digest=chunk_digest(ids))
            for s, ids in by.items()
        }

    def all_chunks_with_vectors(self) -> Iterator[tuple[StoredChunk, np.ndarray]]:
        self.calls.append("all")
        yield from ((c, _vector(c)) for c in self.held)

    def source_chunks_with_vectors(
        self, source_ids: Sequence[str]
    ) -> Iterator[tuple[StoredChunk, np.ndarray]]:
        self.calls.append(f"sources:{len(source_ids)}")
        wanted = set(source_ids)
        yield from ((c, _vector(c)) for c in self.held if c.source_id in wanted)

    def chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        by_id = {c.id: c for c in self.held}
        return [by_id[i] for i in ids if i in by_id]


def _live_scores(snapshot: LexicalSnapshot, query: str) -> dict[str, float]:
    scores = snapshot.scores(query)
    return {i: float(scores[p]) for i, p in snapshot.position.items()}


def test_queries_racing_refreshes_never_pair_scores_with_another_table(tmp_path: Path) -> None:
    states = [_state("a", 20, 6, 7), _state("b", 33, 5, 3), _state("c", 9, 9, 11)]
    store: Any = FakeStore(states[0])
    index = LexicalIndex(tmp_path / "index")
    retriever = HybridRetriever(store, index)
    stop = threading.Event()
    mismatches: list[str] = []
    queries = [0]

    def query() -> None:
        query = np.ones(3, dtype=np.float32)
        while not stop.is_set():
            for passage in list(retriever.ranking("zebra", query, mode="lexical")):
                similarity = float(np.dot(_vector(passage.chunk), query))
                if "zebra" not in passage.chunk.text or passage.lexical <= 0:
                    mismatches.append(passage.chunk.text)
                if passage.dense != similarity:  # a vector from another table
                    mismatches.append(f"{passage.chunk.text}: {passage.dense}")
            queries[0] += 1

    def change() -> None:
        for state in itertools.islice(itertools.cycle(states), 300):
            store.set(state)
            index.refresh(store)  # a refresh on another thread, as a Discord /ingest makes
        stop.set()

    threads = [threading.Thread(target=query) for _ in range(3)] + [threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert stop.is_set() and queries[0] > 50
    assert mismatches == []


def test_a_changed_source_is_re_read_alone_and_a_saved_index_opens_without_it(
    tmp_path: Path,
) -> None:
    chunks = _state("a", 30, 4, 5)
    store: Any = FakeStore(chunks)
    index = LexicalIndex(tmp_path / "index")
    first = index.refresh(store)
    assert store.calls == ["all"] and len(first) == 120

    changed = [c for c in chunks if c.source_id != "a3"] + [_chunk("a3", 0, "A zebra herd.")]
    added = [_chunk("new", 0, "The okapi is a zebra's cousin, a giraffid.")]
    store.set(changed + added)
    updated = index.refresh(store)
    assert store.calls == ["all", "sources:2"]  # only the changed and the new source
    assert len(updated) == 118 and "new#0" in updated.position

    # The same scores as an index built from scratch over the same chunks.
    scratch = LexicalIndex(tmp_path / "scratch").refresh(FakeStore(changed + added))
    for query in ("zebra okapi", "otter river", "giraffid"):
        assert _live_scores(updated, query) == _live_scores(scratch, query)

    reopened = LexicalIndex(tmp_path / "index")
    store.calls.clear()
    assert len(reopened.refresh(store)) == 118
    assert store.calls == []  # loaded from disk and checked against the records: nothing re-read


def test_many_small_updates_keep_the_scores_of_an_index_built_at_once(tmp_path: Path) -> None:
    # Each refresh adds a segment or marks chunks dead; past a few of either the
    # segments are merged. Scores stay those of one index built from scratch
    # (bm25s's numbers), and a reopened index gives them too.
    chunks = _state("a", 12, 5, 4)
    store: Any = FakeStore(chunks)
    index = LexicalIndex(tmp_path / "index")
    index.refresh(store)
    for step in range(14):
        extra = [
            _chunk(f"n{step}", i, f"The okapi {step} and the zebra {i} share a river.")
            for i in range(3)
        ]
        chunks = [c for c in chunks if c.source_id != f"a{step % 12}"] + extra
        store.set(chunks)
        updated = index.refresh(store)
        assert set(updated.position) == {c.id for c in chunks}
    assert len(updated.segments) <= 9

    scratch = LexicalIndex(tmp_path / "scratch").refresh(FakeStore(chunks))
    reopened = LexicalIndex(tmp_path / "index").refresh(store)
    for query in ("zebra okapi", "otter river", "okapi 7", "archive"):
        want = _live_scores(scratch, query)
        assert _live_scores(updated, query) == want
        assert _live_scores(reopened, query) == want
    assert updated.live_ids() == reopened.live_ids()
    # Each live article's first chunk, which an answer reads with its passages.
    firsts = {c.source_id: c.id for c in chunks if c.position == 0}
    assert updated.openings == reopened.openings == firsts
    assert updated.idf("okapi") == scratch.idf("okapi") and not updated.known("a3")


def test_vectors_of_a_saved_segment_are_read_from_its_file(tmp_path: Path) -> None:
    from bot.lexical import _rows

    vectors = np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    mapped = np.load(tmp_path / "v.npy", mmap_mode="r")

    rows = [0, 17, 49, 17]
    assert np.array_equal(np.stack(_rows(mapped, rows)), vectors[rows])  # read with pread
    assert np.array_equal(np.stack(_rows(mapped[10:], [0, 5])), vectors[[10, 15]])  # a view
    assert np.array_equal(np.stack(_rows(vectors, [3])), vectors[[3]])  # in memory


def test_a_word_form_of_a_known_term_is_related_and_a_shared_start_alone_is_not() -> None:
    text = "EleutherAI had to take the model offline; it did not specify why or spend more."
    chunks = [_chunk("a", 0, text)]
    snapshot = LexicalSnapshot.build([(c, _vector(c)) for c in chunks], {"a": "v1"}, "r1")

    assert snapshot.related("take") and not snapshot.known("taken")
    assert snapshot.related("taken") and snapshot.related("spent")  # irregular forms
    assert not snapshot.related("specul")  # "speculative" only shares "spec" with "specify"
    assert not snapshot.related("zebra")
