"""Stand-ins for a hosted LLM, the one boundary tests cannot reach.

- :class:`ScriptedChat`: LangChain's own fake streaming chat model, recording the
  messages each call receives (unit level).
- :class:`OpenAIServer`: an OpenAI-compatible ``/v1/chat/completions`` endpoint on
  127.0.0.1 answering with scripted text as JSON or, for ``"stream": true``, as
  server-sent events at a set pace; driven through the real ``langchain-openai``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChat(GenericFakeChatModel):
    """Replies with the scripted texts in turn (streamed word by word) and records prompts.

    ``failures`` are raised, one per call, before any reply is used; ``delay`` is
    slept before each streamed piece (and once before a whole reply), ``linger``
    after the last piece (a model slow to finish, so what it wrote stays on show).
    """

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    failures: list[Exception] = Field(default_factory=list)
    delay: float = 0.0
    linger: float = 0.0

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        if self.failures:
            raise self.failures.pop(0)
        return super()._generate(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for chunk in super()._stream(messages, stop, run_manager, **kwargs):
            if self.delay:
                time.sleep(self.delay)
            yield chunk
        if self.linger:
            time.sleep(self.linger)


def scripted(*replies: str, delay: float = 0.0, linger: float = 0.0) -> ScriptedChat:
    return ScriptedChat(messages=iter([AIMessage(r) for r in replies]), delay=delay, linger=linger)


class StatusError(Exception):
    """What provider SDKs raise for an HTTP error status."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


@dataclass
class OpenAIServer:
    """A scripted OpenAI-compatible chat endpoint on 127.0.0.1 (start/stop it per test).

    ``replies`` are ``(status, text)`` pairs used in turn (then ``NOT_FOUND``);
    ``tokens_per_second`` paces replies (a token is a word with its trailing space): a
    streamed reply sends each token in turn, a JSON reply comes after all would have.
    """

    tokens_per_second: float = 0.0
    replies: list[tuple[int, str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> OpenAIServer:
        script = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                script.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                )
                status, text = script.replies.pop(0) if script.replies else (200, "NOT_FOUND")
                if status != 200:
                    self._json(status, {"error": {"message": text, "type": "server_error"}})
                elif body.get("stream"):
                    self._sse(body.get("model", "m"), text)
                else:
                    if script.tokens_per_second:
                        time.sleep(len(_tokens(text)) / script.tokens_per_second)
                    self._json(200, _completion(body.get("model", "m"), text))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                pause = 1.0 / script.tokens_per_second if script.tokens_per_second else 0.0
                for token in _tokens(text):
                    if pause:
                        time.sleep(pause)
                    self._event(_chunk(model, {"content": token}, None))
                self._event(_chunk(model, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _tokens(text: str) -> list[str]:
    return re.findall(r"\S+\s*", text)


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
