"""How a quoted list is put together: pure functions over candidate sentences (fast tier)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from bot.answer import (
    Evidence,
    ExtractiveAnswerer,
    ExtractiveSettings,
    Scored,
    _as_text,
    _attribute_first,
    _items_after,
    _items_before,
    _of_expected_type,
    _of_the_subject,
    _Openings,
    _Reader,
    _reason_beside,
    _sections_after,
    _told_how,
    _under_its_heading,
    _with_their_lines,
)
from bot.features import Candidate
from bot.linear import AnswerModel, LogisticModel
from bot.question import Question
from bot.retrieve import Passage
from bot.terms import terms
from ingest.errors import ConfigurationError
from ingest.models import Chunk, Span


def _candidate(rank: int, index: int, text: str, **flags: Any) -> Candidate:
    return Candidate(
        rank,
        index,
        text,
        flags.pop("section", "S"),
        flags.pop("list_item", False),
        np.zeros(3),
        np.zeros(1),
        **flags,
    )


def _passage(source: str, position: int, sentences: int) -> Any:
    chunk = SimpleNamespace(source_id=source, position=position, sentences=[None] * sentences)
    return SimpleNamespace(chunk=chunk)


def _ranked(*candidates: Candidate) -> list[Scored]:
    return [Scored(c, 0.1) for c in candidates]


def test_an_intro_brings_its_items_with_their_later_sentences_across_passages() -> None:
    intro = _candidate(0, 0, "Evaluating a model consists of the following steps:")
    first = _candidate(0, 1, "Add the model with an anonymous label.", list_item=True)
    aside = _candidate(0, 2, "Its identity is not shown.", in_item=True)
    second = _candidate(1, 0, "Remove the model.", list_item=True)  # next passage of the article
    after = _candidate(1, 1, "Results are shared privately.")
    passages = [_passage("arena", 3, 3), _passage("arena", 4, 2)]

    items = _items_after(intro, _ranked(intro, first, aside, second, after), 8, passages)

    assert items == [first, aside, second]
    text = _as_text([(c, f"{c.text} [1]") for c in [intro, *items]])
    assert text.splitlines() == [
        "Evaluating a model consists of the following steps: [1]",
        "- Add the model with an anonymous label. [1] Its identity is not shown. [1]",
        "- Remove the model. [1]",
    ]


def test_a_list_cut_by_the_end_of_its_passage_goes_on_in_the_next_one_read_on_demand() -> None:
    intro = _candidate(0, 0, "Our recipe has the following improvements.", section="Training")
    first = _candidate(0, 1, "Memory: we expand the context.", list_item=True, section="Training")
    text = "- Multi-round: we adjust the loss.\n- Spot instances: training is cheaper.\nAfter."
    following = Chunk(
        "c13", "vicuna", "Vicuna", "Training", text, 900, 900 + len(text), 13, "",
        sentences=(Span(2, 34), Span(37, 73), Span(74, 80)),
        sentence_sections=("Training",) * 3,
    )  # fmt: skip
    read: list[Passage] = []

    def next_passage(passage: Passage) -> tuple[Passage, np.ndarray]:
        read.append(passage)
        return Passage(following, 1.0, 0.0, 0.0), np.zeros((3, 4))

    evidence = Evidence("q", np.zeros(4), [], {}, lambda term: 1.0, following=next_passage)
    question = Question.analyse("What improvements were made?", idf=lambda term: 1.0)
    passages = [_passage("vicuna", 12, 2)]
    ranked = _ranked(intro, first)

    items = _items_after(intro, ranked, 8, passages, _Reader(question, evidence, evidence.vector))

    assert [c.text for c in items] == [
        "Memory: we expand the context.",
        "Multi-round: we adjust the loss.",
        "Spot instances: training is cheaper.",
    ]
    assert [c.passage_rank for c in items] == [0, 1, 1] and len(passages) == 2
    assert len(read) == 1
    plain = _candidate(0, 1, "Nothing is announced here.")
    assert (
        _items_after(
            plain,
            _ranked(plain),
            8,
            [_passage("v", 0, 2)],
            _Reader(question, evidence, evidence.vector),
        )
        == []
    )
    assert len(read) == 1  # no list runs on: nothing is read


def test_announced_prose_items_are_counted_off_and_nothing_else_follows() -> None:
    intro = _candidate(0, 0, "We have put into place two risk mitigation strategies.")
    first = _candidate(0, 1, "First, we filter content.")
    detail = _candidate(0, 2, "The filter uses a moderation API.")
    second = _candidate(0, 3, "Second, we watermark outputs.")
    unrelated = _candidate(0, 4, "The demo is hosted online.")
    ranked = _ranked(intro, first, detail, second, unrelated)

    items = _items_after(intro, ranked, 8, [_passage("alpaca", 0, 5)])

    assert items == [first, detail, second]
    plain = _candidate(0, 0, "The suite has tasks of varying difficulty.")
    assert _items_after(plain, ranked, 8, [_passage("alpaca", 0, 5)]) == []


def test_a_list_never_runs_into_another_section_or_past_its_limit() -> None:
    intro = _candidate(0, 0, "Open-source models face these challenges:")
    items = [_candidate(0, i, f"Challenge {i}.", list_item=True) for i in (1, 2, 3)]
    other = _candidate(1, 0, "A closed-source challenge.", list_item=True, section="Closed")
    passages = [_passage("debate", 0, 4), _passage("debate", 1, 1)]
    ranked = _ranked(intro, *items, other)

    assert _items_after(intro, ranked, 8, passages) == items
    assert _items_after(intro, ranked, 2, passages) == items[:2]
    # nor into the next list of the same passage ("Key Features…" after "Examples…")
    features = _candidate(0, 4, "A feature.", list_item=True, section="Features")
    wider = [_passage("debate", 0, 5), _passage("debate", 1, 1)]
    assert _items_after(intro, _ranked(intro, *items, features), 8, wider) == items


def test_a_why_answer_that_only_restates_the_fact_brings_the_reason_beside_it() -> None:
    fact = _candidate(0, 1, "The model's accuracy drops near 16K tokens.")
    before = _candidate(0, 0, "We tested long inputs.")
    reason = _candidate(0, 2, "We conjecture this is because 16K is its longest training length.")

    assert _reason_beside(fact, _ranked(before, fact, reason)) == [reason]
    assert _reason_beside(fact, _ranked(before, fact)) == []
    # one sentence further on, under the same heading; not under the next one
    aside = _candidate(0, 2, "The drop is steep.")
    later = replace(reason, sentence=3)
    assert _reason_beside(fact, _ranked(before, fact, aside, later)) == [later]
    elsewhere = replace(later, section="Other")
    assert _reason_beside(fact, _ranked(before, fact, aside, elsewhere)) == []


def test_a_list_cut_by_the_start_of_its_passage_brings_the_items_before_it() -> None:
    earlier = _candidate(0, 0, "Some prose before the list.")
    d = _candidate(0, 1, "RAIL-D: restrictions on the data.", list_item=True)
    a = _candidate(0, 2, "RAIL-A: restrictions on the application.", list_item=True)
    m = _candidate(1, 0, "RAIL-M: restrictions on the model.", list_item=True)
    passages = [_passage("licences", 7, 3), _passage("licences", 8, 1)]

    assert _items_before(m, _ranked(m, earlier, d, a), 8, passages) == [d, a]
    assert _items_before(m, _ranked(m, earlier, d, a), 1, passages) == [a]
    assert _items_before(a, _ranked(m, earlier, d, a), 8, passages) == []  # not at its start


def test_a_new_citation_must_score_nearer_the_best_than_more_words_from_a_cited_passage() -> None:
    unused = LogisticModel((), np.zeros(0), np.ones(0), np.zeros(0), 0.0)
    model = AnswerModel(unused, unused, 0.5, keep=0.9, keep_in_passage=0.4)
    answerer = ExtractiveAnswerer(model=model)
    question = Question.analyse("When was the model released?", idf=lambda term: 1.0)
    best = _candidate(0, 0, "The model was released in March.")
    elsewhere = _candidate(1, 0, "A later model came out in May.")
    beside = _candidate(0, 1, "It was opened to everyone a week later.")
    ranked = [Scored(best, 0.5), Scored(elsewhere, 0.3), Scored(beside, 0.25)]
    passages = [_passage("a", 0, 2), _passage("b", 0, 1)]

    # 0.3 is below 0.9 x 0.5 for another passage; 0.25 reaches 0.4 x 0.5 in the cited one
    assert answerer._choose(question, ranked, passages) == [best, beside]


def _answerer() -> ExtractiveAnswerer:
    unused = LogisticModel((), np.zeros(0), np.ones(0), np.zeros(0), 0.0)
    return ExtractiveAnswerer(model=AnswerModel(unused, unused, 0.5, keep=0.9, keep_in_passage=0.4))


def test_an_intro_brings_its_items_even_when_filters_left_only_the_intro() -> None:
    question = Question.analyse("What are the limitations of LLM judges?", idf=lambda term: 1.0)
    intro = _candidate(0, 0, "We begin by acknowledging potential limitations of LLM judges:")
    items = [
        _candidate(0, i, f"Bias {i} where judges favor something.", list_item=True) for i in (1, 2)
    ]
    every = _ranked(intro, *items)
    # the pros/cons filter kept the intro alone: the items name no limitation
    chosen = _answerer()._choose(question, every[:1], [_passage("judge", 0, 3)], None, every)

    assert chosen == [intro, *items]


def test_a_list_question_answered_by_the_sentence_before_an_intro_gets_the_intro_and_items() -> (
    None
):
    question = Question.analyse(
        "What tricks do you suggest for better outputs?", idf=lambda term: 1.0
    )
    lever = _candidate(0, 0, "The input prompt is the best lever for improving model outputs.")
    intro = _candidate(0, 1, "You can try tricks like:")
    items = [_candidate(0, i, f"Trick {i}.", list_item=True) for i in (2, 3)]
    ranked = [Scored(lever, 0.6), Scored(intro, 0.05), *_ranked(*items)]

    chosen = _answerer()._choose(question, ranked, [_passage("cookbook", 0, 4)])

    assert chosen == [lever, intro, *items]
    why = Question.analyse("Why is the prompt the best lever?", idf=lambda term: 1.0)
    assert _answerer()._choose(why, ranked, [_passage("cookbook", 0, 4)])[:2] != [lever, intro]


def test_a_list_question_whose_second_sentence_leads_into_a_list_gets_the_list() -> None:
    question = Question.analyse("What abilities do LLMs pick up?", idf=lambda term: 1.0)
    learning = _candidate(0, 0, "By minimising prediction error, models learn concepts.")
    intro = _candidate(0, 1, "For example, they learn:")
    items = [_candidate(0, i, f"Skill {i}.", list_item=True) for i in (2, 3)]
    reading = _candidate(0, 4, "They do this by reading a large amount of existing text.")
    ranked = [Scored(reading, 0.5), Scored(learning, 0.4), Scored(intro, 0.01), *_ranked(*items)]

    chosen = _answerer()._choose(question, ranked, [_passage("cookbook", 0, 5)])

    assert chosen == [reading, learning, intro, *items]
    why = Question.analyse("Why do LLMs learn concepts?", idf=lambda term: 1.0)
    assert intro not in _answerer()._choose(why, ranked, [_passage("cookbook", 0, 5)])


def test_an_intro_that_counts_the_headed_sections_after_it_is_answered_by_their_openings() -> None:
    suite = "Evaluation toolkits › LongEval"
    intro = _candidate(
        0, 1, "This suite incorporates two tasks of varying difficulty.", section=suite
    )
    first = _candidate(1, 0, "Users jump between topics.", section=f"{suite} › Task 1: Topic")
    more = _candidate(1, 1, "The task mimics this.", section=f"{suite} › Task 1: Topic")
    deeper = _candidate(2, 0, "An example.", section=f"{suite} › Task 1: Topic › Example")
    second = _candidate(2, 1, "We test lines too.", section=f"{suite} › Task 2: Line")
    results = _candidate(2, 2, "Results follow.", section="Results")
    passages = [_passage("longchat", 5, 2), _passage("longchat", 6, 2), _passage("longchat", 7, 3)]
    ranked = _ranked(intro, first, more, deeper, second, results)

    items = _sections_after(intro, ranked, 8, passages)

    assert items == [replace(first, list_item=True), replace(second, list_item=True)]
    text = _as_text([(c, f"{c.text} [1]") for c in [intro, *items]])
    assert text.splitlines() == [
        "This suite incorporates two tasks of varying difficulty. [1]",
        "Task 1: Topic:",
        "- Users jump between topics. [1]",
        "Task 2: Line:",
        "- We test lines too. [1]",
    ]
    three = replace(intro, text="This suite incorporates three tasks.")
    assert _sections_after(three, ranked, 8, passages) == []  # only two follow
    assert _sections_after(intro, ranked, 1, passages) == []  # more than the list limit
    uncounted = replace(intro, text="This suite measures long-context performance.")
    assert _sections_after(uncounted, ranked, 8, passages) == []


def test_a_list_question_whose_second_sentence_announces_a_list_gets_its_items() -> None:
    question = Question.analyse("Which kinds of tasks did annotators write?", idf=lambda term: 1.0)
    record = _candidate(0, 0, "Employees were given a description of each annotation task.")
    aside = _candidate(0, 1, "Caveat emptor.")
    intro = _candidate(0, 2, "The guidelines for each of the categories are as follows:")
    items = [_candidate(0, i, f"Task {i}: write something.", list_item=True) for i in (3, 4)]
    ranked = [Scored(record, 0.5), Scored(intro, 0.4), *_ranked(aside, *items)]

    chosen = _answerer()._choose(question, ranked, [_passage("dolly", 0, 5)])

    assert chosen == [record, intro, *items]


def test_a_model_saved_before_keep_in_passage_keeps_one_ratio_for_both() -> None:
    data = AnswerModel.load().to_dict()
    del data["keep_in_passage"]
    model = AnswerModel.from_dict(data)
    assert model.keep_in_passage == model.keep


def test_a_quoted_list_item_brings_the_rest_of_its_line() -> None:
    first = _candidate(0, 1, "Find the most similar training items.", list_item=True)
    second = _candidate(0, 2, "Generate rephrased pairs.", list_item=True)
    rest = _candidate(0, 3, "Each pair is judged by GPT-4.", in_item=True)
    after = _candidate(0, 4, "Results show it works.")

    chosen = _with_their_lines([first, second], _ranked(first, second, rest, after))

    assert chosen == [first, second, rest]


def test_a_sentence_that_itself_says_what_is_asked_comes_before_one_that_only_names_it() -> None:
    question = Question.analyse("What is the mission of Chatbot Arena?", idf=lambda term: 1.0)
    heading = "Our Mission"
    named = _candidate(0, 0, "Chatbot Arena is an open-source project.", section=heading)
    mission = _candidate(0, 1, "Our mission is to advance LLM development.", section=heading)
    title = frozenset(terms("LMSYS Chatbot Arena"))
    named = replace(named, words=frozenset(terms(named.text)), title=title)
    mission = replace(mission, words=frozenset(terms(mission.text)), title=title)

    first = _attribute_first(question, [Scored(named, 0.8), Scored(mission, 0.12)])
    assert first[0].candidate is mission
    unlikely = _attribute_first(question, [Scored(named, 0.8), Scored(mission, 0.01)])
    assert unlikely[0].candidate is named  # below ATTRIBUTE_SHARE of the best
    elsewhere = replace(mission, title=frozenset(terms("Another article")))
    assert _attribute_first(question, [Scored(named, 0.8), Scored(elsewhere, 0.12)])[0] == (
        Scored(named, 0.8)
    )  # it does not name Chatbot Arena


def test_a_sentence_that_holds_little_of_what_is_asked_does_not_come_first() -> None:
    question = Question.analyse(
        "Why is it bad if only a handful of companies own AI?",
        idf=lambda term: {"compani": 1.0, "ai": 0.5}.get(term, 3.0),  # "bad", "handful": rarer
    )
    risk = _candidate(
        0, 0, "Monopoly Risks: A few corporations controlling AI can limit diversity."
    )
    backed = _candidate(1, 0, "Closed-source AI is backed by big tech companies.")
    risk, backed = (replace(c, words=frozenset(terms(c.text))) for c in (risk, backed))

    ranked = [Scored(risk, 0.14), Scored(backed, 0.06)]
    assert _attribute_first(question, ranked) == ranked


def test_an_answer_model_fitted_on_other_features_is_refused_with_a_clear_error(
    tmp_path: Path,
) -> None:
    data = AnswerModel.load().to_dict()
    old = data["sentence"]
    keep = [i for i, name in enumerate(old["features"]) if name != "soft_coverage"]
    for key in ("features", "mean", "scale", "weights"):
        old[key] = [old[key][i] for i in keep]
    path = tmp_path / "old_model.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(ConfigurationError, match=r"soft_coverage.*kb eval fit"):
        ExtractiveAnswerer(ExtractiveSettings(model_path=path))


def _read(rank: int, text: str, section: str = "", position: int = 0) -> tuple[Candidate, Any]:
    said = frozenset(terms(f"{section} {text}"))
    candidate = _candidate(rank, 0, text, terms=said, words=frozenset(terms(text)))
    candidate = replace(candidate, headings=frozenset(terms(section)), title=frozenset())
    chunk = SimpleNamespace(source_id="dolly", position=position, sentences=[None], title="Summary")
    return candidate, SimpleNamespace(chunk=chunk)


def test_a_name_said_by_its_articles_opening_alone_names_what_its_sentences_are_about() -> None:
    opening, first = _read(0, "databricks-dolly-15k is an open instruction dataset.")
    limits, later = _read(1, "Some annotators may not be native speakers.", "Known Limitations", 5)
    allowed, later2 = _read(2, "The dataset can be used for commercial purposes.", "", 6)
    cons = Question.analyse(
        "What are the known limitations of databricks-dolly-15k?", idf=lambda t: 1.0
    )
    paid = Question.analyse("Can databricks-dolly-15k be used commercially?", idf=lambda t: 1.0)

    read = [first, later, later2]
    assert [s.candidate for s in _of_the_subject(cons, _ranked(opening, limits), read)] == [limits]
    assert allowed in [
        s.candidate for s in _of_expected_type(paid, _ranked(opening, allowed), read)
    ]
    # without the opening among the passages read, nothing says they are the dataset's
    assert not _of_the_subject(cons, _ranked(limits), [later, later])
    assert not _of_expected_type(paid, _ranked(allowed), [later2, later2, later2])


def test_an_opening_not_among_the_passages_read_is_read_from_the_store_once() -> None:
    limits, later = _read(1, "Some annotators may not be native speakers.", "Known Limitations", 5)
    allowed, later2 = _read(2, "The dataset can be used for commercial purposes.", "", 6)
    limits = replace(limits, title=frozenset(terms("Summary")))
    allowed = replace(allowed, title=frozenset(terms("Summary")))
    cons = Question.analyse(
        "What are the known limitations of databricks-dolly-15k?", idf=lambda t: 1.0
    )
    paid = Question.analyse("Can databricks-dolly-15k be used commercially?", idf=lambda t: 1.0)
    first = SimpleNamespace(
        source_id="dolly",
        title="Summary",
        section="",
        text="databricks-dolly-15k is an open instruction dataset.",
    )
    asked: list[list[str]] = []

    def read(sources: Any) -> dict[str, Any]:
        asked.append(list(sources))
        return {"dolly": first}

    passages = [later, later2]
    openings = _Openings(_ranked(limits, allowed), passages, read)
    kept = _of_the_subject(cons, _ranked(limits), passages, openings)
    assert [s.candidate for s in kept] == [limits]
    settled = _of_expected_type(paid, _ranked(allowed), passages, openings)
    assert [s.candidate for s in settled] == [allowed]
    assert asked == [["dolly"]]  # one read, for every rule that asks


def test_a_list_item_headed_as_what_is_asked_of_something_else_is_dropped() -> None:
    question = Question.analyse("What are the key features of hybrid approaches?", lambda t: 2.0)
    hybrid = _candidate(
        0,
        0,
        "Selective Accessibility: …",
        list_item=True,
        section="Hybrid Models › Key Features of Hybrid Approaches",
    )
    llms = _candidate(
        1, 0, "Tokenization: …", list_item=True, section="Understanding LLMs › Key Features of LLMs"
    )
    prose = _candidate(2, 0, "LLMs are advanced AI systems.", section="Key Features of LLMs")

    kept = [s.candidate for s in _under_its_heading(question, _ranked(hybrid, llms, prose))]

    assert question.kind == "list"

    assert kept == [hybrid, prose]  # not an item of the LLMs' features; prose is not an item


def test_a_heading_on_the_asked_side_in_other_words_keeps_its_items() -> None:
    question = Question.analyse("What are examples of proprietary LLMs?", lambda t: 2.0)
    closed = _candidate(
        0, 0, "GPT-4: …", list_item=True, section="Examples of Closed-Source Models"
    )

    assert [s.candidate for s in _under_its_heading(question, _ranked(closed))] == [closed]


def _told(rank: int, text: str) -> tuple[Candidate, Any]:
    candidate = _candidate(
        rank, 0, text, terms=frozenset(terms(text)), words=frozenset(terms(text))
    )
    return candidate, SimpleNamespace(chunk=SimpleNamespace(indexed_text=text))


def test_a_how_to_question_is_refused_when_nothing_read_says_how_to_do_it() -> None:
    weights = {"deploy": 3.0, "bloom": 2.0, "laptop": 2.5}
    asked = Question.analyse(
        "How do I deploy BLOOM on my laptop?", idf=lambda t: weights.get(t, 1.0)
    )
    debate, first = _told(0, "Two approaches to building and deploying LLMs: open and closed.")
    advice, second = _told(1, "Skill Up: Learn about BLOOM and its licence.")

    assert asked.asks_how_to
    # one sentence names deploying but gives no way, the other gives a way of doing something else
    assert not _told_how(asked, _ranked(debate, advice), [first, second])

    # a way of deploying it, even one that leaves the model to its passage ("it"), answers
    command, third = _told(2, "Run the following command:")
    third = SimpleNamespace(chunk=SimpleNamespace(indexed_text="Deploy BLOOM locally. Run …"))
    ranked = _ranked(debate, advice, command)
    assert _told_how(asked, ranked, [first, second, third]) == ranked


def _said(
    rank: int, text: str, section: str = "", title: str = "", asked: Question | None = None
) -> Candidate:
    words = frozenset(terms(text))
    context = words | frozenset(terms(section)) | frozenset(terms(title))
    return _candidate(
        rank,
        0,
        text,
        section=section,
        terms=words | frozenset(terms(section)),
        headings=frozenset(terms(section)),
        words=words,
        title=frozenset(terms(title)),
        other_names=asked is not None and asked.about_other_names(set(context)),
    )


def test_a_place_answers_where_something_is_only_in_a_sentence_that_names_it() -> None:
    where = Question.analyse("Where is Databricks headquartered?", idf=lambda t: 1.0)
    card = "databricks-dolly-15k"  # the article's title names Databricks
    wikipedia = _said(0, "The dataset reflects the topical focus found in Wikipedia.", title=card)
    office = _said(1, "The company is headquartered in San Francisco.", "About Databricks")
    passages = [_passage("dolly", 0, 1), _passage("dolly", 1, 1)]

    kept = _of_expected_type(where, _ranked(wikipedia, office), passages)
    assert [s.candidate for s in kept] == [office]


def test_which_kind_of_value_is_answered_by_a_sentence_on_it_about_what_is_named() -> None:
    licence = Question.analyse("What license is Phi-1 released under?", idf=lambda t: 1.0)
    apache = _said(
        0, "The code is released under the Apache License 2.0.", "", "Licensing", licence
    )
    phi = _said(1, "Phi-1 is released under the MIT license.", "", "Licensing", licence)
    unsaid = _said(2, "Phi-1 was trained on textbook-quality data.", "", "Licensing", licence)
    passages = [_passage("licensing", i, 1) for i in range(3)]

    kept = _of_expected_type(licence, _ranked(apache, phi, unsaid), passages)
    assert [s.candidate for s in kept] == [phi]
