"""The conversation as the browser keeps it: one record per answered question.

The chat hands the page a record of every answer (``conversation_json``); the page keeps
them in ``sessionStorage`` (never on the server), restores the conversation from them after
a reload (``answer_from_record``) and sends them back to be exported (``assistant.web.export``).

A record is the API's answer JSON (``assistant.web.schemas.answer_json``) with what a restore
needs beside it: the turn's number and, per citation, the passage's id and sentences (to mark
the quoted ones again) instead of its whole text. A record comes back from the browser, so it
is read as untrusted data: validated here, and every text in it is escaped wherever it is shown.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from ..core.settings import Settings
from ..core.types import Answer, Citation, Passage
from .schemas import MAX_BODY_CHARS, answer_json

MAX_TURNS = 50  # records restored or exported at most: the newest
TEXT = MAX_BODY_CHARS  # the longest text a record may hold in one field


class KeptPassage(BaseModel):
    """A citation (or suggestion) of a kept answer: where it points and what it quotes."""

    n: int = Field(ge=0, le=1000)
    document: str = Field(max_length=500)
    title: str = Field(max_length=2000)
    section: str = Field(max_length=2000)
    section_path: list[str] = Field(default_factory=list, max_length=20)
    page: int | None = Field(default=None, ge=0, le=1_000_000)
    page_end: int | None = Field(default=None, ge=0, le=1_000_000)
    kind: Literal["guide", "faq"] = "guide"
    anchor: str = Field(default="", max_length=500)
    quote: str = Field(default="", max_length=TEXT)
    passage_id: str = Field(default="", max_length=200)
    sentences: list[str] = Field(default_factory=list, max_length=400)
    faq_question: str | None = Field(default=None, max_length=2000)
    doc_date: str = Field(default="", max_length=40)
    doc_sha256: str = Field(default="", max_length=100)


class KeptAnswer(BaseModel):
    """One answered question as the browser keeps it (extra fields of the API's shape are ignored)."""

    turn: int = Field(ge=0, le=10_000)
    question: str = Field(max_length=TEXT)
    text: str = Field(max_length=TEXT)
    abstained: bool = False
    mode: str = Field(default="extractive", max_length=20)
    citations: list[KeptPassage] = Field(default_factory=list, max_length=50)
    suggestions: list[KeptPassage] = Field(default_factory=list, max_length=50)
    notice: str | None = Field(default=None, max_length=TEXT)
    masked: list[str] = Field(default_factory=list, max_length=20)
    confidence: Literal["high", "low"] = "high"
    language: str = Field(default="nl", max_length=5)
    language_note: str | None = Field(default=None, max_length=2000)


def answer_record(turn_no: int, answer: Answer, settings: Settings) -> dict:
    """The record of `answer`, the conversation's turn `turn_no`, as the page keeps it."""
    body = answer_json(answer, settings)
    body["turn"] = turn_no
    for key, cited in (("citations", answer.citations), ("suggestions", answer.suggestions)):
        for out, citation in zip(body[key], cited, strict=True):
            del out["passage"]  # the whole text travels as its sentences
            out.update(_passage_extras(citation.passage))
    return body


def _passage_extras(p: Passage) -> dict:
    """What a restore needs of a passage beyond the API's fields (its text is in `sentences`)."""
    return {
        "passage_id": p.id,
        "sentences": list(p.sentences or [p.text]),
        "faq_question": p.question,
        "page_end": p.page_end,
        "doc_date": p.doc_date,
        "doc_sha256": p.doc_sha256,
    }


def conversation_json(records: list[dict]) -> str:
    """The records as the page receives them (JSON text)."""
    return json.dumps(records, ensure_ascii=False, separators=(",", ":"))


def read_record(text: str) -> KeptAnswer | None:
    """One record sent back by the page, validated; None when it is not one."""
    try:
        return KeptAnswer.model_validate_json(text)
    except (ValidationError, ValueError):
        return None


def read_records(data: object) -> list[KeptAnswer]:
    """The records of a parsed JSON list (the newest MAX_TURNS), each validated; the invalid ones are left out."""
    if not isinstance(data, list):
        return []
    kept = []
    for item in data[-MAX_TURNS:]:
        try:
            kept.append(KeptAnswer.model_validate(item))
        except ValidationError:
            continue
    return kept


def answer_from_record(record: KeptAnswer, by_id: dict[str, Passage] | None = None) -> Answer:
    """The answer a record describes, to show and follow up on again: each passage the
    index still holds under its id is taken from there, any other is rebuilt from the record."""
    by_id = by_id or {}

    def cite(kept: KeptPassage) -> Citation:
        return Citation(kept.n, by_id.get(kept.passage_id) or _passage(kept), kept.quote)

    return Answer(
        question=record.question,
        text=record.text,
        citations=[cite(c) for c in record.citations],
        abstained=record.abstained,
        mode=record.mode,
        suggestions=[cite(c) for c in record.suggestions],
        notice=record.notice,
        masked=list(record.masked),
        confidence=record.confidence,
        language=record.language,
        language_note=record.language_note,
    )


def _passage(kept: KeptPassage) -> Passage:
    return Passage(
        id=kept.passage_id,
        doc=kept.document,
        title=kept.title,
        section=kept.section,
        section_path=list(kept.section_path),
        anchor=kept.anchor,
        kind=kept.kind,
        text=" ".join(kept.sentences),
        sentences=list(kept.sentences),
        question=kept.faq_question,
        page=kept.page,
        page_end=kept.page_end,
        doc_sha256=kept.doc_sha256,
        doc_date=kept.doc_date,
    )
