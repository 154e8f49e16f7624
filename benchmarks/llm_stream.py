"""Streaming LLM answers: time to the first printed text and to the checked answer.

    python benchmarks/llm_stream.py [--repeat 5] [--rate 20]

A loopback OpenAI-compatible server (tests/llm.py, driven through the real
langchain-openai) writes a scripted 3-sentence reply at ``--rate`` tokens a
second, as SSE for ``kb.stream`` (what ``kb ask`` and Discord use) and as one
JSON reply for ``kb.ask``. Beside it: the extractive answer, no LLM.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, console, machine, percentile, save, table

sys.path.insert(0, str(REPO))

from bot import Answer, KnowledgeBase, Settings
from tests.llm import OpenAIServer, _tokens

QUESTION = "Why did EleutherAI take GPT-J offline?"
REPLY = (
    "EleutherAI took GPT-J offline because of exploding web hosting costs [1]. "
    "Keeping a large model available to the public costs a lot of money for hosting [1]. "
    "Grassroots projects struggle to pay for the computing that such models need [2]."
)


def main(repeat: int = 5, rate: float = 20.0) -> dict[str, object]:
    server = OpenAIServer(tokens_per_second=rate).start()
    home = Path(tempfile.mkdtemp(prefix="kb-llm-bench-"))
    base = Settings(_env_file=None, home=home, corpus=REPO / "corpus")  # type: ignore[call-arg]
    extractive = KnowledgeBase(settings=base)
    llm = KnowledgeBase(
        settings=base.model_copy(update={"llm_url": server.url, "llm_model": "bench"})
    )
    try:
        extractive.ask(QUESTION)  # ingest the corpus, load the models
        server.replies.append((200, REPLY))
        llm.ask(QUESTION)  # warm the LangChain imports and the HTTP client
        ask_ms, first_ms, final_ms, check_ms, json_ms, dropped = [], [], [], [], [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            extractive.ask(QUESTION)
            ask_ms.append((time.perf_counter() - started) * 1000)

            server.replies.append((200, REPLY))
            started = time.perf_counter()
            first = last = None
            final: Answer | None = None
            for item in llm.stream(QUESTION):
                now = time.perf_counter()
                if isinstance(item, Answer):
                    final = item
                else:
                    first = first or now
                    last = now
            done = time.perf_counter()
            assert final is not None and first is not None and last is not None
            dropped = final.dropped
            first_ms.append((first - started) * 1000)
            final_ms.append((done - started) * 1000)
            check_ms.append((done - last) * 1000)

            server.replies.append((200, REPLY))
            started = time.perf_counter()
            llm.ask(QUESTION)
            json_ms.append((time.perf_counter() - started) * 1000)
    finally:
        server.stop()
        extractive.close()
        llm.close()

    def p50(values: list[float]) -> str:
        return f"{percentile(values, 50):,.0f} ms"

    tokens = len(_tokens(REPLY))
    rows = [
        ["Extractive answer (no LLM), kb.ask", p50(ask_ms)],
        ["LLM, streamed: first text printed", p50(first_ms)],
        ["LLM, streamed: final checked answer", p50(final_ms)],
        ["  of which checking after the last token", p50(check_ms)],
        ["LLM, one JSON reply (kb.ask, --json)", p50(json_ms)],
    ]
    console.print(f"Machine: {machine()}")
    console.print(f"Command: python benchmarks/llm_stream.py --repeat {repeat} --rate {rate:g}")
    console.print(
        table(
            f"LLM answers, loopback server at {rate:g} tokens/s ({tokens}-token reply, "
            f"{dropped} sentence(s) dropped by the check), median of {repeat}",
            ["Measure", "Time"],
            rows,
        )
    )
    result = {
        "rate": rate,
        "tokens": tokens,
        "extractive_ms": ask_ms,
        "first_text_ms": first_ms,
        "final_ms": final_ms,
        "check_ms": check_ms,
        "json_ms": json_ms,
    }
    save("llm_stream", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    main(args.repeat, args.rate)
