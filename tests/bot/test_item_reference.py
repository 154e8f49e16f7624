"""Follow-ups that point at an item of the previous answer's list ("the second one")."""

from __future__ import annotations

import pytest

from bot.item_reference import (
    list_items,
    points_at_an_item,
    with_item_named,
    with_items_to_pick_from,
)
from bot.results import Answer

FEATURES = Answer(
    "What are the key features of LLMs?",
    "- Training on Data: LLMs are trained on diverse datasets. [1]\n"
    "- Transformer Architecture: LLMs rely on transformers. [1]\n"
    "- Text is broken into tokens. [2]",
    True,
)


def test_the_items_of_a_list_answer_are_read_from_its_text() -> None:
    assert list_items(FEATURES) == [
        "Training on Data: LLMs are trained on diverse datasets.",
        "Transformer Architecture: LLMs rely on transformers.",
        "Text is broken into tokens.",
    ]
    assert list_items(Answer("q", "BLOOM is open. [1]", True)) == []
    assert list_items(Answer("q", "- I could not find this. [1]", False)) == []


@pytest.mark.parametrize(
    ("question", "resolved"),
    [
        ("Tell me more about the second one.", "Tell me more about Transformer Architecture."),
        ("What is the first feature?", "What is Training on Data?"),
        ("Why does the 1st point matter?", "Why does Training on Data matter?"),
        # an item without a label is named by itself
        ("Explain the last one.", "Explain Text is broken into tokens."),
        ("Explain the third of them.", "Explain Text is broken into tokens."),
        # each reference is named
        (
            "Is the first one harder than the second one?",
            "Is Training on Data harder than Transformer Architecture?",
        ),
    ],
)
def test_an_item_pointed_at_by_rank_is_named(question: str, resolved: str) -> None:
    assert points_at_an_item(question)
    assert with_item_named(question, FEATURES) == resolved


@pytest.mark.parametrize(
    "question",
    [
        "What is the fifth one?",  # the list has three items
        "When was it released for the first time?",  # "time": no word of the earlier question
        "What happened in the second half?",
        "Who made it?",
    ],
)
def test_a_question_pointing_at_no_item_of_the_list_is_left_alone(question: str) -> None:
    assert with_item_named(question, FEATURES) == question


def test_nothing_is_named_without_a_list_before() -> None:
    prose = Answer("What is BLOOM?", "BLOOM is an open model. [1]", True)
    assert with_item_named("Who made the second one?", prose) == "Who made the second one?"
    assert with_item_named("Who made the second one?", None) == "Who made the second one?"


def test_the_articles_an_overview_names_are_its_items() -> None:
    overview = Answer(
        "What articles do you have?",
        "I answer questions from the 2 articles: “Cats: A Study” [1]; “Dogs” [2].",
        True,
    )
    assert list_items(overview) == ["Cats: A Study", "Dogs"]
    # a title is named whole, though it has a colon
    assert with_item_named("Summarize the first one.", overview) == "Summarize Cats: A Study."


@pytest.mark.parametrize(
    ("question", "resolved"),
    [
        (
            "Which one is the hardest?",
            "Which is the hardest? (Training on Data, Transformer Architecture, "
            "Text is broken into tokens)",
        ),
        (
            "which of them matters most",
            "Which matters most? (Training on Data, "
            "Transformer Architecture, Text is broken into tokens)",
        ),
    ],
)
def test_which_one_is_asked_of_the_items_of_the_list_before(question: str, resolved: str) -> None:
    assert with_items_to_pick_from(question, FEATURES) == resolved


def test_which_one_without_a_list_before_is_left_alone() -> None:
    prose = Answer("What is BLOOM?", "BLOOM is an open model. [1]", True)
    assert with_items_to_pick_from("Which one is open?", prose) == "Which one is open?"
    assert with_items_to_pick_from("Which models are open?", FEATURES) == "Which models are open?"
