"""Word vectors: each word of the knowledge base embedded alone, for soft term matching.

A question rarely uses the article's own words ("cheaper" for "without huge costs",
"famous" for "known"). The answerer's sentence model counts, besides the words a
sentence shares with the question, how close each question word comes to some word
of the sentence (the ``soft_coverage`` feature of :mod:`bot.features`), in the query
model's own space: every word
embedded alone, as a one-word text.

Words are embedded once, when a question first meets them, and kept in small
append-only files under the index directory (one per batch, float16), so a process
that starts again, or ``kb ask`` run once, does not embed them again. It is a cache:
a file that cannot be read is skipped and its words embedded again; two processes
that meet the same new word both write it, and the copies are merged when the files
are compacted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]

_MAX_FILES = 32
"""More batch files than this and they are merged into one."""


class WordVectors:
    """Unit vectors of single words, embedded on first use and kept on disk.

    Example:
        >>> words = WordVectors(kb.embed, kb.settings.index_path / "words")  # doctest: +SKIP
        >>> vectors = words.lookup({"cheaper", "costs"})  # doctest: +SKIP
        >>> float(vectors["cheaper"] @ vectors["costs"]) > 0.5  # doctest: +SKIP
        True
    """

    def __init__(self, embed: Embed, directory: Path | None = None) -> None:
        self._embed = embed
        self._directory = directory
        self._vectors: dict[str, np.ndarray] = {}
        self._files: list[Path] = []
        self._loaded = False
        self._lock = threading.Lock()

    def lookup(self, words: Collection[str]) -> dict[str, np.ndarray]:
        """A unit vector (float32) for each of ``words``; those never met are embedded now,
        in one batch, and saved."""
        with self._lock:
            if not self._loaded:
                self._load()
            missing = sorted(w for w in words if w not in self._vectors)
            if missing:
                vectors = np.asarray(self._embed(missing), dtype=np.float32)
                self._vectors.update(zip(missing, vectors))
                self._save(missing, vectors)
            return {w: self._vectors[w] for w in words}

    def __len__(self) -> int:
        return len(self._vectors)

    def _load(self) -> None:
        self._loaded = True
        if self._directory is None or not self._directory.is_dir():
            return
        for path in sorted(self._directory.glob("*.npz")):
            try:
                with np.load(path) as data:
                    words, vectors = data["words"], data["vectors"].astype(np.float32)
            except (OSError, ValueError, KeyError) as exc:  # half-written, or removed meanwhile
                log.debug("skipping word vectors %s: %s", path, exc)
                continue
            self._vectors.update(zip(words.tolist(), vectors))
            self._files.append(path)

    def _save(self, words: list[str], vectors: np.ndarray) -> None:
        if self._directory is None:
            return
        try:
            self._files.append(self._write(words, vectors))
            if len(self._files) > _MAX_FILES:
                self._compact()
        except OSError as exc:  # a read-only home still answers, embedding words again
            log.warning("could not save word vectors under %s: %s", self._directory, exc)

    def _write(self, words: Sequence[str], vectors: np.ndarray) -> Path:
        assert self._directory is not None
        self._directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        temporary = self._directory / f"{name}.tmp"
        with temporary.open("wb") as handle:
            np.savez(handle, words=np.asarray(words), vectors=vectors.astype(np.float16))
        final = self._directory / f"{name}.npz"
        os.replace(temporary, final)
        return final

    def _compact(self) -> None:
        """Every word known into one file; the files merged are removed (only those: another
        process's newer files stay)."""
        merged, old = sorted(self._vectors), self._files
        self._files = [self._write(merged, np.vstack([self._vectors[w] for w in merged]))]
        for path in old:
            path.unlink(missing_ok=True)
