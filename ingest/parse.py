"""Turn a source's bytes into a cleaned, structured :class:`Article`.

Decoding never assumes UTF-8: text that is not valid UTF-8 goes through
charset detection. HTML goes through trafilatura's main-content extraction (as
Markdown, so headings, lists, tables, code and links survive); Markdown (files
and extracted pages) is parsed by :mod:`ingest.markdown`, front matter by
python-frontmatter; PDFs go through pypdf, whose warnings end up in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape as html_escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ingest.clean import clean, leading_date, repair_encoding
from ingest.errors import EmptySourceError, UnreadableSourceError, UnsupportedSourceError
from ingest.models import Article, RawSource
from ingest.structure import structure

log = logging.getLogger(__name__)

PIPELINE_VERSION = "7"  # 2: sentences embedded on their own; 3: Markdown parsed as Markdown;
# 4: a chunk that opens with a list item keeps its bullet; 5: an HTML table in Markdown with
# blank lines between its rows is one table; 6: no sentence starts with ")" or ",";
# 7: a generic first heading ("Summary") is no title
"""Bump when cleaning or chunking changes, so re-ingest rebuilds every source."""

_MIN_TEXT_CHARS = 20


def content_hash(raw: RawSource) -> str:
    """A fingerprint of everything that determines a source's chunks."""
    digest = hashlib.sha256()
    meta = raw.meta
    for part in (PIPELINE_VERSION, raw.media_type, meta.title, meta.published, meta.description):
        digest.update((part or "").encode("utf-8") + b"\x1f")
    digest.update(raw.data)
    return digest.hexdigest()


def parse(raw: RawSource, digest: str | None = None) -> Article:
    """Decode, extract, clean and structure one source.

    Raises:
        UnreadableSourceError: Binary data, unknown encoding, corrupt or encrypted PDF.
        EmptySourceError: No article text remains after extraction and cleaning.
        UnsupportedSourceError: A media type we cannot read.
    """
    title_hint: str | None = None
    published: str | None = None
    front = FrontMatter()
    warnings: tuple[str, ...] = ()
    if raw.media_type == "application/pdf":
        text, title_hint, warnings = _pdf_text(raw)
        markdown = False
    elif raw.media_type == "text/html":
        text, title_hint, published = _html_text(raw)
        markdown = True
    elif raw.media_type in ("text/plain", "text/markdown"):
        text = decode_text(raw.data, raw.location)
        markdown = raw.media_type == "text/markdown"
        if markdown:
            text, front = front_matter(text)
    else:
        raise UnsupportedSourceError(raw.location, f"unsupported content type {raw.media_type}")

    if markdown:
        # Whitespace is the parser's business (code keeps its indentation).
        text = _ZERO_WIDTH.sub("", repair_encoding(text))
        laid_out = structure(text, markdown=True)
        leading_date = laid_out.published
    else:
        cleaned = clean(text)
        del text  # a copy of the whole source fewer while it is laid out
        laid_out = structure(cleaned.text, markdown=False)
        leading_date = cleaned.published
    if len(laid_out.text) < _MIN_TEXT_CHARS:
        raise EmptySourceError(raw.location, "no article text found")
    meta = raw.meta
    heading = laid_out.title if laid_out.title and not _generic(laid_out.title) else None
    title = meta.title or front.title or title_hint or heading or _title_from_location(raw.location)
    return Article(
        source_id=raw.source_id,
        kind=raw.kind,
        location=raw.location,
        title=title,
        text=laid_out.text,
        blocks=laid_out.blocks,
        content_hash=digest or content_hash(raw),
        published=meta.published or front.date or published or leading_date,
        description=meta.description or front.description,
        url=meta.url or (raw.location if raw.kind == "url" else None),
        tags=front.tags,
        warnings=warnings,
    )


_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")


@dataclass(frozen=True)
class FrontMatter:
    """What a Markdown file's YAML front matter says about it."""

    title: str | None = None
    date: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ()


def front_matter(text: str) -> tuple[str, FrontMatter]:
    """Split YAML front matter (``---`` ... ``---``) from a Markdown body.

    Front matter that is not valid YAML is dropped from the body all the same
    (it is metadata, never article text) and yields no fields.
    """
    import frontmatter
    import yaml

    if not text.lstrip("\ufeff").startswith("---"):
        return text, FrontMatter()
    try:
        fields, body = frontmatter.parse(text.lstrip("\ufeff"))
    except (yaml.YAMLError, ValueError, TypeError):
        match = re.match(r"\A---\s*\n.*?\n---\s*\n", text, re.DOTALL)
        return (text[match.end() :] if match else text), FrontMatter()
    if not isinstance(fields, dict):
        return body, FrontMatter()
    lowered = {str(k).lower(): v for k, v in fields.items()}

    def first(*keys: str) -> str | None:
        for key in keys:
            value = lowered.get(key)
            if isinstance(value, (dt.date, dt.datetime)):
                return value.isoformat()[:10]
            if isinstance(value, (str, int, float)) and str(value).strip():
                return str(value).strip()
        return None

    raw_tags = lowered.get("tags", lowered.get("keywords", lowered.get("categories")))
    if isinstance(raw_tags, str):
        tags = tuple(t.strip() for t in re.split(r"[,;]", raw_tags) if t.strip())
    elif isinstance(raw_tags, (list, tuple)):
        tags = tuple(str(t).strip() for t in raw_tags if str(t).strip())
    else:
        tags = ()
    date = first("date", "published", "pubdate", "created")
    date = (leading_date(date) or date) if date else None  # "Mar 1, 2024" -> 2024-03-01
    return body, FrontMatter(
        title=first("title"),
        date=date,
        description=first("description", "summary", "excerpt", "abstract"),
        tags=tuple(dict.fromkeys(tags)),
    )


def decode_text(data: bytes, location: str) -> str:
    """Decode text bytes: BOM or valid UTF-8 first, then charset detection.

    Raises:
        UnreadableSourceError: The bytes look binary or match no known encoding.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise UnreadableSourceError(location, "this looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableSourceError(location, "the text encoding could not be detected")
    log.info("%s: decoded as %s", location, best.encoding)
    return str(best)


def _html_text(raw: RawSource) -> tuple[str, str | None, str | None]:
    """Main content as Markdown (headings and lists kept), plus title and date from markup."""
    import trafilatura

    if b"\x00" in raw.data[:8192]:
        raise UnreadableSourceError(raw.location, "this looks like a binary file, not HTML")
    html = raw.data.decode("utf-8", "replace") if _declares_utf8(raw.data) else None
    if html is None:
        html = decode_text(raw.data, raw.location)
    url = raw.location if raw.kind == "url" else None

    def extract(markup: str) -> str:
        text = trafilatura.extract(
            markup,
            url=url,
            output_format="markdown",
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=True,
            favor_recall=True,
        )
        return str(text or "")

    text = extract(html)
    if not text.strip():
        # libxml2 stops at 256 levels of nesting, so a page wrapped in thousands
        # of <div>s looks empty; flattened, its paragraphs are found again.
        flat = flatten_deep_html(html)
        if flat is not None:
            text = extract(flat)
    if not text.strip():
        raise EmptySourceError(raw.location, "no article text found in the page")
    # Dates only from the page's markup, never guessed from a copyright line.
    meta = trafilatura.extract_metadata(html, default_url=url, extensive=False)
    title = meta.title if meta is not None else None
    published = meta.date if meta is not None else None
    return text, title or None, published or None


MAX_HTML_DEPTH = 100
"""Pages nested deeper than this are flattened by :func:`flatten_deep_html`."""
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()  # noqa: SIM905
)
_TEXT_TAGS = frozenset(["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "title"])  # never nested
_LANDMARKS = frozenset(
    """html head body article main nav aside header footer section form ul ol table thead
    tbody tr td th blockquote pre script style noscript template textarea label figure""".split()  # noqa: SIM905
)
_WRAPPER_DEPTH = 48  # <div>/<span>/<font> kept while fewer than this many tags are open
_LANDMARK_DEPTH = 160  # what tells article from navigation, kept deeper (libxml2 stops at 256)


class _Flattener(HTMLParser):
    """Re-serialises HTML, unwrapping redundant nesting so libxml2 can read it (text kept)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, emitted)
        self.emitted = 0
        self.deepest = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" or self.emitted < _WRAPPER_DEPTH:
                self.out.append(f"<{tag}>")
            return
        self.deepest = max(self.deepest, len(self.stack) + 1)
        limit = _LANDMARK_DEPTH if tag in _LANDMARKS else _WRAPPER_DEPTH
        emit = tag in _TEXT_TAGS or self.emitted < limit
        self.stack.append((tag, emit))
        if emit:
            self.emitted += 1
            rendered = "".join(
                f' {name}="{html_escape(value or "")}"' for name, value in attrs if name
            )
            self.out.append(f"<{tag}{rendered}>")

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self.stack):
            return
        while self.stack:
            open_tag, emitted = self.stack.pop()
            if emitted:
                self.emitted -= 1
                self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        self.out.append(html_escape(data, quote=False))


def flatten_deep_html(html: str, limit: int = MAX_HTML_DEPTH) -> str | None:
    """``html`` with its redundant nesting unwrapped; None if it is no deeper than ``limit``.

    Generic wrappers (``div``, ``span``...) are dropped once a few dozen tags are
    open; landmarks (``article``, ``nav``, ``aside``, forms, lists) are kept
    deeper, and paragraphs, headings and list items always, so the extractor
    still tells the article from the page around it. The text is all kept.
    """
    flattener = _Flattener()
    flattener.feed(html)
    flattener.close()
    if flattener.deepest <= limit:
        return None
    return "".join(flattener.out)


def _declares_utf8(data: bytes) -> bool:
    head = data[:4096].lower().replace(b'"', b"").replace(b"'", b"")
    return b"charset=utf-8" in head or b"charset=utf8" in head


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().strip()
        if message and message not in self.messages:
            self.messages.append(message)


@contextmanager
def _parser_warnings(logger_name: str) -> Iterator[list[str]]:
    """Collect a parser library's warnings (logged and ``warnings.warn``) instead of printing them."""
    logger = logging.getLogger(logger_name)
    handler = _Collect()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield handler.messages
        for warning in caught:
            text = str(warning.message).strip()
            if text and text not in handler.messages:
                handler.messages.append(text)
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _pdf_text(raw: RawSource) -> tuple[str, str | None, tuple[str, ...]]:
    with _parser_warnings("pypdf") as messages:
        text, title = _pdf_pages(raw)
    return text, title, tuple(messages[:10])


def _pdf_pages(raw: RawSource) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw.data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableSourceError(raw.location, "the PDF is encrypted (password-protected)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except FileNotDecryptedError as exc:
        raise UnreadableSourceError(
            raw.location, "the PDF is encrypted (password-protected)"
        ) from exc
    except UnreadableSourceError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableSourceError(
            raw.location, f"the PDF is corrupt or truncated ({exc})"
        ) from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text.strip():
        raise EmptySourceError(raw.location, "the PDF has no extractable text (is it a scan?)")
    return text, (str(title).strip() or None) if title else None


_GENERIC_HEADING = re.compile(
    r"summary|overview|introduction|intro|abstract|background|about|read ?me|preface|foreword"
    r"|(table of )?contents|description|notes|documentation|home|index|untitled|tl ?dr"
    r"|getting started|(model|dataset) card"
)
"""First headings that name a part of a page, not the page: a README or card that opens
with "# Summary" is no article called "Summary"."""


def _generic(heading: str) -> bool:
    words = re.sub(r"[^\w\s]", "", heading).lower().split()
    return _GENERIC_HEADING.fullmatch(" ".join(words)) is not None


def _title_from_location(location: str) -> str:
    name = unquote(Path(urlsplit(location).path).stem) or location
    return re.sub(r"[-_]+", " ", name).strip().capitalize() or location
