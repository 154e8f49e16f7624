"""Stage 4: cut an article into passages that fit the embedding model's window.

Structure first: a chunk never mixes the end of one top-level section with the
start of another, headings and list items stay with their section, and tiny
neighbouring sections (a heading and one line) are merged rather than left as
one-line chunks. Sizes are counted with the model's own tokenizer, with the
contextual header ("title / section") that is embedded along with the passage,
so no chunk is ever silently truncated by the model.

Time and memory grow linearly with the article: each distinct word is
tokenized once (counts add up across spaces), a chunk's size is the sum of its
pieces' wherever that sum is exact, and text without spaces is cut by
characters with a bound instead of the tokenizer.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise

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


class _WordCounter:
    """Counts tokens word by word, tokenizing each distinct word once.

    The tokenizer never joins text across a space, tab or newline, so a text's
    count is the sum of its words' counts; prose repeats its words, so most are
    looked up rather than tokenized.
    """

    MAX_WORDS = 200_000
    """Distinct words remembered (a few tens of MB at most)."""
    MAX_WORD_CHARS = 64
    """Longer words (URLs, runs without spaces) are rarely repeated: not remembered."""

    def __init__(self, counter: Callable[[str], int]) -> None:
        self._counter = counter
        self._known: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        words = _BLANK_SPLIT.findall(text)
        known = self._known
        try:
            return sum(map(known.__getitem__, words))
        except KeyError:
            pass
        total = 0
        for word in words:
            count = known.get(word)
            if count is None:
                count = self._counter(word)
                if len(word) <= self.MAX_WORD_CHARS and len(known) < self.MAX_WORDS:
                    known[word] = count
            total += count
        return total


_BLANK_SPLIT = re.compile(r"[^ \t\n\r]+")


@dataclass(frozen=True)
class ChunkerSettings:
    max_tokens: int = MAX_TOKENS
    """Hard limit per chunk, header and special tokens included."""
    target_tokens: int = 200
    """Preferred size; a section that needs several chunks is split evenly below this."""
    language: str = "en"


@dataclass(slots=True)
class _Unit:
    """Smallest piece the packer moves around: a heading, a sentence, a list item."""

    start: int
    end: int
    tokens: int
    is_heading: bool = False
    joins_previous: bool = False  # a sentence continuing the same block
    section: str = ""
    cut: bool = False
    """A slice of a word cut by characters; ``tokens`` is then a bound (see :func:`_bound`)."""


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
    """Cut ``article`` into chunks; each chunk's text is an exact span of ``article.text``.

    Args:
        counter: Tokens of a text. It must count the words between spaces, tabs and
            newlines independently (WordPiece does): counts are cached by word.
    """
    settings = settings or ChunkerSettings()
    counter = _WordCounter(counter)
    sections = _sections(article, settings, counter)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}  # by first id, not by text: that would hold a copy of it all
    block_ends = [block.end for block in article.blocks]
    headers = _Headers(article.title, counter)
    for section, units in _fit(
        _pack(sections, headers, settings), article, settings, counter, headers
    ):
        start, end = _bullet_start(article.text, units[0].start), units[-1].end
        text = article.text[start:end]
        header, _ = headers(section.path)
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
        first = chunk_id(article.source_id, indexed)
        occurrence = seen.get(first, 0)
        seen[first] = occurrence + 1
        chunks.append(
            Chunk(
                id=first if occurrence == 0 else chunk_id(article.source_id, indexed, occurrence),
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
    headers: _Headers,
) -> Iterator[tuple[_Section, list[_Unit]]]:
    """Check each group's token count (separators included) and halve any that overflow.

    The count is the sum of the units' and the separators' counts where that sum
    is exact or an upper bound (see :func:`_summed_tokens`), else the tokenizer's.
    """
    for section, units in groups:
        header_tokens = headers(section.path)[1] + _SPECIAL_TOKENS  # "\n" between: no token
        stack = [units]
        while stack:
            part = stack.pop()
            size = _summed_tokens(part, article.text, counter)
            if size is None or size + header_tokens > settings.max_tokens:
                size = counter(article.text[part[0].start : part[-1].end])
            bullet = article.text[_bullet_start(article.text, part[0].start) : part[0].start]
            size += counter(bullet) if bullet else 0
            if size + header_tokens <= settings.max_tokens or len(part) == 1:
                yield section, part
            else:
                middle = len(part) // 2
                stack.extend([part[middle:], part[:middle]])


_BULLET = re.compile(r"[ \t]*-[ \t]+")


def _bullet_start(text: str, start: int) -> int:
    """Where the line of the unit at ``start`` begins, if only a list bullet comes before it
    on that line: a chunk that opens with a list item keeps its "- ", so the item is one."""
    line = text.rfind("\n", 0, start) + 1
    return line if _BULLET.fullmatch(text, line, start) else start


_BLANK = " \t\n\r"
"""What the tokenizer splits at (never removes, never joins across)."""


def _summed_tokens(units: list[_Unit], text: str, counter: Callable[[str], int]) -> int | None:
    """Tokens of the text the units span, from their counts, or None if they need not add up.

    Counts add up across a gap that begins and ends with a space or newline (the
    gap's own tokens, a list item's "-", are added); the bounds of a word's
    slices add up even where the word was cut (see :func:`_bound`).
    """
    total = units[0].tokens
    for previous, unit in pairwise(units):
        gap = text[previous.end : unit.start]
        if gap and gap[0] in _BLANK and gap[-1] in _BLANK:
            if gap.strip(_BLANK):
                total += counter(gap)
        elif gap or not (previous.cut and unit.cut):
            return None
        total += unit.tokens
    return total


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


class _Headers:
    """Each section path's header and its tokens, worked out once per path, not per chunk."""

    def __init__(self, title: str, counter: Callable[[str], int]) -> None:
        self._title = title
        self._counter = counter
        self._known: dict[tuple[str, ...], tuple[str, int]] = {}

    def __call__(self, path: tuple[str, ...]) -> tuple[str, int]:
        found = self._known.get(path)
        if found is None:
            header = _header(self._title, path, self._counter)
            found = self._known[path] = (header, self._counter(header))
        return found


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
            name = block.text.rstrip(":").strip()[:_MAX_HEADER_CHARS]
            if block.level <= 2:
                top = name
                path: tuple[str, ...] = (name,)
            else:
                path = (top, name) if top else (name,)
            sections.append(_Section(path, top or block.text))
            limit = settings.max_tokens // 2
            if _countable(block.text) and counter(block.text) <= limit:
                sections[-1].units.append(
                    _Unit(block.start, block.end, counter(block.text), is_heading=True)
                )
            else:  # a "heading" of a thousand words is text, cut like any other
                label = SECTION_SEPARATOR.join(path)
                sections[-1].units.extend(_block_units(block, settings, counter, label))
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
    if _countable(block.text) and counter(block.text) <= budget:
        return [_Unit(block.start, block.end, counter(block.text), section=section)]
    units: list[_Unit] = []
    offset = 0
    limit = settings.max_tokens // 2
    for line in block.text.split("\n"):
        begin = offset + (len(line) - len(line.lstrip()))
        end = offset + len(line.rstrip())
        offset += len(line) + 1
        if end <= begin:
            continue
        _add_units(units, block, begin, end, limit, counter, section)
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
        _add_units(units, block, start + skip, end + skip, limit, counter, section)
    return units


def _add_units(
    units: list[_Unit],
    block: Block,
    begin: int,
    end: int,
    limit: int,
    counter: Callable[[str], int],
    section: str,
) -> None:
    """Append ``block.text[begin:end]`` as one unit, or cut by words when over ``limit``."""
    piece = block.text[begin:end]
    size = counter(piece) if _countable(piece) else limit + 1
    spans = (
        [(begin, end, size, False)] if size <= limit else _split_words(piece, begin, limit, counter)
    )
    for s, e, t, cut in spans:
        units.append(
            _Unit(
                block.start + s,
                block.start + e,
                t,
                joins_previous=bool(units),
                section=section,
                cut=cut,
            )
        )


def _sentence_spans(text: str, language: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for boundary in sentencex.get_sentence_boundaries(language, text):
        start, end = int(boundary["start_index"]), int(boundary["end_index"])
        while end > start and text[end - 1].isspace():
            end -= 1
        while start < end and text[start].isspace():
            start += 1
        if end > start:
            if spans and text[start] in _CONTINUES:
                spans[-1] = (spans[-1][0], end)  # "(e.g. [42]" | ") which we recommend…"
            else:
                spans.append((start, end))
    return spans or [(0, len(text))]


_CONTINUES = frozenset(")]},;")
"""No sentence starts with these: a boundary before one is a split inside a sentence."""


_MAX_WORD_CHARS = 100
"""WordPiece reads a longer run without spaces or punctuation as one [UNK] token."""
_UNREADABLE_RUN = re.compile(r"[^\s!-/:-@\[-`{-~]{" + str(_MAX_WORD_CHARS + 1) + ",}")
"""Such a run counts as 1 token however long it is, so token counts alone cannot bound it."""
_MAX_COUNTED_CHARS = 16_384
"""Longer text is cut by words without being tokenized whole: the tokenizer needs about
60 bytes a character, so one 5 MB line cost 300 MB, and it could not fit anyway."""


def _countable(piece: str) -> bool:
    """Whether a piece's token count says whether it fits (else it is cut by words)."""
    return len(piece) <= _MAX_COUNTED_CHARS and _UNREADABLE_RUN.search(piece) is None


def _split_words(
    text: str, offset: int, limit: int, counter: Callable[[str], int]
) -> list[tuple[int, int, int, bool]]:
    """Cut an over-long sentence into pieces of at most ``limit`` tokens, in one pass.

    Returns ``(start, end, tokens, cut)`` per piece, ``cut`` for slices of a word.

    Words are counted one at a time (the tokenizer splits at whitespace, so
    counts add up); a word that alone is too long, or holds a run WordPiece
    cannot read, is cut by characters first.
    """
    parts: list[tuple[int, int, int, bool]] = []
    for match in _WORD.finditer(text):
        word = match.group()
        tokens = counter(word) if _countable(word) else limit + 1
        if tokens <= limit:  # a long URL is still words to WordPiece, kept whole
            parts.append((match.start(), match.end(), tokens, False))
        else:
            parts.extend(_split_by_characters(word, match.start(), limit))
    pieces: list[tuple[int, int, int, bool]] = []
    begin, end, size, cut = parts[0]
    for s, e, t, c in parts[1:]:
        if size + t <= limit:
            end, size, cut = e, size + t, cut or c
        else:
            pieces.append((offset + begin, offset + end, size, cut))
            begin, end, size, cut = s, e, t, c
    pieces.append((offset + begin, offset + end, size, cut))
    return pieces


def _split_by_characters(word: str, offset: int, limit: int) -> list[tuple[int, int, int, bool]]:
    """The last resort for text without spaces: slices whose :func:`_bound` is within ``limit``.

    No slice is tokenized: at up to 0.5 ms per 100 characters, a 5 MB line took 25 s.
    """
    pieces: list[tuple[int, int, int, bool]] = []
    start = 0
    while start < len(word):
        end = min(len(word), start + _MAX_WORD_CHARS)
        tokens = _bound(word[start:end])
        while tokens > limit and end - start > 1:  # characters that decompose (Hangul)
            end = start + (end - start) // 2
            tokens = _bound(word[start:end])
        pieces.append((offset + start, offset + end, tokens, True))
        start = end
    return pieces


def _bound(piece: str) -> int:
    """An upper bound on the tokens of ``piece``; slices' bounds add up to one for their join.

    Every word-piece, and [UNK], stands for at least one character of the
    normalised (NFD-decomposed, accents dropped, lower-cased) text, so that
    text's length bounds the count, and lengths add up where counts do not.
    """
    return len(piece) if piece.isascii() else len(unicodedata.normalize("NFD", piece))


def _pack(
    sections: list[_Section], headers: _Headers, settings: ChunkerSettings
) -> Iterator[tuple[_Section, list[_Unit]]]:
    """Group units into chunks: small neighbouring sections together, big ones split evenly."""
    pending: list[_Section] = []

    def budget(section: _Section) -> int:
        return settings.max_tokens - _SPECIAL_TOKENS - headers(section.path)[1] - 1

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
