"""Rebuilding a thread's conversation from its messages (pure; the cog fetches them).

The bot keeps no state per thread: each message in a thread is answered with
the questions asked earlier in that same thread, read back from Discord, so a
conversation survives a restart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MENTION = re.compile(r"<@[!&]?\d+>")
HISTORY_MESSAGES = 50
"""How far back to read a thread; the rewriting only needs the last few questions."""
EARLIER_QUESTIONS = 10


@dataclass(frozen=True)
class Said:
    """One message of a thread, as much of it as the conversation needs."""

    text: str
    by_bot: bool = False
    mentions_me: bool = False


def question_in(text: str) -> str:
    """The question in a message: its text without user, role or bot mentions."""
    return MENTION.sub("", text).strip()


def earlier_questions(
    messages: Iterable[Said], *, answers_all: bool, limit: int = EARLIER_QUESTIONS
) -> list[str]:
    """The questions the bot was asked in a thread, oldest first.

    Args:
        messages: The thread's messages (the message that started it first), oldest first.
        answers_all: The thread is the bot's own, where it answers every message;
            otherwise only messages that mention it were questions to it.
        limit: Keep only the most recent questions.

    Example:
        >>> earlier_questions([Said("<@1> What is BLOOM?", mentions_me=True),
        ...                    Said("BLOOM is ...", by_bot=True)], answers_all=True)
        ['What is BLOOM?']
    """
    questions = [
        question_in(m.text) for m in messages if not m.by_bot and (answers_all or m.mentions_me)
    ]
    return [q for q in questions if q][-limit:] if limit > 0 else []
