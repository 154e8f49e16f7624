"""The answerer's small models: fitted weights keep the signs they are given."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from bot.evaluation.fit import SENTENCE_SIGNS, answerability_weights
from bot.evaluation.qa import Question
from bot.features import SENTENCE_FEATURES
from bot.linear import fit_choice, fit_monotone


def _groups(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    """Questions of five candidate rows: the right row stands out on ``support`` and,
    in this data, happens to score lower on ``echo``."""
    groups = []
    for _ in range(60):
        rows = rng.normal(size=(5, 2))
        right = int(rng.integers(5))
        rows[right, 0] += 2.5  # support
        rows[right, 1] -= 2.0  # echo
        positives = np.zeros(5, dtype=bool)
        positives[right] = True
        groups.append((rows, positives))
    return groups


def test_a_free_choice_model_follows_the_data() -> None:
    model = fit_choice(_groups(np.random.default_rng(0)), ("support", "echo"), l2=0.1)

    assert model.weights[0] > 0
    assert model.weights[1] < 0


def test_a_weight_that_would_take_the_wrong_sign_is_left_out() -> None:
    groups = _groups(np.random.default_rng(0))

    model = fit_choice(groups, ("support", "echo"), l2=0.1, signs={"echo": 1})

    assert model.weights[1] == 0.0
    assert model.weights[0] > 0
    scores = [model.logits(rows) for rows, _ in groups]
    assert np.mean([s.argmax() == p.argmax() for s, (_, p) in zip(scores, groups)]) > 0.6


def test_every_sentence_sign_names_a_feature() -> None:
    assert set(SENTENCE_SIGNS) <= set(SENTENCE_FEATURES)
    assert SENTENCE_SIGNS["contrast"] == -1  # the opposite side (closed when open is asked)


def _sample(kind: str) -> Any:
    answerable = kind not in ("near_miss", "out_of_scope")
    return SimpleNamespace(question=Question(kind, kind, answerable, [], [], kind=kind))


def test_out_of_scope_questions_weigh_together_as_much_as_near_misses() -> None:
    kinds = ["factoid"] * 6 + ["near_miss"] * 2 + ["out_of_scope"] * 8
    weights = answerability_weights([_sample(k) for k in kinds])

    assert list(weights[:8]) == [1.0] * 8
    assert weights[8:].sum() == 2.0  # the near misses' total
    few = answerability_weights([_sample(k) for k in ["near_miss"] * 3 + ["out_of_scope"]])
    assert list(few) == [1.0] * 4  # never more than one question's weight


def test_a_weighted_fit_leans_toward_the_heavier_rows() -> None:
    rows = np.array([[0.0], [0.0], [1.0], [1.0]])
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    plain = fit_monotone(rows, labels, ("support",), {}, l2=0.1)
    weighted = fit_monotone(rows, labels, ("support",), {}, 0.1, np.array([3.0, 1.0, 1.0, 3.0]))

    assert abs(plain.weights[0]) < 1e-6
    assert weighted.weights[0] < 0  # the heavy rows say support goes with no answer
