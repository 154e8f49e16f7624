"""Hybrid retrieval and the lexical index over a real Chroma store, with the fake embedder.

Fast tier: the store is an embedded Chroma in tmp_path (``fake_store``); vectors
come from :class:`tests.fake_embedder.HashingEmbedder`, so dense similarities are
predictable (shared words) and can be checked exactly.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pytest

from bot.lexical import LexicalIndex
from bot.retrieve import CANDIDATES, HybridRetriever, Mode, rank_sources
from ingest.models import Chunk
from ingest.store import ChromaStore
from tests.fake_embedder import EMBED, make_chunk, source_write

OTTERS = [
    make_chunk("otters", 0, ["Sea otters hold hands while they sleep.", "They float on kelp."]),
    make_chunk("otters", 1, ["An otter eats a quarter of its weight in food each day."]),
]
ZEBRAS = [
    make_chunk("zebras", 0, ["Every zebra has its own pattern of stripes."]),
    make_chunk("zebras", 1, ["Zebras graze on the savanna in large herds."]),
]
COPY = [make_chunk("copy", 0, ["Every zebra has its own pattern of stripes."])]


@pytest.fixture
def retriever(fake_store: ChromaStore, tmp_path: Path) -> HybridRetriever:
    fake_store.write([source_write("otters", OTTERS), source_write("zebras", ZEBRAS)])
    return HybridRetriever(fake_store, LexicalIndex(tmp_path / "lexical"))


def test_every_candidate_gets_both_scores_exactly(retriever: HybridRetriever) -> None:
    query = "otter kelp"
    vector = EMBED.vector("zebra stripes")  # dense and lexical disagree on purpose
    table = retriever.lexical.refresh(retriever.store)
    bm25 = table.scores(query)

    passages = list(retriever.ranking(query, vector))

    assert {p.chunk.id for p in passages} == {c.id for c in OTTERS + ZEBRAS}
    for p in passages:
        # Found by BM25 only or by Chroma only, a passage carries both scores.
        assert p.dense == pytest.approx(float(np.dot(EMBED.vector(p.chunk.indexed_text), vector)))
        assert p.lexical == pytest.approx(float(bm25[table.position[p.chunk.id]]))
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_each_mode_ranks_by_its_own_score(retriever: HybridRetriever) -> None:
    query, vector = "kelp", EMBED.vector(ZEBRAS[0].text)

    dense = list(retriever.ranking(query, vector, mode="dense"))
    lexical = list(retriever.ranking(query, vector, mode="lexical"))

    assert dense[0].chunk.id == ZEBRAS[0].id and dense[0].score == pytest.approx(1.0)
    assert [p.chunk.id for p in lexical] == [OTTERS[0].id]  # the only chunk with "kelp"
    assert lexical[0].score == lexical[0].lexical > 0


def test_retrieve_drops_near_duplicates_and_keeps_to_the_source(
    retriever: HybridRetriever,
) -> None:
    retriever.store.write([source_write("copy", COPY)])
    query, vector = "zebra stripes", EMBED.vector("zebra stripes pattern")

    passages = retriever.retrieve(query, vector, k=3).passages

    texts = [p.chunk.text for p in passages]
    assert len(passages) == 3 and texts.count(COPY[0].text) == 1
    only_copy = retriever.retrieve(query, vector, k=3, source="copy").passages
    assert [p.chunk.id for p in only_copy] == [COPY[0].id]


def test_the_lexical_index_follows_the_store_and_reopens_from_disk(
    fake_store: ChromaStore, tmp_path: Path
) -> None:
    index = LexicalIndex(tmp_path / "lexical")
    fake_store.write([source_write("otters", OTTERS)])
    assert set(index.refresh(fake_store).live_ids()) == {c.id for c in OTTERS}

    fake_store.write([source_write("zebras", ZEBRAS)])
    with_zebras = index.refresh(fake_store)
    assert with_zebras.revision == fake_store.revision()
    scores = with_zebras.scores("savanna herds")
    assert with_zebras.ids[int(np.argmax(scores))] == ZEBRAS[1].id

    fake_store.delete_source("otters")
    after = index.refresh(fake_store)
    assert {after.source_of(p) for p in after.position.values()} == {"zebras"}
    assert not after.known("kelp")

    reopened = LexicalIndex(tmp_path / "lexical").refresh(fake_store)
    assert reopened.live_ids() == after.live_ids()
    assert np.array_equal(reopened.scores("zebra stripes"), after.scores("zebra stripes"))


def _random_library(seed: int, sources: int = 6, per_source: int = 70) -> list[list[Chunk]]:
    """More chunks than the candidate depth, over a small vocabulary, so rankings overlap."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(60)]
    return [
        [
            make_chunk(f"s{s}", p, [" ".join(rng.choices(words, k=rng.randint(4, 14))) + "."])
            for p in range(per_source)
        ]
        for s in range(sources)
    ]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_the_first_n_passages_do_not_depend_on_how_many_are_read(
    fake_store: ChromaStore, tmp_path: Path, mode: Mode
) -> None:
    library = _random_library(seed=7)
    fake_store.write([source_write(chunks[0].source_id, chunks) for chunks in library])
    retriever = HybridRetriever(fake_store, LexicalIndex(tmp_path / "lexical"))
    assert fake_store.count() > 2 * CANDIDATES  # so reading far needs deeper tiers
    rng = random.Random(11)
    for _ in range(8):
        query = " ".join(rng.choices([f"w{i}" for i in range(60)], k=3))
        vector = EMBED.vector(" ".join(rng.choices([f"w{i}" for i in range(60)], k=4)))
        for source in (None, "s3"):
            full = [p.chunk.id for p in retriever.ranking(query, vector, source, mode=mode)]
            assert len(full) == len(set(full))
            for k in (1, 5, 40, CANDIDATES, 250):
                read = [
                    p.chunk.id
                    for p in itertools.islice(
                        retriever.ranking(query, vector, source, mode=mode), k
                    )
                ]
                assert read == full[:k]
            if mode == "hybrid":
                for n, k, k2 in ((3, 5, 60), (10, 10, 100), (20, 90, 100)):
                    few = retriever.retrieve(query, vector, k, source).passages
                    more = retriever.retrieve(query, vector, k2, source).passages
                    assert [p.chunk.id for p in few[:n]] == [p.chunk.id for p in more[:n]]
                assert (
                    rank_sources(retriever.ranking(query, vector), 2)
                    == rank_sources(retriever.ranking(query, vector), 6)[:2]
                )


def test_every_passage_is_read_and_the_calibrated_tier_comes_first(
    fake_store: ChromaStore, tmp_path: Path
) -> None:
    library = _random_library(seed=3)
    fake_store.write([source_write(chunks[0].source_id, chunks) for chunks in library])
    retriever = HybridRetriever(fake_store, LexicalIndex(tmp_path / "lexical"))
    query, vector = "w1 w2", EMBED.vector("w3 w4 w5")

    passages = list(retriever.ranking(query, vector))

    assert len(passages) == fake_store.count()  # dense reaches every chunk in the end
    table = retriever.lexical.refresh(fake_store)
    bm25 = table.scores(query)
    dense_top = {h.chunk.id for h in fake_store.dense_search(vector, CANDIDATES)}
    lexical_top = {table.ids[i] for i in np.argsort(-bm25, kind="stable")[:CANDIDATES]}
    calibrated = dense_top | {i for i in lexical_top if bm25[table.position[i]] > 0}
    assert {p.chunk.id for p in passages[: len(calibrated)]} == calibrated
    first = passages[: len(calibrated)]
    assert [p.score for p in first] == sorted((p.score for p in first), reverse=True)


def test_candidates_only_bm25_found_are_scored_without_a_store_call(
    fake_store: ChromaStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past 100 chunks BM25 proposes chunks dense search did not; their dense
    # similarity comes from the vectors the lexical index keeps, the same numbers.
    from chromadb.api.models.Collection import Collection

    library = _random_library(seed=5)
    fake_store.write([source_write(chunks[0].source_id, chunks) for chunks in library])
    retriever = HybridRetriever(fake_store, LexicalIndex(tmp_path / "lexical"))
    query, vector = "w1 w2 w7", EMBED.vector("w3 w4 w5")
    retriever.retrieve(query, vector, 5)  # warm: the lexical index is built
    calls: list[str] = []
    for method in ("get", "query"):
        original = getattr(Collection, method)

        def counted(self: Collection, *args: object, _m: str = method, _o=original, **kw: object):  # type: ignore[no-untyped-def]
            calls.append(f"{_m}:{','.join(kw.get('include') or ())}")  # type: ignore[arg-type]
            return _o(self, *args, **kw)

        monkeypatch.setattr(Collection, method, counted)

    passages = retriever.ranking(query, vector)
    first = list(itertools.islice(passages, CANDIDATES))  # within the calibrated tier
    monkeypatch.undo()

    dense_top = {h.chunk.id for h in fake_store.dense_search(vector, CANDIDATES)}
    bm25_only = [p for p in first if p.chunk.id not in dense_top]
    assert bm25_only
    stored = fake_store.chunk_vectors([p.chunk.id for p in bm25_only])  # as Chroma has them
    for p in bm25_only:
        assert p.dense == float(np.dot(stored[p.chunk.id], vector))
    assert calls[0] == "query:distances", calls  # ids and distances only
    assert set(calls[1:]) == {"get:documents,metadatas"}, calls  # then passages, no vectors
