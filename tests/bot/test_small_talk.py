"""Greetings, "help" and "What articles do you have?" get an overview, not a search."""

from __future__ import annotations

import pytest

from bot import KnowledgeBase
from bot.followup import standalone
from bot.small_talk import OVERVIEW_ARTICLES, is_small_talk, overview
from ingest.store import SourceRecord, StoredChunk


@pytest.mark.parametrize(
    "message",
    [
        "hi",
        "Hello!",
        "hey there",
        "Good morning 👋",
        "help",
        "What can you do?",
        "How do I use this bot?",
        "What articles do you have?",
        "Which topics do you cover?",
        "What's this knowledge base about?",
        "List the articles.",
    ],
)
def test_greetings_requests_for_help_and_for_the_articles_are_small_talk(message: str) -> None:
    assert is_small_talk(message)


@pytest.mark.parametrize(
    "question",
    [
        "What articles discuss licensing?",
        "How does it work?",  # a follow-up about the earlier subject
        "What do you know about BLOOM?",
        "Hi, what is BLOOM?",
        "Help me understand vendor lock-in.",
        "Which sources of funding do open models have?",
    ],
)
def test_questions_that_only_start_like_small_talk_are_questions(question: str) -> None:
    assert not is_small_talk(question)


def _record(n: int) -> SourceRecord:
    return SourceRecord(f"/a/{n}.md", f"Article {n}", "md", "h", 3, "2026-11-26")


def _opening(n: int) -> StoredChunk:
    return StoredChunk(
        id=f"c{n}",
        source_id=f"/a/{n}.md",
        title=f"Article {n}",
        section="Intro",
        text=f"Article {n} begins here.",
        start=0,
        end=24,
        position=0,
        header=f"Article {n}",
        sentences=((0, 24),),
    )


def test_an_overview_cites_each_article_by_its_opening_and_counts_the_rest() -> None:
    records = [_record(n) for n in range(OVERVIEW_ARTICLES + 2)]
    openings = {r.source_id: _opening(n) for n, r in enumerate(records)}

    answer = overview("hello", records, openings)

    assert answer.answered and answer.question == "hello"
    assert [c.text for c in answer.citations] == [
        f"Article {n} begins here." for n in range(OVERVIEW_ARTICLES)
    ]
    assert "“Article 0” [1]" in answer.text and "and 2 more." in answer.text
    assert f"the {OVERVIEW_ARTICLES + 2} articles" in answer.text


def test_an_overview_of_an_empty_knowledge_base_says_how_to_add_articles() -> None:
    answer = overview("What articles do you have?", [], {})

    assert not answer.answered and "kb ingest" in answer.text


def test_small_talk_is_no_subject_for_a_follow_up() -> None:
    assert standalone("Who made it?", ["What is BLOOM?", "hello"]) == "Who made BLOOM?"


def test_hello_names_the_articles_and_cites_their_openings(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Hello!")

    records = corpus_kb.sources()
    openings = corpus_kb._store.openings([r.source_id for r in records])
    assert answer.answered and len(answer.citations) == len(records) == 3
    for citation, record in zip(answer.citations, records, strict=True):
        assert citation.title == record.title and f"“{record.title}” [{citation.n}]" in answer.text
        assert citation.text == openings[record.source_id].text  # the article's first passage


def test_small_talk_in_a_conversation_leaves_the_subject_alone(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What is BLOOM?")

    greeting = conversation.ask("hi")
    follow = conversation.ask("Who made it?")

    assert greeting.answered and greeting.standalone_question == "hi"
    assert follow.standalone_question == "Who made BLOOM?"
