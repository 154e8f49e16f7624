"""The Discord bot: the real discord.py client against a Discord API emulator on 127.0.0.1.

Each test starts the bot, drives real Gateway events (slash commands, messages,
button presses) and asserts on the REST calls the bot makes in response.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot import Answer, Citation, ConfigurationError, KnowledgeBase
from bot.answer import Evidence, ExtractiveAnswerer
from bot.discord_bot.client import APOLOGY, KnowledgeBot
from bot.discord_bot.history import Said, earlier_questions
from bot.discord_bot.runner import serve
from bot.feedback import FeedbackStore
from bot.settings import Settings
from tests.conftest import WebServer, make_settings
from tests.discord_emulator import (
    DiscordEmulator,
    Request,
    point_discord_py_at,
    restore_discord_py,
)
from tests.documents import article_page
from tests.kb_cli import invoke_kb

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
ORIGINAL = r"^/webhooks/\d+/[^/]+/messages/@original$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"
NO_PINGS = {"parse": []}


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    await emulator.start()
    old = point_discord_py_at(emulator)
    try:
        yield emulator
    finally:
        restore_discord_py(old)
        await emulator.stop()
    assert emulator.unknown == [], f"the bot called routes the emulator lacks: {emulator.unknown}"


@asynccontextmanager
async def running(
    emulator: DiscordEmulator, kb: KnowledgeBase, settings: Settings, feedback: FeedbackStore
) -> AsyncIterator[KnowledgeBot]:
    bot = KnowledgeBot(kb, settings, feedback)
    # The emulator sends its one guild at once; don't wait discord.py's default 2 s for more.
    bot._connection.guild_ready_timeout = 0.1
    task = asyncio.create_task(bot.start(emulator.token))
    try:
        await asyncio.wait_for(bot.wait_until_ready(), 60)
        await emulator.wait_for("PUT", r"/commands$")  # synced in setup_hook
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 30)


def bot_settings(kb: KnowledgeBase, **discord: Any) -> Settings:
    values: dict[str, Any] = {"discord_cooldown_uses": 100, "discord_cooldown_seconds": 60}
    values.update(discord)
    return kb.settings.model_copy(update=values)


def _embeds(request: Request) -> list[dict[str, Any]]:
    body = request.body or {}
    return list((body.get("data") or body).get("embeds") or [])


def _text(request: Request) -> str:
    """Everything a reader sees in a message: content, descriptions, field names and values."""
    body = request.body or {}
    data = body.get("data") or body
    parts = [data.get("content") or ""]
    for embed in _embeds(request):
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields", [])]
    return "\n".join(parts)


def _custom_ids(request: Request) -> list[str]:
    rows = (request.body or {}).get("components") or []
    return [c["custom_id"] for row in rows for c in row.get("components", [])]


def _within_limits(request: Request) -> None:
    body = request.body or {}
    data = body.get("data") or body
    assert len(data.get("content") or "") <= 2000
    embeds = _embeds(request)
    assert len(embeds) <= 10
    total = 0
    for embed in embeds:
        assert len(embed.get("title") or "") <= 256
        assert len(embed.get("description") or "") <= 4096
        assert len(embed.get("fields", [])) <= 25
        for f in embed.get("fields", []):
            assert len(f["name"]) <= 256 and len(f["value"]) <= 1024
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
        total += len((embed.get("footer") or {}).get("text") or "")
    assert total <= 6000


# --- /ask -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ask_defers_then_answers_with_cited_passages(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash(
            "ask", emulator.person("ada"), question="Why did EleutherAI take GPT-J offline?"
        )

        deferred = await emulator.wait_for("POST", CALLBACK, since=mark)
        edit = await emulator.wait_for("PATCH", ORIGINAL, since=mark)

    assert deferred.body["type"] == 5  # "thinking"
    assert edit.body["allowed_mentions"] == NO_PINGS
    embed = _embeds(edit)[0]
    assert "[1]" in embed["description"] and "internet hosting" in embed["description"]
    field = embed["fields"][0]
    assert field["name"].startswith("[1] The Battle of Open Source vs Closed Source")
    assert "GPT-J" in field["value"]
    ids = _custom_ids(edit)
    assert [i.split(":")[1] for i in ids] == ["passages", "up", "down"]
    _within_limits(edit)


@pytest.mark.asyncio
async def test_abstention_reads_naturally_and_lists_closest_articles(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash("ask", emulator.person("ada"), question="Who won the 2022 World Cup?")
        edit = await emulator.wait_for("PATCH", ORIGINAL, since=mark)

    text = _text(edit)
    assert "I could not find this in the knowledge base" in text
    assert "Closest articles" in text and "Open Source" in text
    assert edit.body["allowed_mentions"] == NO_PINGS


@pytest.mark.asyncio
async def test_buttons_show_passages_and_record_feedback(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    voter = emulator.person("grace")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash("ask", voter, question="How big is DeepMind's Gopher model?")
        edit = await emulator.wait_for("PATCH", ORIGINAL, since=mark)
        passages_id, up_id, _ = _custom_ids(edit)
        answer_message = edit.response

        mark = emulator.mark()
        await emulator.press(up_id, voter, answer_message)
        vote = await emulator.wait_for("POST", CALLBACK, since=mark)

        mark = emulator.mark()
        await emulator.press(passages_id, voter, answer_message)
        shown = await emulator.wait_for("POST", CALLBACK, since=mark)

    assert vote.body["type"] == 4 and vote.ephemeral
    assert "Thanks" in vote.body["data"]["content"]
    votes = feedback.recent()
    assert len(votes) == 1
    assert votes[0].helpful and votes[0].user_id == int(voter["user"]["id"])
    assert votes[0].question == "How big is DeepMind's Gopher model?"
    assert "280 billion" in votes[0].answer
    assert shown.body["type"] == 4 and shown.ephemeral
    assert "280 billion parameter Gopher" in _text(shown)
    assert shown.body["data"]["allowed_mentions"] == NO_PINGS


@pytest.mark.asyncio
async def test_cooldown_and_overlong_questions_get_friendly_ephemeral_replies(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    settings = bot_settings(corpus_kb, discord_cooldown_uses=1, discord_cooldown_seconds=60)
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    asker = emulator.person("linus")
    async with running(emulator, corpus_kb, settings, feedback):
        mark = emulator.mark()
        await emulator.slash("ask", asker, question="What is vendor lock-in?")
        await emulator.wait_for("PATCH", ORIGINAL, since=mark)

        mark = emulator.mark()
        await emulator.slash("ask", asker, question="What is BLOOM?")
        refused = await emulator.wait_for("POST", CALLBACK, since=mark)

        mark = emulator.mark()
        await emulator.slash("ask", emulator.person("margaret"), question="why " * 600)
        too_long = await emulator.wait_for("POST", CALLBACK, since=mark)

    assert refused.body["type"] == 4 and refused.ephemeral
    assert re.search(r"try again in \d+ s", refused.body["data"]["content"])
    assert emulator.calls("PATCH", ORIGINAL, since=mark) == []
    assert too_long.body["type"] == 4 and too_long.ephemeral
    assert "2,000" in too_long.body["data"]["content"]


class _VerboseAnswerer:
    """Stands in for a long-winded LLM answerer: every sentence of every passage, cited."""

    def answer(self, evidence: Evidence) -> Answer:
        sentences, citations = [], []
        for n, passage in enumerate(evidence.passages, start=1):
            chunk = passage.chunk
            for span in chunk.sentences:
                sentences.append(f"{chunk.text[span.start : span.end].strip()} [{n}]")
            citations.append(
                Citation(n, chunk.source_id, chunk.title, chunk.section, chunk.text, passage.score)
            )
        text = " ".join(sentences * 4)
        return Answer(evidence.question, text, True, citations, confidence=0.9)


@pytest.mark.asyncio
async def test_a_very_long_answer_is_split_within_discord_limits(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    verbose = KnowledgeBase(settings=corpus_kb.settings, answerer=_VerboseAnswerer())
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, verbose, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash("ask", emulator.person("ada"), question="What is a hybrid approach?")
        first = await emulator.wait_for("PATCH", ORIGINAL, since=mark)
        expected = verbose.ask("What is a hybrid approach?").text
        # Wait until the follow-ups carry the whole answer.
        for _ in range(200):
            messages = [first, *emulator.calls("POST", FOLLOWUP, since=mark)]
            shown = " ".join(e.get("description") or "" for m in messages for e in _embeds(m))
            if len(shown.split()) >= len(expected.split()):
                break
            await asyncio.sleep(0.05)

    assert len(expected) > 8000
    assert len(messages) >= 2
    for message in messages:
        _within_limits(message)
        assert message.body["allowed_mentions"] == NO_PINGS
    # Nothing lost, no word or [n] marker cut in half: the pieces rejoin into the answer.
    assert shown.split() == expected.split()
    assert "up" in {i.split(":")[1] for i in _custom_ids(messages[-1])}


# --- mentions and threads -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_mention_is_answered_in_a_thread_and_follow_ups_there_too(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    asker = emulator.person("ada")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback) as bot:
        assert bot.user is not None
        mark = emulator.mark()
        asked = await emulator.say(
            asker, f"<@{bot.user.id}> How big is DeepMind's Gopher model?", mention_bot=True
        )
        started = await emulator.wait_for(
            "POST", rf"^/channels/\d+/messages/{asked['id']}/threads$", since=mark
        )
        thread_id = next(iter(emulator.threads))
        answer = await emulator.wait_for("POST", rf"^/channels/{thread_id}/messages$", since=mark)

        mark = emulator.mark()
        await emulator.say(asker, "Why did EleutherAI take GPT-J offline?", channel_id=thread_id)
        follow_up = await emulator.wait_for(
            "POST", rf"^/channels/{thread_id}/messages$", since=mark
        )

    assert "Gopher" in started.body["name"]
    assert "280 billion" in _text(answer)
    assert answer.body["allowed_mentions"] == NO_PINGS
    assert "internet hosting" in _text(follow_up)


async def _start_thread(
    emulator: DiscordEmulator, bot: KnowledgeBot, asker: dict[str, Any], question: str
) -> tuple[str, Request]:
    """Mention the bot with ``question``; the thread it starts and its answer there."""
    assert bot.user is not None
    mark = emulator.mark()
    asked = await emulator.say(asker, f"<@{bot.user.id}> {question}", mention_bot=True)
    await emulator.wait_for("POST", rf"^/channels/\d+/messages/{asked['id']}/threads$", since=mark)
    thread_id = asked["id"]  # a thread started from a message shares its id
    answer = await emulator.wait_for("POST", rf"^/channels/{thread_id}/messages$", since=mark)
    return thread_id, answer


async def _say_in_thread(
    emulator: DiscordEmulator, asker: dict[str, Any], thread_id: str, text: str
) -> Request:
    mark = emulator.mark()
    await emulator.say(asker, text, channel_id=thread_id)
    return await emulator.wait_for("POST", rf"^/channels/{thread_id}/messages$", since=mark)


def _footer(request: Request) -> str:
    return "\n".join((e.get("footer") or {}).get("text") or "" for e in _embeds(request))


@pytest.mark.asyncio
async def test_a_follow_up_in_a_thread_is_resolved_against_the_earlier_question(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    asker = emulator.person("ada")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback) as bot:
        thread_id, first = await _start_thread(emulator, bot, asker, "What is BLOOM?")
        follow = await _say_in_thread(emulator, asker, thread_id, "Who made it?")

    assert "BLOOM: An open-source model" in _text(first)
    assert "Searched for: Who made BLOOM?" in _footer(follow)
    # Asked something new, it does not get the answer to "What is BLOOM?" again.
    assert "BLOOM: An open-source model" not in _text(follow)
    assert emulator.calls("GET", rf"^/channels/{thread_id}/messages$")  # read the thread back


@pytest.mark.asyncio
async def test_a_thread_conversation_survives_a_restart(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    asker = emulator.person("ada")
    settings = bot_settings(corpus_kb)
    async with running(emulator, corpus_kb, settings, feedback) as bot:
        thread_id, _ = await _start_thread(emulator, bot, asker, "What licence does LLaMA use?")

    async with running(emulator, corpus_kb, settings, feedback):  # nothing kept in memory
        neox = await _say_in_thread(emulator, asker, thread_id, "What about GPT-NeoX?")

    assert "Searched for: What licence does GPT-NeoX use?" in _footer(neox)
    assert "Apache 2.0" in _text(neox)


def test_earlier_questions_are_the_users_messages_without_mentions() -> None:
    thread = [
        Said("<@42> What is BLOOM?", mentions_me=True),
        Said("BLOOM: An open-source model…", by_bot=True),
        Said("Who made it?"),
        Said("   "),
        Said("<@42>", mentions_me=True),
        Said("Sorry, something went wrong.", by_bot=True),
        Said("When was it released? <@7>"),
    ]
    assert earlier_questions(thread, answers_all=True) == [
        "What is BLOOM?",
        "Who made it?",
        "When was it released?",
    ]
    # In someone else's thread only the messages that mention the bot were questions to it.
    assert earlier_questions(thread, answers_all=False) == ["What is BLOOM?"]
    assert earlier_questions(thread, answers_all=True, limit=1) == ["When was it released?"]
    assert earlier_questions([], answers_all=True) == []


@pytest.mark.asyncio
async def test_direct_messages_are_answered_unless_turned_off(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        dm = await emulator.direct_message(emulator.person("ada"), "What is vendor lock-in?")
        answer = await emulator.wait_for(
            "POST", rf"^/channels/{dm['channel_id']}/messages$", since=mark
        )
    assert "Switching providers" in _text(answer)
    assert answer.body["allowed_mentions"] == NO_PINGS

    quiet = bot_settings(corpus_kb, discord_dms=False)
    async with running(emulator, corpus_kb, quiet, feedback) as bot:
        assert bot.user is not None
        mark = emulator.mark()
        await emulator.direct_message(emulator.person("ada"), "What is vendor lock-in?")
        # Something it does answer afterwards proves the DM was read and passed over.
        await emulator.say(
            emulator.person("ada"), f"<@{bot.user.id}> What is BLOOM?", mention_bot=True
        )
        await emulator.wait_for("POST", r"/threads$", since=mark)
    assert emulator.calls("POST", rf"^/channels/{dm['channel_id']}/messages$", since=mark) == []


@pytest.mark.asyncio
async def test_messages_without_a_mention_are_ignored(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback) as bot:
        assert bot.user is not None
        mark = emulator.mark()
        await emulator.say(emulator.person("ada"), "How big is Gopher?")
        # A mention afterwards is answered; the plain message before it was not.
        await emulator.say(
            emulator.person("ada"), f"<@{bot.user.id}> What is BLOOM?", mention_bot=True
        )
        await emulator.wait_for("POST", r"/threads$", since=mark)

    assert len(emulator.calls("POST", r"/threads$", since=mark)) == 1


# --- admin commands -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ingest_is_for_admins_and_makes_the_article_answerable_without_pings(
    emulator: DiscordEmulator, tmp_path: Path, model_cache: Path, web_server: WebServer
) -> None:
    page = article_page(
        "The Lima Llama Festival",
        [
            "The Lima llama festival opens every year on the third of May.",
            "Attention @everyone: the festival parade starts at the Plaza Mayor at noon.",
        ],
    )
    (web_server.root / "festival.html").write_text(page, encoding="utf-8")
    url = web_server.url("festival.html")
    kb = KnowledgeBase(
        settings=make_settings(
            tmp_path / "kb", model_cache, auto_ingest=False, allow_private_urls=True
        )
    )
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, kb, bot_settings(kb), feedback):
        mark = emulator.mark()
        await emulator.slash("ingest", emulator.person("mallory"), url=url)
        refused = await emulator.wait_for("POST", CALLBACK, since=mark)

        mark = emulator.mark()
        admin = emulator.person("root")
        await emulator.slash("ingest", admin, admin=True, url=url)
        accepted = await emulator.wait_for("POST", CALLBACK, since=mark)
        report = await emulator.wait_for("POST", FOLLOWUP, since=mark)

        mark = emulator.mark()
        await emulator.slash("ask", admin, question="Where does the festival parade start?")
        answer = await emulator.wait_for("PATCH", ORIGINAL, since=mark)

    assert refused.body["type"] == 4 and refused.ephemeral
    assert "Manage Server" in refused.body["data"]["content"]
    assert [s.source_id for s in kb.sources()] == [url]
    assert accepted.ephemeral and "background" in accepted.body["data"]["content"]
    assert "added" in _text(report).lower()
    text = _text(answer)
    assert "Plaza Mayor" in text and "[1]" in text
    assert url in text  # the source links back to the article...
    assert f"<{url}>" in text  # ...without a preview
    # The quoted passage says @everyone, but nobody is pinged.
    assert answer.body["allowed_mentions"] == NO_PINGS
    assert "@everyone" not in text.replace("@\u200beveryone", "")


@pytest.mark.asyncio
async def test_an_admin_can_ingest_an_attached_file_and_bad_files_are_refused(
    emulator: DiscordEmulator, tmp_path: Path, model_cache: Path
) -> None:
    kb = KnowledgeBase(settings=make_settings(tmp_path / "kb", model_cache, auto_ingest=False))
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    notes = b"# Tea notes\n\nOolong tea is partially oxidised, between green and black tea.\n"
    async with running(emulator, kb, bot_settings(kb), feedback):
        admin = emulator.person("root")
        mark = emulator.mark()
        await emulator.slash("ingest", admin, admin=True, file=emulator.upload("bad.exe", b"MZ"))
        refused = await emulator.wait_for("POST", CALLBACK, since=mark)

        mark = emulator.mark()
        await emulator.slash(
            "ingest", admin, admin=True, file=emulator.upload("tea-notes.md", notes)
        )
        report = await emulator.wait_for("POST", FOLLOWUP, since=mark)

    assert refused.ephemeral and "supported files are" in refused.body["data"]["content"]
    assert "added" in _text(report).lower()
    assert [r.title for r in kb.sources()] == ["Tea notes"]
    assert "partially oxidised" in kb.ask("What is oolong tea?").text


@pytest.mark.asyncio
async def test_ingest_url_takes_only_web_links_never_a_path_on_the_bots_host(
    emulator: DiscordEmulator, tmp_path: Path, model_cache: Path
) -> None:
    kb = KnowledgeBase(settings=make_settings(tmp_path / "kb", model_cache, auto_ingest=False))
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    replies = []
    async with running(emulator, kb, bot_settings(kb), feedback):
        admin = emulator.person("root")
        for path in ("/", "~/", "/srv/notes", str(tmp_path), "file:///etc/passwd"):
            mark = emulator.mark()
            await emulator.slash("ingest", admin, admin=True, url=path)
            replies.append(await emulator.wait_for("POST", CALLBACK, since=mark))

        mark = emulator.mark()
        await emulator.slash("ingest", admin, admin=True, url="http://169.254.169.254/latest/")
        report = await emulator.wait_for("POST", FOLLOWUP, since=mark)

    for reply in replies:
        assert reply.ephemeral and "http:// or https:// link" in reply.body["data"]["content"]
    assert "cloud metadata" in _text(report)
    assert kb.passage_count() == 0


@pytest.mark.asyncio
async def test_the_configured_admin_role_may_forget_articles(
    emulator: DiscordEmulator, tmp_path: Path, model_cache: Path
) -> None:
    kb = KnowledgeBase(settings=make_settings(tmp_path / "kb", model_cache))
    assert len(kb.sources()) == 3  # the bundled corpus, ingested on first use
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    settings = bot_settings(kb, discord_admin_role="kb-admins")
    async with running(emulator, kb, settings, feedback):
        mark = emulator.mark()
        await emulator.slash("forget", emulator.person("eve"), source="The Ultimate Debate")
        refused = await emulator.wait_for("POST", CALLBACK, since=mark)

        mark = emulator.mark()
        title = "The Ultimate Debate: Open Source vs. Closed Source LLMs"
        await emulator.slash("forget", emulator.person("ops", admin=True), source=title)
        await emulator.wait_for("POST", CALLBACK, since=mark)
        removed = await emulator.wait_for("POST", FOLLOWUP, since=mark)

    assert "kb-admins" in refused.body["data"]["content"] and refused.ephemeral
    assert "Removed" in _text(removed) and removed.ephemeral
    assert len(kb.sources()) == 2


@pytest.mark.asyncio
async def test_sources_lists_the_articles(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, corpus_kb, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash("sources", emulator.person("ada"))
        listed = await emulator.wait_for("POST", FOLLOWUP, since=mark)

    text = _text(listed)
    assert "The Ultimate Debate" in text and "Which LLM Model Will Dominate" in text
    assert listed.ephemeral


@pytest.mark.asyncio
async def test_an_unexpected_error_gets_an_apology_and_the_bot_keeps_answering(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    class Flaky:
        calls = 0

        def answer(self, evidence: Evidence) -> Answer:
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("boom")
            return ExtractiveAnswerer().answer(evidence)

    flaky = KnowledgeBase(settings=corpus_kb.settings, answerer=Flaky())
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    async with running(emulator, flaky, bot_settings(corpus_kb), feedback):
        mark = emulator.mark()
        await emulator.slash("ask", emulator.person("ada"), question="What is vendor lock-in?")
        apology = await emulator.wait_for("PATCH", ORIGINAL, since=mark)

        mark = emulator.mark()
        await emulator.slash("ask", emulator.person("ada"), question="What is vendor lock-in?")
        answer = await emulator.wait_for("PATCH", ORIGINAL, since=mark)

    assert apology.body["content"] == APOLOGY
    assert "Switching providers" in _text(answer)


# --- starting up ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_rejected_token_is_a_clear_configuration_error(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase
) -> None:
    with pytest.raises(ConfigurationError, match="rejected the token"):
        await asyncio.wait_for(serve(corpus_kb, corpus_kb.settings, "not-the-token"), 30)


def test_kb_discord_without_a_token_explains_what_to_set(tmp_path: Path) -> None:
    result = invoke_kb(
        ["discord"], tmp_path / "kb", tmp_path / "models", DISCORD_TOKEN="", KB_DISCORD_TOKEN=""
    )

    assert result.returncode == 1
    assert "DISCORD_TOKEN" in result.stderr


# --- answers written by an LLM, shown as they are written --------------------------------

STREAMED = (
    "EleutherAI removed GPT-J from public access due to exploding web hosting costs. "
    "It was also retrained in 1999 [1]."
)


def _writing_kb(corpus_kb: KnowledgeBase) -> KnowledgeBase:
    """The corpus, answered by a scripted LLM that writes about 8 pieces a second.

    It ends with a few blank pieces (streaming holds back the last couple of
    pieces until more arrive) and lingers 2 s after them, so the whole provisional
    text is shown (edits come at most once a second) however busy the machine is.
    """
    from bot.generative import GenerativeAnswerer
    from tests.llm import scripted

    model = scripted(STREAMED + " \n \n \n", STREAMED, delay=0.12, linger=2.0)
    answerer = GenerativeAnswerer(model, ExtractiveAnswerer(), corpus_kb.embed)
    return KnowledgeBase(settings=corpus_kb.settings, answerer=answerer)


def _content(request: Request) -> str | None:
    body = request.body or {}
    return (body.get("data") or body).get("content")


@pytest.mark.asyncio
async def test_ask_shows_the_answer_as_it_is_written_then_the_checked_one(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    kb = _writing_kb(corpus_kb)
    async with running(emulator, kb, bot_settings(kb), feedback):
        mark = emulator.mark()
        await emulator.slash(
            "ask", emulator.person("ada"), question="Why did EleutherAI take GPT-J offline?"
        )
        final = await emulator.wait_for(
            "PATCH", ORIGINAL, since=mark, where=lambda r: bool(_embeds(r))
        )
        edits = emulator.calls("PATCH", ORIGINAL, since=mark)

    progress = [r for r in edits if not _embeds(r)]
    assert len(progress) >= 2  # about 4 s of writing, shown along the way
    texts = [_content(r) or "" for r in progress]
    assert all(a.rstrip(" ✍️") in b for a, b in itertools.pairwise(texts))  # it grows
    assert "1999" in texts[-1]  # provisional text is shown as written...
    gaps = [b.at - a.at for a, b in itertools.pairwise(progress)]
    assert min(gaps) >= 0.9  # ...at most about one edit a second
    assert edits[-1] is final and _content(final) is None  # the embed replaces it
    assert "exploding web hosting costs. [1]" in _text(final) and "1999" not in _text(final)
    assert "1 sentence the passages do not support left out." in _text(final) + str(_embeds(final))


@pytest.mark.asyncio
async def test_a_mention_answer_is_sent_then_edited_as_it_is_written(
    emulator: DiscordEmulator, corpus_kb: KnowledgeBase, tmp_path: Path
) -> None:
    feedback = FeedbackStore(tmp_path / "feedback.sqlite3")
    kb = _writing_kb(corpus_kb)
    async with running(emulator, kb, bot_settings(kb), feedback) as bot:
        assert bot.user is not None
        mark = emulator.mark()
        asked = await emulator.say(
            emulator.person("ada"),
            f"<@{bot.user.id}> Why did EleutherAI take GPT-J offline?",
            mention_bot=True,
        )
        thread_id = asked["id"]
        edit = rf"^/channels/{thread_id}/messages/\d+$"
        final = await emulator.wait_for("PATCH", edit, since=mark, where=lambda r: bool(_embeds(r)))
        sent = emulator.calls("POST", rf"^/channels/{thread_id}/messages$", since=mark)
        edits = emulator.calls("PATCH", edit, since=mark)

    [first] = sent  # one message: sent with the first text, then edited
    assert "✍️" in (_content(first) or "")
    assert len(edits) >= 2 and edits[-1] is final
    assert final.path.endswith(first.response["id"])
    assert "exploding web hosting costs. [1]" in _text(final) and "1999" not in _text(final)
    stored = emulator.messages[thread_id][-1]
    assert stored["content"] == "" and stored["embeds"]
