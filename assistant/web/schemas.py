"""The API's request and response bodies, and the one JSON shape of an answer.

``answer_json()`` turns an ``Answer`` into the body of ``POST /api/v1/ask`` (``AnswerOut``);
``livc ask --json`` prints the same dict, so a program reads one shape from either. The
citations' ``url`` is absolute when the caller knows the client's origin (the API: as the
client reached the app), else the app's path of the section (with the root path).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ..core.settings import Settings
from ..core.types import Answer, Citation, Hit, Passage
from .urls import absolute, document_url

MAX_BODY_CHARS = 20_000  # a question longer than this is refused before it is even cleaned
MAX_HISTORY = 20


class ErrorBody(BaseModel):
    code: str = Field(description="stable, for programs: e.g. invalid_question, rate_limited, unauthorized")
    message: str = Field(description="Dutch, for people")


class AskRequest(BaseModel):
    question: str = Field(
        max_length=MAX_BODY_CHARS,
        examples=["Wie zit de LIVC-R voor?"],
        description="the question, in plain text (Dutch, or English/French)",
    )
    history: list[Annotated[str, Field(max_length=MAX_BODY_CHARS)]] = Field(
        default_factory=list,
        max_length=MAX_HISTORY,
        description="earlier questions of the conversation, oldest first, so follow-ups are understood",
    )
    stream: bool = Field(
        default=False,
        description="answer as server-sent events (text/event-stream): with a language model configured, "
        "'sentence' events as each checked sentence passes, then 'citations' and 'answer' (the body "
        "of a non-streamed answer); 'discard' before them when the sentences sent are replaced by the "
        "extractive answer; 'error' ({code, message}) if answering fails after the stream began",
    )


class CitationOut(BaseModel):
    n: int = Field(description="the number of the [n] marker in the answer text")
    document: str = Field(description="file name of the source document")
    title: str
    section: str = Field(description="the section's own heading")
    section_path: list[str] = Field(description="headings from the chapter down to the section")
    page: int | None = Field(description="page number (PDF sources only)")
    kind: str = Field(description="guide (draaiboek) or faq (vraag-en-antwoordfiche)")
    anchor: str
    url: str = Field(description="the section in the document viewer")
    quote: str = Field(description="the sentence(s) the answer quotes, verbatim")
    passage: str = Field(description="the whole cited passage")


class AnswerOut(BaseModel):
    question: str
    text: str = Field(description="Markdown with [n] markers")
    abstained: bool = Field(description="true when the guide does not cover the question")
    mode: str = Field(
        description="faq, extractive or generative (written by a language model from the cited passages, every "
        "sentence checked against them before it was shown)"
    )
    citations: list[CitationOut]
    suggestions: list[CitationOut] = Field(description="nearest sections, when abstained")
    timings: dict[str, float] = Field(description="milliseconds: retrieval, answer, total")
    notice: str | None = Field(description="a Dutch note to the user, e.g. how a follow-up was read")
    masked: list[str] = Field(description="kinds of personal data masked in the question (privacy guard)")
    confidence: Literal["high", "low"] = Field(
        description="high: the guide's answer; low: shown as 'Mogelijk relevant — controleer de bron' (check the "
        "source). An abstention is low."
    )
    language: str = Field(description="the question's language: nl, en or fr")
    language_note: str | None = Field(
        description="for an English or French question: one line in its language saying the guide is Dutch and the "
        "answer quotes it"
    )


class SearchResult(BaseModel):
    rank: int
    score: float = Field(description="fused score, higher is better")
    dense: float | None = Field(description="cosine similarity, if the dense retriever found it")
    lexical: float | None = Field(description="BM25 score, if the lexical retriever found it")
    document: str
    title: str
    section: str
    section_path: list[str]
    page: int | None
    kind: str
    anchor: str
    url: str
    text: str


class SearchOut(BaseModel):
    query: str
    results: list[SearchResult]


class DocumentOut(BaseModel):
    file: str
    title: str
    sha256: str = Field(description="version: hash of the file's bytes when it was indexed")
    passages: int
    indexed_at: str
    url: str


class DocumentsOut(BaseModel):
    built_at: str
    documents: list[DocumentOut]


ERRORS = {
    400: {"model": ErrorBody, "description": "malformed JSON"},
    401: {"model": ErrorBody, "description": "not signed in, or an unknown API token"},
    422: {"model": ErrorBody, "description": "a question or parameter the assistant cannot take"},
    429: {"model": ErrorBody, "description": "too many requests; see Retry-After"},
}


# ---------------------------------------------------------------------------
# From the pipeline's types to the bodies


def _source(p: Passage, settings: Settings, origin: str | None) -> dict:
    """What a citation and a search result say about their passage's place in the corpus."""
    return {
        "document": p.doc,
        "title": p.title,
        "section": p.section,
        "section_path": list(p.section_path),
        "page": p.page,
        "kind": p.kind,
        "anchor": p.anchor,
        "url": absolute(origin, document_url(settings, p.doc, p.anchor, p.page)),
    }


def citation_out(c: Citation, settings: Settings, origin: str | None = None) -> CitationOut:
    return CitationOut(n=c.n, **_source(c.passage, settings, origin), quote=c.quote, passage=c.passage.text)


def answer_out(answer: Answer, settings: Settings, origin: str | None = None) -> AnswerOut:
    """The answer as the API's body; `origin` ("http://host:port") makes its URLs absolute."""
    return AnswerOut(
        question=answer.question,
        text=answer.text,
        abstained=answer.abstained,
        mode=answer.mode,
        citations=[citation_out(c, settings, origin) for c in answer.citations],
        suggestions=[citation_out(c, settings, origin) for c in answer.suggestions],
        timings={k: round(v, 2) for k, v in answer.timings.items() if math.isfinite(v)},
        notice=answer.notice,
        masked=list(answer.masked),
        confidence="low" if answer.confidence == "low" else "high",
        language=answer.language or "nl",
        language_note=answer.language_note,
    )


def answer_json(answer: Answer, settings: Settings, origin: str | None = None) -> dict:
    """The one JSON shape of an answer: the API's body as a dict (``livc ask --json``)."""
    return answer_out(answer, settings, origin).model_dump(mode="json")


def hit_out(rank: int, hit: Hit, settings: Settings, origin: str | None = None) -> SearchResult:
    scores = {"score": _finite(hit.score) or 0.0, "dense": _finite(hit.dense), "lexical": _finite(hit.lexical)}
    return SearchResult(rank=rank, **scores, **_source(hit.passage, settings, origin), text=hit.passage.text)


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
