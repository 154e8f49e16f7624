"""Word vectors for soft term matching: embedded once per word, kept on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import bot.word_vectors as word_vectors
from bot.features import SENTENCE_FEATURES, candidates
from bot.question import Question
from bot.retrieve import Passage
from bot.terms import content_words
from bot.word_vectors import WordVectors
from ingest.models import Span
from ingest.store import StoredChunk
from tests.fake_embedder import EMBED


class CountingEmbed:
    """The fake embedder, remembering every word it was asked to embed."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.asked.extend(texts)
        return EMBED(texts)


def test_each_word_is_embedded_once() -> None:
    embed = CountingEmbed()
    words = WordVectors(embed)

    first = words.rows(["cheaper", "costs"])
    again = words.rows(["costs", "prices", "costs"])

    assert sorted(embed.asked) == ["cheaper", "costs", "prices"]
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[1])


def test_words_embedded_once_are_read_back_by_the_next_process(tmp_path: Path) -> None:
    WordVectors(CountingEmbed(), tmp_path).rows(["cheaper", "costs"])
    embed = CountingEmbed()

    vectors = WordVectors(embed, tmp_path).rows(["cheaper", "costs", "prices"])

    assert embed.asked == ["prices"]
    assert float(vectors[1] @ EMBED(["costs"])[0]) == pytest.approx(1.0, abs=1e-3)


def test_an_unreadable_file_is_skipped_and_its_words_embedded_again(tmp_path: Path) -> None:
    WordVectors(CountingEmbed(), tmp_path).rows(["cheaper"])
    (tmp_path / "00000000000000000000-broken.npz").write_bytes(b"not a zip file")
    embed = CountingEmbed()

    vectors = WordVectors(embed, tmp_path).rows(["cheaper", "costs"])

    assert embed.asked == ["costs"]
    assert vectors.shape[0] == 2


def test_many_small_files_are_merged_into_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(word_vectors, "_MAX_FILES", 3)
    words = WordVectors(CountingEmbed(), tmp_path)
    for word in ("alpha", "beta", "gamma", "delta"):
        words.rows([word])

    assert len(list(tmp_path.glob("*.npz"))) == 1
    embed = CountingEmbed()
    WordVectors(embed, tmp_path).rows(["alpha", "beta", "gamma", "delta"])
    assert embed.asked == []


def test_a_home_it_cannot_write_still_answers(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would go")

    vectors = WordVectors(CountingEmbed(), blocked / "words").rows(["costs"])

    assert vectors.shape[0] == 1


def test_content_words_are_unstemmed_and_skip_question_words() -> None:
    assert content_words("Why were GPT-J's hosting costs high in 2021?") == {
        "gpt",
        "hosting",
        "costs",
        "high",
    }


def test_a_run_of_characters_no_word_is_that_long_is_not_embedded() -> None:
    blob = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NCBibG9iIGluIGFuIGFydGljbGU" * 4

    assert content_words(f"The key is {blob}.") == {"key"}


def _passage(text: str, section: str = "") -> Passage:
    spans, start = [], 0
    for sentence in text.split(". "):
        spans.append(Span(start, start + len(sentence)))
        start += len(sentence) + 2
    chunk = StoredChunk(
        id="a#0",
        source_id="a",
        title="An article",
        section=section,
        text=text,
        start=0,
        end=len(text),
        position=0,
        header="",
        sentences=tuple(spans),
    )
    return Passage(chunk, 1.0, 0.5, 1.0)


def test_soft_coverage_is_one_for_a_sentence_with_every_question_word() -> None:
    passage = _passage("Hosting costs exploded. The weather was fine")
    vectors = {"a#0": EMBED(["Hosting costs exploded.", "The weather was fine"])}
    question = Question.analyse("Why did hosting costs explode?", lambda term: 1.0)
    soft = SENTENCE_FEATURES.index("soft_coverage")

    found = candidates(
        question,
        EMBED([question.text])[0],
        [passage],
        vectors,
        word_vectors=WordVectors(EMBED).rows,
    )
    without = candidates(question, EMBED([question.text])[0], [passage], vectors)

    assert found[0].features[soft] == pytest.approx(2 / 3, abs=1e-3)  # "explode" ≠ "exploded"
    assert found[0].features[soft] > found[1].features[soft]
    assert without[0].features[soft] == 0.0
