"""The LLM answerer against a scripted OpenAI-compatible endpoint on 127.0.0.1.

A hosted LLM is a boundary we cannot reach from tests, so a small server plays
it: it records each prompt and replies with scripted text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from bot import KnowledgeBase
from tests.conftest import GPT_J


@dataclass
class ScriptedLLM:
    url: str
    replies: list[tuple[int, str]] = field(default_factory=list)
    prompts: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    script = ScriptedLLM(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.prompts.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), **body}
            )
            status, text = script.replies.pop(0) if script.replies else (200, "NOT_FOUND")
            payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def llm_kb(corpus_kb: KnowledgeBase, llm: ScriptedLLM) -> KnowledgeBase:
    settings = corpus_kb.settings.model_copy(
        update={"llm_url": llm.url, "llm_model": "test-model", "llm_api_key": SecretStr("sk-test")}
    )
    return KnowledgeBase(settings=settings)


def test_llm_answer_is_checked_and_citations_renumbered(
    llm_kb: KnowledgeBase, llm: ScriptedLLM
) -> None:
    llm.replies.append(
        (
            200,
            "GPT-J was taken offline because hosting it became too expensive [2]. "
            "This sentence cites nothing. "
            "Hosting costs exploded [2][9].",
        )
    )

    answer = llm_kb.ask("Why did EleutherAI take GPT-J offline?")

    [prompt] = llm.prompts
    assert prompt["path"] == "/v1/chat/completions" and prompt["model"] == "test-model"
    assert prompt["auth"] == "Bearer sk-test"
    user = prompt["messages"][-1]["content"]
    assert "Question: Why did EleutherAI take GPT-J offline?" in user
    assert answer.answered
    assert answer.text == (
        "GPT-J was taken offline because hosting it became too expensive [1]. Hosting costs exploded [1]."
    )
    [citation] = answer.citations
    assert citation.n == 1
    assert f"[2] {citation.text}" in user  # the passage the model called [2] is the one cited


def test_out_of_scope_questions_never_reach_the_llm(
    llm_kb: KnowledgeBase, llm: ScriptedLLM
) -> None:
    answer = llm_kb.ask("How do I bake sourdough bread?")

    assert not answer.answered
    assert llm.prompts == []


def test_llm_failure_falls_back_to_the_extractive_answer(
    llm_kb: KnowledgeBase, llm: ScriptedLLM
) -> None:
    llm.replies.append((500, "internal error"))

    answer = llm_kb.ask("Why did EleutherAI take GPT-J offline?")

    assert answer.answered and answer.citations[0].source.endswith(GPT_J)
    assert "internet hosting prices" in answer.text
    assert answer.notice and "unavailable" in answer.notice


def test_llm_saying_not_found_or_citing_nothing_gives_the_extractive_answer(
    llm_kb: KnowledgeBase, llm: ScriptedLLM
) -> None:
    llm.replies.extend([(200, "NOT_FOUND"), (200, "No markers at all here.")])

    for _ in range(2):
        answer = llm_kb.ask("Why did EleutherAI take GPT-J offline?")
        assert "internet hosting prices" in answer.text and "[1]" in answer.text
