"""The front door: :class:`KnowledgeBase`."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answer import (
    ANSWER_PASSAGES,
    Answerer,
    Evidence,
    ExtractiveAnswerer,
    abstain,
    citations_for,
    holds_the_list_asked,
)
from bot.article_scope import could_name_an_article, named_article
from bot.conversation import Conversation
from bot.generative import StreamingAnswerer
from bot.lexical import LexicalIndex
from bot.question import as_comparison, as_request, with_senses
from bot.results import Answer, Citation
from bot.retrieve import CANDIDATES, HybridRetriever, Mode, Passage, Retrieval
from bot.settings import Settings, load_settings
from bot.small_talk import (
    OVERVIEW_ARTICLES,
    asked_article,
    asks_about_an_article,
    asks_conclusion,
    asks_every_conclusion,
    asks_when_published,
    conclusion,
    conclusions,
    first_section,
    is_small_talk,
    last_section,
    overview,
    publication,
    summary,
    without_opener,
)
from bot.streaming import in_thread
from bot.word_vectors import WordVectors
from ingest.embed import ChunkEncoder
from ingest.errors import InvalidArgumentError, InvalidQuestionError, SourceNotFoundError
from ingest.load import MEDIA_TYPES, Input, check_inputs, check_text, is_url, source_id_for
from ingest.pipeline import Ingestor, ProgressCallback
from ingest.report import IngestReport, SourceReport
from ingest.site import CrawlOptions
from ingest.store import ChromaStore, SourceRecord, StoredChunk

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.retrievers import BaseRetriever

    from ingest.onnx_encoder import QueryEncoder

log = logging.getLogger(__name__)

USAGE_MARKER = "used"
"""File under ``KB_HOME`` saying the knowledge base has been used (so: no demo corpus)."""
USED = "used"
BOOTSTRAPPING = "ingesting-bundled-corpus"
MAX_K = CANDIDATES
"""Most passages one search returns."""
_CONCLUSION_PASSAGES = 4
"""How many passages back an article's last section is followed to where it starts."""


def bundled_corpus() -> Path | None:
    """The default articles: packaged with the wheel, or ``corpus/`` in a checkout."""
    packaged = Path(str(resources.files("bot"))) / "_corpus"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / "corpus"
    return checkout if checkout.is_dir() else None


def is_readable_file(name: str) -> bool:
    """Whether :meth:`KnowledgeBase.ingest` reads a file of this name (by its suffix).

    Example:
        >>> is_readable_file("notes.md"), is_readable_file("photo.jpg")
        (True, False)
    """
    return Path(name).suffix.lower() in MEDIA_TYPES


def display_source(source: str) -> str:
    """How a source is shown to people: a bundled article by its file name (never a
    ``site-packages`` path), anything else as stored."""
    corpus = bundled_corpus()
    if corpus is not None and not is_url(source):
        try:
            if Path(source).is_relative_to(corpus.resolve()):
                return Path(source).name
        except (OSError, ValueError):
            pass
    return source


class KnowledgeBase:
    """Articles in, cited answers out.

    Opening one is cheap: the store opens on first use and the embedding model
    loads only when a question or an ingest needs it. A knowledge base that has
    never been used ingests the bundled corpus (or ``KB_CORPUS``) on first use.

    Args:
        home: The knowledge-base folder; ``None`` uses ``KB_HOME`` or ``./.kb``.
        settings: Full settings; ``home`` overrides ``settings.home`` when both are given.
        answerer: How answers are written; default extractive (no LLM), or an
            LLM answerer (:mod:`bot.generative`) when ``KB_LLM`` or ``KB_LLM_URL`` is set.

    Example:
        >>> kb = KnowledgeBase()
        >>> answer = kb.ask("Why did EleutherAI take GPT-J offline?")  # doctest: +SKIP
        >>> answer.text, answer.citations[0].title  # doctest: +SKIP
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        settings: Settings | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        settings = settings or load_settings()
        if home is not None:
            settings = settings.model_copy(update={"home": Path(home)})
        self.settings = settings
        self._answerer = answerer
        self._lock = threading.RLock()
        self._chroma: ChromaStore | None = None
        self._lexical = LexicalIndex(settings.index_path)
        self._words = WordVectors(self.embed, settings.index_path / "words")
        self._bootstrapped = False

    # --- lazily opened parts ----------------------------------------------------------

    @property
    def _store(self) -> ChromaStore:
        """The Chroma adapter, opened on first use (private: callers go through the methods)."""
        with self._lock:
            if self._chroma is None:
                self._chroma = self._open_store()
            return self._chroma

    def _open_store(self) -> ChromaStore:
        s = self.settings
        if s.chroma_host:
            headers = {}
            if s.chroma_token is not None:
                headers["Authorization"] = f"Bearer {s.chroma_token.get_secret_value()}"
            return ChromaStore.server(
                s.chroma_host,
                s.chroma_port,
                s.collection,
                ssl=s.chroma_ssl,
                headers=headers,
                embed_query=self.embed,
            )
        if s.chroma_cloud:
            assert s.chroma_cloud_api_key and s.chroma_tenant and s.chroma_database
            host, port, ssl = s.chroma_cloud_address
            return ChromaStore.cloud(
                s.chroma_cloud_api_key.get_secret_value(),
                s.chroma_tenant,
                s.chroma_database,
                s.collection,
                host=host,
                port=port,
                ssl=ssl,
                embed_query=self.embed,
            )
        return ChromaStore.embedded(s.store_path, s.collection, embed_query=self.embed)

    @property
    def answerer(self) -> Answerer:
        with self._lock:
            if self._answerer is None:
                self._answerer = self._default_answerer()
            return self._answerer

    def _default_answerer(self) -> Answerer:
        extractive = ExtractiveAnswerer(self.settings.extractive)
        if self.settings.llm_enabled:
            from bot.generative import GenerativeAnswerer

            return GenerativeAnswerer.from_settings(self.settings, extractive, self.embed)
        return extractive

    def _query_encoder(self) -> QueryEncoder:
        from ingest.onnx_encoder import query_encoder

        return query_encoder(self.settings.model_cache)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` from the query model (what questions are embedded with).

        For custom answerers that compare text with passages, such as
        :class:`bot.generative.GenerativeAnswerer`; loading the model the first time.

        Example:
            >>> kb.embed(["What is BLOOM?"]).shape  # doctest: +SKIP
            (1, 384)
        """
        vectors: np.ndarray = self._query_encoder().encode(list(texts))
        return vectors

    def _ingestor(self) -> Ingestor:
        runtime, cache = self.settings.ingest_runtime, self.settings.model_cache
        return Ingestor(
            self._store,
            encoder=lambda: ChunkEncoder(runtime=runtime, cache_dir=cache),
            limits=self.settings.limits,
        )

    def setup_needed(self) -> Path | None:
        """The corpus a first use would ingest (a never-used knowledge base), else None.

        Lets a front end announce the setup before it starts (``kb ask`` on a fresh home
        shows "Setting up the knowledge base: 3 bundled articles…").
        """
        if self._bootstrapped or not self.settings.auto_ingest:
            return None
        state = self._usage()
        if state == USED or (state is None and self._store.count() > 0):
            return None
        return self.settings.corpus or bundled_corpus()

    def setup(self, progress: ProgressCallback | None = None) -> IngestReport | None:
        """Ingest the default corpus now if this knowledge base has never been used.

        Every first question does this on its own; calling it first lets a caller
        show progress. Returns the corpus ingest's report, or None when there was
        nothing to set up.
        """
        return self._ensure_content(progress)

    def _ensure_content(self, progress: ProgressCallback | None = None) -> IngestReport | None:
        """Ingest the default corpus the first time a never-used knowledge base is used.

        "Never used" is recorded in a marker file under ``KB_HOME``, written
        before any ingest starts: a knowledge base whose first ingest by the user
        failed or was killed is empty but used, and must not fill up with demo
        articles. An interrupted *corpus* ingest is resumed (re-ingesting is idempotent).
        """
        if self._bootstrapped:
            return None
        with self._lock:
            if self._bootstrapped:
                return None
            self._bootstrapped = True
            if not self.settings.auto_ingest:
                return None
            state = self._usage()
            if state == USED:
                return None
            if state is None and self._store.count() > 0:
                self._mark(USED)  # a knowledge base from before the marker existed
                return None
            corpus = self.settings.corpus or bundled_corpus()
            if corpus is None:
                log.warning("the knowledge base is empty and no corpus was found to ingest")
                return None
            log.info("new knowledge base: ingesting %s", corpus)
            self._mark(BOOTSTRAPPING)
            report = self._ingestor().ingest([corpus], progress)
            for failure in report.failed:
                log.warning("could not ingest %s: %s", failure.source, failure.reason)
            self._mark(USED)
            return report

    @property
    def _marker(self) -> Path:
        return self.settings.home / USAGE_MARKER

    def _usage(self) -> str | None:
        """``None`` (never used), ``BOOTSTRAPPING`` (corpus ingest under way or killed) or ``USED``."""
        try:
            text = self._marker.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning(
                "cannot read %s (%s); treating the knowledge base as used", self._marker, exc
            )
            return USED
        return BOOTSTRAPPING if text == BOOTSTRAPPING else USED

    def _mark(self, state: str) -> None:
        """Record the usage state atomically (write aside, then rename)."""
        marker = self._marker
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            aside = marker.with_name(f"{marker.name}.{threading.get_ident()}.tmp")
            aside.write_text(state + "\n", encoding="utf-8")
            os.replace(aside, marker)
        except OSError as exc:
            log.warning("cannot write %s: %s", marker, exc)

    # --- public API ---------------------------------------------------------------------

    def ingest(
        self,
        inputs: Input | Iterable[Input],
        progress: ProgressCallback | None = None,
        *,
        crawl: CrawlOptions | None = None,
    ) -> IngestReport:
        """Add or update articles: files, folders (recursively), URLs, sitemaps or ``TextDocument``s.

        Unchanged sources are skipped without embedding; a changed source has its
        chunks replaced; a file deleted from an ingested folder is removed. A URL
        ending in ``.xml`` is read as a sitemap and its pages are ingested.

        Args:
            inputs: One input or several.
            progress: Called as ``progress(done, total, what)``: chunks embedded out of
                those this run embeds (``total`` is 0 while sources are being read).
            crawl: Follow same-site links from each URL (``CrawlOptions(max_pages, depth)``).

        Returns:
            The per-source report; failures carry a reason and never stop the others.

        Raises:
            InvalidArgumentError: Nothing to ingest, an input that is not a path, URL or
                ``TextDocument``, or a path that is empty, too long or holds NUL or
                invalid characters.

        Example:
            >>> kb.ingest(["corpus/", "https://example.org/post.html"]).summary()  # doctest: +SKIP
            '3 unchanged, 1 added (6 chunks embedded)'
        """
        items = check_inputs(inputs)
        if progress is not None and not callable(progress):
            raise InvalidArgumentError("progress must be a function (done, total, source).")
        with self._lock:
            self._bootstrapped = True  # an explicit ingest decides what the knowledge base holds
            if self._usage() != USED:
                self._mark(USED)  # before anything is written: a killed ingest still counts
        if crawl is not None and not isinstance(crawl, CrawlOptions):
            raise InvalidArgumentError("crawl must be CrawlOptions(max_pages=..., depth=...).")
        return self._ingestor().ingest(items, progress, crawl=crawl)

    def sync(self, progress: ProgressCallback | None = None) -> IngestReport:
        """Re-fetch the ingested web pages and update those that changed.

        Requests are conditional (ETag / Last-Modified), so an unchanged page
        costs a 304; sitemaps pages came from are read again for new pages.

        Example:
            >>> kb.sync().summary()  # doctest: +SKIP
            '4 unchanged, 1 updated (3 chunks embedded)'
        """
        with self._lock:
            self._bootstrapped = True
        return self._ingestor().sync(progress)

    def display_source(self, source: str) -> str:
        """How a source is shown to people: see :func:`display_source`."""
        return display_source(source)

    def ask(self, question: str, *, source: str | None = None) -> Answer:
        """Answer a question from the knowledge base, with cited passages.

        Args:
            question: Any language; at most ``KB_MAX_QUESTION_CHARS`` characters.
            source: Only use this article (a source id, path or URL).

        Returns:
            An :class:`Answer`; ``answered`` is False when nothing relevant is found.

        Raises:
            InvalidQuestionError: The question is empty or too long.
            InvalidArgumentError: ``source`` is not usable text.
            SourceNotFoundError: ``source`` is not in the knowledge base.
        """
        question = self.validate_question(question)
        source = _optional_source(source)
        return self._answer(question, without_opener(question), source)

    def stream(self, question: str, *, source: str | None = None) -> Iterator[str | Answer]:
        """:meth:`ask`, streamed: text as it is written, then the final :class:`Answer`.

        With an LLM the text pieces are the model's reply as it arrives, shown
        provisionally; the final ``Answer`` holds only the sentences the cited
        passages support (see ``Answer.dropped``). Without one, the extractive
        answer's text comes as one piece. Always consume the final item.

        Raises:
            InvalidQuestionError: The question is empty or too long (when called).
            SourceNotFoundError: ``source`` is not in the knowledge base (while iterating).

        Example:
            >>> for item in kb.stream("Why did EleutherAI take GPT-J offline?"):  # doctest: +SKIP
            ...     if isinstance(item, str):
            ...         print(item, end="", flush=True)
            ...     else:
            ...         answer = item
        """
        question = self.validate_question(question)
        source = _optional_source(source)
        return self._stream(question, without_opener(question), source)

    def astream(self, question: str, *, source: str | None = None) -> AsyncIterator[str | Answer]:
        """:meth:`stream` for asyncio: the work runs in a worker thread.

        Raises:
            InvalidQuestionError: The question is empty or too long (when called).
        """
        question = self.validate_question(question)
        source = _optional_source(source)
        return in_thread(lambda: self._stream(question, without_opener(question), source))

    def evidence(
        self, question: str, *, k: int = ANSWER_PASSAGES, source: str | None = None
    ) -> Evidence:
        """What an answerer sees for ``question``: the ``k`` best passages and their sentence vectors.

        For custom answerers and for fitting the extractive one (``kb eval fit``).

        Raises:
            InvalidQuestionError: The question is empty or too long.
            SourceNotFoundError: ``source`` is not in the knowledge base.
        """
        question = self.validate_question(question)
        source = _optional_source(source)
        return self._gather(question, source, k)

    async def aask(self, question: str, *, source: str | None = None) -> Answer:
        """:meth:`ask` in a worker thread, so an event loop never blocks."""
        return await asyncio.to_thread(self.ask, question, source=source)

    def conversation(self, earlier: Sequence[str] = ()) -> Conversation:
        """A conversation: follow-up questions are answered in the context of earlier ones.

        Args:
            earlier: Questions already asked in this conversation, oldest first (for
                example rebuilt from a chat's log). They give follow-ups their
                context but are not answered again and are not in ``history``.

        Example:
            >>> conversation = kb.conversation()  # doctest: +SKIP
            >>> conversation.ask("What is BLOOM?")  # doctest: +SKIP
            >>> conversation.ask("Who made it?").standalone_question  # doctest: +SKIP
            'Who made BLOOM?'
        """
        return Conversation(self, earlier)

    def search(self, query: str, k: int = 5, *, source: str | None = None) -> list[Citation]:
        """The ``k`` passages that best match ``query``, best first.

        Raises:
            InvalidQuestionError: The query is empty or too long.
            InvalidArgumentError: ``k`` is not a whole number from 1 to 100, or
                ``source`` is not usable text.
            SourceNotFoundError: ``source`` is not in the knowledge base.
        """
        query = self.validate_question(query)
        if isinstance(k, bool) or not isinstance(k, int):
            raise InvalidArgumentError(f"k must be a whole number, not {type(k).__name__}.")
        if not 1 <= k <= MAX_K:
            raise InvalidArgumentError(f"k must be between 1 and {MAX_K}, not {k}.")
        source = _optional_source(source)
        self._ensure_content()
        with self._store.snapshot():
            retrieval = self._retrieve(query, k, source)
            return citations_for(self._evidence(retrieval, with_sentences=False))

    async def asearch(self, query: str, k: int = 5, *, source: str | None = None) -> list[Citation]:
        return await asyncio.to_thread(self.search, query, k, source=source)

    def rank_sources(
        self, query: str, k: int = 100, *, mode: Mode = "hybrid"
    ) -> list[tuple[str, float]]:
        """Sources ranked for ``query`` by their best passage (for retrieval evaluation).

        Args:
            mode: ``hybrid`` (what :meth:`search` uses), ``dense`` or ``lexical`` alone.
        """
        query = self.validate_question(query)
        self._ensure_content()
        vector = self.embed([query])[0]
        retriever = HybridRetriever(self._store, self._lexical)
        with self._store.snapshot():
            return retriever.rank_sources(query, vector, k, mode)

    def sources(self) -> list[SourceRecord]:
        """The articles in the knowledge base, sorted by title."""
        self._ensure_content()
        return sorted(self._store.sources().values(), key=lambda r: (r.title.lower(), r.source_id))

    def passage_count(self) -> int:
        """How many passages (chunks) the knowledge base holds, over all articles.

        Unlike :meth:`sources` this never ingests the bundled corpus into a
        never-used knowledge base: it reports what is stored now.

        Example:
            >>> kb.passage_count()  # doctest: +SKIP
            91
        """
        return self._store.count()

    def forget(self, source: str) -> SourceReport:
        """Remove one article (by source id, path, URL or exact title) and all its chunks.

        Raises:
            InvalidArgumentError: ``source`` is not usable text (empty, NUL, too long...).
            SourceNotFoundError: Nothing in the knowledge base matches ``source``.
        """
        source_id = self.resolve_source(source)
        return self._ingestor().forget(source_id)

    def resolve_source(self, source: str) -> str:
        """Find the source id a user means: an id, a path, a URL or an exact title.

        Raises:
            InvalidArgumentError: ``source`` is not usable text (empty, NUL, too long...).
            SourceNotFoundError: No match, or a title shared by several sources.
        """
        source = check_text(source, "source")
        records = self._store.sources()
        if source in records:
            return source
        if not is_url(source):
            try:
                resolved = source_id_for(source)
            except (OSError, ValueError, RuntimeError):  # e.g. a name too long for the OS
                resolved = ""
            if resolved in records:
                return resolved
        by_title = [
            r.source_id for r in records.values() if r.title.casefold() == source.casefold()
        ]
        by_name = [r for r in records if Path(r).name == source]
        matches = by_title or by_name
        if len(matches) == 1:
            return matches[0]
        raise SourceNotFoundError(source, [r.title for r in records.values()])

    def as_retriever(self, k: int = 4) -> BaseRetriever:
        """A LangChain retriever over the same hybrid search (Documents with citation metadata)."""
        from bot.langchain import KnowledgeBaseRetriever

        return KnowledgeBaseRetriever(kb=self, k=k)

    def close(self) -> None:
        """Release the store (embedded mode holds files open)."""
        with self._lock:
            store, self._chroma = self._chroma, None
        if store is not None:
            store.close()

    # --- internals ----------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load what the first question needs (store, corpus, query model, lexical index)."""
        self._ensure_content()
        self._query_encoder()
        with self._store.snapshot():
            self._lexical.refresh(self._store)

    def validate_question(self, question: str) -> str:
        """The question, cleaned, or a clear error.

        Raises:
            InvalidQuestionError: Empty, or longer than ``KB_MAX_QUESTION_CHARS``.
        """
        if not isinstance(question, str):
            raise InvalidQuestionError("The question must be text.")
        cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\n\t").strip()
        if not cleaned:
            raise InvalidQuestionError("Please ask a question: the text is empty.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise InvalidQuestionError(
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Please shorten it."
            )
        return cleaned

    def _answer(
        self,
        question: str,
        standalone: str,
        source: str | None,
        *,
        repeats: Callable[[Answer], Answer | None] | None = None,
    ) -> Answer:
        """Answer ``standalone`` (what is searched for), reporting the user's ``question``.

        Args:
            repeats: For a conversation: the earlier answer that an answer merely
                repeats, if any; such an answer becomes an abstention.
        """
        reply = self._about_the_knowledge_base(question, standalone, source)
        if reply is not None:
            return reply
        standalone, source = self._scoped(standalone, source)
        evidence = self._gather(standalone, source)
        answer = self.answerer.answer(evidence) if evidence.passages else abstain(evidence)
        return self._finish(answer, evidence, question, standalone, repeats)

    def _about_the_knowledge_base(
        self, question: str, standalone: str, source: str | None
    ) -> Answer | None:
        """The reply to a message about the knowledge base rather than in it
        (:mod:`bot.small_talk`): "hello" and "What articles do you have?" get an overview,
        "What is the technical analysis about?" that article's opening sentences, and so
        does a follow-up that names an article only as rewritten ("Summarize the second
        one." after "What articles do you have?")."""
        message = without_opener(question)  # "Hi! What articles do you have?"
        for asked in dict.fromkeys([message, standalone]):
            if asks_about_an_article(asked):  # the form first: no store call for a question
                reply = self._about_an_article(question, asked, source)
                if reply is not None:
                    return replace(reply, standalone_question=standalone)
        if not is_small_talk(message):
            return None
        records = self._within(self.sources(), source)
        shown = [r.source_id for r in records[:OVERVIEW_ARTICLES]]
        return overview(question, records, self._store.openings(shown))

    def _within(self, records: list[SourceRecord], source: str | None) -> list[SourceRecord]:
        """``records``, or only ``source`` of them when the caller chose one."""
        if not source:
            return records
        wanted = self.resolve_source(source)
        return [r for r in records if r.source_id == wanted]

    def _about_an_article(self, question: str, asked: str, source: str | None) -> Answer | None:
        """The reply to "What is X about?", "When was X published?", "What does X conclude?"
        (``asked``, the message or its rewrite) when X names an article, or to "What do the
        articles conclude?"; None when it names none."""
        records = self.sources()
        record = asked_article(asked, records)
        if record is None:
            if not asks_every_conclusion(asked):
                return None
            return self._every_conclusion(question, self._within(records, source))
        if asks_conclusion(asked):  # from where the article concludes
            found = self._conclusion_of(record)
            return conclusion(question, record, *found) if found is not None else None
        opening = self._store.openings([record.source_id])
        if record.source_id not in opening:
            return None
        # "When was X published?" is answered from the record, "What is X about?" from the
        # article's opening
        reply_with = publication if asks_when_published(asked) else summary
        return reply_with(question, record, opening[record.source_id])

    def _conclusion_of(self, record: SourceRecord) -> tuple[StoredChunk, str] | None:
        """Where an article concludes: its last section, and the passage where that section
        starts (looking back a few passages at most)."""
        closing = self._store.chunk_at(record.source_id, record.chunks - 1)
        if closing is None:
            return None
        section = last_section(closing)
        for _ in range(_CONCLUSION_PASSAGES):
            if closing.position == 0 or first_section(closing) != section:
                break
            before = self._store.chunk_at(record.source_id, closing.position - 1)
            if before is None or last_section(before) != section:
                break
            closing = before
        return closing, section

    def _every_conclusion(self, question: str, records: list[SourceRecord]) -> Answer | None:
        """What each of ``records`` concludes, when they are a few (at most
        :data:`OVERVIEW_ARTICLES`; with more, the question is searched for)."""
        if not records or len(records) > OVERVIEW_ARTICLES:
            return None
        found = [(record, self._conclusion_of(record)) for record in records]
        reply = conclusions(question, [(r, *where) for r, where in found if where is not None])
        return reply if reply.answered else None

    def _scoped(self, standalone: str, source: str | None) -> tuple[str, str | None]:
        """What to search for, and in which article: a question that names an article
        ("…, according to the ultimate debate?") is answered from it, without its name
        (:mod:`bot.article_scope`); an article chosen by the caller stays chosen."""
        if source is not None or not could_name_an_article(standalone):
            return standalone, source
        scope = named_article(standalone, self.sources())
        if scope is None:
            return standalone, source
        return scope.question, scope.record.source_id

    def _stream(
        self,
        question: str,
        standalone: str,
        source: str | None,
        *,
        repeats: Callable[[Answer], Answer | None] | None = None,
    ) -> Iterator[str | Answer]:
        """:meth:`_answer`, streamed: text deltas, then the final answer."""
        reply = self._about_the_knowledge_base(question, standalone, source)
        if reply is not None:
            yield reply.text
            yield reply
            return
        standalone, source = self._scoped(standalone, source)
        evidence = self._gather(standalone, source)
        answerer = self.answerer
        final: Answer | None = None
        if evidence.passages and isinstance(answerer, StreamingAnswerer):
            for item in answerer.stream(evidence):
                if isinstance(item, Answer):
                    final = item
                else:
                    yield item
        else:
            final = answerer.answer(evidence) if evidence.passages else abstain(evidence)
            yield final.text
        if final is None:
            raise RuntimeError("the answerer's stream ended without an Answer")
        yield self._finish(final, evidence, question, standalone, repeats)

    def _gather(self, standalone: str, source: str | None, k: int = ANSWER_PASSAGES) -> Evidence:
        """The evidence for an answer, from one state of a store others may be writing.

        An embedded store is held still meanwhile, and its lock file says for free
        whether the lexical index is current. A server can do neither, and asking
        its revision first would cost a request per answer; so there the index
        is used as last checked and the revision comes with the sentence vectors,
        the answer's last read: if it moved, something changed since (before or
        during this answer), and the answer is worked out again from the new state.
        """
        self._ensure_content()
        later = not self._store.cheap_revision
        with self._store.snapshot():
            known = self._lexical.refresh(self._store, checked_later=later).known
            # "cons" finds the "Challenges" heading; "X vs Y" is asked how X and Y differ;
            # "Can you name a few…?" asks for them
            query = with_senses(as_comparison(as_request(standalone)), known)
            promote = holds_the_list_asked(query)  # read the list "Advantages of LLMs" is over
            retrieval = self._retrieve(
                query, k, source, checked_later=later, with_openings=True, promote=promote
            )
            evidence, revision = self._read_evidence(retrieval, checked_later=later)
            seen = retrieval.lexical
            if later and seen is not None and revision != seen.revision:
                log.info("the knowledge base changed while answering; answering again")
                retrieval = self._retrieve(query, k, source, with_openings=True, promote=promote)
                evidence, _ = self._read_evidence(retrieval)
            return evidence

    def _finish(
        self,
        answer: Answer,
        evidence: Evidence,
        question: str,
        standalone: str,
        repeats: Callable[[Answer], Answer | None] | None,
    ) -> Answer:
        answer = replace(answer, standalone_question=standalone)
        earlier = repeats(answer) if repeats is not None and answer.answered else None
        if earlier is not None:
            log.info("%r only repeats the answer to %r", standalone, earlier.question)
            answer = replace(
                abstain(evidence, answer.confidence),
                standalone_question=standalone,
                notice=f"The passages found only repeat the answer to “{earlier.question}”.",
            )
        return replace(answer, question=question)

    def _retrieve(
        self,
        query: str,
        k: int,
        source: str | None,
        *,
        checked_later: bool = False,
        with_openings: bool = False,
        promote: Callable[[Passage], bool] | None = None,
    ) -> Retrieval:
        self._ensure_content()
        source_id = self.resolve_source(source) if source else None
        vector = self.embed([query])[0]
        retriever = HybridRetriever(self._store, self._lexical)
        return retriever.retrieve(
            query,
            vector,
            k,
            source_id,
            checked_later=checked_later,
            with_openings=with_openings,
            promote=promote,
        )

    def _evidence(self, retrieval: Retrieval, *, with_sentences: bool = True) -> Evidence:
        """What an answerer needs; search results need no sentence vectors."""
        chunks = [p.chunk for p in retrieval.passages]
        wanted = with_sentences and chunks
        sentence_vectors = self._store.sentence_vectors(chunks) if wanted else {}
        return self._evidence_with(retrieval, sentence_vectors)

    def _read_evidence(
        self, retrieval: Retrieval, *, checked_later: bool = False
    ) -> tuple[Evidence, str | None]:
        """:meth:`_evidence` with sentence vectors, and, for ``checked_later``, the store's
        revision read in the same call (else None)."""
        if not checked_later:
            return self._evidence(retrieval), None
        chunks = [p.chunk for p in retrieval.passages]
        vectors, revision = self._store.sentence_vectors_and_revision(chunks)
        return self._evidence_with(retrieval, vectors), revision

    def _evidence_with(
        self, retrieval: Retrieval, sentence_vectors: dict[str, np.ndarray]
    ) -> Evidence:
        chunks = [p.chunk for p in retrieval.passages]
        lexical = retrieval.lexical  # the one retrieval used (an empty one is falsy)
        if lexical is None:
            lexical = self._lexical.snapshot
        records = self._source_urls([c.source_id for c in chunks], lexical.urls)
        return Evidence(
            question=retrieval.query,
            vector=retrieval.vector,
            passages=retrieval.passages,
            sentence_vectors=sentence_vectors,
            idf=lexical.idf,
            urls=records,
            known=lexical.known,
            related=lexical.related,
            following=self._following,
            word_vectors=self._words.rows,
            openings=functools.partial(self._openings, retrieval.openings),
        )

    def _openings(
        self, read: Mapping[str, StoredChunk], source_ids: Sequence[str]
    ) -> dict[str, StoredChunk]:
        """The first chunk of each of these articles: read with the passages, or else now
        (one store call; a lexical index from before it kept openings, or a source that
        ranked below the passages read)."""
        found = {s: read[s] for s in source_ids if s in read}
        missing = [s for s in source_ids if s not in read]
        return found | (self._store.openings(missing) if missing else {})

    def _following(self, passage: Passage) -> tuple[Passage, np.ndarray] | None:
        """The passage after ``passage`` in its article, with its sentence vectors (two
        store reads, only for an answer whose list runs on past its passage)."""
        chunk = self._store.chunk_at(passage.chunk.source_id, passage.chunk.position + 1)
        if chunk is None or chunk.title != passage.chunk.title:
            return None
        vectors = self._store.sentence_vectors([chunk]).get(chunk.id)
        if vectors is None:
            return None
        return Passage(chunk, passage.score, 0.0, 0.0), vectors

    def _source_urls(
        self, source_ids: Sequence[str], known: Mapping[str, str | None]
    ) -> dict[str, str | None]:
        """Each source's URL: from the records the lexical index read, else the store."""
        urls: dict[str, str | None] = {}
        for source_id in dict.fromkeys(source_ids):
            if is_url(source_id):
                urls[source_id] = source_id
            elif source_id in known:
                urls[source_id] = known[source_id]
            else:
                record = self._store.source(source_id)
                urls[source_id] = record.url if record else None
        return urls


def _optional_source(source: object) -> str | None:
    """``source`` checked as usable text, or None when no source is given."""
    return None if source is None else check_text(source, "source")
