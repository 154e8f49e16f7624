"""The Chroma adapter: the only module that imports ``chromadb``.

Three collections per knowledge base, so every process sharing one Chroma
(embedded on disk or a ``chroma run`` server) sees the same state:

* ``{name}-chunks``: one record per chunk (passage text, vector, citation metadata);
* ``{name}-sentences``: one vector per sentence of each chunk, for answer
  extraction, plus a revision marker that changes on every write, so other
  processes know when to refresh derived indexes. It sits with the sentences
  because they are the last read of an answer: the same call tells whether the
  store changed while the answer was worked out (see
  :meth:`ChromaStore.sentence_vectors_and_revision`), and a record that is
  never searched can sit beside them (unlike the chunks, which are);
* ``{name}-sources``: the ingestion bookkeeping, one record per source (content
  hash, title, chunk count, a digest of its chunk ids, ingest time), and a pending
  marker per source while a write or removal of it is under way (so a killed
  writer's work is completed or undone by the next process, see ``_recover``).

Results leave this module as our own dataclasses, never as Chroma's nested lists.

Sharing an embedded store between processes (a running bot plus ``kb ingest``
from a terminal) works through :class:`~ingest.lock.StoreLock`, a lock file
beside the store: every read holds it shared and every write exclusive, and a
process whose client was opened before another process's write reopens it
first. Measured with chromadb 1.5.9 (the probes are in the issue-14 report):

* an open client never sees another process's new vectors (``get`` with
  embeddings raises ``Error finding id``; ``query`` misses them) and keeps
  returning deleted ones;
* closing the client stops Chroma's cached ``System`` once no other client in
  the process uses that path, and a new ``PersistentClient`` then loads the
  current index (about 10 ms at 120 vectors, 25 ms at 8,000), replaying writes
  that were still only in Chroma's log; ``clear_system_cache`` is not needed
  (and would orphan every other client in the process), so we never call it;
* a stale client that *writes* persists its old index over the newer one:
  another process's 3,000 vectors became unfindable. So a writer reopens
  before writing too, never only readers;
* a writer killed with SIGKILL at random points (12 trials) left a store that
  opened and answered every time; what it can leave is our own multi-step
  write half done, which the next lock holder repairs (see ``_repair``).

One process holds one client per store path (``_Embedded``), shared by every
:class:`ChromaStore` on it; a second Chroma client on the same path opened
behind our back would keep the old index alive, so it is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast

import numpy as np

from ingest.embedding_model import DIMENSIONS
from ingest.errors import StoreError
from ingest.faults import checkpoint
from ingest.lock import Mode, StoreLock, pid_alive
from ingest.models import Chunk, EmbeddedChunk, Link, Span

log = logging.getLogger(__name__)

_F = TypeVar("_F", bound=Callable[..., Any])

_REVISION_ID = "kb:revision"
_FAILURE_PREFIX = "kb:failed:"
_PENDING = "kb:pending:"  # + source id: a write or removal of that source under way
_PLACEHOLDER = [1.0] + [0.0] * (DIMENSIONS - 1)  # source records need a vector; never searched
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 256, "max_neighbors": 32}
_PAGE = 5000


@dataclass(frozen=True)
class SourceRecord:
    """What the store knows about one ingested source."""

    source_id: str
    title: str
    kind: str
    content_hash: str
    chunks: int
    ingested_at: str
    published: str | None = None
    description: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    etag: str | None = None
    """The web page's ETag when it was fetched, for conditional re-fetching (``kb sync``)."""
    last_modified: str | None = None
    """The web page's Last-Modified header when it was fetched."""
    site: str | None = None
    """The sitemap that listed the page (``kb sync`` reads it again for new pages)."""
    digest: str = ""
    """:func:`chunk_digest` of the source's chunk ids, set by :meth:`ChromaStore.write`
    (empty in records written before it existed)."""


def chunk_digest(ids: Iterable[str]) -> str:
    """A digest of a set of chunk ids (order does not matter), to compare indexes cheaply."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:32]


StoredChunk = Chunk
"""A chunk as read back from the store: the same record that was written."""


def _sentence_ids(chunk: Chunk) -> list[str]:
    return [sentence_id(chunk.id, i) for i in range(len(chunk.sentences))]


@dataclass(frozen=True)
class DenseHit:
    chunk: StoredChunk
    similarity: float


@dataclass(frozen=True)
class SourceWrite:
    """Everything needed to replace one source's chunks in one go."""

    record: SourceRecord
    chunks: Sequence[Chunk]
    embedded: Sequence[EmbeddedChunk]


def sentence_id(chunk_id: str, index: int) -> str:
    return f"{chunk_id}:{index}"


class _EmbeddingFunction:
    """Our model, registered with Chroma so it never falls back to its own download."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self._embed = embed

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        if self._embed is None:
            raise StoreError("this knowledge base embeds queries itself; pass vectors, not texts")
        return list(self._embed(list(input)))

    @staticmethod
    def name() -> str:
        return "kb-all-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _EmbeddingFunction:
        return _EmbeddingFunction()

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def embed_query(self, input: Sequence[str]) -> list[np.ndarray]:
        return self(input)


_TRANSIENT = "Error creating hnsw segment reader: Nothing found on disk"
"""What a Chroma server (1.5.9) answers a read of a collection whose first records it is
compacting into an index at that moment, for about 20 ms (measured: a reader looping
while another client writes the first 300 vectors of a collection); the same read
succeeds moments later. Seen in ``benchmarks/server_mode.py`` as a failed ``ask``."""
_RETRY_PAUSES = (0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


def _transient(exc: Exception) -> bool:
    return _TRANSIENT in str(exc)


def _reads(method: _F) -> _F:
    """Run a read method under the shared lock, on a client that sees every finished write.

    A read that meets a server's transient compaction error is tried again (reads
    change nothing, so repeating one is safe).
    """

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        for pause in _RETRY_PAUSES:
            try:
                with self._access("shared"):
                    return method(self, *args, **kwargs)
            except Exception as exc:
                if not _transient(exc):
                    raise
                log.info("Chroma is compacting a collection; reading again in %.2f s", pause)
                time.sleep(pause)
        with self._access("shared"):
            return method(self, *args, **kwargs)

    return cast(_F, wrapper)


def _writes(method: _F) -> _F:
    """Run a write method under the exclusive lock (no other process reads or writes)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._access("exclusive"):
            return method(self, *args, **kwargs)

    return cast(_F, wrapper)


class _Embedded:
    """This process's one Chroma client for one store folder, kept current across processes.

    Every access goes through :meth:`access`, which takes the cross-process
    lock and, unless this client already reflects the generation in the lock
    file, reopens it (close, so Chroma drops its cached index, then connect).
    """

    _registry: ClassVar[dict[str, _Embedded]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = StoreLock(path.with_name(path.name + ".lock"))
        self.client: Any = None
        self.generation: str | None = None
        self.users = 0

    @classmethod
    def get(cls, path: Path) -> _Embedded:
        key = str(path.resolve())
        with cls._registry_lock:
            embedded = cls._registry.get(key)
            if embedded is None:
                embedded = cls._registry[key] = _Embedded(Path(key))
            embedded.users += 1
            return embedded

    def release(self) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users > 0:
                return
            self._registry.pop(str(self.path), None)
        with self.lock.hold("shared"):
            self._close()
        self.lock.close()

    def settled_generation(self) -> str | None:
        """The generation this client reflects, if no write can change it while held.

        Only under a shared hold (no process, this one included, writes then) and
        once some write has published a generation; inside an exclusive hold the
        store may still change before the hold publishes its generation.
        """
        if self.lock.mode != "shared":
            return None
        return self.generation or None

    @contextlib.contextmanager
    def access(self, mode: Mode, collection: str, *, publish: bool = True) -> Iterator[Any]:
        """Hold the store in ``mode`` with a client that sees every finished write."""
        while True:
            with self.lock.hold(mode, collection=collection, publish=publish) as found:
                if found.nested:
                    yield self.client
                    return
                if found.interrupted is not None and mode == "shared":
                    pass  # repaired below under the exclusive lock, then read again
                else:
                    if found.interrupted is not None:
                        self._repair(found.interrupted.describe(), found.interrupted.collection)
                    elif self.client is None or found.generation != self.generation:
                        self._reopen()
                    self.generation = found.published or found.generation
                    yield self.client
                    return
            with self.lock.hold("exclusive", collection=collection) as found:
                if found.interrupted is not None:
                    self._repair(found.interrupted.describe(), found.interrupted.collection)
                self.generation = found.published

    def _reopen(self) -> None:
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient
        from chromadb.config import Settings

        self._close()
        identifier = str(self.path)
        if identifier in SharedSystemClient._identifier_to_system:
            raise StoreError(
                f"another Chroma client in this process has {self.path} open, so this one "
                "could not see other processes' changes; open one KnowledgeBase per home "
                "and use it for everything"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self.client = chromadb.PersistentClient(
                path=identifier, settings=Settings(anonymized_telemetry=False)
            )
        except Exception as exc:
            raise StoreError(f"could not open the Chroma store at {self.path}: {exc}") from exc

    def _close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            client.close()  # the last client on a path stops Chroma's System and its index

    def _repair(self, writer: str, collection: str) -> None:
        """Finish or undo what a writer killed mid-write left, then publish a new revision.

        Every write records what it is about to do first (a pending marker per
        source, see :meth:`ChromaStore.write`), so :func:`_recover` can complete
        each source whose new chunks are all in place and undo the others.
        """
        log.warning(
            "taking over the knowledge base in %s: %s stopped while writing to it; "
            "repairing what it left half written",
            self.path.parent,
            writer,
        )
        self._reopen()
        if collection:
            _recover(self.client, collection)


def _bump(sentences: Any) -> None:
    sentences.upsert(
        ids=[_REVISION_ID],
        embeddings=[_PLACEHOLDER],
        metadatas=[{"kind": "revision", "value": uuid.uuid4().hex}],
    )


def _get_ids(collection: Any, *, ids: Sequence[str] = (), where: Any = None) -> list[str]:
    """Ids of the records asked for that exist, by id list (in batches) or by filter."""
    if where is not None:
        found, offset = [], 0
        while True:
            got = collection.get(where=where, include=[], limit=_PAGE, offset=offset)
            found += got["ids"]
            if len(got["ids"]) < _PAGE:
                return found
            offset += _PAGE
    found = []
    for batch in _batches(list(ids), _PAGE):
        found += collection.get(ids=batch, include=[])["ids"]
    return found


def _delete_chunk_rows(chunks: Any, sentences: Any, ids: Sequence[str], size: int) -> None:
    for batch in _batches(list(ids), size):
        chunks.delete(ids=batch)
        sentences.delete(where={"chunk": {"$in": batch}})


def _recover(client: Any, name: str, *, dead_writers_only: bool = False) -> int:
    """Complete or undo every unfinished write to knowledge base ``name``; returns how many.

    A write marks each source pending (with its new record, its new chunk ids
    and those it adds), writes sentence vectors, then chunks, deletes stale
    chunks, writes the record and removes the marker. So for a marked source:
    if every new chunk is in place (its sentence vectors went first), finish
    it (delete stale chunks, write the record); otherwise the old chunks are
    all still there: delete the added ones and keep the old record. A removal
    is always finished. Each source ends at its old or its new version.

    Args:
        dead_writers_only: Leave markers of writers that may still be running
            (server mode, where no lock tells): only those of dead processes on
            this machine are repaired.
    """
    function = _EmbeddingFunction()
    try:
        chunks = client.get_collection(f"{name}-chunks", embedding_function=function)
        sentences = client.get_collection(f"{name}-sentences", embedding_function=function)
        sources = client.get_collection(f"{name}-sources", embedding_function=function)
    except Exception:  # never created: nothing to repair
        return 0
    size = int(client.get_max_batch_size())
    got = sources.get(where={"kind": "pending"}, include=["metadatas"])
    repaired = 0
    for marker_id, marker in zip(got["ids"], got["metadatas"]):
        if dead_writers_only and not _writer_dead(marker):
            continue
        source_id = str(marker.get("source_id", ""))
        if marker.get("op") == "delete":
            ids = _get_ids(chunks, where={"source": source_id})
            _delete_chunk_rows(chunks, sentences, ids, size)
            sentences.delete(where={"source": source_id})
            sources.delete(ids=[source_id])
            log.warning("finished removing %s (%d chunks)", source_id, len(ids))
        else:
            new_ids = list(json.loads(marker["new_ids"]))
            if len(set(_get_ids(chunks, ids=new_ids))) == len(set(new_ids)):
                keep = set(new_ids)
                current = _get_ids(chunks, where={"source": source_id})
                _delete_chunk_rows(chunks, sentences, [i for i in current if i not in keep], size)
                sources.upsert(
                    ids=[source_id],
                    embeddings=[_PLACEHOLDER],
                    metadatas=[json.loads(marker["record"])],
                )
                log.warning("completed the interrupted write of %s", source_id)
            else:
                _delete_chunk_rows(chunks, sentences, list(json.loads(marker["added_ids"])), size)
                log.warning("undid the interrupted write of %s (its old version stays)", source_id)
        sources.delete(ids=[marker_id])
        repaired += 1
    if repaired or not dead_writers_only:
        _bump(sentences)  # after a dead writer, indexes derived from the old revision re-check
    return repaired


def _writer_dead(marker: dict[str, Any]) -> bool:
    pid = marker.get("pid")
    return (
        marker.get("host") == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid)
    )


def _marker(op: str, source_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "kind": "pending",
        "op": op,
        "source_id": source_id,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **fields,
    }


class ChromaStore:
    """Chunks, sentence vectors and source bookkeeping in Chroma.

    Use :meth:`embedded` for a folder on disk, :meth:`server` for a
    ``chroma run`` server shared by several processes, or :meth:`cloud` for
    Chroma Cloud.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        embed_query: Callable[[list[str]], np.ndarray] | None = None,
        description: str = "",
        embedded: _Embedded | None = None,
    ) -> None:
        self.name = name
        self.description = description
        self._embedded = embedded
        self._function = _EmbeddingFunction(embed_query)
        self._client: Any = None
        self._known_revision: tuple[str, str] | None = None
        """(lock generation, revision) as last read: an embedded store at the same
        generation has had no write since, so its revision is still this one."""
        if embedded is None:
            self._attach(client)
            try:  # no lock says a writer died: repair what writers on this machine left
                _recover(client, name, dead_writers_only=True)
            except Exception as exc:
                log.warning("could not check %s for interrupted writes: %s", description, exc)
        else:
            # A new store's collections are created here; opening changes nothing
            # that other processes have loaded, so they need not reopen.
            with self._access("exclusive", publish=False):
                pass

    def _attach(self, client: Any) -> None:
        """Use ``client`` (a new one after a reopen): fetch the collections through it."""
        self._client = client
        try:
            self._chunks = self._collection(f"{self.name}-chunks", self._function)
            self._sentences = self._collection(f"{self.name}-sentences", self._function)
            self._sources = self._collection(f"{self.name}-sources", self._function)
            self._max_batch = int(client.get_max_batch_size())
        except Exception as exc:
            self._client = None
            if isinstance(exc, StoreError):
                raise
            raise StoreError(
                f"could not open the knowledge base {self.description}: {exc}"
            ) from exc

    @contextlib.contextmanager
    def _access(self, mode: Mode, *, publish: bool = True) -> Iterator[None]:
        if self._embedded is None:
            yield
            return
        with self._embedded.access(mode, self.name, publish=publish) as client:
            if client is not self._client:
                self._attach(client)
            yield

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """Read several times from one consistent state (no other process writes meanwhile).

        Example:
            >>> with store.snapshot():  # doctest: +SKIP
            ...     hits = store.dense_search(vector, 10); vectors = store.chunk_vectors(ids)
        """
        return self._access("shared")

    def close(self) -> None:
        """Stop using the store; an embedded store's files are released with its last user."""
        if self._embedded is not None:
            embedded, self._embedded = self._embedded, None
            embedded.release()

    @classmethod
    def embedded(
        cls, path: Path, name: str, embed_query: Callable[[list[str]], np.ndarray] | None = None
    ) -> ChromaStore:
        """A store in a folder on disk (Chroma ``PersistentClient``), shareable by processes.

        Other processes may read and write the same folder at any time (a bot
        answering while ``kb ingest`` runs): see the module docstring.

        Raises:
            StoreError: The store could not be opened or locked.
        """
        handle = _Embedded.get(path)
        try:
            return cls(None, name, embed_query, description=f"at {path}", embedded=handle)
        except BaseException:
            handle.release()
            raise

    @classmethod
    def server(
        cls,
        host: str,
        port: int,
        name: str,
        *,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        embed_query: Callable[[list[str]], np.ndarray] | None = None,
    ) -> ChromaStore:
        """A store on a Chroma server (``chroma run``), shared with other processes."""
        import chromadb
        from chromadb.config import Settings

        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        try:
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                headers=headers or {},
                settings=Settings(anonymized_telemetry=False),
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"could not reach the Chroma server at {where}: {exc}") from exc
        return cls(client, name, embed_query, description=f"on {where}")

    @classmethod
    def cloud(
        cls,
        api_key: str,
        tenant: str,
        database: str,
        name: str,
        *,
        host: str = "api.trychroma.com",
        port: int = 443,
        ssl: bool = True,
        embed_query: Callable[[list[str]], np.ndarray] | None = None,
    ) -> ChromaStore:
        """A store in Chroma Cloud (``chromadb.CloudClient``), shared with other processes.

        The same adapter as :meth:`server` over Cloud's API: Cloud authenticates
        with an API key and holds collections in a tenant's database. ``host``,
        ``port`` and ``ssl`` are Cloud's own address unless a test points them at
        a local ``chroma run`` server.

        Args:
            api_key: The Chroma Cloud API key (never written to logs or errors).
            tenant: The tenant (a UUID in Chroma Cloud; ``default_tenant`` locally).
            database: The database within the tenant.
            name: The knowledge base's name (its three collections' prefix).

        Raises:
            StoreError: Chroma Cloud could not be reached or refused the credentials.

        Example:
            >>> store = ChromaStore.cloud(key, tenant, "kb-prod", "kb")  # doctest: +SKIP
        """
        import chromadb
        from chromadb.config import Settings

        where = (
            f"{'https' if ssl else 'http'}://{host}:{port} (tenant {tenant}, database {database})"
        )
        try:
            client = chromadb.CloudClient(
                tenant=tenant,
                database=database,
                api_key=api_key,
                settings=Settings(anonymized_telemetry=False),
                cloud_host=host,
                cloud_port=port,
                enable_ssl=ssl,
            )
            client.heartbeat()
        except Exception as exc:
            message = str(exc).replace(api_key, "***") if api_key else str(exc)
            # from None: the chained error could repeat the key, and this message says it all
            raise StoreError(f"could not reach Chroma Cloud at {where}: {message}") from None
        return cls(client, name, embed_query, description=f"in Chroma Cloud at {where}")

    def _collection(self, name: str, function: _EmbeddingFunction) -> Any:
        return self._client.get_or_create_collection(
            name=name,
            embedding_function=function,
            configuration={"hnsw": dict(HNSW)},
        )

    # --- bookkeeping --------------------------------------------------------------

    @_reads
    def revision(self) -> str:
        """A token that changes whenever any process writes to this knowledge base.

        An embedded store reads it from Chroma only when the lock file's generation
        changed since the last read (every write publishes a new one, see
        :class:`~ingest.lock.StoreLock`), so an unchanged store costs no Chroma call;
        a server has no such lock, so there it is always read.
        """
        generation = self._embedded.settled_generation() if self._embedded else None
        known = self._known_revision
        if generation is not None and known is not None and known[0] == generation:
            return known[1]
        try:
            got = self._sentences.get(ids=[_REVISION_ID], include=["metadatas"])
        except Exception as exc:
            raise StoreError(
                f"could not read the knowledge base {self.description}: {exc}"
            ) from exc
        return self._note_revision(generation, got)

    def _note_revision(self, generation: str | None, got: Any) -> str:
        """The revision among rows read from the sentences collection (remembered for
        ``generation``, when the lock file gives one); "" before the first write."""
        revision = ""
        for i, metadata in zip(got["ids"], got.get("metadatas") or []):
            if i == _REVISION_ID and metadata:
                revision = str(metadata.get("value", ""))
        if generation is not None:
            self._known_revision = (generation, revision)
        return revision

    @property
    def cheap_revision(self) -> bool:
        """Whether :meth:`revision` costs no Chroma call while nothing changes: true of an
        embedded store (its lock file tells), not of a server (a request every time)."""
        return self._embedded is not None

    def _bump_revision(self) -> None:
        _bump(self._sentences)

    @_reads
    def sources(self) -> dict[str, SourceRecord]:
        """Every source in the knowledge base, by source id."""
        records = {}
        for _, metadata in self._paged(self._sources, where={"kind": "source"}):
            record = _record_from_metadata(metadata)
            records[record.source_id] = record
        return records

    @_reads
    def source(self, source_id: str) -> SourceRecord | None:
        got = self._sources.get(ids=[source_id], include=["metadatas"])
        metadatas = got.get("metadatas") or []
        return _record_from_metadata(metadatas[0]) if metadatas else None

    @_reads
    def failures(self) -> dict[str, str]:
        """Sources whose latest ingest failed, with a key of what failed (content hash or reason).

        Kept so a re-run can tell a failure it already reported, on the same
        content, from a new one (``kb ingest`` exits non-zero only for new ones).
        """
        return {
            str(m.get("source_id", "")): str(m.get("failure_key", ""))
            for _, m in self._paged(self._sources, where={"kind": "failure"})
        }

    @_writes
    def note_failures(self, failed: dict[str, str], cleared: Sequence[str]) -> None:
        """Record ``failed`` (source id -> failure key) and forget the failures of ``cleared``."""
        try:
            if cleared:
                for batch in _batches([_FAILURE_PREFIX + s for s in cleared], self._max_batch):
                    self._sources.delete(ids=batch)
            items = list(failed.items())
            for part in _batches(items, self._max_batch):
                self._sources.upsert(
                    ids=[_FAILURE_PREFIX + source for source, _ in part],
                    embeddings=[_PLACEHOLDER] * len(part),
                    metadatas=[
                        {"kind": "failure", "source_id": source, "failure_key": key}
                        for source, key in part
                    ],
                )
        except Exception as exc:
            raise StoreError(f"could not record failed sources: {exc}") from exc

    # --- chunks -------------------------------------------------------------------

    @_reads
    def count(self) -> int:
        return int(self._chunks.count())

    @_reads
    def chunk_ids(self, source_id: str) -> list[str]:
        got = self._chunks.get(where={"source": source_id}, include=[])
        return list(got["ids"])

    def source_chunks(self, source_ids: Sequence[str]) -> Iterator[StoredChunk]:
        """Every chunk of these sources, page by page."""
        for chunk, _ in self._rows(source_ids, vectors=False):
            yield chunk

    def source_chunks_with_vectors(
        self, source_ids: Sequence[str]
    ) -> Iterator[tuple[StoredChunk, np.ndarray]]:
        """Every chunk of these sources with its vector, page by page (for updating the
        lexical index, which keeps the vectors for scoring its own candidates)."""
        return self._rows(source_ids, vectors=True)

    @_reads
    def chunks(self, ids: Sequence[str]) -> list[StoredChunk]:
        """Chunks by id, in the order asked (unknown ids are skipped)."""
        if not ids:
            return []
        got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        by_id = {
            i: _chunk_from_row(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])
        }
        return [by_id[i] for i in ids if i in by_id]

    @_reads
    def chunk_at(self, source_id: str, position: int) -> StoredChunk | None:
        """The chunk at ``position`` in its article, if there is one."""
        where = {"$and": [{"source": source_id}, {"position": position}]}
        got = self._chunks.get(where=where, include=["documents", "metadatas"], limit=1)
        if not got["ids"]:
            return None
        return _chunk_from_row(got["ids"][0], got["documents"][0], got["metadatas"][0])

    def openings(self, source_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """The first chunk of each of these articles (those that have one), in one read."""
        if not source_ids:
            return {}
        where = {"$and": [{"source": {"$in": list(source_ids)}}, {"position": 0}]}
        got = self._chunks.get(where=where, include=["documents", "metadatas"])
        found = (
            _chunk_from_row(i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        )
        return {chunk.source_id: chunk for chunk in found}

    def all_chunks(self) -> Iterator[StoredChunk]:
        """Every chunk, page by page."""
        for chunk, _ in self._rows(None, vectors=False):
            yield chunk

    def all_chunks_with_vectors(self) -> Iterator[tuple[StoredChunk, np.ndarray]]:
        """Every chunk with its vector, page by page (for building the lexical index)."""
        return self._rows(None, vectors=True)

    def _rows(
        self, source_ids: Sequence[str] | None, *, vectors: bool
    ) -> Iterator[tuple[StoredChunk, np.ndarray]]:
        """Chunks of these sources (None: all), with their vectors if asked (else empty)."""
        include = ["documents", "metadatas", *(["embeddings"] if vectors else [])]
        none = np.zeros(0, dtype=np.float32)
        if source_ids is None:
            filters: list[Any] = [None]
        else:
            filters = [
                {"source": {"$in": list(source_ids[start : start + 500])}}
                for start in range(0, len(source_ids), 500)
            ]
        with self._access("shared"):  # one state for every page: consume it to the end
            for where in filters:
                offset = 0
                while True:
                    got = self._chunks.get(where=where, include=include, limit=_PAGE, offset=offset)
                    found = got["embeddings"] if vectors else [none] * len(got["ids"])
                    for i, d, m, v in zip(got["ids"], got["documents"], got["metadatas"], found):
                        yield _chunk_from_row(i, d, m), np.asarray(v, dtype=np.float32)
                    if len(got["ids"]) < _PAGE:
                        break
                    offset += _PAGE

    @_reads
    def chunk_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored chunk vectors by id (unknown ids are skipped)."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"])}

    @_reads
    def existing_vectors(self, ids: Sequence[str]) -> dict[str, EmbeddedChunk]:
        """Stored vectors for chunks that are already embedded, to skip re-embedding them."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["embeddings", "metadatas"])
        found = {}
        for chunk_id, vector, metadata in zip(got["ids"], got["embeddings"], got["metadatas"]):
            count = len(_spans(metadata))
            wanted = [sentence_id(chunk_id, i) for i in range(count)]
            sentences = self._sentences.get(ids=wanted, include=["embeddings"])
            by_id = dict(zip(sentences["ids"], sentences["embeddings"]))
            if len(by_id) != count:
                continue  # incomplete (an interrupted write): embed again
            found[chunk_id] = EmbeddedChunk(
                np.asarray(vector, dtype=np.float32),
                np.asarray([by_id[s] for s in wanted], dtype=np.float32).reshape(count, DIMENSIONS),
            )
        return found

    @_reads
    def sentence_vectors(self, chunks: Sequence[StoredChunk]) -> dict[str, np.ndarray]:
        """Per-chunk sentence vectors, shape (sentences, DIMENSIONS)."""
        wanted = [sid for chunk in chunks for sid in _sentence_ids(chunk)]
        if not wanted:
            return {}
        got = self._sentences.get(ids=wanted, include=["embeddings"])
        return _sentence_vectors(chunks, dict(zip(got["ids"], got["embeddings"])))

    @_reads
    def sentence_vectors_and_revision(
        self, chunks: Sequence[StoredChunk]
    ) -> tuple[dict[str, np.ndarray], str]:
        """:meth:`sentence_vectors` and :meth:`revision`, read in one call.

        For a reader that ranked with what it last knew of the store and checks
        afterwards, with its last read, that nothing changed meanwhile (a server
        has no lock to tell it sooner; see ``KnowledgeBase``).
        """
        generation = self._embedded.settled_generation() if self._embedded else None
        wanted = [sid for chunk in chunks for sid in _sentence_ids(chunk)]
        try:
            got = self._sentences.get(
                ids=[*wanted, _REVISION_ID], include=["embeddings", "metadatas"]
            )
        except Exception as exc:
            raise StoreError(
                f"could not read the knowledge base {self.description}: {exc}"
            ) from exc
        revision = self._note_revision(generation, got)
        by_id = {i: v for i, v in zip(got["ids"], got["embeddings"]) if i != _REVISION_ID}
        return _sentence_vectors(chunks, by_id), revision

    @_reads
    def dense_search(self, vector: np.ndarray, k: int, source: str | None = None) -> list[DenseHit]:
        """Nearest chunks by cosine similarity, best first."""
        total = self.count()
        if total == 0:
            return []
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(k, total),
            where={"source": source} if source else None,
            include=["documents", "metadatas", "distances"],
        )
        rows = zip(got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0])
        return [DenseHit(_chunk_from_row(i, d, m), 1.0 - float(dist)) for i, d, m, dist in rows]

    @_reads
    def dense_ids(
        self, vector: np.ndarray, k: int, source: str | None = None
    ) -> list[tuple[str, float]]:
        """Ids of the ``k`` nearest chunks with their cosine similarity, best first.

        Reads neither texts nor metadata (a ranking needs neither, and reads the
        few passages it keeps with :meth:`chunks`); ``k`` may exceed the count.
        """
        if k <= 0:
            return []
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=k,
            where={"source": source} if source else None,
            include=["distances"],
        )
        return [(i, 1.0 - float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    # --- writes -------------------------------------------------------------------

    @_writes
    def write(self, writes: Sequence[SourceWrite]) -> None:
        """Replace the chunks of each source (upsert new, delete stale) and record it.

        Ordered so that a process killed at any step leaves each source
        repairable to its old or its new version (see :func:`_recover`):
        pending markers, sentence vectors, chunks, stale chunks deleted,
        records (with :func:`chunk_digest` of their chunk ids), markers
        removed, revision bumped. Each step is a :func:`~ingest.faults.checkpoint`.

        Raises:
            StoreError: Chroma refused the write.
        """
        if not writes:
            return
        try:
            records = [
                dataclasses.replace(
                    w.record, chunks=len(w.chunks), digest=chunk_digest(c.id for c in w.chunks)
                )
                for w in writes
            ]
            present = {r.source_id: set(self._source_chunk_ids(r.source_id)) for r in records}
            markers = [
                _marker(
                    "write",
                    r.source_id,
                    record=json.dumps(_record_metadata(r)),
                    new_ids=json.dumps([c.id for c in w.chunks]),
                    added_ids=json.dumps(
                        [c.id for c in w.chunks if c.id not in present[r.source_id]]
                    ),
                )
                for r, w in zip(records, writes)
            ]
            self._upsert_sources([_PENDING + r.source_id for r in records], markers)
            checkpoint("write-pending")
            chunks = [c for w in writes for c in w.chunks]
            embedded = [e for w in writes for e in w.embedded]
            self._upsert_chunks(chunks, embedded)
            for record, write in zip(records, writes):
                keep = {c.id for c in write.chunks}
                self._delete_chunks([i for i in present[record.source_id] if i not in keep])
            checkpoint("write-stale")
            self._upsert_sources([r.source_id for r in records], map(_record_metadata, records))
            checkpoint("write-records")
            self._sources.delete(ids=[_PENDING + r.source_id for r in records])
            checkpoint("write-markers")
            self._bump_revision()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"could not write to the knowledge base: {exc}") from exc

    @_writes
    def delete_source(self, source_id: str) -> int:
        """Remove a source and its chunks; returns how many chunks were removed.

        A pending marker goes first, so a removal killed midway is finished by
        the next process to open the store (see :func:`_recover`).
        """
        try:
            ids = self._source_chunk_ids(source_id)
            self._upsert_sources([_PENDING + source_id], [_marker("delete", source_id)])
            checkpoint("delete-pending")
            self._delete_chunks(ids)
            self._sentences.delete(where={"source": source_id})
            checkpoint("delete-chunks")
            self._sources.delete(ids=[source_id])
            checkpoint("delete-record")
            self._sources.delete(ids=[_PENDING + source_id])
            self._bump_revision()
        except Exception as exc:
            raise StoreError(f"could not remove {source_id}: {exc}") from exc
        return len(ids)

    def _source_chunk_ids(self, source_id: str) -> list[str]:
        return _get_ids(self._chunks, where={"source": source_id})

    def _upsert_sources(self, ids: Sequence[str], metadatas: Iterable[dict[str, Any]]) -> None:
        rows = list(zip(ids, metadatas))
        for batch in _batches(rows, self._max_batch):
            self._sources.upsert(
                ids=[i for i, _ in batch],
                embeddings=[_PLACEHOLDER] * len(batch),
                metadatas=[m for _, m in batch],
            )

    def recover(self) -> int:
        """Repair unfinished writes now (the next process to take the lock does it anyway).

        In server mode only writes by dead processes on this machine are repaired.
        """
        with self._access("exclusive"):
            return _recover(self._client, self.name, dead_writers_only=self._embedded is None)

    def _upsert_chunks(self, chunks: Sequence[Chunk], embedded: Sequence[EmbeddedChunk]) -> None:
        """Sentence vectors first, then chunks: a chunk in the store has all its sentences."""
        rows = [
            (sentence_id(c.id, i), c, vector)
            for c, e in zip(chunks, embedded)
            for i, vector in enumerate(e.sentence_vectors)
        ]
        for batch in _batches(rows, self._max_batch):
            self._sentences.upsert(
                ids=[sid for sid, _, _ in batch],
                embeddings=np.stack([v for _, _, v in batch]),
                metadatas=[{"chunk": c.id, "source": c.source_id} for _, c, _ in batch],
            )
            checkpoint("write-sentences")
        for batch in _batches(list(zip(chunks, embedded)), self._max_batch):
            self._chunks.upsert(
                ids=[c.id for c, _ in batch],
                documents=[c.text for c, _ in batch],
                embeddings=np.stack([e.vector for _, e in batch]),
                metadatas=[_chunk_metadata(c) for c, _ in batch],
            )
            checkpoint("write-chunks")

    def _delete_chunks(self, ids: Sequence[str]) -> None:
        for batch in _batches(list(ids), self._max_batch):
            self._chunks.delete(ids=batch)
            self._sentences.delete(where={"chunk": {"$in": batch}})

    def _paged(
        self, collection: Any, where: dict[str, Any]
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        offset = 0
        while True:
            got = collection.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            yield from zip(got["ids"], got["metadatas"])
            if len(got["ids"]) < _PAGE:
                return
            offset += _PAGE


def _sentence_vectors(
    chunks: Sequence[StoredChunk], by_id: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Per chunk whose sentence vectors are all among ``by_id``: them, one row each."""
    result = {}
    for chunk in chunks:
        rows = [by_id.get(sid) for sid in _sentence_ids(chunk)]
        if all(r is not None for r in rows) and rows:
            result[chunk.id] = np.asarray(rows, dtype=np.float32)
    return result


def _batches(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "source": chunk.source_id,
        "title": chunk.title,
        "section": chunk.section,
        "start": chunk.start,
        "end": chunk.end,
        "position": chunk.position,
        "header": chunk.header,
        "sentence_starts": [s.start for s in chunk.sentences],
        "sentence_ends": [s.end for s in chunk.sentences],
        "sentence_sections": list(chunk.sentence_sections) or [""],
        **(
            {
                "link_texts": [link.text for link in chunk.links],
                "link_urls": [link.url for link in chunk.links],
            }
            if chunk.links
            else {}
        ),
    }


def _spans(metadata: dict[str, Any]) -> tuple[Span, ...]:
    starts = metadata.get("sentence_starts") or []
    ends = metadata.get("sentence_ends") or []
    return tuple(Span(int(s), int(e)) for s, e in zip(starts, ends))


def _chunk_from_row(chunk_id: str, document: str | None, metadata: dict[str, Any]) -> StoredChunk:
    return StoredChunk(
        id=chunk_id,
        source_id=str(metadata.get("source", "")),
        title=str(metadata.get("title", "")),
        section=str(metadata.get("section", "")),
        text=document or "",
        start=int(metadata.get("start", 0)),
        end=int(metadata.get("end", 0)),
        position=int(metadata.get("position", 0)),
        header=str(metadata.get("header", "")),
        sentences=_spans(metadata),
        sentence_sections=tuple(str(x) for x in metadata.get("sentence_sections") or ()),
        links=tuple(
            Link(str(t), str(u))
            for t, u in zip(metadata.get("link_texts") or (), metadata.get("link_urls") or ())
        ),
    )


def _record_metadata(record: SourceRecord) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "kind": "source",
        "source_id": record.source_id,
        "source_kind": record.kind,
        "title": record.title,
        "content_hash": record.content_hash,
        "chunks": record.chunks,
        "ingested_at": record.ingested_at,
    }
    for key in ("published", "description", "url", "etag", "last_modified", "site", "digest"):
        value = getattr(record, key)
        if value:
            metadata[key] = value
    if record.tags:
        metadata["tags"] = list(record.tags)
    return metadata


def _record_from_metadata(metadata: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source_id=str(metadata.get("source_id", "")),
        title=str(metadata.get("title", "")),
        kind=str(metadata.get("source_kind", "")),
        content_hash=str(metadata.get("content_hash", "")),
        chunks=int(metadata.get("chunks", 0)),
        ingested_at=str(metadata.get("ingested_at", "")),
        published=metadata.get("published"),
        description=metadata.get("description"),
        url=metadata.get("url"),
        tags=tuple(str(t) for t in metadata.get("tags") or ()),
        etag=metadata.get("etag"),
        last_modified=metadata.get("last_modified"),
        site=metadata.get("site"),
        digest=str(metadata.get("digest", "")),
    )
