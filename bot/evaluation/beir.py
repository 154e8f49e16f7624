"""``kb eval beir``: retrieval quality on a BEIR dataset through the real pipeline.

The corpus is ingested like any articles (cleaning, chunking, embedding) into
a separate knowledge base; each test query is then ranked at document level
(a document scores as its best passage) by dense search alone, BM25 alone and
the product's hybrid search, and scored with nDCG@10 and Recall@100.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot import ConfigurationError, KnowledgeBase, Settings, TextDocument
from bot.retrieve import Mode

METHODS: dict[str, Mode] = {"dense": "dense", "bm25": "lexical", "hybrid": "hybrid"}


@dataclass(frozen=True)
class BeirDataset:
    name: str
    corpus: dict[str, tuple[str, str]]
    """doc id -> (title, text)"""
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    """query id -> {doc id: relevance}, test split"""


@dataclass
class BeirResult:
    dataset: str
    queries: int
    methods: dict[str, dict[str, float]] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    chunks: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "queries": self.queries,
            "methods": {
                name: {k: round(v, 4) for k, v in values.items()}
                for name, values in self.methods.items()
            },
        }


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """Read ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/{split}.tsv``.

    Raises:
        ConfigurationError: A file is missing or malformed.
    """
    try:
        corpus = {
            str(row["_id"]): (str(row.get("title") or ""), str(row.get("text") or ""))
            for row in _jsonl(folder / "corpus.jsonl")
        }
        queries = {str(row["_id"]): str(row["text"]) for row in _jsonl(folder / "queries.jsonl")}
        qrels: dict[str, dict[str, int]] = {}
        with (folder / "qrels" / f"{split}.tsv").open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t")
            next(reader, None)  # header
            for row in reader:
                if len(row) >= 3 and int(row[2]) > 0:
                    qrels.setdefault(row[0].strip(), {})[row[1].strip()] = int(row[2])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(f"{folder} is not a readable BEIR dataset: {exc}") from exc
    return BeirDataset(folder.resolve().name, corpus, queries, qrels)


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def ndcg_at(ranking: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains and a log2 discount (as pytrec_eval's ndcg_cut)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranking: list[str], relevant: dict[str, int], k: int = 100) -> float:
    return len(set(ranking[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def source_id(dataset: str, doc_id: str) -> str:
    return f"beir:{dataset}/{doc_id}"


def evaluate_beir(
    folder: Path,
    settings: Settings,
    work_dir: Path | None = None,
    progress_console: Console | None = None,
    methods: dict[str, Mode] | None = None,
) -> BeirResult:
    """Ingest the corpus (incrementally: a second run re-uses the store) and score each method."""
    dataset = load_beir(folder)
    home = work_dir or settings.home / "eval" / dataset.name
    kb = KnowledgeBase(settings=settings.model_copy(update={"home": home, "auto_ingest": False}))
    documents = [
        TextDocument(source_id(dataset.name, doc_id), text, title=title or None)
        for doc_id, (title, text) in dataset.corpus.items()
    ]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=progress_console, disable=progress_console is None) as bar:
        task = bar.add_task(f"Ingesting {dataset.name}", total=len(documents))
        started = time.perf_counter()
        report = kb.ingest(
            documents, progress=lambda done, total, _: bar.update(task, completed=done)
        )
        ingest_seconds = time.perf_counter() - started
        if report.failed:
            bar.console.print(f"{len(report.failed)} documents could not be ingested (empty text)")
        prefix = source_id(dataset.name, "")
        result = BeirResult(
            dataset.name,
            len(dataset.qrels),
            ingest_seconds=ingest_seconds,
            chunks=kb.passage_count(),
        )
        chosen = methods or METHODS
        totals = {name: {"ndcg@10": 0.0, "recall@100": 0.0} for name in chosen}
        query_task = bar.add_task("Ranking queries", total=len(dataset.qrels))
        for query_id, relevant in dataset.qrels.items():
            query = dataset.queries[query_id]
            for name, mode in chosen.items():
                ranking = [
                    s.removeprefix(prefix) for s, _ in kb.rank_sources(query, 100, mode=mode)
                ]
                totals[name]["ndcg@10"] += ndcg_at(ranking, relevant, 10)
                totals[name]["recall@100"] += recall_at(ranking, relevant, 100)
            bar.advance(query_task)
    n = max(len(dataset.qrels), 1)
    result.methods = {
        name: {k: v / n for k, v in values.items()} for name, values in totals.items()
    }
    return result


PUBLISHED = {"scifact": {"bm25": 0.665, "dense": 0.645}}


def print_beir(result: BeirResult, console: Console) -> None:
    table = Table(
        title=f"{result.dataset}: {result.queries} test queries, {result.chunks} chunks",
        title_justify="left",
    )
    table.add_column("Method")
    table.add_column("nDCG@10", justify="right")
    table.add_column("Recall@100", justify="right")
    table.add_column("Published nDCG@10", justify="right")
    published = PUBLISHED.get(result.dataset, {})
    for name, values in result.methods.items():
        reference = published.get(name)
        table.add_row(
            name,
            f"{values['ndcg@10']:.3f}",
            f"{values['recall@100']:.3f}",
            f"{reference:.3f}" if reference else "",
        )
    console.print(table)
