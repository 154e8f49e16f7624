"""Conversations on the bundled corpus with the real model: follow-ups resolved from history."""

from __future__ import annotations

import pytest

from bot import Conversation, InvalidQuestionError, KnowledgeBase
from bot.followup import quotes
from tests.conftest import DEBATE


def test_a_follow_up_is_searched_for_as_a_standalone_question(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    assert isinstance(conversation, Conversation)

    first = conversation.ask("What is BLOOM?")
    follow = conversation.ask("Who made it?")

    assert first.answered and first.standalone_question == "What is BLOOM?"
    assert follow.question == "Who made it?"
    assert follow.standalone_question == "Who made BLOOM?"
    assert conversation.history == [("What is BLOOM?", first), ("Who made it?", follow)]


def test_a_follow_up_asking_something_new_does_not_re_answer_the_previous_question(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    first = conversation.ask("What is BLOOM?")
    assert first.citations[0].source.endswith(DEBATE) and "BLOOM" in first.text

    follow = conversation.ask("Who made it?")

    # The corpus names BLOOM but never says who made it: the BLOOM sentence is
    # all it has, and quoting it again would answer "What is BLOOM?" twice.
    assert not quotes(follow) & quotes(first)
    assert follow.text != first.text


def test_follow_ups_are_answered_from_the_right_passage(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("Why did EleutherAI take GPT-J offline?")
    gopher = conversation.ask("How big is DeepMind's Gopher model?")
    assert "280 billion" in gopher.text

    licence = corpus_kb.conversation()
    licence.ask("What licence does LLaMA use?")
    neox = licence.ask("What about GPT-NeoX?")
    assert neox.standalone_question == "What licence does GPT-NeoX use?"
    assert neox.answered and "Apache 2.0" in neox.text  # the same sentence answers both

    risks = corpus_kb.conversation()
    risks.ask("What are the risks of open-source LLMs?")
    closed = risks.ask("And what about closed ones?")
    assert closed.standalone_question == "What are the risks of closed LLMs?"
    assert closed.answered and "Monopoly" in closed.text


def test_why_after_what_is_answered_by_the_sentence_that_gives_the_reason(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    first = conversation.ask("What did EleutherAI do with GPT-J?")

    why = conversation.ask("Why?")

    # The sentence that said what happened also says why: quoting it again answers "Why?".
    assert why.answered and "internet hosting prices" in why.text
    assert quotes(why) <= quotes(first)


def test_the_other_side_and_remedies_are_resolved_in_a_conversation(
    corpus_kb: KnowledgeBase,
) -> None:
    perks = corpus_kb.conversation()
    perks.ask("What are the perks of open-source LLMs?")
    closed = perks.ask("What about closed-source?")
    assert closed.standalone_question == "What are the perks of closed-source LLMs?"
    assert closed.answered and "Full Transparency" not in closed.text

    risks = corpus_kb.conversation()
    risks.ask("What are the risks of open-source LLMs?")
    remedy = risks.ask("How can they be mitigated?")
    assert remedy.standalone_question == "How can the risks of open-source LLMs be mitigated?"


def test_who_made_it_is_answered_by_the_earlier_sentence_when_it_names_the_maker(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What is BERT?")

    maker = conversation.ask("Who made it?")

    assert maker.standalone_question == "Who made BERT?"
    assert maker.answered and "A model by Google" in maker.text


def test_it_after_which_company_is_the_company_the_answer_named(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    first = conversation.ask("Which company is behind BERT?")
    assert "A model by Google" in first.text

    follow = conversation.ask("What else does it make?")

    assert follow.standalone_question == "What else does Google make?"  # not BERT
    # a conversation rebuilt from a chat's log answers the earlier question to know
    rebuilt = corpus_kb.conversation(["Which company is behind BERT?"])
    assert rebuilt.ask("What else does it make?").standalone_question == follow.standalone_question
    # "it" after a question that asks for no one thing is still that question's subject
    assert corpus_kb.conversation(["What is BERT?"]).ask("Who made it?").standalone_question == (
        "Who made BERT?"
    )


def test_which_one_after_a_list_is_answered_by_the_item_that_is_it(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What are the types of LLMs?")

    picked = conversation.ask("Which one is open source?")

    assert picked.standalone_question.startswith("Which is open source? (GPT Models, BERT")
    assert picked.answered and picked.text.startswith("BLOOM: An open-source model")


def test_any_downsides_asks_for_the_downsides_of_the_earlier_subject(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What are the perks of open-source LLMs?")

    cons = conversation.ask("Any downsides?")

    assert cons.standalone_question == "What are the downsides of open-source LLMs?"
    assert cons.answered and "Risk of Misuse" in cons.text


def test_how_is_it_different_from_another_quotes_both(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask("What is BLOOM?")

    compared = conversation.ask("How is it different from BERT?")

    assert compared.standalone_question == "How is BLOOM different from BERT?"
    assert compared.answered and "BERT: A model by Google" in compared.text


def test_an_answer_outside_a_conversation_searched_for_its_own_question(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("Who made it?")
    assert answer.standalone_question == answer.question == "Who made it?"
    assert answer.to_dict()["standalone_question"] == "Who made it?"


def test_earlier_questions_give_context_without_being_answered_again(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation(["What is BLOOM?"])
    follow = conversation.ask("Who made it?")

    assert follow.standalone_question == "Who made BLOOM?"
    assert "BLOOM: An open-source model" not in follow.text
    assert conversation.history == [("Who made it?", follow)]


@pytest.mark.parametrize(
    ("first", "follow", "standalone", "quote"),
    [
        (
            "What types of LLMs are there?",
            "Who made the second one?",
            "Who made BERT?",
            "BERT: A model by Google",
        ),
        (
            "What are the key features of LLMs?",
            "Tell me more about the last one.",
            "Tell me more about Tokenization.",
            "Text is broken into smaller units",
        ),
    ],
)
def test_the_second_one_is_the_second_item_of_the_answer_before(
    corpus_kb: KnowledgeBase, first: str, follow: str, standalone: str, quote: str
) -> None:
    conversation = corpus_kb.conversation()
    conversation.ask(first)

    answer = conversation.ask(follow)

    assert answer.standalone_question == standalone
    assert answer.answered and quote in answer.text
    # a thread rebuilt from its questions (Discord) answers the earlier one to know its items
    rebuilt = corpus_kb.conversation([first]).ask(follow)
    assert rebuilt.standalone_question == standalone


def test_the_second_one_after_the_overview_is_the_second_article(
    corpus_kb: KnowledgeBase,
) -> None:
    conversation = corpus_kb.conversation()
    overview = conversation.ask("What articles do you have?")
    second = overview.citations[1]

    answer = conversation.ask("Summarize the second one.")

    assert answer.standalone_question == f"Summarize {second.title}."
    assert answer.answered and [c.title for c in answer.citations] == [second.title]
    assert answer.citations[0].source == second.source  # its opening passage, as for a summary


@pytest.mark.asyncio
async def test_aask_is_the_async_twin(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    await conversation.aask("What are the benefits of closed-source models?")
    follow = await conversation.aask("And what are their drawbacks?")

    assert follow.standalone_question == "What are the drawbacks of closed-source models?"
    assert [q for q, _ in conversation.history] == [
        "What are the benefits of closed-source models?",
        "And what are their drawbacks?",
    ]


def test_an_invalid_question_is_rejected_and_not_remembered(corpus_kb: KnowledgeBase) -> None:
    conversation = corpus_kb.conversation()
    with pytest.raises(InvalidQuestionError):
        conversation.ask("   ")
    assert conversation.history == []
