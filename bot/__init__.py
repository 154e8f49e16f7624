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
from bot.knowledge_base import KnowledgeBase
from bot.results import Answer, Citation, SuggestedSource
from bot.settings import Settings
from ingest.errors import (
    InvalidQuestionError,
    KnowledgeBaseError,
    SourceError,
    SourceNotFoundError,
    StoreError,
)
from ingest.load import TextDocument
from ingest.report import IngestReport, SourceReport
from ingest.store import SourceRecord

__all__ = [
    "Answer",
    "Answerer",
    "Citation",
    "Conversation",
    "Evidence",
    "ExtractiveAnswerer",
    "IngestReport",
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
]
