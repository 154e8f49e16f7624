"""A linear map on question vectors, fitted so a question lands nearer the sentences that
answer it.

MiniLM places a question near sentences that say what it says; the sentence that
answers it often says something else ("What hardware was Vicuna trained on?" against
"…trained on 8 A100 GPUs"). A question's vector ``q`` is read as ``q + W q``, scaled to
unit length, where ``W`` is fitted on the dev split's questions (``kb eval fit``): a softmax
over each question's candidate sentences, the ones that hold its evidence the targets,
L2 on ``W`` so that with little data it stays near no change. Only the answerer's
sentence similarity (the ``dense`` feature) reads the adapted vector; retrieval does not
(measured on dev, it hardly changed which passages are read).

The idea is the one of Chroma's "embedding adapters" report: a query-side linear
transform learned from a few hundred relevance judgements.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

L2 = 0.01
"""Penalty on ``W``'s squared entries. 0.003, 0.01 and 0.03 gave the same out-of-fold
top-1 on the dev split (within half a point); see docs/measurements.md."""
TEMPERATURE = 0.05
"""Cosines are divided by this in the softmax: MiniLM's cosines of one question's
candidates spread over a few tenths."""
ITERATIONS = 100
"""At most this many L-BFGS steps: on the dev split (about 200 questions) the loss settles
before 50."""


@dataclass(frozen=True)
class QueryAdapter:
    """``q -> (q + W q) / |q + W q|`` for a question vector ``q``."""

    matrix: np.ndarray

    def __call__(self, vector: np.ndarray) -> np.ndarray:
        adapted = vector + self.matrix @ vector
        norm = float(np.linalg.norm(adapted))
        result: np.ndarray = (adapted / norm).astype(np.float32) if norm > 0 else vector
        return result

    def to_dict(self) -> dict[str, Any]:
        """The matrix as float16 bytes in base64 (384 x 384: about 400 kB of JSON)."""
        data = np.ascontiguousarray(self.matrix, dtype="<f2").tobytes()
        return {
            "shape": list(self.matrix.shape),
            "float16_base64": base64.b64encode(data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryAdapter:
        raw = base64.b64decode(data["float16_base64"])
        shape = tuple(int(n) for n in data["shape"])
        return cls(np.frombuffer(raw, dtype="<f2").reshape(shape).astype(np.float32))


Judged = tuple[np.ndarray, np.ndarray, np.ndarray]
"""One question: its vector ``(d,)``, its candidate sentences' vectors ``(n, d)``, and
which of them answer it ``(n,)`` (booleans)."""


def fit_query_adapter(
    questions: Sequence[Judged],
    l2: float = L2,
    temperature: float = TEMPERATURE,
    iterations: int = ITERATIONS,
) -> QueryAdapter:
    """Fit ``W`` by L-BFGS, starting from no change (``W = 0``).

    The loss is each question's negative log share of softmax mass on its answering
    sentences (cosines over ``temperature``), averaged, plus ``l2`` times the squared
    entries of ``W``. Questions with no answering candidate are left out; with none at
    all, ``W`` stays 0.

    Raises:
        ValueError: ``questions`` is empty (nothing says how long a vector is).
    """
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    if not questions:
        raise ValueError("no questions to fit a question adapter on")
    dimensions = questions[0][0].shape[0]
    used = [q for q in questions if q[2].any()]
    if not used:
        return QueryAdapter(np.zeros((dimensions, dimensions), dtype=np.float32))
    count = len(used)
    width = max(len(q[1]) for q in used)
    vectors = np.vstack([q[0] for q in used]).astype(np.float64)
    sentences = np.zeros((count, width, dimensions))
    present = np.zeros((count, width), dtype=bool)
    answers = np.zeros((count, width), dtype=bool)
    for row, (_, candidates, labels) in enumerate(used):
        sentences[row, : len(candidates)] = candidates
        present[row, : len(candidates)] = True
        answers[row, : len(labels)] = labels

    def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
        matrix = flat.reshape(dimensions, dimensions)
        moved = vectors + vectors @ matrix.T
        norms = np.linalg.norm(moved, axis=1, keepdims=True)
        adapted = moved / norms
        logits = np.einsum("nmd,nd->nm", sentences, adapted) / temperature
        every, every_share = _log_softmax_mass(np.where(present, logits, -np.inf))
        right, right_share = _log_softmax_mass(np.where(answers, logits, -np.inf))
        loss = float(np.mean(every - right)) + l2 * float(np.sum(matrix * matrix))
        toward = np.einsum("nm,nmd->nd", every_share - right_share, sentences)
        toward /= temperature * count
        along = (toward - adapted * np.sum(adapted * toward, axis=1, keepdims=True)) / norms
        gradient = along.T @ vectors + 2 * l2 * matrix
        return loss, gradient.ravel()

    fitted = minimize(
        loss_and_gradient,
        np.zeros(dimensions * dimensions),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": iterations},
    )
    return QueryAdapter(fitted.x.reshape(dimensions, dimensions).astype(np.float32))


def _log_softmax_mass(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, ``log sum exp`` of the finite logits and each one's share of it."""
    top = logits.max(axis=1, keepdims=True)
    weights = np.exp(logits - top)
    total = weights.sum(axis=1, keepdims=True)
    return top[:, 0] + np.log(total[:, 0]), weights / total
