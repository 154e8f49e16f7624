"""Word vectors: each word of the knowledge base embedded alone, for soft term matching.

A question rarely uses the article's own words ("cheaper" for "without huge costs",
"famous" for "known"). The answerer's sentence model counts, besides the words a
sentence shares with the question, how close each question word comes to some word
of the sentence (the ``soft_coverage`` feature of :mod:`bot.features`), in the query
model's own space: every word embedded alone, as a one-word text.

Words are embedded once, when a question first meets them, and kept in small
append-only files under the index directory (one per batch), so a process
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
from collections.abc import Callable, Sequence
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
        >>> cheaper, costs = words.rows(["cheaper", "costs"])  # doctest: +SKIP
        >>> float(cheaper @ costs) > 0.5  # doctest: +SKIP
        True
    """

    def __init__(self, embed: Embed, directory: Path | None = None) -> None:
        self._embed = embed
        self._directory = directory
        self._row: dict[str, int] = {}
        # float16 like the files: 100,000 words take 77 MB; rows past len(self._row) unused
        self._matrix = np.zeros((0, 0), dtype=np.float16)
        self._files: list[Path] = []
        self._loaded = False
        self._lock = threading.Lock()

    def rows(self, words: Sequence[str]) -> np.ndarray:
        """A unit vector (float32) per word, one row each in the order given; words never
        met are embedded now, in one batch, and saved."""
        with self._lock:
            if not self._loaded:
                self._load()
            missing = sorted({w for w in words if w not in self._row})
            if missing:
                vectors = np.asarray(self._embed(missing), dtype=np.float32)
                self._add(missing, vectors)
                self._save(missing, vectors)
            return self._matrix[[self._row[w] for w in words]].astype(np.float32)

    def _add(self, words: Sequence[str], vectors: np.ndarray) -> None:
        new = [i for i, w in enumerate(words) if w not in self._row]
        if not new:
            return
        size = len(self._row)
        if size + len(new) > len(self._matrix):  # grow by doubling: one copy per doubling
            rows = max(2 * len(self._matrix), size + len(new), 1024)
            grown = np.zeros((rows, vectors.shape[1]), dtype=np.float16)
            if size:
                grown[:size] = self._matrix[:size]
            self._matrix = grown
        for offset, i in enumerate(new):
            self._row[words[i]] = size + offset
        self._matrix[size : size + len(new)] = vectors[new]

    def _load(self) -> None:
        self._loaded = True
        if self._directory is None or not self._directory.is_dir():
            return
        for path in sorted(self._directory.glob("*.npz")):
            try:
                with np.load(path) as data:
                    words, vectors = data["words"].tolist(), data["vectors"]
            except (OSError, ValueError, KeyError) as exc:  # half-written, or removed meanwhile
                log.debug("skipping word vectors %s: %s", path, exc)
                continue
            self._add(words, vectors)
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
            np.savez(handle, words=np.asarray(words), vectors=np.asarray(vectors, np.float16))
        final = self._directory / f"{name}.npz"
        os.replace(temporary, final)
        return final

    def _compact(self) -> None:
        """Every word known into one file; the files merged are removed (only those: another
        process's newer files stay)."""
        words, old = list(self._row), self._files
        self._files = [self._write(words, self._matrix[: len(words)])]
        for path in old:
            path.unlink(missing_ok=True)
