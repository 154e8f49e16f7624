"""Ingestion against a real Chroma store and the real model."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import KnowledgeBase, Settings
from ingest.embedding_model import MAX_TOKENS, count_tokens
from ingest.store import StoredChunk
from tests.conftest import DEBATE, GPT_J, REPO, WebServer, open_store
from tests.documents import article_page, text_pdf


def _chunks_of(kb: KnowledgeBase, source: str) -> list[str]:
    with open_store(kb.settings) as store:
        return store.chunk_ids(source)


def _all_chunks(kb: KnowledgeBase) -> list[StoredChunk]:
    with open_store(kb.settings) as store:
        return list(store.all_chunks())


def _revision(kb: KnowledgeBase) -> str:
    with open_store(kb.settings) as store:
        return store.revision()


def test_corpus_ingests_all_three_articles_with_sane_chunks(corpus_kb: KnowledgeBase) -> None:
    records = corpus_kb.sources()
    assert len(records) == 3
    assert {r.title for r in records} == {
        "The Ultimate Debate: Open Source vs. Closed Source LLMs",
        "Open Source vs. Closed Source AI: Which LLM Model Will Dominate?",
        "The Battle of Open Source vs Closed Source Language Models: A Technical Analysis",
    }
    debate = next(r for r in records if r.source_id.endswith(DEBATE))
    assert debate.published == "2025-02-22" and debate.description

    chunks = _all_chunks(corpus_kb)
    assert len(chunks) == sum(r.chunks for r in records)
    texts = "\n".join(c.text for c in chunks)
    for chunk in chunks:
        assert chunk.text.strip()
        assert count_tokens(chunk.indexed_text) + 2 <= MAX_TOKENS
    assert "β€" not in texts and "“open supply”" in texts
    for chrome in ("LEAVE A REPLY", "Please enter your name here", "Related News", "ULTIMI POST"):
        assert chrome not in texts


def test_second_ingest_embeds_nothing(kb: KnowledgeBase, corpus_copy: Path) -> None:
    first = kb.ingest([corpus_copy])
    assert len(first.added) == 3 and first.embedded > 0
    revision = _revision(kb)

    second = kb.ingest([corpus_copy])

    assert [s.status for s in second.sources] == ["unchanged"] * 3
    assert second.embedded == 0
    assert _revision(kb) == revision  # nothing written


def test_a_store_embedded_in_int8_keeps_working_under_the_fp32_default(
    settings: Settings, corpus_copy: Path
) -> None:
    int8 = KnowledgeBase(
        settings=settings.model_copy(update={"auto_ingest": False, "ingest_runtime": "onnx-int8"})
    )
    int8.ingest([corpus_copy])
    with open_store(int8.settings) as store:
        ids = [c.id for c in store.all_chunks()]
        before = store.chunk_vectors(ids)
    int8.close()
    kb = KnowledgeBase(settings=settings.model_copy(update={"auto_ingest": False}))
    assert kb.settings.ingest_runtime == "auto"  # the default: fp32 ONNX for three articles

    again = kb.ingest([corpus_copy])

    # unchanged documents are not re-embedded: the int8 vectors stay as they were
    assert [s.status for s in again.sources] == ["unchanged"] * 3 and again.embedded == 0
    with open_store(kb.settings) as store:
        after = store.chunk_vectors(ids)
    assert all(np.array_equal(before[i], after[i]) for i in ids)
    answer = kb.ask("How big is DeepMind's Gopher model?")  # questions: fp32 either way
    assert answer.answered and "280 billion parameter" in answer.text


def test_making_the_int8_model_prints_no_advice_to_users(
    model_cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ingest.onnx_encoder import export_onnx, quantize_onnx

    cache = tmp_path / "cache"  # a fresh cache, like a first ingest's, with the fp32 export
    cache.mkdir()
    shutil.copy(export_onnx(model_cache), cache)

    with caplog.at_level(logging.INFO):
        quantize_onnx(cache)

    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_chunks_of_several_articles_embed_in_one_pass_as_each_would_alone(
    model_cache: Path,
) -> None:
    from ingest.chunk import chunk_article
    from ingest.embed import ChunkEncoder
    from ingest.load import expand, read
    from ingest.parse import parse

    chunks = [c for p in expand([REPO / "corpus"]).pending for c in chunk_article(parse(read(p)))]
    encoder = ChunkEncoder(cache_dir=model_cache)
    seen: list[int] = []

    together = encoder.encode(chunks, seen.append)

    # one length-sorted pass over all three articles, reporting as it goes
    assert len({c.source_id for c in chunks}) == 3
    assert seen == sorted(set(seen)) and seen[-1] == len(chunks) and len(seen) > 3
    for chunk, embedded in list(zip(chunks, together))[::9]:
        [alone] = encoder.encode([chunk])
        assert float(alone.vector @ embedded.vector) > 0.99999
        assert embedded.sentence_vectors.shape == alone.sentence_vectors.shape
        assert np.min(np.sum(alone.sentence_vectors * embedded.sentence_vectors, axis=1)) > 0.99999


def test_editing_one_article_reembeds_only_its_changed_chunks(
    kb: KnowledgeBase, corpus_copy: Path
) -> None:
    kb.ingest([corpus_copy])
    article = corpus_copy / GPT_J
    source = str(article.resolve())
    before = set(_chunks_of(kb, source))
    text = article.read_text(encoding="utf-8")
    edited = text.replace(
        "as a result of exploding internet hosting prices",
        "because its electricity bill was paid in seashells",
    )
    assert edited != text
    article.write_text(edited, encoding="utf-8")

    report = kb.ingest([corpus_copy])

    statuses = {s.source.rsplit("/", 1)[-1]: s for s in report.sources}
    assert statuses[GPT_J].status == "updated"
    assert 1 <= statuses[GPT_J].embedded < statuses[GPT_J].chunks
    assert all(s.status == "unchanged" for name, s in statuses.items() if name != GPT_J)
    after = set(_chunks_of(kb, source))
    assert before - after  # the old version of the edited chunk is gone...
    hits = kb.search("exploding internet hosting prices GPT-J", k=10)
    assert all("exploding internet hosting" not in c.text for c in hits)  # ...and not retrievable
    assert any("seashells" in c.text for c in hits)


def test_forget_removes_a_source_and_its_chunks(kb: KnowledgeBase, corpus_copy: Path) -> None:
    kb.ingest([corpus_copy])
    source = str((corpus_copy / DEBATE).resolve())

    report = kb.forget(source)

    assert report.status == "removed" and report.chunks > 0
    assert _chunks_of(kb, source) == []
    assert source not in {r.source_id for r in kb.sources()}
    assert all(c.source != source for c in kb.search("hybrid models transparency guardrails", k=20))


def test_forget_accepts_a_title_and_refuses_an_unknown_source(
    kb: KnowledgeBase, corpus_copy: Path
) -> None:
    from bot import SourceNotFoundError

    kb.ingest([corpus_copy])
    assert kb.forget("The Ultimate Debate: Open Source vs. Closed Source LLMs").status == "removed"
    with pytest.raises(SourceNotFoundError, match="not in the knowledge base"):
        kb.forget("no-such-article.txt")


def test_a_file_deleted_from_an_ingested_folder_is_removed(
    kb: KnowledgeBase, corpus_copy: Path
) -> None:
    kb.ingest([corpus_copy])
    (corpus_copy / DEBATE).unlink()

    report = kb.ingest([corpus_copy])

    assert [s.status for s in report.removed] == ["removed"]
    assert len(kb.sources()) == 2


def test_bad_inputs_are_reported_and_good_files_still_land(
    web_kb: KnowledgeBase, tmp_path: Path, web_server: WebServer
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.md").write_text(
        "# Solar sails\n\nA solar sail uses the pressure of sunlight to push a spacecraft. "
        "The IKAROS probe demonstrated it in 2010.\n",
        encoding="utf-8",
    )
    (folder / "latin1.txt").write_bytes(
        "Café culture\n\nThe café served crème brûlée to visiting Müller and Søren every morning. "
        "Everyone agreed the pastry was the best in the whole town.".encode("cp1252")
    )
    (folder / "report.pdf").write_bytes(
        text_pdf(
            ["Quarterly kelp harvest report.", "Kelp yields rose by twelve percent this year."]
        )
    )
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "corrupt.pdf").write_bytes(
        b"%PDF-1.7\n1 0 obj <</Type /Catalog>> garbage without xref"
    )
    (folder / "secret.pdf").write_bytes(text_pdf(["Top secret kelp data."], password="s3cret"))
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    missing = tmp_path / "does-not-exist.txt"
    (web_server.root / "post.html").write_text(
        article_page(
            "Octopus cognition", ["Octopuses solve puzzles and open jars with their arms."] * 3
        ),
        encoding="utf-8",
    )
    inputs = [
        folder,
        missing,
        web_server.url("post.html"),
        web_server.url("missing.html"),
        "http://127.0.0.1:9/unreachable.html",
        "ftp://example.org/file.txt",
    ]

    report = web_kb.ingest(inputs)

    by_name = {s.source.rstrip("/").rsplit("/", 1)[-1]: s for s in report.sources}
    assert {n for n, s in by_name.items() if s.status == "added"} == {
        "good.md",
        "latin1.txt",
        "report.pdf",
        "post.html",
    }
    reasons = {n: s.reason for n, s in by_name.items() if s.status == "failed"}
    assert "empty" in reasons["empty.txt"]
    assert "no article text" in reasons["blank.md"] or "empty" in reasons["blank.md"]
    assert "binary" in reasons["binary.txt"]
    assert "corrupt" in reasons["corrupt.pdf"]
    assert "encrypted" in reasons["secret.pdf"]
    assert "unsupported file type .png" in reasons["image.png"]
    assert "no such file" in reasons["does-not-exist.txt"]
    assert "HTTP 404" in reasons["missing.html"]
    assert "could not connect" in reasons["unreachable.html"]
    assert "unsupported URL scheme" in reasons["file.txt"]
    failed_ids = {s.source for s in report.failed}
    assert not failed_ids & {r.source_id for r in web_kb.sources()}  # nothing partial in the store

    assert any("crème brûlée" in c.text for c in web_kb.search("café pastry", k=3))
    assert any("twelve percent" in c.text for c in web_kb.search("kelp harvest yield", k=3))


def test_url_ingest_extracts_the_article_not_the_page(
    web_kb: KnowledgeBase, web_server: WebServer
) -> None:
    (web_server.root / "octopus.html").write_text(
        article_page(
            "Octopus cognition",
            [
                "Octopuses can solve puzzles, open jars and recognise individual human faces.",
                "Each arm holds a cluster of neurons that can act with some independence from the brain.",
            ],
        ),
        encoding="utf-8",
    )
    url = web_server.url("octopus.html")

    report = web_kb.ingest([url])

    assert [s.status for s in report.sources] == ["added"]
    [record] = web_kb.sources()
    assert record.source_id == url and record.url == url
    assert "Octopus cognition" in record.title
    text = "\n".join(c.text for c in _all_chunks(web_kb))
    assert "recognise individual human faces" in text
    for chrome in (
        "LEAVE A REPLY",
        "Please enter your name here",
        "Related News",
        "Another story about cats",
        "Copyright",
    ):
        assert chrome not in text
    [top] = web_kb.search("Do octopus arms think on their own?", k=1)
    assert top.url == url and "neurons" in top.text

    assert web_kb.ingest([url]).sources[0].status == "unchanged"
