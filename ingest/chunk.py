"""Stage 4: cut an article into passages that fit the embedding model's window.

Structure first: a chunk never mixes the end of one top-level section with the
start of another, headings and list items stay with their section, and tiny
neighbouring sections (a heading and one line) are merged rather than left as
one-line chunks. Sizes are counted with the model's own tokenizer, with the
contextual header ("title / section") that is embedded along with the passage,
so no chunk is ever silently truncated by the model.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sentencex

from ingest.embedding_model import MAX_TOKENS, MODEL_NAME, SENTENCE_VECTORS, count_tokens
from ingest.models import Article, Block, Chunk, Span

SECTION_SEPARATOR = " › "
_WORD = re.compile(r"\S+")
_MAX_HEADER_CHARS = 300  # keeps room for the passage even under a very long title
_MAX_HEADER_TOKENS = MAX_TOKENS // 4  # ...in any script (300 CJK characters are 300 tokens)
MIN_SECTION_TOKENS = 64
"""Sections smaller than this are merged with their neighbours (same parent)."""
_SPECIAL_TOKENS = 2  # [CLS] and [SEP]


@dataclass(frozen=True)
class ChunkerSettings:
    max_tokens: int = MAX_TOKENS
    """Hard limit per chunk, header and special tokens included."""
    target_tokens: int = 200
    """Preferred size; a section that needs several chunks is split evenly below this."""
    language: str = "en"


@dataclass
class _Unit:
    """Smallest piece the packer moves around: a heading, a sentence, a list item."""

    start: int
    end: int
    tokens: int
    is_heading: bool = False
    joins_previous: bool = False  # a sentence continuing the same block
    section: str = ""


@dataclass
class _Section:
    path: tuple[str, ...]
    """Headings above the section; embedded in the chunk header."""
    parent: str
    units: list[_Unit] = field(default_factory=list)
    label: str | None = None
    """What citations show as the section (defaults to the path)."""
    standalone: bool = False
    """A table row or code block: a chunk of its own, never merged with prose."""

    @property
    def tokens(self) -> int:
        return sum(u.tokens for u in self.units)


def chunk_article(
    article: Article,
    settings: ChunkerSettings | None = None,
    counter: Callable[[str], int] = count_tokens,
) -> list[Chunk]:
    """Cut ``article`` into chunks; each chunk's text is an exact span of ``article.text``."""
    settings = settings or ChunkerSettings()
    sections = _sections(article, settings, counter)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    block_ends = [block.end for block in article.blocks]
    for section, units in _fit(
        _pack(sections, article.title, settings, counter), article, settings, counter
    ):
        start, end = units[0].start, units[-1].end
        text = article.text[start:end]
        header = _header(article.title, section.path, counter)
        sentences = tuple(Span(u.start - start, u.end - start) for u in units if not u.is_heading)
        sentence_sections = tuple(u.section for u in units if not u.is_heading)
        if not sentences:
            continue
        indexed = f"{header}\n{text}" if header else text
        links = tuple(
            dict.fromkeys(
                link
                for block in _overlapping(article.blocks, block_ends, start, end)
                for link in block.links
                if link.text in text
            )
        )
        occurrence = seen.get(indexed, 0)
        seen[indexed] = occurrence + 1
        chunks.append(
            Chunk(
                id=chunk_id(article.source_id, indexed, occurrence),
                source_id=article.source_id,
                title=article.title,
                section=section.label
                if section.label is not None
                else SECTION_SEPARATOR.join(section.path),
                text=text,
                start=start,
                end=end,
                position=len(chunks),
                header=header,
                sentences=sentences,
                sentence_sections=sentence_sections,
                links=links,
            )
        )
    return chunks


def _fit(
    groups: Iterator[tuple[_Section, list[_Unit]]],
    article: Article,
    settings: ChunkerSettings,
    counter: Callable[[str], int],
) -> Iterator[tuple[_Section, list[_Unit]]]:
    """Check each group's exact token count (separators included) and halve any that overflow."""
    for section, units in groups:
        stack = [units]
        while stack:
            part = stack.pop()
            text = article.text[part[0].start : part[-1].end]
            header = _header(article.title, section.path, counter)
            size = counter(f"{header}\n{text}" if header else text) + _SPECIAL_TOKENS
            if size <= settings.max_tokens or len(part) == 1:
                yield section, part
            else:
                middle = len(part) // 2
                stack.extend([part[middle:], part[:middle]])


def _overlapping(
    blocks: tuple[Block, ...], ends: list[int], start: int, end: int
) -> Iterator[Block]:
    """The blocks (in text order, not overlapping each other) that overlap [start, end)."""
    for i in range(bisect.bisect_right(ends, start), len(blocks)):
        if blocks[i].start >= end:
            break
        yield blocks[i]


def chunk_id(source_id: str, indexed_text: str, occurrence: int = 0) -> str:
    """Deterministic id: the same text of the same source always gets the same id."""
    key = "\x1f".join((MODEL_NAME, SENTENCE_VECTORS, source_id, indexed_text, str(occurrence)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _header(title: str, path: tuple[str, ...], counter: Callable[[str], int]) -> str:
    """Title and section path, cut so it never takes more than a quarter of the window."""
    header = SECTION_SEPARATOR.join((title, *path)) if title else SECTION_SEPARATOR.join(path)
    header = header[:_MAX_HEADER_CHARS]
    if counter(header) <= _MAX_HEADER_TOKENS:
        return header
    low, high = 0, len(header)  # the longest prefix within the budget
    while low < high:
        middle = (low + high + 1) // 2
        if counter(header[:middle]) <= _MAX_HEADER_TOKENS:
            low = middle
        else:
            high = middle - 1
    return header[:low]


def _sections(
    article: Article, settings: ChunkerSettings, counter: Callable[[str], int]
) -> list[_Section]:
    sections: list[_Section] = [_Section((), "")]
    top: str | None = None
    for block in article.blocks:
        if block.kind == "heading":
            if block.level <= 1 and block.start == 0:
                continue  # the title is in every chunk's header already
            name = block.text.rstrip(":").strip()
            if block.level <= 2:
                top = name
                path: tuple[str, ...] = (name,)
            else:
                path = (top, name) if top else (name,)
            sections.append(_Section(path, top or block.text))
            sections[-1].units.append(
                _Unit(block.start, block.end, counter(block.text), is_heading=True)
            )
            continue
        current = sections[-1]
        label = SECTION_SEPARATOR.join(current.path)
        if block.kind in ("table_row", "code"):
            # One retrievable unit per table row and per code block, under its section.
            units = (_code_units if block.kind == "code" else _block_units)(
                block, settings, counter, label
            )
            sections.append(_Section(current.path, current.parent, units, standalone=True))
            continue
        if current.standalone:
            current = _Section(current.path, current.parent)
            sections.append(current)
        current.units.extend(_block_units(block, settings, counter, label))
    return [s for s in sections if any(not u.is_heading for u in s.units)]


def _code_units(
    block: Block, settings: ChunkerSettings, counter: Callable[[str], int], section: str
) -> list[_Unit]:
    """A code block whole when it fits the window, else line by line (verbatim either way)."""
    budget = settings.max_tokens - _MAX_HEADER_TOKENS - _SPECIAL_TOKENS - 1
    tokens = counter(block.text)
    if tokens <= budget and _UNREADABLE_RUN.search(block.text) is None:
        return [_Unit(block.start, block.end, tokens, section=section)]
    units: list[_Unit] = []
    offset = 0
    limit = settings.max_tokens // 2
    for line in block.text.split("\n"):
        begin = offset + (len(line) - len(line.lstrip()))
        end = offset + len(line.rstrip())
        offset += len(line) + 1
        if end <= begin:
            continue
        piece = block.text[begin:end]
        size = counter(piece)
        if size <= limit and _UNREADABLE_RUN.search(piece) is None:
            spans = [(begin, end, size)]
        else:
            spans = _split_words(piece, begin, limit, counter)
        for s, e, t in spans:
            units.append(
                _Unit(
                    block.start + s, block.start + e, t, joins_previous=bool(units), section=section
                )
            )
    return units


def _block_units(
    block: Block, settings: ChunkerSettings, counter: Callable[[str], int], section: str
) -> list[_Unit]:
    """Sentences of a paragraph or list item; an over-long sentence is cut by words."""
    limit = settings.max_tokens // 2
    units: list[_Unit] = []
    text = block.text
    skip = 2 if block.kind == "list_item" and text.startswith("- ") else 0
    for start, end in _sentence_spans(text[skip:], settings.language):
        start, end = start + skip, end + skip
        piece = text[start:end]
        tokens = counter(piece)
        fits = tokens <= limit and _UNREADABLE_RUN.search(piece) is None
        spans = [(start, end, tokens)] if fits else _split_words(piece, start, limit, counter)
        for s, e, t in spans:
            units.append(
                _Unit(
                    block.start + s, block.start + e, t, joins_previous=bool(units), section=section
                )
            )
    return units


def _sentence_spans(text: str, language: str) -> list[tuple[int, int]]:
    spans = []
    for boundary in sentencex.get_sentence_boundaries(language, text):
        start, end = int(boundary["start_index"]), int(boundary["end_index"])
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            spans.append((start, end))
    return spans or [(0, len(text))]


_MAX_WORD_CHARS = 100
"""WordPiece reads a longer run without spaces or punctuation as one [UNK] token."""
_UNREADABLE_RUN = re.compile(r"[^\s!-/:-@\[-`{-~]{" + str(_MAX_WORD_CHARS + 1) + ",}")
"""Such a run counts as 1 token however long it is, so token counts alone cannot bound it."""


def _split_words(
    text: str, offset: int, limit: int, counter: Callable[[str], int]
) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence into pieces of at most ``limit`` tokens, in one pass.

    Words are counted one at a time (the tokenizer splits at whitespace, so
    counts add up); a word that alone is too long, or longer than WordPiece
    reads as text, is cut by characters first. :func:`_fit` re-counts exactly.
    """
    counts: dict[str, int] = {}

    def count(piece: str) -> int:
        if piece not in counts:
            counts[piece] = counter(piece)
        return counts[piece]

    parts: list[tuple[int, int, int]] = []
    for match in _WORD.finditer(text):
        word = match.group()
        if len(word) <= _MAX_WORD_CHARS and count(word) <= limit:
            parts.append((match.start(), match.end(), count(word)))
        else:
            parts.extend(_split_by_characters(word, match.start(), limit, count))
    pieces: list[tuple[int, int, int]] = []
    begin, end, size = parts[0]
    for s, e, t in parts[1:]:
        if size + t <= limit:
            end, size = e, size + t
        else:
            pieces.append((offset + begin, offset + end, size))
            begin, end, size = s, e, t
    pieces.append((offset + begin, offset + end, size))
    return pieces


def _split_by_characters(
    word: str, offset: int, limit: int, count: Callable[[str], int]
) -> list[tuple[int, int, int]]:
    """The last resort for text without spaces: slices that each tokenize within ``limit``."""
    pieces: list[tuple[int, int, int]] = []
    start = 0
    while start < len(word):
        end = min(len(word), start + _MAX_WORD_CHARS)
        tokens = count(word[start:end])
        while tokens > limit and end - start > 1:  # many tokens per character (rare scripts)
            end = start + (end - start) // 2
            tokens = count(word[start:end])
        pieces.append((offset + start, offset + end, tokens))
        start = end
    return pieces


def _pack(
    sections: list[_Section],
    title: str,
    settings: ChunkerSettings,
    counter: Callable[[str], int],
) -> Iterator[tuple[_Section, list[_Unit]]]:
    """Group units into chunks: small neighbouring sections together, big ones split evenly."""
    pending: list[_Section] = []

    def budget(section: _Section) -> int:
        return (
            settings.max_tokens
            - _SPECIAL_TOKENS
            - counter(_header(title, section.path, counter))
            - 1
        )

    def flush() -> Iterator[tuple[_Section, list[_Unit]]]:
        if pending:
            yield _merged(pending), [u for s in pending for u in s.units]
            pending.clear()

    for section in sections:
        size = section.tokens
        if section.standalone:
            yield from flush()
            if size > budget(section):
                yield from _split_section(section, budget(section), settings.target_tokens)
            else:
                yield section, section.units
            continue
        if size > budget(section):
            yield from flush()
            yield from _split_section(section, budget(section), settings.target_tokens)
            continue
        if pending:
            held = sum(s.tokens for s in pending)
            fits = held + size <= min(settings.target_tokens, budget(_merged([*pending, section])))
            same_parent = pending[-1].parent == section.parent
            small = held < settings.target_tokens / 2 and min(held, size) < MIN_SECTION_TOKENS
            if not (fits and (same_parent or small)):
                yield from flush()
        pending.append(section)
    yield from flush()


def _merged(sections: list[_Section]) -> _Section:
    """One section standing for several merged ones: their common path, or their names."""
    if len(sections) == 1:
        return sections[0]
    paths = [s.path for s in sections]
    common: tuple[str, ...] = ()
    for parts in zip(*paths):
        if len(set(parts)) > 1:
            break
        common += (parts[0],)
    label = SECTION_SEPARATOR.join(common)
    if not common:
        names = list(dict.fromkeys(p[0] for p in paths if p))
        label = " · ".join(names[:3]) + (" …" if len(names) > 3 else "")
    units = [u for s in sections for u in s.units]
    return _Section(common, sections[0].parent, units, label=label)


def _split_section(
    section: _Section, budget: int, target: int
) -> Iterator[tuple[_Section, list[_Unit]]]:
    """Split evenly: n = ceil(size / target) chunks of about size / n tokens each."""
    count = math.ceil(section.tokens / min(target, budget))
    goal = section.tokens / count
    current: list[_Unit] = []
    size = 0
    for unit in section.units:
        at_goal = size >= goal and (not unit.joins_previous or size >= 1.25 * goal)
        if current and (size + unit.tokens > budget or at_goal):
            yield section, current
            current, size = [], 0
        current.append(unit)
        size += unit.tokens
    if current:
        yield section, current
