"""First search after another process adds one article, at 10k chunks: before and after.

Builds a store of 10,000 chunks (SciFact abstracts, 100 sources of 100 chunks,
random unit vectors: the dense side is not what is measured) and measures, each
in a fresh process on a copy of that store:

* the first search on opening (no saved lexical index: a full build);
* the first search of a second KnowledgeBase on the same home (the saved index);
* the first search after one article (5 chunks) was added to the store;
* search p50 afterwards, and RSS.

``--before PATH`` also runs the same measurement with the code checked out at
PATH (for example ``git worktree add /tmp/before main``), to compare.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/incremental.py --before /tmp/before
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    REPO,
    add_synthetic,
    console,
    machine,
    open_store,
    percentile,
    save,
    scifact_texts,
    status_mb,
    table,
    timed,
    unit_vectors,
)

CHUNKS = 10_000
SOURCES = 100
QUERIES = [
    "vitamin D deficiency and bone fractures",
    "microRNA regulation of tumour growth",
    "statins reduce cardiovascular mortality",
    "antibiotic resistance in hospital infections",
    "sleep duration and obesity in children",
]


def build(home: Path) -> None:
    from bot import Settings

    texts = scifact_texts(CHUNKS)
    rng = np.random.default_rng(7)
    per = CHUNKS // SOURCES
    store = open_store(Settings(home=home, auto_ingest=False))
    add_synthetic(
        store,
        (
            (f"source-{s}", texts[s * per : (s + 1) * per], unit_vectors(rng, per))
            for s in range(SOURCES)
        ),
    )
    store.close()


def measure(home: Path) -> dict[str, Any]:
    from bot import KnowledgeBase, Settings

    settings = Settings(home=home, auto_ingest=False)
    kb = KnowledgeBase(settings=settings)
    kb.embed(["warm up"])  # the query model loads once per process: not what is measured
    kb.passage_count()  # the store opens: not what is measured either
    started = time.perf_counter()
    kb.search(QUERIES[0], 5)
    first_open = time.perf_counter() - started

    other = KnowledgeBase(settings=settings)  # a second process would see the same
    started = time.perf_counter()
    other.search(QUERIES[0], 5)
    saved_open = time.perf_counter() - started

    texts = [f"The Zorblax telescope mirror, part {i}, was polished in 2031." for i in range(5)]
    store = open_store(settings)
    add_synthetic(store, [("new-article", texts, unit_vectors(np.random.default_rng(11), 5))])
    store.close()
    started = time.perf_counter()
    hits = other.search("Zorblax telescope mirror", 5)
    after_add = time.perf_counter() - started
    assert hits and hits[0].source == "new-article", hits
    samples = [ms for q in QUERIES * 4 for ms in timed(lambda q=q: other.search(q, 5), 1)]
    return {
        "chunks": kb.passage_count(),
        "first_open_s": first_open,
        "saved_open_s": saved_open,
        "after_add_s": after_add,
        "search_p50_ms": percentile(samples, 50),
        "rss_mb": status_mb("VmRSS"),
    }


def run(code: Path, home: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "KB_AUTO_INGEST": "false"}
    out = subprocess.run(
        [sys.executable, str(code / "benchmarks" / "incremental.py"), "--measure", str(home)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(before: Path | None) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        started = time.perf_counter()
        build(base)
        console.print(f"built {CHUNKS:,} chunks in {time.perf_counter() - started:.0f} s")
        variants = [("before", before)] if before else []
        variants.append(("after", REPO))
        for name, code in variants:
            home = Path(tmp) / name
            shutil.copytree(base, home)
            shutil.rmtree(home / "index", ignore_errors=True)
            rows.append({"code": name, **run(code, home)})
    console.print(
        table(
            f"Lexical index at {CHUNKS:,} chunks (kb.search, k=5, one process per row)",
            [
                "Code",
                "First search on open (no saved index)",
                "First search, saved index",
                "First search after 1 article added",
                "Search p50",
                "RSS",
            ],
            [
                [
                    r["code"],
                    f"{r['first_open_s']:.2f} s",
                    f"{r['saved_open_s']:.2f} s",
                    f"{r['after_add_s']:.2f} s",
                    f"{r['search_p50_ms']:.0f} ms",
                    f"{r['rss_mb']:.0f} MB",
                ]
                for r in rows
            ],
        )
    )
    console.print(f"Machine: {machine()}")
    console.print(f"Command: {' '.join(sys.argv)}")
    save("incremental", {"rows": rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", type=Path)
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
    else:
        main(args.before)
