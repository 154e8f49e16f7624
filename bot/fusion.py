"""Fusing the dense and lexical scores of the same candidates into one ranking."""

from __future__ import annotations

import numpy as np

RRF_K = 60


def fuse(dense: np.ndarray, lexical: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion of two score arrays over the same candidates."""
    fused: np.ndarray = _rrf(dense) + _rrf(lexical)
    return fused


def _rrf(scores: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    result: np.ndarray = 1.0 / (RRF_K + ranks)
    return result
