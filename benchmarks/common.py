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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from bot.process import set_up_process

if TYPE_CHECKING:
    from bot import Settings

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
SCIFACT = REPO.parent / "shared" / "datasets" / "scifact"
console = Console(highlight=False)

# Benchmarks run in a process set up as the product's (thread policy, no hub calls).
set_up_process()


def write_synthetic(
    settings: Settings, source: str, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray
) -> None:
    """Store ready-made passages and their vectors as one source, without the model.

    Goes straight to the store adapter, like another process writing to the same
    folder: a benchmark of search at scale needs many passages, not their embedding.
    Each passage is one sentence whose vector is the passage's own.
    """
    from ingest.models import Chunk, EmbeddedChunk, Span
    from ingest.store import ChromaStore, SourceRecord, SourceWrite

    chunks = [
        Chunk(
            id=chunk_id,
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
        for i, (chunk_id, text) in enumerate(zip(ids, texts))
    ]
    unit = np.asarray(vectors, dtype=np.float32)
    embedded = [EmbeddedChunk(v, v.reshape(1, -1)) for v in unit]
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    record = SourceRecord(source, source, "synthetic", "", len(chunks), now)
    store = ChromaStore.embedded(settings.store_path, settings.collection)
    try:
        store.write([SourceWrite(record, chunks, embedded)])
    finally:
        store.close()


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
