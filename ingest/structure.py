"""Stage 3: recover an article's structure (title, headings, list items, paragraphs).

The input is Markdown (from .md files and HTML extraction, parsed by
:mod:`ingest.markdown`) or cleaned plain text (from .txt files and PDFs). The
output is a list of blocks and the canonical article text they were laid out
in, so every block, chunk and citation is an exact span of one string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.clean import is_chrome, is_tail_marker, leading_date
from ingest.markdown import Draft as _MarkdownDraft
from ingest.markdown import markdown_drafts
from ingest.models import Block, BlockKind, Link

_LIST_ITEM = re.compile(r"^(?:[-*+•·▪◦●○■□➢➤►▸‣⁃]|\d{1,3}[.)])\s+(.*)$")
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 14


@dataclass(frozen=True)
class Structured:
    text: str
    blocks: tuple[Block, ...]
    title: str | None
    published: str | None = None
    """A publication date that stood alone at the top of a Markdown article (removed)."""


@dataclass
class _Draft:
    kind: BlockKind
    text: str
    level: int = 0
    links: list[Link] | None = None


def structure(text: str, markdown: bool) -> Structured:
    """Split text into blocks and lay them out as the canonical article text.

    Headings get a level: 1 for the title (the first line, when it reads as a
    heading), 2 for sections, 3 for sub-sections (in plain text: a heading
    directly followed by a list, such as "Advantages" above its bullet points).
    Markdown is parsed as Markdown (tables into rows, code verbatim, links
    kept apart); plain text is expected to be cleaned already.
    """
    if markdown:
        drafts, published = _markdown(text)
        return _layout(drafts, published)
    drafts = _plain_drafts(text)
    _assign_plain_levels(drafts)
    return _layout(drafts)


_TAIL_FRACTION = 0.6  # "Related posts" and comment forms count only in the last 40%


def _markdown(text: str) -> tuple[list[_Draft], str | None]:
    """Drafts of a Markdown article, without page chrome or a lone leading date."""
    parsed: list[_MarkdownDraft] = markdown_drafts(normalise_newlines(text))
    drafts: list[_Draft] = []
    published: str | None = None
    for index, draft in enumerate(parsed):
        prose = draft.kind != "code"
        if prose and index >= _TAIL_FRACTION * len(parsed) and is_tail_marker(draft.text):
            break
        if prose and is_chrome(draft.text):
            continue
        if draft.kind == "paragraph" and not drafts and published is None:
            date = leading_date(draft.text)
            if date is not None:
                published = date
                continue
        drafts.append(_Draft(draft.kind, draft.text, draft.level, list(draft.links)))
    return drafts, published


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _plain_drafts(text: str) -> list[_Draft]:
    """One block per line, unless the text is hard-wrapped (then per blank-line group)."""
    lines = text.split("\n")
    wrapped = _is_hard_wrapped(lines)
    drafts: list[_Draft] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            drafts.append(_Draft("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for line in lines:
        if not line:
            flush()
            continue
        item = _LIST_ITEM.match(line)
        if item and item.group(1):
            flush()
            drafts.append(_Draft("list_item", item.group(1).strip()))
        elif wrapped and drafts and drafts[-1].kind == "list_item" and not paragraph:
            drafts[-1].text += " " + line  # continuation of a wrapped bullet
        elif wrapped:
            paragraph.append(line)
        else:
            drafts.append(_Draft("paragraph", line))
    flush()
    if wrapped:
        # A short lone line between blank lines can still be a heading.
        for draft in drafts:
            draft.text = draft.text.strip()
    return drafts


def _is_hard_wrapped(lines: list[str]) -> bool:
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < 8:
        return False
    p90 = lengths[int(0.9 * (len(lengths) - 1))]
    return p90 <= 100


def _assign_plain_levels(drafts: list[_Draft]) -> None:
    for index, draft in enumerate(drafts):
        following = drafts[index + 1] if index + 1 < len(drafts) else None
        if draft.kind != "paragraph" or following is None:
            continue
        if not _reads_as_heading(draft.text, following.kind == "list_item"):
            continue
        draft.kind = "heading"
        if index == 0:
            draft.level = 1
        elif following.kind == "list_item":
            draft.level = 3
        else:
            draft.level = 2


def _reads_as_heading(line: str, before_list: bool) -> bool:
    if len(line) > _MAX_HEADING_CHARS or len(line.split()) > _MAX_HEADING_WORDS:
        return False
    if line[0].islower() or line[-1] in ".!,;…\"”'’)":
        return False
    return not (line.endswith(":") and not before_list)


def _layout(drafts: list[_Draft], published: str | None = None) -> Structured:
    parts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    previous: BlockKind | None = None
    for draft in drafts:
        text = draft.text.strip("\n") if draft.kind == "code" else draft.text.strip()
        if not text.strip():
            continue
        rendered = f"- {text}" if draft.kind == "list_item" else text
        if parts:
            tight = previous == draft.kind and (
                draft.kind == "list_item" or (draft.kind == "table_row" and draft.level == 0)
            )
            separator = "\n" if tight else "\n\n"
            parts.append(separator)
            offset += len(separator)
        links = tuple(link for link in draft.links or () if link.text in rendered)
        blocks.append(
            Block(draft.kind, rendered, offset, offset + len(rendered), draft.level, links)
        )
        parts.append(rendered)
        offset += len(rendered)
        previous = draft.kind
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return Structured("".join(parts), tuple(blocks), title, published)
