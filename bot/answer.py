"""Answering: turn retrieved passages into a short answer with ``[n]`` citations.

:class:`Answerer` is the interface; :class:`ExtractiveAnswerer` (the default,
no LLM) quotes the sentences that best answer the question, and
:mod:`bot.generative` implements the same interface with an LLM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from bot.results import Answer, Citation, SuggestedSource
from bot.retrieve import Passage
from bot.terms import query_terms, terms

NOT_FOUND = "I could not find this in the knowledge base."


@dataclass(frozen=True)
class Evidence:
    """What retrieval hands to an answerer for one question."""

    question: str
    vector: np.ndarray
    passages: list[Passage]
    sentence_vectors: dict[str, np.ndarray]
    """Per chunk id: one vector per sentence of the chunk."""
    idf: Callable[[str], float]
    urls: dict[str, str | None] = field(default_factory=dict)
    """Per source id, the article's URL if it has one."""


class Answerer(Protocol):
    """Anything that can answer a question from retrieved evidence.

    Implementations must only state what the cited passages say, number
    citations from 1 in order of first use, and return ``answered=False`` with
    no citations when the evidence does not answer the question.
    """

    def answer(self, evidence: Evidence) -> Answer: ...


@dataclass(frozen=True)
class ExtractiveSettings:
    max_sentences: int = 3
    candidate_passages: int = 6
    weight_dense: float = 0.55
    """Sentence-question cosine similarity (late-chunked sentence vectors)."""
    weight_terms: float = 0.20
    """IDF-weighted share of the question's terms found in the sentence."""
    weight_context: float = 0.20
    """The same share over the sentence and the headings it sits under."""
    keep_ratio: float = 0.82
    """Extra sentences must score at least this fraction of the best one."""
    redundancy: float = 0.9
    """Skip a sentence this similar to one already chosen."""
    min_confidence: float = 0.34
    """Below this, abstain. Calibrated on ``bot/evaluation/corpus_qa.jsonl``: every
    threshold from 0.32 to 0.35 answers all its answerable questions and abstains
    on 23 of its 25 unanswerable ones; this is the middle of that range."""


@dataclass(frozen=True)
class _Candidate:
    passage_rank: int
    sentence: int
    text: str
    score: float
    dense: float
    coverage: float
    vector: np.ndarray


class ExtractiveAnswerer:
    """Answers by quoting the best sentences of the retrieved passages.

    Example:
        >>> answerer = ExtractiveAnswerer()
        >>> answer = answerer.answer(evidence)  # doctest: +SKIP
        >>> answer.text  # doctest: +SKIP
        'In truth, EleutherAI needed to take away the GPT-J mannequin ... [1]'
    """

    def __init__(self, settings: ExtractiveSettings | None = None) -> None:
        self.settings = settings or ExtractiveSettings()

    def answer(self, evidence: Evidence) -> Answer:
        settings = self.settings
        passages = evidence.passages[: settings.candidate_passages]
        question_terms = _weights(query_terms(evidence.question), evidence.idf)
        candidates = self._candidates(evidence, passages, question_terms)
        candidates = _of_expected_type(evidence.question, candidates)
        confidence = candidates[0].score if candidates else 0.0
        if not candidates or confidence < settings.min_confidence:
            return abstain(evidence, confidence)
        chosen = self._choose(candidates)
        return _compose(evidence, passages, chosen, confidence)

    def _candidates(
        self, evidence: Evidence, passages: list[Passage], weights: dict[str, float]
    ) -> list[_Candidate]:
        s = self.settings
        found = []
        for rank, passage in enumerate(passages):
            chunk = passage.chunk
            vectors = evidence.sentence_vectors.get(chunk.id)
            if vectors is None or len(vectors) != len(chunk.sentences):
                continue
            similarities = vectors @ evidence.vector
            sections = chunk.sentence_sections or ("",) * len(chunk.sentences)
            for i, span in enumerate(chunk.sentences):
                text = _quotable(chunk.text[span.start : span.end])
                if not text:
                    continue
                words = set(terms(text))
                share = _coverage(weights, words)
                context_share = _coverage(weights, words | set(terms(sections[i])))
                dense = float(similarities[i])
                score = (
                    s.weight_dense * dense
                    + s.weight_terms * share
                    + s.weight_context * context_share
                )
                found.append(_Candidate(rank, i, text, score, dense, share, vectors[i]))
        found.sort(key=lambda c: -c.score)
        return found

    def _choose(self, candidates: list[_Candidate]) -> list[_Candidate]:
        s = self.settings
        best = candidates[0]
        chosen = [best]
        for candidate in candidates[1:]:
            if len(chosen) == s.max_sentences or candidate.score < s.keep_ratio * best.score:
                break
            if any(float(candidate.vector @ c.vector) >= s.redundancy for c in chosen):
                continue
            chosen.append(candidate)
        return chosen


def _weights(question_terms: list[str], idf: Callable[[str], float]) -> dict[str, float]:
    return {term: idf(term) for term in dict.fromkeys(question_terms)}


def _coverage(weights: dict[str, float], present: set[str]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in present) / total


# Questions that ask for an amount or a time can only be answered by a sentence
# that states one: "How many parameters does GPT-3 have?" must not be answered
# with a sentence that merely mentions GPT-3.
_ASKS_QUANTITY = re.compile(
    r"^\W*(how\s+(many|much|big|large|long|old|often|expensive|fast|high|small)\b"
    r"|what\s+(percentage|proportion|share|size|number|amount)\b)",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(r"^\W*(when\b|(in\s+)?(what|which)\s+year\b)", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|twenty|thirty|forty|fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?"
    r"|half|double|twice)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:january|february|march|april|may|june|july|august"
    r"|september|october|november|december)\b|\b(?:years?|months?|weeks?|days?)\s+ago\b"
    r"|\b(?:yesterday|today|last\s+year|this\s+year)\b",
    re.IGNORECASE,
)


def _states(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    """Whether ``sentence`` has a match of ``pattern`` that the question does not."""
    asked = {m.group(0).lower() for m in pattern.finditer(question)}
    return any(m.group(0).lower() not in asked for m in pattern.finditer(sentence))


def _of_expected_type(question: str, candidates: list[_Candidate]) -> list[_Candidate]:
    """Only the sentences that could answer a how-many or when question; others as they are."""
    if _ASKS_QUANTITY.search(question):
        return [c for c in candidates if _states(_NUMBER, c.text, question)]
    if _ASKS_TIME.search(question):
        return [c for c in candidates if _states(_TIME, c.text, question)]
    return candidates


def _quotable(sentence: str) -> str:
    text = sentence.strip()
    if text.startswith("- "):
        text = text[2:].strip()
    return text


def _terminated(text: str) -> str:
    return text if re.search(r"[.!?…:;)\"”’]$", text) else text + "."


def _compose(
    evidence: Evidence, passages: list[Passage], chosen: list[_Candidate], confidence: float
) -> Answer:
    """Write the answer: passages in order of relevance, sentences in reading order."""
    numbers: dict[int, int] = {}
    for candidate in chosen:
        numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
    ordered = sorted(chosen, key=lambda c: (numbers[c.passage_rank], c.sentence))
    text = " ".join(f"{_terminated(c.text)} [{numbers[c.passage_rank]}]" for c in ordered)
    citations = []
    for rank, n in sorted(numbers.items(), key=lambda item: item[1]):
        passage = passages[rank]
        quotes = [c.text for c in ordered if c.passage_rank == rank]
        citations.append(_citation(n, passage, evidence, " … ".join(quotes)))
    return Answer(evidence.question, text, True, citations, confidence=confidence)


def _citation(n: int, passage: Passage, evidence: Evidence, quote: str = "") -> Citation:
    chunk = passage.chunk
    return Citation(
        n=n,
        source=chunk.source_id,
        title=chunk.title,
        section=chunk.section,
        text=chunk.text,
        score=round(passage.score, 6),
        quote=quote,
        url=evidence.urls.get(chunk.source_id),
        start=chunk.start,
        end=chunk.end,
    )


def closest_sources(evidence: Evidence, limit: int = 3) -> list[SuggestedSource]:
    seen: dict[str, SuggestedSource] = {}
    for passage in evidence.passages:
        chunk = passage.chunk
        if chunk.source_id not in seen:
            seen[chunk.source_id] = SuggestedSource(
                chunk.source_id, chunk.title, evidence.urls.get(chunk.source_id)
            )
        if len(seen) == limit:
            break
    return list(seen.values())


def abstain(evidence: Evidence, confidence: float = 0.0) -> Answer:
    """The honest answer when the evidence does not answer the question."""
    closest = closest_sources(evidence)
    text = NOT_FOUND
    if closest:
        text += " The closest articles are: " + "; ".join(f"“{s.title}”" for s in closest) + "."
    return Answer(evidence.question, text, False, [], confidence=confidence, closest=closest)


def citations_for(evidence: Evidence) -> list[Citation]:
    """Search results: every passage as a citation numbered by rank."""
    return [_citation(n, p, evidence) for n, p in enumerate(evidence.passages, start=1)]
