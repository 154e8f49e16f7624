"""The ``kb`` command for tests: in this process through typer's ``CliRunner`` (fast), or
as a user runs it in its own process; and a long-lived process holding a KnowledgeBase
(``tests/bot/kb_worker.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO


@dataclass(frozen=True)
class KbResult:
    """What a ``kb`` run left: its exit code and what it wrote (as ``CompletedProcess`` has them)."""

    returncode: int
    stdout: str
    stderr: str


def invoke_kb(
    args: list[str], home: Path, model_cache: Path, input: str | None = None, **extra_env: str
) -> KbResult:
    """``kb *args`` in this process, with the environment :func:`run_kb` gives a process.

    The CLI is the same code either way; what differs is only the process around it
    (one test, :func:`run_kb`, keeps that honest). An exception that escapes the CLI
    (a bug: it turns every error into a message and an exit code) fails the test
    with its traceback.
    """
    from typer.testing import CliRunner

    from bot.cli import app

    env: dict[str, str | None] = {
        "KB_HOME": str(home),
        "KB_MODEL_CACHE": str(model_cache),
        "KB_COLLECTION": None,
        **extra_env,
    }
    result = CliRunner().invoke(app, args, input=input, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return KbResult(result.exit_code, result.stdout, result.stderr)


def run_kb(
    args: list[str], home: Path, model_cache: Path, input: str | None = None, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m bot.cli *args`` in a process of its own, with ``KB_HOME`` and
    ``KB_MODEL_CACHE`` set, from the repo: ``kb`` exactly as a user runs it."""
    env = {**os.environ, "KB_HOME": str(home), "KB_MODEL_CACHE": str(model_cache), **extra_env}
    env.pop("KB_COLLECTION", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        input=input,
    )


def kb_env(home: Path, model_cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``kb`` process on ``home`` that never ingests the bundled corpus."""
    return {
        **os.environ,
        "KB_HOME": str(home),
        "KB_MODEL_CACHE": str(model_cache),
        "KB_AUTO_INGEST": "false",
        "PYTHONPATH": str(REPO),
        "OMP_WAIT_POLICY": "PASSIVE",
        **extra,
    }


class Worker:
    """The long-lived process: one KnowledgeBase answering requests until stdin closes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot.kb_worker"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.pid = int(self._line()["ready"])

    def _line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, f"the worker exited with {self.process.wait(timeout=10)}"
        return dict(json.loads(line))

    def send(self, op: str, arg: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, "arg": arg}) + "\n")
        self.process.stdin.flush()

    def request(self, op: str, arg: str) -> dict[str, Any]:
        self.send(op, arg)
        reply = self._line()
        assert reply["ok"], reply
        return reply

    def stop(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
