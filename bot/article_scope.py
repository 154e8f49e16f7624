"""Questions that say which article to answer from.

"What are the weak spots of community models, according to the ultimate debate?", "Does
the technical analysis say GPT-J was taken offline?", "What does the dominate article
recommend?": a user who names an article expects the answer from it. Searched as typed,
the article's name is just more words ("ultimate", "debate", "analysis") and the answer
may come from another article. Such a question is answered from the article it names,
and the name is taken out of what is searched for.

An article is named as :func:`bot.small_talk.asked_article` recognises one in "What is X
about?" (by two or more words of its title, or one beside a word such as "article"), and
only where the question refers to a source: after "according to", "per", "in" or "from",
before a word such as "article" or "post", or before a verb of saying ("…say", "…think",
"…recommend"). "What are the risks of open source LLMs?" names no article, whatever the
titles are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.small_talk import ARTICLE_WORDS, fits_title
from ingest.store import SourceRecord

_MAX_NAME_WORDS = 6
"""The longest reference looked at: "the ultimate debate on open and closed LLMs"."""
_LEAD = re.compile(
    r"(?:,\s*)?\b(?:(?:listed|mentioned|discussed|described|covered|given|named|cited|said"
    r"|stated|written|found)\s+)?(?:according\s+to|per|in|from)\s+$",
    re.IGNORECASE,
)
"""What may come before a reference to a source, taken out with it ("…listed in the X article")."""
_SAYING_VERBS = (
    r"(?:say|think|argue|claim|suggest|recommend|list|mention|describe|conclude|sketch"
    r"|predict|propose)(?:s|es|ed|d)?|said"
)
_SAYING = re.compile(_SAYING_VERBS, re.IGNORECASE)
"""Verbs after which the words before them name who says it: "the technical analysis say"."""
_WORD = re.compile(r"[\w’'\-]+")
_SPACE = re.compile(r"[\s“”\"'‘’]*")
"""What may stand between the words of a name (quotes: "the 'which will dominate' article")."""
_MARKER = re.compile(
    rf"\b(?:according\s+to|per|{'|'.join(sorted(ARTICLE_WORDS))}|{_SAYING_VERBS})\b"
    r"|^\W*(?:in|from)\s+the\b[^,?]+,",  # "In the technical analysis, why…?"
    re.IGNORECASE,
)
"""Cheap test first: a question with none of these words names no article."""


@dataclass(frozen=True)
class Scope:
    """The article a question names, and the question without the name."""

    record: SourceRecord
    question: str


def could_name_an_article(question: str) -> bool:
    """Whether ``question`` has a word that refers to a source ("according to", "article",
    "says"): the cheap test before the knowledge base's titles are read."""
    return _MARKER.search(question) is not None


def named_article(question: str, records: Sequence[SourceRecord]) -> Scope | None:
    """The article ``question`` says to answer from, if it names exactly one.

    Example:
        >>> debate = SourceRecord("/a/debate.md", "The Ultimate Debate", "md", "h", 3, "")
        >>> other = SourceRecord("/a/other.md", "Open Models Today", "md", "h", 3, "")
        >>> scope = named_article("Who backs closed models, according to the ultimate debate?",
        ...                       [debate, other])
        >>> scope.record.title, scope.question
        ('The Ultimate Debate', 'Who backs closed models?')
        >>> named_article("Who wins the ultimate debate?", [debate, other]) is None
        True
    """
    if not records or not could_name_an_article(question):
        return None
    words = list(_WORD.finditer(question))
    for i, the in enumerate(words):
        if the.group().lower() not in ("the", "this", "that"):
            continue
        found = _longest_reference(question, words, i, records)
        if found is not None:
            return found
    return None


def _longest_reference(
    question: str, words: list[re.Match[str]], at: int, records: Sequence[SourceRecord]
) -> Scope | None:
    """The longest run of words after ``words[at]`` ("the") that names one article where
    the question refers to a source."""
    lead = _LEAD.search(question, 0, words[at].start())
    last = at + 1  # a name runs on to the first punctuation: "the technical analysis, why…"
    while last < min(len(words), at + 1 + _MAX_NAME_WORDS) and _SPACE.fullmatch(
        question[words[last - 1].end() : words[last].start()]
    ):
        last += 1
    for end in range(last, at + 1, -1):
        named = [w.group().strip("'’").lower() for w in words[at + 1 : end]]
        after = words[end].group().lower() if end < len(words) else ""
        article_word = named[-1] in ARTICLE_WORDS or after in ARTICLE_WORDS
        if not (lead or article_word or _SAYING.fullmatch(after)):
            continue
        record = fits_title(" ".join(named), records, article_word=article_word)
        if record is None:
            continue
        stop = words[end].end() if after in ARTICLE_WORDS else words[end - 1].end()
        if lead:  # "…, according to the ultimate debate?": the reference goes
            rest = question[: lead.start()] + question[stop:]
        else:  # "Does the technical analysis say…?": "it" says
            rest = question[: words[at].start()] + "it" + question[stop:]
        rest = re.sub(r"\s+([?.!,])", r"\1", rest).strip(" ,;:")
        return Scope(record, rest[:1].upper() + rest[1:])
    return None
