"""The evidence for one answer, as numbers: one feature row per candidate sentence.

The answerer's two small models (:mod:`bot.linear`) read these rows: the
sentence model scores how likely a sentence is to state the answer, the
answerability model whether the best of them answers the question at all.
Both are fitted on the development split of the question set
(``kb eval fit``); nothing here is tuned by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.question import (
    COMMON_ACRONYMS,
    LIGHT_TERMS,
    NUMBER,
    OPENNESS,
    SUBJECT_WEIGHT,
    TIME,
    Question,
    proper_nouns,
    said_of,
    side_of,
    states,
    states_count,
)
from bot.retrieve import Passage
from bot.terms import content_words, terms
from ingest.store import StoredChunk

SENTENCE_FEATURES = (
    "dense",  # cosine of the sentence's vector and the question's
    "dense_passage",  # cosine of the passage and the question
    "fused",  # the passage's fused retrieval score (z-scores)
    "first_passage",  # 1 for the best-ranked passage
    "rank",  # 1 / (1 + passage rank)
    "coverage",  # IDF-weighted share of the question's terms in the sentence
    "coverage_context",  # ... in the sentence and the headings above it
    "coverage_passage",  # ... anywhere in the passage
    "coverage_headings",  # ... in the headings alone
    "rare",  # share of the question's rarer half in sentence + headings
    "names",  # share of the names the question mentions in sentence + headings
    "missing",  # largest IDF of an absent question term (relative)
    "plain",  # unweighted share of the question's terms in sentence + headings
    "contrast",  # sentence + headings hold the opposite of what is asked (closed vs open)
    "contrast_only",  # ... and not what is asked
    "unknown",  # share of the question's terms the knowledge base never uses
    "unknown_names",  # share of the names it mentions that the knowledge base never uses
    "typed",  # the question wants an amount/date/name
    "typed_match",  # ... and the sentence states one the question does not
    "yesno",  # a yes/no question
    "yesno_names",  # yes/no question x names covered
    "list_item",  # the sentence is an item of a bulleted list
    "list_question",  # the question asks for several things
    "list_match",  # list question x list item
    "why_because",  # a why/how question and a sentence that gives a reason
    "length",  # log of the sentence's word count
    "sentence_position",  # 1 / (1 + index of the sentence in its passage)
    "novelty",  # share of the sentence's terms the question does not use (an answer adds something)
    "soft_coverage",  # how close each question word comes to a word of sentence + headings
)
_SOFT = SENTENCE_FEATURES.index("soft_coverage")

WordLookup = Callable[[Sequence[str]], np.ndarray]
"""Unit vectors of single words, one row per word (:meth:`bot.word_vectors.WordVectors.rows`)."""

_ASKS_DURATION = re.compile(r"^\W*how\s+long\b[^?]*\btake\b", re.IGNORECASE)
_DURATION = re.compile(
    r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|GPU[-\s]hours?)\b", re.IGNORECASE
)

_PRICE_LEVEL = re.compile(
    r"\b(expensive|costly|cheap(er|est)?|affordable|inexpensive|pricey|fees|free\s+of\s+charge"
    r"|(high|higher|low|lower)\s+costs?"
    r"|(exploding|soaring|skyrocketing|spiral+ing|rising|mounting|ballooning|prohibitive|steep"
    r"|huge|massive|enormous)\s+([\w-]+\s+){0,2}(costs?|prices?|bills?|fees?|expenses?))\b",
    re.IGNORECASE,
)
"""How costly something is, in words: an article that gives no figure answers "How much does it
cost?" this way ("Subscription fees and usage limits make these models inaccessible.", "…as a
result of exploding internet hosting prices")."""
_ASKS_MONEY = re.compile(
    r"^\W*(how\s+(expensive|costly)\b|how\s+much\s+money\b"
    r"|how\s+much\b[^?]*\b(cost|costs|costed|pay|paid|spend|spent"
    r"|charge|charged|price|invest|invested|earn|earned|raise|raised)\b"
    r"|(what|which)\b[^?]*\b(cost|costs|costed|price|prices|budget|expenses?|bill|bills|fees?)\b)",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"[$€£¥]|\b(dollars?|usd|eur|euros?|cents?|spent|spend|spends|cost|costs|costed|price[sd]?"
    r"|fees?|paid|pays?|budget|funding|revenue|expensive|cheap(er)?|bill|investments?|invested"
    r"|multi-?(million|billion)|greenbacks?)\b",
    re.IGNORECASE,
)
"""What something cost is stated in money: "two approaches" is no price."""
_SUM_OF_MONEY = re.compile(
    r"[$€£¥]\s?\d[\d.,]*(\s*(thousand|million|billion|[kmb]n?)\b)?"
    r"|\b\d[\d.,]*\s*(thousand|million|billion)?\s*(dollars|usd|euros)\b",
    re.IGNORECASE,
)
"""A sum of money ("$10 million"), which counts no GPUs."""

_ASKS_PERCENT = re.compile(r"\b(percentage|per\s*cent|what\s+(share|proportion|fraction))\b", re.I)
_PERCENT = re.compile(r"%|\bper\s*cent\b|\b(half|third|quarter|fifth|tenth)s?\b", re.I)
"""A share is stated as a percentage or a fraction: "Apache 2.0" states no percentage."""

_BY_PEOPLE = re.compile(
    r"\bby\s+(the\s+|our\s+|its\s+|their\s+)?([\w\-]+\s+){0,3}(?P<who>authors?|students?"
    r"|researchers?|team|volunteers?|engineers?|annotators?|raters?|experts?|members?|developers?"
    r"|maintainers?|crowd\s*workers?|contributors?|companies|corporations|firms|organi[sz]ations"
    r"|communit(?:y|ies)|employees|startups)\b",
    re.IGNORECASE,
)
"""People named without a name: "human evaluation (by the 5 student authors)", "backed by
big tech companies"."""
_CLASSES = frozenset(
    [
        "companies",
        "corporations",
        "firms",
        "organisations",
        "organizations",
        "community",
        "communities",
        "employees",
        "startups",
    ]
)
"""People :data:`_BY_PEOPLE` names as a class, not as the ones who did it ("the authors")."""
_PEOPLE = re.compile(
    r"\b(?P<who>anyone|everyone|communit(?:y|ies)|developers|volunteers|contributors|researchers"
    r"|companies|corporations)\b",
    re.IGNORECASE,
)
"""People as a class: who a "who" question that names no one asks about ("Who contributes
to open-source LLMs?": "a global community contributing to improvements")."""
_ASKS_WHO_AT_ALL = re.compile(r"^\W*who\b", re.IGNORECASE)


GIVES_REASON = re.compile(
    r"\b(because|due\s+to|as\s+a\s+result|so\s+that|in\s+order\s+to|owing\s+to|thanks\s+to"
    r"|caused\s+by|the\s+reason|this\s+is\s+why|that\s+is\s+why|conjecture|speculate"
    r"|stems?\s+from)\b",
    re.IGNORECASE,
)
"""A sentence that says why ("…as a result of exploding hosting costs")."""

_REASON = (
    "because",
    "due to",
    "as a result",
    "since",
    "so that",
    "in order to",
    "leads to",
    "thanks to",
    "owing to",
    "therefore",
    "allows",
    "enables",
    "by ",
)


@dataclass(frozen=True)
class Candidate:
    """One sentence of one retrieved passage."""

    passage_rank: int
    sentence: int
    text: str
    """The sentence as it will be quoted (list bullet removed)."""
    section: str
    """The heading path the sentence sits under."""
    list_item: bool
    vector: np.ndarray
    features: np.ndarray
    terms: frozenset[str] = frozenset()
    """Stemmed terms of the sentence and the section headings above it (not the title)."""
    headings: frozenset[str] = frozenset()
    """Stemmed terms of the section headings above it."""
    in_item: bool = False
    """It continues an item of a bulleted list (a second sentence of the item's line)."""
    other_names: bool = False
    """It, its headings and its article's title hold none of the names the question mentions."""
    words: frozenset[str] = frozenset()
    """Stemmed terms of the sentence alone (what it itself says, beside :attr:`terms`)."""
    title: frozenset[str] = frozenset()
    """Stemmed terms of its article's title."""

    @property
    def about(self) -> frozenset[str]:
        """:attr:`terms` with its article's title: what it speaks of ("There is no plan to
        release the dataset." in "Vicuna: …" is about Vicuna)."""
        return self.terms | self.title


def candidates(
    question: Question,
    question_vector: np.ndarray,
    passages: list[Passage],
    sentence_vectors: dict[str, np.ndarray],
    first_rank: int = 0,
    word_vectors: WordLookup | None = None,
) -> list[Candidate]:
    """Every quotable sentence of ``passages`` with its feature row (passage order);
    the passages are ranked from ``first_rank`` on. Without ``word_vectors`` the
    ``soft_coverage`` feature is 0."""
    found: list[Candidate] = []
    spoken: list[frozenset[str]] = []  # per candidate, the words of sentence and headings
    typed = question.kind in ("quantity", "time", "who")
    asked = set(terms(question.text))
    for rank, passage in enumerate(passages, first_rank):
        chunk = passage.chunk
        vectors = sentence_vectors.get(chunk.id)
        if vectors is None or len(vectors) != len(chunk.sentences):
            continue
        similarities = vectors @ question_vector
        sections = chunk.sentence_sections or (chunk.section,) * len(chunk.sentences)
        passage_terms = set(terms(chunk.indexed_text))
        title = frozenset(terms(chunk.title))
        section_terms = {section: frozenset(terms(section)) for section in set(sections)}
        section_words = {section: content_words(section) for section in set(sections)}
        for i, span in enumerate(chunk.sentences):
            raw = chunk.text[span.start : span.end].strip()
            is_item = opens_list_item(chunk, i)
            text = raw[2:].strip() if raw.startswith("- ") else raw
            if not text:
                continue
            words = set(terms(text))
            heading_words = set(section_terms[sections[i]] | title)
            context = words | heading_words
            names = question.coverage(context, question.names)
            match = states_expected(question, text)
            lowered = f" {text.lower()} "
            contrast = bool(question.contrasts & context)
            asked_side = bool(question.opposed & context)
            row = [
                float(similarities[i]),
                passage.dense,
                passage.score,
                1.0 if rank == 0 else 0.0,
                1.0 / (1 + rank),
                question.coverage(words),
                question.coverage(context),
                question.coverage(passage_terms),
                question.coverage(heading_words),
                question.coverage(context, question.rare),
                names,
                question.missing(context),
                question.plain_coverage(context),
                1.0 if contrast else 0.0,
                1.0 if contrast and not asked_side else 0.0,
                question.unknown,
                question.unknown_names,
                1.0 if typed else 0.0,
                1.0 if typed and match else 0.0,
                1.0 if question.kind == "yesno" else 0.0,
                names if question.kind == "yesno" else 0.0,
                1.0 if is_item else 0.0,
                1.0 if question.kind == "list" else 0.0,
                1.0 if question.kind == "list" and is_item else 0.0,
                1.0 if question.kind == "why" and any(r in lowered for r in _REASON) else 0.0,
                math.log1p(len(text.split())),
                1.0 / (1 + i),
                novelty(words, asked),
                0.0,  # soft_coverage, below: all words are looked up at once
            ]
            spoken.append(content_words(text) | section_words[sections[i]])
            found.append(
                Candidate(
                    rank,
                    i,
                    text,
                    sections[i],
                    is_item,
                    vectors[i],
                    np.asarray(row, dtype=np.float64),
                    frozenset(words) | section_terms[sections[i]],
                    section_terms[sections[i]],
                    not is_item and _inside_bullet(chunk.text, span.start),
                    question.about_other_names(context),
                    frozenset(words),
                    title,
                )
            )
    if word_vectors is not None and found:
        _add_soft_coverage(question, found, spoken, word_vectors)
    return found


def _add_soft_coverage(
    question: Question,
    found: list[Candidate],
    spoken: list[frozenset[str]],
    word_vectors: WordLookup,
) -> None:
    """Fill in each candidate's ``soft_coverage`` (one lookup for every word)."""
    asked = sorted(content_words(question.text))
    if not asked:
        return
    vocabulary = sorted(set(asked).union(*spoken))
    column = {w: i for i, w in enumerate(vocabulary)}
    vectors = word_vectors(vocabulary)
    similarity = vectors[[column[w] for w in asked]] @ vectors.T  # question word x word met
    for candidate, words in zip(found, spoken):
        if words:
            present = similarity[:, [column[w] for w in words]]
            candidate.features[_SOFT] = float(present.max(axis=1).mean())


def novelty(sentence: set[str], asked: set[str]) -> float:
    """Share of a sentence's terms the question does not use.

    An answer adds something to the question: "Open-source LLMs ... risk misuse"
    only echoes "Why is there a risk of misuse with open-source LLMs?", while
    "Open access means bad actors can use these tools" gives the reason.
    """
    return len(sentence - asked) / max(len(sentence), 1)


def _inside_bullet(text: str, start: int) -> bool:
    """Whether the sentence at ``start`` sits on a list item's line after its first sentence."""
    line_start = text.rfind("\n", 0, start) + 1
    return text[line_start:start].lstrip().startswith("- ")


def opens_list_item(chunk: StoredChunk, i: int) -> bool:
    """Whether the ``i``-th sentence of ``chunk`` is (opens) an item of a bulleted list."""
    span = chunk.sentences[i]
    raw = chunk.text[span.start : span.end].strip()
    return raw.startswith("- ") or _bulleted(chunk.text, span.start)


def _bulleted(text: str, start: int) -> bool:
    """Whether the sentence at ``start`` opens a list item ("- " at the start of its line)."""
    line_start = text.rfind("\n", 0, start) + 1
    return text[line_start:start].strip() == "-"


_SIDE_WORDS = OPENNESS | frozenset(terms("source sourced"))
"""The words that name a side ("closed-source"), not what is asked of it."""


def settles(
    question: Question,
    candidate: Candidate,
    article: frozenset[str] | None = None,
    read: frozenset[str] | None = None,
) -> bool:
    """Whether a sentence can settle a yes/no question.

    It must be about everything the question names (in the sentence, its
    headings, or ``article``: what its article's opening speaks of; a name that
    only qualifies what is asked about, "Stanford" in "the Stanford model", also
    anywhere in ``read``, what was read of its article) and say something about
    what is asked of it, or its opposite:
    "GPT-4 surpasses human baselines on SuperGLUE" does not settle "Is GPT-4
    open source?"; "GPT-4 is a closed model" would. A question that takes a side (open
    or closed models) needs a sentence on that side or the other: "LLMs are trained on
    diverse datasets" does not say whether open-source LLMs share theirs, though its
    article's title is "…Open Source vs. Closed Source LLMs". Only for open or closed, in
    the asker's own words: "limit" is no drawback in "Is there a limit on how long…?".
    What is asked is what the question says beyond the side it names and words said in
    passing: "pay", not "closed" nor "use", in "Do you have to pay to use closed-source
    LLMs?", which "Skill Up: Learn about both open-source and closed-source LLMs" does not
    settle. Only a question that asks nothing beyond its side ("Is GPT-4 open source?")
    is settled by the side or its opposite.
    """
    about = candidate.about | (article or frozenset())
    if question.unknown_names or not question.names - question.qualifiers <= about:
        return False  # "Is ChatGPT open source?" in a knowledge base that never names ChatGPT
    if not question.qualifiers <= about | (read or frozenset()):
        return False
    taken = question.own_terms - question.names  # not "Open" of "Open QA", nor a follow-up's
    if any(
        own & taken & OPENNESS and not (own | other) & candidate.terms
        for own, other in question.sides
    ):
        return False  # "Do open-source LLMs ever share their data?": not LLMs in general
    asked = set(question.weights) - question.names
    asked = asked - question.subject_heads or asked  # "Is the LLM decontaminator open source?"
    beyond = asked - LIGHT_TERMS - _SIDE_WORDS
    if beyond or (asked and question.unheard_terms):
        # a word the knowledge base never uses may be said in another: "pay" by "paid"
        return bool((beyond | question.unheard_terms) & said_of(candidate.terms))
    if not asked:  # "Was GPT-J taken offline?" in other words than the article's
        return True
    return bool((asked | question.contrasts) & said_of(candidate.terms))


def states_expected(question: Question, sentence: str, *, as_a_class: bool = False) -> bool:
    """Whether ``sentence`` states the amount, date or name a typed question asks for.

    "How long did it take…" asks for a duration: a number of hours, days, …; "who"
    is answered by a name, or by people described ("by the 5 student authors"), and,
    ``as_a_class``, a "who" question naming no one by people as a class ("anyone can
    contribute").
    """
    if question.kind == "quantity":
        if _ASKS_DURATION.search(question.text) and not _DURATION.search(sentence):
            return False
        if _ASKS_PERCENT.search(question.text) and not _PERCENT.search(sentence):
            return False
        if _ASKS_MONEY.search(question.text):
            if not _MONEY.search(sentence):
                return False
            if _PRICE_LEVEL.search(sentence):  # "Can be expensive, especially for smaller…"
                return True
        if question.counted:  # "How many GPUs…?" is not answered by "$10 million of GPUs"
            return states_count(_SUM_OF_MONEY.sub(" ", sentence), question)
        return states(NUMBER, sentence, question.text)
    if question.kind == "time":
        return states(TIME, sentence, question.text)
    if question.kind == "who":
        asked = proper_nouns(question.text) | {w.lower() for w in question.text.split()}
        if proper_nouns(sentence) - asked:
            return True
        # "by big tech companies" says who backs closed models ("backed"), not who controls
        # them: a class of people answers a question whose verb it shares, or as a class
        verbs = {
            t
            for t, weight in question.weights.items()
            if weight >= SUBJECT_WEIGHT and side_of(t) is None and t not in question.names
        }
        said = verbs & set(terms(sentence))
        people = [
            m
            for m in _BY_PEOPLE.finditer(sentence)
            if as_a_class or said or m.group("who").lower() not in _CLASSES
        ]
        if (
            as_a_class
            and question.names <= COMMON_ACRONYMS
            and _ASKS_WHO_AT_ALL.match(question.text)
        ):
            # "Who contributes to open-source LLMs?", not "Which companies…?" (names asked)
            people += _PEOPLE.finditer(sentence)
        # "Which companies back closed LLMs?" asks which: "big tech companies" does not say
        return any(m.group("who").lower() not in asked for m in people)
    return False


ANSWERABILITY_FEATURES = (
    "best_logit",  # the sentence model's logit-probability for the best sentence
    "gap",  # its lead (in logits) over the runner-up
    "dense",  # the best sentence's cosine with the question
    "top_dense",  # the best retrieved passage's cosine with the question
    "rare",  # share of the question's rarer terms in the best sentence and its headings
    "names",  # share of the names the question mentions, likewise
    "missing",  # the largest IDF among the question's terms it lacks (relative)
    "unknown",  # share of the question's terms the knowledge base never uses
    "unknown_names",  # share of the names it mentions that the knowledge base never uses
    "typed_match",  # it states the amount, date or name the question asks for
)
"""Few and stable across knowledge bases: scores standardised over the candidates
(the fused z-score) or spread over a varying number of sentences (the raw
probability) are left out, since they shift with the size of the knowledge base."""


def answerability_row(ranked: list[tuple[Candidate, float]], passages: list[Passage]) -> np.ndarray:
    """Question-level features from the sentences ranked by the sentence model (best first)."""
    if not ranked:
        return np.zeros(len(ANSWERABILITY_FEATURES))
    index = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    best, probability = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 1e-6
    values = {name: float(best.features[index[name]]) for name in SENTENCE_FEATURES}
    values["best_logit"] = _logit(probability)
    values["gap"] = _logit(probability) - _logit(runner_up)
    values["top_dense"] = passages[0].dense if passages else 0.0
    return np.asarray([values[name] for name in ANSWERABILITY_FEATURES], dtype=np.float64)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
