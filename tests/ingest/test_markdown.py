"""Markdown parsed as Markdown: rows with their header, verbatim code, links apart, no raw HTML."""

from __future__ import annotations

from pathlib import Path

from ingest.chunk import chunk_article
from ingest.embedding_model import MAX_TOKENS, count_tokens
from ingest.models import Link, RawSource
from ingest.parse import PIPELINE_VERSION, parse

ARTICLE = Path(__file__).resolve().parent.parent / "data" / "local-models.md"


def _parse(text: str, media_type: str = "text/markdown"):  # type: ignore[no-untyped-def]
    return parse(RawSource("doc", "text", "doc.md", text.encode("utf-8"), media_type))


def test_front_matter_fills_title_date_description_and_tags() -> None:
    article = parse(RawSource("doc", "file", str(ARTICLE), ARTICLE.read_bytes(), "text/markdown"))

    assert article.title == "Running open models locally"
    assert article.published == "2024-03-05"
    assert article.description == "What it takes to run an open-weight model on a laptop."
    assert article.tags == ("llm", "local", "ollama")
    assert "title:" not in article.text and "tags:" not in article.text


def test_a_generic_first_heading_is_no_title_and_the_file_name_is() -> None:
    text = "# Summary\n\nThe okapi dataset holds 15,000 records written by volunteers.\n"
    generic = parse(
        RawSource("o", "file", "/docs/okapi-dataset.md", text.encode(), "text/markdown")
    )
    named = _parse(text.replace("Summary", "The Okapi Dataset"))

    assert generic.title == "Okapi dataset"
    assert named.title == "The Okapi Dataset"


def test_each_table_row_is_a_unit_that_carries_its_header() -> None:
    article = parse(RawSource("doc", "file", str(ARTICLE), ARTICLE.read_bytes(), "text/markdown"))
    rows = [b.text for b in article.blocks if b.kind == "table_row"]

    assert "Model: Mistral 7B · Download: 4.1 GB · Licence: Apache 2.0" in rows
    # An HTML table inside Markdown becomes rows the same way.
    assert "Runtime: LM Studio · Default port: 1234" in rows
    chunks = chunk_article(article)
    row_chunks = [c for c in chunks if c.text.startswith("Model: Phi-2")]
    assert (
        len(row_chunks) == 1
        and row_chunks[0].text == "Model: Phi-2 · Download: 1.7 GB · Licence: MIT"
    )
    assert row_chunks[0].section == "Download sizes"


def test_code_blocks_stay_verbatim_as_their_own_unit() -> None:
    text = "# Setup\n\nInstall it:\n\n```python\ndef main():\n    return  42\n```\n\nThen run it.\n"
    article = _parse(text)
    code = [b for b in article.blocks if b.kind == "code"]

    assert [b.text for b in code] == ["def main():\n    return  42"]  # indentation, double space
    chunks = chunk_article(article)
    assert any(c.text == "def main():\n    return  42" for c in chunks)
    assert all("```" not in c.text for c in chunks)


def test_link_text_stays_in_the_passage_and_the_url_in_chunk_metadata() -> None:
    article = _parse("# Links\n\nRead [the Ollama docs](https://ollama.com/docs) first, please.\n")
    chunks = chunk_article(article)

    assert "Read the Ollama docs first, please." in article.text
    assert "https://ollama.com" not in article.text
    assert chunks[0].links == (Link("the Ollama docs", "https://ollama.com/docs"),)


def test_raw_html_never_becomes_passage_text() -> None:
    text = (
        "# Page\n\n<style>.x { color: red; }</style>\n\n"
        '<div align="center"><img src="logo.png" alt="logo"></div>\n\n'
        "<!-- a comment -->\n\n"
        "Plain prose with <sup>1</sup> a footnote mark and a <br> break.\n\n"
        '<p align="center">A centred paragraph keeps its text.</p>\n'
    )
    article = _parse(text)

    assert "<" not in article.text and "color: red" not in article.text
    assert "Plain prose with 1 a footnote mark and a break." in article.text
    assert "A centred paragraph keeps its text." in article.text


def test_myst_roles_keep_their_text() -> None:
    article = _parse("# Terms\n\nAn {term}`LLM` needs {ref}`data<rr-licensing-data>` to learn.\n")
    assert "An LLM needs data to learn." in article.text


def test_html_pages_keep_tables_as_rows_and_links_apart() -> None:
    html = (
        "<html><head><title>Sizes</title></head><body><article><h1>Sizes</h1>"
        "<p>The downloads of the open models we tried differ a lot in size, as the table shows.</p>"
        "<table><tr><th>Model</th><th>Download</th></tr><tr><td>Mistral 7B</td><td>4.1 GB</td></tr>"
        "<tr><td>Phi-2</td><td>1.7 GB</td></tr></table>"
        "<p>See <a href='https://example.org/docs'>the docs</a> for the rest of the details here.</p>"
        "</article></body></html>"
    )
    article = _parse(html, "text/html")

    rows = [b.text for b in article.blocks if b.kind == "table_row"]
    assert rows == ["Model: Mistral 7B · Download: 4.1 GB", "Model: Phi-2 · Download: 1.7 GB"]
    assert "https://example.org" not in article.text
    assert any(Link("the docs", "https://example.org/docs") in b.links for b in article.blocks)


def test_an_html_table_in_markdown_with_blank_lines_between_rows_keeps_its_header() -> None:
    text = (
        "# Leaderboard\n\nThe ratings after a month of votes from the arena's users.\n\n"
        "<table>\n<tr> <th>Rank</th> <th>Model</th> <th>Elo</th> </tr>\n\n"
        "<tr> <td>1</td> <td><a href='https://example.org/a'>GPT-4</a></td> <td>1225</td> </tr>\n\n"
        "<tr> <td>2</td> <td>Claude-v1</td> <td>1195</td> </tr>\n</table>\n\n"
        "<p>Votes were collected over four weeks in the wild.</p>\n\nAfter the table.\n"
    )
    article = _parse(text)

    rows = [b.text for b in article.blocks if b.kind == "table_row"]
    assert rows == ["Rank: 1 · Model: GPT-4 · Elo: 1225", "Rank: 2 · Model: Claude-v1 · Elo: 1195"]
    assert "Votes were collected over four weeks in the wild." in article.text
    assert "After the table." in article.text


def test_big_tables_and_code_still_fit_the_window() -> None:
    rows = "\n".join(f"| Model {i} | {'very long cell text ' * 30} |" for i in range(20))
    code = "\n".join(f"    value_{i} = compute({i}, 'argument number {i}')" for i in range(200))
    text = f"# Big\n\n| Name | Notes |\n| --- | --- |\n{rows}\n\n```\n{code}\n```\n"
    article = _parse(text)
    chunks = chunk_article(article)

    assert chunks
    for chunk in chunks:
        assert count_tokens(chunk.indexed_text) + 2 <= MAX_TOKENS
        assert chunk.text == article.text[chunk.start : chunk.end]


def test_the_pipeline_version_was_bumped_for_the_new_parser() -> None:
    assert int(PIPELINE_VERSION) >= 3


def test_an_escaped_backslash_ending_a_line_is_a_line_break_not_text() -> None:
    article = _parse(
        "# Licence\n\nContact us if you find a violation.\\\\\r\nThe code is Apache 2.0.\n"
    )

    assert "Contact us if you find a violation. The code is Apache 2.0." in article.text
    assert "\\" not in article.text


def test_a_first_row_of_bold_or_head_cells_is_the_tables_header() -> None:
    text = (
        "# Models\n\nThe table compares the models we trained and their costs.\n\n"
        '<table class="tg"><tbody>\n'
        '<tr><td class="tg-head"><span style="font-weight:bold;">Model Name</span></td>'
        '<td class="tg-head"><span style="font-weight:bold;">Vicuna</span></td></tr>\n'
        '<tr><td class="tg-body">Training cost<br>(13B)</td>'
        '<td class="tg-body">$300 (training)</td></tr>\n'
        "</tbody></table>\n\n"
        "<table><tr><td><b>Size</b></td><td><strong>Speed</strong></td></tr>"
        "<tr><td>7B</td><td>fast</td></tr></table>\n\n"
        "<table><tr><td>plain</td><td><b>bold</b> and not</td></tr>"
        "<tr><td>7B</td><td>fast</td></tr></table>\n"
    )
    rows = [b.text for b in _parse(text).blocks if b.kind == "table_row"]

    assert rows == [
        "Model Name: Training cost (13B) · Vicuna: $300 (training)",
        "Size: 7B · Speed: fast",
        "plain · bold and not",  # no header: each row as it is
        "7B · fast",
    ]
