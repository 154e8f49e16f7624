"""Naive LangChain baseline vs the product, on the corpus QA set and on SciFact.

The baseline is the textbook recipe: raw text, RecursiveCharacterTextSplitter
(1000 characters, 200 overlap), HuggingFaceEmbeddings with the same bundled
MiniLM, a Chroma vector store, ``similarity_search(k=4)``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from common import REPO, SCIFACT, console, save, table

from bot import Settings
from bot.evaluation.beir import evaluate_beir, load_beir, ndcg_at, recall_at
from bot.evaluation.qa import (
    EvaluationLibraries,
    evaluate_qa,
    evaluation_articles,
    load_questions,
    normalise,
    question_set,
)


def _baseline_store(texts: list[tuple[str, str]], directory: Path, name: str) -> Any:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.embedding_model import model_dir

    embeddings = HuggingFaceEmbeddings(
        model_name=str(model_dir()), encode_kwargs={"normalize_embeddings": True}
    )
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    documents = [Document(page_content=text, metadata={"source": source}) for source, text in texts]
    splits = splitter.split_documents(documents)
    return Chroma.from_documents(
        splits, embeddings, collection_name=name, persist_directory=str(directory)
    )


def corpus_qa(work: Path) -> dict[str, Any]:
    """Evidence hit rate of the top-4 baseline chunks vs the product's citations (test split)."""
    questions = [q for q in load_questions(question_set("test")) if q.answerable and not q.history]
    files = [*sorted((REPO / "corpus").glob("*.txt")), *sorted(evaluation_articles().glob("*.md"))]
    raw = [(str(p), p.read_text(encoding="utf-8")) for p in files]
    store = _baseline_store(raw, work / "baseline-corpus", "baseline-corpus")
    hits = 0
    for q in questions:
        found = [normalise(d.page_content) for d in store.similarity_search(q.question, k=4)]
        hits += any(normalise(e) in text for e in q.evidence for text in found)
    kbs = EvaluationLibraries(Settings(home=work / "product-corpus"))
    ours = evaluate_qa(kbs, question_set("test")).metrics()
    return {
        "questions": len(questions),
        "baseline_evidence_hit": hits / len(questions),
        "product_evidence_hit": ours["evidence_in_citations"],
        "product_keywords_in_answer": ours["keywords_in_answer"],
        "product_abstention_on_unanswerable": ours["abstention_on_unanswerable"],
    }


def scifact(work: Path, product_home: Path) -> dict[str, Any]:
    """nDCG@10 / Recall@100 at document level; the baseline ranks docs by their best chunk."""
    dataset = load_beir(SCIFACT)
    texts = [(doc_id, f"{title}\n\n{text}") for doc_id, (title, text) in dataset.corpus.items()]
    started = time.perf_counter()
    store = _baseline_store(texts, work / "baseline-scifact", "baseline-scifact")
    index_seconds = time.perf_counter() - started
    ndcg = recall = 0.0
    for query_id, relevant in dataset.qrels.items():
        docs = store.similarity_search(dataset.queries[query_id], k=300)
        ranking = list(dict.fromkeys(d.metadata["source"] for d in docs))
        ndcg += ndcg_at(ranking, relevant, 10)
        recall += recall_at(ranking, relevant, 100)
    n = len(dataset.qrels)
    ours = evaluate_beir(
        SCIFACT, Settings(home=product_home), work_dir=product_home, progress_console=console
    )
    return {
        "queries": n,
        "baseline": {"ndcg@10": ndcg / n, "recall@100": recall / n, "index_seconds": index_seconds},
        "product": ours.methods,
    }


def main(product_home: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        qa = corpus_qa(work)
        sci = scifact(work, product_home or work / "product-scifact")
    console.print(
        table(
            "Naive LangChain baseline vs kb-bot",
            ["Measure", "Baseline (split 1000/200, MiniLM, Chroma, k=4)", "kb-bot"],
            [
                [
                    "Corpus QA: evidence in top-4 / citations",
                    f"{qa['baseline_evidence_hit']:.1%}",
                    f"{qa['product_evidence_hit']:.1%}",
                ],
                [
                    "Corpus QA: abstains on unanswerable",
                    "never",
                    f"{qa['product_abstention_on_unanswerable']:.1%}",
                ],
                [
                    "SciFact nDCG@10",
                    f"{sci['baseline']['ndcg@10']:.3f}",
                    f"{sci['product']['hybrid']['ndcg@10']:.3f}",
                ],
                [
                    "SciFact Recall@100",
                    f"{sci['baseline']['recall@100']:.3f}",
                    f"{sci['product']['hybrid']['recall@100']:.3f}",
                ],
            ],
        )
    )
    result = {"corpus_qa": qa, "scifact": sci}
    save("baseline", result)
    return result


if __name__ == "__main__":
    main()
