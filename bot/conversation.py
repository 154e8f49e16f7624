"""Conversations: follow-up questions answered in the context of the earlier ones."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.followup import (
    points_at_the_one_answered,
    repeats_earlier,
    standalone,
    the_one_answered,
)
from bot.item_reference import (
    picks_an_item,
    points_at_an_item,
    with_item_named,
    with_items_to_pick_from,
)
from bot.results import Answer
from bot.small_talk import is_small_talk, without_opener
from bot.streaming import in_thread

if TYPE_CHECKING:
    from bot.knowledge_base import KnowledgeBase

REPEAT_WINDOW = 3
"""How many earlier turns a new answer must not merely repeat."""


@dataclass
class _Turn:
    question: str
    standalone: str
    answer: Answer | None
    given: bool = False
    """Given as ``earlier`` (not asked here): not in ``history``, answered only if needed."""


class Conversation:
    """A series of questions where each may lean on the ones before it.

    A follow-up such as "Who made it?" or "What about Falcon?" is rewritten into
    a standalone question from the earlier turns, and that is what is searched
    for and answered: by the LLM when one is configured (LangChain's
    history-aware pattern, see :meth:`bot.generative.GenerativeAnswerer.condense`),
    otherwise by rules (:mod:`bot.followup`), which also stand in when the LLM fails.
    ``Answer.question`` keeps the user's words; ``Answer.standalone_question``
    shows what was searched for. A follow-up that asks something new never gets
    the previous answer again: if all the knowledge base has is the sentence it
    already quoted, the follow-up is not answered. Turns are answered one at a
    time, in order, even when asked from several threads or tasks.

    Create one with :meth:`KnowledgeBase.conversation`.

    Example:
        >>> conversation = kb.conversation()  # doctest: +SKIP
        >>> conversation.ask("What is BLOOM?").text  # doctest: +SKIP
        'BLOOM: An open-source model focused on collaboration and innovation. [1]'
        >>> conversation.ask("Who made it?").standalone_question  # doctest: +SKIP
        'Who made BLOOM?'
    """

    def __init__(self, kb: KnowledgeBase, earlier: Sequence[str] = ()) -> None:
        self._kb = kb
        self._lock = threading.Lock()
        self._turns: list[_Turn] = []
        for question in earlier:
            resolved = standalone(question, [t.question for t in self._turns])
            self._turns.append(_Turn(question, resolved, None, given=True))

    @property
    def history(self) -> list[tuple[str, Answer]]:
        """The questions asked through this conversation and their answers, oldest first."""
        with self._lock:
            return [(t.question, t.answer) for t in self._turns if t.answer and not t.given]

    def ask(self, question: str, *, source: str | None = None) -> Answer:
        """Answer ``question`` in the context of the earlier turns.

        Args:
            question: The user's question, as typed (a follow-up may be elliptical).
            source: Only use this article (a source id, path or URL).

        Returns:
            An :class:`Answer` whose ``question`` is ``question`` and whose
            ``standalone_question`` is what was searched for.

        Raises:
            InvalidQuestionError: The question is empty or too long.
            SourceNotFoundError: ``source`` is not in the knowledge base.
        """
        with self._lock:
            question = self._kb.validate_question(question)
            resolved = self._standalone(question)
            answer = self._kb._answer(question, resolved, source, repeats=self._repeats)
            self._turns.append(_Turn(question, resolved, answer))
            return answer

    async def aask(self, question: str, *, source: str | None = None) -> Answer:
        """:meth:`ask` in a worker thread, so an event loop never blocks."""
        return await asyncio.to_thread(self.ask, question, source=source)

    def stream(self, question: str, *, source: str | None = None) -> Iterator[str | Answer]:
        """:meth:`ask`, streamed: text deltas (provisional), then the final :class:`Answer`.

        The turn joins the conversation when the final answer has been yielded.

        Raises:
            InvalidQuestionError: The question is empty or too long (when called).
        """
        question = self._kb.validate_question(question)
        return self._stream(question, source)

    def astream(self, question: str, *, source: str | None = None) -> AsyncIterator[str | Answer]:
        """:meth:`stream` for asyncio (the work runs in a worker thread)."""
        question = self._kb.validate_question(question)
        return in_thread(lambda: self._stream(question, source))

    def _stream(self, question: str, source: str | None) -> Iterator[str | Answer]:
        final: Answer | None = None
        with self._lock:
            resolved = self._standalone(question)
            for item in self._kb._stream(question, resolved, source, repeats=self._repeats):
                if isinstance(item, Answer):
                    final = item
                    self._turns.append(_Turn(question, resolved, final))
                    break
                yield item
        if final is not None:  # outside the lock: a caller that stops here blocks no one
            yield final

    def _standalone(self, question: str) -> str:
        """What to search for: the LLM's condensed question, else the rule-based rewrite."""
        earlier = [t.question for t in self._turns]
        question = without_opener(question)  # "Thanks! And GPT-3?"
        if not earlier or is_small_talk(question):
            return question
        if points_at_an_item(question):  # "the second one": of the last answer's list
            question = with_item_named(question, self._answered(self._turns[-1]))
        elif picks_an_item(question):  # "Which one is open source?": of the last answer's list
            question = with_items_to_pick_from(question, self._answered(self._turns[-1]))
        condense = getattr(self._kb.answerer, "condense", None)
        if condense is not None:
            history = [
                (t.question, t.answer.text if t.answer is not None and t.answer.answered else None)
                for t in self._turns
            ]
            rewritten = condense(question, history)
            if isinstance(rewritten, str) and rewritten.strip():
                limit = self._kb.settings.max_question_chars
                return rewritten.strip()[:limit]
        last = self._turns[-1]
        if points_at_the_one_answered(question, last.standalone):
            one = the_one_answered(last.standalone, self._answered(last))
            if one is not None:  # "Who made it?" after "Which model…?": the model answered
                earlier = [*earlier, f"What is {one}?"]
        return standalone(question, earlier)

    def _repeats(self, answer: Answer) -> Answer | None:
        """The recent earlier answer that ``answer`` only repeats, if any."""
        recent = self._turns[-REPEAT_WINDOW:]
        return repeats_earlier(answer, [self._answered(turn) for turn in recent])

    def _answered(self, turn: _Turn) -> Answer:
        """The turn's answer; an earlier question given by the caller is answered now."""
        if turn.answer is None:
            turn.answer = self._kb._answer(turn.question, turn.standalone, None)
        return turn.answer
