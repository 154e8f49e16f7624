"""Stage 3: recover an article's structure (title, headings, list items, paragraphs).

The input is cleaned text: Markdown (from .md files and HTML extraction) or
plain text (from .txt files and PDFs). The output is a list of blocks and the
canonical article text they were laid out in, so every block, chunk and
citation is an exact span of one string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.models import Block, BlockKind

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_LIST_ITEM = re.compile(r"^(?:[-*+•·▪◦●○■□➢➤►▸‣⁃]|\d{1,3}[.)])\s+(.*)$")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 14


@dataclass(frozen=True)
class Structured:
    text: str
    blocks: tuple[Block, ...]
    title: str | None


@dataclass
class _Draft:
    kind: BlockKind
    text: str
    level: int = 0


def structure(text: str, markdown: bool) -> Structured:
    """Split cleaned text into blocks and lay them out as the canonical article text.

    Headings get a level: 1 for the title (the first line, when it reads as a
    heading), 2 for sections, 3 for sub-sections (in plain text: a heading
    directly followed by a list, such as "Advantages" above its bullet points).
    """
    drafts = _markdown_drafts(text) if markdown else _plain_drafts(text)
    if not markdown:
        _assign_plain_levels(drafts)
    return _layout(drafts)


def _markdown_drafts(text: str) -> list[_Draft]:
    drafts: list[_Draft] = []
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph:
            drafts.append(_Draft("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        line = _MD_LINK.sub(r"\1", _MD_IMAGE.sub("", line)).strip()
        if in_fence:
            if line:
                paragraph.append(line)
            continue
        if not line:
            flush()
            continue
        heading = _MD_HEADING.match(line)
        item = _LIST_ITEM.match(line)
        if heading and heading.group(2):
            flush()
            level = min(len(heading.group(1)), 3)
            drafts.append(_Draft("heading", _strip_emphasis(heading.group(2)), level))
        elif item and item.group(1):
            flush()
            drafts.append(_Draft("list_item", item.group(1).strip()))
        else:
            paragraph.append(line)
    flush()
    return drafts


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


def _strip_emphasis(text: str) -> str:
    return re.sub(r"(\*\*|__|\*|_)(.+?)\1", r"\2", text).strip()


def _layout(drafts: list[_Draft]) -> Structured:
    parts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    previous: BlockKind | None = None
    for draft in drafts:
        text = draft.text.strip()
        if not text:
            continue
        rendered = f"- {text}" if draft.kind == "list_item" else text
        if parts:
            separator = "\n" if previous == "list_item" and draft.kind == "list_item" else "\n\n"
            parts.append(separator)
            offset += len(separator)
        blocks.append(Block(draft.kind, rendered, offset, offset + len(rendered), draft.level))
        parts.append(rendered)
        offset += len(rendered)
        previous = draft.kind
    title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), None)
    return Structured("".join(parts), tuple(blocks), title)
