"""Server mode at size: one process ingests while another answers, on a `chroma run` server.

Starts a Chroma server on 127.0.0.1, fills it with 10,000 synthetic chunks
(SciFact abstracts in 100 sources, random unit vectors), then runs two
processes against it, each with its own KnowledgeBase home (its own lexical
index), as two bot processes on two machines would:

* **B** answers questions in a loop (``kb.ask``): alternately a SciFact claim and
  a probe question about the next evaluation article it has not yet seen cited;
* **A** starts after B has answered alone for a while, and ingests the six
  evaluation articles (``bot/evaluation/articles/*.md``) one at a time with
  ``kb.ingest``, pausing between them.

Reported: B's ``ask`` p50/p95 while A is idle (before A starts) and while an
ingest call of A is under way, and for each article the time from A's ingest
call returning until B's answer (the end of B's ``ask``) cites the article.

    cd benchmarks && nice -n 10 ../.venv/bin/python server_mode.py
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    REPO,
    SCIFACT,
    add_synthetic,
    chroma_server,
    console,
    machine,
    open_store,
    percentile,
    save,
    scifact_texts,
    status_mb,
    table,
    unit_vectors,
)

CHUNKS = 10_000
SOURCES = 100
ARTICLES = REPO / "bot" / "evaluation" / "articles"
PROBES = {
    "alpaca-stanford.md": "How many instruction-following demonstrations was Alpaca trained on?",
    "chatbot-arena-evaluation-policy.md": "Who develops Chatbot Arena?",
    "licensing-machine-learning-models.md": "Under which license was GPT-2 released?",
    "llm-benchmark-contamination.md": (
        "How many prompt pairs were built from MMLU to compare detection methods?"
    ),
    "longchat-lmsys.md": "What condensation ratio does LongChat use?",
    "vicuna-lmsys.md": "Under which license is the Vicuna code released?",
}
IDLE_S = 30.0
"""How long B answers alone before A starts."""
PAUSE_S = 4.0
"""A's pause between two articles (so each article's visibility is timed on its own)."""
SEEN_TIMEOUT_S = 60.0


def settings(home: Path, port: int) -> Any:
    from bot import Settings

    return Settings(home=home, chroma_host="127.0.0.1", chroma_port=port, auto_ingest=False)


def asker(home: Path, port: int, stop: Path) -> None:
    """Process B: answer until ``stop`` exists; one JSON line per ``ask`` on stdout."""
    from bot import KnowledgeBase

    claims = []
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            claims.append(json.loads(line)["text"])
            if len(claims) == 200:
                break
    kb = KnowledgeBase(settings=settings(home, port))
    kb.warm_up()
    kb.ask(claims[0])
    print(json.dumps({"ready": os.getpid()}), flush=True)
    names = list(PROBES)
    waiting = 0  # the first article not yet seen cited
    turn = 0
    while not stop.exists():
        probe = waiting < len(names) and turn % 2 == 0
        question = PROBES[names[waiting]] if probe else claims[turn % len(claims)]
        started = time.time()
        answer = kb.ask(question)
        ended = time.time()
        cited = [c.source for c in answer.citations]
        row: dict[str, Any] = {"start": started, "end": ended, "probe": probe}
        if probe and any(Path(s).name == names[waiting] for s in cited):
            row["seen"] = names[waiting]
            waiting += 1
        print(json.dumps(row), flush=True)
        turn += 1
    print(json.dumps({"rss_mb": status_mb("VmRSS")}), flush=True)
    kb.close()


def ingester(home: Path, port: int) -> None:
    """Process A: ingest the evaluation articles one at a time, one JSON line per article."""
    from bot import KnowledgeBase

    kb = KnowledgeBase(settings=settings(home, port))
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for i, name in enumerate(PROBES):
        if i:
            time.sleep(PAUSE_S)
        started = time.time()
        report = kb.ingest([ARTICLES / name])
        ended = time.time()
        assert report.ok, report.summary()
        line = {"article": name, "start": started, "end": ended, "summary": report.summary()}
        print(json.dumps(line), flush=True)
    kb.close()


def spawn(role: str, home: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}
    return subprocess.Popen(
        [sys.executable, __file__, f"--{role}", str(home), "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_line(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"a benchmark process exited with {process.wait()}")
    return dict(json.loads(line))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with chroma_server(tmp / "server", tmp / "chroma.log") as port:
            started = time.perf_counter()
            store = open_store(settings(tmp / "builder", port))
            rng = np.random.default_rng(7)
            texts = scifact_texts(CHUNKS)
            per = CHUNKS // SOURCES
            add_synthetic(
                store,
                (
                    (f"source-{s}", texts[s * per : (s + 1) * per], unit_vectors(rng, per))
                    for s in range(SOURCES)
                ),
            )
            chunks = store.count()
            store.close()
            console.print(
                f"built {chunks:,} chunks on the server in {time.perf_counter() - started:.0f} s"
            )

            stop = tmp / "stop"
            b = spawn("asker", tmp / "b", port, "--stop", str(stop))
            asks: list[dict[str, Any]] = []
            read_line(b)  # B is warm (model loaded, lexical index built)
            idle_from = time.time()
            while time.time() < idle_from + IDLE_S:
                asks.append(read_line(b))
            a = spawn("ingester", tmp / "a", port)
            a_started = time.time()
            read_line(a)
            ingests: list[dict[str, Any]] = []
            assert a.stdout is not None
            selector = selectors.DefaultSelector()
            selector.register(a.stdout, selectors.EVENT_READ, "a")
            assert b.stdout is not None
            selector.register(b.stdout, selectors.EVENT_READ, "b")
            deadline: float | None = None
            while True:
                for key, _ in selector.select(timeout=1):
                    line = key.fileobj.readline()  # type: ignore[union-attr]
                    if not line:
                        selector.unregister(key.fileobj)
                        continue
                    (ingests if key.data == "a" else asks).append(json.loads(line))
                if deadline is None and a.poll() is not None:
                    deadline = time.time() + SEEN_TIMEOUT_S
                seen = {r["seen"] for r in asks if "seen" in r}
                if deadline is not None and (len(seen) == len(PROBES) or time.time() > deadline):
                    break
            stop.touch()
            asks += [json.loads(line) for line in b.stdout]
            ingests += [json.loads(line) for line in a.stdout]
            b.wait()
            a.wait()

    rss = [r["rss_mb"] for r in asks if "rss_mb" in r]
    asks = [r for r in asks if "start" in r]

    def during(r: dict[str, Any]) -> bool:
        return any(r["start"] < i["end"] and r["end"] > i["start"] for i in ingests)

    idle = [(r["end"] - r["start"]) * 1000 for r in asks if r["end"] < a_started]
    busy = [(r["end"] - r["start"]) * 1000 for r in asks if during(r)]
    seen_at = {r["seen"]: r["end"] for r in asks if "seen" in r}
    visible = []
    for i in ingests:
        lag = seen_at.get(i["article"])
        visible.append(
            {
                "article": i["article"],
                "ingest_s": i["end"] - i["start"],
                "summary": i["summary"],
                "seen_after_s": None if lag is None else lag - i["end"],
            }
        )
    result = {
        "chunks": chunks,
        "idle": {"asks": len(idle), "p50_ms": percentile(idle, 50), "p95_ms": percentile(idle, 95)},
        "during_ingest": {
            "asks": len(busy),
            "p50_ms": percentile(busy, 50),
            "p95_ms": percentile(busy, 95),
        },
        "articles": visible,
        "b_rss_mb": rss[0] if rss else None,
    }
    console.print(
        table(
            f"Server mode, {chunks:,} chunks: B asks in a loop while A ingests (B's kb.ask)",
            ["B's ask", "asks", "p50", "p95"],
            [
                [name, r["asks"], f"{r['p50_ms']:.0f} ms", f"{r['p95_ms']:.0f} ms"]
                for name, r in (
                    ("A idle (before A starts)", result["idle"]),
                    ("during an ingest call of A", result["during_ingest"]),
                )
            ],
        )
    )
    console.print(
        table(
            "Until B's answer cites the article A just ingested",
            ["Article", "A's ingest", "Chunks", "B's answer cites it after"],
            [
                [
                    v["article"],
                    f"{v['ingest_s']:.1f} s",
                    v["summary"],
                    "not within 60 s"
                    if v["seen_after_s"] is None
                    else f"{v['seen_after_s']:.2f} s",
                ]
                for v in visible
            ],
        )
    )
    if rss:
        console.print(f"B's RSS at the end (no Chroma index in the process): {rss[0]:.0f} MB")
    console.print(f"Machine: {machine()}")
    console.print(f"Command: {' '.join(sys.argv)}")
    save("server_mode", result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--asker", type=Path)
    parser.add_argument("--ingester", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--stop", type=Path)
    args = parser.parse_args()
    if args.asker:
        asker(args.asker, args.port, args.stop)
    elif args.ingester:
        ingester(args.ingester, args.port)
    else:
        main()
