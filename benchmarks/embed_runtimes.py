"""Ingest embedding through torch, ONNX fp32 and ONNX int8, on the same chunks.

    cd benchmarks && ../.venv/bin/python embed_runtimes.py [--documents 600]

Each runtime embeds the same SciFact chunks and every sentence of each (what
``ChunkEncoder.encode`` does at ingest); chunks/s counts a chunk with its
sentences. Agreement is the cosine between each runtime's vectors and torch's
(sentence-transformers, the reference), over the chunk vectors and the sentence
vectors. ONNX runs on every core with length-sorted batches; the int8 model is
``onnxruntime.quantization.quantize_dynamic`` of the fp32 export.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import SCIFACT, console, machine, save, table

from ingest.chunk import chunk_article
from ingest.embed import ChunkEncoder, Runtime
from ingest.load import TextDocument, expand, read
from ingest.models import Chunk
from ingest.onnx_encoder import OnnxEncoder, quantize_onnx
from ingest.parse import parse

RUNTIMES: list[tuple[str, Runtime, bool]] = [  # label, runtime, int8 per channel
    ("torch (sentence-transformers, today)", "torch", True),
    ("ONNX fp32", "onnx", True),
    ("ONNX int8, quantize_dynamic defaults", "onnx-int8", False),
    ("ONNX int8, per-channel weights", "onnx-int8", True),
    ("torch, bf16 autocast (AMX)", "torch-bf16", True),
]


def scifact_chunks(documents: int) -> list[Chunk]:
    docs = []
    with (SCIFACT / "corpus.jsonl").open() as handle:
        for line in itertools.islice(handle, documents):
            row = json.loads(line)
            docs.append(TextDocument(f"beir:bench/{row['_id']}", row["text"], title=row["title"]))
    return [c for p in expand(docs).pending for c in chunk_article(parse(read(p)))]


def _agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    cosines = np.sum(a * b, axis=1)
    return float(cosines.mean()), float(cosines.min())


def main(documents: int = 600, cache_dir: Path | None = None) -> dict[str, Any]:
    chunks = scifact_chunks(documents)
    sentences = sum(len(c.sentences) for c in chunks)
    results: dict[str, Any] = {"documents": documents, "chunks": len(chunks)}
    results["sentences"] = sentences
    reference: tuple[np.ndarray, np.ndarray] | None = None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, runtime, per_channel in RUNTIMES:
            encoder = ChunkEncoder(runtime=runtime, cache_dir=cache_dir or Path(tmp))
            if not per_channel:  # the product quantises per channel; this row shows why
                path = quantize_onnx(encoder.cache_dir, per_channel=False)
                encoder._onnx = OnnxEncoder(path, threads=encoder.threads, spin=False)
            encoder.encode(chunks[:2])  # load (and export once) outside the timing
            started = time.perf_counter()
            embedded = encoder.encode(chunks)
            seconds = time.perf_counter() - started
            vectors = np.stack([e.vector for e in embedded])
            sentence_vectors = np.concatenate([e.sentence_vectors for e in embedded])
            if reference is None:
                reference = (vectors, sentence_vectors)
            chunk_mean, chunk_min = _agreement(vectors, reference[0])
            sentence_mean, sentence_min = _agreement(sentence_vectors, reference[1])
            speed = len(chunks) / seconds
            key = runtime if per_channel else f"{runtime}-per-tensor"
            results[key] = {
                "chunks_per_s": speed,
                "seconds": seconds,
                "chunk_cosine_mean": chunk_mean,
                "chunk_cosine_min": chunk_min,
                "sentence_cosine_mean": sentence_mean,
                "sentence_cosine_min": sentence_min,
            }
            torch_speed = results["torch"]["chunks_per_s"]
            rows.append(
                [
                    label,
                    f"{speed:.1f}",
                    f"{speed / torch_speed:.2f}x",
                    f"{chunk_mean:.5f} / {chunk_min:.5f}",
                    f"{sentence_mean:.5f} / {sentence_min:.5f}",
                ]
            )
            del encoder
    command = "cd benchmarks && " + shlex.join(["../.venv/bin/python", *sys.argv])
    console.width = max(console.width, 140)
    console.print(f"Machine: {machine()}", soft_wrap=True)
    console.print(f"Command: {command}", soft_wrap=True)
    console.print(
        table(
            f"Ingest embedding, {len(chunks)} chunks of {documents} SciFact abstracts"
            f" + their {sentences} sentences",
            [
                "Runtime",
                "chunks/s",
                "vs torch",
                "cosine to torch: chunks, mean / min",
                "sentences, mean / min",
            ],
            rows,
        )
    )
    save("embed_runtimes", results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    main(args.documents, args.cache_dir)
