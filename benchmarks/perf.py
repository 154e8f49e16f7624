"""Ingest and query performance.

Ingest: the pipeline's chunks/s (the product's default encoder, ONNX Runtime)
next to raw sentence-transformers ``model.encode`` of the same chunks on torch
(what ingest embedded with before, chunks only) in the same run, the ratio
between them, and a re-ingest of the unchanged documents. Query: warm ``ask``/``search`` latency on
the bundled corpus and a fresh ``kb ask`` process's time to its answer.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, SCIFACT, console, peak_rss_mb, percentile, save, table, timed

from bot import KnowledgeBase, Settings
from bot.evaluation.qa import load_questions, question_set
from ingest import ChromaStore, Ingestor
from ingest.chunk import chunk_article
from ingest.embed import ChunkEncoder
from ingest.load import TextDocument, expand, read
from ingest.parse import parse


def ingest(documents: int = 600) -> dict[str, Any]:
    docs = []
    with (SCIFACT / "corpus.jsonl").open() as handle:
        for line in itertools.islice(handle, documents):
            row = json.loads(line)
            docs.append(TextDocument(f"beir:bench/{row['_id']}", row["text"], title=row["title"]))
    encoder = ChunkEncoder()  # the product's default runtime
    encoder.encode_texts(["warm up"])
    reference = ChunkEncoder(runtime="torch")
    reference.encode_texts(["warm up"])
    chunks = [c for p in expand(docs).pending for c in chunk_article(parse(read(p)))]
    started = time.perf_counter()
    reference.model.encode(
        [c.indexed_text for c in chunks], batch_size=reference.batch_size, normalize_embeddings=True
    )
    raw = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        ingestor = Ingestor(
            ChromaStore.embedded(Path(tmp) / "chroma", "bench"), encoder=lambda: encoder
        )
        started = time.perf_counter()
        report = ingestor.ingest(docs)
        pipeline = time.perf_counter() - started
        started = time.perf_counter()
        again = ingestor.ingest(docs)
        reingest = time.perf_counter() - started
    assert report.ok and again.embedded == 0
    n = len(chunks)
    return {
        "runtime": encoder.runtime,
        "documents": len(docs),
        "chunks": n,
        "raw_chunks_per_s": n / raw,
        "pipeline_chunks_per_s": n / pipeline,
        "overhead_pct": (pipeline / raw - 1) * 100,
        "reingest_s": reingest,
        "peak_rss_mb": peak_rss_mb(),
    }


def query(repeat: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(settings=Settings(home=Path(tmp), corpus=REPO / "corpus"))
        kb.warm_up()
        questions = [  # the shipped questions about the bundled corpus, both splits
            q.question
            for split in ("dev", "test")
            for q in load_questions(question_set(split))
            if (q.source or "").startswith("corpus/") or q.kind == "out_of_scope"
        ]
        kb.ask(questions[0])
        asks = [ms for q in questions for ms in timed(lambda q=q: kb.ask(q), repeat)]
        searches = [ms for q in questions for ms in timed(lambda q=q: kb.search(q, 5), repeat)]
        cold = [_cold_ask(Path(tmp)) for _ in range(3)][1:]  # the first run warms the disk cache
    return {
        "ask_p50_ms": percentile(asks, 50),
        "ask_p95_ms": percentile(asks, 95),
        "search_p50_ms": percentile(searches, 50),
        "search_p95_ms": percentile(searches, 95),
        "cold_ask_s": min(cold),
        "samples": len(asks),
    }


def _cold_ask(home: Path) -> float:
    env = {**os.environ, "KB_HOME": str(home)}
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "kb"), "ask", "Why did EleutherAI take GPT-J offline?"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "EleutherAI" in result.stdout
    return time.perf_counter() - started


def main() -> dict[str, Any]:
    ing = ingest()
    q = query()
    console.print(
        table(
            "Ingest",
            ["Measure", "Value"],
            [
                ["Documents / chunks", f"{ing['documents']} / {ing['chunks']}"],
                ["Raw torch model.encode, chunks only", f"{ing['raw_chunks_per_s']:.1f} chunks/s"],
                [
                    f"Pipeline (load, clean, chunk, embed with {ing['runtime']}, store)",
                    f"{ing['pipeline_chunks_per_s']:.1f} chunks/s",
                ],
                ["Pipeline time over raw torch chunk embedding", f"{ing['overhead_pct']:.1f} %"],
                ["Re-ingest unchanged", f"{ing['reingest_s']:.2f} s"],
                ["Peak RSS", f"{ing['peak_rss_mb']:.0f} MB"],
            ],
        )
    )
    console.print(
        table(
            "Query (bundled corpus)",
            ["Measure", "p50", "p95"],
            [
                ["Warm ask", f"{q['ask_p50_ms']:.1f} ms", f"{q['ask_p95_ms']:.1f} ms"],
                [
                    "Warm search (k=5)",
                    f"{q['search_p50_ms']:.1f} ms",
                    f"{q['search_p95_ms']:.1f} ms",
                ],
                ["Fresh `kb ask` process to answer", f"{q['cold_ask_s']:.2f} s", ""],
            ],
        )
    )
    result = {"ingest": ing, "query": q}
    save("perf", result)
    return result


if __name__ == "__main__":
    main()
