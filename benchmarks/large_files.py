"""Parse and chunk time, and peak memory, for large text files: before and after.

Inputs are generated (seeded): prose of 5, 20 and 50 MB (sentences of words
drawn from the bundled articles and a 60,000-word made-up vocabulary, in
paragraphs with the odd heading), the 20 MB one hard-wrapped at 72 columns,
with and without accented letters (a line that is not plain ASCII goes through
ftfy, ~20 us a line), and 5 MB on one line without spaces (random letters and
digits). Each row is
measured in a fresh process, through ``read`` -> ``parse`` -> ``chunk_article``
as the pipeline calls them; embedding is not included. Peak RSS is the whole
process (Python, the tokenizer and its vocabulary: about 65 MB before any input).

``--before PATH`` also measures the code checked out at PATH (for example
``git worktree add /tmp/before main``) in the same run::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/large_files.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from common import REPO, console, machine, save, status_mb, table

MB = 1024 * 1024
CASES = [
    ("prose", 5),
    ("prose", 20),
    ("prose", 50),
    ("prose, 72 columns", 20),
    ("accented prose, 72 columns", 20),
    ("one line, no spaces", 5),
]


def prose(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    corpus = " ".join(
        p.read_text(encoding="utf-8") for p in sorted((REPO / "corpus").glob("*.txt"))
    )
    stream = re.findall(r"[A-Za-z][A-Za-z'-]*", corpus)  # real words at their real frequency
    syllables = [
        "ka",
        "lo",
        "mi",
        "tren",
        "sta",
        "vor",
        "pel",
        "an",
        "is",
        "ung",
        "der",
        "qua",
        "bri",
        "sol",
        "tem",
        "ex",
        "ri",
        "on",
        "al",
        "ver",
    ]
    vocabulary = list(dict.fromkeys(stream))
    vocabulary += [
        "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(60_000)
    ]

    def word() -> str:
        return rng.choice(stream) if rng.random() < 0.6 else rng.choice(vocabulary)

    paragraphs: list[str] = []
    total = 0
    while total < size:
        sentences = []
        for _ in range(rng.randint(2, 7)):
            words = [word() for _ in range(rng.randint(6, 28))]
            if rng.random() < 0.3:
                words[rng.randrange(len(words))] += ","
            sentences.append(" ".join([words[0].capitalize(), *words[1:]]) + rng.choice(".....?!"))
        paragraph = " ".join(sentences)
        if rng.random() < 0.08:
            heading = " ".join(word() for _ in range(rng.randint(2, 5))).title()
            paragraph = f"{heading}\n\n{paragraph}"
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:size]


def make_input(kind: str, megabytes: int, folder: Path) -> Path:
    size = megabytes * MB
    if kind == "prose":
        text = prose(size)
    elif kind.endswith("72 columns"):
        text = prose(size)
        if kind.startswith("accented"):  # "é" for the "e" of "er": in almost every line
            text = re.sub("e(?=r)", "é", text)
        text = "\n\n".join(textwrap.fill(p, 72, break_long_words=False) for p in text.split("\n\n"))
    else:
        rng = random.Random(11)
        text = "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=size))
    path = folder / f"{re.sub(r'[^a-z0-9]+', '-', kind)}-{megabytes}mb.txt"
    path.write_text(text, encoding="utf-8")
    return path


def measure(path: Path) -> dict[str, Any]:
    """In a fresh process, with PYTHONPATH at the code being measured."""
    from ingest.chunk import chunk_article
    from ingest.embedding_model import count_tokens
    from ingest.load import expand, read
    from ingest.parse import parse

    count_tokens("warm up")  # loads the tokenizer, as the pipeline has before the first source
    baseline = status_mb("VmHWM")  # not ru_maxrss: that includes the parent's peak
    [pending] = expand([path]).pending
    wall, cpu = time.perf_counter(), time.process_time()
    article = parse(read(pending))
    parse_s, parse_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    chunks = chunk_article(article)
    chunk_s, chunk_cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "parse_s": parse_s,
        "chunk_s": chunk_s,
        "cpu_s": parse_cpu + chunk_cpu,
        "chunks": len(chunks),
        "longest_chunk_chars": max(len(c.text) for c in chunks),
        "baseline_rss_mb": baseline,
        "peak_rss_mb": status_mb("VmHWM"),
    }


def run(code: Path, path: Path, timeout: float) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "OMP_WAIT_POLICY": "PASSIVE",
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--measure", str(path)]
    try:
        out = subprocess.run(
            command, env=env, capture_output=True, text=True, check=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _seconds(row: dict[str, Any], key: str) -> str:
    return f"> {row['timeout_s']:.0f}" if "timeout_s" in row else f"{row[key]:.1f}"


def main(before: Path | None, timeout: float, only: set[str] | None) -> None:
    variants = [("before", before)] if before else []
    variants.append(("after", REPO))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind, megabytes in CASES:
            name = f"{kind} {megabytes} MB"
            if only and not any(o in name for o in only):
                continue
            path = make_input(kind, megabytes, Path(tmp))
            for code_name, code in variants:
                row = {
                    "input": kind,
                    "mb": megabytes,
                    "code": code_name,
                    **run(code, path, timeout),
                }
                rows.append(row)
                console.print(f"{name}, {code_name}: {row}")
            path.unlink()
    console.print(
        table(
            "Parse and chunk a large text file (one fresh process per row; no embedding)",
            ["Input", "Size", "Code", "Parse s", "Chunk s", "CPU s", "Chunks", "Peak RSS MB"],
            [
                [
                    r["input"],
                    f"{r['mb']} MB",
                    r["code"],
                    _seconds(r, "parse_s"),
                    _seconds(r, "chunk_s"),
                    _seconds(r, "cpu_s"),
                    "" if "timeout_s" in r else f"{r['chunks']:,}",
                    "" if "timeout_s" in r else f"{r['peak_rss_mb']:.0f}",
                ]
                for r in rows
            ],
        )
    )
    console.print(f"Machine: {machine()}")
    console.print(f"Command: {' '.join(sys.argv)}")
    save("large_files", {"rows": rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per row")
    parser.add_argument("--only", help="comma-separated substrings of the inputs to run")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
    else:
        main(args.before, args.timeout, set(args.only.split(",")) if args.only else None)
