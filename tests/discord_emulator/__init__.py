"""A Discord API emulator for testing the bot with the real discord.py client."""

from tests.discord_emulator.server import (
    DiscordEmulator,
    Request,
    point_discord_py_at,
    restore_discord_py,
)

__all__ = ["DiscordEmulator", "Request", "point_discord_py_at", "restore_discord_py"]
