"""The buttons under an answer: "Show passages", 👍 and 👎.

They are dynamic items: the answer id lives in the custom id and the answer in
the feedback store, so buttons keep working after the bot restarts.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.discord_bot.render import render_passages
from bot.discord_bot.replies import send_messages

if TYPE_CHECKING:
    from bot.discord_bot.client import KnowledgeBot

NONE = discord.AllowedMentions.none()

_ACTIONS: dict[str, tuple[str, str | None, discord.ButtonStyle]] = {
    "passages": ("Show passages", None, discord.ButtonStyle.secondary),
    "up": ("", "👍", discord.ButtonStyle.secondary),
    "down": ("", "👎", discord.ButtonStyle.secondary),
}


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"kb:(?P<action>passages|up|down):(?P<answer>[0-9a-f]{16})",
):
    """One of the three answer buttons, bound to a stored answer by id."""

    def __init__(self, action: str, answer_id: str) -> None:
        label, emoji, style = _ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label or None,
                emoji=emoji,
                style=style,
                custom_id=f"kb:{action}:{answer_id}",
            )
        )
        self.action = action
        self.answer_id = answer_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnswerButton:
        return cls(match["action"], match["answer"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot: KnowledgeBot = interaction.client
        if self.action == "passages":
            await self._show_passages(interaction, bot)
        else:
            await self._vote(interaction, bot, helpful=self.action == "up")

    async def _show_passages(
        self, interaction: discord.Interaction[Any], bot: KnowledgeBot
    ) -> None:
        stored = await asyncio.to_thread(bot.feedback.answer, self.answer_id)
        if stored is None or not stored.citations:
            await interaction.response.send_message(
                "The passages for this answer are no longer available.", ephemeral=True
            )
            return
        await send_messages(
            render_passages(stored.citations),
            first=lambda m, _: interaction.response.send_message(
                embeds=m.embeds, ephemeral=True, allowed_mentions=NONE
            ),
            rest=lambda m, _: interaction.followup.send(
                embeds=m.embeds, ephemeral=True, allowed_mentions=NONE
            ),
        )

    async def _vote(
        self, interaction: discord.Interaction[Any], bot: KnowledgeBot, helpful: bool
    ) -> None:
        recorded = await asyncio.to_thread(
            bot.feedback.record, self.answer_id, interaction.user.id, helpful
        )
        text = (
            "Thanks for the feedback!"
            if recorded
            else "This answer is no longer on record, so the vote was not saved."
        )
        await interaction.response.send_message(text, ephemeral=True)


def answer_view(answer_id: str, with_passages: bool) -> discord.ui.View:
    """The buttons for one answer (no timeout: they are dispatched by custom id)."""
    view = discord.ui.View(timeout=None)
    if with_passages:
        view.add_item(AnswerButton("passages", answer_id))
    view.add_item(AnswerButton("up", answer_id))
    view.add_item(AnswerButton("down", answer_id))
    return view
