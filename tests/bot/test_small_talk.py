"""Greetings, "help" and "What articles do you have?" get an overview, not a search."""

from __future__ import annotations

import pytest

from bot import KnowledgeBase
from bot.followup import standalone
from bot.small_talk import (
    OVERVIEW_ARTICLES,
    asked_article,
    asks_conclusion,
    asks_every_conclusion,
    is_small_talk,
    overview,
)
from ingest.load import TextDocument
from ingest.models import Span
from ingest.store import SourceRecord, StoredChunk
from tests.conftest import DEBATE, DOMINATE, GPT_J


@pytest.mark.parametrize(
    "message",
    [
        "hi",
        "Hello!",
        "hey there",
        "Thanks!",
        "Cool, thanks",
        "thank you so much",
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
        sentences=(Span(0, 24),),
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
    assert answer.answered and len(answer.citations) == len(records) == 3
    for citation, record in zip(answer.citations, records, strict=True):
        assert citation.title == record.title and f"“{record.title}” [{citation.n}]" in answer.text
        passages = corpus_kb.search(record.title, k=record.chunks, source=record.source_id)
        assert citation.start == min(p.start for p in passages)  # the article's first passage


def test_small_talk_in_a_conversation_leaves_the_subject_alone(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What is BLOOM?")

    greeting = conversation.ask("hi")
    follow = conversation.ask("Who made it?")

    assert greeting.answered and greeting.standalone_question == "hi"
    assert follow.standalone_question == "Who made BLOOM?"


TITLES = {
    DEBATE: "The Ultimate Debate: Open Source vs. Closed Source LLMs",
    DOMINATE: "Open Source vs. Closed Source AI: Which LLM Model Will Dominate?",
    GPT_J: "The Battle of Open Source vs Closed Source Language Models: A Technical Analysis",
}
RECORDS = [
    SourceRecord(f"/corpus/{name}", title, "txt", "h", 3, "") for name, title in TITLES.items()
]


@pytest.mark.parametrize(
    ("message", "article"),
    [
        ("What is the technical analysis article about?", GPT_J),
        ("Summarize the ultimate debate.", DEBATE),
        ("What does the Which LLM Model Will Dominate post cover?", DOMINATE),
        (f"Summarize {DEBATE}", DEBATE),
        ("What is the debate about?", None),  # one word of a title: a question
        ("Summarize open source vs closed source", None),  # every title has these words
        ("What is BLOOM about?", None),
        ("What is the article about?", None),  # which one? (an overview: small talk)
    ],
)
def test_what_is_an_article_about_names_one_article_or_none(
    message: str, article: str | None
) -> None:
    found = asked_article(message, RECORDS)

    assert (found.source_id.rsplit("/", 1)[1] if found else None) == article


def test_what_an_article_is_about_is_quoted_from_its_opening(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("What is the technical analysis article about?")

    [citation] = answer.citations
    assert answer.answered and citation.source.endswith(GPT_J)
    assert "analyze the technical differentiation between these approaches" in answer.text
    assert answer.text.count("[1]") == 3  # each quoted sentence points at the passage


@pytest.mark.parametrize(
    "question",
    [
        "When was the ultimate debate article published?",
        "When was the ultimate debate article on open vs closed LLMs published?",
        "What is the publication date of the ultimate debate article?",
        "What date did the ultimate debate post go up?",
    ],
)
def test_when_an_article_was_published_is_answered_from_its_record(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    # corpus/manifest.toml records 2025-02-22; a sentence of some passage would not say it
    assert answer.answered
    assert answer.text.startswith("“The Ultimate Debate: Open Source vs. Closed Source LLMs”")
    assert "22 February 2025" in answer.text
    [citation] = answer.citations
    assert citation.title == "The Ultimate Debate: Open Source vs. Closed Source LLMs"


def test_an_article_without_a_recorded_date_is_said_to_have_none(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("When was the technical analysis article published?")

    assert not answer.answered
    assert answer.text.startswith("The knowledge base has no publication date for “The Battle")
    assert [s.title for s in answer.closest] == [
        "The Battle of Open Source vs Closed Source Language Models: A Technical Analysis"
    ]
    # a question of that form about no article is a question
    assert corpus_kb.ask("When was GPT-J released?").text.startswith("I could not find this")


def test_a_greeting_before_a_question_is_not_searched_for(corpus_kb: KnowledgeBase) -> None:
    plain = corpus_kb.ask("How big is Gopher?")

    greeted = corpus_kb.ask("Hello! How big is Gopher?")

    assert greeted.answered and greeted.text == plain.text
    assert greeted.question == "Hello! How big is Gopher?"
    assert greeted.standalone_question == "How big is Gopher?"
    conversation = corpus_kb.conversation()
    conversation.ask("Hi, what is BLOOM?")
    assert conversation.ask("Thanks! Who made it?").standalone_question == "Who made BLOOM?"


def test_a_greeting_before_small_talk_is_still_small_talk(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Hi! What articles do you have?")

    assert answer.answered and len(answer.citations) == 3
    assert answer.text.startswith("I answer questions from the 3 articles")


def test_thanks_gets_a_reply_that_still_cites_the_articles(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Cool, thanks!")

    assert answer.answered and answer.text.startswith("You're welcome; ask me anything else")
    assert len(answer.citations) == 3 and "[3]" in answer.text


@pytest.mark.parametrize(
    ("question", "article", "concluded"),
    [
        # its last section is "Navigating the Open Supply vs Closed Supply LLM Panorama",
        # which starts a passage before the article's last
        (
            "What does the technical analysis conclude?",
            GPT_J,
            "Deciding between open or closed supply LLMs requires matching",
        ),
        (
            "What is the conclusion of the ultimate debate article?",
            DEBATE,
            "hinges on finding a balance between open source and closed source",
        ),
        ("How does the dominate article end?", DOMINATE, "a hybrid model might prevail"),
        ("What is the bottom line of the dominate article?", DOMINATE, "might prevail"),
    ],
)
def test_what_an_article_concludes_is_answered_from_its_last_section(
    corpus_kb: KnowledgeBase, question: str, article: str, concluded: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered and concluded in answer.text
    [citation] = answer.citations
    assert citation.source.endswith(article) and concluded in citation.quote
    assert concluded in citation.text  # the quote is in the passage cited


def test_what_the_articles_conclude_is_each_article_s_conclusion(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("What do the articles conclude?")

    assert answer.answered
    assert sorted(c.source.rsplit("/", 1)[-1] for c in answer.citations) == sorted(
        [DEBATE, DOMINATE, GPT_J]
    )
    for citation in answer.citations:
        assert f"“{citation.title}”: {citation.quote} [{citation.n}]" in answer.text
    assert "The future of AI and Large Language Models hinges on" in answer.text
    # one article named by a word only is searched for; so is a conclusion of nothing named
    assert corpus_kb.ask("What does Vicuna conclude?").text.startswith("I could not find")
    assert len(corpus_kb.ask("What is the conclusion?").citations) >= 1


def test_conclusion_questions_are_recognised_by_their_form() -> None:
    assert asks_conclusion("What does the technical analysis conclude?")
    assert asks_conclusion("What are the key takeaways of the Alpaca post?")
    assert asks_conclusion("How does the dominate article end?")
    assert not asks_conclusion("What is the conclusion?")
    assert not asks_conclusion("Why did the authors conclude that?")
    assert asks_every_conclusion("What do the articles conclude?")
    assert asks_every_conclusion("What do all the authors conclude?")
    assert not asks_every_conclusion("What does the ultimate debate conclude?")


def test_what_the_articles_conclude_is_searched_for_in_a_larger_knowledge_base(
    kb: KnowledgeBase,
) -> None:
    animals = ["Otters", "Badgers", "Herons", "Newts", "Voles", "Stoats"]
    documents = [
        TextDocument(
            f"notes:{name.lower()}",
            f"# {name}\n\n{name} live near rivers in the north.\n\n"
            f"## Verdict\n\n{name} deserve protection from the draining of wetlands.\n",
        )
        for name in animals
    ]
    assert kb.ingest(documents).ok
    assert len(kb.sources()) > OVERVIEW_ARTICLES

    every = kb.ask("What do the articles conclude?")
    one = kb.ask("What is the verdict of the Stoats article?")

    # six articles are too many to quote each: the question is answered like any other
    assert not any(f"“{name}”:" in every.text for name in animals)
    assert one.answered
    assert "Stoats deserve protection from the draining of wetlands." in one.text
    [citation] = one.citations
    assert citation.source == "notes:stoats"
