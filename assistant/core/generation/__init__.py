"""Generated answers: the model writes, the verifier decides what is shown.

Off unless ``llm_url`` is set. Then `Generator.answer()` takes the extractive reply the
answer step composed (its confidence and language are kept; an abstention or a Q&A entry's
own answer never comes here), sends the masked question, the masked earlier questions and
the top passages to the model (client.py, prompt.py), and checks every sentence of the
stream as it completes (citations.py, verify.py): a sentence is shown only when the
passages it cites support it, and a better-supported passage of those sent may take over
its citation. The extractive reply is shown instead, with the reason logged (never any
text), when the first sentence fails, fewer than ``verify_min_passed`` of them pass, the
model says the passages do not hold the answer, the reply is not Dutch, the model server
fails or a deadline passes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..chunking import Passage
from ..errors import GenerationError
from ..lexical import fold
from ..messages import GENERATED_LANGUAGE_NOTES
from ..question import detect_language
from ..settings import Settings
from ..types import Citation, Reply, Retrieval
from . import prompt
from .citations import Sentence, SentenceStream
from .client import ChatClient
from .verify import Thresholds, Verdict, Verifier, evidence

log = logging.getLogger("livc.generation")

# What the model writes when the passages do not hold the answer (prompt.NOT_IN_PASSAGES,
# folded), and near variants of it.
_NOT_IN_PASSAGES = ("niet in de passages", "niet in de bronnen", "staat er niet in")

REASONS = (
    "first_sentence",  # the first sentence failed the check
    "unsupported",  # fewer than verify_min_passed of the sentences passed
    "not_in_passages",  # the model said the passages do not hold the answer
    "not_dutch",  # the reply is in another language
    "empty",  # no sentence at all
    "stopped",  # the user stopped the answer
    # and GenerationError.reason: connect, timeout, http_<status>, rate_limited, unauthorized, cut_off, bad_stream
)


@dataclass
class Outcome:
    """What generation gave: the reply to show (generated, or the extractive one it fell
    back to), why it fell back (None: it did not), and figures for the evaluation."""

    reply: Reply
    reason: str | None
    sentences: int = 0  # sentences the model wrote
    passed: int = 0  # ... that passed the check and were shown
    first_sentence_ms: float | None = None  # from sending the request to the first shown sentence
    first_written_ms: float | None = None  # ... to the first sentence the model completed, shown or not
    total_ms: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)  # why sentences failed, by reason

    def summary(self) -> dict:
        return {
            "generated": self.reason is None,
            "reason": self.reason,
            "sentences": self.sentences,
            "passed": self.passed,
            "first_sentence_ms": self.first_sentence_ms,
            "first_written_ms": self.first_written_ms,
            "total_ms": self.total_ms,
            "failures": dict(self.failures),
        }


class Fallback(Exception):
    """Stop generating and show the extractive answer; `reason` is one of REASONS."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Listener:
    """Who follows an answer as it is written: `on_sentence` gets each shown sentence (with
    its final [n] markers); setting `stop` ends the stream to the model."""

    on_sentence: Callable[[str], None] | None = None
    stop: threading.Event | None = None


def sources(extractive: Reply, retrieval: Retrieval, limit: int) -> list[Passage]:
    """The passages sent: those the extractive reply quotes first, then the top hits."""
    chosen: dict[str, Passage] = {c.passage.id: c.passage for c in extractive.citations}
    for hit in retrieval.hits:
        if len(chosen) >= limit:
            break
        chosen.setdefault(hit.passage.id, hit.passage)
    return list(chosen.values())[: max(limit, len(extractive.citations))]


def says_not_in_passages(text: str) -> bool:
    folded = fold(text)
    return any(mark in folded for mark in _NOT_IN_PASSAGES)


class Generator:
    """One per assistant: the model server's client and the verifier's thresholds."""

    def __init__(self, settings: Settings, client: ChatClient | None = None):
        self.settings = settings
        self.client = client or ChatClient(settings)
        self.thresholds = Thresholds.of(settings)

    def answer(
        self,
        extractive: Reply,
        retrieval: Retrieval,
        question: str,
        history: list[str],
        store,
        embedder,
        listener: Listener | None = None,
    ) -> Outcome:
        """The generated reply to `question` (masked; `history` masked too), or `extractive`."""
        run = _Run(self, extractive, retrieval, store, embedder, listener or Listener())
        return run.go(prompt.messages(question, history, run.passages))


class _Run:
    """One answer being generated: the stream, the check of each sentence, the numbering."""

    def __init__(self, generator: Generator, extractive: Reply, retrieval: Retrieval, store, embedder, listener):
        self.settings = generator.settings
        self.client = generator.client
        self.extractive = extractive
        self.listener = listener
        self.passages = sources(extractive, retrieval, self.settings.llm_passages)
        self.verifier = Verifier.for_store(store, embedder, generator.thresholds)
        self.shown: list[tuple[Sentence, list[Passage], dict[str, str]]] = []  # sentence, passages, quotes by id
        self.numbers: dict[str, int] = {}  # passage id -> its [n] in the answer, in order of first citation
        self.outcome = Outcome(extractive, None)
        self.started = time.perf_counter()

    def go(self, messages: list[dict[str, str]]) -> Outcome:
        outcome = self.outcome
        stream = SentenceStream()
        try:
            with contextlib.closing(self.client.stream(messages, self.listener.stop)) as deltas:
                for delta in deltas:
                    for sentence in stream.feed(delta):
                        self._take(sentence)
            if self.listener.stop is not None and self.listener.stop.is_set():
                raise Fallback("stopped")
            for sentence in stream.finish():
                self._take(sentence)
            outcome.reason = self._final_reason()
        except Fallback as exc:
            outcome.reason = exc.reason
        except GenerationError as exc:
            outcome.reason = exc.reason
        outcome.total_ms = (time.perf_counter() - self.started) * 1000
        if outcome.reason is None:
            outcome.reply = self._reply()
            log.info(
                "generated answer: %d of %d sentences shown (%.0f ms)",
                outcome.passed,
                outcome.sentences,
                outcome.total_ms,
            )
        else:
            log.info(
                "generated answer fell back to the extractive one: %s (%d of %d sentences passed)",
                outcome.reason,
                outcome.passed,
                outcome.sentences,
            )
        return outcome

    def _final_reason(self) -> str | None:
        o = self.outcome
        if o.sentences == 0:
            return "empty"
        if o.passed / o.sentences < self.settings.verify_min_passed:
            return "unsupported"
        if detect_language(" ".join(s.text for s, _, _ in self.shown)) != "nl":
            return "not_dutch"
        return None

    def _take(self, sentence: Sentence) -> None:
        """Check one completed sentence; show it if it passes."""
        o = self.outcome
        o.sentences += 1
        first = o.sentences == 1
        if first:
            o.first_written_ms = (time.perf_counter() - self.started) * 1000
        if says_not_in_passages(sentence.text):
            raise Fallback("not_in_passages")
        if first and detect_language(sentence.text) != "nl":
            raise Fallback("not_dutch")
        verdict, cited = self._verify(sentence)
        if not verdict.ok:
            o.failures[verdict.reason] = o.failures.get(verdict.reason, 0) + 1
            if first:
                raise Fallback("first_sentence")
            return
        o.passed += 1
        quotes = {verdict.passage.id: verdict.quote}
        for p in cited:
            if p.id not in quotes:
                quotes[p.id] = self.verifier.check(sentence.text, [p]).quote
        self.shown.append((sentence, cited, quotes))
        for p in cited:
            self.numbers.setdefault(p.id, len(self.numbers) + 1)
        if o.first_sentence_ms is None:
            o.first_sentence_ms = (time.perf_counter() - self.started) * 1000
        if self.listener.on_sentence is not None:
            self.listener.on_sentence(self._render(sentence, cited))

    def _verify(self, sentence: Sentence) -> tuple[Verdict, list[Passage]]:
        """The verdict on `sentence` and the passages it then cites: those it named that
        exist (out-of-range numbers dropped), or a better-supported passage of those sent."""
        cited = [self.passages[n - 1] for n in sentence.cited if 1 <= n <= len(self.passages)]
        if not cited:
            return Verdict(False, "no_citation"), []
        vector = self.verifier.embed([sentence.text])[0]
        verdict = self.verifier.check(sentence.text, cited, vector)
        if verdict.ok:
            # Keep only the cited passages that hold some of it: the best one, and others
            # whose words overlap as much as a passing sentence must.
            keep = [verdict.passage] + [
                p
                for p in cited
                if p.id != verdict.passage.id
                and self.verifier.check(sentence.text, [p], vector).overlap >= self.verifier.thresholds.min_overlap
            ]
            return verdict, keep
        others = [p for p in self.passages if p not in cited]
        better = [(self.verifier.check(sentence.text, [p], vector), p) for p in others]
        better = [(v, p) for v, p in better if v.ok]
        if better:
            v, p = max(better, key=lambda vp: vp[0].cosine)
            return v, [p]
        return verdict, cited

    def _render(self, sentence: Sentence, cited: list[Passage]) -> str:
        markers = " ".join(f"[{n}]" for n in sorted(self.numbers[p.id] for p in cited))
        return f"{'- ' if sentence.bullet else ''}{sentence.text} {markers}"

    def _reply(self) -> Reply:
        pieces: list[str] = []
        for sentence, cited, _ in self.shown:
            text = self._render(sentence, cited)
            joiner = "\n" if pieces and (sentence.bullet or pieces[-1].startswith("- ")) else " "
            pieces.append(("" if not pieces else joiner) + text)
        by_id = {p.id: p for p in self.passages}
        citations = []
        for pid, n in self.numbers.items():
            passage = by_id[pid]
            quoted = {q for _, _, quotes in self.shown for i, q in quotes.items() if i == pid}
            order = {s: k for k, s in enumerate(passage.sentences)}
            quote = " ".join(sorted(quoted, key=lambda s: order.get(s, len(order))))
            citations.append(Citation(n, passage, quote))
        language = self.extractive.language
        return Reply(
            "".join(pieces),
            citations=citations,
            mode="generative",
            confidence=self.extractive.confidence,
            language=language,
            language_note=GENERATED_LANGUAGE_NOTES.get(language),
        )


__all__ = ["REASONS", "Generator", "Listener", "Outcome", "evidence"]
