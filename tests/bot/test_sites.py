"""Structured articles and whole sites, end to end: ingest, then ask and check the citation.

The site is served from 127.0.0.1 by a server the test starts and stops; the
knowledge base is allowed to reach it (``KB_ALLOW_PRIVATE_URLS``) and nothing else.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot import CrawlOptions, KnowledgeBase
from tests.conftest import REPO
from tests.documents import article_page

ARTICLE = REPO / "tests" / "data" / "local-models.md"


@dataclass
class Site:
    root: Path
    base: str
    requests: list[tuple[str, int]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Three linked pages and a sitemap, served from 127.0.0.1; every response's status logged."""
    root = tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    server_site = Site(root, "")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def send_response(self, code: int, message: str | None = None) -> None:
            server_site.requests.append((self.path, code))
            super().send_response(code, message)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server_site.base = f"http://127.0.0.1:{server.server_address[1]}"
    pages = {
        "docs/index.html": article_page(
            "Harbour ferries guide",
            [
                "This guide covers the harbour ferries that cross the bay every day of the year.",
                "Read about <a href='/docs/timetable.html'>the timetable</a> and "
                "<a href='/docs/tickets.html'>tickets</a>.",
            ],
            chrome=False,
        ),
        "docs/timetable.html": article_page(
            "Ferry timetable",
            [
                "The first ferry leaves the north pier at 6:40 in the morning on weekdays.",
                "On Sundays the last crossing departs at 21:15 from the south pier.",
                "<a href='/docs/index.html'>Back to the guide</a>",
            ],
            chrome=False,
        ),
        "docs/tickets.html": article_page(
            "Ferry tickets",
            [
                "A single ticket across the bay costs 3 euros and is valid for ninety minutes.",
                "<a href='/docs/index.html'>Back to the guide</a>",
            ],
            chrome=False,
        ),
    }
    for name, html in pages.items():
        (root / name).write_text(html, encoding="utf-8")
    urls = "".join(f"<url><loc>{server_site.base}/{name}</loc></url>" for name in pages)
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        encoding="utf-8",
    )
    try:
        yield server_site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_markdown_article_answers_from_one_table_row_and_from_a_code_block(
    kb: KnowledgeBase,
) -> None:
    report = kb.ingest([ARTICLE])
    assert report.ok and report.added, report

    size = kb.ask("How big is the Mistral 7B download?")
    assert size.answered and "4.1 GB" in size.text
    assert size.citations[0].text == "Model: Mistral 7B · Download: 4.1 GB · Licence: Apache 2.0"
    assert (
        size.citations[0].source == str(ARTICLE) and size.citations[0].section == "Download sizes"
    )

    code = kb.ask("Which ollama command runs Mistral with verbose output?")
    assert code.answered
    assert code.citations[0].text == "ollama pull mistral\nollama run mistral --verbose"

    record = kb.sources()[0]
    assert record.title == "Running open models locally" and record.tags == (
        "llm",
        "local",
        "ollama",
    )
    assert record.description == "What it takes to run an open-weight model on a laptop."


def test_a_sitemap_ingests_its_pages_and_the_second_page_answers(
    web_kb: KnowledgeBase, site: Site
) -> None:
    report = web_kb.ingest([site.url("sitemap.xml")])

    assert report.ok, report
    assert sorted(s.source for s in report.added) == sorted(
        site.url(f"docs/{n}.html") for n in ("index", "timetable", "tickets")
    )
    answer = web_kb.ask("What time does the first ferry leave on weekdays?")
    assert answer.answered and "6:40" in answer.text
    assert answer.citations[0].source == site.url("docs/timetable.html")
    assert answer.citations[0].url == site.url("docs/timetable.html")


def test_a_sitemap_url_still_obeys_the_url_safety_rules(kb: KnowledgeBase, site: Site) -> None:
    report = kb.ingest([site.url("sitemap.xml")])  # private URLs not allowed here

    assert [s.status for s in report.sources] == ["failed"]
    assert "refusing" in report.sources[0].reason
    assert site.requests == []


def test_a_crawl_follows_same_site_links_within_its_limits(
    web_kb: KnowledgeBase, site: Site
) -> None:
    one = web_kb.ingest([site.url("docs/index.html")], crawl=CrawlOptions(max_pages=2, depth=3))
    assert len(one.added) == 2

    web_kb.forget(site.url("docs/index.html"))
    shallow = web_kb.ingest([site.url("docs/index.html")], crawl=CrawlOptions(depth=0))
    assert [s.source for s in shallow.sources] == [site.url("docs/index.html")]

    everything = web_kb.ingest([site.url("docs/index.html")], crawl=CrawlOptions())
    assert everything.ok  # the navigation's dead links (/news, /about) are skipped, not failures
    found = {s.source for s in everything.sources}
    assert {site.url(f"docs/{n}.html") for n in ("index", "timetable", "tickets")} <= found
    assert all(url.startswith(site.base + "/") for url in found)
    assert web_kb.ask("How much does a single ferry ticket cost?").citations[0].source == site.url(
        "docs/tickets.html"
    )


def test_sync_refetches_conditionally_and_updates_only_changed_pages(
    web_kb: KnowledgeBase, site: Site
) -> None:
    web_kb.ingest([site.url("sitemap.xml")])
    site.requests.clear()

    unchanged = web_kb.sync()
    assert unchanged.ok and len(unchanged.unchanged) == 3 and unchanged.embedded == 0
    pages = [code for path, code in site.requests if path.startswith("/docs/")]
    assert pages == [304, 304, 304]  # Last-Modified sent back; nothing downloaded

    page = site.root / "docs" / "tickets.html"
    page.write_text(
        article_page(
            "Ferry tickets",
            ["A single ticket across the bay now costs 4 euros and is valid for two hours."],
            chrome=False,
        ),
        encoding="utf-8",
    )
    later = time.time() + 5
    os.utime(page, (later, later))
    changed = web_kb.sync()
    assert [s.source for s in changed.updated] == [site.url("docs/tickets.html")]
    assert len(changed.unchanged) == 2
    answer = web_kb.ask("How much does a single ferry ticket cost?")
    assert "4 euros" in answer.text and "3 euros" not in answer.citations[0].text


@pytest.mark.asyncio
async def test_the_discord_bot_resyncs_on_a_schedule_only_when_asked(
    web_kb: KnowledgeBase, site: Site
) -> None:
    import asyncio

    from bot.discord_bot.client import KnowledgeBot

    assert web_kb.settings.sync_hours == 0  # off by default
    web_kb.ingest([site.url("sitemap.xml")])
    page = site.root / "docs" / "tickets.html"
    page.write_text(
        article_page("Ferry tickets", ["A single ferry ticket now costs 5 euros."], chrome=False),
        encoding="utf-8",
    )
    later = time.time() + 5
    os.utime(page, (later, later))
    settings = web_kb.settings.model_copy(update={"sync_hours": 0.5 / 3600})
    bot = KnowledgeBot(web_kb, settings)
    task = asyncio.create_task(bot.sync_periodically(settings.sync_hours * 3600))
    try:
        for _ in range(120):
            await asyncio.sleep(0.25)
            if "5 euros" in " ".join(c.text for c in web_kb.search("ferry ticket cost", k=3)):
                break
        else:
            pytest.fail("the scheduled sync never picked up the changed page")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await bot.close()
