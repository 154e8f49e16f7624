"""Slash commands and message handling. Each handler is a few lines: check,
defer, ask the knowledge base in a worker thread, render, send."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import SUPPORTED_SUFFIXES, Answer, is_readable_file, is_url
from bot.discord_bot.history import HISTORY_MESSAGES, Said, earlier_questions, question_in
from bot.discord_bot.render import (
    Message,
    escape_mentions,
    render_answer,
    render_progress,
    render_report,
    render_sources,
    trim,
)
from bot.discord_bot.replies import or_missing, report_error, send_messages
from bot.discord_bot.views import NONE, answer_view

if TYPE_CHECKING:
    from bot.discord_bot.client import KnowledgeBot

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
Interaction = discord.Interaction[Any]
_NEW_THREAD = object()
EDIT_INTERVAL = 1.0
"""Least seconds between two edits of an answer being written (Discord rate-limits edits)."""


class KnowledgeCog(commands.Cog):
    """/ask, /sources, /ingest, /forget, and answers to mentions, DMs and thread follow-ups."""

    def __init__(self, bot: KnowledgeBot) -> None:
        self.bot = bot

    # --- /ask -----------------------------------------------------------------------------

    @app_commands.command(name="ask", description="Ask the knowledge base a question.")
    @app_commands.describe(question="Your question", source="Only use this article")
    async def ask(self, interaction: Interaction, question: str, source: str | None = None) -> None:
        wait = self.bot.cooldown.try_acquire(interaction.user.id)
        if wait:
            await interaction.response.send_message(_cooldown_text(wait), ephemeral=True)
            return
        kb = self.bot.kb
        # Both checks happen before deferring, so their errors go out ephemerally:
        # astream checks the question when called; the article is looked up in a
        # worker thread (it reads the store) and handed on as the id it resolved to.
        if source:
            source = await asyncio.to_thread(kb.resolve_source, source)
        items = kb.astream(question, source=source)
        await interaction.response.defer(thinking=True)

        async def show(text: str) -> None:
            await interaction.edit_original_response(
                content=render_progress(text), allowed_mentions=NONE
            )

        answer = await follow_stream(items, show)
        messages, view = await self._prepare(answer, interaction.user.id)
        await send_messages(
            messages,
            first=lambda m, v: interaction.edit_original_response(
                content=None, embeds=m.embeds, view=v, allowed_mentions=NONE
            ),
            rest=lambda m, v: interaction.followup.send(
                embeds=m.embeds, view=or_missing(v), allowed_mentions=NONE
            ),
            view=view,
        )

    @ask.autocomplete("source")
    async def _ask_source(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._source_choices(current)

    async def _prepare(self, answer: Answer, user_id: int) -> tuple[list[Message], discord.ui.View]:
        answer_id = await asyncio.to_thread(self.bot.feedback.remember, answer, user_id)
        return render_answer(answer), answer_view(answer_id, with_passages=bool(answer.citations))

    # --- /sources -------------------------------------------------------------------------

    @app_commands.command(name="sources", description="List the articles in the knowledge base.")
    async def sources(self, interaction: Interaction) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        records = await asyncio.to_thread(self.bot.kb.sources)

        def send(message: Message, _: discord.ui.View | None) -> Awaitable[Any]:
            return interaction.followup.send(
                embeds=message.embeds, ephemeral=True, allowed_mentions=NONE
            )

        await send_messages(render_sources(records), first=send, rest=send)

    # --- /ingest, /forget (admins) ----------------------------------------------------------

    @app_commands.command(
        name="ingest", description="Add an article from a URL or an attached file (admins)."
    )
    @app_commands.describe(
        url="An http(s) link to an article", file=f"A file ({SUPPORTED_SUFFIXES})"
    )
    @app_commands.guild_only()
    async def ingest(
        self,
        interaction: Interaction,
        url: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        if not self._is_admin(interaction):
            await interaction.response.send_message(self._admin_only(), ephemeral=True)
            return
        if (url is None) == (file is None):
            await interaction.response.send_message(
                "Give either a `url` or a `file` to ingest.", ephemeral=True
            )
            return
        if url is not None and not is_url(url):  # never a path on the bot's host
            await interaction.response.send_message(
                "`url` must be an http:// or https:// link.", ephemeral=True
            )
            return
        if file is not None:
            problem = _upload_problem(file)
            if problem:
                await interaction.response.send_message(problem, ephemeral=True)
                return
        name = url or (file.filename if file else "")
        await interaction.response.send_message(
            f"Ingesting {escape_mentions(trim(name, 200))} in the background; I will report back here.",
            ephemeral=True,
            allowed_mentions=NONE,
        )
        self.bot.spawn(self._ingest_in_background(interaction, url, file))

    async def _ingest_in_background(
        self, interaction: Interaction, url: str | None, file: discord.Attachment | None
    ) -> None:
        try:
            target: str | Path = url or ""
            if file is not None:
                target = await self._save_upload(file)
            report = await asyncio.to_thread(self.bot.kb.ingest, [target])
            await interaction.followup.send(
                embed=render_report(report), ephemeral=True, allowed_mentions=NONE
            )
        except Exception as exc:
            await report_error(
                lambda text: interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE),
                exc,
                "background ingest",
            )

    async def _save_upload(self, file: discord.Attachment) -> Path:
        data = await file.read()
        folder = self.bot.kb.settings.home / "uploads"
        path = folder / (_SAFE_NAME.sub("-", file.filename).strip("-.") or "upload.txt")
        await asyncio.to_thread(_write, path, data)
        return path

    @app_commands.command(
        name="forget", description="Remove an article from the knowledge base (admins)."
    )
    @app_commands.describe(source="The article to remove")
    @app_commands.guild_only()
    async def forget(self, interaction: Interaction, source: str) -> None:
        if not self._is_admin(interaction):
            await interaction.response.send_message(self._admin_only(), ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        report = await asyncio.to_thread(self.bot.kb.forget, source)
        title = escape_mentions(report.title or report.source)
        await interaction.followup.send(
            f"Removed **{title}** ({report.chunks} passages).",
            ephemeral=True,
            allowed_mentions=NONE,
        )

    @forget.autocomplete("source")
    async def _forget_source(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._source_choices(current)

    def _is_admin(self, interaction: Interaction) -> bool:
        # The permissions Discord resolved for this member in this channel (roles and
        # overwrites included); the guild cache may not know every role.
        if interaction.permissions.manage_guild:
            return True
        member = interaction.user
        role = self.bot.settings.discord_admin_role
        return (
            bool(role)
            and isinstance(member, discord.Member)
            and any(r.name == role for r in member.roles)
        )

    def _admin_only(self) -> str:
        role = self.bot.settings.discord_admin_role
        who = "members with the Manage Server permission" + (
            f" or the **{role}** role" if role else ""
        )
        return f"Sorry, only {who} can change the knowledge base."

    async def _source_choices(self, current: str) -> list[app_commands.Choice[str]]:
        records = await asyncio.to_thread(self.bot.kb.sources)
        needle = current.casefold()
        choices = []
        for record in records:
            if (
                needle
                and needle not in record.title.casefold()
                and needle not in record.source_id.casefold()
            ):
                continue
            value = _choice_value(record.title, record.source_id)
            choices.append(app_commands.Choice(name=trim(record.title, 100), value=value))
        return choices[:25]

    # --- mentions, DMs and thread follow-ups --------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.bot.user is None:
            return
        place = self._conversation(message)
        if place is None:
            return
        question = question_in(message.content)
        if not question:
            await message.reply(
                "Ask me a question after the mention, for example: *Why did EleutherAI take GPT-J offline?*",
                allowed_mentions=NONE,
            )
            return
        wait = self.bot.cooldown.try_acquire(message.author.id)
        if wait:
            await message.reply(_cooldown_text(wait), allowed_mentions=NONE)
            return
        target: discord.abc.Messageable = place
        if place is _NEW_THREAD:
            target = await message.create_thread(
                name=trim(question, 90), auto_archive_duration=1440
            )
        shown: discord.Message | None = None

        async def show(text: str) -> None:
            nonlocal shown
            if shown is None:
                shown = await target.send(render_progress(text), allowed_mentions=NONE)
            else:
                await shown.edit(content=render_progress(text), allowed_mentions=NONE)

        try:
            async with target.typing():
                if isinstance(place, discord.Thread):  # a conversation: earlier turns count
                    earlier = await self._earlier_questions(place, message)
                    items = self.bot.kb.conversation(earlier).astream(question)
                else:
                    items = self.bot.kb.astream(question)
                answer = await follow_stream(items, show)
                messages, view = await self._prepare(answer, message.author.id)
        except Exception as exc:
            await report_error(
                lambda text: target.send(text, allowed_mentions=NONE), exc, "answering a message"
            )
            return

        def send(reply: Message, view: discord.ui.View | None) -> Awaitable[Any]:
            return target.send(embeds=reply.embeds, view=or_missing(view), allowed_mentions=NONE)

        def edit_shown(reply: Message, view: discord.ui.View | None) -> Awaitable[Any]:
            assert shown is not None
            return shown.edit(content=None, embeds=reply.embeds, view=view, allowed_mentions=NONE)

        # The message that showed the answer being written becomes its first message.
        await send_messages(
            messages, first=send if shown is None else edit_shown, rest=send, view=view
        )

    def _conversation(self, message: discord.Message) -> Any:
        """Where to answer: a channel, ``_NEW_THREAD`` (start one from the message), or None."""
        settings = self.bot.settings
        me = self.bot.user
        assert me is not None
        channel = message.channel
        if isinstance(channel, discord.DMChannel):
            return channel if settings.discord_dms else None
        if isinstance(channel, discord.Thread):
            if not self._listens_in(channel.parent_id):
                return None
            ours = channel.owner_id == me.id
            return channel if ours or me in message.mentions else None
        if me not in message.mentions or not self._listens_in(channel.id):
            return None
        return _NEW_THREAD if isinstance(channel, discord.TextChannel) else channel

    async def _earlier_questions(
        self, thread: discord.Thread, message: discord.Message
    ) -> list[str]:
        """The questions asked before ``message`` in ``thread``, read back from Discord."""
        me = self.bot.user
        assert me is not None
        ours = thread.owner_id == me.id
        said: list[Said] = []
        try:
            if ours:  # the question that started the thread sits in the parent channel
                starter = thread.starter_message or await _fetch_starter(thread)
                if starter is not None:
                    said.append(_said(starter, me))
            recent = [m async for m in thread.history(limit=HISTORY_MESSAGES, before=message)]
        except discord.HTTPException:
            log.warning("could not read the history of thread %s", thread.id, exc_info=True)
            return []
        said += [_said(m, me) for m in reversed(recent)]
        return earlier_questions(said, answers_all=ours)

    def _listens_in(self, channel_id: int | None) -> bool:
        allowed = self.bot.settings.discord_channels
        return not allowed or channel_id in allowed


async def follow_stream(
    items: AsyncIterator[str | Answer],
    show: Callable[[str], Awaitable[None]],
    interval: float = EDIT_INTERVAL,
) -> Answer:
    """Consume an answer stream, showing the text so far at most once per ``interval``.

    The first edit waits ``interval`` too, so an answer that is ready at once (the
    extractive one) is sent once, complete. Returns the final :class:`Answer`.
    """
    loop = asyncio.get_running_loop()
    last = loop.time()
    written = ""
    final: Answer | None = None
    async for item in items:
        if isinstance(item, Answer):
            final = item
            continue
        written += item
        if written.strip() and loop.time() - last >= interval:
            await show(written)
            last = loop.time()
    if final is None:
        raise RuntimeError("the answer stream ended without an answer")
    return final


async def _fetch_starter(thread: discord.Thread) -> discord.Message | None:
    parent = thread.parent
    if not isinstance(parent, discord.TextChannel):
        return None
    try:
        return await parent.fetch_message(thread.id)  # a thread shares its starter's id
    except discord.NotFound:
        return None  # deleted


def _said(message: discord.Message, me: discord.abc.User) -> Said:
    return Said(message.content, message.author.bot, me in message.mentions)


def _cooldown_text(wait: float) -> str:
    return f"You are asking quickly. Please try again in {math.ceil(wait)} s."


def _upload_problem(file: discord.Attachment) -> str | None:
    if not is_readable_file(file.filename):
        return f"I cannot read `{escape_mentions(trim(file.filename, 100))}`: supported files are {SUPPORTED_SUFFIXES}."
    if file.size > MAX_UPLOAD_BYTES:
        return f"That file is too large ({file.size // 2**20} MiB); the limit is {MAX_UPLOAD_BYTES // 2**20} MiB."
    return None


def _choice_value(title: str, source_id: str) -> str:
    """A value of at most 100 characters that :meth:`KnowledgeBase.resolve_source` understands."""
    for candidate in (title, source_id, Path(source_id).name):
        if len(candidate) <= 100:
            return candidate
    return title[:100]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
