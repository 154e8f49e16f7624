"""``kb discord``: run the bot until SIGINT/SIGTERM, then shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import discord

from bot import ConfigurationError, KnowledgeBase, Settings
from bot.discord_bot.client import KnowledgeBot
from bot.process import set_up_process

log = logging.getLogger(__name__)


def run(settings: Settings) -> None:
    """Start the bot with the token from settings.

    Raises:
        ConfigurationError: No token, a token Discord rejects, or a missing intent.
    """
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise ConfigurationError(
            "No Discord token. Set DISCORD_TOKEN (or KB_DISCORD_TOKEN) to your bot's token; "
            "see the README section 'Discord'."
        )
    set_up_process(settings.log_level)  # a no-op after the CLI did it
    kb = KnowledgeBase(settings=settings)
    asyncio.run(serve(kb, settings, settings.discord_token.get_secret_value().strip()))


async def serve(kb: KnowledgeBase, settings: Settings, token: str) -> None:
    """Run until the connection ends or a stop signal arrives."""
    bot = KnowledgeBot(kb, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not possible off the main thread or on Windows; Ctrl-C still interrupts there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with bot:
        running = asyncio.create_task(bot.start(token))
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stopping in done:
            log.info("stop signal received; disconnecting")
            await bot.close()
        stopping.cancel()
        try:
            await running
        except discord.LoginFailure as exc:
            raise ConfigurationError(
                "Discord rejected the token. Copy it again from the Developer Portal (Bot > Reset Token)."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise ConfigurationError(
                "Enable the Message Content intent for the bot in the Developer Portal (Bot > Privileged Gateway Intents)."
            ) from exc
