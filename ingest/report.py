"""What an ingest run did, per source."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["added", "updated", "unchanged", "removed", "failed"]


@dataclass(frozen=True)
class SourceReport:
    """The outcome for one source.

    Attributes:
        source: The source id (resolved path or URL).
        status: added, updated, unchanged, removed or failed.
        title: The article title, when known.
        chunks: Chunks the source has in the store after this run.
        embedded: Chunks whose vectors were computed in this run (0 when unchanged).
        reason: Why it failed, for ``failed``.
        repeated: For ``failed``: it failed the same way (same content) in an earlier
            run, so nothing changed since it was reported.
        warnings: What the parser warned about while reading it (e.g. pypdf).
    """

    source: str
    status: Status
    title: str = ""
    chunks: int = 0
    embedded: int = 0
    reason: str = ""
    repeated: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestReport:
    """The outcome of one ingest call, one entry per source, in input order."""

    sources: tuple[SourceReport, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def _with(self, status: Status) -> list[SourceReport]:
        return [s for s in self.sources if s.status == status]

    @property
    def added(self) -> list[SourceReport]:
        return self._with("added")

    @property
    def updated(self) -> list[SourceReport]:
        return self._with("updated")

    @property
    def unchanged(self) -> list[SourceReport]:
        return self._with("unchanged")

    @property
    def removed(self) -> list[SourceReport]:
        return self._with("removed")

    @property
    def failed(self) -> list[SourceReport]:
        return self._with("failed")

    @property
    def embedded(self) -> int:
        """Chunks embedded in this run, over all sources."""
        return sum(s.embedded for s in self.sources)

    @property
    def ok(self) -> bool:
        """True when no source failed."""
        return not self.failed

    @property
    def new_failures(self) -> list[SourceReport]:
        """Failures not already reported, for the same content, by an earlier run."""
        return [s for s in self.failed if not s.repeated]

    def counts(self) -> dict[str, int]:
        c = Counter(s.status for s in self.sources)
        return {k: c.get(k, 0) for k in ("added", "updated", "unchanged", "removed", "failed")}

    def summary(self) -> str:
        """One line such as ``2 added, 1 unchanged, 1 failed (12 chunks embedded)``."""
        parts = [f"{n} {k}" for k, n in self.counts().items() if n]
        return (", ".join(parts) or "nothing to ingest") + f" ({self.embedded} chunks embedded)"
