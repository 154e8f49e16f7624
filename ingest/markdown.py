"""Markdown (and the Markdown trafilatura makes of web pages) into structural drafts.

Parsed with markdown-it-py (CommonMark plus GFM tables), never with regexes,
so each construct keeps its meaning:

* a table becomes one draft per body row that carries its header
  ("Model: Mistral 7B · Download: 4.1 GB"), so one row can be retrieved and cited;
* a fenced or indented code block stays verbatim, as a draft of its own;
* a link keeps its text in the passage and its URL beside it (:class:`Link`);
* raw HTML blocks never reach the text as markup: an HTML ``<table>`` becomes
  rows like a Markdown table, ``<style>``, ``<script>``, images and comments
  are dropped, and other elements keep only their text;
* MyST roles (``{term}`LLM` ``) keep their content, and MyST directives
  (```` ```{note} ````) are read as the prose they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.models import Link

DraftKind = Literal["heading", "paragraph", "list_item", "table_row", "code"]
CELL_SEPARATOR = " · "
_SPACES = re.compile(r"\s+")
_ROLE = re.compile(r"\{[A-Za-z][\w:.-]*\}$")
_ROLE_TARGET = re.compile(r"\s*<[^<>]+>$")
_MYST_TARGET = re.compile(r"^\([\w.:-]+\)=$")
_DROPPED_HTML = frozenset(["style", "script", "img", "noscript", "template", "svg", "iframe"])
_HTML_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 3, "h5": 3, "h6": 3}
_MAX_DIRECTIVE_DEPTH = 4


@dataclass
class Draft:
    kind: DraftKind
    text: str
    level: int = 0
    links: list[Link] = field(default_factory=list)


def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def markdown_drafts(text: str, _depth: int = 0) -> list[Draft]:
    """The blocks of a Markdown document, in order (prose whitespace collapsed, code verbatim)."""
    tokens = _parser().parse(text)
    drafts: list[Draft] = []
    in_item = 0
    item_started = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            inline = tokens[index + 1]
            content, links = _inline(inline)
            if content:
                drafts.append(Draft("heading", content, min(int(token.tag[1]), 3), links))
            index += 3
            continue
        if kind == "list_item_open":
            in_item += 1
            item_started = False
        elif kind == "list_item_close":
            in_item -= 1
            item_started = False
        elif kind == "paragraph_open":
            content, links = _inline(tokens[index + 1])
            index += 3
            if not content or _MYST_TARGET.match(content):
                continue
            if in_item and item_started and drafts and drafts[-1].kind == "list_item":
                drafts[-1].text += " " + content  # a second paragraph of the same item
                drafts[-1].links.extend(links)
            elif in_item:
                drafts.append(Draft("list_item", content, links=links))
                item_started = True
            else:
                drafts.append(Draft("paragraph", content, links=links))
            continue
        elif kind in ("fence", "code_block"):
            info = token.info.strip()
            if info.startswith("{") and _depth < _MAX_DIRECTIVE_DEPTH:
                drafts.extend(_directive(info, token.content, _depth))
            else:
                code = _verbatim(token.content)
                if code:
                    drafts.append(Draft("code", code))
        elif kind == "table_open":
            end = _closing(tokens, index, "table_close")
            drafts.extend(_markdown_table(tokens[index:end]))
            index = end + 1
            continue
        elif kind == "html_block":
            end = _table_end(tokens, index)
            drafts.extend(html_drafts("".join(t.content for t in tokens[index : end + 1])))
            index = end + 1
            continue
        index += 1
    return drafts


_TABLE_TAG = re.compile(r"<(/?)table\b", re.IGNORECASE)


def _table_end(tokens: list[Token], start: int) -> int:
    """The last of the HTML blocks from ``start`` that one ``<table>`` spans.

    Markdown ends an HTML block at a blank line, and pages often leave one between
    rows: each row would be read alone, without the header that labels its cells.
    """
    depth = 0
    index = start
    while index < len(tokens) and tokens[index].type == "html_block":
        for match in _TABLE_TAG.finditer(tokens[index].content):
            depth += -1 if match.group(1) else 1
        if depth <= 0:
            return index
        index += 1
    return index - 1


def _closing(tokens: list[Token], start: int, closer: str) -> int:
    for index in range(start, len(tokens)):
        if tokens[index].type == closer:
            return index
    return len(tokens) - 1


def _directive(info: str, content: str, depth: int) -> list[Draft]:
    """A MyST directive: admonitions and the like hold prose; code and math stay verbatim."""
    name = info[1:].split("}", 1)[0].strip().lower()
    if name in ("code", "code-block", "code-cell", "sourcecode", "literalinclude"):
        code = _verbatim(
            "\n".join(line for line in content.split("\n") if not line.startswith(":"))
        )
        return [Draft("code", code)] if code else []
    if name in ("math", "raw", "image", "figure", "mermaid", "toctree", "include"):
        return []
    body = "\n".join(line for line in content.split("\n") if not re.match(r"^:\w[\w-]*:", line))
    return markdown_drafts(body, depth + 1)


def _verbatim(code: str) -> str:
    lines = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def _inline(token: Token) -> tuple[str, list[Link]]:
    """An inline token's text (markup dropped) and its links."""
    parts: list[str] = []
    links: list[Link] = []
    link_stack: list[tuple[str, int]] = []  # (href, where its text starts in parts)
    for child in token.children or []:
        kind = child.type
        if kind == "text":
            parts.append(child.content)
        elif kind == "code_inline":
            content = child.content
            if parts and _ROLE.search(parts[-1]):  # a MyST role: {term}`LLM` reads "LLM"
                parts[-1] = _ROLE.sub("", parts[-1])
                content = _ROLE_TARGET.sub("", content) or content  # {ref}`data<target>`
            parts.append(content)
        elif kind in ("softbreak", "hardbreak"):
            if parts and parts[-1].endswith("\\"):  # "…violation.\\" ends a line: a break
                parts[-1] = parts[-1][:-1]  # in some renderers (kramdown), no text
            parts.append(" ")
        elif kind == "link_open":
            link_stack.append((str(child.attrs.get("href") or ""), len(parts)))
        elif kind == "link_close" and link_stack:
            href, start = link_stack.pop()
            text = _collapse("".join(parts[start:]))
            if href and text and not href.startswith("#"):
                links.append(Link(text, href))
        elif kind == "html_inline" and re.match(r"<br\s*/?>", child.content, re.IGNORECASE):
            parts.append(" ")
        # images, emphasis markers and other inline HTML tags carry no text of their own
    return _collapse("".join(parts)), links


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def _markdown_table(tokens: list[Token]) -> list[Draft]:
    rows: list[list[tuple[str, list[Link]]]] = []
    header: list[str] = []
    current: list[tuple[str, list[Link]]] | None = None
    in_head = False
    for token in tokens:
        if token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "tr_open":
            current = []
        elif token.type == "tr_close" and current is not None:
            if in_head:
                header = [cell for cell, _ in current]
            else:
                rows.append(current)
            current = None
        elif token.type == "inline" and current is not None:
            current.append(_inline(token))
    return _rows(header, rows)


def _rows(header: list[str], rows: list[list[tuple[str, list[Link]]]]) -> list[Draft]:
    """One draft per row, each cell named by its column: "Model: Mistral 7B · Download: 4.1 GB"."""
    drafts: list[Draft] = []
    for row in rows:
        cells = []
        links: list[Link] = []
        for column, (value, cell_links) in enumerate(row):
            if not value:
                continue
            name = header[column] if column < len(header) else ""
            cells.append(f"{name}: {value}" if name and name != value else value)
            links.extend(cell_links)
        if cells:
            first = 0 if drafts else 1  # level 1 marks a table's first row
            drafts.append(Draft("table_row", CELL_SEPARATOR.join(cells), first, links))
    return drafts


# --- raw HTML inside Markdown --------------------------------------------------------------


def html_drafts(markup: str) -> list[Draft]:
    """The text of a raw HTML block: tables as rows, headings, paragraphs; never markup."""
    import lxml.html
    from lxml import etree

    if not markup.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    drafts: list[Draft] = []
    _walk_html(root, drafts)
    return drafts


def _walk_html(element: Any, drafts: list[Draft]) -> None:
    """Block elements become drafts; text directly inside a container becomes a paragraph."""
    loose: list[str] = []

    def flush() -> None:
        text = _collapse("".join(loose))
        loose.clear()
        if text:
            drafts.append(Draft("paragraph", text))

    if element.text:
        loose.append(element.text)
    for child in element:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _DROPPED_HTML or not tag:  # comments and processing instructions too
            pass
        elif tag == "table":
            flush()
            drafts.extend(_html_table(child))
        elif tag in _HTML_HEADINGS:
            flush()
            text = _text(child)
            if text:
                drafts.append(Draft("heading", text, _HTML_HEADINGS[tag]))
        elif tag == "pre":
            flush()
            code = _verbatim(child.text_content())
            if code:
                drafts.append(Draft("code", code))
        elif tag == "li":
            flush()
            text = _text(child)
            if text:
                drafts.append(Draft("list_item", text, links=_html_links(child)))
        elif tag in ("p", "blockquote", "figcaption", "dd", "dt", "summary"):
            flush()
            text = _text(child)
            if text:
                drafts.append(Draft("paragraph", text, links=_html_links(child)))
        elif tag in ("div", "section", "article", "details", "figure", "ul", "ol", "dl", "center"):
            flush()
            _walk_html(child, drafts)
        else:  # inline elements (a, span, b, sup...) read as part of the surrounding text
            if tag == "br":
                loose.append(" ")
            else:
                loose.append(_text(child, collapse=False))
        if child.tail:
            loose.append(child.tail)
    flush()


def _text(element: Any, collapse: bool = True) -> str:
    """Text content without the text of dropped elements (styles, scripts)."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag in _DROPPED_HTML or not tag:
            return
        if tag == "br":
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        for child in node:
            visit(child)
            if child.tail:
                parts.append(child.tail)

    visit(element)
    text = "".join(parts)
    return _collapse(text) if collapse else text


def _html_links(element: Any) -> list[Link]:
    links = []
    for anchor in element.iter("a"):
        href = anchor.get("href") or ""
        text = _text(anchor)
        if href and text and not href.startswith("#"):
            links.append(Link(text, href))
    return links


def _html_table(table: Any) -> list[Draft]:
    header: list[str] = []
    rows: list[list[tuple[str, list[Link]]]] = []
    for row in table.iter("tr"):
        cells = [c for c in row if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")]
        if not cells:
            continue
        values = [(_text(c), _html_links(c)) for c in cells]
        if not header and not rows and all(_heads(c) for c in cells):
            header = [value for value, _ in values]
        else:
            rows.append(values)
    return _rows(header, rows)


_BOLD_STYLE = re.compile(r"font-weight\s*:\s*(bold|[6-9]00)", re.IGNORECASE)


def _heads(cell: Any) -> bool:
    """Whether a table cell is a column heading: a ``<th>``, or a first-row ``<td>`` marked as
    one (a class naming a head, or all its text bold), as many pages write them."""
    if cell.tag.lower() == "th":
        return True
    if "head" in (cell.get("class") or "").lower():
        return True
    text = _text(cell)
    bold = " ".join(
        _text(e)
        for e in cell.iter()
        if isinstance(e.tag, str)
        and (e.tag.lower() in ("b", "strong") or _BOLD_STYLE.search(e.get("style") or ""))
    )
    return bool(text) and _collapse(bold) == text
