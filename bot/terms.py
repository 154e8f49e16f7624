"""Lexical terms: lower-cased, stemmed word tokens without stopwords.

The BM25 index and the answerer's term overlap share this one definition.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CLITICS = frozenset({"s", "t", "d", "ll", "re", "ve", "m"})  # split off "it's", "don't"...


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


_ACRONYM_PLURAL = re.compile(r"\b([A-Z][A-Z0-9]+)s\b")
_CONSONANTS_PLURAL = re.compile(r"^[b-df-hj-np-tv-xz]{2,}s$")


_BRITISH = (
    (re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)$"), r"\1iz\2"),
    (re.compile(r"^(\w{3,})ys(e|es|ed|ing|er|ers)$"), r"\1yz\2"),
    (re.compile(r"^(\w{3,})our(s|ed|ing|able|ite|ites)?$"), r"\1or\2"),
    (re.compile(r"^(lic|def|off|pret)ence(s)?$"), r"\1ense\2"),
    (re.compile(r"^(cen|me|li|fib|thea|spec)tre(s|d)?$"), r"\1ter\2"),
    (re.compile(r"^(\w{3,})logue(s)?$"), r"\1log\2"),
    (re.compile(r"^programme(s)?$"), r"program\1"),
)
"""British spellings written the American way ("specialised" -> "specialized", "licence",
"behaviour", "centre", "catalogue"): the stemmer keeps them apart. Applied to every word
alike, so a word that only looks British ("promise" -> "promize") still meets itself."""


_BRITISH_ENDING = re.compile(
    r"(?:is|ys)(?:e|es|ed|ing|ation|ations|er|ers)$|our(?:s|ed|ing|able|ite|ites)?$|ences?$"
    r"|tre[sd]?$|logues?$|^programmes?$"
)
"""Any ending one of :data:`_BRITISH` rewrites: most words have none, and skip them all."""


@lru_cache(maxsize=200_000)
def _american(word: str) -> str:
    if not _BRITISH_ENDING.search(word):
        return word
    for pattern, replacement in _BRITISH:
        american, changed = pattern.subn(replacement, word)
        if changed:
            return american
    return word


def _lower_words(text: str) -> list[str]:
    """Lower-cased word tokens, an acronym's plural made singular ("LLMs", "GPUs", "llms"):
    the stemmer leaves them alone, so "What is an LLM?" would not match "LLMs are…".
    British spellings are written the American way (:data:`_BRITISH`)."""
    words = _WORD.findall(_ACRONYM_PLURAL.sub(r"\1", text).lower())
    return [_american(w[:-1] if _CONSONANTS_PLURAL.match(w) else w) for w in words]


def terms(text: str) -> list[str]:
    """Stemmed content terms of ``text``, in order, duplicates kept.

    Example:
        >>> terms("Why did EleutherAI take GPT-J offline?")  # question words too
        ['whi', 'did', 'eleutherai', 'take', 'gpt', 'j', 'offlin']
        >>> terms("LLMs run on GPUs")
        ['llm', 'run', 'gpu']
    """
    stop = stopwords()
    words = [w for w in _lower_words(text) if w not in stop and w not in _CLITICS]
    return list(_stemmer().stemWords(words))


# Words that shape a question but are not what it is about. Dropped from queries
# only: "how" or "did" in a question should not have to appear in the answer, nor
# "mentioned" in "Which models are mentioned?" (it is said of the article), nor "some" in
# "What are some examples…?" (it matched "Some companies are exploring hybrid approaches"),
# nor "all" in "What should developers do about all this?" ("…accessible to all").
_QUESTION_WORDS = frozenset(
    """what which who whom whose why how when where do does did done can could would should will shall may might must has have had was were been being am
    i you me my we our us your tell explain describe about please anyone someone something thing things know give list kind kinds type types way ways much many more most make makes made consider considered exactly really mean means
    mention mentioned mentions discussed some any several all every each either neither
    having""".split()  # noqa: SIM905
)


LONGEST_WORD = 40


@lru_cache(maxsize=65_536)  # the same sentences come back question after question
def content_words(text: str) -> frozenset[str]:
    """The lower-cased words of ``text`` worth matching by meaning, unstemmed (a stem embeds
    badly): no stopwords, question words, single letters, bare numbers or runs of more than
    :data:`LONGEST_WORD` characters (a hash or base64 in an article is no word).

    Example:
        >>> sorted(content_words("Why are open-source models cheaper?"))
        ['cheaper', 'models', 'open', 'source']
    """
    skip = stopwords() | _QUESTION_WORDS | _CLITICS
    return frozenset(
        w
        for w in _lower_words(text)
        if 1 < len(w) <= LONGEST_WORD and not w.isdigit() and w not in skip
    )


# "How big", "how long"...: the adjective asks for an amount; the answer states
# the amount, not the adjective ("280 billion parameters" answers "how big").
HOW_ADJECTIVES = (
    "big",
    "large",
    "long",
    "old",
    "often",
    "expensive",
    "costly",
    "fast",
    "high",
    "small",
    "far",
    "wide",
)
"""Adjectives that make "how …" ask for an amount (one list, shared with :mod:`bot.question`)."""
_HOW_ADJECTIVE = re.compile(rf"\bhow\s+(?:{'|'.join(HOW_ADJECTIVES)})\b", re.IGNORECASE)


_KIND_NOUN_WORDS = ("kinds", "types", "sorts", "categories", "varieties", "classes")
KIND_NOUNS = rf"(?:{'|'.join(_KIND_NOUN_WORDS)})"
"""The words a question asks for the kinds of something with (a regular expression)."""
KIND_STEMS = frozenset(terms(" ".join(_KIND_NOUN_WORDS)))
"""The terms of :data:`KIND_NOUNS`: what a heading listing kinds may say ("Types of …")."""
KINDS_OF = re.compile(rf"\b{KIND_NOUNS}\s+of\b", re.IGNORECASE)
"""A question asking for the kinds of something: its words for kinds say what it asks."""
_KIND_WORDS = frozenset(["kind", "kinds", "type", "types", "sort", "sorts"])
KIND_TERMS = frozenset(["kind", "type", "sort"])
"""The terms of :data:`_KIND_WORDS`: words a question asks with, not what it asks about."""


def query_terms(question: str) -> list[str]:
    """Content terms of a question: :func:`terms` without question words ("kinds" in "What
    kinds of LLMs are there?" is no question word: a heading says "Types of LLMs").

    Example:
        >>> query_terms("How big is DeepMind's Gopher model?")
        ['deepmind', 'gopher', 'model']
    """
    asking = _QUESTION_WORDS - _KIND_WORDS if KINDS_OF.search(question) else _QUESTION_WORDS
    stop = stopwords() | asking | _CLITICS
    words = [w for w in _lower_words(_HOW_ADJECTIVE.sub(" ", question)) if w not in stop]
    return list(_stemmer().stemWords(words))
