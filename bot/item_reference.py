"""A follow-up that points at an item of the previous answer's list: "the second one".

After "What are the key features of LLMs?" is answered with a list, "Tell me more
about the second one." asks about that list's second item. What the item is, only
the previous answer says, so the reference is replaced by the item's label
("Transformer Architecture") before the question is rewritten and searched for.
"""

from __future__ import annotations

import re

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
_LABEL = re.compile(r"^(?P<label>[^:.!?]{2,60}):\s")
"""An item's label: "Transformer Architecture" in "Transformer Architecture: LLMs rely…"."""


def list_items(answer: Answer) -> list[str]:
    """The items of the list an answer quotes, in order (none for an answer in prose).

    Example:
        >>> answer = Answer("q", "- Speed: It is fast. [1]\\n- Cost: It is cheap. [1]", True)
        >>> list_items(answer)
        ['Speed: It is fast.', 'Cost: It is cheap.']
    """
    if not answer.answered:
        return []
    return [m.group("item") for line in answer.text.splitlines() if (m := _ITEM.match(line))]


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
    """
    match = _REFERENCE.search(question)
    if match is None or previous is None:
        return question
    items = list_items(previous)
    rank = _ORDINALS[match.group("ordinal").lower()]
    if not items or rank > len(items):
        return question
    noun = match.group("noun")
    if noun is not None and not _used_before(
        noun, f"{previous.question} {previous.standalone_question}"
    ):
        return question
    item = items[rank - 1 if rank > 0 else -1]
    label = _LABEL.match(item)
    named = label.group("label").strip() if label else item.rstrip(".")
    return question[: match.start()] + named + question[match.end() :]


def _used_before(noun: str, question: str) -> bool:
    """Whether ``noun`` (perhaps singular where the question had a plural) is a word of it."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", question)}
    noun = noun.lower()
    return noun in words or f"{noun}s" in words or f"{noun}es" in words
