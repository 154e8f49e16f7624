"""Follow-up questions: rewrite an elliptical question into a standalone one, without an LLM.

In a conversation, "Who made it?" after "What is BLOOM?" means "Who made BLOOM?".
:func:`standalone` finds what the earlier question was about (a named entity
such as "BLOOM" or "Llama 2", the noun phrase after "the benefits of", or its
first noun phrase) and carries it into the follow-up, keeping the follow-up's
own words: a pronoun is replaced by the subject, "their drawbacks" becomes "the
drawbacks of <subject>", and "What about Falcon?" re-asks the earlier question
about Falcon. A question that is not elliptical is returned unchanged.

Everything here is pure string work (no model, no I/O), so it is cheap and
unit-tested on its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.features import GIVES_REASON, states_expected
from bot.question import (
    COMMON_ACRONYMS,
    CONS_STEMS,
    Question,
    asks_pros_or_cons_of_nothing,
    kind_of,
    names_something,
)
from bot.results import Answer
from bot.small_talk import is_small_talk, without_opener
from bot.terms import KIND_TERMS, query_terms, terms


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WH = _words("what which who whom whose why how when where")
_AUX = _words(
    "is are was were be been being am do does did done can could would should will shall "
    "may might must has have had isn aren wasn weren don doesn didn can't won't"
)
_DETERMINERS = _words("the a an some any each every all both either neither no")
_FOR = _words("for with")
_PREPOSITIONS = _words(
    "of in on at by for with about from to into onto over under between among through "
    "during against without within than as like per via vs versus behind "
    "according regarding concerning"
)
_CONJUNCTIONS = _words("and or but nor so yet if then because while whereas although though also")
# Anaphoric pronouns: they point back at what the conversation is about.
_PRONOUNS = _words("it they them he she him this that these those itself themselves")
_POSSESSIVES = _words("its their his her")
_DEMONSTRATIVES = _words("this that these those")
_PLURAL = _words("they them their these those")
_PERSONAL = _words("i me my mine we us our you your yours one ones someone something")
# Words that do not name what a question is about: verbs of asking, vague
# adjectives and adverbs. A question made only of these has no subject of its own.
_VAGUE = _words("""make makes made making use uses used using get gets got tell explain describe know mean
    means meant happen happens happened work works worked think say says said give gives
    given show let please again exactly really actually just only still even ever else too
    very well much many more most less least better best worse worst good bad great big bigger
    biggest large larger largest small smaller smallest cheap cheaper cheapest expensive
    fast faster fastest slow slower safe safer safest true false right wrong possible likely
    important different similar same main key other another instead there here now why
    example examples detail details thing things way ways kind sort compare compared
    cost costs thanks thank hello hi hey cool nice sure yes yeah ok okay""")
# Said of the article, not of what it is about: "the types of LLMs mentioned" are of LLMs.
_SAID_OF_ARTICLE = _words("mentioned listed discussed covered named described given")
# Nouns that, after "this"/"that"/"these"/"those", stand for the subject itself
# ("Who made this model?"), and that continue a name ("DeepMind's Gopher model").
_GENERIC = _words("""model models llm llms mannequin system systems one ones company
    companies organisation organization project tool tools thing family series version
    versions network networks""")
# Nouns for a way of doing something: "that approach" after "How did LMSYS evaluate Vicuna?"
# is how it was evaluated, not Vicuna; after "What is the hybrid approach?" it is the subject.
_MANNER = _words(
    "approach approaches method methods process strategy strategies technique techniques"
)
_HEADS = _words("model models llm llms mannequin family series")
_MODIFIERS = _words(
    "open closed proprietary commercial public private free large small new original"
)
# The two sides of the debate: "What about closed-source?" after "…of open-source LLMs?"
# swaps the side, not the attribute.
_SIDES = (_words("open"), _words("closed proprietary commercial"))
# What one does to a problem (see CONS_STEMS for the problems): "How can they be mitigated?"
# after "What are the risks of open-source LLMs?" asks about the risks, not the models.
_REMEDIES = _words("""mitigate mitigated mitigating address addressed addressing solve solved
    solving overcome overcoming avoid avoided avoiding reduce reduced reducing prevent
    prevented preventing fix fixed fixing handle handled handling tackle tackled tackling
    manage managed managing minimize minimized minimise minimised lessen lessened counter
    countered resolve resolved""")
# "Is it possible to...", "it is true that...": "it" points at nothing.
_DUMMY_IT_ADJECTIVES = _words(
    "true possible likely worth necessary important easy hard difficult fair safe legal "
    "better best wise okay ok"
)
_FUNCTION = (
    _WH | _AUX | _DETERMINERS | _PREPOSITIONS | _CONJUNCTIONS | _PRONOUNS | _POSSESSIVES
) | _PERSONAL

_TOKEN = re.compile(r"[^\W_](?:[^\W_]|[-'’.](?=[^\W_]))*|[^\w\s]")
_ABOUT = re.compile(
    r"^(?:(?:what|how)\s+about|(?:what(?:'s|\s+is|\s+are|\s+was|\s+were)\s+)?(?:the\s+)?"
    r"(?:equivalent|same|corresponding|comparable)(?:\s+\w+){0,2}?\s+(?:for|of|with))\s+(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)
"""'What about X?', and 'What's the equivalent figure for X?': the earlier question of X."""
_HOW_COME = re.compile(r"^how\s+come\b", re.IGNORECASE)
"""Another way of asking why ("How come?")."""
_LEADING = re.compile(r"^(?:and|but|so|also|ok|okay|then|well)\b[\s,]*", re.IGNORECASE)
_END = re.compile(r"[\s?.!]*$")
# Adverbs that may end a question after "that" used as a pronoun ("change that later").
_WHEN_ADVERBS = _words("later earlier first before after afterwards again now then since")
# Words after which "that" starts a clause ("it is true that...", "they said that...").
_CLAUSE_TAKERS = _words("""true false possible likely clear sure fact say says said think thinks
    thought know knows knew mean means meant claim claims claimed believe show shows showed
    prove proves proved argue argues argued suggest suggests suggested report reports reported
    ensure ensures so such now""")
# Joining two names makes "it"/"their" ambiguous: "How do OpenRAILs differ from RAILs?"
_JOINERS = _words("and or vs versus from with than against")
# Adjectives that may open a key phrase ("large language models") though vague on their own.
_ADJECTIVES = _words("""large larger largest small smaller smallest big bigger biggest new main
    key different similar cheap expensive fast slow safe important good bad great most""")
# Participles that end a phrase but are not part of what it names ("language models built").
_PARTICIPLES = _words("built made known taken given written run done held found seen trained")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    index: int

    @property
    def lower(self) -> str:
        return self.text.lower().replace("’", "'")

    @property
    def bare(self) -> str:
        """Lower-cased, without a possessive "'s"."""
        word = self.lower
        return word[:-2] if word.endswith("'s") else word

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def is_function(self) -> bool:
        return self.bare in _FUNCTION

    @property
    def is_content(self) -> bool:
        return self.is_word and not self.is_function and self.bare not in _VAGUE

    @property
    def is_name(self) -> bool:
        """A named entity: a capital after the first letter of the question, or a digit."""
        if not self.is_word or self.is_function:
            return False
        if any(ch.isdigit() for ch in self.text):
            return True
        if self.index == 0:
            return sum(ch.isupper() for ch in self.text) > 1  # "BLOOM ...", not "Explain ..."
        return any(ch.isupper() for ch in self.text)


def _tokens(text: str, *, initial: bool = True) -> list[_Token]:
    """Words and punctuation; ``initial`` when ``text`` starts a sentence (for capitals)."""
    first = 0 if initial else 1
    return [
        _Token(m.group(0), m.start(), m.end(), i)
        for i, m in enumerate(_TOKEN.finditer(text), start=first)
    ]


@dataclass(frozen=True)
class _Span:
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


@dataclass(frozen=True)
class Frame:
    """What a (standalone) question is about.

    Attributes:
        question: The question.
        subject: Its subject: the last named entity, the phrase after "the X of",
            or its first noun phrase.
        attribute: What it asks of the subject, when it has the form "the X of Y".
    """

    question: str
    subject: _Span | None
    attribute: _Span | None = None
    clause: bool = False
    """The subject is the clause after "which"/"what" ("companies build closed models" in
    "Which companies build closed models?"): no pronoun can be replaced by it."""

    @property
    def subject_text(self) -> str:
        return self.subject.of(self.question) if self.subject else ""


def frame(question: str) -> Frame:
    """Find what ``question`` is about.

    Example:
        >>> frame("What are the benefits of closed-source models?").subject_text
        'closed-source models'
    """
    tokens = _tokens(question)
    for i, token in enumerate(tokens):
        if token.bare != "of":
            continue
        left = _run_before(tokens, i)
        right = _run_after(tokens, i + 1)
        if left and right:
            return Frame(question, right, left)
    names = _name_runs(tokens)
    if names and all(
        question[n.start : n.end].lower() in COMMON_ACRONYMS and _modifies(tokens, n) for n in names
    ):  # "LLM" in "What are hybrid LLM approaches?" says which approaches
        return Frame(question, _phrase_around(tokens, names[-1]))
    if names:
        # "GPUs" in "What did Anthropic spend on GPUs?" names no one the talk is about
        proper = [n for n in names if question[n.start : n.end].lower() not in COMMON_ACRONYMS]
        # "Chatbot Arena" in "How many battles has PaLM 2 fought in Chatbot Arena?" is where
        acting = [n for n in proper or names if not _after_preposition(tokens, n)]
        if not acting:
            return Frame(question, (proper or names)[-1])
        # "GPT-4" in "What biases can LLM judges like GPT-4 have?" is an example, and "the
        # Cookbook" in "…, according to the Cookbook?" a source: the talk is about the rest
        named = [n for n in acting if not _example_or_source(tokens, n)]
        if named:
            return Frame(question, named[-1])
    # "Who backs closed-source models?": what the verb after "who" is done to
    skip = 2 if len(tokens) > 2 and tokens[0].bare == "who" and tokens[1].is_content else 0
    for i, token in enumerate(tokens):
        if i < skip:
            continue
        if token.is_content:
            end = i
            while end + 1 < len(tokens) and tokens[end + 1].is_content:
                end += 1
            clause = (
                end > i
                and tokens[0].bare in ("which", "what")
                and not any(t.bare in _AUX for t in tokens[1:i])
            )
            return Frame(question, _Span(token.start, tokens[end].end), clause=clause)
    return Frame(question, None)


_WHERE = _words("in at on from during within across inside into throughout since until")


def _modifies(tokens: list[_Token], span: _Span) -> bool:
    """Whether the name at ``span`` qualifies the content word after it ("LLM approaches")."""
    after = next((t for t in tokens if t.start >= span.end), None)
    return after is not None and after.is_content and not after.is_name


def _phrase_around(tokens: list[_Token], span: _Span) -> _Span:
    """The noun phrase a name qualifies: "hybrid LLM approaches" around "LLM"."""
    inside = [i for i, t in enumerate(tokens) if span.start <= t.start < span.end]
    first, last = inside[0], inside[-1]
    while first > 0 and (tokens[first - 1].is_content or tokens[first - 1].bare in _ADJECTIVES):
        first -= 1
    while last + 1 < len(tokens) and tokens[last + 1].is_content:
        last += 1
    return _Span(tokens[first].start, tokens[last].end)


def _after_preposition(tokens: list[_Token], span: _Span) -> bool:
    """Whether a name run stands after a preposition of place or time ("in Chatbot Arena",
    "from the Vicuna team"): where or when, rarely what the talk is about ("with GPT-J"
    may well be)."""
    before = _words_before(tokens, span)
    return bool(before) and before[-1].bare in _WHERE


def _example_or_source(tokens: list[_Token], span: _Span) -> bool:
    """Whether a name run stands after "like", "such as", "including" or "according to"."""
    before = " ".join(t.bare for t in _words_before(tokens, span)[-2:])
    return before.endswith(("like", "including", "such as", "according to"))


def _words_before(tokens: list[_Token], span: _Span) -> list[_Token]:
    """The tokens before a name run, without the determiners just before it."""
    i = next(t.index for t in tokens if t.start == span.start) - tokens[0].index
    while i > 0 and tokens[i - 1].bare in _DETERMINERS:
        i -= 1
    return tokens[:i]


def _run_before(tokens: list[_Token], i: int) -> _Span | None:
    """The content words just before position ``i`` ("main drawbacks" in "the main drawbacks of")."""
    start = i
    while start > 0 and tokens[start - 1].is_word and not tokens[start - 1].is_function:
        start -= 1
    # Vague words may qualify the attribute ("biggest benefits") but not end it.
    while start < i and tokens[start].bare in _VAGUE:
        start += 1
    if start == i or not any(t.is_content for t in tokens[start:i]):
        return None
    return _Span(tokens[start].start, tokens[i - 1].end)


def _run_after(tokens: list[_Token], i: int) -> _Span | None:
    """The noun phrase starting at ``i`` (after an optional determiner)."""
    while i < len(tokens) and tokens[i].bare in _DETERMINERS:
        i += 1
    end = i
    while end < len(tokens) and tokens[end].is_word and not tokens[end].is_function:
        end += 1
    while end > i + 1 and tokens[end - 1].bare in _SAID_OF_ARTICLE:
        end -= 1  # "the types of LLMs mentioned": of LLMs
    if end == i or not any(t.is_content or t.is_name for t in tokens[i:end]):
        return None
    return _Span(tokens[i].start, tokens[end - 1].end)


def _name_runs(tokens: list[_Token]) -> list[_Span]:
    """Named entities, with the modifiers before them and a head noun after ("Gopher model")."""
    runs = []
    i = 0
    while i < len(tokens):
        if not tokens[i].is_name:
            i += 1
            continue
        start = i
        end = i
        while end + 1 < len(tokens) and tokens[end + 1].is_name:
            end += 1
        while end + 1 < len(tokens) and tokens[end + 1].bare in _HEADS:
            end += 1
        while start > 0 and (
            tokens[start - 1].bare in _MODIFIERS
            or ("-" in tokens[start - 1].text and tokens[start - 1].is_content)
        ):
            start -= 1
        runs.append(_Span(tokens[start].start, tokens[end].end))
        i = end + 1
    return runs


def key_terms(question: str) -> list[str]:
    """The phrases that say what ``question`` is about: its names and content noun phrases.

    Question words, auxiliaries and vague words are left out; phrases joined by
    "and"/"or" stay together ("open and closed models").

    Example:
        >>> key_terms("How did Alpaca compare with text-davinci-003 in the blind pairwise comparison?")
        ['Alpaca', 'text-davinci-003', 'blind pairwise comparison']
    """
    tokens = _tokens(question)
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        start = i
        while (
            i + 1 < len(tokens)
            and tokens[i].bare in _ADJECTIVES
            and (tokens[i + 1].is_content or tokens[i + 1].bare in _ADJECTIVES)
        ):
            i += 1
        if not (tokens[i].is_content or tokens[i].is_name):
            i = start + 1
            continue
        end = i
        while end + 1 < len(tokens) and (tokens[end + 1].is_content or tokens[end + 1].is_name):
            if (
                tokens[end + 1].is_name
                and not tokens[end].is_name
                and any(t.is_name for t in tokens[start:end])
            ):
                break  # "EleutherAI take" | "GPT-J offline"
            end += 1
        i = end + 1
        while end > start and _participle(tokens[end]):
            end -= 1
        if not _participle(tokens[end]) and tokens[end].bare not in _ADJECTIVES:
            runs.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in runs:
        if merged and start == merged[-1][1] + 2 and tokens[start - 1].bare in ("and", "or"):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    found: list[str] = []
    for start, end in merged:
        phrase = question[tokens[start].start : tokens[end].end]
        if phrase.lower() not in (f.lower() for f in found):
            found.append(phrase)
    return found


def _participle(token: _Token) -> bool:
    word = token.bare
    return not token.is_name and (
        word in _PARTICIPLES
        or (len(word) > 4 and word.endswith("ed") and not word.endswith("eed"))
        or (len(word) > 4 and word.endswith("ly"))  # "most commonly"
    )


def _ambiguous(question: str) -> bool:
    """Whether ``question`` is about two names at once ("Alpaca and text-davinci-003")."""
    tokens = _tokens(question)
    names = [i for i, t in enumerate(tokens) if t.is_name]
    return any(
        b - a <= 3 and any(t.bare in _JOINERS for t in tokens[a + 1 : b])
        for a, b in itertools.pairwise(names)
    )


def is_elliptical(question: str) -> bool:
    """Whether ``question`` leans on an earlier turn (a pronoun, "what about…", no subject).

    Example:
        >>> is_elliptical("Who made it?"), is_elliptical("Who made BLOOM?")
        (True, False)
    """
    return _rewrite(question, Frame("What is X?", _Span(8, 9))) != question


def standalone(question: str, history_questions: Sequence[str]) -> str:
    """Rewrite ``question`` so that it can be searched for without the conversation.

    Each earlier question is resolved against the ones before it, so a chain of
    follow-ups keeps its subject ("What is BLOOM?", "Who made it?", "When was it
    released?"). The subject comes from the latest earlier question that has one.

    Args:
        question: The user's new question.
        history_questions: The user's earlier questions in this conversation, oldest first.

    Returns:
        The standalone question; ``question`` itself when it needs no history.

    Example:
        >>> standalone("Who made it?", ["What is BLOOM?"])
        'Who made BLOOM?'
        >>> standalone("What about Falcon?", ["What licence does Llama 2 use?"])
        'What licence does Falcon use?'
    """
    context: Frame | None = None
    before: Frame | None = None  # the latest subject before ``context``'s, if another
    for earlier in history_questions:
        earlier = without_opener(earlier)
        if is_small_talk(earlier):  # "hello" is about nothing a follow-up points back to
            continue
        resolved = _rewrite(earlier, context, before) if context else earlier
        found = frame(resolved)
        if found.subject is not None:
            if context is not None and found.subject_text != context.subject_text:
                before = context
            context = found
    return _rewrite(question, context, before) if context else question


def _rewrite(question: str, context: Frame, before: Frame | None = None) -> str:
    text = question.strip()
    body = _LEADING.sub("", text)
    stripped_leading = body != text
    body = _HOW_COME.sub("why", body)
    if not body:
        return question
    if before is not None and not _ambiguous(context.question) and _picks_one(_tokens(body)):
        # "Which one is open source?" after "What is BERT?" and "And GPT?": of the two
        return _carry(body, context, question, [before.subject_text, context.subject_text])
    about = _ABOUT.match(body)
    if about:
        return _what_about(_END.sub("", about.group("rest")), context, question)
    tokens = _tokens(body)
    if stripped_leading and tokens and tokens[0].bare not in _WH | _AUX | _PRONOUNS:
        return _what_about(_END.sub("", body), context, question)  # "And Falcon?"
    if _bare_request(tokens):
        return _what_about(_END.sub("", body), context, question)  # "Any downsides?"
    if _ambiguous(context.question) and _picks_one(tokens):
        # "Which one is open source?" after "How is BLOOM different from BERT?"
        return _carry(body, context, question)
    if _picks_one(tokens) and context.subject is not None and any(t.is_content for t in tokens):
        # "Which one is open source?" after "What kinds of LLMs are there?": one of those
        return _carry(body, context, question, [context.subject_text])
    if _fragment(tokens):  # "How many parameters?" after "What is Gopher?"
        return _carry(body, context, question)
    if _ambiguous(context.question) and _anaphors(tokens):
        # "their restrictions" after "How do OpenRAILs differ from RAILs?": whose?
        return _carry(body, context, question)
    if context.clause and _anaphors(tokens):
        # "What do they charge?" after "Which companies build closed models?": the follow-up
        # as typed, with the clause (not "What do companies build closed models charge?")
        text = _finish(body, question)
        if set(query_terms(context.subject_text)) <= set(query_terms(text)):
            return text
        return f"{text} ({context.subject_text})"
    edits = _pronoun_edits(tokens, context) + _ones_edits(tokens, context)
    if _leans(tokens, context) or (
        stripped_leading and not edits and not any(t.is_name for t in tokens)
    ):
        # "Who carried out that evaluation?", "How many questions per category?",
        # "And which people did the rating?": the follow-up's words, then what
        # the conversation is about.
        return _carry(_apply(body, edits), context, question)
    if edits:
        return _finish(_apply(body, edits), question)
    if (
        context.subject is not None
        and not any(t.is_name for t in tokens)
        and asks_pros_or_cons_of_nothing(body)
    ):  # "What are the challenges?" after "Tell me about open-source LLMs."
        return _finish(f"{_END.sub('', body)} of {context.subject_text}", question)
    if not any(t.is_content or t.is_name for t in tokens):
        return _finish(_no_subject(body, tokens, context), question)
    if _only_echoes(tokens, body, context):
        # "What kinds of products?" after "Which OpenAI models power many software products…?"
        return _carry(body, context, question)
    return _finish(body, question) if stripped_leading else question


def _only_echoes(tokens: list[_Token], body: str, context: Frame) -> bool:
    """Whether the question names nothing and says nothing the earlier one did not: it asks
    more about what was said ("What kinds of products?"), not about something new."""
    own = set(query_terms(body)) - KIND_TERMS  # "What kinds of products?"
    return (
        bool(own)
        and not any(t.is_name for t in tokens)
        and own <= set(query_terms(context.question))
    )


def _fragment(tokens: list[_Token]) -> bool:
    """ "How many parameters?", "Which licence?": a question word and a noun, no verb and no
    name, asked of what came before."""
    words = [t for t in tokens if t.is_word]
    if len(words) < 2 or words[0].lower not in _WH or words[0].lower in ("why", "who", "whom"):
        return False  # not "What's tokenization?": a question of its own
    rest = words[2:] if words[0].bare == "how" else words[1:]  # "how many", "how much"
    return (
        0 < len(rest) <= 2
        and all(t.is_content and not t.is_name for t in rest)
        and not any(t.text.endswith(("ed", "ing")) for t in rest)
    )


def _picks_one(tokens: list[_Token]) -> bool:
    """ "Which one…?", "Which of the two…?": asks to choose between earlier things."""
    words = [t.bare for t in tokens if t.is_word]
    return len(words) > 1 and words[0] == "which" and words[1] in ("one", "of")


def _bare_request(tokens: list[_Token]) -> bool:
    """ "Any downsides?", "Some examples?": a noun phrase alone, asked of what came before."""
    words = [t for t in tokens if t.is_word]
    return (
        len(words) >= 2
        and len(words) <= 4
        and words[0].bare in ("any", "some")
        and not any(t.bare in _WH | _AUX | _PRONOUNS | _POSSESSIVES for t in words[1:])
    )


def _carry(text: str, context: Frame, original: str, phrases: Sequence[str] | None = None) -> str:
    """``text`` followed by the earlier question's key terms (or ``phrases``) that it does
    not already hold."""
    text = _finish(text, original)
    own = set(query_terms(text))
    # A phrase that shares a word with the follow-up is already said by it
    # ("question categories" for "per category"); carrying it again would pull
    # the search back to the earlier question.
    if phrases is None:
        phrases = key_terms(context.question)
    carried = [term for term in phrases if not own & set(query_terms(term))]
    return f"{text} ({', '.join(carried)})" if carried else text


def _anaphors(tokens: list[_Token]) -> bool:
    """Whether ``tokens`` hold a pronoun or possessive that points back."""
    for i, token in enumerate(tokens):
        if token.bare in _POSSESSIVES or token.bare in _PRONOUNS:
            if token.bare == "it" and _dummy_it(tokens, i):
                continue
            if token.bare == "that" and not _demonstrative(tokens, i):
                continue
            return True
    return False


def _demonstrative(tokens: list[_Token], i: int) -> bool:
    """Whether ``tokens[i]`` ("that", "those", ...) points back rather than starting a clause."""
    if tokens[i].bare != "that":
        return True
    before = tokens[i - 1] if i else None
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if after is None or not after.is_word or after.bare in _PREPOSITIONS | _WHEN_ADVERBS:
        return True  # "Why did they change that later?", "What came of that?": no clause follows
    if before is not None and (
        before.bare in _CLAUSE_TAKERS or before.bare in _DUMMY_IT_ADJECTIVES
    ):
        return False  # "it is true that..."
    if (
        before is not None
        and before.is_word
        and not before.is_function
        and before.bare not in _VAGUE
        and not before.lower.endswith("ing")  # "doing that"
        and before.bare not in ("out", "up", "off")  # "carried out that evaluation"
    ):
        return False  # "the model that Meta released"
    # "...that Meta released", "...that the model...": a clause, not a pointer.
    return not (
        after is not None
        and after.is_word
        and (after.is_name or after.bare in _DETERMINERS or after.bare in _PRONOUNS | _PERSONAL)
    )


def _stands_for_subject(word: _Token | None, context: Frame) -> bool:
    """Whether "this <word>" is the subject itself ("this model"; "this approach" when the
    subject is an approach)."""
    if word is None:
        return False
    if word.bare in _GENERIC:
        return True
    subject = _tokens(context.subject_text, initial=False)
    return word.bare in _MANNER and bool(subject) and subject[-1].bare in _MANNER


def _leans(tokens: list[_Token], context: Frame) -> bool:
    """Whether the question points back in a way a substitution cannot fix.

    "that evaluation", "each of those types", "doing that", "per category" and
    "the string-matching one" all mean something said before, but the question
    still has words of its own: keep them and carry the earlier key terms.
    """
    content = [t for t in tokens if t.is_content or t.is_name]
    for i, token in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.bare in _DEMONSTRATIVES and _demonstrative(tokens, i):
            if _stands_for_subject(after, context):
                continue  # "this model": replaced by the subject
            if content:
                return True
        if token.bare in ("per", "each") and after is not None and after.is_content:
            rest = tokens[i + 2 :]
            if not any(t.is_word for t in rest):
                return True  # "How many questions per category?"
        if token.bare in ("one", "ones") and i and tokens[i - 1].is_content:
            return True  # "the string-matching one"
    return False


def _ones_edits(tokens: list[_Token], context: Frame) -> list[tuple[int, int, str]]:
    """ "well-known ones" -> "well-known language models", when the subject has a head noun."""
    plurals = [
        term
        for term in key_terms(context.question)
        if (last := _tokens(term, initial=False)[-1]).bare.endswith("s") and not last.is_name
    ]
    if not plurals:
        return []
    phrase = plurals[0]  # "large language models"
    edits = []
    for i, token in enumerate(tokens):
        if token.bare in ("one", "ones") and i and tokens[i - 1].is_content:
            noun = phrase if token.bare == "ones" else _singular(phrase)
            edits.append((token.start, token.end, noun))
    return edits


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies"):
        return word[:-3] + "y"
    if lower.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return word[:-1]
    return word


def _finish(text: str, original: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    if original.rstrip().endswith("?") and not text.endswith("?"):
        text = _END.sub("", text) + "?"
    return text


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _pronoun_edits(tokens: list[_Token], context: Frame) -> list[tuple[int, int, str]]:
    subject = context.subject_text
    if _remedies_the_attribute(tokens, context) and context.attribute and context.subject:
        # "they" are the risks: "How can the risks of open-source LLMs be mitigated?"
        subject = "the " + context.question[context.attribute.start : context.subject.end]
    elif any(t.bare in _PLURAL for t in tokens):
        subject = _plural_subject(context) or subject
    edits: list[tuple[int, int, str]] = []
    replaced: str | None = None
    for i, token in enumerate(tokens):
        word = token.bare
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        # "What is GPT-J and why was it taken offline?" refers to itself, but "them" in "How
        # did the LMSYS study try to mitigate them?" is no study
        if (
            word in _PRONOUNS | _POSSESSIVES
            and any(t.is_name for t in tokens[:i])
            and (word not in _PLURAL or _plural_names(tokens[:i]))
        ):
            break
        if word in _DEMONSTRATIVES:
            if after is not None and _stands_for_subject(after, context):
                edits.append((token.start, after.end, subject))  # "this model"
            elif _pronoun_use(before, after) and not any(t.is_content for t in tokens):
                edits.append((token.start, token.end, subject))  # "Why is that?"
            continue
        if word in _POSSESSIVES and after is not None and after.is_word and not after.is_function:
            end = i + 1  # "their drawbacks" -> "the drawbacks of <subject>"
            while (
                end + 1 < len(tokens)
                and tokens[end + 1].is_word
                and not tokens[end + 1].is_function
            ):
                end += 1
            phrase = " ".join(t.text for t in tokens[i + 1 : end + 1])
            edits.append((token.start, tokens[end].end, f"the {phrase} of {subject}"))
            continue
        if word in _PRONOUNS or word == "her":
            if word == "it" and _dummy_it(tokens, i):
                continue
            if replaced not in (None, word):
                continue  # "What did they build with it?": "it" is not "they" again
            replaced = word
            edits.append((token.start, token.end, subject))
    return edits


def _plural_names(tokens: list[_Token]) -> bool:
    """Whether the names among ``tokens`` are plural, what a "they" or "them" after them may
    stand for: two names joined by "and", or a name before a plural noun ("the Vicuna
    models"); not "the LMSYS study" in "How did the LMSYS study try to mitigate them?"."""
    names = [t for t in tokens if t.is_name]
    if len(names) > 1 and any(t.bare in ("and", "or") for t in tokens):
        return True
    return any(
        a.is_name and b.is_word and not b.is_name and b.bare.endswith("s") and b.bare != "s"
        for a, b in itertools.pairwise(tokens)
    )


def _plural_subject(context: Frame) -> str | None:
    """For "they": a named plural of the earlier question ("new Vicuna models"), when its
    subject is one singular name ("MT-Bench" in "What new Vicuna models did LMSYS introduce
    with the MT-Bench update?")."""
    subject = _tokens(context.subject_text, initial=False)
    if not subject or not subject[-1].is_name:  # "LLM judges": plural already; "LMSYS": not
        return None
    for run in reversed(_name_runs(_tokens(context.question))):
        last = _tokens(run.of(context.question), initial=False)[-1]
        if last.bare in _HEADS and last.bare.endswith("s"):
            return run.of(context.question)
    return None


def _remedies_the_attribute(tokens: list[_Token], context: Frame) -> bool:
    """Whether the follow-up does to a problem what one does to problems, and the earlier
    question asked for problems ("the risks of X", then "How can they be mitigated?")."""
    if context.attribute is None:
        return False
    attribute = _tokens(context.attribute.of(context.question), initial=False)
    return (
        bool(attribute)
        and bool(set(terms(attribute[-1].text)) & CONS_STEMS)
        and any(t.bare in _REMEDIES for t in tokens)
    )


def _side(token: _Token) -> int | None:
    """Which side of the debate a word takes ("open-source": 0, "closed": 1), if any."""
    first = token.bare.split("-")[0]
    return next((i for i, side in enumerate(_SIDES) if first in side), None)


def _pronoun_use(before: _Token | None, after: _Token | None) -> bool:
    """ "that" as a pronoun ("Why is that?"), not a relative ("the model that...") or determiner."""
    if (
        before is not None
        and before.is_word
        and not before.is_function
        and before.bare not in _VAGUE
    ):
        return False
    return after is None or not after.is_word or after.is_function or after.bare in _VAGUE


def _dummy_it(tokens: list[_Token], i: int) -> bool:
    """``it`` in "Is it possible to…" or "it is true that…" points at nothing."""
    window = [t.bare for t in tokens[i + 1 : i + 4]]
    return any(w in _DUMMY_IT_ADJECTIVES for w in window[:2]) and any(
        w in ("to", "that") for w in window
    )


def _what_about(rest: str, context: Frame, original: str) -> str:
    """ "What about X?": ask the earlier question again about X, or about X of its subject."""
    tokens = _tokens(rest, initial=False)
    while tokens and tokens[0].bare in _DETERMINERS | _FOR:
        tokens = tokens[1:]  # "the", and "for" in "And for GPT-3.5-turbo?"
    if not tokens:
        return original
    previous = context.question
    if tokens[0].bare in _POSSESSIVES and len(tokens) > 1:  # "What about their drawbacks?"
        attribute = rest[tokens[1].start :]
        if context.attribute is not None:
            return _finish(_replace(previous, context.attribute, attribute), original)
        return _finish(f"What about the {attribute} of {context.subject_text}", original)
    if tokens[0].bare in _PRONOUNS:
        return original
    words = [t for t in tokens if t.is_word]
    if len(words) > 4 or any(t.bare in ("that", "which", "who", "whose") for t in tokens):
        # A clause of its own ("common groundwork that makes results easier to
        # replicate") cannot be spliced into the earlier question: keep it, with
        # what the conversation is about.
        return _carry(_END.sub("", original.strip()), context, original)
    phrase = rest[tokens[0].start :]
    if tokens[-1].bare in ("one", "ones") and len(tokens) > 1 and context.subject is not None:
        # "What about closed ones?" after "... open-source LLMs?": "closed LLMs".
        head = _tokens(context.subject_text, initial=False)[-1].text
        return _finish(
            _replace(
                previous, context.subject, rest[tokens[0].start : tokens[-2].end] + " " + head
            ),
            original,
        )
    swapped = _other_side(tokens, rest, context)
    if swapped is not None:
        return _finish(swapped, original)  # "What about closed-source?"
    own = {t.bare.rstrip("s") for t in tokens if t.is_content}
    subject = {
        t.bare.rstrip("s") for t in _tokens(context.subject_text, initial=False) if t.is_content
    }
    if context.subject is not None and (any(t.is_name for t in tokens) or own & subject):
        # "What about Falcon?"; a name inside the subject is replaced alone, so that
        # "PaLM 2's battles" becomes "GPT-3.5-turbo's battles"
        inner = _name_runs(_tokens(context.subject_text, initial=False))
        target = context.subject
        if (
            any(t.is_name for t in tokens)
            and inner
            and context.subject_text != inner[-1].of(context.subject_text)
        ):
            offset = context.subject.start
            bare = _bare_name(inner[-1], context.subject_text)
            target = _Span(offset + bare.start, offset + bare.end)
        return _finish(_replace(previous, target, phrase), original)
    if context.attribute is not None:
        return _finish(_replace(previous, context.attribute, phrase), original)  # "the drawbacks"
    if context.subject is not None:  # "What about training data?" after "What is BLOOM?"
        return _finish(f"What about {phrase} of {context.subject_text}", original)
    return original


def _bare_name(run: _Span, text: str) -> _Span:
    """``run`` without a possessive "'s" ("PaLM 2" of "PaLM 2's"), as :attr:`_Token.bare`."""
    possessive = run.of(text).replace("’", "'").endswith("'s")
    return _Span(run.start, run.end - 2 if possessive else run.end)


def _other_side(tokens: list[_Token], rest: str, context: Frame) -> str | None:
    """The earlier question asked of the other side, when "What about X?" names it.

    "What about closed-source?" after "What are the perks of open-source LLMs?" is
    "What are the perks of closed-source LLMs?"; "What about proprietary models?"
    replaces the whole subject.
    """
    if context.subject is None or len(tokens) > 2:
        return None
    side = _side(tokens[0])
    if side is None:
        return None
    for token in _tokens(context.subject_text, initial=False):
        if _side(token) not in (None, side):
            if len(tokens) == 1:  # "closed-source", not "for closed-source" of "And for…?"
                start = context.subject.start + token.start
                return _replace(
                    context.question,
                    _Span(start, start + len(token.text)),
                    rest[tokens[0].start :],
                )
            return _replace(context.question, context.subject, rest[tokens[0].start :])
    return None


_PRO_VERBS = _words("do does did doing done happen happens happened")
_DANGLING = re.compile(r"\s+(?:for|about|on|with|to|of|in|from|at|by)(?=\W*$)", re.IGNORECASE)
"""A preposition left at the end once "what" is gone ("…charge for?")."""


def _replace(text: str, span: _Span, replacement: str) -> str:
    return text[: span.start] + replacement + text[span.end :]


def _no_subject(body: str, tokens: list[_Token], context: Frame) -> str:
    """A question with nothing of its own to search for ("Why?", "Which one is better?")."""
    previous = _tokens(context.question)
    words = [t for t in tokens if t.is_word]
    bare_wh = (
        bool(words)
        and words[-1].bare in _WH
        and (len(words) == 1 or (len(words) == 2 and words[0].bare in _PREPOSITIONS))
    )  # "Why?", and "With whom?"
    wh = body[words[0].start : words[-1].end] if bare_wh else ""
    if bare_wh and previous and previous[0].bare in _AUX:  # "Why?" after "Did they…?"
        return f"{wh} {context.question[:1].lower()}{context.question[1:]}"
    if (
        bare_wh
        and len(previous) > 1
        and previous[0].bare in ("when", "where", "why", "how")
        and previous[1].bare in _AUX
    ):
        return wh + context.question[previous[0].end :]  # "Why?" after "When was…?"
    if (
        bare_wh
        and len(previous) > 2
        and previous[0].bare in _PREPOSITIONS
        and previous[1].bare in _WH
        and previous[2].bare in _AUX
    ):
        return wh + context.question[previous[1].end :]  # "Why?" after "With whom did…?"
    if (
        bare_wh
        and len(previous) > 2
        and previous[0].bare == "what"
        and previous[1].bare in _AUX
        and not any(t.bare in _PRO_VERBS for t in previous[2:])  # "What did X do with Y?"
    ):
        # "Why?" after "What do closed-source LLMs charge for?": why they charge;
        # "With whom?" after "What did Microsoft agree to?": with whom Microsoft agreed
        rest = _DANGLING.sub("", context.question[previous[0].end :])
        return wh + rest
    if bare_wh:  # "Why?" after "Which companies charge for access?": why they charge
        carried = ", ".join(key_terms(context.question)) or context.subject_text
        return f"{_END.sub('', body)} ({carried})?"
    return f"{_END.sub('', body)} ({context.subject_text})?"


# --- "it" for what the previous answer named ----------------------------------------------

_ASKS_WHICH_ONE = re.compile(
    r"^\W*(?:which\s+(?!one\b|of\b)[\w\-]+|what\s+(?:company|model|organi[sz]ation|lab"
    r"|laboratory|firm|startup|dataset|benchmark|team|group|institution|university)\b)",
    re.IGNORECASE,
)
_SINGULAR_IT = _words("it its")


def points_at_the_one_answered(follow_up: str, question: str) -> bool:
    """Whether ``follow_up``'s "it" may be the thing the answer to ``question`` named:
    "Who made it?" after "Which model did EleutherAI take offline?" asks who made the
    model the answer named, not EleutherAI (see :func:`the_one_answered`)."""
    return bool(_ASKS_WHICH_ONE.match(question)) and any(
        t.bare in _SINGULAR_IT for t in _tokens(follow_up)
    )


def the_one_answered(question: str, answer: Answer) -> str | None:
    """The one thing ``answer``'s first sentence names that ``question`` did not (GPT-J for
    "Which model did EleutherAI take offline?"); None when it names none or several.

    Example:
        >>> from bot.results import Answer, Citation
        >>> quote = "EleutherAI had to take the GPT-J model offline."
        >>> cited = Citation(1, "a", "A", "", quote, 1.0, quote=quote)
        >>> the_one_answered("Which model did EleutherAI take offline?",
        ...                  Answer("Which model…?", quote, True, [cited]))
        'GPT-J model'
    """
    if not answer.answered or not answer.citations:
        return None
    first = answer.citations[0].quote.split(" … ")[0]
    asked = {t.bare for t in _tokens(question) if t.is_word}
    tokens = _tokens(first)
    new = [
        run
        for run in _name_runs(tokens)
        for names in [[t for t in tokens if run.start <= t.start < run.end and t.is_name]]
        if names
        and not any(t.bare in asked for t in names)
        and run.of(first).lower() not in COMMON_ACRONYMS
    ]
    return new[0].of(first) if len(new) == 1 else None


# --- not re-answering the previous question ---------------------------------------------


def quotes(answer: Answer) -> set[str]:
    """The sentences an answer quotes."""
    return {q.strip() for c in answer.citations for q in c.quote.split(" … ") if q.strip()}


def _main_quotes(answer: Answer) -> set[str]:
    """What an answer quotes from its first citation: the passage of its best sentence."""
    first = answer.citations[0].quote if answer.citations else ""
    return {q.strip() for q in first.split(" … ") if q.strip()}


def _gives_reason(answer: Answer) -> bool:
    return any(GIVES_REASON.search(quote) for quote in _main_quotes(answer))


def _states_what_is_asked(answer: Answer) -> bool:
    """Whether the answer's main sentence states the name, amount or date its who, how-many
    or when question asks for (and, for "who made X", the maker)."""
    asked = Question.analyse(answer.standalone_question, idf=lambda term: 1.0)
    return any(
        states_expected(asked, quote) and (not asked.asks_maker or asked.states_maker(quote))
        for quote in _main_quotes(answer)
    )


def _names_what_is_newly_asked(answer: Answer, previous: Answer) -> bool:
    """Whether the answer's main sentence names things that its question, unlike the earlier
    one, asks for by name ("Which models…?")."""
    asked = Question.analyse(answer.standalone_question, idf=lambda term: 1.0)
    before = Question.analyse(previous.standalone_question, idf=lambda term: 1.0)
    return (
        asked.asks_for_named
        and not before.asks_for_named
        and any(names_something(q, answer.standalone_question) for q in _main_quotes(answer))
    )


_TYPED = ("who", "quantity", "time")
"""Kinds of question only a sentence stating a name, an amount or a date answers."""


def repeats_earlier(answer: Answer, earlier: Sequence[Answer]) -> Answer | None:
    """The earlier answer that ``answer`` merely repeats, if any.

    A follow-up that asks something new must not get the previous answer again:
    "Who made BLOOM?" after "What is BLOOM?" must not quote "BLOOM: An open-source
    model..." a second time. An answer repeats an earlier one when it quotes only
    sentences that the earlier answer quoted, its own first citation's among the
    earlier answer's first citation's (a sentence quoted only in support, from another passage,
    may answer the follow-up: "We select ten questions per category" for "And how
    many went into each?" after "How many question categories…?"), the two were asked different
    questions, and none of those sentences (nor the headings they sit under)
    contains a term that the new question adds: "GPT-NeoX" in "What licence does
    GPT-NeoX use?" after the same question about LLaMA may well be answered by the
    same sentence, and "closed" by a sentence under "Closed Source LLMs". A why-question
    after one that was not is answered by a repeated sentence that gives the reason
    ("…needed to take away the GPT-J model … as a result of exploding hosting costs"),
    and a who, how-many or when question by one that passed its type's rules ("BERT: A
    model by Google…" for "Who made it?" after "What is BERT?").

    Args:
        answer: The answer to the new (standalone) question.
        earlier: Earlier answers of the conversation, most recent last.
    """
    said = quotes(answer)
    if not answer.answered or not said:
        return None
    kind = kind_of(answer.standalone_question)
    # What the quoted sentences say, with the headings they sit under.
    stated = set(terms(" ".join(f"{c.quote} {c.section}" for c in answer.citations)))
    for previous in reversed(earlier):
        if not previous.answered or previous.standalone_question == answer.standalone_question:
            continue
        if not said <= quotes(previous) or not _main_quotes(answer) <= _main_quotes(previous):
            continue  # a sentence it only quoted in support ([2]) may answer a follow-up
        if kind != kind_of(previous.standalone_question) and (
            _states_what_is_asked(answer)
            if kind in _TYPED
            else kind == "why" and _gives_reason(answer)
        ):
            # "Why?" after "What did EleutherAI do with GPT-J?": "…as a result of…";
            # "Who made it?" after "What is BERT?": "BERT: A model by Google…"
            continue
        if _names_what_is_newly_asked(answer, previous):
            # "Which models use them?" after "What licences do open models use?": "Fashions
            # like GPT-NeoX, LLaMA… use agreements like Apache 2.0" names them
            continue
        new = set(query_terms(answer.standalone_question)) - set(
            query_terms(previous.standalone_question)
        )
        if not new & stated:
            return previous
    return None
