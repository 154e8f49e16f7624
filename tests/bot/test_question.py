"""What a question asks: pure text analysis, no model or store (fast tier)."""

from __future__ import annotations

import numpy as np

from bot.features import Candidate, novelty, settles, states_expected
from bot.question import (
    NUMBER,
    Question,
    as_comparison,
    as_request,
    gives_a_way,
    heads_list_asked,
    kind_of,
    names_place,
    names_something,
    proper_nouns,
    spells_out,
    states,
    with_senses,
)
from bot.terms import query_terms, terms


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


def test_a_how_many_question_needs_a_sentence_that_says_what_it_counts() -> None:
    gpus = _analyse("How many GPUs were used to train Vicuna-33B?")

    assert gpus.counted == {"gpu"} and "gpu" not in gpus.names
    assert gpus.lacks_count(set(terms("Vicuna-v1.3 models, from 7B to 33B parameters, trained")))
    assert not gpus.lacks_count(set(terms("Vicuna-33B was trained on 8 A100 GPUs in one day")))
    # counted in words the knowledge base never uses: another way of saying it
    cards = Question.analyse(
        "How many graphics cards did the run need?",
        idf=lambda term: 1.0,
        known=lambda term: term not in {"graphic", "card"},
    )
    assert not cards.counted and not cards.lacks_count(set(terms("8 A100 GPUs")))


def test_a_how_many_question_is_answered_by_an_amount_of_what_it_counts() -> None:
    gpus = _analyse("How many GPUs did Anthropic use?")
    questions = _analyse("How many questions does MT-Bench include?")

    assert states_expected(gpus, "Vicuna was trained on 8 A100 GPUs in one day.")
    assert not states_expected(gpus, "Anthropic consumed upwards of $10 million price of GPUs.")
    assert not states_expected(gpus, "OpenAI spent hundreds of thousands coaching GPT-3.")
    assert states_expected(questions, "MT-Bench includes 80 high-quality, multi-turn questions.")


def test_a_sentence_about_other_names_is_not_about_the_question() -> None:
    question = _analyse("How many parameters does GPT-3 have?")

    assert question.about_other_names(set(terms("DeepMind's 280 billion parameter Gopher")))
    assert not question.about_other_names(set(terms("GPT-3 has 175 billion parameters")))
    assert not _analyse("How big are the largest models?").about_other_names(set())


def test_a_name_counts_only_whole() -> None:
    neox = _analyse("How many parameters does GPT-NeoX have?")
    llama = _analyse("When was LLaMA 2 released?")
    palm = _analyse("What is PaLM's context window length?")

    assert neox.about_other_names(set(terms("GPT-4 has many parameters")))
    assert not neox.about_other_names(set(terms("GPT-NeoX has 20 billion parameters")))
    assert llama.about_other_names(set(terms("LLaMA was pre-trained on sequences of 2048 tokens")))
    assert not llama.about_other_names(set(terms("LLaMA 2 came out in July 2023")))
    assert palm.about_other_names(set(terms("Commercial models tout longer context")))
    # a model identifier is a name, "@" and all
    bison = _analyse("What context length does chat-bison@001 support?")
    assert bison.name_units == (frozenset({"chat", "bison", "001"}),)
    assert bison.about_other_names(set(terms("Claude-instant has a context length of 9K")))


def test_another_version_of_a_name_is_not_the_one_asked_about() -> None:
    gpt4 = _analyse("How much did OpenAI spend training GPT-4?")
    vicuna = _analyse("How many GPUs trained Vicuna-13B?")

    assert gpt4.names_another_version("OpenAI spent hundreds of thousands coaching GPT-3.")
    assert not gpt4.names_another_version("GPT-4 and GPT-3 cost OpenAI a fortune.")
    assert not gpt4.names_another_version("OpenAI spent a lot.")
    assert vicuna.names_another_version("Vicuna-7B was trained on 8 A100 GPUs.")
    assert not vicuna.names_another_version("Vicuna-13B was trained on 8 A100 GPUs.")
    assert not _analyse("What happened in 2023?").names_another_version("In 2022, little.")
    assert not _analyse("In 2023, who led OpenAI?").names_another_version("In 2022, Sam did.")


def test_a_name_the_knowledge_base_never_uses_is_in_no_sentence() -> None:
    question = Question.analyse(
        "What Elo rating do Mistral models have on Chatbot Arena?",
        idf=lambda term: 1.0,
        known=lambda term: term != "mistral",
    )

    assert question.unheard_name
    assert question.about_other_names(set(terms("Chatbot Arena ranks models by Elo rating")))


def test_a_named_measure_must_be_stated() -> None:
    question = _analyse("What learning rate was used to fine-tune Alpaca?")

    assert question.lacks_measure(set(terms("Alpaca is fine-tuned with supervised learning")))
    assert not question.lacks_measure(set(terms("Alpaca used a learning rate of 2e-5")))
    window = _analyse("How long is GPT-4's context window?")
    assert not window.lacks_measure(set(terms("GPT-4 reads 32K tokens")))
    assert not _analyse("How many parameters does GPT-3 have?").lacks_measure(set())
    # The unit an answer is asked in: eight categories are no length in words.
    length = _analyse("What is the average response length in Dolly, in words?")
    assert length.lacks_measure(set(terms("Dolly holds eight different instruction categories")))
    assert not length.lacks_measure(set(terms("Dolly's responses average 120 words")))
    assert not _analyse("How many people took part in days of testing?").measure


def test_a_number_inside_a_name_states_no_amount() -> None:
    asked = "What is the context window of GPT-J?"

    assert not states(NUMBER, "GPT-4 surpasses human baselines on SuperGLUE.", asked)
    assert not states(NUMBER, "Trained on A100 GPUs.", asked)
    assert states(NUMBER, "GPT-J reads 2,048 tokens at once.", asked)
    assert states(NUMBER, "LLaMA 7B was fine-tuned.", asked)
    # nor one that points at a part of the article
    assert not states(NUMBER, "We calculate the Elo ratings, illustrated in Figure 3.", asked)
    assert not states(NUMBER, "It may hold citation numbers (e.g. [42]).", asked)
    assert states(NUMBER, "Table 1 lists 9 models.", asked)


def test_one_alone_is_no_amount_but_a_share_must_be_a_share() -> None:
    many = _analyse("How many articles are there?")
    share = _analyse("What percentage of companies use open-source models?")

    assert not states_expected(many, "The future likely isn't about one approach dominating.")
    assert states_expected(many, "The library holds one hundred articles.")
    assert states_expected(_analyse("How many days did it take?"), "It took one day on 8 GPUs.")
    assert not states_expected(share, "Models use licences like Apache 2.0 and MIT.")
    assert states_expected(share, "About 20% of companies run open models.")


def test_who_is_answered_by_people_described_unless_the_question_asks_which() -> None:
    backs = _analyse("Who backs closed-source models?")
    contributes = _analyse("Who contributes to open-source LLMs?")
    which = _analyse("Which companies back closed-source LLMs?")

    assert states_expected(backs, "Closed-source LLMs are backed by big tech companies.")
    community = "With a global community contributing to improvements."
    assert states_expected(contributes, community, as_a_class=True)
    assert not states_expected(contributes, community)  # only where no sentence names anyone
    # "backed by big tech companies" says who backs them, not who controls them
    common = {"close", "sourc", "ai", "llm", "model"}  # in every article: weigh next to nothing
    controls = Question.analyse(
        "Who controls closed-source AI?", idf=lambda term: 0.02 if term in common else 1.0
    )
    backed = "Closed-source LLMs are backed by big tech companies."
    assert not states_expected(controls, backed)
    assert states_expected(controls, backed, as_a_class=True)
    assert not states_expected(which, "Closed-source LLMs are backed by big tech companies.")
    assert not states_expected(which, "Some companies build proprietary layers on top.")
    assert states_expected(which, "Closed-source LLMs are built by OpenAI and Google.")
    # a question naming someone asks about them: a class of people does not answer it
    assert not states_expected(_analyse("Who founded Cohere?"), "Some companies charge for it.")


def test_who_wins_questions_ask_how_a_contest_ends() -> None:
    assert _analyse("Who wins the debate?").kind == "outcome"
    assert _analyse("Which approach will prevail in the end?").kind == "outcome"
    assert _analyse("Who made BLOOM?").kind == "who"


def test_how_long_it_took_needs_a_duration() -> None:
    question = _analyse("How long did it take OpenAI to train GPT-3?")

    assert not states_expected(question, "The data cost less than $500 to generate.")
    assert states_expected(question, "Training GPT-3 took 34 days on 1,024 GPUs.")


def test_which_with_a_plural_noun_phrase_asks_for_a_list() -> None:
    assert _analyse("Which RAIL license variants exist?").kind == "list"
    assert _analyse("Which open standards can help offset the drawbacks?").kind == "list"
    assert _analyse("Which question answering dataset was used for it?").kind != "list"


def test_a_hardware_question_needs_hardware_and_is_not_about_the_gpus_it_names() -> None:
    question = _analyse("Which GPUs were used to train BLOOM?")

    assert question.lacks_measure(set(terms("BLOOM was trained by a thousand researchers")))
    assert not question.lacks_measure(set(terms("BLOOM was trained on 384 A100 GPUs")))
    assert question.about_other_names(set(terms("Anthropic consumed $10 million of GPUs")))


def test_who_is_answered_by_a_name_or_by_people_described() -> None:
    question = _analyse("Who carried out the evaluation of Alpaca?")

    assert states_expected(question, "The evaluation was run by LMSYS.")
    assert states_expected(question, "We conduct human evaluation (by the 5 student authors).")
    assert not states_expected(question, "The evaluation was thorough and fair.")


def test_a_sentence_that_only_echoes_the_question_adds_little() -> None:
    asked = set(terms("Why is there a risk of misuse with open-source LLMs?"))
    echo = set(
        terms("Open-source LLMs are accessible to all, promote innovation, but risk misuse.")
    )
    reason = set(terms("Open access means bad actors can use these tools for harmful purposes."))
    assert novelty(echo, asked) < 0.5
    assert novelty(reason, asked) > 0.8
    assert novelty(set(), asked) == 0.0


def test_who_made_it_needs_a_maker_not_the_word_company() -> None:
    bert = _analyse("Which company made BERT?")
    llama = _analyse("Who developed LLaMA?")

    assert bert.kind == "who" and bert.asks_maker
    assert not bert.attributes  # "company" is what the answer is, "made" how it relates
    assert bert.states_maker("BERT: A model by Google designed for understanding context.")
    assert llama.states_maker("Main examples include Meta's LLaMA and EleutherAI's GPT-Neo.")
    assert llama.states_maker("Meta released LLaMA to researchers.")
    assert llama.states_maker("LLaMA was developed by Meta.")
    assert not bert.states_maker("Pre-trained constructing blocks like T5 and BERT embeddings.")
    openai = _analyse("Who founded OpenAI?")  # OpenAI makes something else here
    assert not openai.states_maker("Entities like Anthropic and OpenAI develop them internally.")
    assert _analyse("Which company is behind ConstitutionalAI?").asks_maker
    assert not _analyse("Who is the CEO of Anthropic?").asks_maker
    assert not _analyse("Who pays for closed-source development?").asks_maker  # a noun
    assert not _analyse("Which companies develop closed models?").asks_maker  # names nothing


def test_a_who_question_about_a_role_needs_a_sentence_that_states_the_role() -> None:
    ceo = _analyse("Who is the CEO of OpenAI?")
    founders = _analyse("Who are the co-founders of Anthropic?")

    assert ceo.lacks_role(set(terms("OpenAI spent hundreds of thousands coaching GPT-3.")))
    assert not ceo.lacks_role(set(terms("Sam Altman is OpenAI's chief executive.")))
    assert not founders.lacks_role(set(terms("Anthropic was co-founded by Dario Amodei.")))
    assert _analyse("Who wrote the GPT-2 paper?").role == frozenset()  # asks a maker
    assert _analyse("Who develops Chatbot Arena?").role == frozenset()
    assert not _analyse("Who develops Chatbot Arena?").lacks_role(set())


def test_asking_for_the_cons_also_searches_for_the_words_the_articles_use() -> None:
    known = {"challeng", "drawback", "risk", "advantag"}.__contains__

    assert with_senses("What are the cons of open models?", known) == (
        "What are the cons of open models? (challenges, drawbacks, risks)"
    )
    assert with_senses("List the benefits of BLOOM.", known) == (
        "List the benefits of BLOOM. (advantages)"
    )
    assert with_senses("What problems do open models run into?", known) == (
        "What problems do open models run into? (challenges, drawbacks, risks)"
    )  # "problems" asks for the cons, but is too common a word to search for
    mentions = "Which open standards can help offset the drawbacks of both approaches?"
    assert with_senses(mentions, known) == mentions  # asks for standards, not drawbacks


def test_what_something_cost_is_said_in_any_word_for_money() -> None:
    question = _analyse("How much did it cost to train GPT-3?")
    spent = set(terms("OpenAI spent hundreds of thousands coaching GPT-3"))

    assert not question.lacks_attribute(spent)
    assert _analyse("How many parameters does GPT-3 have?").lacks_attribute(spent)


def test_an_acronym_and_its_plural_are_one_term() -> None:
    assert terms("an LLM") == terms("LLMs") == ["llm"]
    assert terms("GPUs and APIs") == ["gpu", "api"]
    assert terms("llms") == ["llm"]  # typed in lower case too
    assert terms("rhythms bus status") == ["rhythm", "bus", "status"]


def test_british_and_american_spellings_are_one_term() -> None:
    assert terms("specialised domains") == terms("specialized domains")
    assert terms("an AI licence") == terms("an AI license")
    assert terms("organisations analysed behaviour") == terms("organizations analyzed behavior")
    assert terms("the centre of the catalogue") == terms("the center of the catalog")
    assert terms("a promise") == terms("a promise")  # only-British-looking words meet themselves
    assert terms("programmes offences theatres colours") == terms(
        "programs offenses theaters colors"
    )  # every rewrite is reached past the one-regex check that skips most words


def test_which_is_asks_for_one_thing_and_which_plural_for_a_list() -> None:
    assert kind_of("Which is cheaper, open or closed models?") != "list"
    assert kind_of("Which was first?") != "list"
    assert kind_of("Which models are open?") == "list"
    # one kind of a thing is one thing; kinds, or a kind of several things, a list
    assert kind_of("What kind of license does Alpaca use?") != "list"
    assert kind_of("What sort of material goes into teaching these models?") != "list"
    assert kind_of("What kind of model is Meta's LLaMA?") != "list"
    assert kind_of("What kinds of LLMs are there?") == "list"
    assert kind_of("What kind of tasks can LLMs do?") == "list"
    assert kind_of("What kind of new tests do the researchers recommend?") == "list"
    # "give me" the things asks for them as "what are" does; one thing is one thing
    assert kind_of("Give me the main selling points of proprietary LLMs.") == "list"
    assert kind_of("Give us some examples") == "list"
    assert kind_of("Give me the name of the model") != "list"
    assert kind_of("Give me an example of a hybrid model.") != "list"


def test_when_asks_for_a_date_unless_it_asks_for_a_circumstance() -> None:
    assert kind_of("When was BERT released?") == "time"
    assert kind_of("When did Anthropic release Claude-1.3?") == "time"
    assert kind_of("When is a scenario prompt useful?") != "time"
    assert kind_of("When is a model considered unreleased under the policy?") != "time"
    assert kind_of("When should I fine-tune a model?") != "time"


def test_asking_for_the_reason_in_other_words_is_a_why_question() -> None:
    assert kind_of("What was the reason EleutherAI took GPT-J offline?") == "why"
    assert kind_of("What's the rationale for restricting hybrid models?") == "why"
    assert kind_of("What motivated swapping numeric labels for word pairs?") == "why"
    assert kind_of("What caused EleutherAI to remove GPT-J?") == "why"
    assert kind_of("What are the reasons for open source?") == "list"  # a list of them
    assert kind_of("What is the cost of GPT-3?") != "why"


def test_a_clause_before_the_question_does_not_decide_its_kind() -> None:
    assert kind_of("When calling a fine-tuned model, why put ### at the end?") == "why"
    assert kind_of("Before deploying GPT-2, should you check it for bias?") == "yesno"
    assert kind_of("In the human rating, how many times did Alpaca win?") == "quantity"


def test_a_measure_asked_for_comes_early_in_the_question() -> None:
    assert kind_of("What context length do the LongChat models support?") == "quantity"
    assert kind_of("What's the size of the DeepMind model?") == "quantity"
    assert kind_of(
        "What do the authors think explains 7B chatbots rivalling twice their size?"
    ) != ("quantity")


def test_numbers_and_years_are_no_names_but_a_number_after_a_name_is_part_of_it() -> None:
    assert _analyse("Which parameter counts did OpenAI release in 2019?").names == {"openai"}
    assert _analyse("Why do 7-billion-parameter chatbots do well?").names == set()
    assert _analyse("How many parameters does PaLM 2 have?").names == {"palm", "2"}
    assert _analyse("Is databricks-dolly-15k open?").names >= {"15k"}


def test_common_acronyms_name_no_one() -> None:
    sentence = "Lack of transparency makes it hard to see how a closed-source LLM or AI decides."
    assert proper_nouns(sentence) == set()
    assert proper_nouns("It was built by OpenAI and Google.") == {"openai", "google"}
    assert proper_nouns("The future of AI and Large Language Models hinges on it.") == set()


def test_what_are_x_asks_what_x_is_and_what_are_the_drawbacks_asks_for_a_list() -> None:
    assert kind_of("What are LLMs?") != "list"
    assert kind_of("what are large language models") != "list"
    assert kind_of("What are the drawbacks of open models?") == "list"
    assert kind_of("What are examples of closed-source LLMs?") == "list"
    assert kind_of("What are benefits?") == "list"


def test_pros_and_cons_search_for_both_and_keywords_ask_for_a_list() -> None:
    known = {"challeng", "advantag"}.__contains__
    assert with_senses("What are the pros and cons of open models?", known) == (
        "What are the pros and cons of open models? (advantages, challenges)"
    )
    assert kind_of("pros and cons of open source llms") == "list"
    assert kind_of("drawbacks of hybrid models") == "list"
    assert kind_of("Risk of misuse") != "list"


def test_a_request_to_compare_two_things_is_asked_how_they_differ() -> None:
    differ = "What are the differences between open source and closed source?"
    assert as_comparison("open source vs closed source") == differ
    assert as_comparison("How does open source compare with closed source?") == differ
    assert as_comparison("Compare open source and closed source.") == differ
    assert as_comparison("How do OpenRAILs differ from RAILs?") == (
        "What are the differences between OpenRAILs and RAILs?"
    )
    aspect = "How does performance benchmarking of open models compare with closed ones?"
    assert as_comparison(aspect) == aspect  # an aspect of a thing is left as asked
    assert as_comparison("Is GPT-4 better than humans?") == "Is GPT-4 better than humans?"


def test_what_something_cost_is_stated_in_money() -> None:
    question = _analyse("How expensive is it to train an LLM?")
    assert not question.name_units  # "an LLM" is no name an answer must hold
    assert not states_expected(question, "Let's dive into the battle between these two approaches.")
    assert states_expected(question, "OpenAI spent hundreds of thousands coaching GPT-3.")
    assert states_expected(_analyse("How much did it cost?"), "It took $10 million.")


def test_how_costly_something_was_is_stated_in_words_too() -> None:
    exploding = "EleutherAI took GPT-J offline as a result of exploding internet hosting prices."
    for asked in ("What were GPT-J's hosting costs?", "What did hosting GPT-J cost?"):
        question = _analyse(asked)
        assert question.kind == "quantity"
        assert states_expected(question, exploding)
        assert not states_expected(question, "GPT-J was released by EleutherAI.")


def test_reasons_to_choose_something_are_its_advantages() -> None:
    known = {"advantag", "perk"}.__contains__
    assert with_senses("Why would a company choose closed source?", known) == (
        "Why would a company choose closed source? (advantages, perks)"
    )
    assert with_senses("Why is closed source chosen less?", known) == (
        "Why is closed source chosen less?"
    )


def test_reasons_to_avoid_something_are_its_drawbacks() -> None:
    known = {"challeng", "drawback"}.__contains__
    assert with_senses("Why would someone avoid proprietary AI?", known) == (
        "Why would someone avoid proprietary AI? (challenges, drawbacks)"
    )
    assert with_senses("Why should I not use open models?", known).endswith(
        "(challenges, drawbacks)"
    )
    # what happened is not advice: no drawbacks of hosting costs are asked for
    assert with_senses("Why did EleutherAI avoid hosting costs?", known) == (
        "Why did EleutherAI avoid hosting costs?"
    )


def test_a_side_named_in_other_words_is_that_side() -> None:
    assert _analyse("What are the benefits of community-built models?").sense_subject == {
        "communiti"
    }
    assert _analyse("What are the upsides of openly available LLMs?").sense_subject == {"open"}
    assert _analyse("What are the upsides of openly available LLMs?").sides


def test_what_is_x_asks_what_x_is() -> None:
    assert _analyse("What are hybrid models?").defines
    assert _analyse("What is BLOOM?").defines
    assert not _analyse("What is the risk of misuse?").defines
    assert not _analyse("What are the benefits?").defines
    assert not _analyse("What are GPT models known for?").defines


def test_the_pros_or_cons_of_something_name_what_they_are_of() -> None:
    assert _analyse("What are the drawbacks of hybrid models?").sense_subject == {"hybrid", "model"}
    assert _analyse("pros and cons of LLaMA").sense_subject == {"llama"}
    assert not _analyse("What problems do community models run into?").sense_subject
    assert not _analyse("Which standards offset the drawbacks of both?").sense_subject  # mentions


def test_a_date_states_no_amount() -> None:
    question = "How many votes had the arena collected?"
    assert not states(NUMBER, "Last Updated: April 29, 2024.", question)
    assert not states(NUMBER, "Chatbot Arena was first launched in May 2023.", question)
    assert states(NUMBER, "It had collected over 800,000 votes by April 2024.", question)
    assert states(NUMBER, "Released on 2023-03-14 with 7 billion parameters.", question)


def test_what_a_when_question_calls_its_answer_is_no_attribute() -> None:
    founded = _analyse("In what year was the LMSYS organisation founded?")
    assert founded.attributes == {"found", "organiz"}
    # a BibTeX entry's "year = {2023}" names LMSYS (its URL) but says nothing of a founding
    assert founded.lacks_attribute({"lmsys", "year", "2023", "misc", "titl", "url"})


def test_gpu_hours_are_a_measure_a_sentence_must_name() -> None:
    question = _analyse("How many GPU hours did it take to train Llama-rephraser?")
    assert question.lacks_measure({"llama", "rephras", "13b", "model"})
    assert not question.lacks_measure({"train", "cost", "135k", "gpu", "hour"})


def test_which_models_are_so_asks_for_named_things() -> None:
    assert _analyse("Which models are open source?").asks_for_named
    assert _analyse("Which companies develop closed models internally?").asks_for_named
    assert not _analyse("Which is cheaper, open or closed models?").asks_for_named
    question = "Which models are open source?"
    assert names_something("BLOOM: An open-source model focused on collaboration.", question)
    assert names_something("Meta’s LLaMA: A partially open-source model.", question)
    assert names_something("Fashions like GPT-NeoX and LLaMA use Apache 2.0.", question)
    assert not names_something("Accessibility: Open-source models democratize AI.", question)
    assert not names_something("Partially Open Models: Companies release parts.", question)


def test_a_comparison_of_two_names_names_both() -> None:
    assert _analyse("What is the difference between BERT and GPT?").compared_names == (
        {"bert"},
        {"gpt"},
    )
    assert _analyse("How does LLaMA differ from BLOOM?").compared_names == ({"llama"}, {"bloom"})
    assert _analyse("What is BERT?").compared_names is None


def test_a_name_where_a_sentence_starts_is_still_a_name() -> None:
    assert proper_nouns("OpenAI’s series of models known for generating text.") == {"openai"}
    assert proper_nouns("GPT-4 surpasses human baselines.") == {"gpt-4"}
    assert not proper_nouns("Open-source models democratize AI. The rest follows.")
    assert _analyse("Who makes GPT models?").states_maker(
        "GPT Models: OpenAI’s series of models known for generating human-like text."
    )
    assert not _analyse("Who makes GPT models?").states_maker(
        "BERT: Google’s model for understanding the context of words."
    )


def test_which_attribute_questions_ask_a_kind_of_value_of_something_named() -> None:
    licence = _analyse("What license is Phi-1 released under?")
    assert licence.asks_which_attribute
    assert {"licens", "releas"} <= licence.attributes
    assert _analyse("Which programming language is ChEMBL written in?").asks_which_attribute
    # a name is no kind of value, a question that names nothing asks of nothing named
    assert not _analyse("Which GPT-4 version is cheaper?").asks_which_attribute
    assert not _analyse("What kind of data is used for training?").asks_which_attribute
    # other kinds have their own rules
    assert not _analyse("What year was BLOOM released?").asks_which_attribute
    assert not _analyse("What are the drawbacks of BLOOM?").asks_which_attribute


def test_a_how_to_question_asks_for_a_way_and_a_way_is_told_or_commanded() -> None:
    assert _analyse("How do I deploy an open-source LLM?").asks_how_to
    assert _analyse("How can we reduce hosting costs?").asks_how_to
    assert _analyse("What's the best way to run BLOOM locally?").asks_how_to
    assert _analyse("How to fine-tune LLaMA?").asks_how_to
    assert not _analyse("How do I know whether a model is open source?").asks_how_to
    assert not _analyse("How does Vicuna work?").asks_how_to
    assert not _analyse("How did EleutherAI cut costs?").asks_how_to

    assert gives_a_way("Tell the model what you want.")
    assert gives_a_way("Skill Up: Learn about both open-source and closed-source LLMs.")
    assert gives_a_way("With enough training examples, you can fine-tune a custom model.")
    assert gives_a_way("We tackle the memory pressure by utilizing FlashAttention.")
    assert gives_a_way("To enable long context, we expand the max context length.")
    assert gives_a_way("GPT-4 is available through OpenAI's paid API.")
    assert gives_a_way("Any commercial use is prohibited.")
    assert gives_a_way("python3 -m fastchat.serve.cli --model-path lmsys/longchat-7b-16k")
    assert not gives_a_way("At the heart of this debate are two approaches to deploying LLMs.")
    assert not gives_a_way("Open supply LLMs have publicly accessible mannequin architectures.")
    assert not gives_a_way("Risk of Misuse: Open access means bad actors can use these tools.")
    assert not gives_a_way("Use cases include translation and summarization.")
    assert not gives_a_way("By the end, you will have an informed perspective.")


def test_where_something_is_needs_a_sentence_that_names_a_place() -> None:
    assert _analyse("Where is EleutherAI based?").asks_place
    assert _analyse("Where are Anthropic's headquarters?").asks_place
    assert not _analyse("Where did LAION get the data for its 5B release?").asks_place
    assert names_place("Anthropic is an AI company headquartered in San Francisco.")
    assert not names_place("In truth, EleutherAI took the GPT-J model from public entry.")
    # where Databricks is: "at Databricks" names what is asked about, not a place
    asked = _analyse("Where is Databricks headquartered?").names
    assert not names_place("This dataset was developed at Databricks (https://…).", asked)
    assert names_place("The team at Stanford released it.", asked)


def test_what_a_section_says_names_the_section() -> None:
    assert _analyse("What does the conclusion say?").section_asked == {"conclus"}
    assert _analyse("Summarize the conclusion section.").section_asked == {"conclus"}
    assert _analyse("What does the bottom line say?").section_asked == {"bottom", "line"}
    assert not _analyse("What does the article say about BLOOM?").section_asked


def test_naming_a_count_of_things_asks_for_a_list() -> None:
    assert kind_of("Name three types of LLMs.") == "list"
    assert kind_of("Name 2 closed models.") == "list"
    # an auxiliary is no modifier: these ask what to do, not for a list
    assert kind_of("What should developers do?") != "list"
    assert kind_of("What can LLMs do?") != "list"


def test_a_question_asking_for_kinds_searches_for_the_words_for_kinds() -> None:
    known = {"type", "kind", "llm"}.__contains__
    assert with_senses("What kinds of LLMs are there?", known) == (
        "What kinds of LLMs are there? (types)"
    )
    assert "kind" in query_terms("What kinds of LLMs are there?")
    assert "kind" not in query_terms("What kind of model is T5?")  # asks what T5 is


def test_words_that_only_shape_a_question_are_not_searched_for() -> None:
    # "some" found "Some companies are exploring hybrid approaches…"; "having" found
    # "Users may have to rely on community forums"
    assert query_terms("What are some examples of open-source LLMs?") == [
        "exampl",
        "open",
        "sourc",
        "llm",
    ]
    assert query_terms("Which areas are LLMs having an impact on?") == ["area", "llm", "impact"]
    assert query_terms("what should developers do about all this") == ["develop"]


def test_the_heading_of_the_list_a_question_asks_for() -> None:
    kinds = _analyse("What kinds of LLMs are there?").list_heading_asked
    assert kinds is not None and kinds[1] == {"llm"}
    assert _analyse("Name three types of LLMs mentioned.").list_heading_asked == kinds
    assert heads_list_asked("Types of LLMs", kinds)
    assert heads_list_asked("The Main Categories of LLMs", kinds)
    assert not heads_list_asked("Key Features of LLMs", kinds)
    assert not heads_list_asked("Types of Licences", kinds)
    assert _analyse("What kind of model is T5?").list_heading_asked is None  # one kind
    pros = _analyse("What are the benefits of LLMs in general?").list_heading_asked
    assert pros is not None and pros[1] == {"llm"}
    assert heads_list_asked("Advantages of LLMs", pros)
    assert not heads_list_asked("The Perks of Open-Source LLMs", pros)
    assert not heads_list_asked("Challenges of LLMs", pros)


def test_what_is_x_about_asks_its_topic() -> None:
    assert _analyse("What is the debate about?").topic_asked == {"debat"}
    assert _analyse("What's the hybrid approach all about?").topic_asked == {"hybrid", "approach"}
    assert not _analyse("What is the debate?").topic_asked
    assert not _analyse("What did the article say about BLOOM?").topic_asked


def test_a_question_about_dealing_with_drawbacks_asks_for_a_remedy() -> None:
    assert _analyse("How can the risks of open-source LLMs be mitigated?").asks_remedy
    assert _analyse("What helps offset the drawbacks of both approaches?").asks_remedy
    assert _analyse("How do you deal with the challenges of closed models?").asks_remedy
    assert not _analyse("What are the risks of open-source LLMs?").asks_remedy
    assert not _analyse("How can companies prevent misuse?").asks_remedy  # names no drawback


def test_mentioned_is_said_of_the_article_not_what_it_asks() -> None:
    assert "mention" not in _analyse("Which models are mentioned?").weights


def test_how_is_x_different_from_y_is_a_comparison() -> None:
    assert as_comparison("How is BLOOM different from BERT?") == (
        "What are the differences between BLOOM and BERT?"
    )


def test_the_arguments_for_or_against_something_are_its_pros_or_cons() -> None:
    known = {"advantag", "challeng"}.__contains__
    assert with_senses("What are the main arguments for open-source LLMs?", known).endswith(
        "(advantages)"
    )
    assert with_senses("What is the case against closed-source AI?", known).endswith("(challenges)")
    assert with_senses("What are closed-source LLMs good at?", known).endswith("(advantages)")
    # its noun says what it wants: the tasks, which no advantages list names
    assert with_senses("What tasks do closed models excel at?", known) == (
        "What tasks do closed models excel at?"
    )
    # and in two words: selling or strong points, weak or pain points
    assert with_senses("What are the selling points of open models?", known).endswith(
        "(advantages)"
    )
    assert with_senses("What are the weak points of closed models?", known).endswith("(challenges)")


def test_multibillion_is_an_amount() -> None:
    question = "How much money did Microsoft put into OpenAI?"
    assert states(NUMBER, "Microsoft agreed to multibillion greenback partnerships.", question)


def test_will_x_win_asks_how_a_contest_ends() -> None:
    assert kind_of("Will open-source LLMs win?") == "outcome"
    assert kind_of("Will either open or proprietary AI end up winning outright?") == "outcome"
    assert kind_of("Will the Vicuna team release the dataset?") == "yesno"
    # asked of what someone foresees, or of the winner
    assert kind_of("Is either side going to win?") == "outcome"
    assert kind_of("Does the author think one camp will win outright?") == "outcome"
    assert kind_of("Is there a clear winner?") == "outcome"
    assert kind_of("Did the winner release its weights?") == "yesno"
    assert kind_of("What did the winner of the arena get?") == "other"
    # which of the sides is better: the articles' verdict; not along one attribute, nor of
    # named things, which are compared
    assert kind_of("Which is better, open or closed source LLMs?") == "outcome"
    assert kind_of("Which approach is better?") == "outcome"
    assert kind_of("Which is better for privacy, open or closed?") != "outcome"
    assert kind_of("Which is better, Vicuna or Alpaca?") != "outcome"
    assert kind_of("Which LLM is the best?") != "outcome"


def test_a_who_wins_question_searches_for_how_articles_say_a_contest_ends() -> None:
    known = {"prevail", "domin", "side", "go"}.__contains__
    assert with_senses("Is either side going to win?", known) == (
        "Is either side going to win? (prevail, dominate)"
    )
    assert with_senses("Which approach will prevail?", known).endswith("(dominate)")
    # its sides and who foresees the end are no news: nothing asked is unknown
    question = Question.analyse(
        "Does the author think one camp will win outright?", lambda t: 1.0, lambda t: t == "one"
    )
    assert question.kind == "outcome" and question.unknown == 0.0
    assert Question.analyse("Who won the 2022 World Cup?", lambda t: 1.0, lambda t: False).unknown


def _sentence(text: str, section: str = "", title: str = "") -> Candidate:
    words = frozenset(terms(text))
    return Candidate(
        0,
        0,
        text,
        section,
        False,
        np.zeros(3),
        np.zeros(1),
        words | frozenset(terms(section)),
        frozenset(terms(section)),
        words=words,
        title=frozenset(terms(title)),
    )


def test_a_yes_no_question_is_settled_by_what_it_asks_not_by_the_noun_it_names() -> None:
    question = _analyse("Is the LLM decontaminator open source?")

    assert question.subject_heads == {"decontamin"}
    proposed = _sentence("We propose a new contamination detection method “LLM decontaminator”.")
    assert not settles(question, proposed)
    assert settles(
        question, _sentence("Our proposed LLM decontaminator is open-sourced on GitHub.")
    )
    assert not _analyse("Is GPT-4 open source?").subject_heads  # no "the": "open" is asked


def test_a_yes_no_question_about_a_name_is_settled_under_its_articles_title() -> None:
    question = _analyse("Will the Vicuna team release the dataset?")
    sentence = "There is no plan to release the dataset."

    assert settles(question, _sentence(sentence, "Release", title="Vicuna: An Open-Source Chatbot"))
    assert not settles(question, _sentence(sentence, "Release", title="Alpaca"))


def test_a_yes_no_question_on_one_side_is_settled_by_a_sentence_on_a_side() -> None:
    question = _analyse("Do open-source LLMs ever share the data they were trained on?")
    title = "The Ultimate Debate: Open Source vs. Closed Source LLMs"
    general = "LLMs are trained on diverse datasets to learn grammar."

    assert not settles(question, _sentence(general, "Training on Data", title=title))
    shared = "Open-source LLMs allow anyone to access the data used to train them."
    assert settles(question, _sentence(shared, title=title))
    closed = "Closed-source LLMs never share the data used to train them."
    assert settles(question, _sentence(closed, title=title))  # the other side settles it too
    # "Open" of a name is no side taken
    named = _analyse("Does Open QA come with a reference text?")
    assert settles(named, _sentence("Open QA provides no reference text."))
    assert settles(named, _sentence("This task does not provide any reference text.", "Open QA"))


def test_what_an_acronym_stands_for_is_said_by_words_that_spell_it() -> None:
    assert _analyse("What does the acronym ONNX stand for?").expands == "ONNX"
    assert _analyse("What is the full name of RAIL?").expands == "RAIL"
    assert _analyse("What does open source mean?").expands is None
    assert _analyse("What does tokenization mean for LLMs?").expands is None  # no capitals

    assert spells_out("ONNX", "the Open Neural Network Exchange (ONNX) format")
    assert spells_out("RLHF", "Reinforcement Learning from Human Feedback")
    assert spells_out("RAIL", "Responsible AI Licenses (RAIL)")
    assert spells_out("RAG", "Retrieval-Augmented Generation")
    assert spells_out("LLMs", "Many large language models (LLMs) are open.")
    assert not spells_out("ONNX", "Interoperability requirements like ONNX permit mixing.")
    assert not spells_out("LLM", "Models like LLaMA models are open.")  # not capitalised
    assert not spells_out("AI", "Smaller companies and individual developers can use AI.")


def test_a_polite_request_is_asked_as_what_it_requests() -> None:
    assert as_request("Can you name a few well-known large language models?") == (
        "Name a few well-known large language models?"
    )
    assert kind_of(as_request("Could you list the drawbacks of open models?")) == "list"
    assert as_request("Could you tell me who made BERT?") == "Who made BERT?"
    assert as_request("Can you explain why GPT-J was taken offline?").startswith("Why GPT-J")
    assert as_request("Can open models be fine-tuned?") == "Can open models be fine-tuned?"
    whether = "Can you tell me whether BLOOM is open?"  # still a yes/no question
    assert as_request(whether) == whether


def test_a_yes_no_question_is_settled_by_a_sentence_whose_article_names_what_it_names() -> None:
    question = _analyse("Were contributors to databricks-dolly-15k allowed to use generative AI?")
    sentence = _sentence("Contributors were told to avoid using generative AI in their responses.")
    elsewhere = frozenset(terms("databricks-dolly-15k is an open dataset"))

    assert not settles(question, sentence)  # the dataset is named only elsewhere in its article
    assert settles(question, sentence, elsewhere)
    assert not settles(question, _sentence("The weights are released."), elsewhere)


def test_a_name_that_only_qualifies_what_is_asked_may_be_said_anywhere_in_the_article() -> None:
    question = _analyse("Does the Stanford model often make things up?")
    sentence = _sentence("Alpaca often makes things up, a common deficiency of such models.")
    read = frozenset(terms("Alpaca was made by a team at Stanford"))

    assert question.qualifiers == {"stanford"}
    assert not settles(question, sentence)
    assert settles(question, sentence, None, read)
    # a name asked about itself is not a qualifier: it must be in the sentence or the opening
    gpt4 = _analyse("Is GPT-4 open source?")
    assert not gpt4.qualifiers
    assert not settles(
        gpt4, _sentence("Open models are open source."), None, frozenset({"gpt", "4"})
    )


def test_a_yes_no_word_the_knowledge_base_never_uses_is_settled_in_another() -> None:
    question = Question.analyse(
        "Do Anthropic and Cohere make people pay to use their models?",
        idf=lambda term: 1.0,
        known=lambda term: term != "pay",
    )
    charged = "Organizations like Anthropic and Cohere cost for entry to their interfaces."

    assert settles(question, _sentence(charged))
    assert not settles(question, _sentence("Anthropic and Cohere build their own interfaces."))


def test_what_is_asked_of_a_name_counts_a_word_the_knowledge_base_says_otherwise() -> None:
    question = Question.analyse(
        "Which companies make you pay to use Cohere-512?",
        idf=lambda term: 1.0,
        known=lambda term: term != "pay",
    )

    assert not question.asks_maker  # "make you pay" makes nothing
    assert "pay" in question.attributes
    assert not question.lacks_attribute(set(terms("Cohere cost for entry to Cohere-512.")))
    assert question.lacks_attribute(set(terms("Cohere-512 has a 512 context.")))
    assert Question.analyse("Which company makes Cohere-512?", idf=lambda t: 1.0).asks_maker


def test_how_x_stacks_up_against_y_is_asked_how_they_differ() -> None:
    assert (
        as_comparison(
            "How do freely shared language models stack up against proprietary ones overall?"
        )
        == "What are the differences between freely shared language models and proprietary ones?"
    )
    assert as_comparison("How does BLOOM fare against GPT-3?") == (
        "What are the differences between BLOOM and GPT-3?"
    )


def test_a_sentence_lacks_the_attribute_whether_or_not_it_names_what_is_asked_about() -> None:
    question = _analyse("In what year was the LMSYS organisation founded?")

    assert question.lacks_attribute(set(terms("Last Updated: April 29, 2024.")))
    per_token = _analyse("How much does OpenAI charge per token for GPT-4 API access?")
    partnership = "Microsoft agreed to multibillion greenback partnerships with OpenAI"  # spun
    assert per_token.lacks_attribute(set(terms(partnership)))
    assert not per_token.lacks_attribute(set(terms("GPT-4 costs $0.03 per 1K prompt tokens")))


def test_a_lowercase_model_name_with_a_number_is_a_name() -> None:
    question = _analyse("How many parameters does text-davinci-003 have?")

    assert question.names == {"text", "davinci", "003"}
    compared = "We compared text-davinci-003 and Alpaca 7B: Alpaca wins 90 versus 89."
    assert question.lacks_attribute(set(terms(compared)))  # names it, says nothing of its size


def test_what_a_thing_is_or_how_it_works_is_answered_only_by_a_sentence_that_names_it() -> None:
    rarity = {"reinforc": 4.7, "learn": 1.8, "human": 2.1, "feedback": 3.2, "model": 0.1}
    rlhf = Question.analyse(
        "How does reinforcement learning from human feedback work?", lambda t: rarity.get(t, 1.0)
    )
    assert {"reinforc", "learn", "human", "feedback"} <= rlhf.defined_subject
    assert not rlhf.names_defined(set(terms("…reinforcing our commitment to openness")))
    assert rlhf.names_defined(set(terms("Human feedback trains a reward model for learning")))

    # The names in it, and most of it: the spun article's "OpenAPI normal" is the standard.
    openapi = _analyse("What is the OpenAPI standard?")
    assert openapi.names_defined(set(terms("established interfaces like the OpenAPI normal")))
    assert not openapi.names_defined(set(terms("an established interface standard")))
    hybrid = Question.analyse("What are hybrid models?", lambda t: rarity.get(t, 1.0))
    assert hybrid.defined_subject == {"hybrid"}  # "model" is in every article
    # A word no article uses weighs as much as the rarest: "augmented" is most of
    # "retrieval-augmented generation", and "What is X and when…?" asks what X is too.
    known = {"retriev": 2.0, "generat": 1.6, "use": 0.5}
    rag = Question.analyse(
        "What is retrieval-augmented generation and when should I use it?",
        lambda t: known.get(t, 5.0),
        known=lambda t: t in known,
    )
    assert rag.defined_subject == {"retriev", "augment", "generat"}
    assert not rag.names_defined(set(terms("abilities of text generation, retrieval, and …")))
    assert rag.names_defined(set(terms("Retrieval-augmented generation quotes passages.")))
    # "What is X in <field>?" asks what X is, not what the field is: the sentence that
    # defines LLMs does not say what quantization is. "the X in Y" is something of Y.
    known = {"llm": 0.02, "main": 1.5, "argument": 2.0, "debat": 1.0}
    in_field = Question.analyse(
        "What is quantization in LLMs?", lambda t: known.get(t, 5.0), known=lambda t: t in known
    )
    assert in_field.defined_subject == {"quantiz"}
    assert not in_field.names_defined(set(terms("Large Language Models, or LLMs, are AI systems")))
    in_debate = Question.analyse(
        "What are the main arguments in the debate?", lambda t: known.get(t, 5.0)
    )
    assert not in_debate.defined_subject
    # Not "How do communities fund their work?", nor a question of another shape.
    assert not _analyse("How do open-source communities fund their work?").defined_subject
    assert not _analyse("Why did EleutherAI take GPT-J offline?").defined_subject


def test_a_yes_no_question_is_settled_by_what_it_asks_of_a_side_not_by_the_side() -> None:
    question = Question.analyse(
        "Do you have to pay to use closed-source LLMs?", idf=lambda term: 1.0, known="pay".__ne__
    )
    skills = "Skill Up: Learn about both open-source and closed-source LLMs; gaining expertise."
    paid = (
        "These companies keep their models’ inner workings private, offering them as paid services."
    )

    assert not settles(question, _sentence(skills))  # "closed" and "use" ask nothing
    assert settles(question, _sentence(paid, "Closed Source LLMs"))
    assert settles(_analyse("Is GPT-4 open source?"), _sentence("GPT-4 is a closed model."))
    # asked only in words the knowledge base never uses: any sentence about GPT-J may say it
    unheard = {"taken", "offlin"}
    offline = Question.analyse(
        "Was GPT-J taken offline?", lambda t: 1.0, lambda t: t not in unheard
    )
    assert settles(offline, _sentence("EleutherAI had to take away the GPT-J model."))


def test_which_thing_of_a_kind_is_asked_without_the_kinds_word() -> None:
    question = "Which model did EleutherAI have to pull offline?"
    unheard = {"pull", "offlin"}  # the article says "take away … from public entry"

    assert Question.analyse(question, lambda t: 1.0, lambda t: t not in unheard).asks_which_named
    assert not _analyse(question).asks_which_named  # it asks "pull offline" of the model too
    assert not _analyse("What license is Phi-1 released under?").asks_which_named


def test_a_question_about_proprietary_models_searches_for_closed_ones_too() -> None:
    known = {"close", "proprietari", "challeng", "drawback"}.__contains__

    assert (
        with_senses("Who funds proprietary LLMs?", known) == "Who funds proprietary LLMs? (closed)"
    )
    assert with_senses("What are the cons of proprietary models?", known) == (
        "What are the cons of proprietary models? (challenges, drawbacks, closed)"
    )
    assert with_senses("Who funds closed LLMs?", known) == "Who funds closed LLMs?"
    assert _analyse("What are the cons of proprietary models? (challenges, closed)").own_terms == {
        "con",
        "proprietari",
        "model",
    }


def test_what_someone_should_do_asks_for_advice_and_what_i_should_do_for_a_way() -> None:
    advice = _analyse("What should developers do to prepare for the future of LLMs?")
    assert advice.asks_advice and not advice.asks_how_to
    mine = _analyse("What should I do to deploy BLOOM?")
    assert mine.asks_how_to and not mine.asks_advice
    assert not _analyse("What should be open sourced?").asks_advice
