"""What a question asks for: its kind, its weighted terms and the names it mentions.

Pure text analysis (no model, no store), shared by the answerer's features.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from bot.terms import HOW_ADJECTIVES, KIND_NOUNS, KIND_STEMS, KINDS_OF, query_terms, terms

Kind = Literal["quantity", "time", "who", "outcome", "yesno", "list", "why", "other"]

_ASKS_QUANTITY = re.compile(
    rf"^\W*(how\s+(many|much|{'|'.join(HOW_ADJECTIVES)})\b"
    r"|what\s+(percentage|proportion|share|size|number|amount)\b"
    r"|what\s+is\s+the\s+(size|number|amount|percentage|cost|price)\b)",
    re.IGNORECASE,
)
# "What learning rate...", "What is PaLM's context window length?", "Which batch size...":
# the thing asked for is a measurement, so only a sentence stating an amount answers it.
_ASKS_MEASURE = re.compile(
    r"^\W*(what|which)(?:['’]s)?\s+(?:[^?\s]+\s+){0,4}?(learning\s+rates?|batch\s+sizes?|context\s+(window|length)s?"
    r"|window\s+(size|length)s?|parameter\s+counts?|elo(\s+(rating|score))?|\w+\s+score\s+did|accuracy"
    r"|prices?|costs?|budget|revenues?|income|profits?|valuation|sizes?|lengths?|percentage"
    r"|number\s+of|amount\s+of|count\s+of)\b",
    re.IGNORECASE,
)
# "Who wins the debate?", "Which approach will prevail?", "Will open-source LLMs win?", "Is
# either side going to win?", "Does the author think one camp will win outright?", "Is there
# a clear winner?": asks how a contest ends.
_ASKS_OUTCOME = re.compile(
    r"^\W*((who|which\b[^?]*?)\s+(will\s+|would\s+|might\s+|is\s+going\s+to\s+)?"
    r"|(will|would|could|might)\s+[^?]+?\s+"
    r"|(is|are|does|do)\b[^?]*?\b(will|would|going\s+to|likely\s+to|expected\s+to)\s+)"
    r"(win|wins|won|winning|prevail|prevails|dominate|dominates|triumph|triumphs"
    r"|come\s+out\s+on\s+top)\b"
    r"|^\W*(is|are|does|do|did|who)\b[^?]*?\b(predicts?|names?|picks?|declares?|there|be|is|was)"
    r"\s+(an?\s+|the\s+|any\s+|one\s+)?(clear\s+|outright\s+|obvious\s+|single\s+)?winners?\b",
    re.IGNORECASE,
)
# "Which is better, open or closed source LLMs?", "Which approach is better?": asks for the
# articles' verdict on the contest, not for a comparison along one attribute ("…better for
# privacy…") or of named things ("…, Vicuna or Alpaca?", see :func:`kind_of`).
_ASKS_WHICH_IS_BETTER = re.compile(
    r"^\W*(?:which|what)\s+(?:is|are|would\s+be|will\s+be)\s+(?:the\s+)?(?:better|best|superior"
    r"|preferable|better\s+choice|best\s+choice|way\s+to\s+go)\b"
    r"(?![^?]*\b(?:for|at|in|when|if|on|with|regarding|about|to)\b)[^?]*\bor\b"
    r"|^\W*which\s+(?:approach|side|camp|option)\s+(?:is|would\s+be|will\s+be)\s+(?:the\s+)?"
    r"(?:better|best|superior|preferable)\W*$",
    re.IGNORECASE,
)
OUTCOME = re.compile(
    r"\b(win|wins|winning|winner|won|prevail\w*|dominat\w*|triumph\w*|emerge\w*"
    r"|come\s+out\s+on\s+top|outcompete\w*|overtake\w*)\b",
    re.IGNORECASE,
)
"""A sentence that says how a contest ends, or might."""
_OUTCOME_WORDS = "prevail dominate"
"""How articles say a contest ends, searched for besides a "who wins" question's own words."""
_CONTEST = frozenset(
    terms(
        "side sides camp camps either one outright author authors article articles think "
        "expect predict going end eventually ultimately clear overall debate battle contest"
    )
)
"""Words that frame a "who wins" question (the contest, its sides, who foresees the end), not
what it asks about: "Is either side going to win?" uses none the knowledge base lacks."""
_ASKS_TIME = re.compile(r"^\W*(when\b|(in\s+)?(what|which)\s+year\b)", re.IGNORECASE)
_ASKS_CIRCUMSTANCE = re.compile(
    r"^\W*when\s+(should|would|could|might|to|do\s+(i|you|we)|does\s+it)\b"
    r"|^\W*when\b[^?]*\b(useful|helpful|appropriate|needed|necessary|recommended|preferable"
    r"|better|best|worth|wise|advisable|ideal|suitable|a\s+good\s+(idea|choice|fit)|makes?\s+sense"
    r"|considered|deemed|regarded|counted|treated|allowed|permitted|required|eligible)\b",
    re.IGNORECASE,
)
""""When is a scenario prompt useful?", "When is a model considered unreleased?", "When should
I fine-tune?": a circumstance, not a date."""
_LEADING_CLAUSE = re.compile(
    r"^\W*(when|if|while|after|before|once|given|for|in|on|at|to|besides|apart\s+from)\b[^,?]{3,120},\s*"
    r"(?=(what|which|who|whom|whose|why|how|when|where|is|are|was|were|does|do|did|can|could"
    r"|will|would|should|has|have|had)\b)",
    re.IGNORECASE,
)
"""A clause before the question proper: "When calling a fine-tuned model, why put ### last?"."""
_ASKS_WHO = re.compile(
    r"^\W*(who\b(?!\s+(will\s+|is\s+going\s+to\s+)?(wins?|winning|leads?|dominates?|prevails?|benefits?|should|loses?)\b)|(?:with\s+|by\s+|for\s+|to\s+|from\s+)?whom\b|which\s+(company|companies|organi[sz]ations?|firms?|lab|labs|team|group|people)\b)",
    re.IGNORECASE,
)
_ASKS_YESNO = re.compile(
    r"^\W*(is|are|was|were|does|do|did|can|could|will|would|should|has|have|had|may|might|must)\b",
    re.IGNORECASE,
)
_ASKS_WHY = re.compile(
    r"^\W*(why\b|how\s+come\b|how\s+(does|do|did|can|could|is|are|would|will)\b"
    r"|what(?:['’]s|\s+(?:is|was))?\s+(?:the\s+)?(?:main\s+)?(?:reason|reasoning"
    r"|rationale|motivation|motive|cause|justification)\b"
    r"|what\s+(?:motivated|motivates|justified|justifies|caused|causes|prompted|prompts"
    r"|led\s+to|leads\s+to|explains|explained)\b|for\s+what\s+reasons?\b)",
    re.IGNORECASE,
)
"""A why or how question, also asked for its reason in other words: "What motivated…?",
"What's the reason LMSYS holds back…?", "What was the reasoning behind…?" (the reasons for
something, plural, are a list of them)."""
# A plural thing asked for: "What are the drawbacks...", "Which benefits...", "Which RAIL
# license variants exist...", "List the...",
# "Name some...", "What challenges...".
_ASKS_LIST = re.compile(
    r"^\W*(what\s+are\b|which\s+(?!(?:is|was|has|does)\b)\w+s\b"
    r"|which\s+([\w\-]+\s+){1,3}(?!(?:was|is|has|does|this)\b)[\w\-]+s"
    r"\s+(exist|are|were|do|did|can|could|have|had|should|would|will|might|may)\b"
    r"|what\s+\w+s\s+(do|does|did|are|can|could|would|should)\b"
    r"|list\b|name\s+(some|the|a\s+few|a\s+couple|several|any|all|two|three|four|five|six|\d+)\b"
    r"|what\s+(kinds|types|sorts)\s+of\b|give\s+((me|us)\s+)?(some|examples"
    r"|the\s+([\w\-]+\s+){0,2}[\w\-]+s\b)"
    r"|what\s+(kind|type|sort)\s+of\s+((?!this\b)[\w\-]+s|[\w\-]+\s+[\w\-]+s\s+(do|did|are|were"
    r"|can|could|should|would|will|might|have|exist))\b)",
    re.IGNORECASE,
)
"""("Name three types of LLMs" too. "What future plans does LMSYS list…", a plural after
modifiers, was tried: on the dev split it fixed one list and broke two.) One kind of a
thing is asked for one ("What kind of license does Alpaca use?", "What sort of material
goes into…"); one kind of several things for a list ("What kind of new tests do…")."""

# "What are LLMs?", "What are hybrid models?": what a thing is, not a list of things.
# "What are the drawbacks…", "What are examples of…" still ask for a list.
_ASKS_DEFINITION = re.compile(
    r"^\W*what\s+are\s+(?!(?:the|some|their|its|these|those|your|our|all|any|\w+s\s+of)\b)"
    r"(?!.*\b(of|for|in|on|to|with|between|from|by|about|that|do|does|can|should)\b)"
    r"([\w\-’']+\s+){0,3}[\w\-’']+\W*$",
    re.IGNORECASE,
)

# Wider than the above ("What is BLOOM?", "What are the …?"), for the answer, not the kind.
_ASKS_WHAT_IT_IS = re.compile(
    r"^\W*what(?:\s+is|'s|\s+are)\s+(?:an?\s+|the\s+)?(?!.*\b(of|for|in|on|to|with|between|from|by"
    r"|about|that|do|does|can|should|used|mean|known)\b)([\w\-’']+\s+){0,3}[\w\-’']+\W*$",
    re.IGNORECASE,
)
"""What a thing is: "What are hybrid models?", "What is BLOOM?"."""
_ASKS_WHICH_ATTRIBUTE = re.compile(
    r"^\W*(?:what|which)\s+(?P<kind>(?:[\w\-]+\s+){0,2}?[\w\-]+)\s+(?:is|are|was|were|does|do"
    r"|did|has|have)\b",
    re.IGNORECASE,
)
"""What or which, the kind of value asked for, and the verb: "What license is…"."""
_NEVER_A_TERM = "\x00"
"""No text's term: its IDF is that of a term the knowledge base never uses."""
_ASKS_WHAT_IT_IS_START = re.compile(r"^\W*what(?:\s+is|'s|\s+are)\s+", re.IGNORECASE)
_ASKS_HOW_IT_WORKS = re.compile(
    r"^\W*how\s+(?:does|do)\s+(?:an?\s+|the\s+)?(?!.*\b(?:their|its|our|your|my|his|her)\s+work\b)"
    r"((?:[\w\-’']+\s+){0,4}[\w\-’']+)\s+work\b"
    r"(?:\s+(?:in|for|with)\s+[^?]*)?\W*$",
    re.IGNORECASE,
)
"""How a thing works: "How does retrieval-augmented generation work (in LLMs)?"."""
_ASKS_WHAT_IT_IS_AND = re.compile(
    r"^\W*what(?:\s+is|'s|\s+are)\s+(?:an?\s+|the\s+)?((?:[\w\-’']+\s+){0,3}[\w\-’']+)"
    r"\s+and\s+(?:when|why|how|where|what|who|which|should|can|could|is|are|do|does)\b",
    re.IGNORECASE,
)
"""What a thing is, and more: "What is retrieval-augmented generation and when should I use
it?"."""
_ASKS_WHAT_IT_IS_IN = re.compile(
    r"^\W*what(?:\s+is|'s|\s+are)\s+(?:an?\s+)?(?!the\b)"
    r"(?!.*\b(?:of|for|on|to|with|between|from|by|about|that|do|does|can|should|used|mean|known)"
    r"\b.*\b(?:in|within)\b)((?:[\w\-’']+\s+){0,2}[\w\-’']+)\s+(?:in|within)\s+"
    r"(?:an?\s+|the\s+)?(?:[\w\-’']+\s+){0,3}[\w\-’']+\W*$",
    re.IGNORECASE,
)
"""What a thing is, within a field: "What is quantization in LLMs?" asks what quantization is.
Not "What are the main arguments in the debate?": "the" points at something in it."""

NUMBER = re.compile(
    r"\d+(?:[.,]\d+)*|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|twenty|thirty|forty|fifty|(?:multi-?)?(?:hundreds?|thousands?|millions?|billions?|trillions?)"
    r"|dozens?"
    r"|half|double|twice)\b"
    r"|\bone\s+(?:hour|day|week|month|year|hundred|thousand|million|billion)\b",
    re.IGNORECASE,
)
"""An amount. "one" only with a unit ("in one day"): alone it is mostly no amount ("one
approach", "no one")."""
TIME = re.compile(
    r"\b(?:1[5-9]\d\d|20\d\d)s?\b|\b(?:january|february|march|april|may|june|july|august"
    r"|september|october|november|december)\b|\b(?:years?|months?|weeks?|days?)\s+ago\b"
    r"|\b(?:yesterday|today|last\s+year|this\s+year)\b",
    re.IGNORECASE,
)
# A capitalised or alphanumeric token: a name ("BLOOM", "EleutherAI", "GPT-4", "7B",
# "chat-bison@001").
_NAME = re.compile(r"\b(?:[A-Z][\w.\-@]*|[\w\-@]*\d[\w.\-@]*)")
_BARE_NUMBER = re.compile(r"[\d.,%]+|\d[\d.,]*(-[a-z]+)+")
"""A number, a year or a size ("2019", "7-billion-parameter"): digits, but no name."""
_NAMED_BEFORE = re.compile(r"[A-Z][\w.\-]*")
"""A name a number may continue ("PaLM 2"; not "OpenAI's 2019")."""


@dataclass(frozen=True)
class Question:
    """A question, analysed once per ask.

    Attributes:
        text: The question as asked.
        kind: What sort of answer it expects.
        weights: IDF weight of each content term (stemmed, question words removed).
        rare: The rarer half of the content terms (what the question is specifically about).
        names: Stemmed terms of the names it mentions ("GPT-4" -> gpt, 4).
        unknown: Share of its content terms found nowhere in the knowledge base
            (paraphrase, or a question about something else).
        contrasts: Terms opposite to what it asks ("closed" when it asks about
            "open"; "advantages" when it asks about "risks").
    """

    text: str
    kind: Kind
    weights: dict[str, float]
    rare: frozenset[str]
    names: frozenset[str]
    unknown: float = 0.0
    contrasts: frozenset[str] = frozenset()
    opposed: frozenset[str] = frozenset()
    """The question's own terms that have an opposite (``open`` in "risks of open models")."""
    unknown_names: float = 0.0
    """Share of the names it mentions that the knowledge base never uses ("Australia")."""
    sides: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()
    """Per opposition the question takes one side of: (that side's terms, the other side's)."""
    name_units: tuple[frozenset[str], ...] = ()
    """Each name it mentions as a whole ("GPT-NeoX" -> {gpt, neox}, "LLaMA 2" -> {llama, 2}):
    a sentence is about the name only if it holds all of them."""
    unheard_name: bool = False
    """One of the names it mentions uses a word the knowledge base never does ("Mistral")."""
    measure: tuple[frozenset[str], ...] = ()
    """Ways of naming what a "what learning rate / batch size / context window / Elo /
    hardware" question measures (each a set of words said together); a sentence that names it in
    none of them does not state it."""
    attributes: frozenset[str] = frozenset()
    """What it asks about the names it mentions: its other content terms the knowledge
    base uses. Empty when it names nothing, or asks nothing beyond the name ("What
    is BLOOM?"). A term the knowledge base never uses is left out: "spend" in a
    question about an article that says "consumed" is a paraphrase, not a near miss.
    ("Who founded Cohere?" is one all the same: :attr:`asks_maker` catches it.)
    A who-question's answer type and making verb are not attributes ("company" and
    "made" in "Which company made BERT?")."""
    asks_maker: bool = False
    """A who-question about who made something it names ("Which company made BERT?"): the
    answer must say so, in a making verb, "by <name>" or "<name>'s <thing>"
    (:meth:`states_maker`). Not "Which companies develop closed models?" (it names
    nothing) nor "Who pays for closed-source development?" (it asks with no making verb)."""
    subject_heads: frozenset[str] = frozenset()
    """The noun a name qualifies after "the" ("decontaminator" in "Is the LLM decontaminator
    open source?", "team" in "Will the Vicuna team release the dataset?"): part of what the
    question is about, not of what it asks about it."""
    qualifiers: frozenset[str] = frozenset()
    """Names that qualify a noun after "the" ("Stanford" in "Does the Stanford model make
    things up?"): they describe what is asked about; its article may say them anywhere."""
    counted: frozenset[str] = frozenset()
    """What a "how many" question counts, in the words the knowledge base uses ("gpu" in
    "How many GPUs…?"); empty when it uses none of them ("graphics cards" for "GPUs" is
    another way of saying it)."""
    unheard_weight: float = 1.0
    """The IDF weight of a term the knowledge base never uses (the largest there is)."""

    @functools.cached_property
    def own_terms(self) -> frozenset[str]:
        """Its weighted terms in the asker's own words, without those the query added in
        brackets (:func:`with_senses`: "challenges, drawbacks" for "concerns")."""
        return frozenset(query_terms(_BRACKETED.sub("", self.text))) & set(self.weights)

    @functools.cached_property
    def role(self) -> frozenset[str]:
        """The words that state the role a "Who is the CEO of …?" question asks who holds
        (:data:`_ROLE_WORDS`); empty for any other question."""
        match = _ASKS_ROLE.search(self.text)
        return _ROLE_WORDS[_role_of(match["role"])] if match else frozenset()

    def lacks_role(self, present: set[str]) -> bool:
        """Whether ``present`` never states the role asked about: "OpenAI spent hundreds of
        thousands coaching GPT-3…" names people at OpenAI's rivals, not OpenAI's CEO."""
        role = self.role
        return bool(role) and not role & present

    @property
    def sense_subject(self) -> frozenset[str]:
        """What a question asking for pros or cons asks them of, by its rarer words: "hybrid"
        in "What are the drawbacks of hybrid models?" (empty for any other question, and
        when it names nothing after "of": "What problems do community models run into?")."""
        match = _ASKS_SENSE.search(self.text)
        of = _OF_WHAT.match(self.text, match.end()) if match and self.kind == "list" else None
        if of is None:
            return frozenset()
        of_terms = terms(_GENERALLY.sub("", of.group(1)))  # "of LLMs in general"
        side = next((t for t in of_terms if side_of(t)), None)
        if side:  # "openly available LLMs", "community-built models": that side, however named
            return frozenset({side})
        return frozenset(t for t in of_terms if self._says_what(t))

    def _says_what(self, term: str) -> bool:
        """Whether ``term`` is rare enough to say what is asked about ("hybrid", not "model"),
        and no word for asking pros or cons."""
        return self.weights.get(term, 0.0) >= SUBJECT_WEIGHT and not any(
            term in sense for sense in _ASKING_STEMS
        )

    @property
    def defined_subject(self) -> frozenset[str]:
        """What "What is X?", "What is X and …?" or "How does X work?" asks about: the words
        of X that say what is asked ("reinforc", "learn", "human", "feedback"; not "model"),
        and those the knowledge base never uses ("augment"). Empty for any other question."""
        works = (
            _ASKS_HOW_IT_WORKS.match(self.text)
            or _ASKS_WHAT_IT_IS_AND.match(self.text)
            or _ASKS_WHAT_IT_IS_IN.match(self.text)
        )
        if works:
            phrase = works.group(1)
        elif self.defines:
            phrase = _ASKS_WHAT_IT_IS_START.sub("", self.text)
        else:
            return frozenset()
        unheard = self.unheard_terms - set(itertools.chain.from_iterable(_ASKING_STEMS))
        return frozenset(t for t in terms(phrase) if self._says_what(t) or t in unheard)

    def names_defined(self, present: set[str] | frozenset[str]) -> bool:
        """Whether ``present`` names what :attr:`defined_subject` is: every name in it, and
        at least half of it by IDF weight (a side in any of its words: "Closed-Source" names
        "proprietary"). Not all of it: the spun article calls the OpenAPI standard the
        "OpenAPI normal". "…reinforcing our commitment to openness" does not name
        reinforcement learning from human feedback. A word the knowledge base never uses
        ("augmented") weighs as much as a term can: "text generation, retrieval, …" does
        not name retrieval-augmented generation."""
        subject = self.defined_subject
        held = {t for t in subject if present & (side_of(t) or {t})}
        if not subject.intersection(self.names) <= held:
            return False

        def weight(terms: Iterable[str]) -> float:
            return sum(self.weights.get(t, self.unheard_weight) for t in terms)

        return weight(held) >= 0.5 * weight(subject)

    def names_subject(self, present: set[str] | frozenset[str]) -> bool:
        """Whether ``present`` names what the pros or cons are asked of (:attr:`sense_subject`),
        a side in any of its words: "Closed-Source" names "proprietary models"."""
        return all(bool(present & (side_of(term) or {term})) for term in self.sense_subject)

    @property
    def section_asked(self) -> frozenset[str]:
        """The section whose content it asks for ("conclusion" in "What does the conclusion
        say?", "Summarize the introduction"), as terms; empty for any other question."""
        match = _ASKS_SECTION.match(self.text)
        if not match:
            return frozenset()
        return frozenset(terms(match.group("a") or match.group("b") or "")) - {"section"}

    @property
    def list_heading_asked(self) -> tuple[frozenset[str], frozenset[str]] | None:
        """The heading of the list a list question asks for, as the words for what it lists
        and the terms of what that is of: ({"type", "kind", …}, {"llm"}) for "What kinds of
        LLMs are there?" or "Name three types of LLMs"; (every word for the pros, {"llm"})
        for "What are the advantages of LLMs in general?". None for any other question."""
        return list_heading_asked(self.text)

    @property
    def topic_asked(self) -> frozenset[str]:
        """What "What is X about?" asks the topic of, as terms ("debat" in "What is the debate
        about?"); empty for any other question."""
        match = _ASKS_TOPIC.match(self.text)
        return frozenset(query_terms(match.group("x"))) if match else frozenset()

    @property
    def asks_remedy(self) -> bool:
        """Whether it asks how to deal with drawbacks it names ("How can the risks of open
        models be mitigated?", "What helps offset the drawbacks of both?"): the drawbacks
        themselves are no answer."""
        return bool(_REMEDY.search(self.text)) and bool(set(terms(self.text)) & CONS_STEMS)

    @property
    def asks_how_to(self) -> bool:
        """Whether it asks the reader's way to do something ("How do I deploy an open-source
        LLM?", "How can we reduce hosting costs?", "What's the best way to run BLOOM
        locally?"): articles that never give a way of doing it (:func:`gives_a_way`) do not
        answer it."""
        return bool(_ASKS_HOW_TO.match(self.text))

    @property
    def asks_which_attribute(self) -> bool:
        """Whether it asks which value something it names has, by the value's kind ("What
        license is Phi-1 released under?", "Which programming language is ChEMBL written
        in?"): the answer says so of that thing (:attr:`attributes` and :attr:`names`)."""
        match = _ASKS_WHICH_ATTRIBUTE.match(self.text)
        return (
            self.kind == "other"
            and match is not None
            and not _NAME.search(match.group("kind"))
            and bool(self.names)
            and bool(self.attributes)
        )

    @property
    def asks_advice(self) -> bool:
        """Whether it asks what someone should do ("What should developers do to prepare
        for the future of LLMs?"): an article's recommendations are a list, answered whole."""
        return bool(_ASKS_ADVICE.match(self.text))

    @property
    def asks_which_named(self) -> bool:
        """Whether it asks which thing of a kind, and asks nothing of it beyond the kind
        ("Which model did EleutherAI take offline?"): a sentence that names one answers it
        without saying the kind's word ("…take away the GPT-J mannequin…")."""
        match = _ASKS_WHICH_ATTRIBUTE.match(self.text)
        return (
            self.asks_which_attribute
            and match is not None
            and self.attributes <= frozenset(terms(match.group("kind")))
        )

    @property
    def asks_place(self) -> bool:
        """Whether it asks where something is ("Where is EleutherAI based?", "Where are
        Anthropic's headquarters?"): only a sentence that names a place answers it."""
        return bool(_ASKS_PLACE.match(self.text))

    @cached_property
    def unheard_terms(self) -> frozenset[str]:
        """Its content terms the knowledge base never uses ("pay" beside "cost for entry")."""
        return frozenset(query_terms(self.text)) - set(self.weights)

    @property
    def expands(self) -> str | None:
        """The acronym it asks the long form of ("What does ONNX stand for?": ``"ONNX"``)."""
        match = _ASKS_EXPANSION.match(self.text)
        return (match.group("acronym") or match.group("named")) if match else None

    @property
    def asks_for_named(self) -> bool:
        """Whether it asks which named things are so ("Which models are open source?",
        "Which companies develop closed models?"): an answer names some."""
        return bool(_ASKS_NAMED.match(self.text))

    @property
    def senses_asked(self) -> frozenset[str]:
        """All the words for the pros, the cons or both that it asks with ("cons": every
        word for the cons, "challenges", "risks"…)."""
        asked = set(terms(self.text))
        return frozenset().union(*(sense for sense in _ASKING_STEMS if asked & sense))

    @property
    def defines(self) -> bool:
        """Whether it asks what a thing is ("What are hybrid models?", "What is BLOOM?")."""
        return bool(_ASKS_WHAT_IT_IS.match(self.text)) and not _ASKS_SENSE.search(self.text)

    @property
    def compared(self) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
        """The open/closed sides it asks about both of ("How do open and closed LLMs differ?")."""
        asked = set(terms(self.text))
        open_side, closed_side = _OPPOSITES[0]
        return ((open_side, closed_side),) if asked & open_side and asked & closed_side else ()

    @property
    def compared_names(self) -> tuple[frozenset[str], frozenset[str]] | None:
        """The two things a comparison names ("What is the difference between BERT and GPT?"
        -> BERT, GPT), each as the terms of its name; None for any other question."""
        if len(self.name_units) != 2 or not any(p.match(self.text.strip()) for p in _COMPARISONS):
            return None
        return self.name_units[0], self.name_units[1]

    @property
    def asks_both_senses(self) -> bool:
        """Whether it asks for the pros *and* the cons ("What are the pros and cons of…")."""
        asked = set(self.weights) | set(terms(self.text))
        return self.kind == "list" and all(asked & sense for sense in SENSE_STEMS)

    def sense_of(self, headings: set[str]) -> int | None:
        """Which of the pros (0) or the cons (1) ``headings`` file a list under, if one only."""
        found = [i for i, sense in enumerate(SENSE_STEMS) if sense & headings]
        return found[0] if len(found) == 1 else None

    def off_side(self, headings: set[str]) -> bool:
        """Whether headings are about the other side only ("Open Source › Challenges" for closed)."""
        return any(other & headings and not own & headings for own, other in self.sides)

    @classmethod
    def analyse(
        cls,
        text: str,
        idf: Callable[[str], float],
        known: Callable[[str], bool] = lambda term: True,
        related: Callable[[str], bool] | None = None,
    ) -> Question:
        """Weigh the question's terms by IDF; terms the knowledge base lacks weigh nothing.

        ``related`` says whether a term or another form of it occurs (for
        :attr:`unknown`); default ``known``.
        """
        all_terms = list(dict.fromkeys(query_terms(text)))
        weights = {term: idf(term) for term in all_terms if known(term)}
        ranked = sorted(weights, key=lambda t: -weights[t])
        rare = frozenset(ranked[: math.ceil(len(ranked) / 2)])
        # "How many GPUs…?": what is counted is asked about, however it is written
        counted = _counted(text)
        mentioned = (_names(text) - counted) & set(all_terms)
        names = mentioned & set(weights)
        unknown_names = 1 - len(names) / len(mentioned) if mentioned else 0.0
        seen = related or known
        measure = _measure_words(text)
        units = tuple(u for u in _name_units(text) if not any(u <= m for m in measure))  # "GPUs"
        # "wins" in "Who wins the debate?" is the frame the outcome rule reads, not content;
        # so are the sides and who judges ("Is either side going to win?")
        outcome = kind_of(text) == "outcome"
        framing = set(terms(" ".join(OUTCOME.findall(text)))) | _CONTEST if outcome else set()
        content = [t for t in all_terms if t not in framing]
        # "charge" in a knowledge base that says "cost" is a word for what it says, not news
        said = {t for sense in _ATTRIBUTE_SENSES if any(map(known, sense)) for t in sense}
        unknown = (
            sum(not seen(t) and t not in said for t in content) / len(content)
            if content
            else float(not outcome)  # "Who will win?" asks only how the contest ends
        )
        asked = set(all_terms)
        contrasts = {
            other
            for term in asked
            for side in _OPPOSITES
            if term in side[0]
            for other in side[1]
            if other not in asked
        }
        opposed = {term for term in asked for side in _OPPOSITES if term in side[0]}
        sides = tuple(
            (own, other) for own, other in _OPPOSITES if own & asked and not other & asked
        )
        return cls(
            text,
            kind_of(text),
            weights,
            rare,
            frozenset(names),
            unknown,
            frozenset(contrasts),
            frozenset(opposed),
            unknown_names,
            sides,
            units,
            any(not seen(term) for unit in units for term in unit),
            measure,
            # "pay" in a knowledge base that says "cost" is asked too, in other words
            frozenset((set(weights) | set(content) & said) - names - _answer_type(text))
            if names
            else frozenset(),
            kind_of(text) == "who"
            and bool(names)
            and bool(_MAKING_WORDS & _raw_words(_CAUSATIVE.sub(" ", text))),
            frozenset(_subject_heads(text)) & set(weights),
            frozenset(_qualifying_names(text)) & names,
            frozenset(counted) if counted <= set(weights) else frozenset(),
            idf(_NEVER_A_TERM),
        )

    def lacks_attribute(self, present: set[str]) -> bool:
        """Whether ``present`` says none of what the question asks of what it names.

        "OpenAI spent hundreds of thousands coaching GPT-3" names GPT-3 but says
        nothing of "parameters": the near miss the issue describes. Whatever it names:
        "Microsoft agreed to multibillion greenback partnerships with OpenAI" names OpenAI and
        an amount, not what OpenAI charges per token for GPT-4.
        """
        return bool(self.attributes) and not self.attributes & said_of(present)

    def lacks_count(self, present: set[str]) -> bool:
        """Whether ``present`` never says what a "how many" question counts: "ranging from 7B
        to 33B parameters" does not say how many GPUs trained Vicuna-33B."""
        return bool(self.counted) and not self.counted & said_of(present)

    def about_other_names(self, present: set[str]) -> bool:
        """Whether ``present`` holds none of the names the question mentions, each whole.

        "GPT-4" is not "GPT-NeoX" or "GPT-3", "2048" is not "LLaMA 2", and a name the
        knowledge base never uses ("Jurassic-1 Jumbo") is held by no sentence.
        """
        if self.unheard_name:
            return True
        return bool(self.name_units) and not any(unit <= present for unit in self.name_units)

    def names_another_version(self, sentence: str) -> bool:
        """Whether ``sentence`` names another version of a versioned name the question
        asks about, and not the one asked: "OpenAI spent hundreds of thousands coaching
        GPT-3" says nothing of what GPT-4 cost, nor "Vicuna-7B" of Vicuna-13B."""
        for match in _VERSIONED.finditer(self.text):
            stem, version = match.group("stem"), match.group("version").lower()
            stems = set(terms(stem))
            if not stems or not stems <= self.names:
                continue  # "In 2023": no name
            said = {
                m.group(1).lower()
                for m in re.finditer(
                    rf"\b{re.escape(stem)}[-\s]?(\d+(?:\.\d+)?[a-z]?)\b", sentence, re.IGNORECASE
                )
            }
            if said and version not in said:
                return True
        return False

    def states_maker(self, sentence: str) -> bool:
        """Whether ``sentence`` says who made what the question names.

        "Meta's LLaMA", "GPT Models: OpenAI’s series of models…"; "Meta released LLaMA" (the
        name after an active making verb);
        "LLaMA was developed by Meta" and "BERT: A model by Google" (the name before
        "by"). Not "models like T5 and BERT", nor "…and OpenAI develop them" for "Who
        founded OpenAI?" (there OpenAI is the maker of something else).
        """
        if any(set(terms(m.group(1))) & self.names for m in _POSSESSED.finditer(sentence)):
            return True
        label = _LABEL.match(sentence)  # "GPT Models: OpenAI’s series of models…"
        if (
            label
            and any(unit and unit <= set(terms(label.group(0))) for unit in self.name_units)
            and _POSSESSED.search(sentence, label.end())
        ):
            return True
        words = _TOKEN.findall(sentence)
        stems = [set(terms(w)) for w in words]

        def named(part: list[set[str]]) -> bool:
            present = set().union(*part) if part else set()
            units = self.name_units or (self.names,)
            return any(unit and unit <= present for unit in units)

        for i, word in enumerate(words):
            if word.lower() == "by" and i + 1 < len(words) and words[i + 1][:1].isupper():
                if named(stems[:i]):
                    return True
            elif stems[i] & _MAKING:
                passive = any(w.lower() == "by" for w in words[i + 1 : i + 4])
                if named(stems[:i] if passive else stems[i + 1 :]):
                    return True
        return False

    def lacks_measure(self, present: set[str]) -> bool:
        """Whether ``present`` says nothing of the measure asked for ("batch size")."""
        return bool(self.measure) and not any(w <= present for w in self.measure)

    def plain_coverage(self, present: set[str]) -> float:
        """Unweighted share of the question's known terms found in ``present``."""
        if not self.weights:
            return 0.0
        return sum(1 for t in self.weights if t in present) / len(self.weights)

    def coverage(self, present: set[str], within: frozenset[str] | None = None) -> float:
        """IDF-weighted share of the question's terms (or of ``within``) found in ``present``."""
        chosen = self.weights if within is None else {t: self.weights[t] for t in within}
        total = sum(chosen.values())
        if total <= 0:
            return 1.0 if within is not None else 0.0
        return sum(w for t, w in chosen.items() if t in present) / total

    def missing(self, present: set[str]) -> float:
        """The largest IDF among the question's terms absent from ``present``, over the largest IDF."""
        if not self.weights:
            return 0.0
        top = max(self.weights.values()) or 1.0
        absent = [w for t, w in self.weights.items() if t not in present]
        return max(absent, default=0.0) / top


def _stems(words: str) -> frozenset[str]:
    return frozenset(terms(words))


_TOKEN = re.compile(r"[\w][\w\-.’']*")
_MAKING_VERBS = (
    "make made makes develop developed develops create created creates build built builds"
    " design designed designs release released releases produce"
    " produced produces launch launched launches maintain maintained maintains publish"
    " published publishes own owned owns found founded founds behind"
)
_MAKING = _stems(_MAKING_VERBS)
"""How a who-question asks who made something; a sentence says it in any of them. Not
"train": "pre-trained" and "trained on" say nothing of who did it."""
_VERSIONED = re.compile(r"\b(?P<stem>[A-Z][A-Za-z]+)[-\s]?(?P<version>\d+(?:\.\d+)?[A-Za-z]?)\b")
"""A name with its version or size: "GPT-4", "GPT-3.5", "LLaMA 2", "Vicuna-13B"."""
_CAUSATIVE = re.compile(
    r"\bmak(?:e|es|ing)\s+(?:you|people|users|us|them|customers|developers|anyone|everyone)\b",
    re.IGNORECASE,
)
""""Make" that has someone do something ("Which companies make you pay…?"), not make a thing."""
_MAKING_WORDS = frozenset(_MAKING_VERBS.split())
"""The verbs as written: "Who pays for closed-source development?" asks no maker."""


_ROLES = {
    "ceo": "ceo ceos executive",
    "cto": "cto ctos",
    "founder": "founder founders cofounder cofounders founded cofounded",
    "president": "president presidents",
    "chair": "chair chairman chairwoman chairs chaired",
    "director": "director directors directs directed",
    "head": "head heads headed",
    "leader": "leader leaders lead leads led",
    "author": "author authors authored wrote written writer writers",
    "inventor": "inventor inventors invented",
    "creator": "creator creators created",
    "owner": "owner owners owns owned",
    "maintainer": "maintainer maintainers maintains maintained",
}
_ROLE_WORDS = {role: _stems(words) for role, words in _ROLES.items()}
"""How a sentence states each role a who-question may ask about: the role's name or the
verb for what it does ("founded by", "written by")."""
_ASKS_ROLE = re.compile(
    r"^\W*who(?:['’]s|\s+(?:is|are|was|were))\s+(?:the\s+|its\s+|their\s+)?(?:[\w\-]+\s+){0,2}?"
    r"(?P<role>ceos?|ctos?|co-?founders?|founders?|presidents?|chair(?:man|woman)?"
    r"|directors?|heads?|leaders?|authors?|inventors?|creators?|owners?|maintainers?)\b",
    re.IGNORECASE,
)
"""A who-question about who holds a role: "Who is the CEO of OpenAI?", "Who are the named
authors of the GPT-2 paper?"."""


def _role_of(word: str) -> str:
    """The :data:`_ROLES` key of a role word as asked ("Co-founders" is "founder")."""
    word = word.lower().replace("-", "")
    for role in _ROLES:
        if word.startswith(role) or word.startswith(f"co{role}"):
            return role
    raise ValueError(word)


def _raw_words(text: str) -> set[str]:
    return {w.lower() for w in _TOKEN.findall(text)}


_POSSESSED = re.compile(r"\b[A-Z][\w\-.]*['’]s\s+((?:[\w\-.]+\s+){0,3}[\w\-.]+)")
"""What a name possesses, up to four words on and no further than a comma: "Meta's LLaMA",
"DeepMind's 280 billion parameter Gopher"."""


_TIME_WORDS = _stems("year years date month day time")
"""What a when-question calls its answer ("In what year…"): said by a date, not in words."""


def _answer_type(text: str) -> frozenset[str]:
    """What a who-question says of its answer, not of the names it mentions: "company" (what
    the answer is) and "made" (how it relates to BERT) in "Which company made BERT?".
    Neither need be in the answer: "BERT: A model by Google" (see :attr:`Question.asks_maker`).
    Likewise "year" in "In what year was LMSYS founded?": a date says it."""
    if kind_of(text) == "time":
        return _TIME_WORDS
    if kind_of(text) != "who":
        return frozenset()
    match = _ASKS_WHO.search(text)
    return (_stems(match.group(0)) if match else frozenset()) | _MAKING


LIGHT_TERMS = frozenset(
    terms("without with from its it get make do use better best good way own also than them")
)
"""Words a question says in passing ("How do I get better outputs…", "Do you have to pay to
use…?"), not what it asks; BM25's short stopword list keeps them, and they can be its rarest
words."""


# Opposites that decide which half of a comparison a passage is about (stemmed, both ways).
_PAIRS = (
    ("open freely community", "closed proprietary"),
    (
        "advantages benefits pros strengths upsides perks",
        "challenges drawbacks disadvantages cons weaknesses risks limitations downsides",
    ),
)
OPENNESS = _stems(" ".join(_PAIRS[0]))
"""The words of the open-or-closed opposition, stemmed."""
_OPPOSITES = tuple(
    (a, b) for x, y in _PAIRS for a, b in ((_stems(x), _stems(y)), (_stems(y), _stems(x)))
)


def side_of(term: str) -> frozenset[str] | None:
    """Every word for the side ``term`` takes in an opposition ("proprietari": closed), if any."""
    return next((own for own, _ in _OPPOSITES if term in own), None)


_SENSES = (
    "advantages benefits pros strengths upsides perks",
    "challenges drawbacks disadvantages cons weaknesses risks limitations downsides",
)
"""Words a user asks with for one thing an article files under another ("cons" of open
models: its heading says "Challenges")."""
_ALSO_ASKING = (
    "merits",
    "difficulties problems issues obstacles hurdles shortcomings pitfalls concerns dangers",
)
"""Other words that ask for the same, per sense: too common in articles to search for."""
_ASKS_SENSE = re.compile(
    r"^\W*((what|which)\s+((are|were)\s+(some\s+of\s+)?(the\s+)?)?"
    r"|(list|name|give\s+(?:me|us))\s+(some\s+|the\s+)?"
    r"|(the\s+)?(?=[\w\s]+\bof\b))"  # or typed as keywords: "pros and cons of open source"
    r"(\w+\s+)?(" + "|".join(" ".join(_SENSES + _ALSO_ASKING).split()) + r")\b",
    re.IGNORECASE,
)


SENSE_STEMS = tuple(_stems(sense) for sense in _SENSES)
"""The pros' words and the cons' words, stemmed."""
_ASKING_STEMS = tuple(_stems(f"{sense} {also}") for sense, also in zip(_SENSES, _ALSO_ASKING))
CONS_STEMS = _ASKING_STEMS[1]
"""Every word a question asks for the cons with, stemmed ("risks", "drawbacks", "problems"…)."""
_OF_WHAT = re.compile(
    r"(?:\s+(?:and|or|&)\s+[\w\-]+)?\s+(?:of|for|with)\s+([^?.!]+)", re.IGNORECASE
)
"""What the pros or cons are of: "hybrid models" in "the drawbacks of hybrid models"."""
SUBJECT_WEIGHT = 0.5
"""A question word this rare (IDF) says what it asks about; "LLMs" (in every article) does not."""

_ATTRIBUTE_SENSES = tuple(
    _stems(words)
    for words in (
        "cost costs price prices spend spent spending pay paid pays expense expenses"
        " expensive budget dollars fee fees charge charges charged",
        *_SENSES,
    )
)
"""Words that say the same of a thing: "OpenAI spent hundreds of thousands coaching GPT-3"
says what GPT-3 cost."""


def said_of(present: set[str] | frozenset[str]) -> set[str]:
    """``present`` with the other words for what it says (:data:`_ATTRIBUTE_SENSES`): a
    sentence that says what something costs also says what one pays for it."""
    return set(present) | {t for sense in _ATTRIBUTE_SENSES if sense & present for t in sense}


_COMPARISONS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"^\W*(?!(?:what|which|who|why|how|when|where|is|are|do|does)\b)(?P<x>[^?]+?)"
        r"\s+(?:vs\.?|versus)\s+(?P<y>[^?]+?)\W*$",
        r"^\W*compare\s+(?P<x>.+?)\s+(?:and|with|to|against)\s+(?P<y>[^?.]+?)\W*$",
        r"^\W*how\s+(?:does|do|did)\s+(?P<x>.+?)\s+compare\s+(?:with|to|against)\s+(?P<y>[^?.]+?)\W*$",
        r"^\W*how\s+(?:does|do|did)\s+(?P<x>.+?)\s+(?:stack|measure)\s+up\s+(?:against|to|with)\s+"
        r"(?P<y>[^?.]+?)(?:\s+overall)?\W*$",
        r"^\W*how\s+(?:does|do|did)\s+(?P<x>.+?)\s+fare\s+(?:against|compared\s+(?:to|with))\s+"
        r"(?P<y>[^?.]+?)\W*$",
        r"^\W*how\s+(?:does|do|did)\s+(?P<x>.+?)\s+differ\s+from\s+(?P<y>[^?.]+?)\W*$",
        r"^\W*how\s+(?:do|did)\s+(?P<x>.+?)\s+and\s+(?P<y>.+?)\s+differ\W*$",
        r"^\W*(?:how|in\s+what\s+ways?)\s+(?:is|are|was|were)\s+(?P<x>.+?)\s+different\s+"
        r"(?:from|than|to)\s+(?P<y>[^?.]+?)\W*$",
        r"^\W*what(?:\s+is|'s|\s+are)\s+the\s+(?:\w+\s+)?differences?\s+between\s+(?P<x>.+?)"
        r"\s+and\s+(?P<y>[^?.]+?)\W*$",
    )
)


_POLITE = re.compile(
    r"^\W*(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?|do\s+you\s+know\s+"
    r"|please\s+)(?:(?:tell|show)\s+(?:me|us)\s+|explain\s+(?:to\s+(?:me|us)\s+)?)?"
    r"(?P<rest>(?:who|what|when|where|which|why|how|name|list|give|describe|explain"
    r"|summari[sz]e|compare)\b.*)$",
    re.IGNORECASE | re.DOTALL,
)


def as_request(question: str) -> str:
    """A polite request asked as what it requests: "Can you name a few well-known models?"
    asks for a list, not whether one can, and "Could you tell me who made BERT?" is a
    who-question.

    Example:
        >>> as_request("Could you tell me who made BERT?")
        'Who made BERT?'
    """
    match = _POLITE.match(question.strip())
    if match is None:
        return question
    rest = match["rest"]
    return rest[0].upper() + rest[1:]


def as_comparison(question: str) -> str:
    """A request to compare two things, asked the way articles answer it.

    "open source vs closed source", "Compare open and closed source LLMs." and "How
    does open source compare with closed source?" are searched for and answered as
    "What are the differences between open source and closed source?": articles say
    how things differ ("…the key differences between open-source and closed-source
    LLMs?"), and rarely use the word "compare".

    Example:
        >>> as_comparison("open source vs closed source")
        'What are the differences between open source and closed source?'
    """
    for pattern in _COMPARISONS:
        match = pattern.match(question.strip())
        if match and all(_plain_thing(match[part]) for part in ("x", "y")):
            return f"What are the differences between {match['x']} and {match['y']}?"
    return question


def _plain_thing(phrase: str) -> bool:
    """A short name for a thing, not an aspect of it ("performance benchmarking of open
    models", "Vicuna on the long sequence benchmark"): those comparisons are left as asked."""
    words = phrase.split()
    return len(words) <= _THING_WORDS and not {w.lower() for w in words} & _ASPECT_WORDS


_THING_WORDS = 4
_ASPECT_WORDS = frozenset({"of", "on", "in", "for", "at", "that", "when", "with"})


_AND_ANOTHER = re.compile(r"\s+(?:and|or|&)\s+(?:the\s+)?([\w\-]+)", re.IGNORECASE)


def asks_pros_or_cons_of_nothing(question: str) -> bool:
    """Whether it asks for pros or cons without saying of what ("What are the challenges?")."""
    match = _ASKS_SENSE.search(question)
    return match is not None and _OF_WHAT.match(question, match.end()) is None


_SAME_SIDE = (("proprietary", "closed"),)
"""A word for one side of an opposition, and the word articles mostly use for it: a question
about "proprietary LLMs" asks about what most articles call "closed-source LLMs" (not the
other way: "closed" would pull in every passage that says "proprietary" in passing)."""


def with_senses(question: str, known: Callable[[str], bool]) -> str:
    """A question with the knowledge base's other words for what it asks, in brackets:
    for pros or cons and for how a contest ends (:func:`_with_sense_words`), and for the
    side of an opposition it names ("closed" for "proprietary", :data:`_SAME_SIDE`).

    Example:
        >>> with_senses("Who funds proprietary LLMs?", {"close", "proprietari"}.__contains__)
        'Who funds proprietary LLMs? (closed)'
    """
    expanded = _with_sense_words(question, known)
    said = set(terms(expanded))
    extra = [
        usual
        for word, usual in _SAME_SIDE
        if said & _stems(word) and not said & _stems(usual) and all(map(known, terms(usual)))
    ]
    if not extra:
        return expanded
    if expanded != question:  # one pair of brackets (:attr:`Question.own_terms`)
        return f"{expanded[:-1]}, {', '.join(extra)})"
    return f"{question} ({', '.join(extra)})"


def _with_sense_words(question: str, known: Callable[[str], bool]) -> str:
    """A question asking for the pros or cons of something, with the knowledge base's
    other words for them ("What are the cons of open models?" finds "Challenges"); one
    asking who wins, with its words for how a contest ends ("prevail", "dominate").

    Only a question that asks for them ("What are the (main) drawbacks…", "List the
    risks…"): one that only mentions them ("offset the drawbacks of both") is left as is.

    Example:
        >>> _with_sense_words("What are the cons of open models?", {"challeng", "drawback"}.__contains__)
        'What are the cons of open models? (challenges, drawbacks)'
    """
    if kind_of(question) == "outcome":  # "Is either side going to win?" finds "…might prevail"
        return _appended(question, set(terms(question)), _OUTCOME_WORDS, known)
    match = _ASKS_SENSE.search(question)
    kinds = KINDS_OF.search(question)
    if kinds:  # "What kinds of LLMs…?" finds the "Types of LLMs" heading
        return _appended(question, set(terms(kinds.group(0))), "types kinds categories", known)
    if not match:
        if _ASKS_REASONS_TO_AVOID.search(question) or _ARGUMENTS_AGAINST.search(question):
            return _appended(question, set(), _SENSES[1], known)  # "Why would someone avoid X?"
        if _ARGUMENTS_FOR.search(question) and not _ASKS_WHICH_THINGS.search(question):
            return _appended(question, set(), _SENSES[0], known)  # "What are the arguments for X?"
        if _ASKS_REASONS_TO_CHOOSE.search(question):  # "Why would a company choose X?"
            return _appended(question, set(), _SENSES[0], known)
        return question
    asked = set(terms(match.group(match.lastindex or 0)))
    paired = _AND_ANOTHER.match(question, match.end())  # "pros and cons", "risks or benefits"
    if paired:
        asked |= set(terms(paired.group(1)))
    senses = [
        sense
        for sense, also in zip(_SENSES, _ALSO_ASKING)
        if asked & (_stems(sense) | _stems(also))
    ]
    return _appended(question, asked, " ".join(senses), known)


def _appended(question: str, asked: set[str], words: str, known: Callable[[str], bool]) -> str:
    """``question`` with those of ``words`` it lacks and the knowledge base uses, in brackets."""
    extra = [
        word
        for word in words.split()
        if not asked & _stems(word) and all(known(t) for t in terms(word))
    ]
    return f"{question} ({', '.join(extra)})" if extra else question


_ASKS_REASONS_TO_CHOOSE = re.compile(
    r"^\W*why\s+(would|should|do|does|did|might|to|choose|use|pick)\b[^?]*"
    r"\b(choose|chose|choosing|use|using|pick|prefer|adopt|opt|go\s+with|select|switch\s+to)\b",
    re.IGNORECASE,
)
"""Reasons to choose something are its advantages: "Why would a company choose closed source?"."""
_ASKS_REASONS_TO_AVOID = re.compile(
    r"^\W*why\s+(would|should|might|could|to|avoid|not)\b[^?]*"
    r"\b(avoid|avoiding|not\s+(use|choose|pick|adopt)|stay\s+away|steer\s+clear|be\s+wary"
    r"|hesitate|distrust)\b",
    re.IGNORECASE,
)
"""Reasons to avoid something are its drawbacks: "Why would someone avoid proprietary AI?"."""
_ARGUMENTS_FOR = re.compile(
    r"\b(arguments?|case|reasons?)\s+(for|in\s+favou?r\s+of)\b|\bgood\s+at\b|\bexcel\s+at\b"
    r"|\b(selling|strong|plus)\s+points\b",
    re.IGNORECASE,
)
_ASKS_WHICH_THINGS = re.compile(
    r"^\W*(what|which)\s+(?!(is|are|was|were|do|does|did|can|could|would|should|will|has|have)\b)"
    r"[\w\-]+\s+(is|are|do|does|did|can|could|would|will)\b",
    re.IGNORECASE,
)
"""A question whose noun says what it wants ("What tasks do closed models excel at?"): the
tasks, which the article may call anything but advantages."""
_ARGUMENTS_AGAINST = re.compile(
    r"\b(arguments?|case|reasons?)\s+against\b|\b(weak|pain)\s+(points|spots)\b", re.IGNORECASE
)
"""The arguments for something (what it is good at, its selling points) are its advantages,
those against it (its weak points) its drawbacks."""


def kind_of(text: str) -> Kind:
    """The answer a question expects, from the first words of its main clause."""
    text = _LEADING_CLAUSE.sub("", text, count=1)
    if _ASKS_QUANTITY.search(text) or _ASKS_MEASURE.search(text):
        return "quantity"
    if _ASKS_OUTCOME.search(text) or (
        _ASKS_WHICH_IS_BETTER.search(text) and not _names(text) - _ACRONYM_TERMS
    ):
        return "outcome"
    if _ASKS_TIME.search(text) and not _ASKS_CIRCUMSTANCE.search(text):
        return "time"
    if _ASKS_WHO.search(text):
        return "who"
    if _ASKS_WHY.search(text):
        return "why"
    if (_ASKS_LIST.search(text) or _ASKS_SENSE.match(text)) and (
        not _ASKS_DEFINITION.search(text) or _ASKS_SENSE.search(text)  # "What are benefits?"
    ):
        return "list"
    if _ASKS_YESNO.search(text):
        return "yesno"
    return "other"


def _names(text: str) -> set[str]:
    found: set[str] = set()
    words = text.split()
    for i, word in enumerate(words):
        token = word.strip("?!.,;:\"'()[]“”‘’")
        if not token or not _NAME.fullmatch(token):
            continue
        if _BARE_NUMBER.fullmatch(token) and not (i and _is_name(words[i - 1], i - 1)):
            continue  # "2019", "7-billion-parameter"; but "PaLM 2", "Llama 2"
        if (
            i == 0
            and token.isalpha()
            and not token[1:].isupper()
            and not any(c.isdigit() for c in token)
        ):
            continue  # "What", "Is", "Which": a capital only because it starts the question
        found.update(terms(token))
    return found


_HOW_MANY = re.compile(
    r"^\W*how\s+many\s+((?:[\w\-]+\s+){0,2}?[\w\-]+?)"
    r"(?=\s+(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|went|in|of|per|for"
    r"|on|from|make|made|fed)\b|\s*,|\W*$)",
    re.IGNORECASE,
)


def _counted(text: str) -> set[str]:
    """The terms of what a "how many" question counts, its head noun ("GPUs" in "How many
    GPUs…?", "URLs" in "How many Reddit-shared URLs…?")."""
    found = _HOW_MANY.search(_LEADING_CLAUSE.sub("", text, count=1))
    return set(terms(found.group(1).split()[-1].split("-")[-1])) if found else set()


def _is_name(word: str, position: int) -> bool:
    """Whether ``word`` at ``position`` of a question is a name a number may continue."""
    if not _NAMED_BEFORE.fullmatch(word):
        return False
    return position > 0 or not word.isalpha() or word[1:].isupper()


_MEASURES = {
    r"learning\s+rates?": ("learning rate",),
    r"batch\s+sizes?": ("batch",),
    r"context\s+(window|length)s?|window\s+(size|length)s?": ("context", "window", "tokens"),
    r"elo(\s+(rating|score)s?)?": ("elo",),
    r"gpu[-\s]hours?": ("gpu hour",),
    # a unit the answer is asked in: "What is the average response length, in words?"
    **{rf"in\s+{unit}s(?=\W*$)": (unit,) for unit in ("word", "token", "character", "hour", "day")},
}
_MEASURE_WORDS = tuple(
    (re.compile(rf"\b({k})\b", re.IGNORECASE), tuple(_stems(w) for w in ways))
    for k, ways in _MEASURES.items()
)


# "What hardware was X trained on?": the near miss. Only hardware answers it.
_ASKS_HARDWARE = re.compile(
    r"^\W*(what|which)\s+(kinds?\s+of\s+|type\s+of\s+)?(hardware|gpus?|tpus?|chips?|accelerators?)\b",
    re.IGNORECASE,
)
_HARDWARE = tuple(
    _stems(w)
    for w in (
        "hardware",
        "GPU",
        "TPU",
        "CPU",
        "chip",
        "A100",
        "H100",
        "V100",
        "A6000",
        "accelerator",
    )
)  # one term for "GPU" and "GPUs" (bot.terms)


def _measure_words(text: str) -> tuple[frozenset[str], ...]:
    """How a sentence would name the measure a question asks for, if it asks for one."""
    if _ASKS_HARDWARE.search(text):
        return _HARDWARE
    if kind_of(text) != "quantity":
        return ()
    return tuple(w for pattern, ways in _MEASURE_WORDS if pattern.search(text) for w in ways)


_DETERMINERS = frozenset({"the", "a", "an", "this", "that", "its", "their", "our", "your"})
_HEAD = re.compile(r"[a-z][a-z\-]*")


def _qualified_nouns(text: str) -> list[tuple[list[str], str]]:
    """Each run of names between a determiner and a noun, with the noun: (["LLM"],
    "decontaminator") in "the LLM decontaminator", (["Vicuna"], "team") in "the Vicuna
    team"; nothing for "GPT-4 open" in "Is GPT-4 open source?" (no determiner)."""
    found: list[tuple[list[str], str]] = []
    words = [w.strip("?!.,;:\"'()[]“”‘’") for w in text.split()]
    for i in range(1, len(words) - 1):
        if words[i - 1].lower() not in _DETERMINERS:
            continue
        j = i
        while j < len(words) and words[j] and _NAME.fullmatch(words[j]) and words[j] != "I":
            j += 1
        if j > i and j < len(words) and _HEAD.fullmatch(words[j]):
            found.append((words[i:j], words[j]))
    return found


def _qualifying_names(text: str) -> set[str]:
    """Terms of the names that qualify a noun ("Stanford" in "the Stanford model"): they
    describe what is asked about."""
    return {t for names, _ in _qualified_nouns(text) for name in names for t in terms(name)}


def _subject_heads(text: str) -> set[str]:
    """Terms of the nouns names qualify ("decontaminator" in "the LLM decontaminator")."""
    return {t for _, noun in _qualified_nouns(text) for t in terms(noun)}


def _name_units(text: str) -> tuple[frozenset[str], ...]:
    """The names in ``text``, each as the set of its terms; a number after a name joins it.

    Like :func:`_names`, a capital that only starts the question is no name.
    """
    units: list[set[str]] = []
    joinable = False
    for i, word in enumerate(text.split()):
        token = re.sub(r"['’]s$", "", word.strip("?!.,;:\"'()[]“”‘’"))  # "PaLM's" is PaLM
        if (
            not token
            or token == "I"
            or not _NAME.fullmatch(token)
            or (i == 0 and token.isalpha() and not token[1:].isupper())
            or token.lower() in COMMON_ACRONYMS
        ):
            joinable = False
            continue
        found = set(terms(token))
        number = token.replace(".", "").replace(",", "").isdigit()
        if joinable and number:
            units[-1] |= found  # "LLaMA 2"
        elif found and not number:  # "2023" alone is no name to look for
            units.append(found)
        joinable = bool(found) and not word.endswith((",", ";", ":", "?", "."))
    return tuple(frozenset(unit) for unit in units)


_COUNT_WINDOW = 5
"""Words after an amount that may name what it counts."""


def states_count(sentence: str, question: Question) -> bool:
    """Whether ``sentence`` has an amount (as :func:`states` finds them) of what a "how many"
    question counts, named within a few words after it ("8 A100 GPUs", "80 high-quality,
    multi-turn questions"); "hundreds of thousands coaching GPT-3" counts no GPUs."""
    asked = {m.group(0).lower() for m in NUMBER.finditer(question.text)}
    dates = [m.span() for m in _DATE.finditer(sentence)]
    for m in NUMBER.finditer(sentence):
        if (
            m.group(0).lower() in asked
            or _IN_NAME.search(sentence, 0, m.start())
            or any(start <= m.start() < end for start, end in dates)
        ):
            continue
        after = " ".join(sentence[m.start() :].split()[: _COUNT_WINDOW + 1])  # "one day"
        if question.counted & said_of(set(terms(after))):
            return True
    return False


def states(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    """Whether ``sentence`` has a match of ``pattern`` that the question does not.

    A number that is part of a name ("GPT-4", "A100", "Claude-1.3") states no amount,
    nor does one inside a date ("Last Updated: April 29, 2024." says how many of nothing)
    or one that points at a part of the article ("illustrated in Figure 3", "[42]").
    """
    asked = {m.group(0).lower() for m in pattern.finditer(question)}
    dates = [m.span() for m in _DATE.finditer(sentence)] if pattern is NUMBER else []
    return any(
        m.group(0).lower() not in asked
        and not _IN_NAME.search(sentence, 0, m.start())
        and not (pattern is NUMBER and _REFERENCE.search(sentence, 0, m.start()))
        and not any(start <= m.start() < end for start, end in dates)
        for m in pattern.finditer(sentence)
    )


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"  # April 29, 2024
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}}\b)?"  # 29 April 2024
    rf"|\b{_MONTH},?\s+\d{{4}}\b"  # April 2024
    r"|\b\d{4}-\d{2}-\d{2}\b",  # 2024-04-29
    re.IGNORECASE,
)


_IN_NAME = re.compile(r"[A-Za-z]-?$")
_REFERENCE = re.compile(
    r"(?:\b(?:fig(?:ure)?s?|tables?|sections?|sec|appendix|appendices|eqs?|equations?"
    r"|chapters?|listings?|algorithms?|footnotes?|refs?|references?)\.?\s*|\[)$",
    re.IGNORECASE,
)
"""What comes before a number that points at a part of a text: "Figure 3", "Table 1", "[42]"."""


_LABEL = re.compile(r"^\s*(?:\*\*)?[A-Z][\w\-]*(?:\s+[\w\-]+){0,4}(?:\*\*)?:\s")


_ASKS_SECTION = re.compile(
    r"^\W*(?:what\s+(?:does|do|did)\s+the\s+(?P<a>[\w\-]+(?:\s+[\w\-]+){0,3}?)\s+"
    r"(?:section\s+)?(?:say|says|state|conclude|cover|discuss|argue|recommend|suggest)"
    r"|(?:summari[sz]e|what\s+is\s+in)\s+the\s+(?P<b>[\w\-]+(?:\s+[\w\-]+){0,3}?))"
    r"(?:\s+section)?\W*$",
    re.IGNORECASE,
)
_ASKS_KINDS = re.compile(
    rf"\b{KIND_NOUNS}\s+of\s+(?P<of>[\w\-’'\s]+?)"
    r"(?=\s+(?:are|is|were|was|exist|do|does|did|can|could|there|mentioned|discussed|in)\b|\W*$)",
    re.IGNORECASE,
)
"""What a list question asks the kinds of: "LLMs" in "What types of LLMs are there?"."""
_BRACKETED = re.compile(r"\s*\([^()]*\)\s*$")
"""The words a query adds in brackets (:func:`with_senses`)."""
_HEADING_OF = re.compile(
    r"^\W*(?:the\s+)?(?:[\w\-]+\s+)?(?P<what>[\w\-]+)\s+of\s+(?P<of>.+?)\W*$", re.IGNORECASE
)
"""A heading that says what its list is of: "Types of LLMs", "The Main Advantages of LLMs"."""
_GENERALLY = re.compile(
    r"\s+(?:in\s+general|generally|overall|as\s+a\s+whole|in\s+short|today|nowadays)\b",
    re.IGNORECASE,
)
"""Words that end a question without saying what it is about: "…of LLMs in general?"."""
_ASKS_TOPIC = re.compile(
    r"^\W*what(?:'s|’s|\s+is|\s+are|\s+was|\s+were)\s+(?:the\s+|this\s+|that\s+|these\s+)?"
    r"(?P<x>[\w\-’'\s]+?)\s+(?:all\s+)?about\W*$",
    re.IGNORECASE,
)
"""What is X about?": its topic, not what it is."""
_STATES_TOPIC = re.compile(
    r"\b(?:about|at\s+the\s+heart\s+of|cent(?:er|re)s?\s+(?:on|around)|focus(?:es|ed)?\s+on"
    r"|revolves?\s+around|concerns?)\b",
    re.IGNORECASE,
)
"""A sentence that says what something is about ("it's about innovation…", "At the heart of
this debate are two approaches…")."""


def states_topic(sentence: str) -> bool:
    """Whether ``sentence`` says what something is about."""
    return bool(_STATES_TOPIC.search(sentence))


_REMEDY = re.compile(
    r"\b(?:mitigat|offset|overcom|address|counter(?:s|ed|ing)?\b|tackl|solv|fix|reduc|minimi[sz]|lessen|"
    r"alleviat|soften|handl|prevent|resolv|remed|eas(?:e|es|ed|ing)\b|deal(?:s|t)?\s+with)",
    re.IGNORECASE,
)
"""A verb for dealing with a problem: "mitigated", "offset", "overcome", "deal with"."""


def names_a_remedy(text: str) -> bool:
    """Whether ``text`` speaks of dealing with a problem ("can assist offset drawbacks")."""
    return bool(_REMEDY.search(text))


def list_heading_asked(text: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """:attr:`Question.list_heading_asked` of the question ``text``."""
    if kind_of(text) != "list":
        return None
    kinds = _ASKS_KINDS.search(_BRACKETED.sub("", text))  # "…? (types, kinds)"
    if kinds:
        return KIND_STEMS, frozenset(query_terms(kinds.group("of")))
    sense = _ASKS_SENSE.search(text)
    of = _OF_WHAT.match(text, sense.end()) if sense else None
    if sense is None or of is None:
        return None
    asked = set(terms(sense.group(0)))
    words = frozenset().union(*(stems for stems in _ASKING_STEMS if asked & stems))
    return words, frozenset(query_terms(_GENERALLY.sub("", of.group(1))))


def heads_list_asked(heading: str, asked: tuple[frozenset[str], frozenset[str]] | None) -> bool:
    """Whether ``heading`` is over the list a question asks for
    (:attr:`Question.list_heading_asked`): "Types of LLMs" for "What kinds of LLMs are
    there?", "Advantages of LLMs" (not "The Perks of Open-Source LLMs") for "What are the
    benefits of LLMs?"."""
    match = _HEADING_OF.match(heading)
    if asked is None or match is None or not asked[1]:
        return False
    words, of = asked
    return bool(set(terms(match.group("what"))) & words) and set(terms(match.group("of"))) == of


_ASKS_ADVICE = re.compile(
    r"^\W*what\s+(?:should|must|ought)\s+(?!i\b|we\b|you\b|one\b)[\w\s'’\-]{1,60}?\s+do\b",
    re.IGNORECASE,
)
"""What someone in the third person should do ("What should developers do…?"); what *I* should
do is a request for a way (:data:`_ASKS_HOW_TO`)."""
_ASKS_HOW_TO = re.compile(
    r"^\W*(how\s+(do|can|could|should|would|might|may|must)\s+(i|we|you|one)\s+(?!tell\b|know\b)"
    r"|how\s+to\s|what(?:'s|’s|\s+is|\s+are)\s+(the\s+)?(best\s+|right\s+|easiest\s+)?"
    r"(way|ways|steps)\s+(to|for)\s|what\s+(steps|should\s+(i|we)\s+do)\b)",
    re.IGNORECASE,
)
"""A request for a way to do something; not "How do I know whether…", which a fact answers."""
_IMPERATIVE = frozenset(
    re.findall(
        r"\S+",
        "add adjust apply ask avoid be break build call check choose clone combine compare"
        " configure consider contact create define deploy describe download embrace enable"
        " ensure evaluate experiment explore fill find focus follow get give go include"
        " install instruct iterate join keep learn limit load look make monitor pass"
        " pick place prompt protect provide put read register remember remove repeat replace"
        " request review run save select send set share sign specify split start stay store"
        " submit switch tell test think train try upload use visit write",
    )
)
"""Verbs an instruction starts with ("Tell the model what you want.", "Learn about both…")."""
_NOT_IMPERATIVE_NEXT = frozenset(re.findall(r"\S+", "is are was were has have cases case of 's ’s"))
_GIVES_A_WAY = re.compile(
    r"\byou\s+(?:can|could|should|must|need|have\s+to|may|might)\b"
    r"|\b(?:we|i)\s+recommend\b|\bit\s+is\s+(?:recommended|advisable|best)\b|\b(?:make|be)\s+sure\b"
    r"|\bsteps?\b|\bby\s+(?!the\b)[a-z\-]+ing\b|^\W*(?:in\s+order\s+)?to\s+[a-z\-]+\b[^,]*,"
    r"|\b(?:available|accessible|offered)\s+(?:via|through|on|from|at)\b"
    r"|\b(?:sign(?:ing)?\s+up|apply(?:ing)?\s+for|request(?:ing)?\s+access|waitlist)\b"
    r"|\b(?:prohibit\w*|forbid\w*|not\s+(?:be\s+)?(?:allowed|permitted)|restricted\s+to)\b"
    r"|^\s*(?:python3?|pip3?|git|docker|curl|npm|\$)\s",
    re.IGNORECASE,
)
"""A way of doing something in words that are no command: "you can…", "by quantizing…",
"To enable…, we…", "available through the API"."""


def gives_a_way(sentence: str) -> bool:
    """Whether ``sentence`` tells how to do something: a command ("Tell the model what you
    want.", "Skill Up: Learn about both…"), or a way in other words (:data:`_GIVES_A_WAY`).
    "At the heart of this debate are two approaches to building and deploying LLMs" gives
    none."""
    if _GIVES_A_WAY.search(sentence):
        return True
    words = re.findall(r"[\w\-’']+", _LABEL.sub("", sentence, count=1).lower())
    while words and words[0] in ("first", "then", "next", "finally", "also", "just", "simply"):
        words = words[1:]
    return len(words) > 1 and words[0] in _IMPERATIVE and words[1] not in _NOT_IMPERATIVE_NEXT


_ASKS_PLACE = re.compile(
    r"^\W*where\s+(is|are|was|were|does|do|did)\b.*\b(based|headquartered|headquarters|located"
    r"|live|lives|situated|offices?)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"\b(?:in|at|near|from)\s+(?:the\s+)?(?P<place>(?:[A-Z][a-z]+\s+)*[A-Z][a-z]+)\b"
    r"|\b(?:headquartered|based|located)\s+in\b",
)
"""A place named in a sentence: "in San Francisco", "at Stanford", "based in …"."""


def names_place(sentence: str, asked_about: frozenset[str] = frozenset()) -> bool:
    """Whether ``sentence`` says where something is; not "developed at Databricks" for where
    Databricks is (the place would be what ``asked_about``, the question's names, name)."""
    return any(
        not match.group("place") or not set(terms(match.group("place"))) <= asked_about
        for match in _PLACE.finditer(sentence)
    )


_ASKS_EXPANSION = re.compile(
    r"^\W*(what\s+(does|do|did|is)\s+(the\s+)?((acronym|abbreviation|initialism)\s+)?"
    r"[\"“']?(?P<acronym>(?-i:[A-Z][A-Za-z]*[A-Z]s?))[\"”']?"
    r"\s+(stand\s+for|short\s+for|mean|abbreviate)"
    r"|what\s+is\s+the\s+(full\s+(name|form)|long\s+form|expansion)\s+of\s+(the\s+)?"
    r"[\"“']?(?P<named>(?-i:[A-Z][A-Za-z]*[A-Z]s?))\b)",
    re.IGNORECASE,
)
"""An acronym is capitals whatever the question's case ("tokenization" is none)."""
_MINOR = frozenset({"of", "for", "from", "and", "the", "a", "an", "in", "on", "to", "with", "by"})


def spells_out(acronym: str, sentence: str) -> bool:
    """Whether ``sentence`` holds words whose initials spell ``acronym``: "Open Neural
    Network Exchange" for ONNX, "Reinforcement Learning from Human Feedback" for RLHF,
    "Responsible AI Licenses" for RAIL (small words such as "from" may be skipped). The
    words must be capitalised, or followed by the acronym ("large language models
    (LLMs)"): "like LLaMA models" does not spell LLM."""
    letters = "".join(c.lower() for c in acronym.removesuffix("s") if c.isalpha())
    return bool(letters) and any(  # "Retrieval-Augmented Generation", "Pre-trained"
        _spells(letters, acronym.removesuffix("s"), re.findall(pattern, sentence))
        for pattern in (r"[A-Za-z][A-Za-z']*", r"[A-Za-z][A-Za-z'\-]*")
    )


def _spells(letters: str, acronym: str, words: list[str]) -> bool:
    said = {i for i, w in enumerate(words) if w.removesuffix("s") == acronym}
    for start in range(len(words)):
        at, capitalised = 0, True
        for i, word in enumerate(words[start:], start):
            lowered = word.lower()
            if word.isupper() and 1 < len(word) < len(letters) and letters.startswith(lowered, at):
                at += len(word)  # "AI" in "Responsible AI Licenses"
            elif lowered not in _MINOR and (
                lowered[0] == letters[at] or (letters[at] == "x" and lowered.startswith("ex"))
            ):
                capitalised = capitalised and word[0].isupper()
                at += 1
            elif lowered not in _MINOR or at == 0:
                break
            if at == len(letters):
                if capitalised or any(i < j <= i + 3 for j in said):
                    return True
                break
    return False


_ASKS_NAMED = re.compile(
    r"^\W*(which|what)\s+(open[\w\-]*\s+|closed[\w\-]*\s+|other\s+)?(models|llms|companies"
    r"|organi[sz]ations|firms|labs|benchmarks|datasets|products|chatbots)\s+"
    r"(are|were|is|use|used|have|had|do|did|can|could|offer|release|released|develop|build|built"
    r"|make|made|exist|support)\b",
    re.IGNORECASE,
)
_NAME_LABEL = re.compile(
    r"^\s*(?:\w+[’']s\s+)?([A-Z][A-Z0-9\-]+|\w*[a-z][A-Z]\w*|\w*\d\w*)(?:\s+[\w\-]+){0,3}\s*:"
)
"""A list item labelled with a name: "BLOOM:", "GPT Models:", "Meta's LLaMA:", "T5:" (not
"Security:")."""


def names_something(sentence: str, question: str) -> bool:
    """Whether ``sentence`` names something the question does not: a proper noun, or a list
    item's label that is a name ("BLOOM: An open-source model…")."""
    asked = proper_nouns(question) | {w.lower().strip("?.,!") for w in question.split()}
    label = _NAME_LABEL.match(sentence)
    return bool(proper_nouns(sentence) - asked) or bool(
        label and label.group(1).lower() not in asked
    )


_CAPITALISED_WITHIN = re.compile(r"[A-Z0-9]")
"""A name keeps a capital or a digit past its first letter ("OpenAI", "GPT-4", "T5"), so it is
a name even where a sentence starts."""


def proper_nouns(text: str) -> set[str]:
    """Lower-cased names written in capitals inside ``text`` (not sentence-initial words)."""
    found = set()
    text = _LABEL.sub("", text)  # "Hybrid Approach: ..." is a label in title case, not a name
    for match in re.finditer(r"(?<=[\s(“\"'])([A-Z][\w\-.]*[\w])", " " + text):
        start = match.start(1) - 1
        before = text[:start].rstrip()
        word = match.group(1).lower()
        opening = not before or before[-1] in ".!?:"
        if (opening and not _CAPITALISED_WITHIN.search(match.group(1)[1:])) or (
            word in COMMON_ACRONYMS | _TITLE_CASE_TERMS
        ):
            continue  # "The", "Open-source": a capital only because a sentence starts there
        found.add(word)
    return found


def _words_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


COMMON_ACRONYMS = _words_of(
    "ai ais llm llms ml nlp nlu api apis gpu gpus cpu cpus tpu tpus faq url urls pdf html json"
    " sql ceo"
)
"""Capitals that name no one: "a closed-source LLM" does not say who controls closed AI."""
_TITLE_CASE_TERMS = _words_of(
    "large language languages model models open source closed artificial intelligence machine"
    " learning natural processing deep neural network networks"
)
"""Words a title-cased term is made of ("Large Language Models"), none of them a name."""
_ACRONYM_TERMS = frozenset(terms(" ".join(COMMON_ACRONYMS)))
""":data:`COMMON_ACRONYMS` as terms ("llm" for "LLMs"), as :func:`_names` gives them."""
