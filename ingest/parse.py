"""Turn a source's bytes into a cleaned, structured :class:`Article`.

Decoding never assumes UTF-8: text that is not valid UTF-8 goes through
charset detection. HTML goes through trafilatura's main-content extraction (as
Markdown, so headings and lists survive); PDFs through pypdf.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ingest.clean import clean
from ingest.errors import EmptySourceError, UnreadableSourceError, UnsupportedSourceError
from ingest.models import Article, RawSource
from ingest.structure import structure

log = logging.getLogger(__name__)

PIPELINE_VERSION = "1"
"""Bump when cleaning or chunking changes, so re-ingest rebuilds every source."""

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
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
    if raw.media_type == "application/pdf":
        text, title_hint = _pdf_text(raw)
        markdown = False
    elif raw.media_type == "text/html":
        text, title_hint, published = _html_text(raw)
        markdown = True
    elif raw.media_type in ("text/plain", "text/markdown"):
        text = decode_text(raw.data, raw.location)
        markdown = raw.media_type == "text/markdown"
        if markdown:
            text, title_hint, published = _front_matter(text)
    else:
        raise UnsupportedSourceError(raw.location, f"unsupported content type {raw.media_type}")

    cleaned = clean(text)
    laid_out = structure(cleaned.text, markdown=markdown)
    if len(laid_out.text) < _MIN_TEXT_CHARS:
        raise EmptySourceError(raw.location, "no article text found")
    meta = raw.meta
    title = meta.title or title_hint or laid_out.title or _title_from_location(raw.location)
    return Article(
        source_id=raw.source_id,
        kind=raw.kind,
        location=raw.location,
        title=title,
        text=laid_out.text,
        blocks=laid_out.blocks,
        content_hash=digest or content_hash(raw),
        published=meta.published or published or cleaned.published,
        description=meta.description,
        url=meta.url or (raw.location if raw.kind == "url" else None),
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
    text = trafilatura.extract(
        html,
        url=url,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        favor_recall=True,
    )
    if not (text or "").strip():
        raise EmptySourceError(raw.location, "no article text found in the page")
    # Dates only from the page's markup, never guessed from a copyright line.
    meta = trafilatura.extract_metadata(html, default_url=url, extensive=False)
    title = meta.title if meta is not None else None
    published = meta.date if meta is not None else None
    return str(text), title or None, published or None


def _declares_utf8(data: bytes) -> bool:
    head = data[:4096].lower().replace(b'"', b"").replace(b"'", b"")
    return b"charset=utf-8" in head or b"charset=utf8" in head


def _pdf_text(raw: RawSource) -> tuple[str, str | None]:
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


def _front_matter(text: str) -> tuple[str, str | None, str | None]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return text, None, None
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("\"'")
    return text[match.end() :], fields.get("title") or None, fields.get("date") or None


def _title_from_location(location: str) -> str:
    name = unquote(Path(urlsplit(location).path).stem) or location
    return re.sub(r"[-_]+", " ", name).strip().capitalize() or location
