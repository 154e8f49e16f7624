"""The Discord layer's pure parts on their own: rendering into embeds, sending replies, the cooldown.

Fast tier: no client, no emulator, no knowledge base. The Discord tests
(tests/bot/test_discord.py) check the same output as the API receives it.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
from discord import app_commands

from bot import Answer, Citation, IngestReport, SourceNotFoundError, SourceRecord, SourceReport
from bot.discord_bot.cooldown import Cooldown
from bot.discord_bot.render import (
    COLOUR_ANSWER,
    COLOUR_NOT_FOUND,
    Message,
    render_answer,
    render_error,
    render_passages,
    render_report,
    render_sources,
    split_text,
    trim,
)
from bot.discord_bot.replies import APOLOGY, error_text, send_messages
from bot.results import SuggestedSource

GPT_J = Citation(
    n=1,
    source="https://example.org/gpt-j",
    title="Open vs closed models",
    section="Hosting",
    text="EleutherAI took GPT-J offline because hosting it cost too much. It came back later.",
    score=0.9,
    quote="EleutherAI took GPT-J offline because hosting it cost too much.",
    url="https://example.org/gpt-j",
)


def _within_discord_limits(messages: list[Message]) -> None:
    for message in messages:
        assert len(message.content or "") <= 2000 and 1 <= len(message.embeds) <= 10
        assert sum(len(e) for e in message.embeds) <= 6000
        for embed in message.embeds:
            assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25
            assert all(
                len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields
            )
            assert len(embed.footer.text or "") <= 2048 and len(embed.author.name or "") <= 256


def _embeds(messages: list[Message]) -> list[dict[str, Any]]:
    return [embed.to_dict() for m in messages for embed in m.embeds]


def test_an_answer_is_one_embed_with_its_question_text_and_a_field_per_citation() -> None:
    answer = Answer(
        "Why did EleutherAI take GPT-J offline?",
        "Hosting it cost too much, said @everyone [1].",
        True,
        [GPT_J],
    )

    messages = render_answer(answer)

    [embed] = _embeds(messages)
    assert embed["title"] == answer.question
    assert embed["description"] == "Hosting it cost too much, said @\u200beveryone [1]."  # no ping
    assert embed["color"] == COLOUR_ANSWER.value
    [field] = embed["fields"]
    assert field["name"] == "[1] Open vs closed models"
    assert "*Hosting*" in field["value"] and f"> {GPT_J.quote}" in field["value"]
    assert "<https://example.org/gpt-j>" in field["value"]  # no link preview
    assert "Show passages" in embed["footer"]["text"]


def test_an_abstention_lists_the_closest_articles_and_a_follow_up_shows_its_search() -> None:
    answer = Answer(
        "Who made it?",
        "The knowledge base does not say.",
        False,
        closest=[SuggestedSource("a.md", "BLOOM explained", "https://example.org/bloom")],
        standalone_question="Who made BLOOM?",
    )

    [embed] = _embeds(render_answer(answer))

    assert embed["color"] == COLOUR_NOT_FOUND.value
    assert embed["fields"] == [
        {
            "name": "Closest articles",
            "value": "• BLOOM explained — <https://example.org/bloom>",
            "inline": False,
        }
    ]
    assert embed["footer"]["text"] == "Searched for: Who made BLOOM?"


def test_an_abstention_names_the_closest_articles_in_their_field_only() -> None:
    answer = Answer(
        "Who founded Anthropic?",
        "I could not find this in the knowledge base. The closest articles are: “BLOOM explained”.",
        False,
        closest=[SuggestedSource("a.md", "BLOOM explained", None)],
    )

    [embed] = _embeds(render_answer(answer))

    assert embed["description"] == "I could not find this in the knowledge base."
    assert embed["fields"][0]["value"] == "• BLOOM explained"


def test_a_very_long_answer_is_split_at_sentences_within_discord_limits() -> None:
    sentences = [
        f"Sentence number {i} says something about hosting costs [{i % 3 + 1}]." for i in range(900)
    ]
    # As many passages as an answer cites at most, each with a long title and text.
    citations = [
        Citation(n, f"s{n}.md", f"Article {n} " + "title " * 30, "S", "passage " * 400, 0.5)
        for n in range(1, 7)
    ]
    answer = Answer("Why? " * 100, " ".join(sentences), True, citations)

    messages = render_answer(answer)

    _within_discord_limits(messages)
    embeds = _embeds(messages)
    descriptions = [e["description"] for e in embeds if e.get("description")]
    # Every sentence arrives whole, with its marker, in order.
    assert " ".join(descriptions) == " ".join(sentences)
    assert sum(len(e.get("fields", [])) for e in embeds) == 6
    assert embeds[0]["title"].endswith("Why?…")  # an overlong question is trimmed


def test_many_citations_with_long_titles_stay_within_the_limits_of_a_message() -> None:
    # Each field alone fits, but 12+ of them (names near 256, values near 1,024) overflow
    # one embed's share of a message's 6,000 characters: they must spread over embeds.
    citations = [
        Citation(
            n,
            f"https://example.org/{n}",
            f"Article {n} " + "with a very long title " * 11,
            "A section " * 30,
            "passage text " * 200,
            0.5,
            quote="passage text " * 90,
            url=f"https://example.org/{n}",
        )
        for n in range(1, 31)
    ]
    text = " ".join(f"Claim {n} of the answer [{n}]." for n in range(1, 31)) * 30
    answer = Answer(
        "Why? " * 100,
        text,
        True,
        citations,
        notice="Note " * 100,
        standalone_question="Searched " * 100,
        dropped=2,
    )

    messages = render_answer(answer)

    _within_discord_limits(messages)
    names = [f["name"] for e in _embeds(messages) for f in e.get("fields", [])]
    assert [name.split("]")[0] for name in names] == [
        f"[{n}" for n in range(1, 31)
    ]  # all, in order
    assert all(len(name) > 200 for name in names)  # titles kept, not cut to fit
    footers = [e["footer"]["text"] for e in _embeds(messages) if "footer" in e]
    assert len(footers) == 1 and "2 sentences" in footers[0]


def test_split_and_trim_never_cut_a_word_or_a_citation_marker() -> None:
    text = "Alpha beta gamma [12]. " * 50
    for piece in split_text(text, 100):
        assert len(piece) <= 100 and piece.endswith("[12].")
    words = ["gamma", "[123]", "delta", "epsilon", "[7]", "zeta"]
    for limit in range(8, len(" ".join(words))):
        cut = trim(" ".join(words), limit)
        assert len(cut) <= limit and cut.endswith("…")
        assert all(w in words for w in cut.removesuffix("…").split())


def test_passages_sources_and_reports_render_what_they_hold() -> None:
    [passage] = _embeds(render_passages([GPT_J]))
    assert passage["title"] == "[1] Open vs closed models › Hosting"
    assert passage["description"] == f"{GPT_J.text}\n\n<{GPT_J.url}>"

    [empty] = _embeds(render_sources([]))
    assert "empty" in empty["description"]
    record = SourceRecord("a.md", "BLOOM explained", "file", "h", 4, "2025-01-01")
    [listing] = _embeds(render_sources([record]))
    assert (
        listing["title"] == "1 articles"
        and "**BLOOM explained** — 4 passages" in listing["description"]
    )

    report = IngestReport(
        (
            SourceReport("a.md", "added", "A", chunks=3),
            SourceReport("b.pdf", "failed", reason="the file is encrypted"),
        )
    )
    embed = render_report(report)
    assert embed.colour == discord.Colour.red()
    assert "✅ **added** A (3 passages)" in (embed.description or "")
    assert "❌ **failed** b.pdf — the file is encrypted" in (embed.description or "")


@pytest.mark.asyncio
async def test_a_reply_of_several_messages_goes_out_in_order_with_the_buttons_under_the_last() -> (
    None
):
    sent: list[tuple[str, int, discord.ui.View | None]] = []

    def through(where: str) -> Any:
        async def send(message: Message, view: discord.ui.View | None) -> None:
            sent.append((where, len(message.embeds), view))

        return send

    messages = [Message([discord.Embed()] * n) for n in (1, 2, 3)]
    view = discord.ui.View()
    await send_messages(messages, first=through("edit"), rest=through("send"), view=view)

    assert sent == [("edit", 1, None), ("send", 2, None), ("send", 3, view)]


def test_errors_are_told_in_one_voice(caplog: pytest.LogCaptureFixture) -> None:
    known = error_text(SourceNotFoundError("nothing.md", ["A"]), "asking")
    assert known == render_error(str(SourceNotFoundError("nothing.md", ["A"])))
    assert error_text(app_commands.NoPrivateMessage(), "ingest") == (
        "This command only works in a server."
    )
    assert not caplog.records  # errors written for users are not failures to log

    with caplog.at_level(logging.ERROR):
        unexpected = error_text(RuntimeError("boom"), "answering a message")

    assert unexpected == APOLOGY and "boom" not in unexpected
    [record] = caplog.records
    assert record.message == "answering a message failed" and record.exc_info


def test_the_cooldown_allows_uses_per_window_per_user_and_says_how_long_to_wait() -> None:
    now = [0.0]
    cooldown = Cooldown(uses=2, seconds=10, clock=lambda: now[0])

    assert cooldown.try_acquire(1) == 0.0
    now[0] = 4.0
    assert cooldown.try_acquire(1) == 0.0
    assert cooldown.try_acquire(1) == 6.0  # until the first use leaves the window
    assert cooldown.try_acquire(2) == 0.0  # another user has their own window
    now[0] = 10.0
    assert cooldown.try_acquire(1) == 0.0  # the first use expired; the refused one never counted
    assert cooldown.try_acquire(1) == 4.0

    off = Cooldown(uses=1, seconds=0, clock=lambda: now[0])
    assert [off.try_acquire(1) for _ in range(5)] == [0.0] * 5
