"""Ask questions about your articles and get answers with cited passages.

Example:
    >>> from bot import KnowledgeBase
    >>> kb = KnowledgeBase()
    >>> answer = kb.ask("Why did EleutherAI take GPT-J offline?")  # doctest: +SKIP
    >>> print(answer.text)  # doctest: +SKIP

Importing this package is cheap: torch, Chroma and discord.py load only when used.
"""

from bot.answer import Answerer, Evidence, ExtractiveAnswerer
from bot.conversation import Conversation
from bot.knowledge_base import KnowledgeBase, bundled_corpus, is_readable_file
from bot.results import Answer, Citation, SuggestedSource
from bot.settings import Settings
from ingest.errors import (
    ConfigurationError,
    InvalidArgumentError,
    InvalidQuestionError,
    KnowledgeBaseError,
    SourceError,
    SourceNotFoundError,
    StoreError,
)
from ingest.load import SUPPORTED_SUFFIXES, TextDocument, is_url
from ingest.report import IngestReport, SourceReport
from ingest.site import CrawlOptions
from ingest.store import SourceRecord


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kb-bot")
    except PackageNotFoundError:  # a checkout that was never installed
        return "0.1.0"


__version__ = _version()

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Answer",
    "Answerer",
    "Citation",
    "ConfigurationError",
    "Conversation",
    "CrawlOptions",
    "Evidence",
    "ExtractiveAnswerer",
    "IngestReport",
    "InvalidArgumentError",
    "InvalidQuestionError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "Settings",
    "SourceError",
    "SourceNotFoundError",
    "SourceRecord",
    "SourceReport",
    "StoreError",
    "SuggestedSource",
    "TextDocument",
    "__version__",
    "bundled_corpus",
    "is_readable_file",
    "is_url",
]
