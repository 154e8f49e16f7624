"""The Discord client: a ``commands.Bot`` that holds the knowledge base and settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import KnowledgeBase, KnowledgeBaseError, Settings
from bot.discord_bot.cooldown import Cooldown
from bot.discord_bot.replies import APOLOGY, report_error
from bot.discord_bot.views import AnswerButton
from bot.feedback import FeedbackStore

log = logging.getLogger(__name__)

__all__ = ["APOLOGY", "KnowledgeBot"]


class KnowledgeBot(commands.Bot):
    """The bot. Everything it knows comes through ``__init__``; cogs load in ``setup_hook``.

    Example:
        >>> bot = KnowledgeBot(KnowledgeBase(), Settings())  # doctest: +SKIP
        >>> await bot.start(token)  # doctest: +SKIP
    """

    def __init__(
        self, kb: KnowledgeBase, settings: Settings, feedback: FeedbackStore | None = None
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True  # to read the question in "@bot question"
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
        )
        self.kb = kb
        self.settings = settings
        self.feedback = feedback or FeedbackStore(settings.feedback_path)
        self.cooldown = Cooldown(settings.discord_cooldown_uses, settings.discord_cooldown_seconds)
        self._background: set[asyncio.Task[Any]] = set()

    async def setup_hook(self) -> None:
        from bot.discord_bot.cog import KnowledgeCog

        await self.add_cog(KnowledgeCog(self))
        self.add_dynamic_items(AnswerButton)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        if self.settings.discord_guild:
            guild = discord.Object(id=self.settings.discord_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
        else:
            synced = await self.tree.sync()
        log.info("synced %d commands", len(synced))
        self.spawn(asyncio.to_thread(self.kb.warm_up))
        if self.settings.sync_hours > 0:
            self.spawn(self.sync_periodically(self.settings.sync_hours * 3600))

    async def sync_periodically(self, seconds: float) -> None:
        """Re-sync the ingested web pages every ``seconds`` (``KB_SYNC_HOURS``), until closed.

        A failed run is logged and the schedule goes on; pages are re-fetched
        with conditional requests, so a run over an unchanged site is cheap.
        """
        while True:
            await asyncio.sleep(seconds)
            try:
                report = await asyncio.to_thread(self.kb.sync)
            except KnowledgeBaseError as exc:
                log.warning("scheduled sync failed: %s", exc)
                continue
            log.info("scheduled sync: %s", report.summary())
            for failure in report.new_failures:
                log.warning("sync could not update %s: %s", failure.source, failure.reason)

    async def on_message(self, message: discord.Message) -> None:
        """Messages are handled by the cog; there are no prefix commands to process."""

    async def on_ready(self) -> None:
        log.info("connected as %s", self.user)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work in the background, keeping a reference and logging failures."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await super().close()

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Known errors: a short message, ephemeral unless the reply was already under way.
        Anything else: logged, and an apology."""
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error

        async def send(text: str) -> None:
            if interaction.response.is_done():
                await interaction.edit_original_response(content=text, embeds=[], view=None)
            else:
                await interaction.response.send_message(text, ephemeral=True)

        command = getattr(interaction.command, "name", "?")
        await report_error(send, original, f"command {command}")
