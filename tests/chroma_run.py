"""A real ``chroma run`` server on 127.0.0.1 for tests and benchmarks, stopped after use."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


@contextlib.contextmanager
def chroma_run(path: Path, log: Path) -> Iterator[int]:
    """A ``chroma run`` server on 127.0.0.1 storing in ``path``; yields its port, stops after."""
    executable = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if executable is None:
        raise RuntimeError("the chroma CLI comes with the chromadb package")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [executable, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text(errors="replace"))
                time.sleep(0.2)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
