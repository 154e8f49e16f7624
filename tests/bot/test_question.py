"""What a question asks: pure text analysis, no model or store (fast tier)."""

from __future__ import annotations

from bot.question import NUMBER, Question, states
from bot.terms import terms


def _analyse(text: str) -> Question:
    return Question.analyse(text, idf=lambda term: 1.0)


def test_a_sentence_that_names_the_entity_but_not_the_asked_attribute_lacks_it() -> None:
    question = _analyse("How many parameters does GPT-3 have?")

    assert question.kind == "quantity"
    assert question.attributes == {"paramet"}
    cost = set(terms("OpenAI spent hundreds of thousands coaching GPT-3 on cloud infrastructure"))
    assert question.lacks_attribute(cost)
    size = set(terms("GPT-3 has 175 billion parameters"))
    assert not question.lacks_attribute(size)


def test_a_sentence_about_other_names_is_not_about_the_question() -> None:
    question = _analyse("How many parameters does GPT-3 have?")

    assert question.about_other_names(set(terms("DeepMind's 280 billion parameter Gopher")))
    assert not question.about_other_names(set(terms("GPT-3 has 175 billion parameters")))
    assert not _analyse("How big are the largest models?").about_other_names(set())


def test_a_number_inside_a_name_states_no_amount() -> None:
    asked = "What is the context window of GPT-J?"

    assert not states(NUMBER, "GPT-4 surpasses human baselines on SuperGLUE.", asked)
    assert not states(NUMBER, "Trained on A100 GPUs.", asked)
    assert states(NUMBER, "GPT-J reads 2,048 tokens at once.", asked)
    assert states(NUMBER, "LLaMA 7B was fine-tuned.", asked)


def test_who_wins_questions_ask_how_a_contest_ends() -> None:
    assert _analyse("Who wins the debate?").kind == "outcome"
    assert _analyse("Which approach will prevail in the end?").kind == "outcome"
    assert _analyse("Who made BLOOM?").kind == "who"
