"""``kb eval qa``: answer quality on a labelled question set, per split.

The shipped set (``qa_dev.jsonl``, ``qa_test.jsonl`` and ``qa_holdout.jsonl``) asks
about the bundled corpus plus public articles, in three libraries: ``main``
(``articles/``, dev and test), ``extra`` (``articles_extra/``, dev only, written
later by writers who never saw the bot) and ``holdout`` (``articles_holdout/``,
its own split, written the same way and never tuned on). Each question is answered
from a knowledge base of the bundled corpus plus its library's articles, built under
``KB_HOME/eval``; the libraries are kept apart so that adding articles never changes
what the test split is asked against (several articles of ``extra`` restate facts of
``main``). The answerer's settings are fitted on the dev split only (``kb eval fit``);
the test and holdout splits are only ever reported.

Each JSONL line: ``question``, ``answerable``, ``evidence`` (strings, any one of
which a correct citation contains), ``keywords`` (all must appear in the answer
text; ``a|b`` accepts either), and optionally ``id``, ``group`` (the fact asked
about), ``kind``, ``paraphrase``, ``source``, ``mentions`` (near-miss: the entity
the article does name), ``history`` (earlier turns of a follow-up) and ``library``
(``main`` unless said).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from bot import Answer, ConfigurationError, KnowledgeBase, Settings, bundled_corpus

SPLITS = ("dev", "test", "holdout")
"""The shipped question files: settings are chosen on ``dev``; ``test`` and ``holdout`` are
only ever reported."""
LIBRARIES = ("main", "extra", "holdout")
"""The article sets a question may be asked against (``Question.library``)."""
KINDS = (
    "factoid",
    "list",
    "why",
    "yesno",
    "comparison",
    "followup",
    "near_miss",
    "out_of_scope",
)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answerable: bool
    evidence: list[str]
    keywords: list[str]
    kind: str = ""
    source: str | None = None
    group: str = ""
    paraphrase: bool = False
    history: list[str] = field(default_factory=list)
    mentions: str | None = None
    library: str = "main"


KnowledgeBases = Callable[[str], KnowledgeBase]
"""The knowledge base each library's questions are answered from (library name -> it)."""


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
        return any(holds_any(c.text, self.question.evidence) for c in self.answer.citations)

    @property
    def citations_without_evidence(self) -> int:
        """How many of the answer's cited passages hold none of the evidence strings."""
        if not self.answer.answered:
            return 0
        return sum(not holds_any(c.text, self.question.evidence) for c in self.answer.citations)

    @property
    def keywords_hit(self) -> bool:
        """Answered, and the answer text states every keyword (one alternative of each)."""
        if not self.answer.answered:
            return False
        return states_keywords(self.answer.text, self.question.keywords)

    @property
    def correct(self) -> bool:
        if self.question.answerable:
            return self.evidence_hit and self.keywords_hit
        return not self.answer.answered


def holds_any(text: str, evidence: list[str]) -> bool:
    """Whether ``text`` holds one of the evidence strings (compared normalised)."""
    plain = normalise(text)
    return any(normalise(e) in plain for e in evidence)


def states_keywords(text: str, keywords: list[str]) -> bool:
    plain = normalise(text)
    return all(any(normalise(alt) in plain for alt in group.split("|")) for group in keywords)


@dataclass(frozen=True)
class QaResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        """The issue's rows: single-turn answerable, follow-ups and abstentions kept apart."""
        single = [o for o in self.outcomes if o.question.answerable and not o.question.history]
        follow = [o for o in self.outcomes if o.question.answerable and o.question.history]
        unanswerable = [o for o in self.outcomes if not o.question.answerable]
        out_of_scope = [o for o in unanswerable if o.question.kind == "out_of_scope"]
        near_miss = [o for o in unanswerable if o.question.kind != "out_of_scope"]
        latencies = sorted(o.seconds * 1000 for o in self.outcomes)
        return {
            "questions": len(self.outcomes),
            "answerable": len(single),
            "followups": len(follow),
            "unanswerable": len(unanswerable),
            "evidence_in_citations": _share(o.evidence_hit for o in single),
            "keywords_in_answer": _share(o.keywords_hit for o in single),
            "abstention_on_unanswerable": _share(not o.answer.answered for o in unanswerable),
            "abstention_out_of_scope": _share(not o.answer.answered for o in out_of_scope),
            "abstention_near_miss": _share(not o.answer.answered for o in near_miss),
            "false_abstentions": _share(not o.answer.answered for o in single),
            "followups_right_passage": _share(o.evidence_hit for o in follow),
            "citations_without_evidence": _unsupported_share(single),
            "latency_p50_ms": _percentile(latencies, 50),
            "latency_p95_ms": _percentile(latencies, 95),
        }

    def by_kind(self) -> dict[str, dict[str, float]]:
        """Per question kind: how many, and the share handled right."""
        kinds: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            kinds.setdefault(o.question.kind or "other", []).append(o)
        return {
            kind: {"questions": len(items), "correct": _share(o.correct for o in items)}
            for kind, items in sorted(kinds.items(), key=lambda kv: _kind_order(kv[0]))
        }

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.correct]

    def to_dict(self, failures: bool = True) -> dict[str, Any]:
        """Metrics and per-kind shares, and (``failures``) each question not handled right."""
        data: dict[str, Any] = {"metrics": self.metrics(), "by_kind": self.by_kind()}
        if failures:
            data["failures"] = [
                {
                    "id": o.question.id,
                    "question": o.question.question,
                    "history": o.question.history,
                    "kind": o.question.kind,
                    "answerable": o.question.answerable,
                    "answered": o.answer.answered,
                    "evidence_hit": o.evidence_hit,
                    "keywords_hit": o.keywords_hit,
                    "answer": o.answer.text,
                    "confidence": round(o.answer.confidence, 4),
                }
                for o in self.failures()
            ]
        return data


def _kind_order(kind: str) -> int:
    return KINDS.index(kind) if kind in KINDS else len(KINDS)


def _unsupported_share(outcomes: list[Outcome]) -> float:
    """Of all passages cited by answered questions, the share that hold none of the evidence."""
    cited = sum(len(o.answer.citations) for o in outcomes if o.answer.answered)
    return sum(o.citations_without_evidence for o in outcomes) / cited if cited else 0.0


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


# --- the shipped set -------------------------------------------------------------------


def _package_dir() -> Path:
    return Path(str(resources.files("bot.evaluation")))


def question_set(split: str) -> Path:
    """The shipped question file of one split (``dev``, ``test`` or ``holdout``)."""
    if split not in SPLITS:
        raise ConfigurationError(f"Unknown split {split!r}: use one of {', '.join(SPLITS)}.")
    return _package_dir() / f"qa_{split}.jsonl"


def evaluation_articles(library: str = "main") -> Path:
    """The public articles of one library of the shipped set (see ``PROVENANCE.md``)."""
    _check_library(library)
    return _package_dir() / ("articles" if library == "main" else f"articles_{library}")


def _check_library(library: str) -> None:
    if library not in LIBRARIES:
        raise ConfigurationError(f"Unknown library {library!r}: use one of {', '.join(LIBRARIES)}.")


def evaluation_knowledge_base(settings: Settings, library: str = "main") -> KnowledgeBase:
    """A knowledge base of the bundled corpus plus one library's evaluation articles.

    Built once under ``KB_HOME/eval/qa`` (``qa-extra`` for ``extra``; re-ingesting
    is a no-op afterwards), so evaluating never touches the user's own knowledge
    base. Articles ingested there from another installation's copy (another
    virtualenv, a moved checkout) are forgotten: the figures are for this
    library's articles only, each once.
    """
    home = settings.home / "eval" / ("qa" if library == "main" else f"qa-{library}")
    kb = KnowledgeBase(
        settings=settings.model_copy(
            update={"home": home, "auto_ingest": False, "corpus": None, "llm_url": None}
        )
    )
    corpus = bundled_corpus()
    if corpus is None:
        raise ConfigurationError("The bundled corpus was not found; reinstall kb-bot.")
    report = kb.ingest([corpus, evaluation_articles(library)])
    if report.failed:
        reasons = "; ".join(f"{f.source}: {f.reason}" for f in report.failed)
        raise ConfigurationError(f"Could not build the evaluation knowledge base: {reasons}")
    current = {r.source for r in report.sources}
    for record in kb.sources():
        if record.source_id not in current:
            kb.forget(record.source_id)
    return kb


class EvaluationLibraries:
    """The evaluation knowledge bases (:func:`evaluation_knowledge_base`), each built
    when a question of its library is first asked; a :data:`KnowledgeBases`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str, KnowledgeBase] = {}

    def __call__(self, library: str) -> KnowledgeBase:
        if library not in self._built:
            self._built[library] = evaluation_knowledge_base(self.settings, library)
        return self._built[library]

    def close(self) -> None:
        for kb in self._built.values():
            kb.close()
        self._built.clear()


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
            identifier = str(data.get("id", number))
            questions.append(
                Question(
                    id=identifier,
                    question=str(data["question"]),
                    answerable=bool(data["answerable"]),
                    evidence=list(data.get("evidence") or []),
                    keywords=list(data.get("keywords") or []),
                    kind=str(data.get("kind", "")),
                    source=data.get("source"),
                    group=str(data.get("group") or identifier),
                    paraphrase=bool(data.get("paraphrase", False)),
                    history=[str(h) for h in data.get("history") or []],
                    mentions=data.get("mentions"),
                    library=str(data.get("library", "main")),
                )
            )
            _check_library(questions[-1].library)
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{path}:{number}: not a valid question ({exc})") from exc
    return questions


def ask(kb: KnowledgeBase, question: Question) -> Answer:
    """Ask one question, after its earlier turns when it is a follow-up."""
    if not question.history:
        return kb.ask(question.question)
    conversation = kb.conversation()
    for turn in question.history:
        conversation.ask(turn)
    answer: Answer = conversation.ask(question.question)
    return answer


def evaluate_qa(
    kbs: KnowledgeBases,
    path: Path,
    progress_console: Console | None = None,
    asker: Callable[[KnowledgeBase, Question], Answer] = ask,
) -> QaResult:
    """Ask every question (after one warm-up per knowledge base) and score the answers."""
    return evaluate_questions(kbs, load_questions(path), path.name, progress_console, asker)


def evaluate_questions(
    kbs: KnowledgeBases,
    questions: list[Question],
    name: str,
    progress_console: Console | None = None,
    asker: Callable[[KnowledgeBase, Question], Answer] = ask,
) -> QaResult:
    """:func:`evaluate_qa` for questions already loaded (``name`` labels the progress bar);
    the outcomes are in the questions' order."""
    warm: set[str] = set()
    outcomes = []
    with Progress(
        console=progress_console, transient=True, disable=progress_console is None
    ) as bar:
        task = bar.add_task(f"Asking ({name})", total=len(questions))
        for question in questions:
            kb = kbs(question.library)
            if question.library not in warm:  # the first answer pays for loading
                kb.warm_up()
                kb.ask(question.question)
                warm.add(question.library)
            started = time.perf_counter()
            answer = asker(kb, question)
            outcomes.append(Outcome(question, answer, time.perf_counter() - started))
            bar.advance(task)
    return QaResult(outcomes)


_ROWS = (
    ("Cited passages hold the evidence", "evidence_in_citations", "≥ 95 %"),
    ("Answer text states the fact", "keywords_in_answer", "≥ 85 %"),
    ("Abstains on out-of-scope", "abstention_out_of_scope", "≥ 95 %"),
    ("Abstains on near-miss", "abstention_near_miss", "≥ 85 %"),
    ("False abstentions", "false_abstentions", "≤ 5 %"),
    ("Follow-ups answered from the right passage", "followups_right_passage", "≥ 85 %"),
    ("Cited passages without the evidence", "citations_without_evidence", ""),
)


LIBRARY_PART = " · "
"""Between a result's name and a library's in :func:`with_libraries` ("dev · extra")."""


def with_libraries(results: dict[str, QaResult]) -> dict[str, QaResult]:
    """``results``, each followed by its part per library when it spans several
    ("dev · main", "dev · extra"): the extra library's questions were written blind to
    the bot and are never fitted on, so they are worth reading apart."""
    split: dict[str, QaResult] = {}
    for name, result in results.items():
        split[name] = result
        libraries = dict.fromkeys(o.question.library for o in result.outcomes)
        if len(libraries) > 1:
            for library in libraries:
                part = [o for o in result.outcomes if o.question.library == library]
                split[f"{name}{LIBRARY_PART}{library}"] = QaResult(part)
    return split


def print_qa(results: dict[str, QaResult], console: Console, *, failures: bool = True) -> None:
    """One table with a column per split (``dev``, ``test`` or a file name, and their parts
    per library), then the misses."""
    names = list(results)
    metrics = {name: r.metrics() for name, r in results.items()}
    counts = ", ".join(
        f"{name}: {m['answerable']:.0f} answerable + {m['followups']:.0f} follow-ups, "
        f"{m['unanswerable']:.0f} unanswerable"
        for name, m in metrics.items()
    )
    table = Table(title=f"Answer quality ({counts})", title_justify="left")
    table.add_column("Measure")
    table.add_column("Target", justify="right")
    for name in names:
        table.add_column(name, justify="right")
    for label, key, target in _ROWS:
        table.add_row(label, target, *(f"{metrics[n][key]:.1%}" for n in names))
    table.add_row("Latency p50", "", *(f"{metrics[n]['latency_p50_ms']:.1f} ms" for n in names))
    table.add_row("Latency p95", "", *(f"{metrics[n]['latency_p95_ms']:.1f} ms" for n in names))
    console.print(table)

    kinds = Table(title="Handled right, by kind of question", title_justify="left")
    kinds.add_column("Kind")
    for name in names:
        kinds.add_column(name, justify="right")
    by_kind = {n: results[n].by_kind() for n in names}
    all_kinds = sorted({k for n in names for k in by_kind[n]}, key=_kind_order)
    for kind in all_kinds:
        cells = []
        for n in names:
            row = by_kind[n].get(kind)
            cells.append(f"{row['correct']:.0%} of {row['questions']:.0f}" if row else "")
        kinds.add_row(kind, *cells)
    console.print(kinds)
    if not failures:
        return
    for name, result in results.items():
        if LIBRARY_PART in name:
            continue  # listed with the whole
        missed = result.failures()
        if not missed:
            continue
        console.print(f"[bold]{name}: {len(missed)} not right:[/bold]")
        for o in missed:
            verdict = "answered" if o.answer.answered else "abstained"
            turns = " → ".join(escape(h) for h in o.question.history)
            prefix = f"{turns} → " if turns else ""
            console.print(
                f"• [{escape(o.question.id)}] {prefix}{escape(o.question.question)} "
                f"[dim]({o.question.kind}, {verdict}, conf {o.answer.confidence:.2f})[/dim]\n"
                f"  {escape(o.answer.text[:200])}"
            )
