"""Shared helpers for the benchmark scripts: timing, tables, machine description."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bot.process import set_up_process

if TYPE_CHECKING:
    pass

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SCIFACT = REPO.parent / "shared" / "datasets" / "scifact"
console = Console(highlight=False)

# Benchmarks run in a process set up as the product's (thread policy, no hub calls).
set_up_process()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[int(q) - 1]


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds per call over ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> None:
    """Forget the peak a forked child inherits from its parent (Linux 4.0+)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def table(title: str, columns: list[str], rows: Iterable[list[Any]]) -> Table:
    out = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        out.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        out.add_row(*[str(v) for v in row])
    return out


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "argv": sys.argv, **data}, indent=2))
    return path


def open_store(settings: Any) -> Any:
    """The Chroma adapter for ``settings`` (embedded, or the server it names), for building
    synthetic stores without going through a KnowledgeBase's internals."""
    from ingest.store import ChromaStore

    if settings.chroma_host:
        return ChromaStore.server(settings.chroma_host, settings.chroma_port, settings.collection)
    return ChromaStore.embedded(settings.store_path, settings.collection)


def add_synthetic(
    store: Any,
    sources: Iterable[tuple[str, list[str], Any]],
    *,
    per_write: int = 20,
) -> int:
    """Write synthetic sources ``(source id, chunk texts, unit vectors)`` through the
    adapter's ordinary :meth:`~ingest.store.ChromaStore.write` (pending markers,
    records with chunk digests, revision bump), ``per_write`` sources per call.

    Each chunk is one quotable sentence and carries no sentence vector (the answerer
    then reads it without sentence similarities): the chunk side is what is measured.
    Returns how many chunks were written.
    """
    import datetime as dt

    from ingest.embedding_model import DIMENSIONS
    from ingest.models import Chunk, EmbeddedChunk, Span
    from ingest.store import SourceRecord, SourceWrite, chunk_digest

    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    no_sentences = np.zeros((0, DIMENSIONS), dtype=np.float32)
    pending: list[Any] = []
    written = 0
    for source, texts, vectors in sources:
        chunks = [
            Chunk(
                id=f"{source}#{i}:{chunk_digest([text])[:8]}",
                source_id=source,
                title=source,
                section="",
                text=text,
                start=0,
                end=len(text),
                position=i,
                header="",
                sentences=(Span(0, len(text)),),
                sentence_sections=("",),
            )
            for i, text in enumerate(texts)
        ]
        embedded = [EmbeddedChunk(np.asarray(v, dtype=np.float32), no_sentences) for v in vectors]
        record = SourceRecord(source, source, "text", chunk_digest(texts), len(chunks), now)
        pending.append(SourceWrite(record, chunks, embedded))
        written += len(chunks)
        if len(pending) == per_write:
            store.write(pending)
            pending = []
    if pending:
        store.write(pending)
    return written


def unit_vectors(rng: Any, n: int, dimensions: int = 384) -> Any:

    vectors = rng.normal(size=(n, dimensions)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def scifact_texts(n: int) -> list[str]:
    """``n`` passage texts: SciFact abstracts (title and text, at most 1,200 characters),
    then reversed copies of them once the 5,183 abstracts run out."""
    texts: list[str] = []
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            doc = json.loads(line)
            texts.append(f"{doc.get('title', '')}. {doc.get('text', '')}"[:1200])
            if len(texts) == n:
                break
    real = len(texts)
    while len(texts) < n:
        texts.append(texts[len(texts) % real][::-1])
    return texts


@contextlib.contextmanager
def chroma_server(path: Path, log: Path) -> Iterator[int]:
    """A ``chroma run`` server on 127.0.0.1 storing in ``path``; yields its port, stops after."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.chroma_run import chroma_run

    with chroma_run(path, log) as port:
        yield port
