"""Process-wide set-up, done once by each entry point (``kb``, the Discord bot, a test session).

Library code never changes the environment or other libraries' loggers: what a
process needs for the embedding model and quiet logs is applied here, by the
program that owns the process. A program embedding :class:`bot.KnowledgeBase`
may call :func:`set_up_process` itself, first thing.
"""

from __future__ import annotations

import logging
import os

from ingest.embedding_model import PROCESS_ENVIRONMENT

QUIET_LOGGERS = {"bm25s": logging.WARNING}
"""Libraries too chatty at the levels ``--verbose`` and ``KB_LOG_LEVEL=DEBUG`` use
(bm25s logs every index build at DEBUG)."""


def set_up_process(log_level: str | None = None) -> None:
    """Set the model's environment variables (unless already set) and configure logging.

    Call it before the first question or ingest: the variables take effect only if
    set before torch, transformers and tokenizers load.

    Args:
        log_level: Configure the root logger at this level (``"INFO"``...); None leaves
            logging to the caller.

    Example:
        >>> set_up_process("WARNING")  # doctest: +SKIP
    """
    for name, value in PROCESS_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    if log_level is not None:
        logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
