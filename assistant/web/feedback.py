"""Feedback: thumbs up or down per answer, kept in a local SQLite file.

Maintainers read it (``livc feedback``, CSV export) to find answers that went wrong and
grow the gold set. A record holds the rating, an optional reason from a fixed list, the
answer text, its citations (passage id, document, section) and mode. The question text
is stored only when the operator turned on ``log_questions`` (env ``LIVC_LOG_QUESTIONS``),
and then with personal data masked: officials may type names or case details despite the
warning.

The file lies beside the index folder (``feedback.sqlite``) unless ``feedback_db`` names
another; rebuilding or deleting the index leaves it alone.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, TextIO

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..core.errors import ApiError
from ..core.messages import FEEDBACK_REASONS as REASONS  # offered after a thumbs down; shown and stored
from ..core.messages import REQUEST_INVALID
from ..core.privacy import mask_text
from ..core.settings import Settings
from ..core.types import Answer
from .ratelimit import RateLimiter, count_request
from .urls import API_PREFIX

MAX_FEEDBACK_TEXT = 20_000  # characters of an answer or question sent with a widget's feedback
MAX_NOTE = 1000  # characters of the free text a user may add to a thumbs down
CSV_COLUMNS = ("id", "created_at", "rating", "reason", "mode", "abstained", "question", "answer", "citations", "note")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    reason TEXT,
    mode TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    question TEXT,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL
)
"""


@dataclass
class Feedback:
    """One rating of one answer."""

    rating: int  # +1 thumbs up, -1 thumbs down
    answer: str
    mode: str
    abstained: bool = False
    citations: list[dict] = field(default_factory=list)  # {"n", "passage_id", "doc", "section", "section_path"}
    reason: str | None = None
    question: str | None = None  # only when the operator enabled log_questions or the user sent it along
    created_at: str = ""
    id: int | None = None
    note: str | None = None  # the user's own words after a thumbs down, personal data masked


def feedback_path(settings: Settings) -> Path:
    """Where the feedback database lives: ``feedback_db``, or feedback.sqlite beside the index."""
    if settings.feedback_db:
        return Path(settings.feedback_db)
    return settings.index_dir.parent / "feedback.sqlite"


def from_answer(answer: Answer, rating: int, log_questions: bool, reason: str | None = None) -> Feedback:
    """A feedback record for an answer; the question text only if `log_questions`, and
    then masked by the personal-data guard (``Assistant.ask`` masked it already; an answer
    made elsewhere is masked here)."""
    cited = answer.suggestions if answer.abstained else answer.citations
    return Feedback(
        rating=rating,
        answer=answer.text,
        mode=answer.mode,
        abstained=answer.abstained,
        citations=[
            {
                "n": c.n,
                "passage_id": c.passage.id,
                "doc": c.passage.doc,
                "section": c.passage.section,
                "section_path": list(c.passage.section_path),
            }
            for c in cited
        ],
        reason=reason,
        question=mask_text(answer.question) if log_questions else None,
    )


class FeedbackStore:
    """The feedback table in one SQLite file. Each call opens its own connection, so the
    store can be shared by the web server's worker threads."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        conn.row_factory = sqlite3.Row
        conn.execute(_SCHEMA)
        # A store made before notes existed gets the column (older rows have none).
        if "note" not in {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}:
            conn.execute("ALTER TABLE feedback ADD COLUMN note TEXT")
        return conn

    def add(self, item: Feedback) -> int:
        """Store a record; returns its id."""
        _check(item.rating, item.reason)
        created = item.created_at or datetime.now(UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as conn, conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, rating, reason, mode, abstained, question, answer, citations, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created,
                    item.rating,
                    item.reason,
                    item.mode,
                    int(item.abstained),
                    item.question,
                    item.answer,
                    json.dumps(item.citations, ensure_ascii=False),
                    clean_note(item.note),
                ),
            )
            return int(cur.lastrowid)

    def update(
        self,
        feedback_id: int,
        rating: int | None = None,
        reason: str | None = None,
        note: str | None = None,
        question: str | None = None,
    ) -> None:
        """Change the rating or set the reason, note or (masked) question of a stored record."""
        with closing(self._connect()) as conn, conn:
            if rating is not None:
                _check(rating, None)
                conn.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id))
            if reason is not None:
                _check(-1, reason)
                conn.execute("UPDATE feedback SET reason = ? WHERE id = ?", (reason, feedback_id))
            if note is not None:
                conn.execute("UPDATE feedback SET note = ? WHERE id = ?", (clean_note(note), feedback_id))
            if question is not None:
                conn.execute("UPDATE feedback SET question = ? WHERE id = ?", (mask_text(question), feedback_id))

    def delete(self, feedback_id: int) -> None:
        """Remove a record (the user took the thumb back)."""
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM feedback WHERE id = ?", (feedback_id,))

    def list(self, limit: int | None = None) -> list[Feedback]:
        """Records, newest first."""
        if not self.path.exists():
            return []
        query = "SELECT * FROM feedback ORDER BY id DESC" + (" LIMIT ?" if limit else "")
        with closing(self._connect()) as conn:
            rows = conn.execute(query, (limit,) if limit else ()).fetchall()
        return [_record(r) for r in rows]

    def export_csv(self, out: TextIO) -> int:
        """Write every record as CSV (oldest first); returns how many. Text cells that a
        spreadsheet would run as a formula are neutralised (`spreadsheet_safe`)."""
        records = list(reversed(self.list()))
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for f in records:
            writer.writerow(
                [
                    f.id,
                    f.created_at,
                    f.rating,
                    spreadsheet_safe(f.reason or ""),
                    f.mode,
                    int(f.abstained),
                    spreadsheet_safe(f.question or ""),
                    spreadsheet_safe(f.answer),
                    spreadsheet_safe(json.dumps(f.citations, ensure_ascii=False)),
                    spreadsheet_safe(f.note or ""),
                ]
            )
        return len(records)


# A cell starting with one of these is a formula to Excel and LibreOffice ("=HYPERLINK(...)"
# sends the sheet's contents elsewhere when clicked); a typed question can start so.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """`text` as a spreadsheet shows it, never runs it: a leading formula character gets an
    apostrophe before it (the spreadsheets' own way of saying "text")."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _check(rating: int, reason: str | None) -> None:
    if rating not in (-1, 1):
        raise ValueError(f"rating must be 1 or -1, not {rating!r}")
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {', '.join(REASONS)}")


def _record(row: sqlite3.Row) -> Feedback:
    return Feedback(
        id=row["id"],
        created_at=row["created_at"],
        rating=row["rating"],
        reason=row["reason"],
        mode=row["mode"],
        abstained=bool(row["abstained"]),
        question=row["question"],
        answer=row["answer"],
        citations=json.loads(row["citations"]),
        note=row["note"] if "note" in row.keys() else None,
    )


def clean_note(note: str | None) -> str | None:
    """A user's note as stored: at most MAX_NOTE characters, personal data masked; None when empty."""
    text = " ".join((note or "").split())[:MAX_NOTE]
    return mask_text(text) if text else None


# ---------------------------------------------------------------------------
# Feedback from the widget and the embed page: POST /api/v1/feedback


class FeedbackCitationIn(BaseModel):
    n: int = Field(ge=0, le=1000)
    document: str = Field(max_length=500)
    section: str = Field(default="", max_length=2000)
    section_path: list[Annotated[str, Field(max_length=2000)]] = Field(default_factory=list, max_length=20)


class FeedbackIn(BaseModel):
    """A thumb on an answer the API gave (its fields as ``POST /api/v1/ask`` returned them)."""

    rating: Literal[1, -1] = Field(description="1: nuttig, -1: niet nuttig")
    reason: str | None = Field(default=None, description="after a thumbs down: one of the offered reasons")
    text: str = Field(max_length=MAX_FEEDBACK_TEXT, description="the answer's text")
    mode: str = Field(default="extractive", max_length=20)
    abstained: bool = False
    citations: list[FeedbackCitationIn] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=MAX_NOTE, description="the user's own words (masked)")
    question: str | None = Field(
        default=None,
        max_length=MAX_FEEDBACK_TEXT,
        description="only when the user chose to send it along; stored with personal data masked",
    )


def feedback_router(settings: Settings, limiter: RateLimiter) -> APIRouter:
    """``POST /api/v1/feedback``: a thumb (and reason) from the widget, in the same store as the
    chat's. The question is kept only when the user chose to send it along ("Stuur mijn vraag
    mee"), and then masked. Include it before the API's own router (whose last
    route answers every other /api/v1 path)."""
    store = FeedbackStore(feedback_path(settings))
    router = APIRouter(prefix=API_PREFIX, tags=["api"])

    @router.post("/feedback", status_code=201, summary="Rate an answer (widget, embed page)")
    def give(body: FeedbackIn, request: Request) -> dict:
        count_request(limiter, request)
        if body.reason is not None and (body.rating != -1 or body.reason not in REASONS):
            raise ApiError(422, "invalid_request", REQUEST_INVALID)
        question = body.question if body.question and body.question.strip() else None
        item = Feedback(
            rating=body.rating,
            reason=body.reason,
            answer=body.text,
            mode=body.mode,
            abstained=body.abstained,
            citations=[
                {"n": c.n, "passage_id": None, "doc": c.document, "section": c.section, "section_path": c.section_path}
                for c in body.citations
            ],
            question=mask_text(question) if question else None,
            note=body.note,
        )
        return {"id": store.add(item)}

    return router
