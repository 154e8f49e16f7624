"""Rewriting follow-ups into standalone questions: pure string work, no model."""

from __future__ import annotations

import pytest

from bot import Answer, Citation
from bot.followup import frame, is_elliptical, key_terms, repeats_earlier, standalone

BLOOM = "What is BLOOM?"
BENEFITS = "What are the benefits of closed-source models?"
LLAMA_LICENCE = "What licence does Llama 2 use?"
GOPHER = "How big is DeepMind's Gopher model?"
GPT_J = "Why did EleutherAI take GPT-J offline?"


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # pronouns take the earlier subject
        ([BLOOM], "Who made it?", "Who made BLOOM?"),
        ([BLOOM], "Is it open source?", "Is BLOOM open source?"),
        ([BLOOM], "who made it", "Who made BLOOM"),
        (
            [GOPHER],
            "How many parameters does it have?",
            "How many parameters does DeepMind's Gopher model have?",
        ),
        ([GPT_J], "Who made it?", "Who made GPT-J?"),  # the thing, not the organisation
        # "they" are the named plural, not the one singular name the question ends with
        (
            ["What new Vicuna models did LMSYS introduce with the MT-Bench leaderboard update?"],
            "What sizes do they come in?",
            "What sizes do new Vicuna models come in?",
        ),
        (
            ["What is open-source AI?"],
            "What are the risks of them?",
            "What are the risks of open-source AI?",
        ),
        ([BENEFITS], "Tell me more about them", "Tell me more about closed-source models"),
        (["What are open-source LLMs?"], "What do these cost?", "What do open-source LLMs cost?"),
        ([GPT_J], "Why is that?", "Why is GPT-J?"),
        # possessives: "their drawbacks" -> "the drawbacks of <subject>"
        (
            [BENEFITS],
            "And what are their drawbacks?",
            "What are the drawbacks of closed-source models?",
        ),
        ([BLOOM], "What are its drawbacks?", "What are the drawbacks of BLOOM?"),
        (
            ["How do closed-source models make money?"],
            "Who funded their training?",
            "Who funded the training of closed-source models?",
        ),
        # what one does to problems is done to the problems asked about, not the subject
        (
            ["What are the risks of open-source LLMs?"],
            "How can they be mitigated?",
            "How can the risks of open-source LLMs be mitigated?",
        ),
        (
            ["What are the benefits of hybrid models?"],
            "How do they restrict access?",
            "How do hybrid models restrict access?",
        ),
        # a demonstrative with a generic noun stands for the subject
        ([BLOOM], "Who made this model?", "Who made BLOOM?"),
        # "what about X": the earlier question, asked about X
        ([LLAMA_LICENCE], "What about Falcon?", "What licence does Falcon use?"),
        # the same asked of another name: only the name inside the subject changes
        (
            ["What share of PaLM 2's battles were lost to chatbots outside the top four?"],
            "What's the equivalent figure for GPT-3.5-turbo?",
            "What share of GPT-3.5-turbo's battles were lost to chatbots outside the top four?",
        ),
        ([LLAMA_LICENCE], "And the same for Falcon?", "What licence does Falcon use?"),
        ([LLAMA_LICENCE], "And for Falcon?", "What licence does Falcon use?"),
        ([LLAMA_LICENCE], "And what about Falcon?", "What licence does Falcon use?"),
        ([LLAMA_LICENCE], "how about Falcon", "What licence does Falcon use?"),
        ([LLAMA_LICENCE], "And Falcon?", "What licence does Falcon use?"),
        ([GOPHER], "How about GPT-4?", "How big is GPT-4?"),
        (
            [BENEFITS],
            "What about open-source models?",
            "What are the benefits of open-source models?",
        ),
        (
            ["What are the risks of open-source LLMs?"],
            "And what about closed ones?",
            "What are the risks of closed LLMs?",
        ),
        # ... or X names the other side of the debate: the side is swapped
        (
            ["What are the perks of open-source LLMs?"],
            "What about closed-source?",
            "What are the perks of closed-source LLMs?",
        ),
        (
            ["What are the risks of open-source LLMs?", "How can they be mitigated?"],
            "And for closed-source?",
            "How can the risks of closed-source LLMs be mitigated?",
        ),
        (
            ["What are the perks of open-source LLMs?"],
            "And proprietary models?",
            "What are the perks of proprietary models?",
        ),
        # ... or X replaces what was asked about the subject
        (
            [BENEFITS],
            "What about the drawbacks?",
            "What are the drawbacks of closed-source models?",
        ),
        ([BENEFITS], "And the drawbacks?", "What are the drawbacks of closed-source models?"),
        (
            [BENEFITS],
            "What about their drawbacks?",
            "What are the drawbacks of closed-source models?",
        ),
        ([BLOOM], "What about its licence?", "What about the licence of BLOOM?"),
        # a name after "in", "at", "from"… is where or when, not what is talked about
        (
            ["How many battles has PaLM 2 fought in Chatbot Arena so far?"],
            "And what's its overall rank?",
            "What's the overall rank of PaLM 2?",
        ),
        (
            ["What is the Open QA category in databricks-dolly-15k?"],
            "Does it come with a reference text?",
            "Does Open QA come with a reference text?",
        ),
        ([BLOOM], "What about training data?", "What about training data of BLOOM?"),
        # no subject of its own
        (["Did EleutherAI take GPT-J offline?"], "Why?", "Why did EleutherAI take GPT-J offline?"),
        (["When was GPT-J taken offline?"], "Why?", "Why was GPT-J taken offline?"),
        (["What do closed-source LLMs charge for?"], "Why?", "Why do closed-source LLMs charge?"),
        # not "Why did … do": why, of what the earlier question is about
        (["What did EleutherAI do with GPT-J?"], "Why?", "Why (EleutherAI, GPT-J)?"),
        # not only its subject: why those companies charge for access
        (
            ["Which companies charge for access to their LLMs?"],
            "Why?",
            "Why (companies charge, access, LLMs)?",
        ),
        (
            ["Did EleutherAI take GPT-J offline?"],
            "How come?",
            "Why did EleutherAI take GPT-J offline?",
        ),
        ([BENEFITS], "Which one is better?", "Which one is better (closed-source models)?"),
        # "With whom?" asks the earlier question again, with whom; "Why?" after it, why
        (["What did Microsoft agree to?"], "With whom?", "With whom did Microsoft agree?"),
        (
            ["What did Microsoft agree to?", "With whom?"],
            "Why?",
            "Why did Microsoft agree?",
        ),
        # a question word and a noun: asked of the earlier subject, which a chain keeps
        (["What is Gopher?"], "How many parameters?", "How many parameters? (Gopher)"),
        (["What is Gopher?", "How many parameters?"], "Who built it?", "Who built Gopher?"),
        (["What is Gopher?"], "What's tokenization?", "What's tokenization?"),
        # "who" and its verb are not what the talk is about
        (
            ["Who backs closed-source models?"],
            "Why do they keep them private?",
            "Why do closed-source models keep them private?",
        ),
        # one of the things asked about before
        (
            ["What kinds of LLMs are there?"],
            "Which one is open source?",
            "Which one is open source? (LLMs)",
        ),
        # "mentioned" is said of the article: the types are of LLMs
        (
            ["Can you list the types of LLMs mentioned?"],
            "Which one is open source?",
            "Which one is open source? (LLMs)",
        ),
        ([BLOOM], "Any drawbacks?", "What about drawbacks of BLOOM?"),
        # pros or cons of nothing named are those of the earlier subject
        (
            ["Tell me about open-source LLMs."],
            "What are the challenges?",
            "What are the challenges of open-source LLMs?",
        ),
        # the subject is who the talk is about, not the GPUs it mentions; one pronoun each
        (
            ["Who is Anthropic?", "What did they spend on GPUs?"],
            "What did they build with it?",
            "What did Anthropic build with it?",
        ),
        # a noun phrase alone asks it of the earlier subject
        (
            ["What are the perks of open-source LLMs?"],
            "Any downsides?",
            "What are the downsides of open-source LLMs?",
        ),
        # chains keep the subject; the latest subject wins
        ([BLOOM, "Who made it?"], "When was it released?", "When was BLOOM released?"),
        (
            [BLOOM, "Who made it?", "And what about Falcon?"],
            "Is it open source?",
            "Is Falcon open source?",
        ),
        ([BLOOM, GPT_J], "Who made it?", "Who made GPT-J?"),
        ([BLOOM, "Thanks!"], "Who made it?", "Who made BLOOM?"),
        # a name given as an example is not the subject, and a plural pronoun after a
        # singular name ("the LMSYS study") points back
        (
            ["What biases can LLM judges like GPT-4 have?"],
            "And how did the LMSYS study try to mitigate them?",
            "How did the LMSYS study try to mitigate biases?",
        ),
        (
            ["What new Vicuna models did LMSYS introduce?"],
            "Did the Vicuna team release them?",
            "Did the Vicuna team release new Vicuna models?",
        ),
        # ... but not after two names of its own
        (
            [BLOOM],
            "What are GPT-J and GPT-NeoX and why are they popular?",
            "What are GPT-J and GPT-NeoX and why are they popular?",
        ),
    ],
)
def test_follow_ups_become_standalone(history: list[str], question: str, expected: str) -> None:
    assert standalone(question, history) == expected


ALPACA = "How did Alpaca compare with text-davinci-003 in the blind pairwise comparison?"


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        # a demonstrative with a noun of its own: keep the words, carry the key terms
        (
            [ALPACA],
            "Who carried out that evaluation?",
            "Who carried out that evaluation? (Alpaca, text-davinci-003, blind pairwise comparison)",
        ),
        (
            ["Which companies charge for access to their LLMs?"],
            "What's the risk of doing that?",
            "What's the risk of doing that? (companies charge, access, LLMs)",
        ),
        # "per category": a phrase the follow-up already says is not carried again
        (
            ["What question categories did the Vicuna evaluation use?"],
            "How many questions per category?",
            "How many questions per category? (Vicuna evaluation)",
        ),
        # "ones" after a modifier stands for the earlier noun phrase
        (
            ["How are large language models built?"],
            "Can you name a few well-known ones?",
            "Can you name a few well-known large language models?",
        ),
        # two names: "their" is ambiguous, so nothing is spliced in
        (
            ["How do OpenRAILs differ from RAILs?"],
            "Give some examples of the risky situations their restrictions target.",
            "Give some examples of the risky situations their restrictions target. "
            "(OpenRAILs differ, RAILs)",
        ),
        # choosing between the two things compared before
        (
            ["How is BLOOM different from BERT?"],
            "Which one is open source?",
            "Which one is open source? (BLOOM, BERT)",
        ),
        # a subject that is a clause ("companies build closed models") replaces no pronoun
        (
            ["Which companies build closed models?"],
            "What do they charge?",
            "What do they charge? (companies build closed models)",
        ),
        (
            ["What large language models exist?"],
            "Who makes them?",
            "Who makes them? (language models exist)",
        ),
        # ... or between the subjects of the two latest questions
        (
            ["What is BERT?", "And GPT?"],
            "Which one is open source?",
            "Which one is open source? (BERT, GPT)",
        ),
        (
            ["What is BLOOM?", "Who made it?"],
            "Which one is bigger?",
            "Which one is bigger (BLOOM)?",
        ),
        # "what about" with a clause of its own is not spliced into the earlier question
        (
            ["Is there a standard for mixing parts of open and closed models?"],
            "What about common groundwork that makes results easier to replicate?",
            "What about common groundwork that makes results easier to replicate? "
            "(standard, mixing parts, open and closed models)",
        ),
        # "that" as a pronoun for what was done ("change that later"), not a relative clause
        (
            ["How did LMSYS pair up models when the Chatbot Arena tournament first started?"],
            "And why did they change that later?",
            "Why did Chatbot Arena change that later? (LMSYS pair up models)",
        ),
        # "that approach" is how it was done, unless the subject is itself an approach
        (
            ["How did LMSYS evaluate Vicuna when they launched it?"],
            "What was the drawback of that approach?",
            "What was the drawback of that approach? (LMSYS evaluate, Vicuna)",
        ),
        (
            ["What is the hybrid approach?"],
            "What are the drawbacks of this approach?",
            "What are the drawbacks of hybrid approach?",
        ),
        # "and ..." without a subject of its own
        (
            ["What is Alpaca?", "How well did it do against OpenAI's model?"],
            "And which people did the rating by hand?",
            "Which people did the rating by hand? (Alpaca, OpenAI's model)",
        ),
        # nothing named, nothing the earlier question did not say: more about what it said
        (
            ["Which models power many software products, according to the Cookbook?"],
            "What kinds of products?",
            "What kinds of products? (models power, Cookbook)",
        ),
    ],
)
def test_elliptical_follow_ups_carry_the_earlier_key_terms(
    history: list[str], question: str, expected: str
) -> None:
    assert standalone(question, history) == expected


def test_key_terms_are_names_and_noun_phrases() -> None:
    assert key_terms(ALPACA) == ["Alpaca", "text-davinci-003", "blind pairwise comparison"]
    assert key_terms("How are large language models built?") == ["large language models"]
    assert key_terms("Do Anthropic and Cohere make people pay?")[0] == "Anthropic and Cohere"


@pytest.mark.parametrize(
    ("history", "question"),
    [
        ([ALPACA], "Who made BLOOM?"),
        ([ALPACA], "What is the model that Meta released?"),
        ([ALPACA], "Is it true that Meta released LLaMA?"),
        ([ALPACA], "What are the drawbacks of open-source models?"),
    ],
)
def test_a_follow_up_with_its_own_subject_carries_nothing(
    history: list[str], question: str
) -> None:
    assert standalone(question, history) == question


@pytest.mark.parametrize(
    ("history", "question"),
    [
        ([BLOOM], "Who made BLOOM?"),
        ([BLOOM], "What is Falcon?"),
        ([BLOOM], GPT_J),
        ([BENEFITS], "What are the drawbacks of open-source models?"),
        ([BLOOM], "Is it possible to run Llama 2 on a laptop?"),  # "it" points at nothing
        ([BLOOM], "Is it true that Meta released LLaMA?"),
        ([BLOOM], "What is the model that Meta released?"),  # relative "that"
        ([BLOOM], "What is GPT-J and why was it taken offline?"),  # "it" is GPT-J
        ([], "Who made it?"),  # nothing to resolve against
        ([], "What about Falcon?"),
        (["Hello"], "Why?"),
    ],
)
def test_standalone_questions_are_left_alone(history: list[str], question: str) -> None:
    assert standalone(question, history) == question


def test_frame_finds_the_subject_and_what_is_asked_of_it() -> None:
    benefits = frame(BENEFITS)
    assert benefits.subject_text == "closed-source models"
    assert benefits.attribute is not None and benefits.attribute.of(BENEFITS) == "benefits"
    assert frame(LLAMA_LICENCE).subject_text == "Llama 2"
    assert frame(GOPHER).subject_text == "DeepMind's Gopher model"
    assert frame("What is open-source AI?").subject_text == "open-source AI"
    assert frame("How do closed-source models make money?").subject_text == "closed-source models"
    assert frame("Why?").subject is None
    # "LLM" says which approaches: the talk is about them
    assert frame("What are hybrid LLM approaches?").subject_text == "hybrid LLM approaches"
    assert frame("What goes into LLM training data?").subject_text == "LLM training data"
    assert frame("What is an LLM?").subject_text == "LLM"


def test_is_elliptical() -> None:
    assert all(
        is_elliptical(q)
        for q in ("Who made it?", "What about Falcon?", "And their drawbacks?", "Why?")
    )
    assert not any(is_elliptical(q) for q in (BLOOM, BENEFITS, GPT_J, LLAMA_LICENCE))


# --- not re-answering the previous question -------------------------------------------------


def _answer(standalone_question: str, *quotes: str, answered: bool = True) -> Answer:
    citations = [
        Citation(n, "a.txt", "A", "", " ".join(quotes), 1.0, quote=q)
        for n, q in enumerate(quotes, start=1)
    ]
    return Answer(
        standalone_question, "…", answered, citations, standalone_question=standalone_question
    )


BLOOM_SENTENCE = "BLOOM: An open-source model focused on collaboration and innovation."
LICENCE_SENTENCE = (
    "Fashions like GPT-NeoX, LLaMA, and Jurassic-1 Jumbo use agreements like Apache 2.0."
)


def test_an_answer_that_only_repeats_the_previous_one_is_a_repeat() -> None:
    first = _answer(BLOOM, BLOOM_SENTENCE)
    follow = _answer("Who made BLOOM?", BLOOM_SENTENCE)
    assert repeats_earlier(follow, [first]) is first


def test_a_new_sentence_or_a_new_term_is_not_a_repeat() -> None:
    first = _answer(BLOOM, BLOOM_SENTENCE)
    assert repeats_earlier(_answer("Who made BLOOM?", "BigScience made BLOOM."), [first]) is None
    assert (
        repeats_earlier(_answer("Who made BLOOM?", BLOOM_SENTENCE, "BigScience made it."), [first])
        is None
    )
    # The same sentence answers the same question about another model it names.
    llama = _answer("What licence does LLaMA use?", LICENCE_SENTENCE)
    neox = _answer("What licence does GPT-NeoX use?", LICENCE_SENTENCE)
    assert repeats_earlier(neox, [llama]) is None


def test_a_repeated_sentence_that_states_what_a_who_question_asks_answers_it() -> None:
    bert = "BERT: A model by Google designed for understanding the context of words in sentences."
    first = _answer("What is BERT?", bert)
    assert repeats_earlier(_answer("Who made BERT?", bert), [first]) is None
    # the BLOOM sentence names no maker: still a repeat (above)


def test_a_repeated_sentence_that_names_what_a_which_question_asks_for_answers_it() -> None:
    licences = _answer("What licences do open models use?", LICENCE_SENTENCE)
    which = _answer("Which models use licences?", LICENCE_SENTENCE)
    assert repeats_earlier(which, [licences]) is None
    # asking for names again is no new question: "Which models…?" after "Which models…?"
    named = _answer("Which models are open?", LICENCE_SENTENCE)
    assert repeats_earlier(_answer("Which models are licensed?", LICENCE_SENTENCE), [named])


def test_a_sentence_first_quoted_only_in_support_may_answer_a_follow_up() -> None:
    categories = "First, we devised eight question categories."
    per_category = "We select ten questions per category."
    first = _answer("How many question categories were devised?", categories, per_category)
    follow = _answer("How many prompts went into each type?", per_category, categories)

    assert repeats_earlier(follow, [first]) is None
    again = _answer("How many prompts went into each type?", categories, per_category)
    assert repeats_earlier(again, [first]) is first


def test_asking_the_same_again_or_abstaining_is_not_a_repeat() -> None:
    first = _answer(BLOOM, BLOOM_SENTENCE)
    assert repeats_earlier(_answer(BLOOM, BLOOM_SENTENCE), [first]) is None
    assert repeats_earlier(_answer("Who made BLOOM?", answered=False), [first]) is None
    assert repeats_earlier(_answer("Who made BLOOM?", BLOOM_SENTENCE), []) is None


def test_answer_standalone_question_defaults_to_the_question() -> None:
    answer = Answer("What is BLOOM?", "…", True)
    assert answer.standalone_question == "What is BLOOM?"
    assert answer.to_dict()["standalone_question"] == "What is BLOOM?"
