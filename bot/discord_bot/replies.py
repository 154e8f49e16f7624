"""Getting output to the user: a reply of several messages, and errors told once, one way.

The handlers decide *where* a reply goes (an interaction's response, its follow-ups,
a channel, a message being edited); these helpers decide *what* is sent in what order.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import discord
from discord import app_commands

from bot import KnowledgeBaseError
from bot.discord_bot.render import Message, render_error

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong. The error was logged; please try again later."
"""What the user reads when something unexpected failed (the traceback goes to the log)."""

Send = Callable[[Message, "discord.ui.View | None"], Awaitable[Any]]
"""Sends one message with the view to put under it (None: no view)."""


async def send_messages(
    messages: Sequence[Message], first: Send, rest: Send, view: discord.ui.View | None = None
) -> None:
    """Send a reply of several messages in order: the first through ``first`` (often an
    edit of the message that said "thinking…"), the others through ``rest``; ``view``
    (the answer's buttons) goes under the last one only."""
    for i, message in enumerate(messages):
        last = i == len(messages) - 1
        await (first if i == 0 else rest)(message, view if last else None)


def or_missing(view: discord.ui.View | None) -> Any:
    """``view`` for ``send`` calls, where "no view" is spelled ``MISSING``, not None."""
    return discord.utils.MISSING if view is None else view


def error_text(error: BaseException, doing: str) -> str:
    """What to tell the user about ``error``.

    A :class:`~bot.KnowledgeBaseError` carries a message written for users; anything
    else is logged with its traceback and the user gets :data:`APOLOGY`.
    """
    if isinstance(error, KnowledgeBaseError):
        return render_error(str(error))
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    log.error("%s failed", doing, exc_info=error)
    return APOLOGY


async def report_error(
    send: Callable[[str], Awaitable[Any]], error: BaseException, doing: str
) -> None:
    """Tell the user about ``error`` through ``send``; a failure to do so is only logged."""
    text = error_text(error, doing)
    try:
        await send(text)
    except discord.HTTPException:
        log.warning("could not report an error to the user", exc_info=True)
