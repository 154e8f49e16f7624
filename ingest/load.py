"""Stage 1: find the sources behind the user's inputs and read their bytes.

Inputs are files, folders (walked recursively), ``http(s)://`` URLs, or
in-memory :class:`TextDocument` objects. Every source gets a stable id: the
resolved path for files, the URL for web pages, the caller's id for documents.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ingest.errors import (
    ConfigurationError,
    EmptySourceError,
    FetchError,
    SourceError,
    UnreadableSourceError,
    UnsupportedSourceError,
)
from ingest.manifest import MANIFEST_NAME, load_manifest
from ingest.models import RawSource, SourceMeta

MEDIA_TYPES = {
    ".txt": "text/plain",
    ".text": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
}
SUPPORTED_SUFFIXES = ", ".join(sorted(MEDIA_TYPES))
MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "kb-bot/0.1 (+knowledge-base question answering)"


@dataclass(frozen=True)
class TextDocument:
    """An article given as text rather than as a file or URL.

    Args:
        source_id: A stable id, e.g. ``"beir:scifact/4983"``; re-ingesting the same
            id with the same text is a no-op.
        text: The article text (plain text or Markdown).
        title: Shown in citations; the first heading is used when omitted.
    """

    source_id: str
    text: str
    title: str | None = None
    published: str | None = None
    description: str | None = None
    url: str | None = None
    media_type: str = "text/plain"


Input = str | os.PathLike[str] | TextDocument


@dataclass(frozen=True)
class Pending:
    """A source found in the inputs, not read yet."""

    source_id: str
    kind: str  # "file" | "url" | "text"
    path: Path | None = None
    url: str | None = None
    document: TextDocument | None = None
    meta: SourceMeta = field(default_factory=SourceMeta)


@dataclass(frozen=True)
class Unresolvable:
    """An input that names nothing we can read (missing path, bad scheme)."""

    source_id: str
    reason: str


@dataclass(frozen=True)
class Expansion:
    """The sources behind a list of inputs, plus the folders that were walked."""

    pending: list[Pending]
    problems: list[Unresolvable]
    folders: list[Path]


def is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in ("http", "https")


def source_id_for(item: str | os.PathLike[str]) -> str:
    """The id a file or URL is stored under (resolved path or the URL itself)."""
    text = os.fspath(item)
    return text if is_url(text) else str(Path(text).expanduser().resolve())


def expand(inputs: Iterable[Input]) -> Expansion:
    """Resolve inputs into sources, walking folders recursively in sorted order.

    Hidden files and folders and ``manifest.toml`` are skipped; duplicates are
    dropped, keeping the first occurrence.
    """
    pending: list[Pending] = []
    problems: list[Unresolvable] = []
    folders: list[Path] = []
    seen: set[str] = set()

    def add(item: Pending | Unresolvable) -> None:
        if item.source_id in seen:
            return
        seen.add(item.source_id)
        (pending if isinstance(item, Pending) else problems).append(item)  # type: ignore[arg-type]

    for raw in inputs:
        if isinstance(raw, TextDocument):
            add(Pending(raw.source_id, "text", document=raw))
            continue
        text = os.fspath(raw)
        if is_url(text):
            add(Pending(text, "url", url=text))
            continue
        if "://" in text:
            scheme = text.split("://", 1)[0]
            add(Unresolvable(text, f"unsupported URL scheme {scheme!r} (use http or https)"))
            continue
        path = Path(text).expanduser().resolve()
        if path.is_dir():
            folders.append(path)
            for file in _walk(path):
                add(_file_pending(file))
        elif path.is_file():
            add(_file_pending(path))
        else:
            add(Unresolvable(str(path), "no such file or folder"))
    return Expansion(pending, problems, folders)


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name != MANIFEST_NAME:
                yield Path(root) / name


def _file_pending(path: Path) -> Pending:
    try:
        meta = load_manifest(path.parent).get(path.name, SourceMeta())
    except ConfigurationError:
        meta = SourceMeta()  # a broken manifest must not block the articles beside it
    return Pending(str(path), "file", path=path, meta=meta)


def read(pending: Pending, client: httpx.Client | None = None) -> RawSource:
    """Read a source's bytes.

    Raises:
        SourceError: A subclass naming the reason (unsupported type, empty,
            unreachable URL, HTTP error...).
    """
    if pending.document is not None:
        doc = pending.document
        meta = SourceMeta(doc.title, doc.published, doc.description, doc.url)
        return RawSource(
            doc.source_id, "text", doc.source_id, doc.text.encode("utf-8"), doc.media_type, meta
        )
    if pending.path is not None:
        return _read_file(pending)
    assert pending.url is not None
    if client is None:
        with http_client() as own:
            return fetch(pending.url, own)
    return fetch(pending.url, client)


def _read_file(pending: Pending) -> RawSource:
    path = pending.path
    assert path is not None
    media_type = MEDIA_TYPES.get(path.suffix.lower())
    if media_type is None:
        suffix = path.suffix or "(no extension)"
        raise UnsupportedSourceError(
            str(path), f"unsupported file type {suffix} (supported: {SUPPORTED_SUFFIXES})"
        )
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UnreadableSourceError(str(path), f"file is too large ({size // 2**20} MiB)")
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableSourceError(str(path), exc.strerror or str(exc)) from exc
    if not data.strip():
        raise EmptySourceError(str(path), "the file is empty")
    return RawSource(pending.source_id, "file", str(path), data, media_type, pending.meta)


def http_client(timeout: float = 20.0) -> httpx.Client:
    """An HTTP client for fetching articles: redirects followed, a clear user agent."""
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": USER_AGENT, "Accept": "text/html,text/plain,application/pdf,*/*"},
    )


def fetch(url: str, client: httpx.Client) -> RawSource:
    """Download a web article.

    Raises:
        FetchError: Unreachable host, timeout or an HTTP error status.
        UnsupportedSourceError: The server sent something that is not an article.
    """
    try:
        with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            chunks: list[bytes] = []
            total = 0
            for part in response.iter_bytes():
                total += len(part)
                if total > MAX_BYTES:
                    raise FetchError(url, f"the response is larger than {MAX_BYTES // 2**20} MiB")
                chunks.append(part)
            content_type = response.headers.get("content-type", "")
    except httpx.TimeoutException as exc:
        raise FetchError(url, "the server did not answer in time") from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, f"could not connect ({_describe(exc)})") from exc
    data = b"".join(chunks)
    media_type = _media_type(url, content_type)
    if media_type is None:
        raise UnsupportedSourceError(
            url,
            f"unsupported content type {content_type or 'unknown'!r} (expected HTML, text or PDF)",
        )
    if not data.strip():
        raise EmptySourceError(url, "the page is empty")
    return RawSource(url, "url", url, data, media_type, SourceMeta(url=url))


def _media_type(url: str, content_type: str) -> str | None:
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in ("text/html", "application/xhtml+xml"):
        return "text/html"
    if essence in ("text/plain", "text/markdown", "application/pdf"):
        return essence
    if essence in ("", "application/octet-stream", "binary/octet-stream"):
        return MEDIA_TYPES.get(Path(urlsplit(url).path).suffix.lower())
    return None


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


__all__ = [
    "Expansion",
    "Input",
    "Pending",
    "SourceError",
    "TextDocument",
    "Unresolvable",
    "expand",
    "fetch",
    "http_client",
    "is_url",
    "read",
    "source_id_for",
]
