"""A small L2-regularised logistic regression: fitted with numpy, stored as JSON.

The answerer's models are a few dozen numbers each, fitted on the development
split by ``kb eval fit`` and shipped in ``bot/answer_model.json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.query_adapter import QueryAdapter


@dataclass(frozen=True)
class LogisticModel:
    """``P(y=1 | x) = sigmoid(w · (x - mean) / scale + b)``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    intercept: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        x = (np.atleast_2d(rows) - self.mean) / self.scale
        result: np.ndarray = x @ self.weights + self.intercept
        return result

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logits(rows))

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": self.mean.round(8).tolist(),
            "scale": self.scale.round(8).tolist(),
            "weights": self.weights.round(8).tolist(),
            "intercept": round(self.intercept, 8),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogisticModel:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["intercept"]),
        )


def fit_logistic(
    rows: np.ndarray,
    labels: np.ndarray,
    features: tuple[str, ...],
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
) -> LogisticModel:
    """Fit by Newton's method on standardised features; ``l2`` penalises the weights only."""
    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(100):
        p = _sigmoid(z @ beta)
        gradient = z.T @ (s * (p - y)) + penalty * beta
        hessian = (z * (s * p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return LogisticModel(features, mean, scale, beta[:-1].copy(), float(beta[-1]))


def fit_monotone(
    rows: np.ndarray,
    labels: np.ndarray,
    features: tuple[str, ...],
    signs: dict[str, int],
    l2: float = 1.0,
    sample_weight: np.ndarray | None = None,
) -> LogisticModel:
    """:func:`fit_logistic` with each weight's sign fixed (+1 or -1; features not named are free).

    A feature whose fitted weight comes out with the wrong sign (usually through
    its correlation with others) is dropped, weight 0, and the rest refitted,
    until every weight has its sign.
    """
    return _signed(
        lambda kept: fit_logistic(rows[:, kept], labels, _named(features, kept), l2, sample_weight),
        features,
        signs,
    )


def fit_choice(
    groups: list[tuple[np.ndarray, np.ndarray]],
    features: tuple[str, ...],
    l2: float = 1.0,
    signs: dict[str, int] | None = None,
) -> LogisticModel:
    """Fit a conditional logit: which row of each group is the right one.

    Each group is ``(rows, positives)`` for one question: ``P(row i) =
    softmax(w · x)_i`` over the group's rows, maximised for its positive rows
    (several positives share the credit). Convex; fitted by Newton's method.
    With ``signs``, each named feature's weight keeps its sign as in
    :func:`fit_monotone`: one that comes out the wrong way is dropped (weight 0)
    and the rest refitted.
    """
    if not signs:
        return _fit_choice(groups, features, l2)
    return _signed(
        lambda kept: _fit_choice(
            [(rows[:, kept], positives) for rows, positives in groups], _named(features, kept), l2
        ),
        features,
        signs,
    )


def _signed(
    fit: Callable[[list[int]], LogisticModel], features: tuple[str, ...], signs: dict[str, int]
) -> LogisticModel:
    """``fit`` (on the features at the positions given) until every weight named in ``signs``
    has its sign: the feature furthest the wrong way is dropped and the rest refitted."""
    kept = list(range(len(features)))
    while True:
        model = fit(kept)
        wrong = [i for i, w in zip(kept, model.weights) if signs.get(features[i], 0) * w < 0]
        if not wrong:
            return _widened(model, features, kept)
        kept.remove(max(wrong, key=lambda i: abs(model.weights[kept.index(i)])))


def _named(features: tuple[str, ...], kept: list[int]) -> tuple[str, ...]:
    return tuple(features[i] for i in kept)


def _widened(model: LogisticModel, features: tuple[str, ...], kept: list[int]) -> LogisticModel:
    """``model`` (fitted on the features at ``kept``) over every feature, the others at 0."""
    weights = np.zeros(len(features))
    mean = np.zeros(len(features))
    scale = np.ones(len(features))
    for j, i in enumerate(kept):
        weights[i], mean[i], scale[i] = model.weights[j], model.mean[j], model.scale[j]
    return LogisticModel(features, mean, scale, weights, model.intercept)


def _fit_choice(
    groups: list[tuple[np.ndarray, np.ndarray]], features: tuple[str, ...], l2: float
) -> LogisticModel:
    stacked = np.vstack([rows for rows, _ in groups])
    mean = stacked.mean(axis=0)
    scale = stacked.std(axis=0)
    scale[scale < 1e-9] = 1.0
    data = [((rows - mean) / scale, positives.astype(bool)) for rows, positives in groups]
    data = [(z, pos) for z, pos in data if pos.any() and not pos.all()]

    def loss(w: np.ndarray) -> float:
        total = 0.5 * l2 * float(w @ w)
        for z, pos in data:
            s = z @ w
            top = float(s.max())
            total -= float(s[pos].mean()) - (top + float(np.log(np.exp(s - top).sum())))
        return total

    w = np.zeros(len(features))
    current = loss(w)
    for _ in range(100):
        gradient = l2 * w
        hessian = np.diag(np.full(len(w), l2 + 1e-9))
        for z, pos in data:
            p = _softmax(z @ w)
            expected = p @ z
            gradient -= z[pos].mean(axis=0) - expected
            centred = z - expected
            hessian += (centred * p[:, None]).T @ centred
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-4:  # backtrack until the loss goes down
            candidate = w - size * step
            value = loss(candidate)
            if value <= current:
                break
            size /= 2
        else:
            break
        w, improvement, current = candidate, current - value, value
        if improvement < 1e-9:
            break
    return LogisticModel(features, mean, scale, w, 0.0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over one question's candidates."""
    return _softmax(np.asarray(logits, dtype=np.float64))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    result: np.ndarray = e / e.sum()
    return result


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
    return result


@dataclass(frozen=True)
class AnswerModel:
    """The extractive answerer's fitted parts.

    Attributes:
        sentence: Which sentence states the answer (a conditional logit: softmax over a
            question's candidate sentences).
        answerable: Probability that the best sentence answers the question.
        threshold: Answer when ``answerable`` reaches this.
        keep: A sentence from a passage not yet cited is quoted too when its probability
            reaches ``keep`` x the best's.
        keep_in_passage: The same for a sentence of a passage already cited (it adds
            words to the quote but no citation).
        provenance: How and on what it was fitted (file digests, cross-validation scores).
        query_adapter: Moves a question's vector toward the sentences that answer such
            questions, for the sentence similarity the sentence model reads (None: as
            embedded, what models fitted before it had).
    """

    sentence: LogisticModel
    answerable: LogisticModel
    threshold: float
    keep: float
    keep_in_passage: float
    provenance: dict[str, Any] = field(default_factory=dict)
    query_adapter: QueryAdapter | None = None

    def sentence_query(self, vector: np.ndarray) -> np.ndarray:
        """The question vector sentences are compared with (see :attr:`query_adapter`)."""
        return vector if self.query_adapter is None else self.query_adapter(vector)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence.to_dict(),
            "answerable": self.answerable.to_dict(),
            "threshold": round(self.threshold, 6),
            "keep": round(self.keep, 6),
            "keep_in_passage": round(self.keep_in_passage, 6),
            "provenance": self.provenance,
            **(
                {"query_adapter": self.query_adapter.to_dict()}
                if self.query_adapter is not None
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerModel:
        return cls(
            LogisticModel.from_dict(data["sentence"]),
            LogisticModel.from_dict(data["answerable"]),
            float(data["threshold"]),
            float(data["keep"]),
            float(data.get("keep_in_passage", data["keep"])),
            dict(data.get("provenance", {})),
            QueryAdapter.from_dict(data["query_adapter"]) if "query_adapter" in data else None,
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None) -> AnswerModel:
        """The shipped model, or the one in ``path``."""
        location = path or default_model_path()
        return cls.from_dict(json.loads(location.read_text(encoding="utf-8")))


def default_model_path() -> Path:
    return Path(str(resources.files("bot"))) / "answer_model.json"
