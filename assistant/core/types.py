"""The plain data passed between retrieval, answering and the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .chunking import Passage

if TYPE_CHECKING:
    from .followup import Vocabulary
    from .question import Reading


@dataclass
class Hit:
    """A passage retrieved for a question, with its fused and per-retriever scores."""

    passage: Passage
    score: float  # fused score, higher is better
    dense: float | None = None  # cosine similarity to the question, if the dense retriever found it
    lexical: float | None = None  # BM25 score, if the lexical retriever found it


def with_first(hits: list[Hit], passage: Passage) -> list[Hit]:
    """`hits` with `passage` first (added when it is not among them), scored as the best
    of them, and no longer than before."""
    found = next((h for h in hits if h.passage.id == passage.id), None)
    promoted = found or Hit(passage=passage, score=0.0)
    promoted.score = max((h.score for h in hits), default=1.0)
    return ([promoted] + [h for h in hits if h is not promoted])[: max(len(hits), 1)]


@dataclass(frozen=True)
class FaqMatch:
    """A Q&A entry whose own question is clearly the closest to the one asked (core.faq)."""

    passage: Passage
    similarity: float  # cosine between its question and the one asked
    answers: bool  # it ranks first and is close enough for its answer to stand as the whole answer
    same_question: bool  # a rephrasing of the very question: it was put first and is never abstained on


@dataclass
class Retrieval:
    """What search found for one question, and everything it read and computed on the way;
    the answer step works from this alone."""

    question: str  # as searched (masked, a follow-up spelled out)
    hits: list[Hit]  # best first
    vector: np.ndarray  # the embedding the dense retrievers searched with (ubiquitous terms left out)
    asked: np.ndarray  # the embedding of the question exactly as asked
    reading: Reading  # what the question asks for (question.analyse)
    vocabulary: Vocabulary | None = None  # the corpus's words (Store.vocabulary)
    faq: FaqMatch | None = None  # the Q&A entry asking this question, if any
    definition: Passage | None = None  # the guide's definition of the term the question asks about


@dataclass
class Citation:
    """What an ``[n]`` marker points at: a passage and the sentence(s) quoted from it."""

    n: int
    passage: Passage
    quote: str  # verbatim sentence(s) from passage.text that the answer uses


@dataclass(frozen=True)
class Reply:
    """What the answer step composes from a `Retrieval`; `Assistant.ask()` makes it an `Answer`."""

    text: str  # Markdown with [n] markers
    citations: list[Citation] = field(default_factory=list)
    mode: str = "extractive"  # "faq" | "extractive" | "generative"
    abstained: bool = False
    suggestions: list[Citation] = field(default_factory=list)  # nearest sections, offered on abstention
    confidence: str = "low"  # see Answer.confidence
    language: str = "nl"
    language_note: str | None = None


@dataclass
class Answer:
    """The assistant's reply to one question."""

    question: str
    text: str  # Markdown with [n] markers
    citations: list[Citation] = field(default_factory=list)
    abstained: bool = False
    mode: str = "extractive"  # "faq" | "extractive" | "generative"; an abstention is "extractive" with abstained=True
    suggestions: list[Citation] = field(default_factory=list)  # nearest sections, offered on abstention
    hits: list[Hit] = field(default_factory=list)  # the ranked retrieval behind the answer
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per step
    notice: str | None = None  # a Dutch note to the user (e.g. the question was shortened)
    masked: list[str] = field(default_factory=list)  # kinds of personal data masked in the question (privacy.KINDS)
    # "high": shown as the guide's answer; "low": shown as "Mogelijk relevant — controleer de bron".
    # An abstention is "low".
    confidence: str = "high"
    language: str = "nl"  # the question's language: "nl", "en" or "fr"
    language_note: str | None = (
        None  # for an English or French question: one line in its language saying the guide is Dutch
    )
    # With a model configured (llm_url): how generating went (generation.Outcome.summary():
    # generated or the fallback's reason, sentences written and shown, times); None without.
    generation: dict | None = None

    @classmethod
    def from_reply(cls, reply: Reply, question: str, **rest) -> Answer:
        """The answer to `question` (as shown, masked) from the answer step's `reply`;
        `rest` holds what the assistant adds: hits, notice, masked, timings."""
        return cls(
            question=question,
            text=reply.text,
            citations=list(reply.citations),
            abstained=reply.abstained,
            mode=reply.mode,
            suggestions=list(reply.suggestions),
            confidence=reply.confidence,
            language=reply.language,
            language_note=reply.language_note,
            **rest,
        )


__all__ = ["Answer", "Citation", "FaqMatch", "Hit", "Passage", "Reply", "Retrieval"]
