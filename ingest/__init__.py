"""The lower layer: load, clean, chunk, embed and store articles.

``bot`` builds on this package; this package never imports ``bot``.
"""

from ingest.errors import (
    ConfigurationError,
    EmptySourceError,
    FetchError,
    InvalidQuestionError,
    KnowledgeBaseError,
    ModelError,
    SourceError,
    SourceNotFoundError,
    StoreError,
    UnreadableSourceError,
    UnsupportedSourceError,
)
from ingest.load import TextDocument
from ingest.models import Article, Chunk
from ingest.pipeline import Ingestor
from ingest.report import IngestReport, SourceReport
from ingest.store import ChromaStore, SourceRecord, StoredChunk

__all__ = [
    "Article",
    "ChromaStore",
    "Chunk",
    "ConfigurationError",
    "EmptySourceError",
    "FetchError",
    "IngestReport",
    "Ingestor",
    "InvalidQuestionError",
    "KnowledgeBaseError",
    "ModelError",
    "SourceError",
    "SourceNotFoundError",
    "SourceRecord",
    "SourceReport",
    "StoreError",
    "StoredChunk",
    "TextDocument",
    "UnreadableSourceError",
    "UnsupportedSourceError",
]
