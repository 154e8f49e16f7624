"""Hybrid retrieval and the lexical index over a real Chroma store, with the fake embedder.

Fast tier: the store is an embedded Chroma in tmp_path (``fake_store``); vectors
come from :class:`tests.fake_embedder.HashingEmbedder`, so dense similarities are
predictable (shared words) and can be checked exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.lexical import LexicalIndex
from bot.retrieve import HybridRetriever
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

    passages = retriever.rank(query, vector)

    assert {p.chunk.id for p in passages} == {c.id for c in OTTERS + ZEBRAS}
    for p in passages:
        # Found by BM25 only or by Chroma only, a passage carries both scores.
        assert p.dense == pytest.approx(float(np.dot(EMBED.vector(p.chunk.indexed_text), vector)))
        assert p.lexical == pytest.approx(float(bm25[table.position[p.chunk.id]]))
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)


def test_each_mode_ranks_by_its_own_score(retriever: HybridRetriever) -> None:
    query, vector = "kelp", EMBED.vector(ZEBRAS[0].text)

    dense = retriever.rank(query, vector, mode="dense")
    lexical = retriever.rank(query, vector, mode="lexical")

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
    assert {c.id for c in index.refresh(fake_store).chunks} == {c.id for c in OTTERS}

    fake_store.write([source_write("zebras", ZEBRAS)])
    with_zebras = index.refresh(fake_store)
    assert with_zebras.revision == fake_store.revision()
    scores = with_zebras.scores("savanna herds")
    assert with_zebras.chunks[int(np.argmax(scores))].id == ZEBRAS[1].id

    fake_store.delete_source("otters")
    after = index.refresh(fake_store)
    assert {c.source_id for c in after.chunks} == {"zebras"}
    assert not after.known("kelp")

    reopened = LexicalIndex(tmp_path / "lexical").refresh(fake_store)
    assert [c.id for c in reopened.chunks] == [c.id for c in after.chunks]
    assert np.array_equal(reopened.scores("zebra stripes"), after.scores("zebra stripes"))
