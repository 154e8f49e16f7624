"""Pure rendering of answers, passages and reports into Discord embeds.

Every function here is pure (no client, no I/O) and respects Discord's limits:
message content 2,000 characters, embed title 256, description 4,096, field
name 256, field value 1,024, 25 fields, 10 embeds and 6,000 characters per
message. Long text is split or trimmed at sentence or word boundaries, never
inside a word or a ``[n]`` citation marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import discord

from bot import Answer, Citation, IngestReport, SourceRecord

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
EMBEDS_PER_MESSAGE = 10
MESSAGE_TOTAL_LIMIT = 6000

COLOUR_ANSWER = discord.Colour.green()
COLOUR_NOT_FOUND = discord.Colour.gold()
COLOUR_INFO = discord.Colour.blurple()
ELLIPSIS = "…"

_MARKER = re.compile(r"\[\d+\]")
_BREAK = re.compile(r"(?<=[.!?…])(?:\s*\[\d+\])*\s+|\n+")


@dataclass(frozen=True)
class Message:
    """One Discord message worth of output."""

    embeds: list[discord.Embed]
    content: str | None = None


# --- text helpers ---------------------------------------------------------------------


def trim(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary, ending with an ellipsis."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    cut = _drop_partial_marker(cut).rstrip(" ,;:")
    return cut + ELLIPSIS


def _drop_partial_marker(text: str) -> str:
    opening = text.rfind("[")
    if opening != -1 and "]" not in text[opening:]:
        return text[:opening]
    return text


def split_text(text: str, limit: int) -> list[str]:
    """Split into pieces of at most ``limit`` characters, at sentence ends where possible.

    A sentence keeps its ``[n]`` markers; an over-long sentence is split between words.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    sentences = [s for s in _sentences(text) if s]
    return _pack((part for s in sentences for part in _words_within(s, limit)), limit)


def _pack(units: Iterable[str], limit: int) -> list[str]:
    """Join units (each at most ``limit`` long) with spaces into as few pieces as fit."""
    pieces: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}".strip()
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                pieces.append(current)
            current = unit
    if current:
        pieces.append(current)
    return pieces


def _sentences(text: str) -> list[str]:
    """Sentences with their trailing citation markers attached."""
    parts = []
    start = 0
    for match in _BREAK.finditer(text):
        end = match.end()
        parts.append(text[start:end].strip())
        start = end
    parts.append(text[start:].strip())
    return parts


def _words_within(sentence: str, limit: int) -> list[str]:
    if len(sentence) <= limit:
        return [sentence]
    # A single unbroken token longer than the limit is cut into limit-sized slices.
    slices = [w[i : i + limit] for w in sentence.split() for i in range(0, len(w), limit)]
    return _pack(slices, limit)


def no_preview(url: str) -> str:
    """A bare link that Discord shows without an embed preview."""
    return f"<{url}>"


def quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def escape_mentions(text: str) -> str:
    """Neutralise @everyone, @here and user/role mentions as text (belt and braces:
    messages are also sent with ``allowed_mentions`` that parse nothing)."""
    return discord.utils.escape_mentions(text)


def embed_size(embed: discord.Embed) -> int:
    return len(embed)


# --- answers -------------------------------------------------------------------------


def render_answer(answer: Answer) -> list[Message]:
    """The answer with its ``[n]`` markers, then one field per cited source.

    Usually one message with one embed; a very long answer continues in more
    embeds and, past 6,000 characters, more messages.
    """
    colour = COLOUR_ANSWER if answer.answered else COLOUR_NOT_FOUND
    title = trim(answer.question, TITLE_LIMIT)
    parts = split_text(escape_mentions(answer.lead), DESCRIPTION_LIMIT) or ["(empty answer)"]
    embeds = [
        discord.Embed(title=title if i == 0 else None, description=p, colour=colour)
        for i, p in enumerate(parts)
    ]
    fields = [_citation_field(c) for c in answer.citations]
    if not answer.answered and answer.closest:
        closest = "\n".join(
            f"• {escape_mentions(s.title)}" + (f" — {no_preview(s.url)}" if s.url else "")
            for s in answer.closest
        )
        fields.append(("Closest articles", trim(closest, FIELD_VALUE_LIMIT)))
    footer = "\n".join(_answer_footer(answer))
    notice = trim(answer.notice, TITLE_LIMIT) if answer.notice else ""
    # Fields fill an embed up to 25, and up to what a message holds beside the footer and
    # the notice (added last, to the last and the first embed); then a new embed begins.
    budget = MESSAGE_TOTAL_LIMIT - len(footer) - len(notice)
    target = embeds[-1]
    for name, value in fields:
        full = len(target.fields) == FIELDS_PER_EMBED
        if full or embed_size(target) + len(name) + len(value) > budget:
            target = discord.Embed(colour=colour)
            embeds.append(target)
        target.add_field(name=name, value=value, inline=False)
    if footer:
        embeds[-1].set_footer(text=footer)
    if notice:
        embeds[0].set_author(name=notice)
    return pack(embeds)


def _answer_footer(answer: Answer) -> list[str]:
    lines = []
    if answer.standalone_question != answer.question:  # a follow-up, as it was understood
        lines.append(f"Searched for: {trim(answer.standalone_question, TITLE_LIMIT)}")
    if answer.dropped:
        lines.append(
            f"{answer.dropped} sentence{'s' if answer.dropped != 1 else ''} the passages "
            "do not support left out."
        )
    if answer.citations:
        lines.append("Press “Show passages” for the full cited text.")
    return lines


def render_progress(text: str) -> str:
    """An answer being written, as message content (provisional: the final embed replaces it)."""
    body = escape_mentions(text.strip())
    return trim(body, CONTENT_LIMIT - 4) + " ✍️" if body else "✍️"


def _citation_field(citation: Citation) -> tuple[str, str]:
    name = trim(citation.heading(with_section=False), FIELD_NAME_LIMIT)
    lines = []
    if citation.section:
        lines.append(f"*{escape_mentions(trim(citation.section, 200))}*")
    link = no_preview(citation.url) if citation.url else ""
    budget = FIELD_VALUE_LIMIT - sum(len(x) + 1 for x in lines) - len(link) - 4
    excerpt = escape_mentions(citation.quote or citation.text)
    lines.append(quote_block(trim(excerpt, max(budget, 40))))
    if link:
        lines.append(link)
    return name, trim("\n".join(lines), FIELD_VALUE_LIMIT)


def render_passages(citations: Sequence[Citation]) -> list[Message]:
    """The full cited passages, one embed each (for the "Show passages" button)."""
    embeds = []
    for citation in citations:
        title = citation.heading()
        description = escape_mentions(citation.text)
        if citation.url:
            description = trim(description, DESCRIPTION_LIMIT - len(citation.url) - 4)
            description += f"\n\n{no_preview(citation.url)}"
        embed = discord.Embed(
            title=trim(title, TITLE_LIMIT),
            description=trim(description, DESCRIPTION_LIMIT),
            colour=COLOUR_INFO,
        )
        embeds.append(embed)
    return pack(embeds)


def pack(embeds: Sequence[discord.Embed]) -> list[Message]:
    """Group embeds into messages within 10 embeds and 6,000 characters each."""
    messages: list[Message] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        embed = _fit(embed)
        length = embed_size(embed)
        if current and (len(current) == EMBEDS_PER_MESSAGE or size + length > MESSAGE_TOTAL_LIMIT):
            messages.append(Message(current))
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        messages.append(Message(current))
    return messages


def _fit(embed: discord.Embed) -> discord.Embed:
    """Shrink field values until one embed fits a message on its own."""
    while embed_size(embed) > MESSAGE_TOTAL_LIMIT:
        longest = max(
            range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""), default=None
        )
        if longest is not None and len(embed.fields[longest].value or "") > 200:
            field = embed.fields[longest]
            value = field.value or ""
            embed.set_field_at(
                longest, name=field.name, value=trim(value, len(value) // 2), inline=False
            )
        elif embed.description and len(embed.description) > 200:
            embed.description = trim(embed.description, len(embed.description) - 500)
        else:
            break
    return embed


# --- sources and reports -------------------------------------------------------------


def render_sources(records: Sequence[SourceRecord]) -> list[Message]:
    """The articles in the knowledge base."""
    if not records:
        embed = discord.Embed(
            title="Knowledge base",
            description="The knowledge base is empty. An admin can add articles with /ingest.",
            colour=COLOUR_INFO,
        )
        return [Message([embed])]
    lines = []
    for record in records:
        line = f"• **{escape_mentions(trim(record.title, 200))}** — {record.chunks} passages"
        if record.url:
            line += f" — {no_preview(record.url)}"
        lines.append(line)
    pages = split_text("\n".join(lines).replace("\n", " \n"), DESCRIPTION_LIMIT)
    embeds = [
        discord.Embed(
            title=f"{len(records)} articles" if i == 0 else None,
            description=page.replace(" \n", "\n"),
            colour=COLOUR_INFO,
        )
        for i, page in enumerate(pages)
    ]
    return pack(embeds)


_STATUS_ICON = {"added": "✅", "updated": "🔄", "unchanged": "➖", "removed": "🗑️", "failed": "❌"}


def render_report(report: IngestReport) -> discord.Embed:
    """What an ingest did, one line per source, failures with their reason."""
    lines = []
    for source in report.sources:
        name = escape_mentions(trim(source.title or source.source, 120))
        line = f"{_STATUS_ICON[source.status]} **{source.status}** {name}"
        if source.status == "failed":
            line += f" — {escape_mentions(trim(source.reason, 300))}"
        elif source.chunks:
            line += f" ({source.chunks} passages)"
        lines.append(line)
    colour = discord.Colour.red() if report.failed else COLOUR_ANSWER
    description = trim("\n".join(lines) or "Nothing to ingest.", DESCRIPTION_LIMIT)
    return discord.Embed(
        title="Ingest finished", description=description, colour=colour
    ).set_footer(text=report.summary())


def render_error(message: str) -> str:
    """A short, safe error line for an ephemeral reply."""
    return trim(escape_mentions(message), CONTENT_LIMIT)
