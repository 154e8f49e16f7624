"""Small immutable records passed between the ingest stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

BlockKind = Literal["heading", "paragraph", "list_item", "table_row", "code"]
SourceKind = Literal["file", "url", "text"]


@dataclass(frozen=True)
class SourceMeta:
    """What a user may say about a source besides its content (from a manifest)."""

    title: str | None = None
    published: str | None = None
    description: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class RawSource:
    """The bytes of one source, as read from disk or the network."""

    source_id: str
    kind: SourceKind
    location: str
    data: bytes
    media_type: str
    meta: SourceMeta = field(default_factory=SourceMeta)
    etag: str | None = None
    """For web pages: the response's validators, sent back by conditional re-fetches."""
    last_modified: str | None = None
    final_url: str | None = None
    """For web pages: where the last redirect led (links on the page are relative to it)."""


@dataclass(frozen=True)
class Link:
    """A link's text (as it appears in the passage) and its target URL."""

    text: str
    url: str


@dataclass(frozen=True)
class Block:
    """One structural unit of a cleaned article, with its span in ``Article.text``."""

    kind: BlockKind
    text: str
    start: int
    end: int
    level: int = 0
    """Heading depth: 1 for the article title, 2 for sections, 3 for sub-sections."""
    links: tuple[Link, ...] = ()
    """Links whose text is in ``text`` (the URLs are kept out of the passage)."""


@dataclass(frozen=True)
class Article:
    """A cleaned article: plain text plus the structure the chunker needs."""

    source_id: str
    kind: SourceKind
    location: str
    title: str
    text: str
    blocks: tuple[Block, ...]
    content_hash: str
    published: str | None = None
    description: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """What the parser complained about while reading the source (e.g. pypdf), for the report."""


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence's place in its chunk; a 20 MB article has ~150,000 (slots: a third the size)."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, sized to fit the embedding model's window.

    ``text`` is an exact substring of the cleaned article (``article.text[start:end]``);
    ``header`` (title and section) is prepended only for embedding and lexical
    indexing, so the passage stays quotable as is.
    """

    id: str
    source_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    position: int
    header: str
    sentences: tuple[Span, ...]
    """Sentence spans relative to ``text``: the units an answer can quote."""
    sentence_sections: tuple[str, ...] = ()
    """The section path each sentence sits under (parallel to ``sentences``)."""
    links: tuple[Link, ...] = ()
    """Links whose text is in the passage: the URLs live here, not in ``text``."""

    @property
    def indexed_text(self) -> str:
        """What the embedding model and the lexical index see."""
        return f"{self.header}\n{self.text}" if self.header else self.text

    @property
    def sentence_texts(self) -> list[str]:
        return [self.text[s.start : s.end] for s in self.sentences]


@dataclass(frozen=True)
class EmbeddedChunk:
    """What the embed stage makes of one :class:`Chunk`."""

    vector: np.ndarray
    """The chunk's normalised embedding."""
    sentence_vectors: np.ndarray
    """One normalised vector per ``chunk.sentences`` entry, shape (n, DIMENSIONS)."""
