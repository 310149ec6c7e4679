"""Answers: turn ranked hits into a short Dutch reply that quotes the guide, or an abstention.

No language model: the reply is either a Q&A entry whose question matches closely
(mode ``faq``) or the few sentences from the top passages that best answer the
question, in reading order, each followed by its ``[n]`` marker (mode ``extractive``).
Every word of the reply is quoted from a cited passage, so it cannot invent law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chunking import Passage
from .index import Store
from .lexical import tokenize
from .settings import Settings
from .types import Answer, Citation, Hit

NOT_IN_GUIDE = "Dit staat niet in het draaiboek of de vraag-en-antwoordfiche."
SUGGESTIONS_INTRO = "Deze onderdelen komen het dichtst in de buurt:"


@dataclass
class Evidence:
    """What the answer step knows about a question besides its hits."""

    question: str
    vector: np.ndarray  # the question's query embedding
    hits: list[Hit]


def decide_abstain(evidence: Evidence, store: Store, settings: Settings) -> bool:
    """True when nothing in the guide supports the question.

    e5 cosines sit in a narrow band (about 0.75-0.92 for any Dutch text), so an absolute
    threshold alone is fragile. The main test is relative: is the best passage of the
    guide closer to the question than the closest of a set of reference passages about
    other municipal subjects (assistant/data/offtopic.txt)? A low absolute floor catches
    questions far from everything, including subjects the reference set lacks.
    """
    dense = [h.dense for h in evidence.hits if h.dense is not None]
    if not dense:
        return True
    return max(dense) < settings.abstain_min_cosine or support_margin(evidence, store) < settings.abstain_margin


def support_margin(evidence: Evidence, store: Store) -> float:
    """Cosine of the best guide passage minus that of the best off-topic reference passage."""
    best = max((h.dense for h in evidence.hits if h.dense is not None), default=0.0)
    if not len(store.offtopic_vectors):
        return best
    return best - float(np.max(store.offtopic_vectors @ evidence.vector))


def lexical_overlap(question: str, text: str) -> float:
    """Share of the question's content words (stemmed) that occur in `text`."""
    asked = set(tokenize(question))
    if not asked:
        return 0.0
    return len(asked & set(tokenize(text))) / len(asked)


def match_faq(evidence: Evidence, store: Store, settings: Settings) -> Passage | None:
    """The Q&A entry that answers the question as a whole, if any: it must be the best
    hit and its own question must be close to the one asked. (Question-to-question
    similarity alone is not enough: every question mentioning "LIVC-R" looks alike.)"""
    if not evidence.hits or evidence.hits[0].passage.kind != "faq":
        return None
    top = evidence.hits[0].passage
    if top.id not in store.faq_ids:
        return None
    similarity = float(store.faq_vectors[store.faq_ids.index(top.id)] @ evidence.vector)
    return top if similarity >= settings.faq_min_similarity else None


def compose(evidence: Evidence, store: Store, settings: Settings) -> Answer:
    """The answer for a question whose hits are known."""
    if decide_abstain(evidence, store, settings):
        return abstention(evidence)
    faq = match_faq(evidence, store, settings)
    if faq is not None:
        return _faq_answer(evidence, faq)
    return _extractive_answer(evidence, store, settings)


def abstention(evidence: Evidence) -> Answer:
    return Answer(
        question=evidence.question,
        text=NOT_IN_GUIDE,
        abstained=True,
        mode="extractive",
        suggestions=suggest_sections(evidence.hits),
        hits=evidence.hits,
    )


def suggest_sections(hits: list[Hit], limit: int = 3) -> list[Citation]:
    """The nearest distinct sections, offered when the guide has no answer."""
    seen, out = set(), []
    for hit in hits:
        key = (hit.passage.doc, hit.passage.anchor)
        if key not in seen:
            seen.add(key)
            out.append(Citation(len(out) + 1, hit.passage, hit.passage.sentences[0]))
        if len(out) == limit:
            break
    return out


def _faq_answer(evidence: Evidence, faq: Passage) -> Answer:
    return Answer(
        question=evidence.question,
        text=f"{faq.text} [1]",
        citations=[Citation(1, faq, faq.text)],
        mode="faq",
        hits=evidence.hits,
    )


def _extractive_answer(evidence: Evidence, store: Store, settings: Settings) -> Answer:
    chosen = select_sentences(evidence, store, settings)
    # Number the cited passages in reading order; one marker per passage.
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    parts = []
    for passage, sentence in chosen:
        n = numbers.setdefault(passage.id, len(numbers) + 1)
        quotes.setdefault(passage.id, []).append(sentence)
        parts.append(f"{sentence} [{n}]")
    citations = [Citation(n, store.by_id[pid], " ".join(quotes[pid])) for pid, n in numbers.items()]
    return Answer(
        question=evidence.question,
        text=" ".join(parts) if len(chosen) < 2 or not _has_list_items(chosen) else "\n".join(parts),
        citations=citations,
        mode="extractive",
        hits=evidence.hits,
    )


def select_sentences(evidence: Evidence, store: Store, settings: Settings, passages: int = 3) -> list[tuple[Passage, str]]:
    """The sentences that best answer the question, from the top passages, in reading order."""
    candidates: list[tuple[float, Passage, int]] = []
    for rank, hit in enumerate(evidence.hits[:passages]):
        start, end = store.sentence_rows[hit.passage.id]
        sims = store.sentence_vectors[start:end] @ evidence.vector
        for i, sentence in enumerate(hit.passage.sentences):
            if len(sentence.split()) < 4:
                continue
            score = float(sims[i]) + 0.15 * lexical_overlap(evidence.question, sentence) - 0.02 * rank
            candidates.append((score, hit.passage, i))
    if not candidates:
        top = evidence.hits[0].passage
        return [(top, s) for s in top.sentences[: settings.answer_sentences]]
    candidates.sort(key=lambda c: -c[0])
    best = candidates[0][0]
    keep = [c for c in candidates[: settings.answer_sentences] if c[0] >= best - 0.05]
    keep.sort(key=lambda c: (c[1].order, c[2]))
    return [(p, p.sentences[i]) for _, p, i in keep]


def _has_list_items(chosen: list[tuple[Passage, str]]) -> bool:
    return any(s.lstrip().startswith(("-", "*", "|")) or s[:2].rstrip(".)").isdigit() for _, s in chosen)
