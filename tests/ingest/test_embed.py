"""Which runtime embeds a batch, and bf16's vectors against fp32's (real model)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

import ingest.embed as embed
from ingest.chunk import chunk_article
from ingest.embed import BF16_WORTH, ChunkEncoder
from ingest.load import expand, read
from ingest.models import Chunk, EmbeddedChunk
from ingest.parse import parse
from ingest.pipeline import BATCH_CHUNKS, Ingestor
from ingest.store import ChromaStore
from ingest.torch_encoder import _cpu_has
from tests.conftest import REPO
from tests.fake_embedder import EMBED


@pytest.mark.parametrize("amx", [True, False])
def test_auto_takes_bf16_only_for_a_large_ingest_on_a_cpu_with_amx(
    amx: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embed, "multiplies_bf16", lambda: amx)
    auto = ChunkEncoder()

    assert auto.runtime == "auto"
    assert auto.runtime_for(BF16_WORTH - 1) == "onnx"  # a few articles: torch takes long to load
    assert auto.runtime_for(BF16_WORTH) == ("torch-bf16" if amx else "onnx")
    assert ChunkEncoder(runtime="onnx").runtime_for(10 * BF16_WORTH) == "onnx"  # chosen: kept


def test_amx_is_read_from_the_cpu_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n")
    assert _cpu_has("amx_bf16", cpuinfo)
    assert not _cpu_has("amx_int8", cpuinfo)
    assert not _cpu_has("amx_bf16", tmp_path / "missing")  # not Linux: no bf16, no error


def test_bf16_vectors_mean_what_fp32_vectors_mean(model_cache: Path) -> None:
    chunks = [c for p in expand([REPO / "corpus"]).pending for c in chunk_article(parse(read(p)))]
    chunks = chunks[::4]
    fp32 = ChunkEncoder(runtime="onnx", cache_dir=model_cache).encode(chunks)
    seen: list[int] = []

    bf16 = ChunkEncoder(runtime="torch-bf16", cache_dir=model_cache).encode(chunks, seen.append)

    assert seen[-1] == len(chunks)
    for a, b in zip(fp32, bf16):
        assert b.vector.dtype == np.float32 and np.linalg.norm(b.vector) == pytest.approx(
            1, abs=1e-5
        )
        assert float(a.vector @ b.vector) > 0.9999
        assert b.sentence_vectors.shape == a.sentence_vectors.shape
        assert np.min(np.sum(a.sentence_vectors * b.sentence_vectors, axis=1)) > 0.9999


class _RecordingEncoder:
    """Fake vectors; remembers each call's batch size and the ingest's total."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None]] = []

    def encode(
        self,
        chunks: Sequence[Chunk],
        progress: Callable[[int], None] | None = None,
        ingest_total: int | None = None,
    ) -> list[EmbeddedChunk]:
        self.calls.append((len(chunks), ingest_total))
        if progress:
            progress(len(chunks))
        return EMBED.embed_chunks(chunks)


def test_every_batch_of_an_ingest_tells_the_encoder_the_whole_ingest_size(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for n in range(40):  # about 400 chunks: two write batches of about BATCH_CHUNKS
        paragraphs = [
            f"Note {n}, part {p}: " + f"otters and beavers {n} {p} " * 60 for p in range(10)
        ]
        (folder / f"note-{n}.md").write_text(f"# Note {n}\n\n" + "\n\n".join(paragraphs))
    encoder = _RecordingEncoder()
    store = ChromaStore.embedded(tmp_path / "chroma", "test")

    report = Ingestor(store, encoder=lambda: encoder).ingest([folder])

    assert report.ok and len(encoder.calls) >= 2
    total = sum(size for size, _ in encoder.calls)
    assert total > BATCH_CHUNKS and all(seen == total for _, seen in encoder.calls)
