"""The typed results of the public API: :class:`Answer` and :class:`Citation`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.models import Chunk


@dataclass(frozen=True)
class Citation:
    """One passage of one article, numbered as it is cited in an answer.

    Attributes:
        n: The number used in the answer's ``[n]`` markers (1-based; rank for search).
        source: The source id: a resolved file path or a URL.
        title: The article title.
        section: The section heading(s) the passage sits under ("" before the first one).
        text: The exact stored passage (the chunk) the claim comes from.
        score: Retrieval score (higher is better; comparable within one query).
        quote: The sentence(s) of ``text`` the answer used ("" in search results).
        url: A link to the article when the source is a web page.
        start: Character offset of ``text`` in the cleaned article.
        end: End offset of ``text`` in the cleaned article.
    """

    n: int
    source: str
    title: str
    section: str
    text: str
    score: float
    quote: str = ""
    url: str | None = None
    start: int = 0
    end: int = 0

    @classmethod
    def of_chunk(
        cls,
        n: int,
        chunk: Chunk,
        *,
        score: float,
        quote: str = "",
        url: str | None = None,
        title: str | None = None,
    ) -> Citation:
        """A stored passage as citation ``n`` (``title`` instead of the chunk's own)."""
        return cls(
            n=n,
            source=chunk.source_id,
            title=chunk.title if title is None else title,
            section=chunk.section,
            text=chunk.text,
            score=score,
            quote=quote,
            url=url,
            start=chunk.start,
            end=chunk.end,
        )

    def heading(self, *, with_section: bool = True) -> str:
        """How the passage is headed wherever it is shown: ``[n] Title › Section``.

        Example:
            >>> Citation(2, "a.md", "BLOOM", "Training", "...", 0.5).heading()
            '[2] BLOOM › Training'
        """
        heading = f"[{self.n}] {self.title}"
        if with_section and self.section:
            heading += f" › {self.section}"
        return heading

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SuggestedSource:
    """An article close to an unanswered question, offered as a pointer."""

    source: str
    title: str
    url: str | None = None


CLOSEST_ARTICLES = " The closest articles are: "
"""How an abstention's text goes on to name the articles nearest to the question."""


@dataclass(frozen=True)
class Answer:
    """An answer whose every sentence carries a ``[n]`` marker into ``citations``.

    Attributes:
        question: The question as answered (possibly truncated, see ``notice``).
        text: The answer, with inline ``[1]``, ``[2]`` markers.
        answered: False when the knowledge base holds no supporting passage; then
            ``text`` says so, ``citations`` is empty and ``closest`` lists the
            nearest articles.
        citations: The cited passages, numbered as in ``text``.
        confidence: 0-1, how well the best passage supports an answer.
        closest: Articles nearest to the question (for abstentions).
        notice: Anything the user should know about how the question was handled.
        standalone_question: What was actually searched for: in a conversation, a
            follow-up rewritten to stand on its own ("Who made it?" after "What is
            BLOOM?" is "Who made BLOOM?"); otherwise (and by default) ``question``.
        dropped: Sentences an LLM wrote that the cited passages did not support,
            left out of ``text`` (0 for extractive answers).
    """

    question: str
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    closest: list[SuggestedSource] = field(default_factory=list)
    notice: str | None = None
    standalone_question: str = ""
    dropped: int = 0

    def __post_init__(self) -> None:
        if not self.standalone_question:
            object.__setattr__(self, "standalone_question", self.question)

    @property
    def lead(self) -> str:
        """``text`` for a display that lists ``closest`` on its own: an abstention
        without its sentence naming the closest articles, anything else unchanged."""
        if self.answered or not self.closest:
            return self.text
        return self.text.partition(CLOSEST_ARTICLES)[0]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``kb ask --json``."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "answered": self.answered,
            "citations": [
                {k: c.to_dict()[k] for k in ("n", "source", "title", "section", "text", "score")}
                | {"quote": c.quote, "url": c.url}
                for c in self.citations
            ],
            "confidence": round(self.confidence, 4),
            "closest": [asdict(s) for s in self.closest],
            "notice": self.notice,
            "dropped": self.dropped,
        }
