"""Stage 1: find the sources behind the user's inputs and read their bytes.

Inputs are files, folders (walked recursively), ``http(s)://`` URLs, or
in-memory :class:`TextDocument` objects. Every source gets a stable id: the
resolved path for files, the URL for web pages, the caller's id for documents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ingest.errors import (
    ConfigurationError,
    EmptySourceError,
    FetchError,
    InvalidArgumentError,
    RefusedURLError,
    SourceError,
    UnreadableSourceError,
    UnsupportedSourceError,
)
from ingest.manifest import MANIFEST_NAME, load_manifest
from ingest.models import RawSource, SourceMeta
from ingest.urls import (
    MAX_REDIRECTS,
    GuardedTransport,
    Resolver,
    ResolveTimeout,
    UnsafeURL,
    check_url,
    deadline,
)

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
MIB = 1024 * 1024
FETCH_TIMEOUT = 20.0
"""Default seconds for a whole URL download (``KB_FETCH_TIMEOUT``)."""
USER_AGENT = "kb-bot/0.1 (+knowledge-base question answering)"
MAX_PATH_CHARS = 4096
"""Longer path names are refused up front (Linux's PATH_MAX)."""


@dataclass(frozen=True)
class Limits:
    """How much a single source may cost, and where URLs may point.

    Args:
        fetch_timeout: Seconds for a whole download (name lookups, connects, redirects, body).
        max_download_bytes: Bigger responses are refused, checked while streaming.
        max_file_bytes: Bigger files are refused before they are read.
        allow_private_urls: Let URLs reach loopback and private networks.
    """

    fetch_timeout: float = FETCH_TIMEOUT
    max_download_bytes: int = 20 * MIB
    max_file_bytes: int = 50 * MIB
    allow_private_urls: bool = False


@dataclass(frozen=True)
class TextDocument:
    """An article given as text rather than as a file or URL.

    Args:
        source_id: A stable id, e.g. ``"beir:scifact/4983"``; re-ingesting the same
            id with the same text is a no-op.
        text: The article text (plain text or Markdown).
        title: Shown in citations; when omitted, the first heading (unless it is a generic
            one such as "Summary"), else one made from ``source_id``.
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
    raw: RawSource | None = None
    """Already fetched (by a crawl), so it is not downloaded twice."""
    site: str | None = None
    """The sitemap that listed this page, re-read by ``kb sync`` to find new pages."""


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
        try:
            path = _expanded(text).resolve()
            if path.is_dir():
                folders.append(path)
                for file in _walk(path):
                    add(_file_pending(file))
            elif path.is_file():
                add(_file_pending(path))
            else:
                add(Unresolvable(str(path), "no such file or folder"))
        except (OSError, ValueError) as exc:  # a name the file system refuses
            reason = getattr(exc, "strerror", None) or str(exc)
            add(Unresolvable(_printable(text), f"not a usable path ({reason})"))
    return Expansion(pending, problems, folders)


def _expanded(text: str) -> Path:
    """``text`` as a path with ``~`` and ``~user`` expanded.

    Raises:
        ValueError: ``~user`` names no user of this machine (pathlib raises RuntimeError).
    """
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:
        raise ValueError(f"no home folder for {text.split(os.sep, 1)[0]!r}") from exc


def _printable(text: str, limit: int = 200) -> str:
    shown = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def check_text(value: object, what: str, *, max_chars: int = MAX_PATH_CHARS) -> str:
    """``value`` if it is usable as a source name or path; otherwise a plain error.

    Raises:
        InvalidArgumentError: Not text, empty, too long, or holding NUL or
            characters that are not valid Unicode (lone surrogates).
    """
    if not isinstance(value, str):
        raise InvalidArgumentError(f"The {what} must be text, not {type(value).__name__}.")
    if not value.strip():
        raise InvalidArgumentError(f"The {what} is empty.")
    if len(value) > max_chars:
        raise InvalidArgumentError(
            f"The {what} is {len(value):,} characters long; the limit is {max_chars:,}."
        )
    if "\x00" in value:
        raise InvalidArgumentError(f"The {what} contains a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidArgumentError(
            f"The {what} contains characters that are not valid text (lone surrogates)."
        ) from None
    return value


def check_inputs(inputs: object) -> list[Input]:
    """The inputs of an ingest as a list, each one checked; a plain error otherwise.

    Accepts one input (a path, URL or :class:`TextDocument`) or an iterable of them.

    Raises:
        InvalidArgumentError: Nothing to ingest, or an input of the wrong type or shape.
    """
    if inputs is None:
        raise InvalidArgumentError("Nothing to ingest: give a file, folder or URL.")
    if isinstance(inputs, (str, os.PathLike, TextDocument)):
        items: list[object] = [inputs]
    elif isinstance(inputs, (bytes, bytearray)) or not isinstance(inputs, Iterable):
        raise InvalidArgumentError(
            f"Cannot ingest a {type(inputs).__name__}: give paths, URLs or TextDocuments."
        )
    else:
        items = list(inputs)
    if not items:
        raise InvalidArgumentError("Nothing to ingest: give a file, folder or URL.")
    return [_check_input(item) for item in items]


def _check_input(item: object) -> Input:
    if isinstance(item, TextDocument):
        check_text(item.source_id, "document id")
        if not isinstance(item.text, str):
            raise InvalidArgumentError("A TextDocument's text must be a string.")
        try:
            item.text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidArgumentError(
                f"The text of {item.source_id!r} holds characters that are not valid text."
            ) from None
        return item
    if isinstance(item, os.PathLike):
        name = os.fspath(item)
        if not isinstance(name, str):
            raise InvalidArgumentError("Paths must be text, not bytes.")
        check_text(name, "path")
        return item
    if isinstance(item, str):
        return check_text(item, "path or URL")
    raise InvalidArgumentError(
        f"Cannot ingest a {type(item).__name__}: give paths, URLs or TextDocuments."
    )


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name != MANIFEST_NAME:
                yield Path(root) / name


def _file_pending(path: Path) -> Pending | Unresolvable:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return Unresolvable(_printable(str(path)), "the file name is not valid UTF-8")
    try:
        meta = load_manifest(path.parent).get(path.name, SourceMeta())
    except ConfigurationError:
        meta = SourceMeta()  # a broken manifest must not block the articles beside it
    return Pending(str(path), "file", path=path, meta=meta)


def read(
    pending: Pending,
    client: httpx.Client | None = None,
    limits: Limits | None = None,
    validators: Validators | None = None,
) -> RawSource:
    """Read a source's bytes.

    Args:
        client: For URLs; one from :func:`http_client` (its transport vets addresses).
        limits: Size caps, download deadline and which addresses URLs may reach.

    Raises:
        SourceError: A subclass naming the reason (unsupported type, empty,
            too large, unreachable or refused URL, HTTP error...).
    """
    limits = limits or Limits()
    if pending.raw is not None:
        return pending.raw
    if pending.document is not None:
        doc = pending.document
        meta = SourceMeta(doc.title, doc.published, doc.description, doc.url)
        return RawSource(
            doc.source_id, "text", doc.source_id, doc.text.encode("utf-8"), doc.media_type, meta
        )
    if pending.path is not None:
        return _read_file(pending, limits.max_file_bytes)
    assert pending.url is not None
    if client is None:
        with http_client(limits.fetch_timeout, limits.allow_private_urls) as own:
            return fetch(pending.url, own, limits, validators)
    return fetch(pending.url, client, limits, validators)


def _read_file(pending: Pending, max_bytes: int) -> RawSource:
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
        if size > max_bytes:
            raise UnreadableSourceError(
                str(path), f"the file is too large ({_mib(size)}; the limit is {_mib(max_bytes)})"
            )
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise UnreadableSourceError(str(path), exc.strerror or str(exc)) from exc
    if len(data) > max_bytes:
        raise UnreadableSourceError(str(path), f"the file is larger than {_mib(max_bytes)}")
    if not data.strip():
        raise EmptySourceError(str(path), "the file is empty")
    return RawSource(pending.source_id, "file", str(path), data, media_type, pending.meta)


def _mib(size: int) -> str:
    return f"{size / MIB:,.1f} MB" if size % MIB else f"{size // MIB:,} MB"


def http_client(
    timeout: float = FETCH_TIMEOUT, allow_private: bool = False, resolve: Resolver | None = None
) -> httpx.Client:
    """An HTTP client for fetching articles: vetted addresses only, a clear user agent.

    Redirects are followed by :func:`fetch` itself, so each hop is checked.

    Args:
        timeout: Seconds for each network operation (:func:`fetch` also bounds the whole download).
        allow_private: Let it reach loopback and private networks (``KB_ALLOW_PRIVATE_URLS``).
        resolve: Host name lookup; the system resolver by default.
    """
    transport = (
        GuardedTransport(allow_private)
        if resolve is None
        else GuardedTransport(allow_private, resolve)
    )
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(timeout),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "text/html,application/xhtml+xml,text/markdown,text/plain,application/pdf",
        },
    )


class NotModified(Exception):
    """A conditional request found the page unchanged (HTTP 304)."""


@dataclass(frozen=True)
class Validators:
    """What a conditional request sends back: the ETag and Last-Modified of the last fetch."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True)
class Download:
    data: bytes
    content_type: str
    final_url: str
    etag: str | None
    last_modified: str | None


ARTICLE_TYPES = "HTML, text, Markdown or PDF"


def fetch(
    url: str,
    client: httpx.Client,
    limits: Limits | None = None,
    validators: Validators | None = None,
) -> RawSource:
    """Download a web article within ``limits``.

    Every hop (the URL and up to five redirects) is checked before it is
    connected to; the download as a whole must finish within
    ``limits.fetch_timeout`` and stay under ``limits.max_download_bytes``.

    With ``validators``, the request is conditional and :class:`NotModified` is
    raised when the server answers 304.

    Raises:
        RefusedURLError: A scheme or address we will not connect to, or too many redirects.
        FetchError: Unreachable host, deadline passed, too large, or an HTTP error status.
        UnsupportedSourceError: The server sent something that is not an article.
        NotModified: A conditional request, and the page has not changed.
    """
    got = download(
        url, client, limits, lambda final, ct: _media_type(final, ct) is not None, validators
    )
    media_type = _media_type(got.final_url, got.content_type)
    assert media_type is not None  # checked before the body was read
    if not got.data.strip():
        raise EmptySourceError(url, "the page is empty")
    return RawSource(
        url,
        "url",
        url,
        got.data,
        media_type,
        SourceMeta(url=url),
        etag=got.etag,
        last_modified=got.last_modified,
        final_url=got.final_url,
    )


def download(
    url: str,
    client: httpx.Client,
    limits: Limits | None,
    accept: Callable[[str, str], bool],
    validators: Validators | None = None,
    expected: str = ARTICLE_TYPES,
) -> Download:
    """Download ``url`` within ``limits`` if ``accept(final_url, content_type)``; see :func:`fetch`."""
    limits = limits or Limits()
    started = time.monotonic()
    try:
        with deadline(limits.fetch_timeout):
            return _download(url, client, limits, accept, validators, expected)
    except UnsafeURL as exc:
        raise RefusedURLError(url, exc.reason) from exc
    except httpx.TimeoutException as exc:
        waited = time.monotonic() - started
        resolving = isinstance(exc.__context__, ResolveTimeout)
        raise FetchError(
            url,
            f"the download did not finish in time ({waited:.0f} s; the limit is "
            f"{limits.fetch_timeout:g} s)"
            + ("; resolving the host name took too long" if resolving else ""),
        ) from exc
    except httpx.HTTPError as exc:
        raise FetchError(url, f"could not connect ({_describe(exc)})") from exc
    except httpx.InvalidURL as exc:
        raise FetchError(url, f"not a valid URL ({exc})") from exc


def _download(
    url: str,
    client: httpx.Client,
    limits: Limits,
    accept: Callable[[str, str], bool],
    validators: Validators | None,
    expected: str,
) -> Download:
    """The body and headers, following at most MAX_REDIRECTS redirects."""
    current = url
    headers = validators.headers() if validators else {}
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(current, limits.allow_private_urls)
        with client.stream("GET", current, headers=headers) as response:
            if response.status_code == 304 and headers:
                raise NotModified(url)
            if response.is_redirect:
                location = response.headers.get("location", "")
                current = str(response.url.join(location))
                continue
            if response.status_code >= 400:
                raise FetchError(url, f"HTTP {response.status_code} {response.reason_phrase}")
            content_type = response.headers.get("content-type", "")
            if not accept(current, content_type):
                raise UnsupportedSourceError(
                    url,
                    f"unsupported content type {content_type or 'unknown'!r} (expected {expected})",
                )
            cap = limits.max_download_bytes
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise FetchError(
                    url, f"the page is larger than {_mib(cap)} ({_mib(int(declared))})"
                )
            chunks: list[bytes] = []
            total = 0
            for part in response.iter_bytes():
                total += len(part)
                if total > cap:
                    raise FetchError(url, f"the page is larger than {_mib(cap)}")
                chunks.append(part)
            return Download(
                b"".join(chunks),
                content_type,
                current,
                response.headers.get("etag"),
                response.headers.get("last-modified"),
            )
    raise RefusedURLError(url, f"more than {MAX_REDIRECTS} redirects")


def _media_type(url: str, content_type: str) -> str | None:
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in ("text/html", "application/xhtml+xml"):
        return "text/html"
    if essence in ("text/plain", "text/markdown", "application/pdf"):
        return essence
    if essence == "text/x-markdown":
        return "text/markdown"
    if essence in ("", "application/octet-stream", "binary/octet-stream"):
        return MEDIA_TYPES.get(Path(urlsplit(url).path).suffix.lower())
    return None


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


__all__ = [
    "Expansion",
    "Input",
    "Limits",
    "NotModified",
    "Pending",
    "SourceError",
    "TextDocument",
    "Unresolvable",
    "Validators",
    "check_inputs",
    "check_text",
    "download",
    "expand",
    "fetch",
    "http_client",
    "is_url",
    "read",
    "source_id_for",
]
