"""Search latency and memory at 1k, 10k and 100k chunks, with a plot.

Stores are built from the SciFact chunks of the product's evaluation store
(real text and vectors), topped up with synthetic chunks (words of real chunks
reshuffled, vectors jittered around real ones) to reach 100k. Each size is
measured in a fresh process, so memory figures are that size's alone.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    REPO,
    RESULTS,
    SCIFACT,
    add_synthetic,
    console,
    open_store,
    percentile,
    reset_peak_rss,
    save,
    status_mb,
    table,
    timed,
)

from bot import KnowledgeBase, Settings
from bot.evaluation.beir import load_beir

SIZES = (1_000, 10_000, 100_000)


def build(source_home: Path, target_home: Path, size: int, seed: int = 7) -> None:
    from ingest.store import ChromaStore

    source = Settings(home=source_home, auto_ingest=False)
    store = ChromaStore.embedded(source.store_path, source.collection)  # read as stored
    try:
        chunks = list(store.all_chunks())
        vectors = store.chunk_vectors([c.id for c in chunks])
    finally:
        store.close()
    texts = [c.indexed_text for c in chunks]
    matrix = np.stack([vectors[c.id] for c in chunks])
    rng = np.random.default_rng(seed)
    out_texts, out_vectors = [], []
    for i in range(size):
        j = i % len(chunks)
        if i < len(chunks):
            text, vector = texts[j], matrix[j]
        else:
            words = texts[j].split()
            rng.shuffle(words)
            text = " ".join(words)
            vector = matrix[j] + rng.normal(0, 0.03, matrix.shape[1]).astype(np.float32)
            vector /= np.linalg.norm(vector)
        out_texts.append(text)
        out_vectors.append(vector)
    store = open_store(Settings(home=target_home, auto_ingest=False))
    per = 1000
    add_synthetic(
        store,
        (
            (f"scale-{s}", out_texts[s : s + per], np.stack(out_vectors[s : s + per]))
            for s in range(0, size, per)
        ),
    )
    store.close()


def measure(home: Path, queries: list[str]) -> dict[str, Any]:
    reset_peak_rss()
    kb = KnowledgeBase(settings=Settings(home=home, auto_ingest=False))
    started = time.perf_counter()
    kb.search(queries[0], 5)  # builds the lexical index for this store
    first = time.perf_counter() - started
    samples = [ms for q in queries for ms in timed(lambda q=q: kb.search(q, 5), 1)]
    return {
        "chunks": kb.passage_count(),
        "first_search_s": first,
        "search_p50_ms": percentile(samples, 50),
        "search_p95_ms": percentile(samples, 95),
        "peak_rss_mb": status_mb("VmHWM"),
        "rss_mb": status_mb("VmRSS"),
    }


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.plot(sizes, [r["search_p50_ms"] for r in rows], marker="o", label="p50")
    ax.plot(sizes, [r["search_p95_ms"] for r in rows], marker="s", linestyle="--", label="p95")
    ax.axhline(100, color="grey", linewidth=0.8, linestyle=":", label="target (100 ms at p50)")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the store")
    ax.set_ylabel("kb.search latency (ms)")
    ax.set_title("Hybrid search latency vs store size")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


def main(source_home: Path) -> list[dict[str, Any]]:
    dataset = load_beir(SCIFACT)
    queries = [dataset.queries[q] for q in list(dataset.qrels)[:100]]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            home = Path(tmp) / f"s{size}"
            started = time.perf_counter()
            build(source_home, home, size)
            build_s = time.perf_counter() - started
            out = subprocess.run(
                [sys.executable, __file__, "--measure", str(home)],
                input=json.dumps(queries),
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            row["build_s"] = build_s
            rows.append(row)
    console.print(
        table(
            "Search at scale (hybrid, k=5, one process per size)",
            ["Chunks", "p50", "p95", "First search (index build)", "Peak RSS", "RSS after"],
            [
                [
                    f"{r['chunks']:,}",
                    f"{r['search_p50_ms']:.1f} ms",
                    f"{r['search_p95_ms']:.1f} ms",
                    f"{r['first_search_s']:.1f} s",
                    f"{r['peak_rss_mb']:.0f} MB",
                    f"{r['rss_mb']:.0f} MB",
                ]
                for r in rows
            ],
        )
    )
    plot(rows, RESULTS / "scale.png")  # docs/scale.png is drawn by scale_curve.py
    save("scale", {"rows": rows})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", type=Path)
    parser.add_argument(
        "--source", type=Path, default=REPO / "benchmarks" / "results" / "scifact-store"
    )
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, json.loads(sys.stdin.read()))))
    else:
        main(args.source)
