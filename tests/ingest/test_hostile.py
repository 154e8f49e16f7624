"""Hostile documents: deep nesting, oversized files, random bytes in every format."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import chunk_article
from ingest.clean import clean
from ingest.embedding_model import MAX_TOKENS, count_tokens
from ingest.errors import KnowledgeBaseError, UnreadableSourceError
from ingest.load import Limits, expand, read
from ingest.models import RawSource
from ingest.parse import parse
from tests.documents import article_page

FACT = "Kelp forests grow up to half a metre a day in the summer months."


def _html(markup: str) -> RawSource:
    return RawSource("deep", "url", "http://example.org/deep.html", markup.encode(), "text/html")


def test_a_page_nested_ten_thousand_levels_deep_keeps_its_paragraph() -> None:
    page = article_page(
        "Kelp forests", [FACT, "Sea otters keep the urchins that eat kelp in check."]
    )
    head, body = page.split("<body>", 1)
    deep = (
        head + "<body>" + "<div>" * 10_000 + body.replace("</body>", "</div>" * 10_000 + "</body>")
    )

    article = parse(_html(deep))

    assert FACT in article.text and "Sea otters" in article.text
    assert "LEAVE A REPLY" not in article.text  # still the article, not the page


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text((FACT + "\n") * 20_000, encoding="utf-8")  # about 1.3 MB
    [pending] = expand([big]).pending

    try:
        read(pending, limits=Limits(max_file_bytes=2**20))
    except UnreadableSourceError as exc:
        assert "the file is too large (1.2 MB; the limit is 1 MB)" in exc.reason
    else:
        raise AssertionError("the file was read")
    assert read(pending, limits=Limits(max_file_bytes=2 * 2**20)).data


FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FEW
@given(
    st.binary(max_size=2_000),
    st.sampled_from(["text/plain", "text/markdown", "text/html", "application/pdf"]),
)
def test_any_bytes_in_any_format_parse_or_fail_with_a_reason(data: bytes, media_type: str) -> None:
    raw = RawSource("x", "url", "http://example.org/x", data, media_type)
    try:
        article = parse(raw)
    except KnowledgeBaseError:
        return
    for chunk in chunk_article(article):
        assert chunk.text.strip()
        assert count_tokens(chunk.indexed_text) + 2 <= MAX_TOKENS


@FEW
@given(st.text(max_size=3_000))
def test_cleaning_any_text_gives_text(text: str) -> None:
    cleaned = clean(text)
    assert isinstance(cleaned.text, str)
    assert cleaned.text == cleaned.text.strip()


@FEW
@given(
    st.lists(
        st.one_of(
            st.text(min_size=1, max_size=300),
            st.text(alphabet="abcdefghij0123456789", min_size=100, max_size=3_000),  # no spaces
            st.sampled_from(["## Heading", "- item", "", "1. step", "<div>", "\u200b" * 50]),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["text/plain", "text/markdown", "text/html"]),
)
def test_any_document_chunks_into_non_empty_passages_within_the_window(
    lines: list[str], media_type: str
) -> None:
    data = "\n\n".join(lines).encode("utf-8", "surrogatepass")
    try:
        article = parse(RawSource("x", "text", "x", data, media_type))
    except KnowledgeBaseError:
        return
    for chunk in chunk_article(article):
        assert chunk.text.strip() and chunk.sentences
        assert count_tokens(chunk.indexed_text) + 2 <= MAX_TOKENS
        assert article.text[chunk.start : chunk.end] == chunk.text
