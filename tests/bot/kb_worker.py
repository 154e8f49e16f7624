"""A long-lived process holding one KnowledgeBase, driven over stdin/stdout (for tests).

Run as ``python -m tests.bot.kb_worker`` with ``KB_HOME`` (and the other ``KB_``
settings) in the environment. Each stdin line is a JSON request
``{"op": "ask" | "search" | "ingest" | "forget", "arg": "..."}``; each reply is
one JSON line: ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``.
It prints ``{"ready": pid}`` once, and stops at end of input.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from bot import KnowledgeBase
from bot.process import set_up_process


def handle(kb: KnowledgeBase, op: str, arg: str) -> dict[str, Any]:
    if op == "ask":
        answer = kb.ask(arg)
        return {
            "answered": answer.answered,
            "text": answer.text,
            "sources": [c.source for c in answer.citations],
        }
    if op == "search":
        return {"sources": [c.source for c in kb.search(arg, k=5)]}
    if op == "ingest":
        report = kb.ingest([arg])
        return {"summary": report.summary(), "failed": [f.reason for f in report.failed]}
    if op == "forget":
        return {"removed": kb.forget(arg).chunks}
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    set_up_process()  # an entry point, like ``kb``
    kb = KnowledgeBase()
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"ok": True, **handle(kb, request["op"], request["arg"])}
        except Exception as exc:  # the test reads the error instead of a dead process
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), flush=True)
    kb.close()


if __name__ == "__main__":
    main()
