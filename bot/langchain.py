"""A LangChain ``BaseRetriever`` over the knowledge base's hybrid search."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.results import Citation


class KnowledgeBaseRetriever(BaseRetriever):
    """Returns the best passages as Documents; metadata carries the citation fields.

    Example:
        >>> retriever = kb.as_retriever(k=3)  # doctest: +SKIP
        >>> chain = retriever | (lambda docs: docs[0].metadata["title"])  # doctest: +SKIP
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    kb: Any
    """The :class:`bot.KnowledgeBase` (typed loosely to keep pydantic out of its internals)."""
    k: int = 4
    source: str | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [_document(c) for c in self.kb.search(query, self.k, source=self.source)]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        found = await self.kb.asearch(query, self.k, source=self.source)
        return [_document(c) for c in found]


def _document(citation: Citation) -> Document:
    metadata = {k: v for k, v in citation.to_dict().items() if k not in ("text", "quote")}
    return Document(page_content=citation.text, metadata=metadata)
