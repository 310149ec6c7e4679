"""Answers: turn ranked hits into a short Dutch reply that quotes the guide, or an abstention.

No language model: the reply is either a Q&A entry whose question matches closely
(mode ``faq``) or the few sentences from the top passages that best answer the
question, in reading order, each followed by its ``[n]`` marker (mode ``extractive``).
Every word of the reply is quoted from a cited passage, so it cannot invent law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from .chunking import Passage
from .index import Store
from .settings import Settings
from .types import Answer, Citation, Hit

NOT_IN_GUIDE = "Dit staat niet in het draaiboek of de vraag-en-antwoordfiche."


@dataclass
class Evidence:
    """What the answer step knows about a question besides its hits."""

    question: str
    vector: np.ndarray  # the embedding retrieval used (see retrieval.HybridSearch._embed_query)
    hits: list[Hit]
    asked: np.ndarray  # the embedding of the question exactly as asked


def decide_abstain(evidence: Evidence, store: Store, settings: Settings) -> bool:
    """True when nothing in the guide supports the question.

    e5 cosines sit in a narrow band (about 0.75-0.93 for any text), so an absolute
    threshold alone is fragile. The main test is relative: is the best sentence window of
    the guide closer to the question than the closest of a set of reference passages on
    other municipal subjects (assistant/data/offtopic.txt)? Both sides are measured with
    the question as asked, so English and French questions are judged like Dutch ones.
    A low absolute floor catches questions far from everything.
    """
    if evidence.hits and (evidence.hits[0].question_match or 0.0) >= settings.faq_same_question:
        return False  # the Q&A sheet asks this very question
    if not evidence.hits or not len(store.window_vectors):
        return True
    best = float(np.max(store.window_vectors @ evidence.asked))
    nearest_elsewhere = float(np.max(store.offtopic_vectors @ evidence.asked)) if len(store.offtopic_vectors) else 0.0
    return best < settings.abstain_min_cosine or best - nearest_elsewhere < settings.abstain_margin


def match_faq(evidence: Evidence, store: Store, settings: Settings) -> Passage | None:
    """The Q&A entry that answers the question as a whole, if any: it must be the best
    hit, and its own question must clearly be the closest to the one asked (see
    retrieval.HybridSearch._match_question)."""
    if not evidence.hits:
        return None
    top = evidence.hits[0]
    if top.passage.kind == "faq" and (top.question_match or 0.0) >= settings.faq_min_similarity:
        return top.passage
    return None


def compose(evidence: Evidence, store: Store, settings: Settings, parts: list[Evidence] | None = None) -> Answer:
    """The answer for a question whose hits are known.

    `parts` holds the evidence for each part of a compound question ("Wie zit er in de
    cel, en wie van hen ...?"); each part then contributes its own best sentences.
    """
    if decide_abstain(evidence, store, settings):
        return abstention(evidence)
    faq = match_faq(evidence, store, settings)
    if faq is not None and not parts:
        return _faq_answer(evidence, faq)
    return _extractive_answer(evidence, store, settings, parts or [])


# "..., en hoe kan ...?" / "... en op welk artikel ...?": a second question joined by "en".
_COMPOUND = re.compile(
    r"(?:,\s*|\s+)en\s+(?=(?:(?:op|voor|in|met|van|bij|door|tot)\s+)?"
    r"(?:wie|wat|welke?|hoe|waar|wanneer|waarom|hoeveel|sinds|mag|moet|kan|kunnen)\b)",
    re.IGNORECASE,
)


def split_question(question: str) -> list[str]:
    """The parts of a compound question, or [] when it asks one thing."""
    parts = [p.strip(" ,") for p in _COMPOUND.split(question)]
    parts = [p for p in parts if len(p.split()) >= 3]
    return parts if len(parts) > 1 else []


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


def _extractive_answer(evidence: Evidence, store: Store, settings: Settings, parts: list[Evidence]) -> Answer:
    if parts:
        share = replace(settings, answer_words=settings.answer_words // len(parts), answer_sentences=1)
        chosen = _in_reading_order({pair for part in parts for pair in select_pairs(part, store, share)}, store)
    else:
        chosen = _in_reading_order(select_pairs(evidence, store, settings), store)
    # One marker per passage, numbered in reading order; the marker follows each run of
    # sentences from that passage.
    numbers: dict[str, int] = {}
    quotes: dict[str, list[str]] = {}
    pieces: list[str] = []
    for i, (passage, sentence) in enumerate(chosen):
        n = numbers.setdefault(passage.id, len(numbers) + 1)
        quotes.setdefault(passage.id, []).append(sentence)
        last_of_run = i + 1 == len(chosen) or chosen[i + 1][0].id != passage.id
        pieces.append(f"{sentence} [{n}]" if last_of_run else sentence)
    citations = [Citation(n, store.by_id[pid], _join(quotes[pid])) for pid, n in numbers.items()]
    return Answer(
        question=evidence.question,
        text=_join(pieces),
        citations=citations,
        mode="extractive",
        hits=evidence.hits,
    )


def _in_reading_order(pairs: set[tuple[str, int]], store: Store) -> list[tuple[Passage, str]]:
    ordered = sorted(((store.by_id[pid], j) for pid, j in pairs), key=lambda pair: (pair[0].order, pair[1]))
    return [(p, p.sentences[j]) for p, j in ordered]


def select_pairs(evidence: Evidence, store: Store, settings: Settings) -> set[tuple[str, int]]:
    """(passage id, sentence number) pairs that best answer the question.

    Candidates are the sentence windows of the top passages, scored by cosine with the
    question (the window carries its heading path, so a sentence in the right section
    wins). A chosen window brings its two sentences; a sentence that announces a list
    ("... bestaat minstens uit:") brings the list. Windows are added while they score
    close to the best and the answer stays short.
    """
    candidates = []
    for rank, hit in enumerate(evidence.hits[: settings.answer_passages]):
        start, end = store.sentence_rows[hit.passage.id]
        sims = store.window_vectors[start:end] @ evidence.vector
        for i, sentence in enumerate(hit.passage.sentences):
            if len(sentence.split()) >= 4:
                candidates.append((float(sims[i]) - 0.01 * rank, hit.passage, i))
    if not candidates:
        top = evidence.hits[0].passage
        return {(top.id, j) for j in range(min(2, len(top.sentences)))}
    candidates.sort(key=lambda c: -c[0])
    best = candidates[0][0]
    picked: dict[tuple[str, int], Passage] = {}
    for score, passage, i in candidates[: settings.answer_sentences]:
        if score < best - settings.answer_gap:
            break
        addition = {(p.id, j): p for p, j in _window(store, passage, i)}
        if picked and _words(picked | addition) > settings.answer_words:
            break
        picked |= addition
    return set(picked)


def _window(store: Store, passage: Passage, i: int) -> list[tuple[Passage, int]]:
    """Sentence i, the next one, and the list that either of them announces; a list
    that runs on into the section's next passage is followed there."""
    chosen = [(passage, i)]
    if i + 1 < len(passage.sentences) and not passage.sentences[i].rstrip().endswith(":"):
        chosen.append((passage, i + 1))
    p, j = chosen[-1]
    if not p.sentences[j].rstrip().endswith(":"):
        return chosen
    for p, j in _following(store, p, j):
        if not _is_list_item(p.sentences[j]) or len(chosen) >= 10:
            break
        chosen.append((p, j))
    return chosen


def _following(store: Store, passage: Passage, i: int):
    """The sentences after sentence i, through the rest of the passage's section."""
    while passage is not None:
        for j in range(i + 1, len(passage.sentences)):
            yield passage, j
        passage, i = store.next_in_section(passage), -1


def _words(picked: dict[tuple[str, int], Passage]) -> int:
    return sum(len(p.sentences[j].split()) for (_, j), p in picked.items())


def _is_list_item(sentence: str) -> bool:
    return bool(re.match(r"^\s*(?:[-*+|]|\d+[.)])\s*", sentence))


def _join(parts: list[str]) -> str:
    """Sentences joined into Markdown: list items and table rows on their own line, and a
    sentence after a list in a paragraph of its own (not run on into the last item)."""
    out = ""
    after_item = False
    for part in parts:
        item = _is_list_item(part)
        if not out:
            out = part
        elif item or out.rstrip().endswith(":"):
            out += "\n" + part
        elif after_item:
            out += "\n\n" + part
        else:
            out += " " + part
        after_item = item
    return out
