"""``kb eval``: the shipped question set, the quality bar it measures, and BEIR scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import KnowledgeBase
from bot.evaluation.beir import evaluate_beir, ndcg_at, recall_at
from bot.evaluation.qa import default_question_set, evaluate_qa, load_questions, normalise
from ingest.clean import clean
from tests.bot.test_cli import _kb
from tests.conftest import CORPUS, make_settings


def test_the_shipped_question_set_is_well_formed() -> None:
    questions = load_questions(default_question_set())
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    cleaned = {p.name: normalise(clean(p.read_text("utf-8")).text) for p in CORPUS.glob("*.txt")}

    assert len(answerable) >= 30 and len(unanswerable) >= 20
    assert len({q.id for q in questions}) == len(questions)
    assert sum(q.kind == "spun" for q in answerable) >= 12
    for q in answerable:
        assert q.evidence and q.keywords, q.id
        # The first evidence string is in the article the question names.
        assert normalise(q.evidence[0]) in cleaned[Path(q.source or "").name], q.id
        for evidence in q.evidence:
            assert any(normalise(evidence) in text for text in cleaned.values()), evidence


def test_answers_meet_the_quality_bar_on_the_shipped_set(corpus_kb: KnowledgeBase) -> None:
    metrics = evaluate_qa(corpus_kb, default_question_set()).metrics()

    assert metrics["evidence_in_citations"] >= 0.95
    assert metrics["keywords_in_answer"] >= 0.85
    assert metrics["abstention_on_unanswerable"] >= 0.90
    assert metrics["false_abstentions"] <= 0.05


def test_eval_qa_json_reports_metrics_and_failures(
    corpus_kb: KnowledgeBase, model_cache: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "two.jsonl"
    rows = [
        {
            "question": "How big is DeepMind's Gopher model?",
            "answerable": True,
            "evidence": ["280 billion parameter Gopher"],
            "keywords": ["280 billion"],
        },
        {"question": "How do I bake bread?", "answerable": False},
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")

    result = _kb(["eval", "qa", str(questions), "--json"], corpus_kb.settings.home, model_cache)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["metrics"]["evidence_in_citations"] == 1.0
    assert data["metrics"]["abstention_on_unanswerable"] == 1.0
    assert data["failures"] == []


def test_eval_qa_rejects_a_malformed_question_set(
    corpus_kb: KnowledgeBase, model_cache: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "no answerable field"}\n', encoding="utf-8")

    result = _kb(["eval", "qa", str(broken)], corpus_kb.settings.home, model_cache)

    assert result.returncode == 1
    assert "broken.jsonl:1" in result.stderr


def test_ranking_metrics() -> None:
    relevant = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b", "c"], relevant) == pytest.approx(1.0)
    assert ndcg_at(["c", "a"], {"a": 1}) == pytest.approx(1 / 1.5849625, rel=1e-6)
    assert recall_at(["x", "a"], relevant, 100) == 0.5
    assert recall_at(["a"], {}, 100) == 0.0


def _write_beir(folder: Path) -> None:
    docs = {
        "d1": ("Gopher", "DeepMind trained Gopher, a language model with 280 billion parameters."),
        "d2": ("Bread", "Sourdough bread rises because wild yeast ferments the dough overnight."),
        "d3": ("Tides", "Ocean tides are caused by the gravitational pull of the moon and sun."),
    }
    queries = {"q1": "How many parameters does Gopher have?", "q2": "Why does sourdough rise?"}
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "title": t, "text": x}) for i, (t, x) in docs.items()),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": i, "text": t}) for i, t in queries.items()), encoding="utf-8"
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8"
    )


def test_beir_evaluation_ingests_through_the_pipeline_and_scores_every_method(
    tmp_path: Path, model_cache: Path
) -> None:
    dataset = tmp_path / "tiny"
    _write_beir(dataset)
    settings = make_settings(tmp_path / "kb", model_cache)

    result = evaluate_beir(dataset, settings)

    assert result.queries == 2 and result.chunks == 3
    assert set(result.methods) == {"dense", "bm25", "hybrid"}
    for values in result.methods.values():
        assert values["ndcg@10"] == pytest.approx(1.0)
        assert values["recall@100"] == pytest.approx(1.0)
    payload = result.to_dict()
    assert payload["dataset"] == "tiny" and payload["queries"] == 2
    assert set(payload["methods"]["hybrid"]) == {"ndcg@10", "recall@100"}
