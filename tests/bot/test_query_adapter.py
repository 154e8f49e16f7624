"""The question adapter: fitted on judged questions, it ranks answers above echoes of the
question for questions it never saw; stored compactly; absent, nothing changes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from bot.linear import AnswerModel
from bot.query_adapter import Judged, QueryAdapter, fit_query_adapter

DIMENSIONS = 16


def _unit(rows: np.ndarray) -> np.ndarray:
    unit: np.ndarray = rows / np.linalg.norm(rows, axis=-1, keepdims=True)
    return unit


def _judged_questions(count: int, seed: int) -> list[Judged]:
    """Questions whose answer says something else than they do (a fixed turn of the
    question's vector) among three sentences that echo the question's own words."""
    rng = np.random.default_rng(seed)
    turn = np.linalg.qr(np.random.default_rng(0).normal(size=(DIMENSIONS, DIMENSIONS)))[0]
    questions = []
    for _ in range(count):
        q = _unit(rng.normal(size=DIMENSIONS))
        answer = _unit(0.45 * q + turn @ q)
        echoes = _unit(q + 0.9 * rng.normal(size=(3, DIMENSIONS)) / np.sqrt(DIMENSIONS))
        sentences = np.vstack([echoes, answer]).astype(np.float32)
        questions.append((q.astype(np.float32), sentences, np.array([False, False, False, True])))
    return questions


def _answer_first(questions: list[Judged], adapter: Callable[[np.ndarray], np.ndarray]) -> float:
    return float(np.mean([labels[np.argmax(s @ adapter(q))] for q, s, labels in questions]))


def test_a_fitted_adapter_ranks_answers_above_echoes_for_questions_it_never_saw() -> None:
    unseen = _judged_questions(200, seed=2)
    as_embedded = _answer_first(unseen, lambda q: q)

    adapter = fit_query_adapter(_judged_questions(200, seed=1), l2=0.001)

    assert as_embedded < 0.3
    assert _answer_first(unseen, adapter) > 0.9


def test_with_nothing_to_learn_from_the_adapter_changes_nothing() -> None:
    questions = [(q, s, np.zeros(len(s), dtype=bool)) for q, s, _ in _judged_questions(5, seed=3)]

    adapter = fit_query_adapter(questions)

    q = questions[0][0]
    assert np.allclose(adapter(q), q)
    with pytest.raises(ValueError, match="no questions"):
        fit_query_adapter([])


def test_the_adapter_is_stored_as_float16_and_read_back() -> None:
    matrix = np.random.default_rng(4).normal(scale=0.05, size=(DIMENSIONS, DIMENSIONS))
    adapter = QueryAdapter(matrix.astype(np.float32))

    read = QueryAdapter.from_dict(adapter.to_dict())

    assert read.matrix.shape == (DIMENSIONS, DIMENSIONS)
    assert np.allclose(read.matrix, matrix, atol=1e-4)
    q = _unit(np.ones(DIMENSIONS))
    assert float(read(q) @ adapter(q)) > 0.9999


def test_a_model_fitted_before_adapters_reads_question_vectors_as_embedded() -> None:
    shipped = AnswerModel.load().to_dict()
    assert "query_adapter" in shipped  # the shipped model has one
    del shipped["query_adapter"]

    older = AnswerModel.from_dict(shipped)

    q = _unit(np.arange(1, 385, dtype=np.float32))
    assert older.query_adapter is None
    assert older.sentence_query(q) is q
    assert "query_adapter" not in older.to_dict()
    assert not np.allclose(AnswerModel.load().sentence_query(q), q)
