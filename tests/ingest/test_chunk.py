"""Chunking: structure-aware, exact spans, never over the model's 256-token window."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import _bound, _WordCounter, chunk_article
from ingest.embedding_model import MAX_TOKENS, count_tokens
from ingest.load import expand, read
from ingest.models import Article, Chunk
from ingest.parse import parse
from ingest.structure import structure
from tests.conftest import CORPUS, DEBATE, DOMINATE


def _article(name: str) -> Article:
    [pending] = [p for p in expand([CORPUS / name]).pending]
    return parse(read(pending))


_AWKWARD = [*"ab .,-\t\n\r\x0b\x0c\x1c\x85\u2028\u00a0\u3000\u200b\x00词한İﬁé\u0301"]
_AWKWARD += ["[MASK]", "[CLS]", "a" * 120, "\ufffd", "\ud7a3"]


def _model_tokens(chunk: Chunk) -> int:
    return count_tokens(chunk.indexed_text) + 2  # [CLS] and [SEP]


@pytest.fixture(scope="module")
def corpus_chunks() -> dict[str, list[Chunk]]:
    return {p.path.name: chunk_article(parse(read(p))) for p in expand([CORPUS]).pending if p.path}


def test_every_chunk_fits_the_window_and_is_an_exact_span(
    corpus_chunks: dict[str, list[Chunk]],
) -> None:
    for name, chunks in corpus_chunks.items():
        article = _article(name)
        assert chunks, name
        for chunk in chunks:
            assert _model_tokens(chunk) <= MAX_TOKENS
            assert chunk.text.strip()
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert chunk.sentences and len(chunk.sentence_sections) == len(chunk.sentences)
            for span in chunk.sentences:
                assert chunk.text[span.start : span.end].strip()


def test_chunks_are_not_one_liners_without_context(corpus_chunks: dict[str, list[Chunk]]) -> None:
    for chunks in corpus_chunks.values():
        for chunk in chunks:
            assert _model_tokens(chunk) >= 40, chunk.text


def test_bullet_sections_keep_their_heading(corpus_chunks: dict[str, list[Chunk]]) -> None:
    chunks = corpus_chunks[DEBATE]
    [holder] = [c for c in chunks if "- Resource Demands:" in c.text]
    assert "Challenges\n\n- Resource Demands:" in holder.text
    index = next(i for i, s in enumerate(holder.sentence_texts) if "Resource Demands" in s)
    assert holder.sentence_sections[index].endswith("Challenges")
    assert "Open Source LLMs" in holder.sentence_sections[index]


def test_chunks_record_title_section_and_position(corpus_chunks: dict[str, list[Chunk]]) -> None:
    chunks = corpus_chunks[DOMINATE]
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert {c.title for c in chunks} == {
        "Open Source vs. Closed Source AI: Which LLM Model Will Dominate?"
    }
    assert any("Hybrid Approach" in c.section for c in chunks)
    assert all(c.header.startswith(c.title) for c in chunks)


def test_chunk_ids_are_deterministic(corpus_chunks: dict[str, list[Chunk]]) -> None:
    again = chunk_article(_article(DEBATE))
    assert [c.id for c in again] == [c.id for c in corpus_chunks[DEBATE]]


def test_a_huge_paragraph_and_a_huge_sentence_are_split_within_the_window() -> None:
    sentence = "Open models let researchers inspect weights and reproduce results. "
    endless = "and " * 600 + "that is all."
    text = "A title\n\n" + sentence * 80 + "\n\n" + endless
    article = _from_text(text)

    chunks = chunk_article(article)

    assert len(chunks) > 5
    for chunk in chunks:
        assert _model_tokens(chunk) <= MAX_TOKENS
        assert article.text[chunk.start : chunk.end] == chunk.text


def _from_text(text: str, markdown: bool = False) -> Article:
    laid_out = structure(text, markdown=markdown)
    return Article(
        source_id="test",
        kind="text",
        location="test",
        title=laid_out.title or "Test",
        text=laid_out.text,
        blocks=laid_out.blocks,
        content_hash="x",
    )


def test_markdown_headings_and_lists_are_structure() -> None:
    article = _from_text(
        "# Guide\n\nIntro paragraph that is\nsoft wrapped.\n\n## Setup\n\n* one\n* two\n\n### Details\n\nMore [link](http://x) text.",
        markdown=True,
    )
    kinds = [(b.kind, b.level, b.text) for b in article.blocks]
    assert kinds == [
        ("heading", 1, "Guide"),
        ("paragraph", 0, "Intro paragraph that is soft wrapped."),
        ("heading", 2, "Setup"),
        ("list_item", 0, "- one"),
        ("list_item", 0, "- two"),
        ("heading", 3, "Details"),
        ("paragraph", 0, "More link text."),
    ]


def test_a_chunk_that_opens_with_a_list_item_keeps_its_bullet() -> None:
    items = "\n".join(f"- Item {i}: {'a fairly long explanation of it ' * 12}" for i in range(6))
    article = _from_text(f"# Guide\n\nThe recipe has these improvements:\n\n{items}", markdown=True)

    chunks = chunk_article(article)

    assert len(chunks) > 1
    for chunk in chunks[1:]:
        assert chunk.text.startswith("- Item ")
        assert chunk.text[chunk.sentences[0].start :].startswith("Item ")
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert _model_tokens(chunk) <= MAX_TOKENS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(
                alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                min_size=1,
                max_size=400,
            ),
            st.sampled_from(
                ["## Heading", "- item one", "• bullet", "Short heading", "", "1. step"]
            ),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_any_text_chunks_within_the_window(lines: list[str], markdown: bool) -> None:
    article = _from_text("\n".join(lines), markdown=markdown)
    for chunk in chunk_article(article):
        assert _model_tokens(chunk) <= MAX_TOKENS
        assert article.text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences


@pytest.mark.parametrize(
    "run",
    [
        "a" * 200_000,  # no spaces, no punctuation: WordPiece reads it as one [UNK]
        "".join(str(n) for n in range(40_000)),  # digits only
        "词" * 30_000,  # one token per character
        ("x" * 150 + " ") * 2_000,  # many over-long words
    ],
)
def test_text_without_spaces_is_split_within_the_window(run: str) -> None:
    article = _from_text("A title\n\n" + run)

    chunks = chunk_article(article)

    assert len(chunks) > 10
    for chunk in chunks:
        assert _model_tokens(chunk) <= MAX_TOKENS
        assert 0 < len(chunk.text) <= 2_000
        assert article.text[chunk.start : chunk.end] == chunk.text
    assert sum(len(c.text) for c in chunks) >= len(run.replace(" ", "")) * 0.99


def test_a_very_long_title_leaves_room_for_the_passage() -> None:
    title = "标题" * 150  # 300 characters, 300 tokens
    article = _from_text("Kelp\n\nKelp forests grow fast. They shelter many fish. " * 40)
    article = Article(**{**article.__dict__, "title": title})

    chunks = chunk_article(article)

    assert chunks and all(_model_tokens(chunk) <= MAX_TOKENS for chunk in chunks)
    assert "Kelp forests" in chunks[0].text


# Chunking large text in linear time rests on two facts about the tokenizer, checked here.
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120) | st.lists(st.sampled_from(_AWKWARD), max_size=30).map("".join))
def test_counting_word_by_word_gives_the_tokenizers_count(text: str) -> None:
    assert _WordCounter(count_tokens)(text) == count_tokens(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120) | st.lists(st.sampled_from(_AWKWARD), max_size=30).map("".join))
def test_a_slices_bound_is_at_least_its_tokens_and_bounds_add_up(text: str) -> None:
    assert count_tokens(text) <= _bound(text)
    cut = len(text) // 2
    assert count_tokens(text) <= _bound(text[:cut]) + _bound(text[cut:])


def _counting(texts: list[str]) -> Callable[[str], int]:
    def counter(text: str) -> int:
        texts.append(text)
        return count_tokens(text)

    return counter


def test_each_distinct_word_is_tokenized_once() -> None:
    paragraph = (
        "Kelp forests grow up to half a metre a day in the summer months. "
        "Sea otters keep the urchins that eat kelp in check! Are the forests shrinking?"
    )
    article = _from_text("Kelp\n\n" + "\n\n".join([paragraph] * 2_000))  # 300 KB
    tokenized: list[str] = []

    chunks = chunk_article(article, counter=_counting(tokenized))

    assert len(chunks) > 100
    assert all(_model_tokens(chunk) <= MAX_TOKENS for chunk in chunks[:50])
    assert sum(map(len, tokenized)) < 1_000  # not the 300 KB, twice over


def test_a_long_line_without_spaces_is_cut_without_being_tokenized() -> None:
    run = "".join(chr(ord("a") + (i * 7919) % 26) for i in range(300_000))
    article = _from_text("A title\n\n" + run)
    tokenized: list[str] = []

    chunks = chunk_article(article, counter=_counting(tokenized))

    assert sum(map(len, tokenized)) < 1_000  # the title, headers; never 100-character slices
    assert "".join(chunk.text for chunk in chunks) == run
    for chunk in chunks:
        assert 0 < len(chunk.text) <= 400
        assert _model_tokens(chunk) <= MAX_TOKENS


def test_a_heading_too_long_for_the_window_is_kept_as_text_and_cut() -> None:
    words = " ".join(f"kelp{n}" for n in range(400))
    article = _from_text(
        f"# Kelp\n\nKelp forests grow fast.\n\n## {words}\n\nSea otters eat urchins.\n\n"
        f"## {'a' * 200_000}\n\nThe end of the article.",
        markdown=True,
    )

    chunks = chunk_article(article)

    passages = "".join(chunk.text for chunk in chunks)
    assert "kelp0 kelp1" in passages and "kelp399" in passages  # was dropped
    assert passages.count("a" * 100) >= 1_999  # was one 200,000-character passage
    for chunk in chunks:
        assert _model_tokens(chunk) <= MAX_TOKENS
        assert len(chunk.text) <= 2_000 and len(chunk.section) <= 300


def test_no_sentence_starts_with_a_closing_bracket_or_a_comma() -> None:
    from ingest.chunk import _sentence_spans

    text = (
        "Reference text may contain bracketed citation numbers (e.g. [42]) which we "
        "recommend users remove for downstream applications. The next sentence stands alone."
    )
    sentences = [text[a:b] for a, b in _sentence_spans(text, "en")]

    assert sentences == [
        "Reference text may contain bracketed citation numbers (e.g. [42]) which we "
        "recommend users remove for downstream applications.",
        "The next sentence stands alone.",
    ]
