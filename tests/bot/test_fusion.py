"""Score fusion: standardised scores, so a confident ranker outweighs an unsure one."""

from __future__ import annotations

import numpy as np

from bot.fusion import fuse, standardise


def test_a_standout_lexical_match_beats_a_flat_dense_ranking() -> None:
    # Dense barely separates the candidates; BM25 is sure about the last one.
    dense = np.array([0.52, 0.51, 0.50, 0.50])
    lexical = np.array([0.0, 0.0, 0.0, 9.0])

    assert int(np.argmax(fuse(dense, lexical))) == 3


def test_fusion_keeps_the_order_both_rankers_agree_on() -> None:
    dense = np.array([0.9, 0.5, 0.1])
    lexical = np.array([7.0, 3.0, 0.0])

    assert list(np.argsort(-fuse(dense, lexical))) == [0, 1, 2]


def test_constant_or_single_scores_do_not_divide_by_zero() -> None:
    assert standardise(np.array([3.0, 3.0])).tolist() == [0.0, 0.0]
    assert standardise(np.array([1.5])).tolist() == [0.0]
    assert standardise(np.array([])).tolist() == []
