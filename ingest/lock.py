"""A cross-process reader/writer lock for an embedded store, with a change marker.

Chroma's embedded ``PersistentClient`` is not process-safe: a client keeps the
vector index it loaded in memory, so after another process writes, it serves
stale vectors and fails with ``Error finding id`` on ids it never loaded; and a
stale client that writes persists its outdated index over the newer one on
disk (measured: another process's vectors become unfindable). Processes that
share one store therefore coordinate through one small file beside it:

* an ``fcntl.flock`` on the file: readers hold it shared, a writer exclusive,
  so two writers never write at once and nobody reads a half-finished write;
* its content (JSON): a ``generation`` token that every writer changes when it
  releases the lock (a reader whose client was opened at another generation
  reopens it), and the current writer's pid, command and ``state``.

The kernel drops a ``flock`` when its process dies, so a killed writer never
blocks the others; what it leaves is ``state: writing`` in the file, which the
next process to take the lock detects (nobody can hold the lock while writing
is in progress) and reports as ``interrupted`` so the store can repair it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ingest.errors import StoreError

Mode = Literal["shared", "exclusive"]

WAIT_SECONDS = 120.0
"""How long to wait for another process's read or write before giving up."""

_POLL = 0.05


@dataclass(frozen=True)
class Holder:
    """What the lock file says about the last process that wrote."""

    generation: str
    state: str
    pid: int | None
    command: str
    since: str
    collection: str = ""

    def describe(self) -> str:
        who = f"`{self.command}`" if self.command else "another process"
        return f"{who} (pid {self.pid})" if self.pid else who


@dataclass(frozen=True)
class Acquired:
    """The lock file as found when the lock was taken."""

    generation: str
    """The generation in the file when the lock was taken."""
    interrupted: Holder | None
    """The writer that died while writing, if the last write never finished."""
    published: str | None = None
    """For an exclusive hold: the generation it will publish on release."""
    nested: bool = False
    """Taken inside another hold of this thread (nothing may be reopened)."""


def current_command() -> str:
    """How this process was started, for messages such as "in use by `kb discord`"."""
    name = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else "python"
    if name in ("cli", "__main__", "kb"):
        name = "kb"
    return " ".join([name, *sys.argv[1:2]])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreLock:
    """Shared (read) and exclusive (write) access to one store, across processes and threads.

    Within a process, access is serialised by a re-entrant mutex (Chroma's local
    client serialises its calls anyway); a thread may nest reads in reads and
    anything in a write, but may not start a write inside a read.

    Args:
        path: The lock file (created if missing).
        wait: Seconds to wait for another process before raising :class:`StoreError`.

    Example:
        >>> lock = StoreLock(Path(".kb/chroma.lock"))  # doctest: +SKIP
        >>> with lock.hold("exclusive") as found:  # doctest: +SKIP
        ...     ...  # write; found.interrupted says whether the last writer died mid-write
    """

    def __init__(self, path: Path, wait: float = WAIT_SECONDS) -> None:
        self.path = path
        self.wait = wait
        self._mutex = threading.RLock()
        self._fd: int | None = None
        self._mode: Mode | None = None
        self._depth = 0

    @contextlib.contextmanager
    def hold(self, mode: Mode, *, collection: str = "", publish: bool = True) -> Iterator[Acquired]:
        """Hold the lock in ``mode``; an exclusive hold publishes a new generation on exit.

        Args:
            mode: ``shared`` to read, ``exclusive`` to write.
            collection: What an exclusive holder writes (for repairing it if it dies).
            publish: False for an exclusive hold that changes nothing other
                processes have loaded (so they need not reopen).

        Raises:
            StoreError: The lock could not be taken (busy past ``wait``, or a
                filesystem without ``flock``).
        """
        with self._mutex:
            if self._depth:
                if mode == "exclusive" and self._mode == "shared":
                    raise RuntimeError("cannot start a write while reading the store")
                self._depth += 1
                try:
                    yield Acquired(self._read().generation, None, nested=True)
                finally:
                    self._depth -= 1
                return
            found = self._acquire(mode)
            self._mode, self._depth = mode, 1
            publish = publish or found.interrupted is not None  # a repair changes the store
            published = uuid.uuid4().hex if publish else found.generation
            finished = False
            try:
                if mode == "exclusive":
                    self._write(found.generation, "writing", collection)
                    if publish:
                        found = dataclasses.replace(found, published=published)
                yield found
                finished = True
            finally:
                try:
                    if mode == "exclusive":
                        # A write that raised stays "writing": the next holder repairs it.
                        self._write(published, "idle" if finished else "writing", collection)
                finally:
                    self._release()
                    self._mode, self._depth = None, 0

    @property
    def mode(self) -> Mode | None:
        """How the calling thread holds the lock (the outermost hold), or None."""
        with self._mutex:  # re-entrant: a holder gets its own mode, others wait for theirs
            return self._mode

    def generation(self) -> str:
        """The generation token as the lock file holds it now (call while holding the lock)."""
        return self._read().generation

    # --- internals ---------------------------------------------------------------

    def _open(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StoreError(
                    f"could not open the lock file {self.path}: {exc.strerror}. Processes "
                    "sharing this knowledge base need to write there; check its permissions."
                ) from exc
        return self._fd

    def _acquire(self, mode: Mode) -> Acquired:
        import fcntl

        fd = self._open()
        flag = fcntl.LOCK_SH if mode == "shared" else fcntl.LOCK_EX
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, flag | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(self._busy_message(mode)) from None
                time.sleep(_POLL)
            except OSError as exc:
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise StoreError(
                        f"cannot lock {self.path} on this filesystem ({exc.strerror}), so "
                        "processes cannot safely share an embedded knowledge base here. Keep "
                        "KB_HOME on a local disk, or run a Chroma server and set KB_CHROMA_HOST."
                    ) from exc
                raise
        holder = self._read()
        # Nobody else can be writing while we hold the lock: "writing" means the writer died.
        interrupted = holder if holder.state == "writing" else None
        return Acquired(holder.generation, interrupted)

    def _release(self) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _read(self) -> Holder:
        fd = self._open()
        try:
            raw = os.pread(fd, 65536, 0)
            data: dict[str, Any] = json.loads(raw) if raw.strip() else {}
        except (OSError, ValueError):
            data = {}
        pid = data.get("pid")
        return Holder(
            generation=str(data.get("generation", "")),
            state=str(data.get("state", "idle")),
            pid=int(pid) if isinstance(pid, int) else None,
            command=str(data.get("command", "")),
            since=str(data.get("since", "")),
            collection=str(data.get("collection", "")),
        )

    def _write(self, generation: str, state: str, collection: str) -> None:
        fd = self._open()
        payload = {
            "generation": generation,
            "state": state,
            "pid": os.getpid(),
            "command": current_command(),
            "collection": collection,
            "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        data = json.dumps(payload).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def _busy_message(self, mode: Mode) -> str:
        holder = self._read()
        where = self.path.parent
        if holder.state == "writing" and holder.pid and pid_alive(holder.pid):
            doing = f"{holder.describe()} has been writing to it since {holder.since}"
        else:
            doing = "another process is using it"
        action = "write to" if mode == "exclusive" else "read"
        return (
            f"could not {action} the knowledge base in {where} for {self.wait:.0f} s: {doing}. "
            "Wait for it to finish or stop it; for several busy processes, run a Chroma "
            "server and set KB_CHROMA_HOST."
        )

    def close(self) -> None:
        with self._mutex:
            if self._fd is not None and not self._depth:
                os.close(self._fd)
                self._fd = None
