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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import httpx

from ingest.chunk import ChunkerSettings, chunk_article
from ingest.embed import ChunkEmbedder, ChunkEncoder
from ingest.errors import EmptySourceError, KnowledgeBaseError, SourceError, StoreError
from ingest.faults import checkpoint
from ingest.load import (
    FETCH_TIMEOUT,
    Input,
    Limits,
    NotModified,
    Pending,
    Validators,
    expand,
    http_client,
    read,
)
from ingest.models import Article, Chunk, EmbeddedChunk
from ingest.parse import content_hash, parse
from ingest.report import IngestReport, SourceReport
from ingest.site import CrawlOptions, expand_sites
from ingest.store import ChromaStore, SourceRecord, SourceWrite

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
"""Called as ``progress(done, total, what)``: chunks embedded so far out of the chunks this
run embeds, and what is being worked on. While sources are still being read (and the
number of chunks is not known yet), ``total`` is 0 and ``what`` says which source."""

BATCH_CHUNKS = 256
"""Prepared chunks are embedded and written in batches of about this many."""


@dataclass(frozen=True)
class _Prepared:
    article: Article
    chunks: list[Chunk]
    status: Literal["added", "updated"]
    etag: str | None = None
    last_modified: str | None = None
    site: str | None = None


class Ingestor:
    """Runs the ingest pipeline against one store.

    Args:
        store: Where chunks and bookkeeping live.
        encoder: Embeds chunks; created lazily so a no-op re-ingest never loads the model.
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
        encoder: Callable[[], ChunkEmbedder] = ChunkEncoder,
        fetch_timeout: float = FETCH_TIMEOUT,
        chunker: ChunkerSettings | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self._encoder_factory = encoder
        self._encoder: ChunkEmbedder | None = None
        self.limits = limits or Limits(fetch_timeout=fetch_timeout)
        self.chunker = chunker or ChunkerSettings()

    @property
    def encoder(self) -> ChunkEmbedder:
        if self._encoder is None:
            self._encoder = self._encoder_factory()
        return self._encoder

    def ingest(
        self,
        inputs: Iterable[Input],
        progress: ProgressCallback | None = None,
        *,
        crawl: CrawlOptions | None = None,
    ) -> IngestReport:
        """Ingest files, folders, URLs, sitemaps and documents; see :class:`IngestReport`.

        Folders are synchronised: a file that was ingested from a folder and has
        since been deleted from it is removed from the knowledge base. A URL
        ending in ``.xml`` is read as a sitemap (its pages are ingested); with
        ``crawl``, every URL is crawled for same-site pages. Web pages already
        ingested are re-fetched with conditional requests (ETag, Last-Modified).
        """
        started = time.perf_counter()
        expansion = expand(inputs)
        known = self.store.sources()
        with http_client(self.limits.fetch_timeout, self.limits.allow_private_urls) as client:
            pending, site_problems = expand_sites(expansion.pending, client, self.limits, crawl)
            problems = [*expansion.problems, *site_problems]
            reports: dict[str, SourceReport] = {
                p.source_id: SourceReport(p.source_id, "failed", reason=p.reason) for p in problems
            }
            order = [p.source_id for p in problems] + [
                p.source_id for p in pending if p.source_id not in reports
            ]
            prepared: list[_Prepared] = []
            keys: dict[str, str] = {p.source_id: p.reason for p in problems}
            for done, item in enumerate(pending, start=1):
                if progress:
                    progress(0, 0, f"Reading {_short(item.source_id)} ({done}/{len(pending)})")
                outcome = self._prepare(item, known, client)
                if isinstance(outcome, tuple):
                    reports[item.source_id], keys[item.source_id] = outcome
                else:
                    prepared.append(outcome)
        reports.update(self._embed_all(prepared, known, progress))

        seen = {p.source_id for p in pending}
        for removed in self._vanished(expansion.folders, known, seen):
            reports[removed.source] = removed
            order.append(removed.source)
        final = self._mark_repeated_failures(reports, keys)
        return IngestReport(tuple(final[s] for s in order), time.perf_counter() - started)

    def sync(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Re-fetch every ingested web page, conditionally, and update the changed ones.

        The sitemaps pages came from are read again, so pages added to them are
        ingested too. Pages answered with 304 Not Modified (or unchanged
        content) cost no parsing or embedding.
        """
        records = [r for r in self.store.sources().values() if r.kind == "url"]
        sitemaps = list(dict.fromkeys(r.site for r in records if r.site))
        pages = [r.source_id for r in records if not r.site]
        return self.ingest([*sitemaps, *pages], progress)

    def _embed_all(
        self,
        prepared: list[_Prepared],
        known: dict[str, SourceRecord],
        progress: ProgressCallback | None,
    ) -> dict[str, SourceReport]:
        """Embed and write in batches of about BATCH_CHUNKS chunks, reporting chunk progress."""
        reports: dict[str, SourceReport] = {}
        wanted = [c for p in prepared for c in p.chunks if _may_exist(c, known)]
        reusable = set(self.store.existing_vectors([c.id for c in wanted])) if wanted else set()
        total = sum(1 for p in prepared for c in p.chunks if c.id not in reusable)
        counter = [0]

        def advance(count: int, what: str) -> None:
            counter[0] += count
            if progress:
                progress(counter[0], total, what)

        if progress and prepared:
            progress(0, total, "Embedding")
        batch: list[_Prepared] = []
        for item in prepared:
            batch.append(item)
            if sum(len(p.chunks) for p in batch) >= BATCH_CHUNKS:
                reports.update(self._embed_and_write(batch, known, advance, total))
                batch = []
        reports.update(self._embed_and_write(batch, known, advance, total))
        return reports

    def _mark_repeated_failures(
        self, reports: dict[str, SourceReport], keys: dict[str, str]
    ) -> dict[str, SourceReport]:
        """Flag failures already reported for the same content; remember this run's."""
        failed = {s: keys.get(s, r.reason) for s, r in reports.items() if r.status == "failed"}
        cleared = [s for s, r in reports.items() if r.status != "failed"]
        try:
            before = self.store.failures()
            self.store.note_failures(failed, [s for s in cleared if s in before])
        except KnowledgeBaseError as exc:
            log.warning("could not record failed sources: %s", exc)
            return reports
        return {
            s: replace(r, repeated=True)
            if r.status == "failed" and before.get(s) == failed.get(s)
            else r
            for s, r in reports.items()
        }

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
    ) -> _Prepared | tuple[SourceReport, str]:
        """The source parsed and chunked, or its report and a key saying what failed."""
        previous = known.get(pending.source_id)
        key = ""
        try:
            validators = None
            conditional = previous is not None and (previous.etag or previous.last_modified)
            if pending.kind == "url" and pending.raw is None and previous and conditional:
                validators = Validators(previous.etag, previous.last_modified)
            try:
                raw = read(pending, client, self.limits, validators)
            except NotModified:
                return _unchanged(pending.source_id, previous), ""
            digest = key = content_hash(raw)
            if previous is not None and previous.content_hash == digest:
                return _unchanged(pending.source_id, previous), ""
            article = parse(raw, digest)
            chunks = chunk_article(article, self.chunker)
            if not chunks:
                raise EmptySourceError(raw.location, "no article text found")
        except SourceError as exc:
            return SourceReport(pending.source_id, "failed", reason=exc.reason), key or exc.reason
        except KnowledgeBaseError as exc:
            return SourceReport(pending.source_id, "failed", reason=str(exc)), key or str(exc)
        except Exception as exc:  # one broken source must never stop the others
            log.exception("unexpected error while reading %s", pending.source_id)
            reason = f"unexpected error: {exc}"
            return SourceReport(pending.source_id, "failed", reason=reason), key or reason
        return _Prepared(
            article,
            chunks,
            "updated" if previous is not None else "added",
            etag=raw.etag,
            last_modified=raw.last_modified,
            site=pending.site or (previous.site if previous else None),
        )

    def _embed_and_write(
        self,
        batch: Sequence[_Prepared],
        known: dict[str, SourceRecord],
        advance: Callable[[int, str], None] = lambda count, what: None,
        total: int = 0,
    ) -> dict[str, SourceReport]:
        """Embed what ``batch`` lacks and write it; ``total`` is how many chunks this whole
        ingest embeds (the encoder picks its runtime by it)."""
        if not batch:
            return {}
        wanted = [c for p in batch for c in p.chunks]
        reused = self.store.existing_vectors([c.id for c in wanted if _may_exist(c, known)])
        missing = [c for c in wanted if c.id not in reused]
        titles = {p.article.source_id: p.article.title for p in batch}
        try:
            fresh = self._embed(missing, titles, advance, total) if missing else {}
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

    def _embed(
        self,
        chunks: list[Chunk],
        titles: dict[str, str],
        advance: Callable[[int, str], None],
        total: int = 0,
    ) -> dict[str, EmbeddedChunk]:
        """Embed ``chunks`` in one call (the encoder sorts them by length across sources)."""
        what = _embedding_what([titles[s] for s in dict.fromkeys(c.source_id for c in chunks)])
        reported = [0]

        def embedded(done: int) -> None:
            advance(done - reported[0], what)
            reported[0] = done

        embedded_chunks = self.encoder.encode(
            chunks, embedded, ingest_total=max(total, len(chunks))
        )
        return dict(zip((c.id for c in chunks), embedded_chunks))

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


def _unchanged(source_id: str, previous: SourceRecord | None) -> SourceReport:
    assert previous is not None
    return SourceReport(source_id, "unchanged", previous.title, chunks=previous.chunks)


def _embedding_what(titles: list[str]) -> str:
    """What a progress report says while a batch of sources is embedded."""
    if not titles:
        return "Embedding"
    more = f" and {len(titles) - 1} more" if len(titles) > 1 else ""
    return f"Embedding {_short(titles[0])}{more}"


def _short(source: str, width: int = 50) -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1] or source
    return name if len(name) <= width else name[: width - 1] + "…"


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
        tags=article.tags,
        etag=prepared.etag,
        last_modified=prepared.last_modified,
        site=prepared.site,
    )


def _written(prepared: _Prepared, embedded: int) -> SourceReport:
    article = prepared.article
    return SourceReport(
        article.source_id,
        prepared.status,
        article.title,
        chunks=len(prepared.chunks),
        embedded=embedded,
        warnings=article.warnings,
    )


def _failed(prepared: _Prepared, reason: str) -> SourceReport:
    return SourceReport(prepared.article.source_id, "failed", prepared.article.title, reason=reason)
