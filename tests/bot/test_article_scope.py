"""A question that names an article is answered from it."""

from __future__ import annotations

import pytest

from bot import KnowledgeBase
from bot.article_scope import named_article
from ingest.store import SourceRecord
from tests.conftest import DEBATE, GPT_J

_DEBATE = SourceRecord(
    "/a/debate.txt", "The Ultimate Debate: Open Source vs. Closed Source LLMs", "txt", "h", 9, ""
)
_ANALYSIS = SourceRecord(
    "/a/analysis.txt",
    "The Battle of Open Source vs Closed Source Language Models: A Technical Analysis",
    "txt",
    "h",
    9,
    "",
)
_DOMINATE = SourceRecord(
    "/a/dominate.txt",
    "Open Source vs. Closed Source AI: Which LLM Model Will Dominate?",
    "txt",
    "h",
    9,
    "",
)
_RECORDS = [_DEBATE, _ANALYSIS, _DOMINATE]


@pytest.mark.parametrize(
    ("question", "record", "searched"),
    [
        (
            "What are the weak spots of open models, according to the ultimate debate?",
            _DEBATE,
            "What are the weak spots of open models?",
        ),
        (
            "Does the technical analysis say GPT-J was taken offline?",
            _ANALYSIS,
            "Does it say GPT-J was taken offline?",
        ),
        (
            "What does the dominate article recommend developers do?",
            _DOMINATE,
            "What does it recommend developers do?",
        ),
        (
            "What are the benefits of open LLMs in the 'which will dominate' article?",
            _DOMINATE,
            "What are the benefits of open LLMs?",
        ),
        (
            "In the technical analysis, why was GPT-J taken offline?",
            _ANALYSIS,
            "Why was GPT-J taken offline?",
        ),
        (
            "What are the main characteristics of LLMs listed in the ultimate debate article?",
            _DEBATE,
            "What are the main characteristics of LLMs?",
        ),
        (
            "Who backs closed models, per the ultimate debate piece?",
            _DEBATE,
            "Who backs closed models?",
        ),
    ],
)
def test_a_question_that_names_an_article_is_searched_in_it_without_the_name(
    question: str, record: SourceRecord, searched: str
) -> None:
    scope = named_article(question, _RECORDS)

    assert scope is not None
    assert (scope.record, scope.question) == (record, searched)


@pytest.mark.parametrize(
    "question",
    [
        "What are the risks of open source LLMs?",  # every title says "open source"
        "Who wins the ultimate debate?",  # the debate, not the article
        "What does the article say about licences?",  # which of three?
        "In the open source world, who pays for development?",
        "What do closed source models say about their training data?",  # in every title
    ],
)
def test_a_question_that_names_no_one_article_is_searched_everywhere(question: str) -> None:
    assert named_article(question, _RECORDS) is None


def test_the_article_of_a_knowledge_base_of_one_is_named_by_the_article() -> None:
    scope = named_article("What does the article say about licences?", [_DEBATE])

    assert scope is not None and scope.question == "What does it say about licences?"


def test_an_answer_to_a_question_naming_an_article_cites_only_that_article(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask(
        "According to the ultimate debate article, why do companies restrict access to their models?"
    )

    assert answer.answered, answer.text
    assert all(c.source.endswith(DEBATE) for c in answer.citations)
    assert "restricting access" in answer.text
    assert answer.standalone_question == "Why do companies restrict access to their models?"
    scoped = corpus_kb.ask("Does the technical analysis say GPT-J was taken offline?")
    assert scoped.answered and all(c.source.endswith(GPT_J) for c in scoped.citations)
