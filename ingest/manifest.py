"""Per-folder article metadata, kept beside the articles in ``manifest.toml``.

The articles stay byte-for-byte as received; what we know about them (title,
publication date, a short description, the original URL) lives here, keyed by
file name, so a user adding an article adds a table::

    ["my-article.txt"]
    title = "My article"
    published = 2025-02-22
    description = "What it is about."
    url = "https://example.org/my-article"
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from ingest.errors import ConfigurationError
from ingest.models import SourceMeta

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MANIFEST_NAME = "manifest.toml"


def load_manifest(folder: Path) -> dict[str, SourceMeta]:
    """Read ``folder/manifest.toml``; an absent manifest is an empty one.

    Raises:
        ConfigurationError: The manifest exists but is not valid TOML.
    """
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path} is not a valid manifest: {exc}") from exc
    return {name: _meta(entry) for name, entry in data.items() if isinstance(entry, dict)}


def _meta(entry: dict[str, Any]) -> SourceMeta:
    published = entry.get("published")
    if isinstance(published, dt.date):
        published = published.isoformat()
    return SourceMeta(
        title=_str_or_none(entry.get("title")),
        published=_str_or_none(published),
        description=_str_or_none(entry.get("description")),
        url=_str_or_none(entry.get("url")),
    )


def _str_or_none(value: object) -> str | None:
    return str(value).strip() or None if value is not None else None
