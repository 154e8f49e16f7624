"""The Chroma adapter on its own: a real embedded Chroma in tmp_path, the fake embedder.

Fast tier: no model is loaded; vectors come from :class:`tests.fake_embedder.HashingEmbedder`
(the ``fake_store`` fixture).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.embedding_model import DIMENSIONS
from ingest.models import Link
from ingest.store import ChromaStore, chunk_digest
from tests.fake_embedder import EMBED, make_chunk, source_write

OTTERS = [
    make_chunk("otters", 0, ["Sea otters hold hands while they sleep.", "They float on kelp."]),
    make_chunk("otters", 1, ["An otter eats a quarter of its weight in food each day."]),
]
ZEBRAS = [make_chunk("zebras", 0, ["Every zebra has its own pattern of stripes."])]


def test_chunks_come_back_as_written_with_their_citation_metadata(fake_store: ChromaStore) -> None:
    linked = make_chunk(
        "links",
        0,
        ["The manual explains the otter tracker.", "Its firmware is open."],
        section="Hardware › Sensors",
        header="Links\nHardware › Sensors",
        sentence_sections=("Hardware", "Hardware › Sensors"),
        links=(Link("manual", "https://example.org/manual"),),
        start=120,
        end=181,
    )
    fake_store.write([source_write("otters", OTTERS), source_write("links", [linked])])

    assert fake_store.chunks([linked.id, OTTERS[1].id, "no-such-id"]) == [linked, OTTERS[1]]
    assert fake_store.count() == 3
    record = fake_store.sources()["otters"]
    assert record.chunks == 2 and record.digest == chunk_digest(c.id for c in OTTERS)
    sentences = fake_store.sentence_vectors([OTTERS[0]])[OTTERS[0].id]
    assert sentences.shape == (2, DIMENSIONS)
    assert np.allclose(sentences[1], EMBED.vector("They float on kelp."))


def test_the_chunk_at_a_position_of_an_article_is_read_by_source_and_position(
    fake_store: ChromaStore,
) -> None:
    fake_store.write([source_write("otters", OTTERS), source_write("zebras", ZEBRAS)])

    assert fake_store.chunk_at("otters", 1) == OTTERS[1]
    assert fake_store.chunk_at("zebras", 0) == ZEBRAS[0]
    assert fake_store.chunk_at("otters", 2) is None
    assert fake_store.chunk_at("zebras", 1) is None
    # every article's opening in one read; an unknown source is left out
    assert fake_store.openings(["otters", "zebras", "yaks"]) == {
        "otters": OTTERS[0],
        "zebras": ZEBRAS[0],
    }
    assert fake_store.openings([]) == {}


def test_dense_search_ranks_by_cosine_and_filters_by_source(fake_store: ChromaStore) -> None:
    fake_store.write([source_write("otters", OTTERS), source_write("zebras", ZEBRAS)])

    query = EMBED.vector("zebra stripes pattern")
    hits = fake_store.dense_search(query, k=3)
    assert len(hits) == 3 and hits[0].chunk.id == ZEBRAS[0].id
    assert hits[0].similarity == pytest.approx(float(np.dot(query, EMBED.vector(ZEBRAS[0].text))))
    assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)

    only_otters = fake_store.dense_search(query, k=3, source="otters")
    assert {h.chunk.source_id for h in only_otters} == {"otters"}


def test_rewriting_a_source_drops_its_stale_chunks_and_changes_the_revision(
    fake_store: ChromaStore,
) -> None:
    fake_store.write([source_write("otters", OTTERS)])
    first = fake_store.revision()
    kept, new = OTTERS[0], make_chunk("otters", 1, ["River otters build dens called holts."])

    fake_store.write([source_write("otters", [kept, new])])

    assert fake_store.revision() != first
    assert sorted(fake_store.chunk_ids("otters")) == sorted([kept.id, new.id])
    assert fake_store.sentence_vectors([OTTERS[1]]) == {}  # the stale chunk's sentences went too
    assert fake_store.sources()["otters"].digest == chunk_digest([kept.id, new.id])


def test_existing_vectors_are_the_stored_ones_so_nothing_is_embedded_twice(
    fake_store: ChromaStore,
) -> None:
    fake_store.write([source_write("otters", OTTERS)])

    found = fake_store.existing_vectors([c.id for c in OTTERS] + ["unknown"])

    assert set(found) == {c.id for c in OTTERS}
    for chunk, embedded in zip(OTTERS, EMBED.embed_chunks(OTTERS)):
        assert np.allclose(found[chunk.id].vector, embedded.vector, atol=1e-6)
        assert np.allclose(found[chunk.id].sentence_vectors, embedded.sentence_vectors, atol=1e-6)


def test_delete_source_removes_its_chunks_and_record_and_nothing_else(
    fake_store: ChromaStore,
) -> None:
    fake_store.write([source_write("otters", OTTERS), source_write("zebras", ZEBRAS)])
    before = fake_store.revision()

    assert fake_store.delete_source("otters") == 2

    assert set(fake_store.sources()) == {"zebras"}
    assert fake_store.count() == 1 and fake_store.chunk_ids("otters") == []
    assert fake_store.revision() != before
    assert fake_store.recover() == 0  # the removal finished: nothing left pending


def test_a_second_store_on_the_same_folder_sees_the_first_ones_writes(tmp_path: Path) -> None:
    writer = ChromaStore.embedded(tmp_path / "chroma", "test", embed_query=EMBED)
    reader = ChromaStore.embedded(tmp_path / "chroma", "test", embed_query=EMBED)
    try:
        writer.write([source_write("zebras", ZEBRAS)])
        assert reader.revision() == writer.revision()
        assert [c.id for c in reader.all_chunks()] == [ZEBRAS[0].id]
    finally:
        writer.close()
        reader.close()


class _CompactingOnce:
    """Chroma's collection as a server answers while compacting its first records: one
    read fails with the server's transient error, then reads work (see ``ingest.store``)."""

    def __init__(self, collection: object) -> None:
        self._collection = collection
        self.failures = 1

    def __getattr__(self, name: str) -> object:
        return getattr(self._collection, name)

    def get(self, *args: object, **kwargs: object) -> object:
        if self.failures:
            self.failures -= 1
            raise RuntimeError(
                "Error executing plan: Internal error: "
                "Error creating hnsw segment reader: Nothing found on disk"
            )
        return self._collection.get(*args, **kwargs)  # type: ignore[attr-defined]


def test_a_read_during_a_servers_compaction_is_tried_again(fake_store: ChromaStore) -> None:
    fake_store.write([source_write("otters", OTTERS)])
    compacting = _CompactingOnce(fake_store._sentences)
    fake_store._sentences = compacting  # type: ignore[assignment]

    vectors = fake_store.sentence_vectors(OTTERS)

    assert compacting.failures == 0 and set(vectors) == {c.id for c in OTTERS}
