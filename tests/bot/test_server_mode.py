"""Several knowledge-base processes sharing one `chroma run` server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import KnowledgeBase
from tests.conftest import DEBATE, GPT_J, make_settings
from tests.kb_cli import Worker, kb_env

pytestmark = pytest.mark.server


def _server_kb(home: Path, model_cache: Path, port: int) -> KnowledgeBase:
    settings = make_settings(
        home, model_cache, chroma_host="127.0.0.1", chroma_port=port, auto_ingest=False
    )
    return KnowledgeBase(settings=settings)


def test_processes_sharing_a_server_see_each_others_changes(
    tmp_path: Path, model_cache: Path, chroma_server: int, corpus_copy: Path
) -> None:
    # The writer is another process (its own Chroma client, model and lexical index);
    # the reader is this one.
    env = kb_env(
        tmp_path / "writer",
        model_cache,
        KB_CHROMA_HOST="127.0.0.1",
        KB_CHROMA_PORT=str(chroma_server),
    )
    writer = Worker(env)
    try:
        reader = _server_kb(tmp_path / "reader", model_cache, chroma_server)
        assert reader.sources() == []
        assert reader.search("GPT-J", k=3) == []  # builds the reader's (empty) lexical index

        assert writer.request("ingest", str(corpus_copy))["summary"].startswith("3 added")

        # The bookkeeping lives in Chroma: the reader sees the sources and its lexical
        # index notices the new revision and rebuilds.
        assert {r.source_id for r in reader.sources()} == {
            str(p.resolve()) for p in corpus_copy.glob("*.txt")
        }
        answer = reader.ask("Why did EleutherAI take GPT-J offline?")
        assert answer.answered and answer.citations[0].source.endswith(GPT_J)

        # A re-ingest from the other process is a no-op: it sees the same content hashes.
        again = reader.ingest([corpus_copy])
        assert again.embedded == 0 and len(again.unchanged) == 3

        assert writer.request("forget", str(corpus_copy / GPT_J))["removed"] > 0
        hits = reader.search("GPT-J hosting prices", k=10)
        assert hits and all(not c.source.endswith(GPT_J) for c in hits)
        # ... and the other way round: the writer's lexical index follows the reader's writes.
        reader.forget(str(corpus_copy / DEBATE))
        assert all(
            not s.endswith(DEBATE)
            for s in writer.request("search", "open and closed source debate")["sources"]
        )
    finally:
        writer.stop()
