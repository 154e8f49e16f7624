"""`kb ingest` of a folder of SciFact abstracts, end to end, on each ingest runtime.

    cd benchmarks && ../.venv/bin/python ingest_runtimes.py [--documents 600] [--rounds 2]

What a user waits for: a fresh ``kb ingest FOLDER`` process (imports, model load,
load, clean, chunk, embed, store) into an empty knowledge base, once per runtime and
round, the runtimes interleaved so the machine's noise falls on each alike. chunks/s
counts a chunk with its sentences; chunks per CPU-second (the process's user + system
time) is the same work measured without other tenants' load. ``torch`` is the earlier default's pipeline
(sentence-transformers, fp32), the baseline the issue's 2x is measured against.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import SCIFACT, console, machine, save, table

RUNTIMES = ("torch", "onnx", "auto")


def write_abstracts(folder: Path, documents: int) -> None:
    with (SCIFACT / "corpus.jsonl").open() as handle:
        for line in itertools.islice(handle, documents):
            row = json.loads(line)
            text = f"# {row['title']}\n\n{row['text']}\n"
            (folder / f"{row['_id']}.md").write_text(text, encoding="utf-8")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ingest_once(folder: Path, runtime: str) -> tuple[float, float, int]:
    """Wall and CPU seconds of a fresh ``kb ingest --json`` process, and the chunks it
    embedded. CPU time counts the work alone: on a shared machine other tenants' load
    lengthens the wall time, not the CPU time."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "KB_HOME": home,
            "KB_AUTO_INGEST": "false",
            "KB_INGEST_RUNTIME": runtime,
        }
        started, cpu = time.perf_counter(), _children_cpu()
        result = subprocess.run(
            [str(Path(sys.executable).parent / "kb"), "ingest", str(folder), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    return seconds, cpu, int(json.loads(result.stdout)["embedded"])


def main(documents: int = 600, rounds: int = 2) -> dict[str, Any]:
    runs: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
    cpu_runs: dict[str, list[float]] = {runtime: [] for runtime in RUNTIMES}
    chunks = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "abstracts"
        folder.mkdir()
        write_abstracts(folder, documents)
        for _ in range(rounds):
            for runtime in RUNTIMES:
                seconds, cpu, chunks = ingest_once(folder, runtime)
                runs[runtime].append(chunks / seconds)
                cpu_runs[runtime].append(chunks / cpu)
    baseline = statistics.median(runs["torch"])
    cpu_baseline = statistics.median(cpu_runs["torch"])
    results: dict[str, Any] = {
        "documents": documents,
        "chunks": chunks,
        "chunks_per_s": runs,
        "chunks_per_cpu_s": cpu_runs,
    }
    rows = []
    for runtime in RUNTIMES:
        speed = statistics.median(runs[runtime])
        spread = " / ".join(f"{s:.1f}" for s in runs[runtime])
        per_cpu = statistics.median(cpu_runs[runtime])
        cpu_spread = " / ".join(f"{s:.1f}" for s in cpu_runs[runtime])
        rows.append(
            [
                runtime,
                f"{speed:.1f} ({spread})",
                f"{speed / baseline:.2f}x",
                f"{per_cpu:.1f} ({cpu_spread})",
                f"{per_cpu / cpu_baseline:.2f}x",
            ]
        )
    command = "cd benchmarks && " + shlex.join(["../.venv/bin/python", *sys.argv])
    console.width = max(console.width, 150)
    console.print(f"Machine: {machine()}", soft_wrap=True)
    console.print(f"Command: {command}", soft_wrap=True)
    console.print(
        table(
            f"Fresh `kb ingest` of {documents} SciFact abstracts ({chunks} chunks), end to end",
            [
                "KB_INGEST_RUNTIME",
                "chunks/s, median (each round)",
                "vs torch",
                "chunks per CPU-s (each round)",
                "vs torch",
            ],
            rows,
        )
    )
    save("ingest_runtimes", results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    main(args.documents, args.rounds)
