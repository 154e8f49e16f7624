"""Asking: grounded answers with citations that hold what the answer says."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot import Answer, InvalidQuestionError, KnowledgeBase
from tests.conftest import CORPUS, GPT_J, make_settings

_SENTENCE_WITH_MARKERS = re.compile(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)")


def _claims(answer: Answer) -> list[tuple[str, list[int]]]:
    """(sentence, [cited numbers]) for every sentence of the answer."""
    return [
        (m.group(1).strip(), [int(n) for n in re.findall(r"\d+", m.group(2))])
        for m in _SENTENCE_WITH_MARKERS.finditer(answer.text)
    ]


def assert_grounded(answer: Answer) -> None:
    """Every sentence has a marker, and the cited passage contains that sentence."""
    assert answer.answered and answer.citations
    claims = _claims(answer)
    assert claims and "".join(s for s, _ in claims)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for sentence, numbers in claims:
        for n in numbers:
            passage = answer.citations[n - 1].text
            assert sentence.rstrip(".") in passage, (sentence, passage)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Why did EleutherAI take GPT-J offline?", "internet hosting prices"),
        ("How big is DeepMind's Gopher model?", "280 billion parameter"),
        ("How much did Anthropic spend on GPUs for ConstitutionalAI?", "$10 million"),
    ],
)
def test_spun_text_questions_are_answered_from_the_third_article(
    corpus_kb: KnowledgeBase, question: str, fact: str
) -> None:
    answer = corpus_kb.ask(question)

    assert_grounded(answer)
    assert fact in answer.text
    assert answer.citations[0].source.endswith(GPT_J)
    assert fact in answer.citations[0].quote


@pytest.mark.parametrize(
    "question",
    [
        "What are the challenges of open-source LLMs?",
        "What is vendor lock-in?",
        "How can companies balance innovation and safety?",
        "What does ONNX allow?",
    ],
)
def test_answers_are_grounded_in_their_citations(corpus_kb: KnowledgeBase, question: str) -> None:
    assert_grounded(corpus_kb.ask(question))


@pytest.mark.parametrize(
    "question",
    [
        "Who won the 2022 World Cup?",
        "How do I bake sourdough bread?",
        "What is the capital of Australia?",
        "¿Quién ganó el mundial de 2022?",
        "🤖🤖🤖",
        "Who founded Cohere?",
        "What is Baidu's annual revenue?",
        "Is ChatGPT open source?",  # nothing can settle it: the corpus never names ChatGPT
        # near misses: the corpus names these models, never what is asked of them
        "How many parameters does GPT-NeoX have?",
        "What learning rate was GPT-J trained with?",
        "When was LLaMA 2 released?",
        "What hardware was GPT-J trained on?",  # the corpus says what GPUs cost Anthropic
        "Which GPUs were used to train BLOOM?",
        "Which GPUs did OpenAI use to train GPT-3?",  # the GPUs named are Anthropic's
        "Where is EleutherAI based?",
        "Who is the CEO of OpenAI?",  # not "OpenAI spent hundreds of thousands…"
        "Who are the founders of EleutherAI?",
        "What are the drawbacks of hybrid models?",  # the corpus lists their features only
        "What are the risks of LLaMA?",
        # "…reinforcing our commitment to openness" names none of it but a word form
        "How does reinforcement learning from human feedback work?",
        # what quantization is, asked within a field: the sentence defining LLMs is no answer
        "What is quantization in LLMs?",
        # the corpus gives no instructions: "…two approaches to building and deploying LLMs"
        # is no way to deploy one
        "How do I deploy an open-source LLM?",
        "How do I get access to GPT-4?",
        "How do I contribute to an open-source LLM?",
        # the corpus speaks of licences, but never of BLOOM's
        "What licence is BLOOM released under?",
        # "Microsoft agreed to multibillion greenback partnerships with OpenAI…" is no price
        "How much does OpenAI charge per token for GPT-4 API access?",
    ],
)
def test_out_of_scope_questions_abstain_honestly(corpus_kb: KnowledgeBase, question: str) -> None:
    answer = corpus_kb.ask(question)

    assert not answer.answered
    assert answer.citations == []
    assert answer.text.startswith("I could not find this in the knowledge base.")
    assert answer.closest  # still points at the nearest articles


def test_empty_and_overlong_questions_get_clear_errors(corpus_kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidQuestionError, match="empty"):
        corpus_kb.ask("   \n ")
    with pytest.raises(InvalidQuestionError, match="limit is 2,000"):
        corpus_kb.ask("why " * 600)


def test_search_ranks_passages_and_filters_by_source(corpus_kb: KnowledgeBase) -> None:
    results = corpus_kb.search("GPT-J hosting costs", k=5)

    assert [c.n for c in results] == [1, 2, 3, 4, 5]
    assert results[0].source.endswith(GPT_J)
    assert "GPT-J" in results[0].text
    assert [c.score for c in results] == sorted((c.score for c in results), reverse=True)
    assert len({c.text for c in results}) == 5

    only = corpus_kb.search("hybrid approach", k=3, source=GPT_J)
    assert only and all(c.source.endswith(GPT_J) for c in only)


def test_asking_for_more_results_never_reorders_the_first_ones(corpus_kb: KnowledgeBase) -> None:
    for query in ("GPT-J hosting costs", "risks of open-source models", "Who built BLOOM?"):
        for source in (None, GPT_J):
            most = [(c.source, c.text) for c in corpus_kb.search(query, k=100, source=source)]
            for k in (1, 3, 10, 40):
                few = corpus_kb.search(query, k=k, source=source)
                assert [(c.source, c.text) for c in few] == most[:k]
    sources = corpus_kb.rank_sources("open models", 3)
    assert corpus_kb.rank_sources("open models", 1) == sources[:1]


@pytest.mark.parametrize(
    "question",
    [
        "Who will win, open or closed source?",
        "Who wins the debate?",
        "Is either side going to win?",  # no word of its own but "go"
        "Does the author think one camp will win outright?",  # "camp", "outright" unknown
        "Which is better, open or closed source LLMs?",  # had quoted how each is funded
    ],
)
def test_who_wins_is_answered_by_the_sentence_that_says_how_it_ends(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    # The dominate article says it three times: "a hybrid model might prevail" (its bottom
    # line), and in its future section "The future likely isn't about one approach
    # dominating the other." and "a hybrid model, or great convergence, might emerge".
    endings = (
        "a hybrid model might prevail",
        "isn't about one approach dominating the other",
        "a hybrid model, or great convergence, might emerge",
    )
    assert answer.answered
    assert any(ending in answer.text for ending in endings)
    assert any(ending in c.quote for c in answer.citations for ending in endings)


@pytest.mark.parametrize("question", ["Which company made BERT?", "Which company developed BERT?"])
def test_who_made_it_is_answered_by_the_maker_without_the_word_company(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "BERT: A model by Google" in answer.citations[0].quote


@pytest.mark.parametrize(
    "question", ["Who is behind the GPT family of models?", "Who makes GPT models?"]
)
def test_who_made_it_is_answered_by_a_possessive_under_the_items_label(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    # "GPT Models: OpenAI’s series of models…": the label names it, the possessive its maker
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "OpenAI’s series of models" in answer.citations[0].quote


def test_a_who_question_about_no_named_thing_is_answered_by_who_does_it(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("Which companies develop closed models internally?")

    assert answer.answered
    assert "Anthropic, DeepMind, and OpenAI develop them internally" in answer.text


def test_a_title_cased_term_is_no_answer_to_who(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Who controls closed-source AI?")

    assert answer.answered
    assert "Large Language Models hinges" not in answer.text  # not a name
    assert "OpenAI" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What are the cons of open-source LLMs?",
        "What are the disadvantages of open source models?",
        "What are the main drawbacks of open-source LLMs?",
    ],
)
def test_the_cons_of_something_are_found_under_its_challenges_heading(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "Risk of Misuse" in answer.text  # an item of the article's open-source "Challenges"
    assert "Lack of Transparency" not in answer.text  # closed-source's list


@pytest.mark.parametrize(
    "question",
    [
        "What are examples of open source LLMs?",
        "Which models are examples of open source LLMs?",
        # "some" is how the question asks, not what it asks about: it had found
        # "Some companies are exploring hybrid approaches…"
        "What are some examples of open-source LLMs?",
        "give me some examples of open source llms",
    ],
)
def test_a_list_headed_as_examples_of_something_else_is_no_answer(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "GPT-NeoX" in answer.text  # "Main examples embrace …" (the spun article)
    assert "Partially Open Models" not in answer.text  # "Examples of Hybrid Approaches"
    assert_grounded(answer)


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("What are GPT models known for?", "GPT Models: OpenAI’s series of models"),
        ("What is GPT?", "GPT Models: OpenAI’s series of models"),  # not GPT-4's benchmark
        ("What is Meta's LLaMA?", "Meta’s LLaMA: A partially open-source model"),
        ("Why are closed-source models more secure?", "Security: By restricting access"),
        # a list question, but it names the item outright: not the "Challenges" of closed
        # models its added words ("challenges, drawbacks, risks") rank first
        ("What are the ethical concerns with closed models?", "Ethical Concerns: Concentrated"),
    ],
)
def test_a_question_that_names_a_list_item_is_answered_by_that_item(
    corpus_kb: KnowledgeBase, question: str, item: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert answer.text.startswith(item)
    assert "BERT" not in answer.text  # the next item of "Types of LLMs" is not asked for
    assert_grounded(answer)


@pytest.mark.parametrize("question", ["Tell me about GPT-J", "GPT-J?"])
def test_an_item_labelled_with_a_shorter_name_is_not_the_one_asked_about(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert not answer.text.startswith("GPT Models")  # GPT-J is not GPT
    assert "internet hosting prices" in answer.text


@pytest.mark.parametrize("question", ["What are LLMs?", "what are llms"])
def test_what_are_llms_is_answered_by_what_they_are_not_a_list(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    definitions = ("Large Language Models, or LLMs, are", "In simpler terms, LLMs are like")
    assert answer.text.startswith(definitions)
    assert "Cutting-Edge Performance" not in answer.text


@pytest.mark.parametrize(
    ("question", "start"),
    [
        ("What are hybrid models?", "Some companies are exploring hybrid approaches"),
        ("What is BLOOM?", "BLOOM: An open-source model"),  # its own item says what it is
        ("What is the black box problem?", "Black Box Approach: Lack of transparency"),
    ],
)
def test_what_a_thing_is_is_answered_by_a_sentence_about_it_not_one_of_its_features(
    corpus_kb: KnowledgeBase, question: str, start: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert answer.text.startswith(start)


def test_a_sentence_about_the_other_side_only_is_never_quoted(corpus_kb: KnowledgeBase) -> None:
    # The FAQ sentence sits under a heading that names both sides, but speaks of open models.
    answer = corpus_kb.ask("What is the main risk of closed-source LLMs?")

    assert answer.answered
    assert "Open-source LLMs are accessible to all" not in answer.text
    assert "Monopoly Risks" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What are the pros and cons of open-source LLMs?",
        "What are the strengths and weaknesses of open source?",
        "pros and cons of open source llms",
    ],
)
def test_pros_and_cons_are_answered_with_both_lists_under_their_headings(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    lines = answer.text.splitlines()
    headings = [line for line in lines if not line.startswith("- ")]
    assert len(headings) == 2 and all(h.endswith(":") for h in headings)  # pros, then cons
    pros, cons = answer.text.split(headings[1])
    assert "Full Transparency" in pros or "Transparency" in pros
    assert "Risk of Misuse" in cons or "Resource" in cons
    assert "Lack of Transparency" not in answer.text  # closed-source's list
    assert_grounded(answer)


@pytest.mark.parametrize(
    "question",
    [
        "open source vs closed source",
        "How does open source compare with closed source?",
        "What is the difference between open and closed LLMs?",
        "open vs closed llms",
    ],
)
def test_a_comparison_is_answered_by_how_the_two_differ(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "Open-source LLMs are accessible to all" in answer.text
    assert "Closed-source LLMs offer polished experiences" in answer.text
    assert answer.question == question  # the user's words, though searched as "…differences…"


def test_why_choose_something_is_answered_by_its_advantages(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Why would a company choose closed source?")

    assert answer.answered
    advantages = ("Polished Experience", "Security", "Reliable Support", "Profitability")
    assert any(item in answer.text for item in advantages)
    assert "Lack of Transparency" not in answer.text and "High Costs" not in answer.text


def test_what_it_cost_is_answered_by_what_was_spent(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("How much did it cost to train GPT-3?")

    assert answer.answered
    assert "OpenAI spent hundreds of thousands coaching GPT-3" in answer.citations[0].quote


@pytest.mark.parametrize(
    "question",
    ["How much does it cost to use closed-source models?", "How expensive are closed models?"],
)
def test_what_something_costs_is_answered_in_words_when_no_article_gives_a_figure(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "Subscription fees" in answer.text or "Can be expensive" in answer.text


@pytest.mark.parametrize(
    "question", ["What were GPT-J's hosting costs?", "How expensive was hosting GPT-J?"]
)
def test_hosting_costs_are_answered_by_the_spun_internet_hosting_prices(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)  # no figure: the article says the prices exploded

    assert answer.answered
    assert "exploding internet hosting prices" in answer.citations[0].quote


def test_a_question_in_other_words_finds_the_spun_sentence(corpus_kb: KnowledgeBase) -> None:
    # "benchmark" meets "measuring … efficiency" only by meaning (word vectors)
    answer = corpus_kb.ask("Why is it hard to benchmark open-source models?")

    assert answer.answered
    assert "measuring open supply LLM efficiency introduces challenges" in answer.text


def test_the_cons_of_proprietary_models_are_the_closed_source_challenges(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("What are the downsides of proprietary models?")

    assert answer.answered  # "proprietary" is never in the list, "Closed-Source" heads it
    assert "Lack of Transparency" in answer.text
    assert "Risk of Misuse" not in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "What are the benefits of community-built models?",
        "What are the upsides of openly available LLMs?",
    ],
)
def test_the_pros_of_open_models_named_in_other_words_are_the_open_source_ones(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert "Community-Driven" in answer.text or "Customization" in answer.text
    assert "Polished Experience" not in answer.text and "Cutting-Edge" not in answer.text


def test_the_arguments_for_something_are_its_advantages(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("What are the main arguments for open-source LLMs?")

    assert answer.answered and "Full Transparency" in answer.text


def test_why_avoid_something_is_answered_by_one_of_its_drawbacks(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("Why would someone avoid proprietary AI?")

    assert answer.answered
    closed_cons = ("Lack of Transparency", "High Costs", "Monopoly Risks", "Black Box", "Vendor")
    assert any(item in answer.text for item in closed_cons)


def test_which_models_are_open_source_is_answered_by_named_models(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("Which models are open source?")

    assert answer.answered
    assert any(name in answer.text for name in ("LLaMA", "BLOOM", "GPT-NeoX"))
    assert "Accessibility: Open-source models democratize AI" not in answer.text


@pytest.mark.parametrize(
    ("question", "first", "second"),
    [
        ("What is the difference between BERT and GPT?", "BERT: A model by Google", "GPT Models"),
        ("How does LLaMA differ from BLOOM?", "BLOOM: An open-source model", "Meta’s LLaMA"),
    ],
)
def test_a_comparison_of_two_named_things_quotes_a_sentence_about_each(
    corpus_kb: KnowledgeBase, question: str, first: str, second: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert first in answer.text and second in answer.text


def test_the_hardware_a_sentence_names_is_of_the_model_its_clause_names(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("What GPU did Anthropic use?")

    assert answer.answered and "price of GPUs for ConstitutionalAI" in answer.text


@pytest.mark.parametrize(
    ("question", "quote"),
    [
        # what a section says is answered from under its heading
        ("What does the conclusion say?", "hinges on finding a balance"),
        ("What does the bottom line say?", "a hybrid model might prevail"),
        # a charge is what a sentence says something costs: "cost for entry"
        ("What does Cohere charge for?", "Cohere cost for entry"),
        # "make you pay" has you do something (no maker asked), and "pay" is asked in the
        # corpus's word for it ("cost")
        (
            "Which companies make you pay to use ConstitutionalAI and Cohere-512?",
            "Cohere cost for entry to ConstitutionalAI and Cohere-512",
        ),
        # "spend" (a word the corpus never uses) is asked as "spent"; not Microsoft's deals
        ("How much did OpenAI spend training GPT-3?", "OpenAI spent hundreds of thousands"),
        # a word in lower case is no acronym to spell out (it was refused at 0.0)
        ("What does tokenization mean for LLMs?", "Text is broken into smaller units"),
        # not "LLMs are trained on diverse datasets…", of LLMs in general
        (
            "Do open-source LLMs ever share the data they were trained on?",
            "sometimes even the data used to train them",
        ),
    ],
)
def test_a_question_is_answered_by_the_sentence_that_says_it_in_other_words(
    corpus_kb: KnowledgeBase, question: str, quote: str
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered and quote in answer.text


def test_who_backs_closed_models_is_answered_by_a_sentence_that_says_who(
    corpus_kb: KnowledgeBase,
) -> None:
    """It had been refused: "big tech companies" names no one. Since the question adapter
    (2026-11-28) the sentence model prefers the named backer, an instance of the same."""
    answer = corpus_kb.ask("Who backs closed-source models?")

    backers = ("backed by big tech companies", "Microsoft agreed to multibillion greenback")
    assert answer.answered and any(backer in answer.text for backer in backers)


@pytest.mark.parametrize(
    ("question", "items"),
    [
        ("What are the weak points of closed models?", ("Lack of Transparency",)),
        ("What are the strong points of open-source LLMs?", ("Full Transparency",)),
        # two articles list closed models' advantages: either list answers it
        (
            "Give me the main selling points of proprietary LLMs.",
            ("Cutting-Edge Performance", "Polished Experience"),
        ),
    ],
)
def test_strong_and_weak_points_are_pros_and_cons(
    corpus_kb: KnowledgeBase, question: str, items: tuple[str, ...]
) -> None:
    answer = corpus_kb.ask(question)

    assert answer.answered and any(item in answer.text for item in items)


@pytest.mark.parametrize(
    "question",
    ["What kinds of LLMs are there?", "Name three types of LLMs.", "Which kinds of LLMs exist?"],
)
def test_the_kinds_of_something_are_the_list_headed_with_them(
    corpus_kb: KnowledgeBase, question: str
) -> None:
    answer = corpus_kb.ask(question)  # "Types of LLMs": items that never say "type"

    assert answer.answered
    assert all(name in answer.text for name in ("GPT Models:", "BERT:", "BLOOM:", "T5:"))


@pytest.mark.parametrize(
    "question", ["What are the advantages of LLMs?", "What are the benefits of LLMs?"]
)
def test_the_list_a_question_names_by_its_heading_is_read_though_it_ranks_below_ten(
    corpus_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, question: str
) -> None:
    # "Advantages of LLMs" ranks below the ten passages read (its items never say
    # "advantage"); it is read anyway, from the same store call, and quoted
    answer = corpus_kb.ask(question)

    assert answer.answered
    assert all(item in answer.text for item in ("Versatility:", "Efficiency:", "Scalability:"))
    assert "Full Transparency" not in answer.text  # the perks of open-source LLMs only
    asked, _, _ = _round_trips(corpus_kb, monkeypatch, question)
    assert [c.split(".")[-1] for c in asked] == ["query", "get", "get"], asked


def test_an_answer_quoting_only_items_of_one_list_quotes_the_whole_list(
    corpus_kb: KnowledgeBase,
) -> None:
    # not asked as a list, but its three best sentences are three of four recommendations:
    # cut at three sentences, the answer would leave one out without saying so
    answer = corpus_kb.ask("What should developers do to prepare for the future of LLMs?")

    assert answer.answered
    for item in ("Skill Up:", "Stay Flexible:", "Embrace Ethics:", "Adapt to Change:"):
        assert item in answer.text
    assert len(answer.citations) == 1


def test_a_few_items_the_answer_chose_from_a_list_are_not_widened_to_the_list(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("How do closed models make money?")

    # either sentence that says how (near-tied since the eighteenth session's refit)
    assert answer.answered
    assert "Profitability:" in answer.text or "as paid services" in answer.text
    assert "Reliable Support:" not in answer.text  # another perk, not how they make money


def test_what_something_excels_at_is_the_sentence_saying_so_not_its_advantages(
    corpus_kb: KnowledgeBase,
) -> None:
    answer = corpus_kb.ask("What tasks do closed models excel at?")

    assert answer.answered
    assert "excel at broadly relevant pure language duties" in answer.text
    assert "Cutting-Edge Performance" not in answer.text


def test_what_something_is_about_is_a_sentence_saying_so(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("What is the debate about?")

    assert answer.answered and "it’s about innovation, accessibility" in answer.text
    assert "Let’s" not in answer.text  # "Let’s delve into the arguments for each." says nothing


@pytest.mark.parametrize(
    ("question", "drawback"),
    [
        ("How can the drawbacks of closed models be overcome?", "Vendor Lock-In"),
        ("What can address the challenges of open-source LLMs?", "Resource Demands"),
        ("How can the risks of open-source LLMs be mitigated?", "but risk misuse"),
    ],
)
def test_a_remedy_for_drawbacks_is_not_answered_by_the_drawbacks(
    corpus_kb: KnowledgeBase, question: str, drawback: str
) -> None:
    answer = corpus_kb.ask(question)

    assert drawback not in answer.text


def test_how_much_money_is_answered_by_an_amount_in_words(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("How much money did Microsoft put into OpenAI?")

    assert answer.answered and "multibillion greenback partnerships" in answer.text


def test_a_polite_request_for_a_list_gets_the_list(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("Can you name a few well-known large language models?")

    assert answer.answered
    assert all(name in answer.text for name in ("GPT Models:", "BERT:", "BLOOM:", "T5:"))


def test_what_an_acronym_stands_for_is_answered_only_by_its_long_form(
    corpus_kb: KnowledgeBase,
) -> None:
    llm = corpus_kb.ask("What does LLM stand for?")
    assert llm.answered and "Large Language Models" in llm.text

    assert not corpus_kb.ask("What does ONNX stand for?").answered  # named, never spelled out


def test_a_sentence_that_asks_answers_only_a_question_about_what_was_asked(
    corpus_kb: KnowledgeBase,
) -> None:
    win = corpus_kb.ask("Will open-source LLMs win?")
    assert win.answered and "?" not in win.text  # not "…will open-source LLMs … lead the way?"
    assert "might prevail" in win.text or "one approach dominating" in win.text

    asked = corpus_kb.ask("What is the crucial question about open and closed LLMs?")
    assert asked.answered and "a crucial question remains" in asked.text


def test_source_filter_applies_to_ask(corpus_kb: KnowledgeBase) -> None:
    answer = corpus_kb.ask("What is a hybrid approach?", source=GPT_J)
    assert all(c.source.endswith(GPT_J) for c in answer.citations)


def test_as_retriever_works_in_a_langchain_runnable(corpus_kb: KnowledgeBase) -> None:
    from langchain_core.runnables import RunnableLambda

    chain = corpus_kb.as_retriever(k=2) | RunnableLambda(
        lambda docs: [(d.metadata["n"], d.metadata["title"], d.page_content) for d in docs]
    )

    rows = chain.invoke("Why was GPT-J taken down?")

    assert [n for n, _, _ in rows] == [1, 2]
    assert "GPT-J" in rows[0][2]


@pytest.mark.asyncio
async def test_aask_answers_concurrently(corpus_kb: KnowledgeBase) -> None:
    import asyncio

    questions = [
        "How big is DeepMind's Gopher model?",
        "What is vendor lock-in?",
        "Why did EleutherAI take GPT-J offline?",
        "What is BLOOM?",
    ] * 2
    alone = {q: corpus_kb.ask(q) for q in questions}

    together = await asyncio.gather(*(corpus_kb.aask(q) for q in questions))

    # Answers computed at the same time on worker threads are the ones asked alone.
    assert [(a.text, a.answered) for a in together] == [
        (alone[q].text, alone[q].answered) for q in questions
    ]
    assert sum(a.answered for a in together) >= 6


def test_an_empty_knowledge_base_ingests_the_bundled_corpus_on_first_use(settings) -> None:  # type: ignore[no-untyped-def]
    kb = KnowledgeBase(settings=settings)
    assert kb.passage_count() == 0

    answer = kb.ask("Why did EleutherAI take GPT-J offline?")

    assert answer.answered
    assert len(kb.sources()) == 3


def _count_collection_calls(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    """Record every call on any Chroma collection (the store's round trips), by name."""
    from chromadb.api.models.Collection import Collection

    for method in ("get", "query", "count", "upsert", "delete", "add", "peek"):
        original = getattr(Collection, method)

        def counted(
            self: Collection,
            *args: Any,
            _method: str = method,
            _original: Any = original,
            **kwargs: Any,
        ) -> Any:
            calls.append(f"{self.name}.{_method}")
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, method, counted)


def _round_trips(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, question: str
) -> tuple[list[str], list[str], list[str]]:
    """Chroma calls of a warm ``ask``, then of a ``search``, and every HTTP request to a
    Chroma server among them (none in embedded mode)."""
    from chromadb.api.fastapi import FastAPI

    assert kb.ask(question).answered  # warm: the lexical index is current
    calls: list[str] = []
    requests: list[str] = []
    original = FastAPI._make_request

    def request(self: FastAPI, method: str, path: str, **kwargs: Any) -> Any:
        requests.append(f"{method} {path}")
        return original(self, method, path, **kwargs)

    with monkeypatch.context() as patch:
        _count_collection_calls(patch, calls)
        patch.setattr(FastAPI, "_make_request", request)
        answer = kb.ask(question)
        asked = list(calls)
        calls.clear()
        kb.search(question, k=5)
    assert answer.answered
    return asked, calls, requests


def test_an_answer_takes_three_store_round_trips(
    corpus_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The nearest chunks (ids and distances only), the passages read, and their
    # sentence vectors. The revision is not read: the lock file says nobody wrote
    # since the last ask. Lexical-only candidates are scored with the vectors the
    # lexical index keeps; source URLs come with it too.
    asked, searched, requests = _round_trips(
        corpus_kb, monkeypatch, "Why did EleutherAI take GPT-J offline?"
    )

    assert [c.split(".")[-1] for c in asked] == ["query", "get", "get"], asked
    assert asked[-1].endswith("-sentences.get"), asked
    assert [c.split(".")[-1] for c in searched] == ["query", "get"], searched
    assert requests == []


def test_an_answer_that_needs_an_article_opening_reads_it_with_the_passages(
    corpus_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The yes/no rule needs what each article's opening passage is about; the
    # openings come in the same call as the passages, not in a fourth one.
    from ingest.store import ChromaStore

    read_alone: list[Sequence[str]] = []
    original = ChromaStore.openings

    def openings(self: ChromaStore, source_ids: Sequence[str]) -> Any:
        read_alone.append(source_ids)
        return original(self, source_ids)

    monkeypatch.setattr(ChromaStore, "openings", openings)
    asked, _, _ = _round_trips(corpus_kb, monkeypatch, "Are closed-source LLMs transparent?")

    assert [c.split(".")[-1] for c in asked] == ["query", "get", "get"], asked
    assert read_alone == []


def test_a_server_mode_answer_takes_three_http_requests(
    tmp_path: Path, model_cache: Path, chroma_server: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server has no lock file to say nothing changed, so the revision comes with
    # the sentence vectors (the answer's last read) and is checked afterwards. A
    # search, which reads no sentence vectors, reads it first.
    settings = make_settings(
        tmp_path / "kb", model_cache, chroma_host="127.0.0.1", chroma_port=chroma_server
    )
    kb = KnowledgeBase(settings=settings)
    assert kb.ingest([CORPUS]).ok

    asked, searched, requests = _round_trips(
        kb, monkeypatch, "Why did EleutherAI take GPT-J offline?"
    )

    assert [c.split(".")[-1] for c in asked] == ["query", "get", "get"], asked
    assert asked[-1].endswith("-sentences.get"), asked
    assert [c.split(".")[-1] for c in searched] == ["get", "query", "get"], searched
    assert searched[0].endswith("-sentences.get"), searched
    assert len(requests) == len(asked) + len(searched), requests
    # an answer that needs its articles' openings reads them with the passages here too
    asked, _, requests = _round_trips(kb, monkeypatch, "Are closed-source LLMs transparent?")
    assert [c.split(".")[-1] for c in asked] == ["query", "get", "get"], asked
