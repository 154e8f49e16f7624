"""A real ingest process for the crash tests, killed by ``KB_TEST_KILL_AT`` at a named step.

Run as ``python -m tests.bot.crash_writer WORK_HOME VECTORS_HOME FOLDER``: it
ingests ``FOLDER`` into the knowledge base at ``WORK_HOME`` exactly as
``kb ingest`` does (same pipeline, same store writes), except that chunk
vectors are looked up in the finished knowledge base at ``VECTORS_HOME``
instead of being computed, so each run starts in a second rather than loading torch.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.settings import Settings
from ingest.models import Chunk, EmbeddedChunk
from ingest.pipeline import Ingestor
from ingest.store import ChromaStore


class LookupEncoder:
    def __init__(self, store: ChromaStore) -> None:
        self.store = store

    def encode(
        self,
        chunks: Sequence[Chunk],
        progress: Callable[[int], None] | None = None,
        ingest_total: int | None = None,
    ) -> list[EmbeddedChunk]:
        found = self.store.existing_vectors([c.id for c in chunks])
        if progress:
            progress(len(chunks))
        return [found[c.id] for c in chunks]


def main(work: Path, vectors: Path, folder: Path) -> None:
    settings = Settings(home=work, auto_ingest=False)
    store = ChromaStore.embedded(settings.store_path, settings.collection)
    source = Settings(home=vectors, auto_ingest=False)
    lookup = ChromaStore.embedded(source.store_path, source.collection)
    report = Ingestor(store, encoder=lambda: LookupEncoder(lookup)).ingest([folder])
    print(report.summary(), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
