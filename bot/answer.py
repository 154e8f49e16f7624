"""Answering: turn retrieved passages into a short answer with ``[n]`` citations.

:class:`Answerer` is the interface; :class:`ExtractiveAnswerer` (the default,
no LLM) quotes the sentences that best answer the question, and
:mod:`bot.generative` implements the same interface with an LLM.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from bot.features import (
    ANSWERABILITY_FEATURES,
    GIVES_REASON,
    SENTENCE_FEATURES,
    Candidate,
    WordLookup,
    answerability_row,
    candidates,
    opens_list_item,
    settles,
    states_expected,
)
from bot.linear import AnswerModel, softmax
from bot.question import (
    CONS_STEMS,
    LIGHT_TERMS,
    OUTCOME,
    Question,
    gives_a_way,
    heads_list_asked,
    list_heading_asked,
    names_a_remedy,
    names_place,
    names_something,
    side_of,
    spells_out,
    states_topic,
)
from bot.results import CLOSEST_ARTICLES, Answer, Citation, SuggestedSource
from bot.retrieve import Passage
from bot.terms import terms
from ingest.chunk import SECTION_SEPARATOR
from ingest.errors import ConfigurationError
from ingest.store import StoredChunk

NOT_FOUND = "I could not find this in the knowledge base."
ANSWER_PASSAGES = 10
"""Passages retrieved for an answer; the answerer weighs every sentence in them."""


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
    known: Callable[[str], bool] = lambda term: True
    """Whether a (stemmed) term occurs anywhere in the knowledge base."""
    related: Callable[[str], bool] | None = None
    """Whether a term or another form of it occurs (default: :attr:`known`)."""
    following: Callable[[Passage], tuple[Passage, np.ndarray] | None] | None = None
    """The passage after one in its article, with its sentence vectors, read on demand: a
    list that a retrieved passage cuts off goes on there."""
    word_vectors: WordLookup | None = None
    """Unit vectors of single words, for the ``soft_coverage`` feature (without it, 0)."""
    openings: Callable[[Sequence[str]], Mapping[str, StoredChunk]] | None = None
    """The first passage of each of these articles (by source id), read with the passages or
    on demand: what an article is about, which its sentences need not name again."""


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
    """Most sentences quoted (a list answer quotes up to ``max_list_items`` items)."""
    max_list_items: int = 8
    candidate_passages: int = ANSWER_PASSAGES
    redundancy: float = 0.9
    """Skip a sentence this similar to one already chosen."""
    model_path: Path | None = None
    """The fitted sentence and answerability models; default: the shipped ``answer_model.json``."""


@dataclass(frozen=True)
class Scored:
    """A candidate sentence with the sentence model's probability that it states the answer."""

    candidate: Candidate
    probability: float


class ExtractiveAnswerer:
    """Answers by quoting the sentences that best answer the question.

    Two small fitted models decide (:mod:`bot.features`): one scores every
    sentence of the retrieved passages, the other whether the best of them
    answers the question at all (otherwise it abstains). A question that asks
    for several things, answered by an item of a bulleted list, gets the items
    of that one list.

    Example:
        >>> answerer = ExtractiveAnswerer()
        >>> answer = answerer.answer(evidence)  # doctest: +SKIP
        >>> answer.text  # doctest: +SKIP
        'In truth, EleutherAI needed to take away the GPT-J mannequin ... [1]'
    """

    def __init__(
        self, settings: ExtractiveSettings | None = None, model: AnswerModel | None = None
    ) -> None:
        self.settings = settings or ExtractiveSettings()
        if model is None:
            model = AnswerModel.load(self.settings.model_path)
            _check_features(model, self.settings.model_path)
        self.model = model

    def answer(self, evidence: Evidence) -> Answer:
        passages = evidence.passages[: self.settings.candidate_passages]
        question = Question.analyse(
            evidence.question, evidence.idf, evidence.known, evidence.related
        )
        query = self.model.sentence_query(evidence.vector)
        every = self.rank(question, evidence, passages, query)
        openings = _Openings(every, passages, evidence.openings)
        ranked = _of_expected_type(question, every, passages, openings)
        ranked = _of_the_subject(question, ranked, passages, openings)
        ranked = _under_its_heading(question, ranked)
        ranked = _of_the_defined(question, ranked)
        ranked = _told_how(question, ranked, passages)
        confidence = self.answerability(ranked, passages)
        ranked = _named_first(question, ranked)
        ranked = _definition_first(question, ranked)
        ranked = _attribute_first(question, ranked, passages, openings)
        ranked = _headed_as_asked_first(question, ranked)
        ranked = _topic_first(question, ranked)
        if ranked and (
            _settles_the_contest(question, ranked[0].candidate)
            or _in_the_section_asked(question, ranked[0].candidate)
            or _under_the_heading_asked(question, ranked[0].candidate)
        ):
            confidence = max(confidence, self.model.threshold)
        if not question.weights:  # not one word the knowledge base uses ("🤖🤖🤖")
            confidence = 0.0
        if not ranked or confidence < self.model.threshold:
            return abstain(evidence, confidence)
        reader = _Reader(question, evidence, query)
        chosen = self._choose(question, ranked, passages, reader, every)
        return _compose(evidence, passages, chosen, confidence)

    def rank(
        self, question: Question, evidence: Evidence, passages: list[Passage], query: np.ndarray
    ) -> list[Scored]:
        """Every candidate sentence, most likely to state the answer first; ``query`` is the
        question vector they are compared with (:meth:`AnswerModel.sentence_query`)."""
        found = candidates(
            question,
            query,
            passages,
            evidence.sentence_vectors,
            word_vectors=evidence.word_vectors,
        )
        if not found:
            return []
        probabilities = softmax(self.model.sentence.logits(np.vstack([c.features for c in found])))
        scored = [Scored(c, float(p)) for c, p in zip(found, probabilities)]
        scored.sort(key=lambda s: -s.probability)
        return scored

    def answerability(self, ranked: list[Scored], passages: list[Passage]) -> float:
        """Probability that the best sentence answers the question."""
        if not ranked:
            return 0.0
        row = answerability_row([(s.candidate, s.probability) for s in ranked], passages)
        return float(self.model.answerable.probabilities(row)[0])

    def _choose(
        self,
        question: Question,
        ranked: list[Scored],
        passages: list[Passage],
        reader: _Reader | None = None,
        every: list[Scored] | None = None,
    ) -> list[Candidate]:
        """The sentences to quote, from ``ranked``; a list they start goes on with its items
        from ``every`` sentence read (by default ``ranked``), whatever filtered ``ranked``:
        "…potential limitations of LLM-as-a-judge:" is answered by the biases listed under
        it, which name no limitation. ``reader`` may add the passages that continue cut-off
        lists to ``passages`` (and their sentences to ``every``)."""
        chosen = self._choose_sentences(question, ranked, passages, reader, every or ranked)
        return chosen + _other_name(question, chosen, ranked)  # "…between BERT and GPT?"

    def _choose_sentences(
        self,
        question: Question,
        ranked: list[Scored],
        passages: list[Passage],
        reader: _Reader | None,
        every: list[Scored],
    ) -> list[Candidate]:
        best = ranked[0].candidate
        if _names_item(question, best):  # "What are GPT models known for?"
            return [best, *_rest_of_item(best, ranked)]
        limit = self.settings.max_list_items
        if question.asks_both_senses:  # "What are the pros and cons of open-source LLMs?"
            both = _pros_and_cons(question, ranked, limit)
            if both:
                return both
        if (question.kind == "list" or question.asks_advice) and best.list_item:
            return _whole_list(best, every, limit, passages, reader)
        following = _items_after(best, every, limit, passages, reader)
        if question.kind == "list" or _announces(best.text):
            # "...involves two steps:" is answered by the steps; "This suite incorporates
            # two tasks…" by its sub-sections "Task 1: …", "Task 2: …"
            following = following or _sections_after(best, every, limit, passages, reader)
            if following:
                return [best, *following]
        if question.kind == "list":  # "…the best lever for improving outputs." + "Try tricks like:"
            following = _list_led_by(best, every, limit, passages, reader)
            if following:
                return [best, *following]
        chosen = [best]
        if question.kind == "why" and not GIVES_REASON.search(best.text):
            chosen += _reason_beside(best, ranked)  # "...an accuracy drop." + "...because..."
        best_probability = ranked[0].probability
        floor = min(self.model.keep, self.model.keep_in_passage) * best_probability
        for scored in ranked[1:]:
            if len(chosen) == self.settings.max_sentences or scored.probability < floor:
                break
            candidate = scored.candidate
            cited = any(c.passage_rank == candidate.passage_rank for c in chosen)
            keep = self.model.keep_in_passage if cited else self.model.keep
            if scored.probability < keep * best_probability:
                continue  # a new citation must earn more than more words from a cited passage
            if candidate.list_item != best.list_item or (
                candidate.list_item and candidate.section != best.section
            ):
                continue  # never mix items of another list (open- vs closed-source challenges)
            if any(float(candidate.vector @ c.vector) >= self.settings.redundancy for c in chosen):
                continue
            chosen.append(candidate)
        if _items_of_one_list(chosen) == self.settings.max_sentences and question.kind not in (
            "yesno",
            "why",
        ):  # the sentence limit cut a list the answer quotes from
            return _whole_list(best, every, limit, passages, reader)
        if question.kind == "list":  # "…the models end up learning concepts…" quoted second
            for at, lead in enumerate(chosen[1:], start=2):
                if _announces(lead.text):  # "…are as follows:" quoted second
                    items = _items_after(lead, every, limit, passages, reader)
                    if items:
                        return [*chosen[:at], *items]
                items = _list_led_by(lead, every, limit, passages, reader)
                if items:
                    return [best, lead, *items]
                headed = _sections_after(lead, every, limit, passages, reader)
                if headed:
                    return [*chosen[:at], *headed]
        chosen = _with_their_lines(chosen, ranked)
        return chosen + _other_side(question, chosen, ranked)


ITEM_LABEL = re.compile(r"^(?P<label>[^:.!?]{1,60}):\s")
"""An item's label: "GPT Models" in "GPT Models: OpenAI's series of models…"."""
_LABEL_WORDS = 5
_HEAD_NOUNS = ("models", "model", "LLMs", "LLM", "family", "series")
"""Head nouns a label may add to the name it gives ("GPT Models")."""
_LABEL_HEADS = frozenset(terms(" ".join(_HEAD_NOUNS)))
_LABEL_HEAD_WORDS = re.compile(rf"\s+({'|'.join(_HEAD_NOUNS)})\s*$", re.IGNORECASE)
NAMED_ITEM_SHARE = 0.3
"""Share of the question's term weight an item's label must hold to be the item it asks about."""
NAMED_ITEM_REACH = 5
"""How far down the ranking an item the question names is looked for."""


def _names_item(question: Question, candidate: Candidate) -> bool:
    """Whether the question asks about the thing ``candidate``'s label names.

    Every word of the label is a word of the question, and together they carry a
    fair share of its weight: "What are GPT models known for?" names "GPT Models: …",
    "Why are closed-source models more secure?" names "Security: …"; "What are the
    advantages of LLMs?" names no item of the list it asks for. A head noun after a
    name need not be asked: "What is GPT?" names "GPT Models: …".
    """
    match = ITEM_LABEL.match(candidate.text) if candidate.list_item else None
    if not match or len(match.group(1).split()) > _LABEL_WORDS:
        return False
    label = set(terms(match.group(1)))
    if label & _LABEL_HEADS and not label <= set(question.weights):
        # "GPT Models" for "What is GPT?": the rest of the label, a word of its own there
        named = _LABEL_HEAD_WORDS.sub("", match.group(1)).strip()
        if not named or not re.search(
            rf"(?<![\w-]){re.escape(named)}(?![\w-])", question.text, re.IGNORECASE
        ):
            return False
        label -= _LABEL_HEADS
    weights = question.weights
    total = sum(weights.values())
    return (
        bool(label)
        and label <= set(weights)
        and total > 0
        and sum(weights[t] for t in label) >= NAMED_ITEM_SHARE * total
    )


NAMED_OUTRIGHT_SHARE = 0.5
"""Share of the weight of the question's own words an item's label must hold to be named
outright: most of it (a definition, not a tuned value)."""


def _named_outright(question: Question, candidate: Candidate) -> bool:
    """Whether ``candidate`` is an item the question names by most of its own words: "What
    are the ethical concerns with closed models?" asks for "Ethical Concerns: …", not for
    another list of drawbacks its added words ("challenges, risks") found."""
    match = ITEM_LABEL.match(candidate.text) if candidate.list_item else None
    if match is None or not _names_item(question, candidate):
        return False
    own = question.own_terms
    weights = question.weights
    label = set(terms(match.group(1))) & own
    return sum(weights[t] for t in label) > NAMED_OUTRIGHT_SHARE * sum(weights[t] for t in own)


def _named_first(question: Question, ranked: list[Scored]) -> list[Scored]:
    """``ranked`` with the best-ranked item the question names (if any, near the top) first.

    The label says what the item is about in the article's own words: the sentence
    model weighs all of a sentence's words, and "This debate … is about innovation,
    accessibility, security…" can outscore "Security: By restricting access,
    companies can prevent misuse." for "Why are closed-source models more secure?".
    A list question stays with the list it found: the item only narrows it ("What
    are GPT models known for?" is not the whole "Types of LLMs" list), while "What are
    the steps for evaluating an unreleased model?" keeps "…consists of the following
    steps:" rather than an item labelled "Evaluating unreleased models".
    """
    if not ranked:
        return ranked
    best = ranked[0].candidate
    for i, scored in enumerate(ranked[:NAMED_ITEM_REACH]):
        candidate = scored.candidate
        if (
            question.kind == "list"
            and not _in_list_of(candidate, best)
            and not _named_outright(question, candidate)
        ):
            continue
        if _names_item(question, candidate):
            return [scored, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def _other_side(
    question: Question, chosen: list[Candidate], ranked: list[Scored]
) -> list[Candidate]:
    """For a question about both open and closed models, the best sentence about the side
    the chosen ones leave out, from the best sentence's passage ("Open-source LLMs are
    accessible to all…" beside "Closed-source LLMs offer polished experiences…")."""
    said = set().union(*(c.words for c in chosen))
    best = chosen[0]
    quoted = {(c.passage_rank, c.sentence) for c in chosen}
    for one, other in question.compared:
        for side, missing in ((one, other), (other, one)):
            if not (said & side and not said & missing):
                continue
            for scored in ranked:
                candidate = scored.candidate
                words = candidate.words
                if (
                    candidate.passage_rank == best.passage_rank
                    and words & missing
                    and not words & side
                    and (candidate.passage_rank, candidate.sentence) not in quoted
                ):
                    return [candidate]
    return []


def _other_name(
    question: Question, chosen: list[Candidate], ranked: list[Scored]
) -> list[Candidate]:
    """For a comparison of two named things, the best sentence about the one the chosen
    sentences leave out ("GPT Models: OpenAI's series…" beside "BERT: A model by Google…"
    for "What is the difference between BERT and GPT?"), from any passage."""
    pair = question.compared_names
    if pair is None:
        return []
    said = set().union(*(c.words for c in chosen))
    quoted = {(c.passage_rank, c.sentence) for c in chosen}
    for one, other in (pair, pair[::-1]):
        if one <= said and not other <= said:
            return [
                s.candidate
                for s in ranked
                if other <= s.candidate.words
                and not one <= s.candidate.words
                and (s.candidate.passage_rank, s.candidate.sentence) not in quoted
            ][:1]
    return []


def _pros_and_cons(question: Question, ranked: list[Scored], limit: int) -> list[Candidate]:
    """The best list filed under the pros and the best under the cons, pros first.

    Empty unless both are found: a question asking for both is then answered as any list.
    """
    lists: list[list[Candidate]] = []
    for sense in (0, 1):
        best = next(
            (
                s.candidate
                for s in ranked
                if s.candidate.list_item and question.sense_of(set(s.candidate.headings)) == sense
            ),
            None,
        )
        if best is None:
            return []
        lists.append(_list_items(best, ranked, limit))
    return [c for items in lists for c in items]


ATTRIBUTE_SHARE = 0.03
"""How likely, against the best, a sentence that says what is asked must be to come first
(chosen on dev: 0.1 from 0.05, 0.1 and 0.3; re-chosen from 0.01, 0.03 and 0.1 once soft
coverage made the sentence model surer of its best, 0.03 and 0.01 tying)."""


def _attribute_first(
    question: Question,
    ranked: list[Scored],
    passages: Sequence[Passage] = (),
    openings: _Openings | None = None,
) -> list[Scored]:
    """``ranked`` with a sentence that itself says what is asked of the name first, when the
    best sentence says it only in its headings: "Our mission is to advance LLM development…"
    before "Chatbot Arena (chat.lmsys.org) is an open-source project…", both under "Our
    Mission", for "What is the mission of Chatbot Arena?". The sentence must hold the names
    too (in its words, headings, its article's title or its article's opening: a README
    titled "Summary" that opens with databricks-dolly-15k): "Corporations invest heavily…"
    does not say what Microsoft invested in. Not for lists, which their own rules assemble."""
    asked = question.attributes
    if not ranked or not asked or question.kind == "list" or asked & ranked[0].candidate.words:
        return ranked
    floor = ATTRIBUTE_SHARE * ranked[0].probability
    opening = openings or _Openings(ranked, passages)
    for i, scored in enumerate(ranked[1:NAMED_ITEM_REACH], start=1):
        if scored.probability < floor:
            break
        candidate = scored.candidate
        if _holds_most_of(question, asked, candidate.words) and (
            question.names <= candidate.about
            or question.names <= candidate.about | opening.get(candidate.title)
        ):
            return [scored, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def _holds_most_of(question: Question, asked: frozenset[str], words: frozenset[str]) -> bool:
    """Whether ``words`` hold at least half the weight of what is ``asked``: "…backed by big
    tech companies…" holds "companies" but not "bad" nor "handful" of "Why is it bad if only
    a handful of companies own AI?"."""
    weight = {t: question.weights.get(t, 0.0) for t in asked}
    total = sum(weight.values())
    if not total:
        return bool(asked & words)
    return sum(w for t, w in weight.items() if t in words) >= total / 2


def _of_the_defined(question: Question, ranked: list[Scored]) -> list[Scored]:
    """For what a thing is or how it works, only sentences that name it (with their headings
    and article title): "We have observed many efficiency issues … during training and
    inference" does not say how speculative decoding works, which no article explains."""
    if not question.defined_subject:
        return ranked
    return [s for s in ranked if question.names_defined(s.candidate.about)]


def _definition_first(question: Question, ranked: list[Scored]) -> list[Scored]:
    """For "What are X?", a sentence about X before an item of a list of X's features.

    "Selective Accessibility: Access to hybrid models is restricted…" is one feature of
    hybrid models; "Some companies are exploring hybrid approaches that aim to strike a
    balance…" says what they are. An item the question names ("BLOOM: An open-source
    model…" for "What is BLOOM?") stays first: :func:`_named_first` put it there.
    The sentence may be much less likely than the item: until the sentence model read
    similarities through the question adapter it had to be half as likely, and then the
    adapter made the item five times as likely as "Some companies are exploring…".
    """
    if not ranked or not question.defines:
        return ranked
    best = ranked[0]
    if not best.candidate.list_item or _names_item(question, best.candidate):
        return ranked
    subject = {t for t, w in question.weights.items() if w > 0}
    for i, scored in enumerate(ranked[1:NAMED_ITEM_REACH], start=1):
        candidate = scored.candidate
        if not candidate.list_item and not candidate.in_item and subject <= candidate.words:
            return [scored, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def _sentences_of(passage_rank: int, ranked: list[Scored]) -> dict[int, Candidate]:
    """The candidate sentences of one passage, by their index in it."""
    return {
        s.candidate.sentence: s.candidate
        for s in ranked
        if s.candidate.passage_rank == passage_rank
    }


def _rest_of_item(item: Candidate, ranked: list[Scored]) -> list[Candidate]:
    """The later sentences of a list item's line, in reading order."""
    by_index = _sentences_of(item.passage_rank, ranked)
    rest: list[Candidate] = []
    index = item.sentence + 1
    while (candidate := by_index.get(index)) is not None and candidate.in_item:
        rest.append(candidate)
        index += 1
    return rest


def _with_their_lines(chosen: list[Candidate], ranked: list[Scored]) -> list[Candidate]:
    """``chosen`` with each list item's later sentences after it: "From these items, LLM
    decontaminator generates k potential rephrased pairs." is half a step without "Each
    pair is evaluated for rephrasing using an advanced LLM, such as GPT-4."."""
    out: list[Candidate] = []
    for candidate in chosen:
        for sentence in [
            candidate,
            *(_rest_of_item(candidate, ranked) if candidate.list_item else []),
        ]:
            if sentence not in out:
                out.append(sentence)
    return out


def _whole_list(
    best: Candidate,
    every: list[Scored],
    limit: int,
    passages: list[Passage],
    reader: _Reader | None,
) -> list[Candidate]:
    """The bulleted list ``best`` is an item of, in reading order, at most ``limit`` items:
    those before it, it, and those after (read on into the next passage if cut)."""
    items = _list_items(best, every, limit)
    items = _items_before(items[0], every, limit - _count(items), passages) + items
    more = limit - _count(items)
    return items + (_items_after(items[-1], every, more, passages, reader) if more else [])


def _items_of_one_list(chosen: list[Candidate]) -> int:
    """How many of ``chosen`` are items of the list the first one is an item of.

    When every sentence an answer may quote is one, the answer is that list, and it is
    quoted whole rather than cut at the sentence limit: "What future plans does LMSYS
    list…?" gets all five plans, not the first three. Fewer, and the keep ratio chose
    them from the list ("How do closed models make money?": profitability, not every
    advantage)."""
    return sum(c.list_item and _in_list_of(c, chosen[0]) for c in chosen)


def _in_list_of(candidate: Candidate, item: Candidate) -> bool:
    """Whether ``candidate`` sits in the bulleted list ``item`` is an item of (same passage,
    same heading)."""
    return (
        item.list_item
        and candidate.passage_rank == item.passage_rank
        and candidate.section == item.section
    )


def _list_items(best: Candidate, ranked: list[Scored], limit: int) -> list[Candidate]:
    """The items of the bulleted list ``best`` belongs to, in reading order, at most ``limit``.

    An item's later sentences come with it.
    """
    siblings = sorted(
        (
            s.candidate
            for s in ranked
            if (s.candidate.list_item or s.candidate.in_item)
            and s.candidate.passage_rank == best.passage_rank
            and s.candidate.section == best.section
        ),
        key=lambda c: c.sentence,
    )
    items = _items(_contiguous(siblings, best.sentence))
    if len(items) > limit:
        at = next(i for i, item in enumerate(items) if best in item)
        kept = sorted(range(len(items)), key=lambda i: abs(i - at))[:limit]
        items = [items[i] for i in sorted(kept)]
    return [c for item in items for c in item]


def _list_led_by(
    lead: Candidate,
    every: list[Scored],
    limit: int,
    passages: list[Passage],
    reader: _Reader | None = None,
) -> list[Candidate]:
    """The sentence after ``lead`` that announces a list ("For example, they learn:") and
    the list's items; nothing when no such sentence follows it."""
    intro = _sentences_of(lead.passage_rank, every).get(lead.sentence + 1)
    if intro is None or not _announces(intro.text):
        return []
    following = _items_after(intro, every, limit, passages, reader)
    return [intro, *following] if following else []


def _read_on(
    start: Candidate,
    ranked: list[Scored],
    passages: list[Passage],
    reader: _Reader | None,
    may_read: Callable[[], bool],
) -> Iterator[Candidate | None]:
    """The sentences after ``start`` in reading order, on into the article's next passage
    (a retrieved one, or one ``reader`` reads when ``may_read()``); None for a sentence
    that is not among ``ranked``. Ends where the article's passages run out."""
    by_place = {(s.candidate.passage_rank, s.candidate.sentence): s.candidate for s in ranked}
    rank, index = start.passage_rank, start.sentence + 1
    while True:
        if index >= len(passages[rank].chunk.sentences):
            following = _next_passage(passages, rank)
            if following is None and reader is not None and may_read():
                following = reader.read_next(rank, passages, ranked)
                by_place.update(
                    ((s.candidate.passage_rank, s.candidate.sentence), s.candidate)
                    for s in ranked
                    if s.candidate.passage_rank == following
                )
            if following is None:
                return
            rank, index = following, 0
        yield by_place.get((rank, index))
        index += 1


def _items_after(
    intro: Candidate,
    ranked: list[Scored],
    limit: int,
    passages: list[Passage],
    reader: _Reader | None = None,
) -> list[Candidate]:
    """What directly follows ``intro`` as its items, at most ``limit`` of them.

    Bulleted items (with their later sentences), or, after a sentence that
    announces them ("two risk mitigation strategies."), sentences that count
    them off ("First, ...", "Second, ..."). A list cut by the end of a passage
    goes on in the article's next passage: a retrieved one, or one ``reader`` reads.
    """
    run: list[Candidate] = []
    opened = 0
    counted = _announces(intro.text)

    def may_read() -> bool:  # a list under way, or announced
        return bool(run or intro.list_item or intro.in_item or counted)

    for candidate in _read_on(intro, ranked, passages, reader, may_read):
        if candidate is None or candidate.section != intro.section:
            break
        bulleted = any(c.list_item for c in run)
        opens = candidate.list_item or (
            counted and not bulleted and bool(_COUNTED.match(candidate.text))
        )
        if opens:
            if opened == limit:
                break
            opened += 1
        elif not run or (bulleted and not candidate.in_item):
            break
        run.append(candidate)
    if run and not any(c.list_item for c in run):
        run = _through_last_counted(run)
    return run


_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_ANNOUNCED_COUNT = re.compile(
    rf"\b({'|'.join(_COUNTS)}|[2-6])\s+(\w+\s+){{0,2}}\w+s\b", re.IGNORECASE
)
_SECTIONS_READ = 8
"""How many passages on a list of headed sections is looked for."""


def _sections_after(
    intro: Candidate,
    ranked: list[Scored],
    limit: int,
    passages: list[Passage],
    reader: _Reader | None = None,
) -> list[Candidate]:
    """The opening sentence of each sub-section that directly follows ``intro``, when it
    closes its section by announcing as many things as follow ("This suite incorporates
    two tasks…" and then "Task 1: …", "Task 2: …"); nothing otherwise.

    Each opening sentence stands as an item, so the answer shows it under its heading.
    """
    match = _ANNOUNCED_COUNT.search(intro.text)
    if match is None:
        return []
    word = match.group(1).lower()
    announced = _COUNTS.get(word) or int(word)
    if announced > limit:
        return []
    prefix = intro.section + SECTION_SEPARATOR
    openings: dict[str, Candidate] = {}
    reads = iter(range(_SECTIONS_READ))
    for candidate in _read_on(
        intro, ranked, passages, reader, lambda: next(reads, None) is not None
    ):
        if candidate is None or not candidate.section.startswith(prefix):
            break
        child = candidate.section[len(prefix) :].split(SECTION_SEPARATOR)[0]
        if child not in openings:
            if len(openings) == announced:
                break
            openings[child] = candidate
    if len(openings) != announced:
        return []
    return [replace(c, list_item=True) for c in openings.values()]


@dataclass(frozen=True)
class _Reader:
    """Reads the passage that continues a retrieved one (see :attr:`Evidence.following`)."""

    question: Question
    evidence: Evidence
    vector: np.ndarray
    """The question vector its sentences are compared with (:meth:`AnswerModel.sentence_query`)."""

    def read_next(self, rank: int, passages: list[Passage], ranked: list[Scored]) -> int | None:
        """The rank of the passage after ``passages[rank]`` in its article, appended to
        ``passages`` (its sentences to ``ranked``, scored 0); None if there is none."""
        if self.evidence.following is None:
            return None
        found = self.evidence.following(passages[rank])
        if found is None:
            return None
        passage, vectors = found
        new = len(passages)
        passages.append(passage)
        rows = candidates(
            self.question,
            self.vector,
            [passage],
            {passage.chunk.id: vectors},
            new,
            self.evidence.word_vectors,
        )
        ranked.extend(Scored(c, 0.0) for c in rows)
        return new


def _items_before(
    first: Candidate, ranked: list[Scored], limit: int, passages: list[Passage]
) -> list[Candidate]:
    """The items of ``first``'s list that a passage boundary cut off before it, at most ``limit``.

    Only when ``first`` opens its passage and the article's previous passage was
    retrieved too: that passage's closing items under the same heading.
    """
    previous = _next_passage(passages, first.passage_rank, step=-1)
    if first.sentence != 0 or previous is None or limit <= 0:
        return []
    by_index = _sentences_of(previous, ranked)
    run: list[Candidate] = []
    index = len(passages[previous].chunk.sentences) - 1
    while (candidate := by_index.get(index)) is not None and (
        (candidate.list_item or candidate.in_item) and candidate.section == first.section
    ):
        run.insert(0, candidate)
        index -= 1
    while run and not run[0].list_item:
        run.pop(0)  # the rest of an item whose bullet is further back
    return [c for item in _items(run)[-limit:] for c in item]


def _count(candidates: list[Candidate]) -> int:
    return sum(c.list_item for c in candidates)


def _next_passage(passages: list[Passage], rank: int, step: int = 1) -> int | None:
    """The rank of the passage ``step`` places on from passage ``rank`` in its article, if retrieved."""
    chunk = passages[rank].chunk
    for other, passage in enumerate(passages):
        if (
            passage.chunk.source_id == chunk.source_id
            and passage.chunk.position == chunk.position + step
        ):
            return other
    return None


def _reason_beside(best: Candidate, ranked: list[Scored]) -> list[Candidate]:
    """The sentence right after (or else right before, or else the one after next) ``best``
    that gives a reason, under the same heading, if any: "The Elo rating system is a
    method…" is followed by what it predicts, then by "…works well for our case because…"."""
    beside = _sentences_of(best.passage_rank, ranked)
    for index in (best.sentence + 1, best.sentence - 1, best.sentence + 2):
        candidate = beside.get(index)
        if (
            candidate is not None
            and candidate.section == best.section
            and GIVES_REASON.search(candidate.text)
        ):
            return [candidate]
    return []


_ANNOUNCES = re.compile(
    r"(:\s*$|\bfollowing\s+(\w+\s+){0,2}\w+s\b|\b(two|three|four|five|several)\s+(\w+\s+){0,2}\w+s\b)",
    re.IGNORECASE,
)
_COUNTED = re.compile(
    r"^\W*(first(ly)?|second(ly)?|third(ly)?|fourth(ly)?|fifth(ly)?|finally|lastly)\b",
    re.IGNORECASE,
)


def _announces(text: str) -> bool:
    """Whether a sentence introduces what follows it ("...involves two steps:")."""
    return bool(_ANNOUNCES.search(text.rstrip()))


def _through_last_counted(run: list[Candidate]) -> list[Candidate]:
    """Prose items end with the sentence that opens the last one, plus nothing after it."""
    last = max(i for i, c in enumerate(run) if _COUNTED.match(c.text))
    return run[: last + 1]


def _items(run: list[Candidate]) -> list[list[Candidate]]:
    """A run of list sentences grouped by item (an item opens with its bullet)."""
    items: list[list[Candidate]] = []
    for candidate in run:
        if candidate.list_item or not items:
            items.append([candidate])
        else:
            items[-1].append(candidate)
    return items


def _contiguous(items: list[Candidate], around: int) -> list[Candidate]:
    """The run of consecutive sentences that contains sentence ``around``."""
    by_index = {c.sentence: c for c in items}
    start = around
    while start - 1 in by_index:
        start -= 1
    run: list[Candidate] = []
    while start in by_index:
        run.append(by_index[start])
        start += 1
    return run


def _of_expected_type(
    question: Question,
    ranked: list[Scored],
    passages: Sequence[Passage] = (),
    openings: _Openings | None = None,
) -> list[Scored]:
    """Only sentences that can answer a how-many, when or who question.

    A how-many question needs a sentence stating an amount, a when question a
    date, a who question a name the question does not already hold, and each a
    sentence that says something of what it asks, not only of what it names:
    "How many parameters does GPT-3 have?" is not answered by "OpenAI spent
    hundreds of thousands coaching GPT-3" (:meth:`Question.lacks_attribute`).
    Tried on every kind of question, the dev split lost more answers than near
    misses it refused, so untyped questions leave this to the answerability model.
    A yes/no question needs a sentence that settles it (:func:`bot.features.settles`),
    a "who wins" question one that says how the contest ends, or might ("a hybrid
    model might prevail"), a "where is X based" question one that names a place and X
    (in its words or headings: "…the bias found in Wikipedia" says nothing of where
    Databricks is, though its article is Databricks' dataset card), and
    "Which models are open source?" one that names some, "What does ONNX stand for?" one
    that spells it out, and "What license is Phi-1 released under?" one that says
    something of what it asks ("license", "released") and, with its headings, article
    title or article opening, names what it asks about: "The code is released under the
    Apache License 2.0" in an article that never names Phi-1 does not answer it (on dev,
    four near misses refused and no answer lost). A measure ("What hardware…") must be
    named in the same clause as one of the question's names. A comparison of two named
    things ("How does LLaMA differ from BLOOM?") needs a sentence about one of them, not
    one about differences in general.
    A question about one side of an opposition (open or closed, advantages or
    risks) never quotes a sentence filed under a heading about the other side only,
    nor one that itself speaks of the other side only ("Open-source LLMs are accessible
    to all, promote innovation, but risk misuse." for the risks of closed models, though
    its heading compares both).
    """
    # a sentence that asks ("…will open-source LLMs or closed-source LLMs lead the way?")
    # answers nothing
    if not {"question", "ask"} & set(question.weights):  # unless it asks what was asked
        ranked = [s for s in ranked if not s.candidate.text.rstrip(" \"'”’)").endswith("?")]
    if question.sides:  # "risks of closed models": nothing from under "Open Source LLMs"
        ranked = [
            s
            for s in ranked
            if not question.off_side(set(s.candidate.headings))
            and not question.off_side(set(s.candidate.words))
        ]
    # "Let’s delve into the arguments for each." invites the reader on; it states nothing
    ranked = [s for s in ranked if not _INVITES.match(s.candidate.text)]
    if question.asks_remedy:  # "How can the risks … be mitigated?": not the risks themselves
        ranked = [s for s in ranked if not _states_a_drawback(s.candidate)]
    compared = question.compared_names
    if compared:  # "How does LLaMA differ from BLOOM?": a sentence about one of them at least
        ranked = [s for s in ranked if any(name <= s.candidate.about for name in compared)]
    if question.measure:  # "What learning rate…", "What hardware…": of the model it names
        ranked = [
            s
            for s in ranked
            if _measures_what_it_names(question, s.candidate) and not s.candidate.other_names
        ]
    if question.expands:  # "What does ONNX stand for?": a sentence that spells it out
        return [s for s in ranked if spells_out(question.expands, s.candidate.text)]
    if question.asks_which_attribute:  # "What license is Phi-1 released under?"
        opening = openings or _Openings(ranked, passages)
        ranked = [
            s
            for s in ranked
            if (
                not question.lacks_attribute(set(s.candidate.terms))
                or (question.asks_which_named and names_something(s.candidate.text, question.text))
            )
            and (
                not s.candidate.other_names
                or question.names <= s.candidate.about | opening.get(s.candidate.title)
            )
        ]
    if question.kind in ("quantity", "time", "who"):

        def typed(as_a_class: bool) -> list[Scored]:
            return [
                s
                for s in ranked
                if states_expected(question, s.candidate.text, as_a_class=as_a_class)
                and not question.lacks_attribute(set(s.candidate.terms))
                and not question.lacks_count(set(s.candidate.terms))
                and not question.lacks_role(set(s.candidate.terms))
                and not question.names_another_version(s.candidate.text)
                and (not question.asks_maker or question.states_maker(s.candidate.text))
                and not s.candidate.other_names
            ]

        # people as a class ("a few corporations") only when no sentence names anyone
        return typed(False) or (typed(True) if question.kind == "who" else [])
    if question.kind == "yesno":  # "This dataset…" under an opening that names it
        opening, read = openings or _Openings(ranked, passages), _said_by_article(ranked)
        return [
            s
            for s in ranked
            if settles(question, s.candidate, None, read[s.candidate.title])
            or settles(
                question, s.candidate, opening.get(s.candidate.title), read[s.candidate.title]
            )
        ]
    if question.asks_place:  # "Where is EleutherAI based?": a sentence that names a place
        return [
            s
            for s in ranked
            if names_place(s.candidate.text, question.names)
            and question.names <= s.candidate.terms  # and whose place it is
        ]
    if question.asks_for_named:  # "Which models are open source?": sentences that name some
        return [s for s in ranked if names_something(s.candidate.text, question.text)]
    if question.kind == "outcome":
        return [s for s in ranked if OUTCOME.search(s.candidate.text)]
    return ranked


def _told_how(
    question: Question, ranked: list[Scored], passages: Sequence[Passage]
) -> list[Scored]:
    """Nothing for a how-to question ("How do I deploy an open-source LLM?") when no sentence
    read gives a way of doing what it asks (:func:`_gives_a_way_asked`), else ``ranked``
    as it is. On the bundled corpus, which gives no instructions, 11 of 12 such questions
    quoted a sentence that gave none ("At the heart of this debate are two approaches to
    building and deploying LLMs…"). Not a filter: the best sentence need not be the one that
    tells how ("The LLM decontaminator involves two steps:")."""
    if (
        question.asks_how_to
        and question.weights
        and not _gives_a_way_asked(question, ranked, passages)
    ):
        return []
    return ranked


def _gives_a_way_asked(
    question: Question, ranked: list[Scored], passages: Sequence[Passage]
) -> bool:
    """Whether a sentence read gives a way of doing what a how-to question asks: it tells
    how (:func:`gives_a_way`), and it, its headings or its passage hold the question's
    rarest word ("deploy" in "How do I deploy an open-source LLM?")."""
    weighed = {t: w for t, w in question.weights.items() if t not in LIGHT_TERMS}
    weighed = weighed or question.weights
    rarest = max(weighed, key=weighed.__getitem__)
    ways = [s.candidate for s in ranked if gives_a_way(s.candidate.text)]
    if any(rarest in c.about for c in ways):
        return True
    # only then the passages of the sentences that give a way, each stemmed once
    return any(
        rarest in terms(passages[rank].chunk.indexed_text)
        for rank in {c.passage_rank for c in ways}
    )


_INVITES = re.compile(r"^\W*let(?:'s|’s|\s+us)\s", re.IGNORECASE)
"""A sentence that invites the reader on: "Let’s dive in!", "Let us explore…"."""


def _states_a_drawback(candidate: Candidate) -> bool:
    """Whether a sentence states a drawback rather than what to do about one: an item listed
    under "Challenges", or a sentence with a word for drawbacks and none for a remedy."""
    if candidate.list_item and candidate.headings & CONS_STEMS:
        return True
    return bool(candidate.words & CONS_STEMS) and not names_a_remedy(candidate.text)


_CLAUSES = re.compile(r",?\s+(?:whereas|while)\s+|;\s+", re.IGNORECASE)
"""Where a sentence turns to another subject: "OpenAI spent … on GPT-3, whereas Anthropic
consumed … GPUs for ConstitutionalAI"."""


def _measures_what_it_names(question: Question, candidate: Candidate) -> bool:
    """Whether one clause of the sentence (with its headings) names the measure asked for and,
    if the question names something, one of its names: the GPUs Anthropic bought do not say
    which GPUs trained GPT-3, though the sentence names both."""
    for clause in _CLAUSES.split(candidate.text):
        present = set(terms(clause)) | candidate.headings
        if question.lacks_measure(present):
            continue
        if not question.name_units or any(unit <= present for unit in question.name_units):
            return True
    return False


class _Openings:
    """What each article's opening passage speaks of, by article title: what the article is
    about, which its sentences need not name again.

    From the sentences of openings that were retrieved; the openings of the other articles
    read come from ``read`` (read with the passages, or from the store in one call) when
    first asked for, so a rule does not depend on whether an opening ranked among the passages.
    """

    def __init__(
        self,
        ranked: list[Scored],
        passages: Sequence[Passage],
        read: Callable[[Sequence[str]], Mapping[str, StoredChunk]] | None = None,
    ) -> None:
        self._said = _said_by_article(
            s
            for s in ranked
            if s.candidate.passage_rank < len(passages)
            and passages[s.candidate.passage_rank].chunk.position == 0
        )
        self._passages = passages
        self._read = read

    def get(self, title: frozenset[str]) -> frozenset[str]:
        if title not in self._said and self._read is not None:
            self._read_missing()
        return self._said.get(title, frozenset())

    def _read_missing(self) -> None:
        read, self._read = self._read, None
        assert read is not None
        missing = {
            p.chunk.source_id: None
            for p in self._passages
            if frozenset(terms(p.chunk.title)) not in self._said
        }
        for chunk in read(list(missing)).values():
            title = frozenset(terms(chunk.title))
            spoken = frozenset(terms(chunk.text)) | frozenset(terms(chunk.section)) | title
            self._said[title] = self._said.get(title, frozenset()) | spoken


def _said_by_article(ranked: Iterable[Scored]) -> dict[frozenset[str], frozenset[str]]:
    """What the sentences of each article (by title) speak of, together."""
    said: dict[frozenset[str], frozenset[str]] = {}
    for s in ranked:
        said[s.candidate.title] = said.get(s.candidate.title, frozenset()) | s.candidate.about
    return said


def _of_the_subject(
    question: Question,
    ranked: list[Scored],
    passages: list[Passage],
    openings: _Openings | None = None,
) -> list[Scored]:
    """For the pros or cons of something, only sentences whose article, headings or words
    name it, under or with a word for what is asked: neither the closed-source "Challenges"
    nor the "Key Features of Hybrid Approaches" answer "What are the drawbacks of hybrid
    models?", which the knowledge base does not list (an abstention)."""
    subject = question.sense_subject
    if not subject:
        return ranked
    senses = question.senses_asked
    titles = [frozenset(terms(p.chunk.title)) for p in passages]
    # a name ("databricks-dolly-15k") may be said by the article's opening alone
    opening = (openings or _Openings(ranked, passages)) if subject <= question.names else None

    def names_it(candidate: Candidate) -> bool:
        said = candidate.terms | titles[candidate.passage_rank]
        return question.names_subject(said) or (
            opening is not None and question.names_subject(said | opening.get(candidate.title))
        )

    # the pros or cons asked for, not its other features
    return [s for s in ranked if senses & s.candidate.terms and names_it(s.candidate)]


_HEADED_OF = re.compile(r"^\W*(?:the\s+)?([\w\s\-]+?)\s+of\s+(.+?)\W*$", re.IGNORECASE)
"""A heading that says what its list is of: "Examples of Hybrid Approaches"."""


def _under_its_heading(question: Question, ranked: list[Scored]) -> list[Scored]:
    """For a list question, no item of a list whose heading gives what is asked for of
    something else: "Examples of Hybrid Approaches" lists no examples of open-source
    LLMs, "Key Features of LLMs" no features of hybrid approaches. (The pros or cons of
    something are checked by :func:`_of_the_subject`, with the words they are filed under.)
    """
    if question.kind != "list" or question.sense_subject or not ranked:
        return ranked
    asked = set(question.weights)
    named = asked | {t for term in asked if (side := side_of(term)) for t in side}  # "proprietary"

    def of_something_else(candidate: Candidate) -> bool:
        if not candidate.list_item:
            return False
        match = _HEADED_OF.match(candidate.section.split(SECTION_SEPARATOR)[-1])
        if match is None or not set(terms(match.group(1))) & asked:
            return False  # not headed "<what is asked for> of …"
        subject = set(terms(match.group(2)))
        return bool(subject) and not subject & named

    return [s for s in ranked if not of_something_else(s.candidate)]


def _settles_the_contest(question: Question, best: Candidate) -> bool:
    """Whether a "who wins" question is settled by its best sentence: one that says how a
    contest ends ("a hybrid model might prevail") when the knowledge base uses every word
    of the question ("Who wins the debate?", not "Who won the 2022 World Cup?"). Such a
    question is answered whatever the answerability model makes of its few words, which
    the sentence rarely repeats: its confidence is at least the threshold.
    """
    return (
        question.kind == "outcome"
        and question.unknown == 0
        and bool(question.weights)
        and bool(OUTCOME.search(best.text))
    )


def _in_the_section_asked(question: Question, best: Candidate) -> bool:
    """Whether a question asking what a section says ("What does the conclusion say?") is
    answered from under a heading that starts with that section's name. Such a sentence rarely repeats
    the question's one word, so the answerability model doubts it: its confidence is at
    least the threshold."""
    asked = question.section_asked
    if not asked:
        return False
    for heading in best.section.split(SECTION_SEPARATOR):
        words = terms(heading)  # "The Bottom Line: The AI Revolution…" starts "bottom line"
        if set(words[: len(asked)]) == asked:
            return True
    return False


TOPIC_SHARE = 0.5
"""How likely, against the best, a sentence saying what a thing is about must be to come first."""


def _topic_first(question: Question, ranked: list[Scored]) -> list[Scored]:
    """For "What is the debate about?", a sentence that names it and says what it is about
    ("This debate goes beyond technical preferences—it’s about innovation…") first."""
    topic = question.topic_asked
    if not ranked or not topic or states_topic(ranked[0].candidate.text):
        return ranked
    floor = TOPIC_SHARE * ranked[0].probability
    for i, scored in enumerate(ranked[1:NAMED_ITEM_REACH], start=1):
        candidate = scored.candidate
        if scored.probability < floor:
            break
        if topic <= candidate.words and states_topic(candidate.text):
            return [scored, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def _headed_as_asked_first(question: Question, ranked: list[Scored]) -> list[Scored]:
    """For "What kinds of LLMs are there?" or "What are the benefits of LLMs?", the best item
    of a list headed "Types of LLMs" or "Advantages of LLMs" first: its heading says it
    lists what is asked, which its items rarely repeat ("BLOOM: An open-source model…");
    the list's other items come with it."""
    asked = question.list_heading_asked
    if asked is None:
        return ranked
    for i, scored in enumerate(ranked):
        if _under_the_heading_asked(question, scored.candidate):
            return [scored, *ranked[:i], *ranked[i + 1 :]]
    return ranked


def holds_the_list_asked(question: str) -> Callable[[Passage], bool] | None:
    """For a question that asks for a list by what its heading says ("What are the advantages
    of LLMs?"), whether a passage holds items of a list so headed ("Advantages of LLMs"); None
    for any other question. Such a passage is read even when it ranks just below the ten
    best, as those items rarely repeat the question's words."""
    asked = list_heading_asked(question)
    if asked is None:
        return None

    def holds(passage: Passage) -> bool:
        chunk = passage.chunk
        sections = chunk.sentence_sections or (chunk.section,) * len(chunk.sentences)
        return any(
            opens_list_item(chunk, i) and heads_list_asked(s.split(SECTION_SEPARATOR)[-1], asked)
            for i, s in enumerate(sections)
        )

    return holds


def _under_the_heading_asked(question: Question, best: Candidate) -> bool:
    """Whether ``best`` is an item of the list a question asks for by its heading ("Types of
    LLMs"). Such an item rarely repeats the question's words, so the answerability model
    doubts it: its confidence is at least the threshold."""
    heading = best.section.split(SECTION_SEPARATOR)[-1]
    return best.list_item and heads_list_asked(heading, question.list_heading_asked)


def _terminated(text: str) -> str:
    return text if re.search(r"[.!?…:;)\"”’]$", text) else text + "."


def _compose(
    evidence: Evidence, passages: list[Passage], chosen: list[Candidate], confidence: float
) -> Answer:
    """Write the answer: passages in order of relevance, sentences in reading order."""
    numbers: dict[int, int] = {}
    for candidate in chosen:
        numbers.setdefault(candidate.passage_rank, len(numbers) + 1)
    ordered = sorted(chosen, key=lambda c: (numbers[c.passage_rank], c.sentence))
    text = _as_text([(c, f"{_terminated(c.text)} [{numbers[c.passage_rank]}]") for c in ordered])
    citations = []
    for rank, n in sorted(numbers.items(), key=lambda item: item[1]):
        passage = passages[rank]
        quotes = [c.text for c in ordered if c.passage_rank == rank]
        citations.append(_citation(n, passage, evidence, " … ".join(quotes)))
    return Answer(evidence.question, text, True, citations, confidence=confidence)


def _as_text(marked: list[tuple[Candidate, str]]) -> str:
    """Sentences as one paragraph; list items (after any sentences that introduce them)
    as a list, each item's later sentences on its line."""
    first_item = next((i for i, (c, _) in enumerate(marked) if c.list_item), None)
    rest = marked[first_item:] if first_item is not None else []
    if len(marked) < 2 or not rest or not all(c.list_item or c.in_item for c, _ in rest):
        return " ".join(line for _, line in marked)
    lines = [" ".join(line for _, line in marked[:first_item])] if first_item else []
    # Items of two lists ("pros and cons") each come under their list's heading.
    titled = len({c.section for c, _ in rest if c.list_item}) > 1
    section = None
    for candidate, line in rest:
        if candidate.list_item:
            if titled and candidate.section != section:
                section = candidate.section
                lines.append(f"{section.split(SECTION_SEPARATOR)[-1]}:")
            lines.append(f"- {line}")
        else:
            lines[-1] += f" {line}"
    return "\n".join(lines)


def _citation(n: int, passage: Passage, evidence: Evidence, quote: str = "") -> Citation:
    chunk = passage.chunk
    url = evidence.urls.get(chunk.source_id)
    return Citation.of_chunk(n, chunk, score=round(passage.score, 6), quote=quote, url=url)


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


def _check_features(model: AnswerModel, path: Path | None) -> None:
    """A model fitted on another version's features cannot score this version's rows."""
    for part, expected in (
        (model.sentence, SENTENCE_FEATURES),
        (model.answerable, ANSWERABILITY_FEATURES),
    ):
        if tuple(part.features) != expected:
            missing = sorted(set(expected) - set(part.features))
            raise ConfigurationError(
                f"The answer model {path or 'shipped with the bot'} was fitted on other features"
                f" than this version computes (missing: {', '.join(missing) or 'none'});"
                " refit it with `kb eval fit --out PATH`."
            )


def abstain(evidence: Evidence, confidence: float = 0.0) -> Answer:
    """The honest answer when the evidence does not answer the question."""
    closest = closest_sources(evidence)
    text = NOT_FOUND
    if closest:
        text += CLOSEST_ARTICLES + "; ".join(f"“{s.title}”" for s in closest) + "."
    return Answer(evidence.question, text, False, [], confidence=confidence, closest=closest)


def citations_for(evidence: Evidence) -> list[Citation]:
    """Search results: every passage as a citation numbered by rank."""
    return [_citation(n, p, evidence) for n, p in enumerate(evidence.passages, start=1)]
