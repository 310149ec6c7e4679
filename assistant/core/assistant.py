"""The assistant: one object that the CLI, the UI and the API all call.

`Assistant.open()` loads the embedder and the current index once; `ask()` then answers
a question with citations, or says plainly that the guide does not cover it. When
another process switches the index to a new generation (``livc index``, ``livc index
--watch``), it is loaded and warmed beside the questions being answered (`watch_index`,
which app.py starts) or, without that, at the next question (`reload_if_changed`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from .answer import compose, split_question
from .documents import Document, load_corpus
from .embeddings import make_embedder
from .errors import PersonalDataError, QuestionError, StoreError
from .followup import contextualize
from .gate import Gate
from .generation import Generator, Listener
from .index import BuildReport, Store, build_index, manifest_stamp, open_index, read_manifest
from .messages import QUESTION_EMPTY, QUESTION_NO_WORDS, QUESTION_NOT_TEXT, QUESTION_TOO_LONG, READ_AS_FOLLOW_UP
from .privacy import kinds_of, mask, notice, scan
from .retrieval import HybridSearch
from .settings import Settings
from .types import Answer, Hit

MAX_QUESTION_CHARS = 2000
WARM_UP_QUESTION = "Wat is een LIVC-R?"  # asked once when an index is loaded, so no official waits for lazy loading
log = logging.getLogger(__name__)


@dataclass
class Assistant:
    settings: Settings
    embedder: object
    store: Store
    search_engine: HybridSearch

    @classmethod
    def open(cls, settings: Settings, embedder=None, build: bool = False, progress: bool = False) -> Assistant:
        """Load the model and the index. With `build`, first bring the index up to date."""
        embedder = embedder or make_embedder(settings)
        if build:
            build_index(settings, embedder, progress=progress)
        store = open_index(settings)
        store.warm()
        return cls(settings, embedder, store, HybridSearch(store, embedder, settings))

    def __post_init__(self):
        # The one concurrency gate: every front end's answers together (core/gate.py).
        self.gate = Gate(self.settings.concurrency, self.settings.queue_size)
        self._stamp = manifest_stamp(self.settings.index_dir)
        self._reload = threading.Lock()
        # Generated answers, only with a model server configured (core/generation).
        self.generator = Generator(self.settings) if self.settings.llm_url else None

    def refresh(self, progress: bool = False) -> BuildReport:
        """Rebuild the index if the corpus changed, then serve the new one."""
        report = build_index(self.settings, self.embedder, progress=progress)
        if report.changed:
            self._serve(open_index(self.settings))
        self._stamp = manifest_stamp(self.settings.index_dir)
        return report

    def reload_if_changed(self, wait: bool = True) -> bool:
        """Serve the index's current generation when another process switched to a new one
        since this one was opened; True when it did. One stat() when nothing changed. A
        new generation that cannot be opened is logged and the one in use keeps serving.
        Without `wait`, return at once while another thread is loading it (the current
        generation answers meanwhile)."""
        stamp = manifest_stamp(self.settings.index_dir)
        if stamp == self._stamp:
            return False
        if not self._reload.acquire(blocking=wait):
            return False
        try:
            if stamp == self._stamp:
                return False
            manifest = read_manifest(self.settings.index_dir)
            switched = False
            if manifest is not None and manifest.generation != self.store.manifest.generation:
                try:
                    self._serve(open_index(self.settings))
                    switched = True
                    log.info("index generation %s now served", manifest.generation)
                except StoreError as exc:
                    log.warning("new index generation not served: %s", exc)
            self._stamp = stamp
            return switched
        finally:
            self._reload.release()

    def watch_index(self, interval: float = 2.0) -> threading.Event:
        """Pick up new generations in a background thread, checking every `interval`
        seconds, so no question waits while one is loaded and warmed. Set the returned
        event to stop."""
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval):
                try:
                    self.reload_if_changed()
                except Exception:
                    log.exception("checking for a new index generation failed")

        threading.Thread(target=run, name="livc-index-watch", daemon=True).start()
        return stop

    def _serve(self, store: Store) -> None:
        """Answer from `store` from now on, once it is warm (its lazily loaded parts loaded
        by one search and its caches filled). A question in progress keeps the engine (and
        through it the store) it started with."""
        engine = HybridSearch(store, self.embedder, self.settings)
        engine.retrieve(WARM_UP_QUESTION)
        store.warm()  # the rest of what the generation makes on first use
        self.search_engine = engine
        self.store = store

    @property
    def documents(self) -> list[Document]:
        """The indexed source documents, as loaded from the corpus folder."""
        return load_corpus(self.settings.corpus_dir)[0]

    def search(self, question: str) -> list[Hit]:
        """The ranked passages for `question` (see search_masked)."""
        return self.search_masked(question)[1]

    def search_masked(self, question: str) -> tuple[str, list[Hit]]:
        """`question` as kept, its personal data masked, and its ranked passages; with the
        guard set to refuse, PersonalDataError. As in ask(), retrieval never sees the data."""
        self.reload_if_changed(wait=False)
        asked = self.guard(clean_question(question))
        return asked.text, self.search_engine.retrieve(asked.searched).hits

    def ask(self, question: str, history: list[str] | None = None, listener: Listener | None = None) -> Answer:
        """Answer `question`; `history` holds earlier questions of the conversation. At most
        ``settings.concurrency`` answers run at once (``self.gate``); the rest wait their turn.
        With a model configured, `listener` follows a generated answer sentence by sentence."""
        with self.gate.slot():
            return self._answer(question, history, listener)

    def _answer(self, question: str, history: list[str] | None, listener: Listener | None = None) -> Answer:
        started = time.perf_counter()
        self.reload_if_changed(wait=False)
        engine = self.search_engine  # one generation for the whole answer
        store = engine.store
        # Personal data is masked before anything else sees the question or the history.
        asked = self.guard(clean_question(question))
        earlier = [self.guard(h) for h in history or [] if isinstance(h, str)]
        question, masked, searched = asked.text, asked.kinds, asked.searched
        # A follow-up ("En wie zit die voor?") is searched with the earlier question spelled out.
        query = contextualize(searched, [g.searched for g in earlier], store.vocabulary)
        # A compound question's parts are searched too; all their vectors in one model call.
        parts = split_question(query)
        # A later part leans on the earlier ones as a follow-up does ("..., en kunnen die
        # worden ingeperkt?"): what they were about is spelled out for its search.
        parts = [contextualize(p, parts[:i], store.vocabulary) for i, p in enumerate(parts)]
        retrieval, *parts = engine.retrieve_all([query, *parts])
        retrieved = time.perf_counter()
        reply = compose(retrieval, store, self.settings, parts)
        generation = None
        if self.generator and not reply.abstained and reply.mode == "extractive":
            # The model rewrites the extractive answer from the same passages; only the
            # masked question and earlier questions leave the process.
            outcome = self.generator.answer(
                reply, retrieval, question, [g.text for g in earlier], store, self.embedder, listener
            )
            reply, generation = outcome.reply, outcome.summary()
        followed = READ_AS_FOLLOW_UP.format(previous=earlier[-1].text) if query != searched else None
        done = time.perf_counter()
        timings = {
            "retrieval": (retrieved - started) * 1000,
            "answer": (done - retrieved) * 1000,
            "total": (done - started) * 1000,
        }
        return Answer.from_reply(
            reply,
            question,
            hits=retrieval.hits,
            masked=masked,
            timings=timings,
            notice=" ".join(n for n in (masked and notice(masked), followed) if n) or None,
            generation=generation,
        )

    def guard(self, text: str) -> Guarded:
        """`text` with its personal data masked; in "refuse" mode a text with personal data
        raises PersonalDataError instead. Names the guide itself mentions (ministers) are
        public, not case data."""
        findings = scan(text, self.store.public_names)
        kinds = kinds_of(findings)
        if kinds and self.settings.privacy_guard == "refuse":
            raise PersonalDataError(kinds)
        return Guarded(mask(text, findings), kinds, mask(text, findings, neutral=True))


@dataclass(frozen=True)
class Guarded:
    """A text after the personal-data guard: shown and kept (`text`, with placeholders
    such as [naam]), searched (`searched`, placeholders as a neutral letter), and the
    kinds of data that were masked."""

    text: str
    kinds: list[str]
    searched: str


def clean_question(question: str) -> str:
    """Normalise a question, or raise QuestionError with a Dutch message."""
    if not isinstance(question, str):
        raise QuestionError(QUESTION_NOT_TEXT)
    text = unicodedata.normalize("NFC", question)
    text = "".join(_visible(c) for c in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError(QUESTION_EMPTY)
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(QUESTION_TOO_LONG.format(length=len(text), limit=MAX_QUESTION_CHARS))
    if not re.search(r"\w", text):
        raise QuestionError(QUESTION_NO_WORDS)
    return text


def _visible(c: str) -> str:
    """A control character becomes a space; an invisible format character (soft hyphen,
    zero-width space, byte order mark) sits inside a word, as in text pasted from a PDF,
    and is dropped."""
    kind = unicodedata.category(c)
    if kind == "Cf":
        return ""
    return " " if kind[0] == "C" else c
