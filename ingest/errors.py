"""The errors a user can act on.

Every message is written for the person who ran the command: it names the
source and says what is wrong with it. Only the edges (CLI, Discord) turn these
into output; library code raises them and never prints.
"""

from __future__ import annotations


class KnowledgeBaseError(Exception):
    """Base class for every error the knowledge base reports to users."""


class SourceError(KnowledgeBaseError):
    """A source (file, folder or URL) could not be turned into an article."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"Could not ingest {source}: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedSourceError(SourceError):
    """The file type or URL scheme is not one we can read."""


class EmptySourceError(SourceError):
    """The source holds no readable article text."""


class UnreadableSourceError(SourceError):
    """The source exists but its content cannot be decoded (binary, corrupt, encrypted)."""


class FetchError(SourceError):
    """A URL could not be downloaded (unreachable, timeout, HTTP error)."""


class RefusedURLError(FetchError):
    """A URL we will not fetch: not http(s), or an address on this machine or a private network."""


class SourceNotFoundError(KnowledgeBaseError):
    """A source named by the user is not in the knowledge base."""

    def __init__(self, source: str, known: list[str] | None = None) -> None:
        hint = ""
        if known:
            hint = " Known sources: " + ", ".join(sorted(known)[:10])
        super().__init__(f"{source!r} is not in the knowledge base.{hint}")
        self.source = source


class StoreError(KnowledgeBaseError):
    """The vector store could not be opened, read or written."""


class ModelError(KnowledgeBaseError):
    """The bundled embedding model could not be loaded or prepared."""


class InvalidArgumentError(KnowledgeBaseError):
    """An argument of the wrong type or shape (``k="5"``, ``ingest(None)``, a path with NUL)."""


class InvalidQuestionError(InvalidArgumentError):
    """A question that cannot be answered as asked (empty, too long)."""


class ConfigurationError(KnowledgeBaseError):
    """A setting is missing or inconsistent."""
