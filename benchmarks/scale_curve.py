"""The scale curve: one machine's knowledge base from 10k to 1M chunks.

For each size, a synthetic embedded store (sources of 1,000 chunks: SciFact
abstracts, then their words reshuffled; random unit vectors, so the dense side
searches an index with no structure to exploit, its worst case) is written
through the adapter's ordinary ``write`` (five sources, 5,000 chunks, per call:
one Chroma upsert at its maximum batch), then measured in fresh processes:

* **build**: the first search with no saved lexical index (a full build, saved);
* **open**: a new process's first search on the saved index (opening it), after
  Chroma's own opening of the store (timed apart);
* search p50/p95 over 40 queries, k=5;
* the first search after another writer added one article (5 chunks);
* RSS of the measuring process.

Sizes run smallest first and each row is saved as soon as it is measured, so a
run stopped part way still reports the sizes it reached. While a store is being
written, its progress (chunks, seconds, chunks/s overall and over the last
interval, RSS) is saved too, so a stopped write still reports its rate.

    cd benchmarks && nice -n 10 ../.venv/bin/python scale_curve.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    add_synthetic,
    console,
    machine,
    open_store,
    percentile,
    save,
    scifact_texts,
    status_mb,
    table,
    timed,
    unit_vectors,
)

PER_SOURCE = 1000  # chunks per synthetic source (100 before: same rate, see the README)
SOURCES_PER_WRITE = 5  # 5,000 chunks per ChromaStore.write: one upsert under Chroma's 5,461
PROGRESS_EVERY = 20_000
QUERIES = [
    "vitamin D deficiency and bone fractures",
    "microRNA regulation of tumour growth",
    "statins reduce cardiovascular mortality",
    "antibiotic resistance in hospital infections",
    "sleep duration and obesity in children",
    "gene expression in embryonic stem cells",
    "smoking and lung cancer risk",
    "insulin resistance in type 2 diabetes",
]


def settings(home: Path) -> Any:
    from bot import Settings

    return Settings(home=home, auto_ingest=False)


def build(
    home: Path,
    size: int,
    name: str,
    rows: list[dict[str, Any]],
    stops: Callable[[int, float], None] | None = None,
    stop_at: frozenset[int] = frozenset(),
) -> float:
    """Write ``size`` synthetic chunks; returns the seconds the writing took.

    Progress goes to the console and into ``rows[-1]["progress"]`` (saved), so a
    write stopped part way still says how far it got and how fast. At each count
    in ``stop_at`` (multiples of a write call's chunks, so the store holds exactly
    that many), ``stops(count, write seconds so far)`` measures the store as it
    is; the time it takes is not counted as writing.
    """
    started = time.perf_counter()
    paused = 0.0
    real = scifact_texts(5183)
    rng = np.random.default_rng(7)
    progress: list[dict[str, float]] = []
    rows[-1]["progress"] = progress

    def texts(start: int) -> list[str]:
        out = []
        for i in range(start, min(start + PER_SOURCE, size)):
            if i < len(real):
                out.append(real[i])
            else:
                words = real[i % len(real)].split()
                rng.shuffle(words)
                out.append(" ".join(words))
        return out

    def note(done: int) -> None:
        elapsed = time.perf_counter() - started - paused
        last = progress[-1] if progress else {"chunks": 0, "seconds": 0.0}
        rate = (done - last["chunks"]) / max(elapsed - last["seconds"], 1e-9)
        progress.append(
            {
                "chunks": done,
                "seconds": round(elapsed, 1),
                "chunks_per_s": round(done / elapsed, 1),
                "interval_chunks_per_s": round(rate, 1),
                "rss_mb": round(status_mb("VmRSS")),
            }
        )
        console.print(
            f"  {done:,} chunks written, {elapsed:.0f} s writing, {done / elapsed:.0f} "
            f"chunks/s overall, {rate:.0f} over the last {done - int(last['chunks']):,}"
        )
        save(name, {"rows": rows})

    def sources() -> Any:
        nonlocal paused
        for start in range(0, size, PER_SOURCE):
            # A source is handed over once the previous ones are written, so every
            # PROGRESS_EVERY chunks the count below is what the store holds.
            if start and start % PROGRESS_EVERY == 0:
                note(start)
            if start in stop_at and stops is not None:
                pause = time.perf_counter()
                stops(start, pause - started - paused)
                paused += time.perf_counter() - pause
            part = texts(start)
            yield f"source-{start // PER_SOURCE}", part, unit_vectors(rng, len(part))

    store = open_store(settings(home))
    add_synthetic(store, sources(), per_write=SOURCES_PER_WRITE)
    store.close()
    return time.perf_counter() - started - paused


def first_build(home: Path) -> dict[str, Any]:
    """In its own process: the first search with no saved lexical index."""
    from bot import KnowledgeBase

    kb = KnowledgeBase(settings=settings(home))
    kb.embed(["warm up"])  # the query model loads once per process: not what is measured
    started = time.perf_counter()
    kb.search(QUERIES[0], 5)
    return {"build_index_s": time.perf_counter() - started, "build_rss_mb": status_mb("VmHWM")}


def measure(home: Path) -> dict[str, Any]:
    """In its own process: open the saved index, search, then see another writer's article."""
    from bot import KnowledgeBase

    settings_ = settings(home)
    kb = KnowledgeBase(settings=settings_)
    kb.embed(["warm up"])
    started = time.perf_counter()
    store = open_store(settings_)  # Chroma's own opening (its HNSW index), shared with kb
    store.count()
    store_open_s = time.perf_counter() - started
    started = time.perf_counter()
    kb.search(QUERIES[1], 5)
    open_s = time.perf_counter() - started
    samples = [ms for q in QUERIES * 5 for ms in timed(lambda q=q: kb.search(q, 5), 1)]
    rss = status_mb("VmRSS")

    texts = [f"The Zorblax telescope mirror, part {i}, was polished in 2031." for i in range(5)]
    writer = open_store(settings_)  # as another process would (own handle, same files)
    add_synthetic(writer, [("new-article", texts, unit_vectors(np.random.default_rng(11), 5))])
    writer.close()
    started = time.perf_counter()
    hits = kb.search("Zorblax telescope mirror", 5)
    after_add = time.perf_counter() - started
    assert hits and hits[0].source == "new-article", hits
    store.close()
    return {
        "store_open_s": store_open_s,
        "open_s": open_s,
        "search_p50_ms": percentile(samples, 50),
        "search_p95_ms": percentile(samples, 95),
        "after_add_s": after_add,
        "rss_mb": rss,
        "peak_rss_mb": status_mb("VmHWM"),
        "store_mb": sum(f.stat().st_size for f in home.rglob("*") if f.is_file()) / 2**20,
    }


def child(role: str, home: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, f"--{role}", str(home)],
        env={**os.environ, "KB_AUTO_INGEST": "false"},
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        return {"error": f"{role} exited with {out.returncode}: {out.stderr.strip()[-300:]}"}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def report(rows: list[dict[str, Any]]) -> None:
    def cell(r: dict[str, Any], key: str, fmt: str) -> str:
        return fmt.format(r[key]) if key in r else "-"

    console.print(
        table(
            "Scale curve (embedded store, kb.search k=5, fresh processes per size)",
            [
                "Chunks",
                "Write store",
                "Index build (first search, no saved index)",
                "Open the store (Chroma)",
                "Then the first search (opens the saved index)",
                "Search p50 / p95",
                "First search after 1 article added",
                "RSS",
                "On disk",
            ],
            [
                [
                    f"{r['chunks']:,}",
                    cell(r, "write_s", "{:.0f} s"),
                    cell(r, "build_index_s", "{:.1f} s"),
                    cell(r, "store_open_s", "{:.2f} s"),
                    cell(r, "open_s", "{:.2f} s"),
                    f"{r['search_p50_ms']:.0f} / {r['search_p95_ms']:.0f} ms"
                    if "search_p50_ms" in r
                    else r.get("error", "-"),
                    cell(r, "after_add_s", "{:.2f} s"),
                    cell(r, "rss_mb", "{:,.0f} MB"),
                    cell(r, "store_mb", "{:,.0f} MB"),
                ]
                for r in rows
            ],
        )
    )
    console.print(f"Machine: {machine()}")
    console.print(f"Command: {' '.join(sys.argv)}")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """docs/scale.png: search p50/p95 and RSS against chunks, for the measured rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted((r for r in rows if "search_p50_ms" in r), key=lambda r: r["chunks"])
    sizes = [r["chunks"] for r in rows]
    fig, (latency, memory) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=120)
    latency.plot(sizes, [r["search_p50_ms"] for r in rows], marker="o", label="p50")
    latency.plot(sizes, [r["search_p95_ms"] for r in rows], marker="s", linestyle="--", label="p95")
    latency.axhline(100, color="grey", linewidth=0.8, linestyle=":", label="target (p50)")
    latency.set_ylabel("kb.search k=5, warm (ms)")
    latency.set_ylim(bottom=0)
    memory.plot(sizes, [r["rss_mb"] for r in rows], marker="o", color="tab:green")
    memory.set_ylabel("RSS of the searching process (MB)")
    memory.set_ylim(bottom=0)
    for ax in (latency, memory):
        ax.set_xscale("log")
        ax.set_xlabel("chunks in the store (synthetic, embedded Chroma)")
        ax.grid(True, which="both", alpha=0.3)
    latency.legend()
    fig.suptitle("One machine: search latency and memory vs store size (2 cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def measure_row(home: Path, row: dict[str, Any], name: str, rows: list[dict[str, Any]]) -> None:
    """The fresh-process measurements of the store in ``home``, into ``row``."""
    shutil.rmtree(settings(home).index_path, ignore_errors=True)  # a full build again
    for role in ("first-build", "measure"):
        console.print(f"{row['chunks']:,} chunks: {role}")
        row.update(child(role, home))
        save(name, {"rows": rows})
        if "error" in row:
            break
    console.print(json.dumps({k: v for k, v in row.items() if k != "progress"}))


def main(sizes: list[int], name: str, on_the_way: list[int]) -> None:
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("SCALE_TMP")) as tmp:
        for size in sizes:
            home = Path(tmp) / f"s{size}"
            console.print(f"{size:,} chunks: writing the store")
            row: dict[str, Any] = {"chunks": size}
            rows.append(row)

            def stop(
                count: int,
                write_s: float,
                row: dict[str, Any] = row,
                home: Path = home,
                size: int = size,
            ) -> None:
                # Measured in the store on its way to `size` (the writer idle meanwhile);
                # the extra article each measurement adds stays (5 chunks).
                early = {"chunks": count, "write_s": write_s, "on_the_way_to": size}
                rows.insert(rows.index(row), early)
                measure_row(home, early, name, rows)

            stop_at = frozenset(n for n in on_the_way if 0 < n < size)
            row["write_s"] = build(home, size, name, rows, stop, stop_at)
            row["write_chunks_per_s"] = size / row["write_s"]
            measure_row(home, row, name, rows)
            shutil.rmtree(home, ignore_errors=True)
    report(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--first-build", type=Path)
    parser.add_argument("--measure", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 300_000])
    parser.add_argument("--name", default="scale_curve", help="results/<name>.json")
    parser.add_argument(
        "--on-the-way",
        type=int,
        nargs="*",
        default=[],
        metavar="CHUNKS",
        help="also measure each size's store when it holds this many chunks "
        f"(multiples of {PER_SOURCE * SOURCES_PER_WRITE:,})",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        nargs="+",
        metavar="JSON",
        help="plot the measured rows of these results files (later files win per size)",
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "docs/scale.png")
    args = parser.parse_args()
    if args.plot:
        by_size = {
            row["chunks"]: row
            for results in args.plot
            for row in json.loads(results.read_text())["rows"]
            if "search_p50_ms" in row
        }
        plot(list(by_size.values()), args.out)
        report(sorted(by_size.values(), key=lambda r: r["chunks"]))
    elif args.first_build:
        print(json.dumps(first_build(args.first_build)))
    elif args.measure:
        print(json.dumps(measure(args.measure)))
    else:
        main(args.sizes, args.name, args.on_the_way)
