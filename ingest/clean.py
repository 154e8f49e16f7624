"""Stage 2: repair text encoding damage and strip web-page chrome.

Pure functions over strings. The goal is the article as its author wrote it:
mojibake repaired, whitespace normalised, share buttons, comment forms and
"related posts" tails removed, and nothing of the article itself dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import ftfy


@dataclass(frozen=True)
class CleanText:
    text: str
    published: str | None = None
    """A publication date found as a lone line at the top (removed from the text)."""


def clean(text: str) -> CleanText:
    """Repair, normalise and de-chrome one article's text.

    Example:
        >>> clean("Share\\n\\nIt is “fine”.\\n\\nLEAVE A REPLY\\nPlease enter your name here").text
        'It is “fine”.'
    """
    text = repair_encoding(text)
    text = normalise_whitespace(text)
    text, published = _take_leading_date(text)
    text = strip_chrome(text)
    # Whole lines went, each already normalised: only blank-line runs and the ends can change.
    return CleanText(_MANY_NEWLINES.sub("\n\n", text).strip(), published)


# --- encoding repair -------------------------------------------------------------


# Text that was UTF-8 but got decoded with a Windows code page shows each
# multi-byte character as 2-4 odd characters. ftfy repairs the Western cases
# (`â€™` -> `’`), but not a Greek/Western mix such as `β€œ` (E2 read as Greek
# beta, 9C as Western oe), so map every character back to its byte through
# both code pages and re-decode runs that form one valid UTF-8 sequence.
def _byte_map() -> dict[str, int]:
    mapping: dict[str, int] = {}
    for codec in ("cp1252", "cp1253", "latin-1"):
        for byte in range(0x80, 0x100):
            try:
                char = bytes([byte]).decode(codec)
            except UnicodeDecodeError:
                continue
            mapping.setdefault(char, byte)
    return mapping


_BYTE_OF = _byte_map()
_LEAD = "".join(re.escape(c) for c, b in _BYTE_OF.items() if 0xC2 <= b <= 0xF4)
_CONT = "".join(re.escape(c) for c, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
_MOJIBAKE_RUN = re.compile(f"[{_LEAD}][{_CONT}]{{1,3}}")
_PLAUSIBLE = {"Pd", "Pi", "Pf", "Po", "Ps", "Pe", "Sc", "So", "Sm", "Zs"}


def _redecode(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        fixed = bytes(_BYTE_OF[c] for c in run).decode("utf-8")
    except UnicodeDecodeError:
        return run
    if len(fixed) != 1:
        return run
    category = unicodedata.category(fixed)
    is_latin_letter = "\u00c0" <= fixed <= "\u024f"
    return fixed if category in _PLAUSIBLE or is_latin_letter else run


def repair_encoding(text: str) -> str:
    """Fix mojibake while keeping correct curly quotes and apostrophes."""
    text = _MOJIBAKE_RUN.sub(_redecode, text)
    return _fix_text(text)


# ftfy costs ~20 µs a line, whatever the line holds: a 20 MB hard-wrapped file
# spent 7 s there, 10 s if accented. It changes nothing in a line of printable
# ASCII without "&" (no mojibake, entity, control or escape character), nor in
# one that its own mojibake test passes, that is in NFC, and that holds none of
# the characters its other fixes replace; only the other lines go through it.
_FTFY_MAY_CHANGE = re.compile(r"[^\n\x20-\x25\x27-\x7e]")


def _ftfy_targets() -> re.Pattern[str] | None:
    """The characters ftfy's fixes other than mojibake repair replace (None: unknown)."""
    try:
        from ftfy import chardata

        tables = (chardata.LIGATURES, chardata.WIDTH_MAP, chardata.CONTROL_CHARS)
    except (ImportError, AttributeError):  # another ftfy: send every such line through it
        return None
    chars = {chr(code) for table in tables for code in table}
    chars |= set("&\x1b\r\x85\u2028\u2029")  # entities, escapes, line breaks
    ranges = "\x80-\x9f\ud800-\udfff"  # C1 controls, surrogates
    return re.compile("[" + ranges + "".join(re.escape(c) for c in sorted(chars)) + "]")


_FTFY_TARGETS = _ftfy_targets()


def _ftfy_leaves_alone(line: str) -> bool:
    if _FTFY_TARGETS is None or _FTFY_TARGETS.search(line) is not None:
        return False
    from ftfy.badness import is_bad

    return unicodedata.is_normalized("NFC", line) and not is_bad(line)


def _fix_text(text: str) -> str:
    """``ftfy.fix_text`` (quotes kept curly), skipping the lines it would leave alone."""
    found = _FTFY_MAY_CHANGE.search(text)
    if found is None:
        return text
    out: list[str] = []
    copied = 0
    # ftfy stops unescaping HTML entities for good after a line holding "<"; so do we.
    markup = False
    while found is not None:
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.find("\n", found.start()) + 1 or len(text)
        line = text[start:end]
        if not _ftfy_leaves_alone(line):
            markup = markup or text.find("<", copied, start) >= 0
            out.append(text[copied:start])
            out.append(
                ftfy.fix_text(
                    line,
                    uncurl_quotes=False,
                    fix_latin_ligatures=True,
                    unescape_html=False if markup else "auto",
                )
            )
            markup = markup or "<" in line
            copied = end
        found = _FTFY_MAY_CHANGE.search(text, end)
    out.append(text[copied:])
    return "".join(out)


# --- whitespace ------------------------------------------------------------------

_SPACE_CHARS = " \t\u00a0\u2000-\u200a\u202f\u205f\u3000"
_SPACES = re.compile(f"[{_SPACE_CHARS}]+")
_SPACE_NOT_SPACE = re.compile("[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_DOUBLE_SPACES = re.compile("  +")
_OTHER_SPACE = re.compile(f"[^\\S\\n{_SPACE_CHARS}]")
"""Whitespace that ``_SPACES`` leaves but ``str.strip`` removes (form feed, U+2028...)."""
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def normalise_whitespace(text: str) -> str:
    r"""Runs of spaces become one space, lines are stripped, at most one blank line in a row.

    Example:
        >>> normalise_whitespace("  a \t b  \r\n\n\n\n c ")
        'a b\n\nc'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    if _OTHER_SPACE.search(text) is None:
        # Whole-text passes, each replacing only what needs it (a lone space is most of
        # the matches of _SPACES); then a line can only begin or end with one space.
        text = _DOUBLE_SPACES.sub(" ", _SPACE_NOT_SPACE.sub(" ", text))
        text = text.replace(" \n", "\n").replace("\n ", "\n")
    else:
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_NEWLINES.sub("\n\n", text).strip()


# --- page chrome -----------------------------------------------------------------

_CHROME_LINES = [
    r"share( this( article| post| story)?| on \w+)?:?",
    r"(tweet|pin( it)?|print|email|facebook|twitter|linkedin|whatsapp|pinterest|telegram|reddit)",
    r"(leave a (reply|comment)|post a comment|add a comment|\d* ?comments?|no comments( yet)?)",
    r"please enter your (comment|name|email( address)?)( here)?!?",
    r"you have entered an incorrect email address!?",
    r"save my name,? email,? and website in this browser for the next time i comment\.?",
    r"related( news| posts?| articles?| stories)?:?",
    r"(read more|read next|continue reading|click here to read more)( ?[»›>→]+)?",
    r"(written|posted|published) by:?",
    r"(ultimi post|most popular|popular posts|recent posts|latest posts|trending( now)?)",
    r"(you may also like|more from (this )?author|more stories|recommended for you)",
    r"(subscribe( to our newsletter)?|sign up for our newsletter|advertisement|sponsored)",
    r"(skip to (main )?content|menu|home|search)",
    r"[-–—•·|*_=~#]+",
]
_CHROME = re.compile(r"^(?:" + "|".join(_CHROME_LINES) + r")$", re.IGNORECASE)

# Markers after which a page holds only comments and links to other articles.
_TAIL_MARKERS = re.compile(
    r"^(leave a (reply|comment)|post a comment|related( news| posts?| articles?| stories)?:?"
    r"|ultimi post|most popular|you may also like|more from (this )?author)$",
    re.IGNORECASE,
)
_TAIL_FRACTION = 0.6  # markers count only in the last 40% of a page


def is_chrome(line: str) -> bool:
    """Whether a whole line (or paragraph) is page chrome: a share button, a comment form..."""
    return _CHROME.match(line) is not None


def is_tail_marker(line: str) -> bool:
    """Whether a line starts the comments or "related posts" tail of a page."""
    return _TAIL_MARKERS.match(line) is not None


def strip_chrome(text: str) -> str:
    """Drop share buttons, comment forms and "related posts" tails; keep the article."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if index >= _TAIL_FRACTION * len(lines) and _TAIL_MARKERS.match(line):
            cut = index
            break
    kept = [line for line in lines[:cut] if not _CHROME.match(line)]
    return "\n".join(kept)


# --- a publication date on a line of its own at the top -------------------------

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE_LINE = re.compile(
    rf"^{_WEEKDAY}(?:(?P<m1>{_MONTHS})\.?\s+(?P<d1>\d{{1,2}}),?\s+(?P<y1>\d{{4}})"
    rf"|(?P<d2>\d{{1,2}})\s+(?P<m2>{_MONTHS})\.?,?\s+(?P<y2>\d{{4}})"
    rf"|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})-(?P<d3>\d{{2}}))$",
    re.IGNORECASE,
)
_MONTH_NUMBER = {name: i % 12 + 1 for i, name in enumerate(_MONTHS.split("|")[:12])}
_MONTH_NUMBER.update(
    {name: n for name, n in zip(_MONTHS.split("|")[12:], (1, 2, 3, 4, 6, 7, 8, 9, 9, 10, 11, 12))}
)


def _take_leading_date(text: str) -> tuple[str, str | None]:
    lines = text.split("\n", 3)  # only the top can hold it; the rest is not copied
    for index, line in enumerate(lines[:3]):
        if not line:
            continue
        match = _DATE_LINE.match(line)
        if match is None:
            return text, None
        return "\n".join(lines[:index] + lines[index + 1 :]), _iso_date(match)
    return text, None


def leading_date(line: str) -> str | None:
    """The ISO date a line consisting only of a date stands for, else None."""
    match = _DATE_LINE.match(line)
    return _iso_date(match) if match else None


def _iso_date(match: re.Match[str]) -> str | None:
    parts = match.groupdict()
    if parts["y3"]:
        return f"{parts['y3']}-{parts['m3']}-{parts['d3']}"
    month_name = (parts["m1"] or parts["m2"] or "").lower().rstrip(".")
    day = parts["d1"] or parts["d2"]
    year = parts["y1"] or parts["y2"]
    month = _MONTH_NUMBER.get(month_name)
    if not (month and day and year):
        return None
    return f"{year}-{month:02d}-{int(day):02d}"
