"""The assistant: one object that the CLI, the UI and the API all call.

`Assistant.open()` loads the embedder and the current index once; `ask()` then answers
a question with citations, or says plainly that the guide does not cover it.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass

from .answer import Evidence, compose, split_question
from .documents import Document, load_corpus
from .embeddings import make_embedder
from .followup import contextualize, corpus_vocabulary
from .index import BuildReport, Store, build_index, open_index
from .retrieval import HybridSearch
from .settings import Settings
from .types import Answer, Hit

MAX_QUESTION_CHARS = 2000


class QuestionError(ValueError):
    """A question the assistant cannot take; the message is Dutch and meant for the user."""


@dataclass
class Assistant:
    settings: Settings
    embedder: object
    store: Store
    search_engine: HybridSearch

    @classmethod
    def open(cls, settings: Settings, embedder=None, build: bool = False, progress: bool = False) -> "Assistant":
        """Load the model and the index. With `build`, first bring the index up to date."""
        embedder = embedder or make_embedder(settings)
        if build:
            build_index(settings, embedder, progress=progress)
        store = open_index(settings)
        return cls(settings, embedder, store, HybridSearch(store, embedder, settings))

    def refresh(self, progress: bool = False) -> BuildReport:
        """Rebuild the index if the corpus changed, then serve the new one."""
        report = build_index(self.settings, self.embedder, progress=progress)
        if report.changed:
            self.store = open_index(self.settings)
            self.search_engine = HybridSearch(self.store, self.embedder, self.settings)
        return report

    @property
    def documents(self) -> list[Document]:
        """The indexed source documents, as loaded from the corpus folder."""
        return load_corpus(self.settings.corpus_dir)[0]

    def search(self, question: str) -> list[Hit]:
        return self.search_engine.search(clean_question(question))

    def _evidence(self, query: str, hits: list[Hit] | None = None) -> Evidence:
        engine = self.search_engine
        hits = engine.search(query) if hits is None else hits
        return Evidence(query, engine.query_vector(query), hits, engine.asked_vector(query))

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """Answer `question`; `history` holds earlier questions of the conversation."""
        started = time.perf_counter()
        question = clean_question(question)
        # A follow-up ("En wie zit die voor?") is searched with the earlier question spelled out.
        query = contextualize(question, history, corpus_vocabulary(self.store))
        hits = self.search_engine.search(query)
        retrieved = time.perf_counter()
        evidence = self._evidence(query, hits)
        parts = [self._evidence(part) for part in split_question(query)]
        answer = compose(evidence, self.store, self.settings, parts)
        answer.question = question
        if query != question and answer.notice is None:
            answer.notice = f"Gelezen als vervolg op uw vorige vraag: “{history[-1]}”"
        done = time.perf_counter()
        answer.timings = {
            "retrieval": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        return answer


def clean_question(question: str) -> str:
    """Normalise a question, or raise QuestionError with a Dutch message."""
    if not isinstance(question, str):
        raise QuestionError("De vraag moet tekst zijn.")
    text = unicodedata.normalize("NFC", question)
    text = "".join(_visible(c) for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("Typ eerst een vraag.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"Uw vraag is te lang ({len(text)} tekens). Stel een korte vraag van hoogstens "
            f"{MAX_QUESTION_CHARS} tekens, zonder namen of dossiergegevens."
        )
    if not re.search(r"\w", text):
        raise QuestionError("Uw vraag bevat geen woorden. Stel uw vraag in gewone tekst.")
    return text


def _visible(c: str) -> str:
    """A control character becomes a space; an invisible format character (soft hyphen,
    zero-width space, byte order mark) sits inside a word, as in text pasted from a PDF,
    and is dropped."""
    kind = unicodedata.category(c)
    if kind == "Cf":
        return ""
    return " " if kind[0] == "C" else c
