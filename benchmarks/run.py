"""Run every benchmark and print the tables (``make bench``).

    python benchmarks/run.py [--only perf,ingest,baseline,scale,llm]

The SciFact store the product builds for evaluation is kept under
benchmarks/results/scifact-store, so a second run does not embed it again.
"""

from __future__ import annotations

import argparse
import time

import baseline
import ingest_runtimes
import llm_stream
import perf
import scale
from common import RESULTS, console, machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="perf,ingest,baseline,scale,llm")
    wanted = set(parser.parse_args().only.split(","))
    console.print(f"Machine: {machine()}")
    store = RESULTS / "scifact-store"
    started = time.perf_counter()
    if "perf" in wanted:
        perf.main()
    if "ingest" in wanted:
        ingest_runtimes.main()
    if "baseline" in wanted:
        baseline.main(product_home=store)
    if "scale" in wanted:
        scale.main(store)
    if "llm" in wanted:
        llm_stream.main()
    console.print(f"Done in {time.perf_counter() - started:.0f} s; JSON results in {RESULTS}")


if __name__ == "__main__":
    main()
