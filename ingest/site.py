"""Whole sites: the pages a sitemap lists, or those a same-site crawl reaches.

Every request goes through :func:`ingest.load.download`, so the URL safety
rules (no private addresses unless allowed, every redirect hop checked, one
deadline and a size cap per download) apply to sitemaps, crawled pages and the
pages they lead to alike.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from ingest.errors import SourceError, UnreadableSourceError
from ingest.load import Limits, Pending, Unresolvable, download, fetch
from ingest.models import SourceMeta

log = logging.getLogger(__name__)

MAX_SITEMAP_PAGES = 1000
"""Most pages taken from one sitemap (an index and its sitemaps together)."""
MAX_SITEMAP_FILES = 20
"""Most sitemap files read for one sitemap index."""
DEFAULT_MAX_PAGES = 50
DEFAULT_DEPTH = 3
_XML_TYPES = ("application/xml", "text/xml", "application/rss+xml", "application/atom+xml")
_NOT_PAGES = frozenset(
    """.png .jpg .jpeg .gif .svg .webp .ico .css .js .json .xml .zip .gz .tar .tgz .mp4 .mp3
    .woff .woff2 .ttf .eot .exe .dmg .whl .csv""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class CrawlOptions:
    """How far ``kb ingest --crawl`` goes from each start URL.

    Args:
        max_pages: Most pages fetched per start URL (the start page included).
        depth: Most links followed from the start page (0 = the start page only).
    """

    max_pages: int = DEFAULT_MAX_PAGES
    depth: int = DEFAULT_DEPTH


@dataclass
class SiteExpansion:
    pages: list[Pending] = field(default_factory=list)
    problems: list[Unresolvable] = field(default_factory=list)


def looks_like_sitemap(url: str) -> bool:
    """``…/sitemap.xml``, ``…/sitemap_index.xml`` or any other ``.xml`` URL."""
    path = urlsplit(url).path.lower()
    return path.endswith(".xml")


def sitemap_pages(
    url: str, client: httpx.Client, limits: Limits, max_pages: int = MAX_SITEMAP_PAGES
) -> list[str]:
    """The page URLs a sitemap (or a sitemap index) lists, on the sitemap's own site.

    Raises:
        SourceError: The sitemap cannot be fetched or is not a sitemap.
    """
    pages: list[str] = []
    queue = deque([url])
    read = 0
    host = _site(url)
    while queue and len(pages) < max_pages and read < MAX_SITEMAP_FILES:
        current = queue.popleft()
        read += 1
        got = download(
            current,
            client,
            limits,
            lambda final, content_type: _is_xml(final, content_type),
            expected="an XML sitemap",
        )
        kind, locations = _parse_sitemap(got.data, current)
        for location in locations:
            if _site(location) != host:
                log.info("%s lists %s, on another site: skipped", current, location)
                continue
            if kind == "index":
                queue.append(location)
            elif location not in pages:
                pages.append(location)
                if len(pages) >= max_pages:
                    break
    return pages


def _is_xml(url: str, content_type: str) -> bool:
    essence = content_type.split(";", 1)[0].strip().lower()
    if essence in _XML_TYPES or essence.endswith("+xml"):
        return True
    return essence in ("", "application/octet-stream", "text/plain") and url.lower().endswith(
        ".xml"
    )


def _parse_sitemap(data: bytes, url: str) -> tuple[str, list[str]]:
    """("urlset" or "index", the <loc> URLs), read without entities or network access."""
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableSourceError(url, f"not a valid XML sitemap ({exc})") from exc
    name = etree.QName(root).localname.lower()
    if name not in ("urlset", "sitemapindex"):
        raise UnreadableSourceError(url, f"not a sitemap (its root element is <{name}>)")
    locations = []
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname == "loc":
            text = (element.text or "").strip()
            if text.startswith(("http://", "https://")):
                locations.append(urldefrag(text)[0])
    return ("index" if name == "sitemapindex" else "urlset"), locations


def _site(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def crawl(start: str, client: httpx.Client, limits: Limits, options: CrawlOptions) -> SiteExpansion:
    """Fetch ``start`` and the same-site pages its links lead to, breadth first.

    Pages are returned already fetched (the ingest does not download them
    again). Only the start page is reported when it cannot be fetched: a broken
    link found on the way (a 404, a PNG behind an .html name) is logged and
    skipped, not counted against the ingest.
    """
    result = SiteExpansion()
    site = _site(start)
    queue: deque[tuple[str, int]] = deque([(urldefrag(start)[0], 0)])
    seen = {queue[0][0]}
    while queue and len(result.pages) < options.max_pages:
        url, depth = queue.popleft()
        try:
            raw = fetch(url, client, limits)
        except SourceError as exc:
            if depth == 0:
                result.problems.append(Unresolvable(url, exc.reason))
            else:
                log.warning("crawl: skipped %s (%s)", url, exc.reason)
            continue
        result.pages.append(Pending(url, "url", url=url, meta=SourceMeta(url=url), raw=raw))
        if depth >= options.depth or raw.media_type != "text/html":
            continue
        base = raw.final_url or url
        for link in page_links(raw.data, base):
            if link in seen or _site(link) != site:
                continue
            seen.add(link)
            queue.append((link, depth + 1))
    return result


def page_links(html: bytes, base: str) -> list[str]:
    """The http(s) links of a page, absolute, without fragments, in page order."""
    import lxml.html
    from lxml import etree

    try:
        document = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base_tag = document.find(".//base[@href]")
    if base_tag is not None:
        base = urljoin(base, base_tag.get("href", ""))
    links: list[str] = []
    for anchor in document.iter("a"):
        href = (anchor.get("href") or "").strip()
        rel = (anchor.get("rel") or "").lower()
        if (
            not href
            or href.startswith(("#", "mailto:", "javascript:", "tel:"))
            or "nofollow" in rel
        ):
            continue
        absolute = urldefrag(urljoin(base, href))[0]
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https"):
            continue
        if PurePosixPath(parts.path).suffix.lower() in _NOT_PAGES:
            continue
        if absolute not in links:
            links.append(absolute)
    return links


def expand_sites(
    pending: list[Pending],
    client: httpx.Client,
    limits: Limits,
    crawl_options: CrawlOptions | None = None,
) -> tuple[list[Pending], list[Unresolvable]]:
    """Replace sitemap URLs by the pages they list, and with ``crawl_options`` crawl every URL."""
    pages: list[Pending] = []
    problems: list[Unresolvable] = []
    for item in pending:
        if item.kind != "url" or item.url is None or item.raw is not None:
            pages.append(item)
        elif looks_like_sitemap(item.url):
            cap = crawl_options.max_pages if crawl_options else MAX_SITEMAP_PAGES
            try:
                listed = sitemap_pages(item.url, client, limits, cap)
            except SourceError as exc:
                problems.append(Unresolvable(item.url, exc.reason))
                continue
            if not listed:
                problems.append(Unresolvable(item.url, "the sitemap lists no pages on its site"))
            pages.extend(
                Pending(page, "url", url=page, meta=SourceMeta(url=page), site=item.url)
                for page in listed
            )
        elif crawl_options is not None:
            found = crawl(item.url, client, limits, crawl_options)
            pages.extend(found.pages)
            problems.extend(found.problems)
        else:
            pages.append(item)
    unique: dict[str, Pending] = {}
    for page in pages:
        unique.setdefault(page.source_id, page)
    return list(unique.values()), problems
