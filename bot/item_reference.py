"""A follow-up that points at an item of the previous answer's list: "the second one".

After "What are the key features of LLMs?" is answered with a list, "Tell me more
about the second one." asks about that list's second item. What the item is, only
the previous answer says, so the reference is replaced by the item's label
("Transformer Architecture") before the question is rewritten and searched for.
"""

from __future__ import annotations

import re

from bot.answer import ITEM_LABEL
from bot.results import Answer

_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
    "seventh": 7,
    "7th": 7,
    "eighth": 8,
    "8th": 8,
    "last": -1,
}
_REFERENCE = re.compile(
    r"\bthe\s+(?P<ordinal>" + "|".join(_ORDINALS) + r")\s+"
    r"(?:(?:one|item|point|bullet|option|entry)\b|of\s+(?:them|those|these)\b|(?P<noun>[a-z]+)\b)",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^-\s+(?P<item>.+?)(?:\s*\[\d+\])+\s*$")


_TITLE = re.compile(r"“(?P<title>[^”]+)”\s*\[\d+\]")
"""An article the overview of the knowledge base names: “Title” [1]."""


def list_items(answer: Answer) -> list[str]:
    """The items of the list an answer quotes, in order, or the articles it names in turn
    (the overview that "What articles do you have?" gets); none for an answer in prose.

    Example:
        >>> answer = Answer("q", "- Speed: It is fast. [1]\\n- Cost: It is cheap. [1]", True)
        >>> list_items(answer)
        ['Speed: It is fast.', 'Cost: It is cheap.']
        >>> list_items(Answer("q", "From 2 articles: “Cats” [1]; “Dogs” [2].", True))
        ['Cats', 'Dogs']
    """
    if not answer.answered:
        return []
    return _bullets(answer) or _titles(answer)


def _bullets(answer: Answer) -> list[str]:
    return [m.group("item") for line in answer.text.splitlines() if (m := _ITEM.match(line))]


def _titles(answer: Answer) -> list[str]:
    titles = [m.group("title") for m in _TITLE.finditer(answer.text)]
    return titles if len(titles) > 1 else []


def _names(answer: Answer) -> list[str]:
    """What each item of the answer's list is about: its label ("Transformer Architecture"),
    else the item itself; or the titles of the articles it names in turn."""
    items = _bullets(answer)
    if not items:
        return _titles(answer)
    return [
        label.group("label").strip() if (label := ITEM_LABEL.match(item)) else item.rstrip(".")
        for item in items
    ]


def points_at_an_item(question: str) -> bool:
    """Whether ``question`` points at an item by its rank ("the second one")."""
    return _REFERENCE.search(question) is not None


def with_item_named(question: str, previous: Answer | None) -> str:
    """``question`` with "the second one" (or "the last point", "the third feature"…)
    replaced by what the previous answer's list item of that rank is about: its label, or
    the item itself when it has none. ``question`` as it is when it points at no item,
    or at one the previous answer does not have.

    A noun after the ordinal ("the second feature") must be one the previous question
    used, so "the first time" or "the second half" stay as they are.

    Example:
        >>> previous = Answer(
        ...     "What are the key features of LLMs?",
        ...     "- Training on Data: LLMs learn. [1]\\n- Tokenization: Text is split. [1]",
        ...     True,
        ... )
        >>> with_item_named("Tell me more about the second one.", previous)
        'Tell me more about Tokenization.'
        >>> with_item_named("Explain the first feature.", previous)
        'Explain Training on Data.'
        >>> with_item_named("When was it released for the first time?", previous)
        'When was it released for the first time?'
        >>> with_item_named("Is the first one older than the second one?", previous)
        'Is Training on Data older than Tokenization?'
    """
    if previous is None or not previous.answered:
        return question
    names = _names(previous)
    asked_before = f"{previous.question} {previous.standalone_question}"

    def named(match: re.Match[str]) -> str:
        rank = _ORDINALS[match.group("ordinal").lower()]
        noun = match.group("noun")
        if not names or rank > len(names) or (noun and not _used_before(noun, asked_before)):
            return match.group(0)
        return names[rank - 1 if rank > 0 else -1]

    return _REFERENCE.sub(named, question)


_PICKS_ONE = re.compile(
    r"^\W*which\s+(?:one|of\s+(?:them|these|those|the\s+(?:two|three|four|five)))\s+",
    re.IGNORECASE,
)


def picks_an_item(question: str) -> bool:
    """Whether ``question`` asks which of the earlier things ("Which one is open source?")."""
    return _PICKS_ONE.match(question) is not None


def with_items_to_pick_from(question: str, previous: Answer | None) -> str:
    """``question``, "Which one…?", asked of the items of the previous answer's list: their
    labels carried, so it is answered by the item that is what it asks ("BLOOM: An open-source
    model…" for "Which one is open source?" after the types of LLMs), not by a sentence
    that says "one". ``question`` as it is after an answer without a list.

    Example:
        >>> previous = Answer(
        ...     "What are the types of LLMs?",
        ...     "- BERT: A model by Google. [1]\\n- BLOOM: An open-source model. [1]",
        ...     True,
        ... )
        >>> with_items_to_pick_from("Which one is open source?", previous)
        'Which is open source? (BERT, BLOOM)'
    """
    names = _names(previous) if previous is not None and previous.answered else []
    if len(names) < 2 or not picks_an_item(question):
        return question
    asked = _PICKS_ONE.sub("Which ", question, count=1).rstrip(" ?.!")
    return f"{asked}? ({', '.join(names)})"


def _used_before(noun: str, question: str) -> bool:
    """Whether ``noun`` (perhaps singular where the question had a plural) is a word of it."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    noun = noun.lower()
    return noun in words or f"{noun}s" in words or f"{noun}es" in words
