"""Retrieval: three rankings of the passages fused into ranked `Hit`s.

- dense over whole passages (cosine to the question's vector),
- dense over sentence windows (a passage ranks by its best window),
- lexical: BM25 with Dutch stemming and stop words.

The vectors are searched in memory for a guide-sized index, by Chroma for a large one
(``index.vectors``). The rankings are fused with the formulas of LlamaIndex's
`QueryFusionRetriever` for one query (relative-score fusion with weights by default,
distribution-based or reciprocal-rank as options), computed here on (passage id, score)
pairs: the same scores, without building and copying node objects for every question
(tests/core/test_retrieval.py compares the two).

The fused score ranks; the raw scores (cosine, BM25) travel along on each `Hit`
because abstention and answer composition need them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from .embeddings import query_embeddings
from .faq import match_question
from .index import Store
from .index.vectors import window_passage
from .lexical import dutch_terms, tokenize, with_own_names, without_terms
from .question import Reading, analyse, content_stems, defined_term, lacks_detail, share_found
from .settings import Settings
from .types import Hit, Passage, Retrieval, with_first

Ranking = list[tuple[str, float]]  # (passage id, score), best first


def fuse(rankings: list[Ranking], weights: list[float], mode: str) -> Ranking:
    """One ranking from several, as LlamaIndex's QueryFusionRetriever fuses one query's:
    "relative_score" scales each ranking's scores to 0..1 (min-max; "dist_based_score":
    mean ± 3 standard deviations) and sums them weighted (weights summing to 1);
    "reciprocal_rerank" sums 1 / (60 + rank). Ties keep the order met first."""
    if mode == "reciprocal_rerank":
        fused: dict[str, float] = {}
        for ranking in rankings:
            for rank, (pid, _) in enumerate(sorted(ranking, key=lambda item: item[1], reverse=True)):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (rank + 60.0)
        return sorted(fused.items(), key=lambda item: item[1], reverse=True)
    fused = {}
    for ranking, weight in zip(rankings, weights):
        if not ranking:
            continue
        low, high = _score_range([score for _, score in ranking], mode == "dist_based_score")
        for pid, score in ranking:
            scaled = (1.0 if high > 0 else 0.0) if high == low else (score - low) / (high - low)
            fused[pid] = fused.get(pid, 0.0) + scaled * weight
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)


def _normalised(*weights: float) -> list[float]:
    return [w / sum(weights) for w in weights]


def _score_range(scores: list[float], by_distribution: bool) -> tuple[float, float]:
    if not by_distribution:
        return min(scores), max(scores)
    mean = sum(scores) / len(scores)
    spread = (sum((x - mean) ** 2 for x in scores) / len(scores)) ** 0.5
    return mean - 3 * spread, mean + 3 * spread


QUERY_VECTORS = 2048  # query vectors kept (1.5 kB each with e5-small)


class _Query(NamedTuple):
    question: str  # as asked, its Dutch spelling corrected
    reading: Reading  # of the question as searched (the corpus's own names for foreign ones)
    dense: str  # the text the dense rankings search with

    @property
    def texts(self) -> list[str]:
        """What the model embeds for this query: the question, and the dense text when it differs."""
        return list(dict.fromkeys((self.question, self.dense)))


class QueryVectors:
    """Query vectors by text, the least recently used forgotten past `size`. `get` embeds
    the texts it lacks in one call of the model: a question and its form without "LIVC-R"
    (and the parts of a compound question) cost one pass. Safe for concurrent questions;
    two threads may embed the same new text at once, which costs time, not correctness."""

    def __init__(self, embedder, size: int):
        self.embedder, self.size = embedder, size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, texts: list[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if not missing:
            return found
        computed = [np.asarray(v, dtype=np.float32) for v in query_embeddings(self.embedder, missing)]
        with self._lock:
            for text, vector in zip(missing, computed):
                vector.flags.writeable = False  # shared by every question that asks it
                found[text] = self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class HybridSearch:
    """Question in, ranked hits out."""

    def __init__(self, store: Store, embedder, settings: Settings):
        self.store = store
        self.embedder = embedder
        self.pool = max(settings.top_k * 2, 20)  # each ranking offers more than we keep
        self.weights = _normalised(settings.passage_weight, settings.window_weight, settings.lexical_weight)
        self.foreign_weights = _normalised(
            settings.foreign_passage_weight, settings.foreign_window_weight, settings.foreign_lexical_weight
        )
        self.settings = settings
        self.query_vectors = QueryVectors(embedder, QUERY_VECTORS)

    def clear_caches(self) -> None:
        """Forget every query vector: the next question runs the model again."""
        self.query_vectors.clear()

    def cache_sizes(self) -> dict[str, int]:
        """The query-vector cache (LRU, keyed by text) and how many entries it keeps."""
        return {"query_vectors": self.query_vectors.size}

    def retrieve(self, question: str) -> Retrieval:
        """The top passages for `question`, best first, with raw scores attached, the
        vectors searched with, what the question asks for and its Q&A match. A Dutch
        question is read with the corpus's spelling of the words it mistypes."""
        return self.retrieve_all([question])[0]

    def retrieve_all(self, questions: list[str]) -> list[Retrieval]:
        """`retrieve` for each of `questions` (a compound question and its parts), with every
        query vector they need that is not cached computed in one call of the model."""
        queries = [self._read(q) for q in questions]
        vectors = self.query_vectors.get([text for q in queries for text in q.texts])
        return [self._search(q, vectors[q.question], vectors[q.dense]) for q in queries]

    def query_texts(self, question: str) -> list[str]:
        """The texts `retrieve(question)` embeds: the question as searched (spelling
        corrected) and, when it differs, the text the dense rankings search with."""
        return self._read(question).texts

    def _read(self, question: str) -> _Query:
        reading = analyse(question)
        corrected = self.store.spelling.correct(question) if reading.language == "nl" else question
        if corrected != question:
            question, reading = corrected, analyse(corrected)
        searched = self._own_names(question, reading)
        if searched != question:
            reading = analyse(searched)
        return _Query(question, reading, self._dense_text(searched))

    def _dense_text(self, question: str) -> str:
        # The dense side sees the question without the words nearly every passage
        # contains ("LIVC-R"); BM25 discounts them by itself. A question that would keep
        # fewer than two content words ("Wie zit de LIVC-R voor?" -> "Wie zit de voor?")
        # is searched as asked.
        stripped = without_terms(question, self.store.manifest.ubiquitous_terms)
        if stripped != question and len(content_stems(stripped)) < self.settings.min_stripped_words:
            return question
        return stripped

    def _search(self, query: _Query, asked: np.ndarray, vector: np.ndarray) -> Retrieval:
        reading = query.reading
        dense, windows, lexical = self.passages(vector), self.windows(vector), self.lexical(reading)
        weights = self.weights if reading.language == "nl" else self.foreign_weights
        fused = fuse([dense, windows, lexical], weights, self.settings.fusion)[: self.settings.top_k]
        cosines, bm25 = dict(dense), dict(lexical)
        hits = [
            Hit(passage=self.store.by_id[pid], score=score, dense=cosines.get(pid), lexical=bm25.get(pid))
            for pid, score in fused
        ]
        definition = self._definition(query.question)
        hits = self._rerank(reading, hits)
        if definition is not None:
            hits = with_first(hits, definition)
        hits, faq = match_question(self.store, asked, hits, self.settings, reading)
        return Retrieval(query.question, hits, vector, asked, reading, self.store.vocabulary, faq, definition)

    def _own_names(self, question: str, reading: Reading) -> str:
        """`question` with the corpus's own names for the foreign ones it gives ("CSIL-R" ->
        "LIVC-R"): in every ranking a foreign name would pull the question to the one passage
        naming it. A question about a name keeps it ("Quelle abréviation correspond à TFL ?")."""
        return question if reading.kind == "abbreviation" else with_own_names(question, self.store.own_names)

    def passages(self, vector: np.ndarray) -> Ranking:
        """The passages nearest to `vector`, by cosine."""
        return self.store.passage_search.nearest(vector, self.pool)

    def windows(self, vector: np.ndarray) -> Ranking:
        """Passages by the cosine of their best sentence window (heading path + two sentences)."""
        best: dict[str, float] = {}
        for window, cosine in self.store.window_search.nearest(vector, self.pool * 3):
            passage_id = window_passage(window)
            best[passage_id] = max(cosine, best.get(passage_id, -1.0))
        return sorted(best.items(), key=lambda item: -item[1])[: self.pool]

    def lexical(self, reading: Reading) -> Ranking:
        """Best BM25 matches. An English or French question is searched only with its
        numbers, dates, abbreviations and article numbers ("458ter", "2016/679") and the
        guide's Dutch words for the words of its subject it uses ("loi" -> "wet",
        `dutch_terms`): Dutch stemming finds only accidental matches in its other words, and
        relative-score fusion would stretch those to full weight. The dense rankings carry
        the rest."""
        if reading.language == "nl":
            query = reading.text
        else:
            query = " ".join([*reading.entities, *dutch_terms(reading.text)])
        return list(self.store.lexical.top(query, self.pool)) if query else []

    def _definition(self, question: str) -> Passage | None:
        """The guide's own definition when the question asks what a term it defines means
        ("Wat is de AVG?" -> the glossary's "AVG (Algemene Verordening Gegevensbescherming)",
        which ranked below "7.1 AVG als kader"). It goes first; a Q&A entry that asks the
        very question still goes before it (`match_question`)."""
        term = defined_term(question)
        return self.store.defined_terms.get(frozenset(tokenize(term))) if term else None

    def _rerank(self, reading: Reading, hits: list[Hit]) -> list[Hit]:
        """Hits reordered by their fused score plus `coverage_weight` x the share of the
        question's content (its Dutch stems and its language-independent terms, each
        weighted by rarity) found in the passage and its headings, less `faq_detail_penalty`
        for a Q&A entry that leaves out a detail the question asks about (a number, date,
        abbreviation or article it names, or the kind of fact it asks for): the Q&A sheet
        summarises, the draaiboek holds the detail."""
        weight, penalty = self.settings.coverage_weight, self.settings.faq_detail_penalty
        if not reading.stems or not (weight or penalty):
            return hits
        idf, ubiquitous = self.store.vocabulary.idf, self.store.vocabulary.ubiquitous
        for hit in hits:
            text = hit.passage.embed_text
            stems = self.store.stems_of(text)
            hit.score += weight * share_found(reading, stems, idf)
            if hit.passage.kind == "faq" and lacks_detail(reading, text, stems, ubiquitous):
                hit.score -= penalty
        return sorted(hits, key=lambda h: -h.score)
