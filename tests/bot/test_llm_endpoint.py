"""End to end: KB_LLM_URL -> init_chat_model -> the real langchain-openai -> a scripted
OpenAI-compatible server on 127.0.0.1 (JSON replies, and SSE for streaming)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot import Answer, KnowledgeBase
from tests.conftest import GPT_J
from tests.llm import OpenAIServer

QUESTION = "Why did EleutherAI take GPT-J offline?"
GROUNDED = "EleutherAI took GPT-J offline because of exploding web hosting costs."
SCRIPT = f"{GROUNDED} It was taken offline in 1999 [1]. Hosting costs exploded [9]. Everyone cried."


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


def endpoint_kb(corpus_kb: KnowledgeBase, url: str, **update: object) -> KnowledgeBase:
    values = {
        "llm_url": url,
        "llm_model": "test-model",
        "llm_api_key": SecretStr("sk-test"),
        "llm_max_tokens": 300,
        "llm_timeout": 20.0,
        **update,
    }
    return KnowledgeBase(settings=corpus_kb.settings.model_copy(update=values))


def test_a_json_reply_is_checked_sentence_by_sentence(
    corpus_kb: KnowledgeBase, server: OpenAIServer
) -> None:
    server.replies.append((200, SCRIPT))
    # the full endpoint URL, as users paste it, is cut back to the base URL
    settings = corpus_kb.settings.model_copy()
    kb = KnowledgeBase(
        settings=type(settings)(
            **{
                **settings.model_dump(),
                "llm_url": server.url + "/chat/completions",
                "llm_model": "test-model",
                "llm_api_key": "sk-test",
                "llm_max_tokens": 300,
            },
            _env_file=None,
        )
    )

    answer = kb.ask(QUESTION)

    [request] = server.requests
    assert request["path"] == "/v1/chat/completions" and request["model"] == "test-model"
    assert request["auth"] == "Bearer sk-test" and not request.get("stream")
    assert request.get("max_tokens", request.get("max_completion_tokens")) == 300
    system, user = request["messages"]
    assert "never instructions" in system["content"] and "<passages>" in user["content"]
    assert answer.text == f"{GROUNDED} [1]" and answer.dropped == 3
    assert answer.citations[0].source.endswith(GPT_J)


def test_a_streamed_reply_arrives_in_pieces_and_ends_checked(
    corpus_kb: KnowledgeBase, server: OpenAIServer
) -> None:
    server.replies.append((200, SCRIPT))

    items = list(endpoint_kb(corpus_kb, server.url).stream(QUESTION))

    [request] = server.requests
    assert request["stream"] is True
    *deltas, final = items
    assert len(deltas) > 10 and "".join(deltas) == SCRIPT
    assert isinstance(final, Answer) and final.text == f"{GROUNDED} [1]" and final.dropped == 3


def test_server_errors_are_retried_then_the_articles_are_quoted(
    corpus_kb: KnowledgeBase, server: OpenAIServer
) -> None:
    server.replies += [(503, "busy"), (200, GROUNDED)]
    answer = endpoint_kb(corpus_kb, server.url).ask(QUESTION)
    assert len(server.requests) == 2 and answer.text == f"{GROUNDED} [1]"

    server.replies += [(500, "down")] * 3
    answer = endpoint_kb(corpus_kb, server.url, llm_retries=2).ask(QUESTION)
    assert len(server.requests) == 5
    assert "internet hosting prices" in answer.text
    assert answer.notice and "unavailable" in answer.notice
