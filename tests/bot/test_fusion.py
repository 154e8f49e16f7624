"""Score fusion: standardised scores, so a confident ranker outweighs an unsure one."""

from __future__ import annotations

import numpy as np

from bot.fusion import fuse, standardise


def test_a_standout_lexical_match_beats_the_top_of_an_ordinary_dense_ranking() -> None:
    # 50 candidates: dense similarities spread as usual, one exact rare-term match in BM25.
    dense = np.linspace(0.60, 0.30, 50)
    lexical = np.tile([2.0, 1.0, 0.5, 0.0, 1.5], 10)
    lexical[20] = 15.0  # far outside BM25's usual range; its dense rank is only 21st

    fused = fuse(dense, lexical)

    assert int(np.argmax(fused)) == 20


def test_fusion_keeps_the_order_both_rankers_agree_on() -> None:
    dense = np.array([0.9, 0.5, 0.1])
    lexical = np.array([7.0, 3.0, 0.0])

    assert list(np.argsort(-fuse(dense, lexical))) == [0, 1, 2]


def test_constant_or_single_scores_do_not_divide_by_zero() -> None:
    assert standardise(np.array([3.0, 3.0])).tolist() == [0.0, 0.0]
    assert standardise(np.array([1.5])).tolist() == [0.0]
    assert standardise(np.array([])).tolist() == []
