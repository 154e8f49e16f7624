"""An LLM answerer for any OpenAI-compatible chat endpoint (opt-in via ``KB_LLM_URL``).

The model sees only the numbered passages and must cite them as ``[n]``. Its
output is checked, not trusted: sentences without a valid marker are dropped,
citations are renumbered in order of use, and when the endpoint fails or says
the passages do not answer, the extractive answerer's result is returned.
Whether to answer at all is decided by the extractive answerer's calibrated
retrieval confidence, so an LLM never turns an out-of-scope question into a
confident answer.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import httpx

from bot.answer import Answerer, Evidence, _citation
from bot.results import Answer
from bot.settings import Settings

log = logging.getLogger(__name__)

NOT_FOUND_TOKEN = "NOT_FOUND"
MAX_PASSAGES = 5
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=\])\s+(?=[A-Z])")

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages provided. "
    "Write at most four short sentences. End every sentence with the number of the passage "
    "that supports it, like [1] or [2][3]. Do not use any knowledge outside the passages. "
    f"If the passages do not answer the question, reply exactly {NOT_FOUND_TOKEN}."
)


class GenerativeAnswerer:
    """Answers with an LLM, citing the retrieved passages.

    Args:
        url: Base URL of an OpenAI-compatible API (``.../v1``); ``/chat/completions`` is appended.
        model: Model name to request.
        fallback: The extractive answerer: decides abstention and stands in on failure.
        api_key: Sent as a bearer token when set.
    """

    def __init__(
        self,
        url: str,
        model: str,
        fallback: Answerer,
        api_key: str | None = None,
        timeout: float = 60.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.fallback = fallback
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(timeout=timeout, headers=headers)

    @classmethod
    def from_settings(cls, settings: Settings, fallback: Answerer) -> GenerativeAnswerer:
        assert settings.llm_url
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return cls(settings.llm_url, settings.llm_model, fallback, key, settings.llm_timeout)

    def answer(self, evidence: Evidence) -> Answer:
        extractive = self.fallback.answer(evidence)
        if not extractive.answered:
            return extractive
        passages = evidence.passages[:MAX_PASSAGES]
        try:
            reply = self._complete(evidence.question, [p.chunk.text for p in passages])
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            log.warning("LLM endpoint failed (%s); answering extractively", exc)
            return replace(
                extractive,
                notice="The language model was unavailable; quoting the articles instead.",
            )
        if reply.strip() == NOT_FOUND_TOKEN:
            return extractive
        text, used = _checked(reply, len(passages))
        if not text:
            log.info("LLM reply had no valid citations; answering extractively")
            return extractive
        citations = [
            _citation(n, passages[old - 1], evidence) for n, old in enumerate(used, start=1)
        ]
        return Answer(evidence.question, text, True, citations, confidence=extractive.confidence)

    def _complete(self, question: str, passages: list[str]) -> str:
        numbered = "\n\n".join(f"[{i}] {text}" for i, text in enumerate(passages, start=1))
        payload: dict[str, Any] = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"},
            ],
        }
        response = self._client.post(self.endpoint, json=payload)
        response.raise_for_status()
        return str(response.json()["choices"][0]["message"]["content"])


def _checked(reply: str, passages: int) -> tuple[str, list[int]]:
    """Keep sentences that cite real passages; renumber citations by first use."""
    order: list[int] = []
    kept = []
    for sentence in _SENTENCE.split(reply.strip()):
        cited = [int(n) for n in _MARKER.findall(sentence) if 1 <= int(n) <= passages]
        if not cited or _MARKER.sub("", sentence).strip() == "":
            continue
        for n in cited:
            if n not in order:
                order.append(n)
        kept.append(sentence.strip())
    if not kept:
        return "", []
    mapping = {old: new for new, old in enumerate(order, start=1)}

    def renumber(match: re.Match[str]) -> str:
        old = int(match.group(1))
        return f"[{mapping[old]}]" if old in mapping else ""

    return " ".join(_MARKER.sub(renumber, s) for s in kept), order
