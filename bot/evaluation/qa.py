"""``kb eval qa``: answer quality on a question set with known evidence.

Each JSONL line: ``question``, ``answerable``, ``evidence`` (strings, any one of
which a correct citation contains), ``keywords`` (all must appear in the answer
text; ``a|b`` accepts either) and optionally ``id``, ``kind``, ``source``.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from bot.knowledge_base import KnowledgeBase
from bot.results import Answer
from ingest.errors import ConfigurationError


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    evidence: list[str]
    keywords: list[str]
    kind: str = ""
    source: str | None = None


@dataclass(frozen=True)
class Outcome:
    question: Question
    answer: Answer
    seconds: float

    @property
    def evidence_hit(self) -> bool:
        """Answered, and a cited passage holds one of the evidence strings."""
        if not self.answer.answered:
            return False
        cited = [normalise(c.text) for c in self.answer.citations]
        return any(normalise(e) in text for e in self.question.evidence for text in cited)

    @property
    def keywords_hit(self) -> bool:
        """Answered, and the answer text states every keyword (one alternative of each)."""
        if not self.answer.answered:
            return False
        text = normalise(self.answer.text)
        return all(
            any(normalise(alt) in text for alt in group.split("|"))
            for group in self.question.keywords
        )

    @property
    def correct(self) -> bool:
        if self.question.answerable:
            return self.evidence_hit and self.keywords_hit
        return not self.answer.answered


@dataclass(frozen=True)
class QaResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def _answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.answerable]

    def _unanswerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.question.answerable]

    def metrics(self) -> dict[str, float]:
        answerable, unanswerable = self._answerable(), self._unanswerable()
        latencies = sorted(o.seconds * 1000 for o in self.outcomes)
        return {
            "questions": len(self.outcomes),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "evidence_in_citations": _share(o.evidence_hit for o in answerable),
            "keywords_in_answer": _share(o.keywords_hit for o in answerable),
            "abstention_on_unanswerable": _share(not o.answer.answered for o in unanswerable),
            "false_abstentions": _share(not o.answer.answered for o in answerable),
            "latency_p50_ms": _percentile(latencies, 50),
            "latency_p95_ms": _percentile(latencies, 95),
        }

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics(),
            "failures": [
                {
                    "id": o.question.id,
                    "question": o.question.question,
                    "answerable": o.question.answerable,
                    "answered": o.answer.answered,
                    "evidence_hit": o.evidence_hit,
                    "keywords_hit": o.keywords_hit,
                    "answer": o.answer.text,
                    "confidence": round(o.answer.confidence, 4),
                }
                for o in self.failures()
            ],
        }


def _share(flags: Any) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def _percentile(values: list[float], q: int) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip().casefold()


def default_question_set() -> Path:
    """The question set shipped for the bundled corpus."""
    return Path(str(resources.files("bot.evaluation"))) / "corpus_qa.jsonl"


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question set.

    Raises:
        ConfigurationError: The file is missing or a line is malformed.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigurationError(f"Could not read the question set {path}: {exc}") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            questions.append(
                Question(
                    id=str(data.get("id", number)),
                    question=str(data["question"]),
                    answerable=bool(data["answerable"]),
                    evidence=list(data.get("evidence") or []),
                    keywords=list(data.get("keywords") or []),
                    kind=str(data.get("kind", "")),
                    source=data.get("source"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}:{number}: not a valid question ({exc})") from exc
    return questions


def evaluate_qa(kb: KnowledgeBase, path: Path, progress_console: Console | None = None) -> QaResult:
    """Ask every question (after one warm-up) and score the answers."""
    questions = load_questions(path)
    kb.warm_up()
    kb.ask(questions[0].question if questions else "warm up")
    outcomes = []
    with Progress(
        console=progress_console, transient=True, disable=progress_console is None
    ) as bar:
        task = bar.add_task("Asking", total=len(questions))
        for question in questions:
            started = time.perf_counter()
            answer = kb.ask(question.question)
            outcomes.append(Outcome(question, answer, time.perf_counter() - started))
            bar.advance(task)
    return QaResult(outcomes)


def print_qa(result: QaResult, console: Console) -> None:
    m = result.metrics()
    table = Table(
        title=f"Corpus QA ({m['answerable']:.0f} answerable, {m['unanswerable']:.0f} unanswerable)",
        title_justify="left",
    )
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    table.add_row("Evidence in citations", f"{m['evidence_in_citations']:.1%}")
    table.add_row("Keywords in answer", f"{m['keywords_in_answer']:.1%}")
    table.add_row("Abstention on unanswerable", f"{m['abstention_on_unanswerable']:.1%}")
    table.add_row("False abstentions", f"{m['false_abstentions']:.1%}")
    table.add_row("Latency p50", f"{m['latency_p50_ms']:.1f} ms")
    table.add_row("Latency p95", f"{m['latency_p95_ms']:.1f} ms")
    console.print(table)
    failures = result.failures()
    if failures:
        console.print(f"[bold]{len(failures)} not right:[/bold]")
        for o in failures:
            verdict = "answered" if o.answer.answered else "abstained"
            console.print(
                f"• [{escape(o.question.id)}] {escape(o.question.question)} "
                f"[dim]({verdict}, conf {o.answer.confidence:.2f})[/dim]\n  {escape(o.answer.text[:200])}"
            )
