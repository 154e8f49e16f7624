"""Answers given in Discord and the 👍 / 👎 feedback on them, in SQLite next to the store.

Answers are kept so that buttons keep working after a restart ("Show passages"
reads the stored citations) and so feedback can be reviewed with the question
and answer it refers to (``kb feedback``).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.results import Answer, Citation

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    answered INTEGER NOT NULL,
    citations TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    answer_id TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    helpful INTEGER NOT NULL,
    UNIQUE (answer_id, user_id)
);
"""


@dataclass(frozen=True)
class Feedback:
    """One vote, with the question and answer it was about."""

    created_at: str
    user_id: int
    helpful: bool
    question: str
    answer: str
    sources: list[str]
    answer_id: str


@dataclass(frozen=True)
class StoredAnswer:
    answer_id: str
    question: str
    text: str
    answered: bool
    citations: list[Citation]


class FeedbackStore:
    """Remembers answers and records one vote per user per answer (a new vote replaces the old)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            connection.executescript(_SCHEMA)
            with connection:
                yield connection
        finally:
            connection.close()

    def remember(self, answer: Answer, user_id: int) -> str:
        """Store an answer; returns its id (used in button custom ids)."""
        answer_id = uuid.uuid4().hex[:16]
        citations = json.dumps([c.to_dict() for c in answer.citations], ensure_ascii=False)
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    _now(),
                    user_id,
                    answer.question,
                    answer.text,
                    int(answer.answered),
                    citations,
                ),
            )
        return answer_id

    def answer(self, answer_id: str) -> StoredAnswer | None:
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT id, question, answer, answered, citations FROM answers WHERE id = ?",
                (answer_id,),
            ).fetchone()
        if row is None:
            return None
        citations = [Citation(**c) for c in json.loads(row[4])]
        return StoredAnswer(row[0], row[1], row[2], bool(row[3]), citations)

    def record(self, answer_id: str, user_id: int, helpful: bool) -> bool:
        """Record a vote; False when the answer is unknown."""
        with self._lock, self._connect() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO feedback (created_at, answer_id, user_id, helpful) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET helpful = excluded.helpful,"
                " created_at = excluded.created_at",
                (_now(), answer_id, user_id, int(helpful)),
            )
        return True

    def recent(self, limit: int = 50) -> list[Feedback]:
        """The most recent votes, newest first."""
        if not self.path.exists():
            return []
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT f.created_at, f.user_id, f.helpful, a.question, a.answer, a.citations, a.id"
                " FROM feedback f JOIN answers a ON a.id = f.answer_id"
                " ORDER BY f.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            Feedback(r[0], int(r[1]), bool(r[2]), r[3], r[4], _sources(r[5]), r[6]) for r in rows
        ]


def _sources(citations_json: str) -> list[str]:
    return list(dict.fromkeys(c["source"] for c in json.loads(citations_json)))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
