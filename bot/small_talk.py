"""Messages about the knowledge base rather than in it: "hello", "help", "What articles do
you have?", "What is the technical analysis about?", "What does it conclude?".

A user's first message to a bot is often one of these. Searched for like a question,
"hello" finds nothing, "What articles do you have?" quotes a sentence that happens to
say "articles", and "Summarize the ultimate debate article" some sentence with
"article" in it. Instead, small talk gets an overview (what the bot answers from, each
article cited by its opening passage) and a question about one article is answered by
the first sentences of its opening passage, where articles say what they are about, and
what it concludes by the first sentences of its last section. All keep the rule that
every sentence of an answer points at a passage.

The patterns match a whole message only, so a question that merely starts like one
("What articles discuss licensing?", "How does it work?" after "What is BLOOM?") is
answered as a question; an article is recognised by a word such as "article" or "post",
or by two words of its title ("What is the debate about?" is a question).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import PurePath

from bot.results import Answer, Citation, SuggestedSource
from bot.terms import query_terms
from ingest.store import SourceRecord, StoredChunk

OVERVIEW_ARTICLES = 5
"""Articles cited by name in an overview; the rest are counted."""

_END = r"[\s!?.,:;)(\-–—…🙂😊👋]*$"
_HELLO = (
    r"(?:hi|hello|hey|hiya|howdy|greetings|yo|good\s+(?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|bot|all|everyone|folks))?"
)
_GREETING = re.compile("^" + _HELLO + _END, re.IGNORECASE)
_THANKING = (
    r"(?:thanks|thank\s+you|thx|ty|cheers|much\s+appreciated)"
    r"(?:\s+(?:a\s+lot|so\s+much|very\s+much|again|bot))?"
)
_THANKS = re.compile("^" + _THANKING + _END, re.IGNORECASE)
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
    r"|what(?:\s+is|\s+are|'s|’s)\s+(?:the|these|this|your)\s+(?:articles?|posts?|documents?)"
    r"\s+about"
    r"|list\s+(?:the\s+|your\s+|all\s+(?:the\s+)?)?(?:articles|sources|documents))" + _END,
    re.IGNORECASE,
)


_OPENER = re.compile(
    r"^(?:" + _HELLO + "|" + _THANKING + r"|ok(?:ay)?|great|cool|nice|perfect)"
    r"\s*(?:[!,.:;]+|\s[-–—])\s*(?=\w)",
    re.IGNORECASE,
)


def without_opener(message: str) -> str:
    """``message`` without a greeting or thanks before the question ("Hi, what is BLOOM?"):
    "hi" is a word no article uses, and counted against the answer.

    Example:
        >>> without_opener("Hi, what is BLOOM?"), without_opener("Thanks! And GPT-3?")
        ('what is BLOOM?', 'And GPT-3?')
        >>> without_opener("Hey Jude is a song?")  # no punctuation: part of the question
        'Hey Jude is a song?'
    """
    return _OPENER.sub("", message.strip(), count=1)


def is_small_talk(message: str) -> bool:
    """Whether ``message`` greets, asks for help, or asks what the knowledge base holds.

    Example:
        >>> is_small_talk("Hello!"), is_small_talk("What articles do you have?")
        (True, True)
        >>> is_small_talk("What articles discuss licensing?"), is_small_talk("How does it work?")
        (False, False)
    """
    text = without_opener(message)  # "Cool, thanks", "Hi! What articles do you have?"
    return any(p.match(text) for p in (_GREETING, _THANKS, _HELP, _CATALOGUE))


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
        _article_cited(n, record, openings[record.source_id])
        for n, record in enumerate(cited, start=1)
    ]
    named = "; ".join(f"“{c.title}” [{c.n}]" for c in citations)
    rest = len(records) - len(cited)
    more = f"; and {rest:,} more" if rest else ""
    articles = "article" if len(records) == 1 else "articles"
    held = f"the {len(records):,} {articles} of this knowledge base"
    if _THANKS.match(without_opener(question)):  # "Thanks!", "Cool, thanks"
        text = f"You're welcome; ask me anything else about {held}: {named}{more}."
    else:
        text = (
            f"I answer questions from {held}, quoting the passages each answer comes from: "
            f"{named}{more}."
        )
    return Answer(question, text, True, citations, confidence=1.0)


SUMMARY_SENTENCES = 3
"""Sentences of an article's opening passage that say what it is about."""

_ASKS_ABOUT = re.compile(
    r"^(?:what(?:\s+is|'s|’s)\s+(?P<about>.+?)\s+about"
    r"|what\s+does\s+(?P<covers>.+?)\s+(?:cover|say|discuss)"
    r"|(?:summari[sz]e|sum\s+up|give\s+(?:me\s+)?a\s+summary\s+of|tl;?dr(?:\s+of)?)"
    r"\s+(?P<summary>.+?))" + _END,
    re.IGNORECASE,
)
_PUBLISHED = (
    r"(?:published|written|posted|released|come\s+out|get\s+(?:published|posted)|appear"
    r"|go\s+(?:up|live|online))"
)
_ASKS_WHEN_PUBLISHED = re.compile(
    r"^(?:(?:when|(?:on\s+)?what\s+(?:date|day))\s+(?:was|were|did)\s+(?P<when>.+?)\s+"
    + _PUBLISHED
    + r"|what\s+is\s+the\s+(?:publication|publishing|release)\s+date\s+of\s+(?P<date>.+?))"
    + _END,
    re.IGNORECASE,
)
"""When an article was published: the knowledge base's record says, not its passages."""
_ASKS_CONCLUSION = re.compile(
    r"^(?:what\s+(?:does|do|did)\s+(?P<concludes>.+?)\s+conclude"
    r"|what(?:\s+is|'s|’s|\s+are)\s+(?:the\s+)?(?:conclusions?|bottom\s+line|verdict"
    r"|(?:key\s+|main\s+)?takeaways?)\s+(?:of|in|from)\s+(?P<conclusion>.+?)"
    r"|how\s+does\s+(?P<ends>.+?)\s+(?:end|conclude|wrap\s+up))" + _END,
    re.IGNORECASE,
)
"""What an article concludes: its last section says ("What does the technical analysis
conclude?", whatever that section is called)."""
ARTICLE_WORDS = frozenset({"article", "post", "piece", "page", "paper", "blog", "essay"})
"""Words that say a reference is to an article ("the debate article", "the Alpaca post")."""
_THIS = re.compile(r"^(?:the|this|that)\s+", re.IGNORECASE)


def asks_about_an_article(message: str) -> bool:
    """Whether ``message`` has the form of "What is X about?" / "Summarize X" / "When was X
    published?" (whether X is an article, :func:`asked_article` says).

    Example:
        >>> asks_about_an_article("Summarize the ultimate debate."), asks_about_an_article("Why?")
        (True, False)
        >>> asks_about_an_article("When was the ultimate debate article published?")
        True
    """
    return _asked_form(message) is not None


def asks_when_published(message: str) -> bool:
    """Whether ``message`` asks when X was published (X perhaps an article)."""
    return _ASKS_WHEN_PUBLISHED.match(message.strip()) is not None


def asks_conclusion(message: str) -> bool:
    """Whether ``message`` asks what X concludes (X perhaps an article).

    Example:
        >>> asks_conclusion("What does the technical analysis conclude?")
        True
        >>> asks_conclusion("What is the bottom line of the dominate article?")
        True
        >>> asks_conclusion("What is the conclusion?")  # of no article: searched for
        False
    """
    return _ASKS_CONCLUSION.match(message.strip()) is not None


_EVERY_ARTICLE = re.compile(
    r"^(?:the|these|those|your|all(?:\s+(?:the|these|your))?|both(?:\s+the)?)?\s*"
    r"(?:articles|posts|sources|papers|pieces|authors|writers)$",
    re.IGNORECASE,
)


def asks_every_conclusion(message: str) -> bool:
    """Whether ``message`` asks what the articles, all of them, conclude.

    Example:
        >>> asks_every_conclusion("What do the articles conclude?")
        True
        >>> asks_every_conclusion("What does the technical analysis conclude?")
        False
    """
    match = _ASKS_CONCLUSION.match(message.strip())
    if not match:
        return False
    reference = next(g for g in match.groups() if g).strip(" “”\"'")
    return _EVERY_ARTICLE.match(reference) is not None


def _asked_form(message: str) -> re.Match[str] | None:
    text = message.strip()
    return (
        _ASKS_ABOUT.match(text) or _ASKS_WHEN_PUBLISHED.match(text) or _ASKS_CONCLUSION.match(text)
    )


def asked_article(message: str, records: Sequence[SourceRecord]) -> SourceRecord | None:
    """The article a "What is X about?" / "Summarize X" message asks about, if X names one.

    X names an article by its title or file name, by two or more words of its title, or,
    in a knowledge base of one article, as "the article".

    Example:
        >>> record = SourceRecord("/a/debate.md", "The Ultimate Debate", "md", "h", 3, "")
        >>> asked_article("Summarize the ultimate debate.", [record]).title
        'The Ultimate Debate'
        >>> asked_article("What is the debate about?", [record]) is None
        True
    """
    match = _asked_form(message)
    if not match or not records:
        return None
    reference = _THIS.sub("", next(g for g in match.groups() if g)).strip(" “”\"'")
    return fits_title(reference, records)


def fits_title(
    reference: str, records: Sequence[SourceRecord], *, article_word: bool = False
) -> SourceRecord | None:
    """The one article ``reference`` names: by its title or file name, by two or more words
    of its title, or by one beside a word such as "article" (in ``reference``, or
    ``article_word`` when the caller saw one after it); in a knowledge base of one
    article, "the article" names it."""
    words = reference.lower().split()
    article_word = article_word or any(w in ARTICLE_WORDS for w in words)  # "the X article"
    named = set(query_terms(" ".join(w for w in words if w not in ARTICLE_WORDS)))
    if not named:  # "the article", "this post"
        return records[0] if article_word and len(records) == 1 else None
    fitting = []
    for record in records:
        if reference.lower() in (record.title.lower(), PurePath(record.source_id).name.lower()):
            return record
        if named <= _title_terms(record.title) and (len(named) >= 2 or article_word):
            fitting.append(record)
    # "open source vs closed source" fits every title here: no one article is asked about
    return fitting[0] if len(fitting) == 1 else None


@functools.lru_cache(maxsize=4096)
def _title_terms(title: str) -> frozenset[str]:
    """A title's terms, stemmed once: a question may try several references against every
    title of the knowledge base (:mod:`bot.article_scope`)."""
    return frozenset(query_terms(title))


def summary(question: str, record: SourceRecord, opening: StoredChunk) -> Answer:
    """The first sentences of an article's opening passage, which say what it is about."""
    quoted = [opening.text[s.start : s.end] for s in opening.sentences[:SUMMARY_SENTENCES]]
    citation = _article_cited(1, record, opening, quote=" … ".join(quoted))
    text = " ".join(f"{sentence} [1]" for sentence in quoted)
    return Answer(question, text, True, [citation], confidence=1.0)


def conclusion(question: str, record: SourceRecord, closing: StoredChunk, section: str) -> Answer:
    """The first sentences of an article's last section, ``section``, from ``closing``, the
    passage where it starts (or the article's last): where articles conclude, whatever
    that section is called.

    Example:
        >>> from ingest.models import Chunk, Span
        >>> text = "Costs are high. A hybrid model might prevail. Stay informed."
        >>> closing = Chunk("c", "a.txt", "The Debate", "", text, 0, len(text), 4, "",
        ...                 (Span(0, 15), Span(16, 45), Span(46, 60)),
        ...                 sentence_sections=("Costs", "Conclusion", "Conclusion"))
        >>> record = SourceRecord("a.txt", "The Debate", "txt", "h", 5, "")
        >>> conclusion("What does the debate article conclude?", record, closing, "Conclusion").text
        'A hybrid model might prevail. [1] Stay informed. [1]'
    """
    quoted = _concluding(closing, section)[:SUMMARY_SENTENCES]
    citation = _article_cited(1, record, closing, quote=" … ".join(quoted))
    text = " ".join(f"{sentence} [1]" for sentence in quoted)
    return Answer(question, text, True, [citation], confidence=1.0)


def conclusions(
    question: str, concluded: Sequence[tuple[SourceRecord, StoredChunk, str]]
) -> Answer:
    """What each article concludes ("What do the articles conclude?"): the first sentence of
    its last section, each cited apart; ``concluded`` as :func:`conclusion` takes them."""
    citations: list[Citation] = []
    parts: list[str] = []
    for record, closing, section in concluded:
        quoted = _concluding(closing, section)[:1]
        if not quoted:
            continue
        n = len(citations) + 1
        citations.append(_article_cited(n, record, closing, quote=quoted[0]))
        parts.append(f"“{record.title}”: {quoted[0]} [{n}]")
    return Answer(question, " ".join(parts), bool(parts), citations, confidence=float(bool(parts)))


def _concluding(closing: StoredChunk, section: str) -> list[str]:
    """The sentences of ``closing`` under ``section``, in order."""
    sections = closing.sentence_sections or (closing.section,) * len(closing.sentences)
    return [
        closing.text[span.start : span.end]
        for span, heading in zip(closing.sentences, sections)
        if heading == section
    ]


def last_section(chunk: StoredChunk) -> str:
    """The section ``chunk`` ends in."""
    return chunk.sentence_sections[-1] if chunk.sentence_sections else chunk.section


def first_section(chunk: StoredChunk) -> str:
    """The section ``chunk`` starts in."""
    return chunk.sentence_sections[0] if chunk.sentence_sections else chunk.section


def publication(question: str, record: SourceRecord, opening: StoredChunk) -> Answer:
    """When an article was published, as the knowledge base recorded it at ingest (the
    corpus manifest's ``published``, a web page's date), citing the article's opening; not
    answered when no date was recorded.

    Example:
        >>> from ingest.models import Chunk, Span
        >>> opening = Chunk("c", "a.txt", "The Debate", "", "Open models win.", 0, 16, 0, "",
        ...                 (Span(0, 16),))
        >>> record = SourceRecord("a.txt", "The Debate", "txt", "h", 1, "", published="2025-02-22")
        >>> publication("When was the debate article published?", record, opening).text
        '“The Debate” was published on 22 February 2025 (the date recorded with the article). [1]'
    """
    citation = _article_cited(1, record, opening, quote="")
    published = _date(record.published)
    if published is None:
        text = f"The knowledge base has no publication date for “{record.title}”."
        suggested = [SuggestedSource(record.source_id, record.title, record.url)]
        return Answer(question, text, False, closest=suggested)
    text = (
        f"“{record.title}” was published on {published} (the date recorded with the article). [1]"
    )
    return Answer(question, text, True, [citation], confidence=1.0)


def _date(published: str | None) -> str | None:
    """An ISO date as "22 February 2025"; a value that is no ISO date as it is."""
    if not published or not published.strip():
        return None
    try:
        day = date.fromisoformat(published.strip()[:10])
    except ValueError:
        return published.strip()
    return f"{day.day} {day:%B %Y}"


def _article_cited(n: int, record: SourceRecord, opening: StoredChunk, quote: str = "") -> Citation:
    """A passage of an article (its opening, or where it concludes) as citation ``n``."""
    return Citation.of_chunk(n, opening, score=1.0, quote=quote, url=record.url, title=record.title)
