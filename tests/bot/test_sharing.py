"""One embedded knowledge base shared by a long-lived process and `kb` commands.

Every process here is real: a long-lived Python process holding one
KnowledgeBase (``tests/bot/kb_worker.py``, driven over stdin/stdout) and
``python -m bot.cli`` subprocesses, all on one ``KB_HOME`` with no Chroma server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import StoreError
from ingest.lock import StoreLock
from tests.conftest import CORPUS, DEBATE, GPT_J, REPO
from tests.kb_cli import Worker, kb_env

GPT_J_QUESTION = "Why did EleutherAI take GPT-J offline?"
ZORBLAX_QUESTION = "When was the Zorblax telescope commissioned?"
ZORBLAX = """# The Zorblax telescope

The Zorblax telescope was commissioned in 2031 on the shore of Lake Tekapo. Its
mirror is eleven metres wide and was polished by the Quintara foundry over four years.
"""


@pytest.fixture
def env(tmp_path: Path, model_cache: Path) -> dict[str, str]:
    return kb_env(tmp_path / "kb", model_cache)


@pytest.fixture
def workers(env: dict[str, str]) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def kb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _lock_state(home: Path) -> dict[str, Any]:
    path = home / "chroma.lock"
    try:
        return dict(json.loads(path.read_text() or "{}"))
    except (OSError, ValueError):
        return {}


def test_a_running_process_sees_ingest_and_forget_from_the_cli(
    env: dict[str, str], workers: list[Worker], tmp_path: Path
) -> None:
    article = tmp_path / "zorblax.md"
    article.write_text(ZORBLAX, encoding="utf-8")
    worker = Worker(env)
    workers.append(worker)

    # The long-lived process writes too (as /ingest in Discord does).
    assert "1 added" in worker.request("ingest", str(CORPUS / GPT_J))["summary"]
    before = worker.request("ask", GPT_J_QUESTION)
    assert before["answered"] and before["sources"][0].endswith(GPT_J)

    added = kb(env, "ingest", str(article))
    assert added.returncode == 0, added.stderr
    after_ingest = worker.request("ask", ZORBLAX_QUESTION)
    assert after_ingest["answered"], after_ingest
    assert after_ingest["sources"][0] == str(article.resolve())
    assert "2031" in after_ingest["text"]

    # A write by the long-lived process after the CLI's must not lose the CLI's vectors.
    assert "1 added" in worker.request("ingest", str(CORPUS / DEBATE))["summary"]
    fresh = kb(env, "search", "Zorblax telescope mirror Quintara foundry", "--json")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)[0]["source"] == str(article.resolve())
    assert worker.request("search", "Zorblax telescope mirror")["sources"][0] == str(
        article.resolve()
    )

    forgotten = kb(env, "forget", str(article))
    assert forgotten.returncode == 0, forgotten.stderr
    after_forget = worker.request("ask", ZORBLAX_QUESTION)
    assert str(article.resolve()) not in after_forget["sources"]
    assert not after_forget["answered"]
    assert all(
        s != str(article.resolve())
        for s in worker.request("search", "Zorblax telescope")["sources"]
    )
    still = worker.request("ask", GPT_J_QUESTION)
    assert still["answered"] and still["sources"][0].endswith(GPT_J)
    assert _lock_state(Path(env["KB_HOME"]))["state"] == "idle"


def _articles(folder: Path, count: int) -> None:
    folder.mkdir()
    filler = (
        "Harbour records describe the tides, the cargo and the weather of each season "
        "in careful detail, with notes on repairs to the quay and the keepers' wages. "
    ) * 8
    for i in range(count):
        (folder / f"lighthouse-{i}.md").write_text(
            f"# Lighthouse {i}\n\nThe lighthouse of Quillon{i} was built by the engineer "
            f"Marrowby{i} in {1800 + i}.\n\n{filler}\n\n{filler}\n",
            encoding="utf-8",
        )


def _kill_while_writing(process: subprocess.Popen[Any], home: Path) -> None:
    """SIGKILL ``process`` while it holds the store's write lock."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = _lock_state(home)
        if state.get("state") == "writing" and state.get("pid") == process.pid:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            return
        assert process.poll() is None, "the writer finished before it could be killed"
        time.sleep(0.002)
    raise AssertionError("the writer never started writing")


def test_a_writer_killed_mid_write_is_taken_over(
    env: dict[str, str], workers: list[Worker], tmp_path: Path
) -> None:
    home = Path(env["KB_HOME"])
    folder = tmp_path / "lighthouses"
    _articles(folder, 20)
    owner = Worker(env)
    workers.append(owner)
    owner.request("ingest", str(CORPUS / GPT_J))

    owner.send("ingest", str(folder))  # the owner itself is killed mid-write
    _kill_while_writing(owner.process, home)
    assert _lock_state(home)["state"] == "writing"  # what the dead writer left

    again = kb(env, "ingest", str(folder))
    assert again.returncode == 0, again.stderr
    assert "stopped while writing" in again.stderr  # the stale lock was detected and taken over
    assert "added" in again.stdout and "failed" not in again.stdout
    assert _lock_state(home)["state"] == "idle"

    successor = Worker(env)
    workers.append(successor)
    answer = successor.request("ask", "Who built the lighthouse of Quillon17?")
    assert answer["answered"] and answer["sources"][0].endswith("lighthouse-17.md")
    assert "Marrowby17" in answer["text"]
    sources = kb(env, "sources")
    assert sources.returncode == 0 and "21 articles" in sources.stdout  # nothing lost or doubled


def test_a_running_reader_repairs_after_a_killed_cli_writer(
    env: dict[str, str], workers: list[Worker], tmp_path: Path
) -> None:
    home = Path(env["KB_HOME"])
    folder = tmp_path / "lighthouses"
    _articles(folder, 15)
    reader = Worker(env)
    workers.append(reader)
    reader.request("ingest", str(CORPUS / GPT_J))

    writer = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ingest", str(folder)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _kill_while_writing(writer, home)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()

    answer = reader.request("ask", GPT_J_QUESTION)  # keeps answering, and repairs the store
    assert answer["answered"] and answer["sources"][0].endswith(GPT_J)
    assert _lock_state(home)["state"] == "idle"
    assert kb(env, "ingest", str(folder)).returncode == 0
    answer = reader.request("ask", "Who built the lighthouse of Quillon7?")
    assert answer["sources"][0].endswith("lighthouse-7.md")


def test_a_busy_store_is_refused_with_what_to_do(tmp_path: Path) -> None:
    lock_path = tmp_path / "chroma.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib\n"
            "from ingest.lock import StoreLock\n"
            "with StoreLock(pathlib.Path(sys.argv[1])).hold('exclusive'):\n"
            "    print('holding', flush=True); sys.stdin.readline()\n",
            str(lock_path),
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(StoreError) as raised, StoreLock(lock_path, wait=0.3).hold("shared"):
            pass
        message = str(raised.value)
        assert f"pid {holder.pid}" in message and "KB_CHROMA_HOST" in message
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    with StoreLock(lock_path, wait=1).hold("exclusive") as found:
        assert found.interrupted is None  # it finished its write: nothing to repair
