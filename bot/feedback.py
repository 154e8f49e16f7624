"""👍 / 👎 feedback on answers, kept in a SQLite file next to the store."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    helpful INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '',
    answer_id TEXT NOT NULL DEFAULT '',
    UNIQUE (answer_id, user_id)
)
"""


@dataclass(frozen=True)
class Feedback:
    created_at: str
    user_id: int
    helpful: bool
    question: str
    answer: str
    sources: str
    answer_id: str


class FeedbackStore:
    """Records one vote per user per answer (a second vote replaces the first)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.execute(_SCHEMA)
        return connection

    def record(
        self,
        *,
        user_id: int,
        helpful: bool,
        question: str,
        answer: str,
        sources: list[str],
        answer_id: str,
    ) -> None:
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._connect() as connection:
            connection.execute(
                "INSERT INTO feedback (created_at, user_id, helpful, question, answer, sources, answer_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET helpful = excluded.helpful,"
                " created_at = excluded.created_at",
                (now, user_id, int(helpful), question, answer, "\n".join(sources), answer_id),
            )

    def recent(self, limit: int = 50) -> list[Feedback]:
        """The most recent votes, newest first."""
        if not self.path.exists():
            return []
        with self._lock, self._connect() as connection:
            rows = connection.execute(
                "SELECT created_at, user_id, helpful, question, answer, sources, answer_id"
                " FROM feedback ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Feedback(r[0], int(r[1]), bool(r[2]), r[3], r[4], r[5], r[6]) for r in rows]
