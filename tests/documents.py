"""Builders for test documents (PDFs with real text, HTML pages)."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def text_pdf(lines: list[str], password: str | None = None) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (optionally encrypted)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    operators = (
        "BT /F1 11 Tf 72 740 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in escaped) + " ET"
    )
    stream = DecodedStreamObject()
    stream.set_data(operators.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    buffer = io.BytesIO()
    writer.write(buffer)
    data = buffer.getvalue()
    if password is None:
        return data
    encrypted = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    encrypted.encrypt(user_password=password, algorithm="RC4-128")
    out = io.BytesIO()
    encrypted.write(out)
    return out.getvalue()


def article_page(title: str, paragraphs: list[str], chrome: bool = True) -> str:
    """An HTML article page with navigation, share buttons and a comment form around it."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    nav = "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/about'>About</a></nav>"
    extra = (
        "<div class='share'>Share <a>Facebook</a> <a>Twitter</a></div>"
        "<section id='comments'><h3>LEAVE A REPLY</h3><form><label>Please enter your comment!"
        "</label><textarea></textarea><label>Please enter your name here</label><input></form></section>"
        "<aside><h4>Related News</h4><ul><li><a>Another story about cats</a></li></ul></aside>"
        if chrome
        else ""
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title} | Example News</title></head>"
        f"<body>{nav}<article><h1>{title}</h1>{body}</article>{extra}"
        "<footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"
    )
