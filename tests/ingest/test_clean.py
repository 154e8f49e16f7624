"""Cleaning: mojibake repaired, correct typography kept, page chrome gone, text kept."""

from __future__ import annotations

import re
from typing import Any

import ftfy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.clean import _fix_text, clean, normalise_whitespace, repair_encoding, strip_chrome
from tests.conftest import CORPUS, DEBATE, GPT_J


def test_greek_western_mojibake_becomes_a_curly_quote() -> None:
    raw = (CORPUS / GPT_J).read_text(encoding="utf-8")
    assert "β€œopen supply”" in raw  # the damage as received

    text = clean(raw).text

    assert "“open supply”" in text
    assert "β€" not in text and "€" not in text


def test_common_western_mojibake_is_repaired() -> None:
    assert (
        repair_encoding("It\u00e2\u20ac\u2122s a \u00e2\u20ac\u0153test\u00e2\u20ac\u009d")
        == "It’s a “test”"
    )
    assert repair_encoding("caf\u00c3\u00a9") == "café"


def test_correct_curly_quotes_apostrophes_and_dashes_are_kept() -> None:
    text = "Let’s see – the “best” approach — isn’t it?"
    assert repair_encoding(text) == text


def test_greek_text_is_left_alone() -> None:
    text = "Η τεχνητή νοημοσύνη (β-έκδοση) κοστίζει 5€."
    assert repair_encoding(text) == text


def test_page_chrome_is_removed_and_article_text_kept() -> None:
    raw = (CORPUS / DEBATE).read_text(encoding="utf-8")

    text = clean(raw).text
    lines = set(text.split("\n"))

    for chrome in ("Share", "Written By:", "Read more", "Related News"):
        assert chrome not in lines
    assert "Open-source LLMs allow anyone to access their code" in text
    assert text.rstrip().endswith("creating an AI ecosystem that benefits everyone.")


def test_comment_form_tail_is_removed() -> None:
    raw = (CORPUS / GPT_J).read_text(encoding="utf-8")

    text = clean(raw).text

    for chrome in (
        "LEAVE A REPLY",
        "Please enter your comment!",
        "Please enter your name here",
        "ULTIMI POST",
        "Most popular",
    ):
        assert chrome not in text
    assert text.endswith("driving AI progress.")


def test_a_chrome_word_inside_a_sentence_stays() -> None:
    text = "Share\nWe share models.\nRead more about it below.\nRelated News"
    assert strip_chrome(text).split("\n") == ["We share models.", "Read more about it below."]


def test_leading_date_line_becomes_the_publication_date() -> None:
    cleaned = clean((CORPUS / DEBATE).read_text(encoding="utf-8"))

    assert cleaned.published == "2025-02-22"
    assert not cleaned.text.startswith("Saturday")


def test_whitespace_is_normalised() -> None:
    cleaned = clean("Title\r\n\r\n\r\n\r\nA  line\u00a0with   spaces.\t\nNext\u200b line.")
    assert cleaned.text == "Title\n\nA line with spaces.\nNext line."


# The fast paths below must give exactly what the straightforward code gave.
_AWKWARD = st.lists(
    st.sampled_from(
        [
            *"ab <&;\n\t\r\x0b\x0c\x1c\x85\u2028\u00a0\u3000\u200bé",
            *("&amp;", "&lt;", "Ã©", "â€™", "\x1b[31m", "ﬁ", "Ａ", "<b>", "\u00e2\u20ac\u0153"),
            *("e\u0301", "\u212b", "Ĳ", "ｱ", "\x92", "\u206a", "\ufeff", "\U000e0041", "€"),
            *("РџСЂРёРІРµС‚", "Привет", "Î±Î²", "naïve", "한", "\u1100\u1161", "ß"),
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=600, deadline=None)
@given(_AWKWARD)
def test_skipping_lines_ftfy_leaves_alone_gives_what_ftfy_gives(text: str) -> None:
    assert _fix_text(text) == ftfy.fix_text(text, uncurl_quotes=False, fix_latin_ligatures=True)


@settings(max_examples=300, deadline=None)
@given(_AWKWARD)
def test_whole_text_whitespace_passes_give_what_line_by_line_gave(text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", text)
    spaces = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
    lines = [spaces.sub(" ", line).strip() for line in text.split("\n")]
    expected = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

    assert normalise_whitespace(text) == expected


@settings(max_examples=300, deadline=None)
@given(_AWKWARD | st.text(max_size=200))
def test_cleaned_text_is_normalised(text: str) -> None:
    cleaned = clean(text).text

    assert normalise_whitespace(cleaned) == cleaned


def test_only_lines_ftfy_could_change_go_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # ftfy costs ~20 µs a line: a 20 MB hard-wrapped file spent 7 s there.
    segments: list[str] = []
    real = ftfy.fix_and_explain

    def counting(text: str, *args: Any, **kwargs: Any) -> Any:
        segments.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(ftfy, "fix_and_explain", counting)
    wrapped = "Kelp forests grow up to half a metre a day\nin the summer months.\n" * 2_000

    text = clean(wrapped + "It\u00e2\u20ac\u2122s a caf\u00c3\u00a9 &amp; bar.\n" + wrapped).text

    assert "It’s a café & bar." in text
    assert len(segments) == 1 and segments[0].endswith("&amp; bar.\n")  # not 4,001 lines
