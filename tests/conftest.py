"""Shared fixtures: real Chroma in temporary folders, the real embedding model.

The model is loaded once per session; the ONNX query model is exported once
per session into a temporary cache. Nothing is ever written into the repository.

Tests are marked for the two tiers by the fixtures they use (see
:func:`pytest_collection_modifyitems`): ``make test-fast`` runs what is left
after ``-m "not slow and not server and not discord"``, ``make test`` runs all.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot import KnowledgeBase, Settings
from bot.process import set_up_process
from ingest.store import ChromaStore
from tests.chroma_run import chroma_run

set_up_process()  # the test session is an entry point, like ``kb``: before any model loads

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"

GPT_J = "open-vs-closed-source-language-models-technical-analysis.txt"
DEBATE = "ultimate-debate-open-vs-closed-source-llms.txt"
DOMINATE = "open-vs-closed-source-ai-which-llm-will-dominate.txt"


# A fixture in a test's closure marks it: every fixture that builds a knowledge base or
# runs the real model depends on model_cache (settings, kb, web_kb, corpus_kb, ...).
TIER_FIXTURES = {
    "model_cache": "slow",
    "chroma_server": "server",
    "emulator": "discord",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in TIER_FIXTURES.items():
            if fixture in used:
                item.add_marker(marker)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export per test session."""
    return tmp_path_factory.mktemp("model-cache")


def make_settings(home: Path, model_cache: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"home": home, "model_cache": model_cache, "corpus": CORPUS}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, model_cache: Path) -> Settings:
    return make_settings(tmp_path / "kb", model_cache)


@pytest.fixture
def kb(settings: Settings) -> KnowledgeBase:
    """An empty knowledge base that does not auto-ingest."""
    return KnowledgeBase(settings=settings.model_copy(update={"auto_ingest": False}))


@pytest.fixture
def web_kb(settings: Settings) -> KnowledgeBase:
    """Like ``kb``, but URLs may reach this machine: for tests with a 127.0.0.1 web server."""
    return KnowledgeBase(
        settings=settings.model_copy(update={"auto_ingest": False, "allow_private_urls": True})
    )


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> KnowledgeBase:
    """The bundled corpus, ingested once per session. Read-only for tests."""
    home = tmp_path_factory.mktemp("corpus-kb")
    kb = KnowledgeBase(settings=make_settings(home, model_cache))
    report = kb.ingest([CORPUS])
    assert report.ok, report
    return kb


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the corpus that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@contextmanager
def open_store(settings: Settings) -> Iterator[ChromaStore]:
    """The embedded Chroma store of a knowledge base, opened through the adapter (as another
    reader of the same folder would), for tests that check what was written."""
    store = ChromaStore.embedded(settings.store_path, settings.collection)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def fake_store(tmp_path: Path) -> Iterator[ChromaStore]:
    """An empty embedded Chroma store in ``tmp_path`` that embeds with the fake embedder."""
    from tests.fake_embedder import EMBED

    store = ChromaStore.embedded(tmp_path / "chroma", "test", embed_query=EMBED)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """A real Chroma server on 127.0.0.1, stopped after the test."""
    with chroma_run(tmp_path / "server", tmp_path / "chroma.log") as port:
        yield port


@dataclass
class WebServer:
    root: Path
    base_url: str

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[WebServer]:
    """A static HTTP server on 127.0.0.1 serving ``tmp_path/www``; stopped after the test."""
    root = tmp_path / "www"
    root.mkdir()

    def handler(*args: Any, **kwargs: Any) -> _QuietHandler:
        return _QuietHandler(*args, directory=str(root), **kwargs)

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebServer(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
