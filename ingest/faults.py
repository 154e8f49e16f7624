"""Named write steps a test can kill the process at, to prove every kill point repairs.

``KB_TEST_KILL_AT=<step>`` makes the process SIGKILL itself when it reaches
``step`` (for example ``chunks``: after the new chunks are written, before the
stale ones are deleted). Unset, as in normal use, :func:`checkpoint` only reads
one environment variable. The steps are listed in :data:`STEPS`.
"""

from __future__ import annotations

import os
import signal

STEPS = (
    # ChromaStore.write, in order
    "write-pending",  # pending markers written, nothing else
    "write-sentences",  # after each batch of sentence vectors
    "write-chunks",  # after each batch of chunks
    "write-stale",  # stale chunks of the changed sources deleted
    "write-records",  # final source records written
    "write-markers",  # pending markers removed, revision not yet bumped
    # ChromaStore.delete_source, in order
    "delete-pending",
    "delete-chunks",
    "delete-record",
    # Ingestor: after a batch of sources is written, before the next
    "ingest-batch",
)


def checkpoint(step: str) -> None:
    """Die here with SIGKILL if ``KB_TEST_KILL_AT`` names ``step`` (tests only)."""
    if os.environ.get("KB_TEST_KILL_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)
