"""Every public entry point checks its arguments; the demo corpus only lands in a new KB.

Whatever a caller passes, the only exceptions are KnowledgeBaseError subclasses
with a plain message (hand-written cases and property-based ones).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import (
    InvalidArgumentError,
    KnowledgeBase,
    KnowledgeBaseError,
    Settings,
    SourceNotFoundError,
    TextDocument,
)
from tests.conftest import REPO

# --- hand-written cases --------------------------------------------------------------

BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any], str]] = [
    ("search", ("kelp",), {"k": "5"}, "k must be a whole number"),
    ("search", ("kelp",), {"k": 2.5}, "k must be a whole number"),
    ("search", ("kelp",), {"k": True}, "k must be a whole number"),
    ("search", ("kelp",), {"k": None}, "k must be a whole number"),
    ("search", ("kelp",), {"k": 0}, "k must be between 1 and 100"),
    ("search", ("kelp",), {"k": 10**9}, "k must be between 1 and 100"),
    ("search", ("kelp",), {"source": "a\x00b"}, "NUL"),
    ("ask", ("What is GPT-J?",), {"source": "a\x00b"}, "NUL"),
    ("ask", ("What is GPT-J?",), {"source": "\ud800"}, "not valid text"),
    ("ask", ("What is GPT-J?",), {"source": 5}, "must be text"),
    ("ask", ("What is GPT-J?",), {"source": "x" * 1_000_000}, "the limit is 4,096"),
    ("ask", (None,), {}, "must be text"),
    ("forget", ("a\x00b",), {}, "NUL"),
    ("forget", ("\udcff.txt",), {}, "not valid text"),
    ("forget", (None,), {}, "must be text"),
    ("forget", ("",), {}, "empty"),
    ("resolve_source", ("/" + "x" * 1_000_000,), {}, "the limit is 4,096"),
    ("ingest", (None,), {}, "Nothing to ingest"),
    ("ingest", (5,), {}, "Cannot ingest a int"),
    ("ingest", (b"notes.txt",), {}, "Cannot ingest a bytes"),
    ("ingest", ([],), {}, "Nothing to ingest"),
    ("ingest", ("",), {}, "The path or URL is empty"),
    ("ingest", (["notes\x00.txt"],), {}, "NUL"),
    ("ingest", (["notes\ud800.txt"],), {}, "not valid text"),
    ("ingest", ("/" + "x" * 1_000_000,), {}, "the limit is 4,096"),
    ("ingest", ([Path("ok.txt"), None],), {}, "Cannot ingest a NoneType"),
    ("ingest", (TextDocument("", "text"),), {}, "document id is empty"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "message"), BAD_CALLS)
def test_bad_arguments_get_a_plain_error(
    corpus_kb: KnowledgeBase,
    method: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        getattr(corpus_kb, method)(*args, **kwargs)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 300  # never echoes a megabyte back


def test_a_path_the_file_system_refuses_is_reported_not_raised(kb: KnowledgeBase) -> None:
    report = kb.ingest(["/tmp/" + "x" * 300 + ".txt"])  # one name over NAME_MAX

    [failed] = report.failed
    assert "File name too long" in (failed.reason or "")


def test_a_file_over_kb_max_file_mb_is_refused(kb: KnowledgeBase, tmp_path: Path) -> None:
    small = KnowledgeBase(settings=kb.settings.model_copy(update={"max_file_mb": 1}))
    big = tmp_path / "big.txt"
    big.write_text("Kelp forests grow fast in summer.\n" * 40_000, encoding="utf-8")

    [failed] = small.ingest([big]).failed

    assert "too large" in (failed.reason or "") and "the limit is 1 MB" in (failed.reason or "")


# --- properties ------------------------------------------------------------------------

FEW = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ANYTHING = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=20),
    st.text(max_size=50),
    st.lists(st.text(max_size=5), max_size=3),
)
TEXT = st.text(max_size=300)  # includes NUL and lone surrogates


@FEW
@given(question=st.one_of(TEXT, ANYTHING), source=st.one_of(st.none(), TEXT, ANYTHING))
def test_ask_raises_nothing_but_knowledge_base_errors(
    corpus_kb: KnowledgeBase, question: Any, source: Any
) -> None:
    with contextlib.suppress(KnowledgeBaseError):
        corpus_kb.ask(question, source=source)


@FEW
@given(query=TEXT, k=st.one_of(st.integers(-5, 200), ANYTHING), source=st.one_of(st.none(), TEXT))
def test_search_raises_nothing_but_knowledge_base_errors(
    corpus_kb: KnowledgeBase, query: Any, k: Any, source: Any
) -> None:
    try:
        results = corpus_kb.search(query, k, source=source)
    except KnowledgeBaseError:
        return
    assert len(results) <= k


@FEW
@given(name=st.one_of(TEXT, ANYTHING))
def test_resolve_and_forget_raise_nothing_but_knowledge_base_errors(
    kb: KnowledgeBase, corpus_kb: KnowledgeBase, name: Any
) -> None:
    for call in (corpus_kb.resolve_source, kb.forget):  # kb is empty: forget removes nothing
        with contextlib.suppress(KnowledgeBaseError):
            call(name)


NAMES = st.text(max_size=300).filter(lambda n: "/" not in n and n not in (".", ".."))


@FEW
@given(
    inputs=st.one_of(
        ANYTHING,
        st.lists(st.one_of(ANYTHING, NAMES.map(lambda n: Path("/nonexistent-kb-test") / n))),
        st.builds(TextDocument, st.text(max_size=30), st.text(max_size=15)),
    )
)
@example(inputs="~0")  # a user with no home folder: pathlib raised RuntimeError
def test_ingest_raises_nothing_but_knowledge_base_errors(kb: KnowledgeBase, inputs: Any) -> None:
    # Nothing here exists or has 20 characters of text, so no model is loaded.
    try:
        report = kb.ingest(inputs)
    except KnowledgeBaseError:
        return
    assert not report.added


def test_a_home_folder_of_no_user_is_reported_not_raised(kb: KnowledgeBase) -> None:
    report = kb.ingest(["~no-such-user-kb/notes.md", "~0"])

    assert [s.status for s in report.sources] == ["failed", "failed"]
    assert "no home folder for '~no-such-user-kb'" in report.sources[0].reason


# --- the demo corpus --------------------------------------------------------------------


def test_a_knowledge_base_whose_first_ingest_failed_gets_no_demo_corpus(
    settings: Settings, tmp_path: Path
) -> None:
    first = KnowledgeBase(settings=settings)
    assert first.ingest([tmp_path / "typo.txt"]).failed  # nothing written

    later = KnowledgeBase(settings=settings)  # the next process

    assert later.sources() == []
    with pytest.raises(SourceNotFoundError):
        later.resolve_source("ultimate-debate-open-vs-closed-source-llms.txt")


@pytest.fixture
def stalling_server() -> Iterator[str]:
    """A 127.0.0.1 server that accepts a request and never answers (until the test ends)."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(60)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/article.html"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


def test_a_first_ingest_killed_midway_leaves_a_used_knowledge_base(
    settings: Settings, stalling_server: str
) -> None:
    home = settings.home
    env = {
        **os.environ,
        "KB_HOME": str(home),
        "KB_MODEL_CACHE": str(settings.model_cache),
        "KB_ALLOW_PRIVATE_URLS": "true",
        "KB_FETCH_TIMEOUT": "60",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", stalling_server],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (home / "used").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (home / "used").exists()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    later = KnowledgeBase(settings=settings)  # auto_ingest is on

    assert later.sources() == []
    assert later.passage_count() == 0


def test_a_knowledge_base_with_articles_from_before_the_marker_is_left_alone(
    settings: Settings, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Kelp\n\nKelp forests grow half a metre a day in summer.\n", "utf-8")
    KnowledgeBase(settings=settings).ingest([notes])
    (settings.home / "used").unlink()  # as an older version left it

    later = KnowledgeBase(settings=settings)

    assert [r.title for r in later.sources()] == ["Kelp"]
    assert (settings.home / "used").exists()
