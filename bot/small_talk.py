"""Messages that are not questions about the articles: "hello", "help", "What articles do you have?".

A user's first message to a bot is often one of these. Searched for like a question,
"hello" finds nothing and "What articles do you have?" quotes a sentence that happens to
say "articles". Instead, such a message gets an overview: what the bot answers from, with
each article cited by its opening passage, so the reply keeps the rule that every
sentence of an answer points at a passage.

The patterns match a whole message only, so a question that merely starts like one
("What articles discuss licensing?", "How does it work?" after "What is BLOOM?") is
answered as a question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.results import Answer, Citation
from ingest.store import SourceRecord, StoredChunk

OVERVIEW_ARTICLES = 5
"""Articles cited by name in an overview; the rest are counted."""

_END = r"[\s!?.,:;)(\-–—…🙂😊👋]*$"
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|greetings|yo|good\s+(?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|bot|all|everyone|folks))?" + _END,
    re.IGNORECASE,
)
_HELP = re.compile(
    r"^(?:help|what\s+can\s+you\s+do|what\s+do\s+you\s+do|who\s+are\s+you|what\s+are\s+you"
    r"|how\s+(?:do|can|should)\s+i\s+use\s+(?:you|this(?:\s+bot)?)"
    r"|what\s+(?:can|should)\s+i\s+ask(?:\s+you)?)" + _END,
    re.IGNORECASE,
)
_CATALOGUE = re.compile(
    r"^(?:(?:what|which)\s+(?:articles|sources|documents|docs|topics|subjects|files|pages)"
    r"\s+(?:do\s+you\s+(?:have|know(?:\s+about)?|cover)|are\s+there"
    r"|are\s+in\s+(?:here|the\s+knowledge\s+base|this\s+knowledge\s+base|your\s+knowledge\s+base)"
    r"|can\s+(?:you|i)\s+ask(?:\s+you)?\s+about)"
    r"|what(?:\s+is|'s|’s)\s+(?:this|the|your)\s+knowledge\s+base\s+(?:about|for)"
    r"|what\s+do\s+you\s+know(?:\s+about)?"
    r"|list\s+(?:the\s+|your\s+|all\s+(?:the\s+)?)?(?:articles|sources|documents))" + _END,
    re.IGNORECASE,
)


def is_small_talk(message: str) -> bool:
    """Whether ``message`` greets, asks for help, or asks what the knowledge base holds.

    Example:
        >>> is_small_talk("Hello!"), is_small_talk("What articles do you have?")
        (True, True)
        >>> is_small_talk("What articles discuss licensing?"), is_small_talk("How does it work?")
        (False, False)
    """
    text = message.strip()
    return any(p.match(text) for p in (_GREETING, _HELP, _CATALOGUE))


def overview(
    question: str,
    records: Sequence[SourceRecord],
    openings: Mapping[str, StoredChunk],
) -> Answer:
    """What the bot answers from: the articles, each cited by its opening passage.

    Args:
        question: The message, as the user wrote it.
        records: The knowledge base's articles, in the order to name them.
        openings: Source id -> the article's first passage (articles without one are
            named by the count only).

    Returns:
        An answered ``Answer`` citing up to :data:`OVERVIEW_ARTICLES` articles; with no
        article at all, an unanswered one that says how to add some.
    """
    cited = [r for r in records if r.source_id in openings][:OVERVIEW_ARTICLES]
    if not cited:
        text = "The knowledge base holds no articles yet: add some with `kb ingest`."
        return Answer(question, text, False)
    citations = [
        Citation(
            n=n,
            source=record.source_id,
            title=record.title,
            section=openings[record.source_id].section,
            text=openings[record.source_id].text,
            score=1.0,
            url=record.url,
            start=openings[record.source_id].start,
            end=openings[record.source_id].end,
        )
        for n, record in enumerate(cited, start=1)
    ]
    named = "; ".join(f"“{c.title}” [{c.n}]" for c in citations)
    rest = len(records) - len(cited)
    more = f"; and {rest:,} more" if rest else ""
    articles = "article" if len(records) == 1 else "articles"
    text = (
        f"I answer questions from the {len(records):,} {articles} of this knowledge base, "
        f"quoting the passages each answer comes from: {named}{more}."
    )
    return Answer(question, text, True, citations, confidence=1.0)
