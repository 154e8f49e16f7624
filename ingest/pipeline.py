"""Ingest: load -> clean -> chunk -> embed -> store, incrementally.

A source whose content hash is already recorded in the store is skipped
without being parsed or embedded. A changed source is re-chunked; chunks whose
text did not change keep their stored vectors (chunk ids are content hashes),
only new chunks are embedded, and stale chunks are deleted in the same write.
Every failure is reported per source and never stops the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from ingest.chunk import ChunkerSettings, chunk_article
from ingest.embed import ChunkEncoder, EmbeddedChunk
from ingest.errors import EmptySourceError, KnowledgeBaseError, SourceError, StoreError
from ingest.faults import checkpoint
from ingest.load import Input, Limits, Pending, expand, http_client, read
from ingest.models import Article, Chunk
from ingest.parse import content_hash, parse
from ingest.report import IngestReport, SourceReport
from ingest.store import ChromaStore, SourceRecord, SourceWrite

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, source)`` after each source."""

BATCH_CHUNKS = 256
"""Prepared chunks are embedded and written in batches of about this many."""


@dataclass(frozen=True)
class _Prepared:
    article: Article
    chunks: list[Chunk]
    status: Literal["added", "updated"]


class Ingestor:
    """Runs the ingest pipeline against one store.

    Args:
        store: Where chunks and bookkeeping live.
        encoder: Embeds chunks; created lazily so a no-op re-ingest never loads torch.
        fetch_timeout: Seconds a whole URL download may take (ignored when ``limits`` is given).
        limits: Download deadline, size caps, and whether URLs may reach private networks.

    Example:
        >>> ingestor = Ingestor(ChromaStore.embedded(Path(".kb/chroma"), "kb"))  # doctest: +SKIP
        >>> ingestor.ingest(["corpus/"]).summary()  # doctest: +SKIP
        '3 added (25 chunks embedded)'
    """

    def __init__(
        self,
        store: ChromaStore,
        encoder: Callable[[], ChunkEncoder] = ChunkEncoder,
        fetch_timeout: float = 20.0,
        chunker: ChunkerSettings | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self._encoder_factory = encoder
        self._encoder: ChunkEncoder | None = None
        self.limits = limits or Limits(fetch_timeout=fetch_timeout)
        self.chunker = chunker or ChunkerSettings()

    @property
    def encoder(self) -> ChunkEncoder:
        if self._encoder is None:
            self._encoder = self._encoder_factory()
        return self._encoder

    def ingest(
        self, inputs: Iterable[Input], progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Ingest files, folders, URLs and documents; see :class:`IngestReport`.

        Folders are synchronised: a file that was ingested from a folder and has
        since been deleted from it is removed from the knowledge base.
        """
        started = time.perf_counter()
        expansion = expand(inputs)
        reports: dict[str, SourceReport] = {
            p.source_id: SourceReport(p.source_id, "failed", reason=p.reason)
            for p in expansion.problems
        }
        order = [p.source_id for p in expansion.problems] + [p.source_id for p in expansion.pending]
        known = self.store.sources()
        total = len(expansion.pending)
        batch: list[_Prepared] = []

        def flush() -> None:
            reports.update(self._embed_and_write(batch, known))
            batch.clear()

        with http_client(self.limits.fetch_timeout, self.limits.allow_private_urls) as client:
            for done, pending in enumerate(expansion.pending, start=1):
                outcome = self._prepare(pending, known, client)
                if isinstance(outcome, SourceReport):
                    reports[pending.source_id] = outcome
                else:
                    batch.append(outcome)
                    if sum(len(p.chunks) for p in batch) >= BATCH_CHUNKS:
                        flush()
                if progress:
                    progress(done, total, pending.source_id)
            flush()

        seen = {p.source_id for p in expansion.pending}
        for removed in self._vanished(expansion.folders, known, seen):
            reports[removed.source] = removed
            order.append(removed.source)
        return IngestReport(tuple(reports[s] for s in order), time.perf_counter() - started)

    def forget(self, source_id: str) -> SourceReport:
        """Remove one source and all its chunks.

        Raises:
            SourceNotFoundError: No such source in the store.
        """
        from ingest.errors import SourceNotFoundError

        record = self.store.source(source_id)
        if record is None:
            raise SourceNotFoundError(source_id, list(self.store.sources()))
        removed = self.store.delete_source(source_id)
        return SourceReport(source_id, "removed", record.title, chunks=removed)

    def _prepare(
        self, pending: Pending, known: dict[str, SourceRecord], client: httpx.Client
    ) -> _Prepared | SourceReport:
        try:
            raw = read(pending, client, self.limits)
            digest = content_hash(raw)
            previous = known.get(pending.source_id)
            if previous is not None and previous.content_hash == digest:
                return SourceReport(
                    pending.source_id, "unchanged", previous.title, chunks=previous.chunks
                )
            article = parse(raw, digest)
            chunks = chunk_article(article, self.chunker)
            if not chunks:
                raise EmptySourceError(raw.location, "no article text found")
        except SourceError as exc:
            return SourceReport(pending.source_id, "failed", reason=exc.reason)
        except KnowledgeBaseError as exc:
            return SourceReport(pending.source_id, "failed", reason=str(exc))
        except Exception as exc:  # one broken source must never stop the others
            log.exception("unexpected error while reading %s", pending.source_id)
            return SourceReport(pending.source_id, "failed", reason=f"unexpected error: {exc}")
        return _Prepared(article, chunks, "updated" if previous is not None else "added")

    def _embed_and_write(
        self, batch: Sequence[_Prepared], known: dict[str, SourceRecord]
    ) -> dict[str, SourceReport]:
        if not batch:
            return {}
        wanted = [c for p in batch for c in p.chunks]
        reused = self.store.existing_vectors([c.id for c in wanted if _may_exist(c, known)])
        missing = [c for c in wanted if c.id not in reused]
        try:
            fresh = dict(zip((c.id for c in missing), self.encoder.encode(missing)))
        except KnowledgeBaseError as exc:
            return {p.article.source_id: _failed(p, str(exc)) for p in batch}
        vectors: dict[str, EmbeddedChunk] = {**reused, **fresh}
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        writes = [
            SourceWrite(_record(p, now), p.chunks, [vectors[c.id] for c in p.chunks]) for p in batch
        ]
        try:
            self.store.write(writes)
        except StoreError:
            return self._write_one_by_one(batch, writes, fresh)
        checkpoint("ingest-batch")
        return {
            p.article.source_id: _written(p, sum(c.id in fresh for c in p.chunks)) for p in batch
        }

    def _write_one_by_one(
        self,
        batch: Sequence[_Prepared],
        writes: Sequence[SourceWrite],
        fresh: dict[str, EmbeddedChunk],
    ) -> dict[str, SourceReport]:
        """After a failed batch write, isolate the source(s) the store refuses."""
        reports = {}
        for prepared, write in zip(batch, writes):
            try:
                self.store.write([write])
            except StoreError as exc:
                if prepared.status == "added":
                    self._discard(prepared.article.source_id)
                reports[prepared.article.source_id] = _failed(prepared, str(exc))
                continue
            embedded = sum(c.id in fresh for c in prepared.chunks)
            reports[prepared.article.source_id] = _written(prepared, embedded)
        return reports

    def _discard(self, source_id: str) -> None:
        """Best effort: leave no partial new source behind after a failed write."""
        try:
            self.store.delete_source(source_id)
        except StoreError:
            log.warning("could not clean up the partial write of %s", source_id)

    def _vanished(
        self, folders: Sequence[Path], known: dict[str, SourceRecord], seen: set[str]
    ) -> list[SourceReport]:
        removed = []
        for source_id, record in known.items():
            if record.kind != "file" or source_id in seen:
                continue
            path = Path(source_id)
            if any(path.is_relative_to(folder) for folder in folders) and not path.exists():
                try:
                    count = self.store.delete_source(source_id)
                except StoreError as exc:
                    removed.append(SourceReport(source_id, "failed", record.title, reason=str(exc)))
                    continue
                removed.append(SourceReport(source_id, "removed", record.title, chunks=count))
        return removed


def _may_exist(chunk: Chunk, known: dict[str, SourceRecord]) -> bool:
    return chunk.source_id in known


def _record(prepared: _Prepared, now: str) -> SourceRecord:
    article = prepared.article
    return SourceRecord(
        source_id=article.source_id,
        title=article.title,
        kind=article.kind,
        content_hash=article.content_hash,
        chunks=len(prepared.chunks),
        ingested_at=now,
        published=article.published,
        description=article.description,
        url=article.url,
    )


def _written(prepared: _Prepared, embedded: int) -> SourceReport:
    article = prepared.article
    return SourceReport(
        article.source_id,
        prepared.status,
        article.title,
        chunks=len(prepared.chunks),
        embedded=embedded,
    )


def _failed(prepared: _Prepared, reason: str) -> SourceReport:
    return SourceReport(prepared.article.source_id, "failed", prepared.article.title, reason=reason)
