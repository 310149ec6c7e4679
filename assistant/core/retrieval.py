"""Retrieval: dense (Chroma) and lexical (BM25) retrievers fused into ranked `Hit`s.

Both retrievers are plain LlamaIndex retrievers returning the same node objects for the
same passage, so LlamaIndex's `QueryFusionRetriever` can fuse them (relative-score
fusion with weights by default, RRF as an option). No LLM is involved: one query,
``llm=MockLLM()`` so LlamaIndex never reaches for an OpenAI client.

The fused score ranks; the raw scores (cosine, BM25) travel along on each `Hit`
because abstention and answer composition need them.
"""

from __future__ import annotations

import contextvars
import math
from functools import lru_cache

import numpy as np
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from .chunking import Passage
from .faq import match_question
from .index import Store, reaching_store
from .lexical import tokenize, without_terms
from .question import Reading, analyse, content_stems, detect_language, share_found
from .settings import Settings
from .types import Hit, Retrieval

# Raw per-retriever scores of the query being answered; per thread/task, so concurrent
# questions never see each other's scores.
_raw_scores: contextvars.ContextVar[dict] = contextvars.ContextVar("raw_scores")


class PassageNodes:
    """One immutable LlamaIndex node per passage, shared by both retrievers."""

    def __init__(self, passages: list[Passage]):
        self._nodes = {
            p.id: TextNode(id_=p.id, text=p.embed_text, metadata={"doc": p.doc, "kind": p.kind}) for p in passages
        }

    def __getitem__(self, passage_id: str) -> TextNode:
        return self._nodes[passage_id]


class DenseRetriever(BaseRetriever):
    """Nearest passages by cosine similarity, from the Chroma collection."""

    def __init__(self, store: Store, embedder, nodes: PassageNodes, top_k: int):
        super().__init__()
        self._inner = store.dense_retriever(embedder, top_k)
        self._nodes = nodes

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        results = []
        for found in self._inner.retrieve(query_bundle):
            # The Chroma wrapper reports exp(-distance); with cosine space distance = 1 - cos.
            cosine = 1.0 + math.log(max(found.score or 0.0, 1e-12))
            _record("dense", found.node.node_id, cosine)
            results.append(NodeWithScore(node=self._nodes[found.node.node_id], score=cosine))
        return results


class WindowRetriever(BaseRetriever):
    """Passages ranked by their best sentence window (heading path + two sentences)."""

    def __init__(self, store: Store, embedder, nodes: PassageNodes, top_k: int):
        super().__init__()
        self._inner = store.dense_retriever(embedder, top_k * 3, windows=True)
        self._nodes = nodes
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        best: dict[str, float] = {}
        for found in self._inner.retrieve(query_bundle):
            passage_id = found.node.metadata["passage_id"]
            cosine = 1.0 + math.log(max(found.score or 0.0, 1e-12))
            best[passage_id] = max(cosine, best.get(passage_id, -1.0))
        ranked = sorted(best.items(), key=lambda item: -item[1])[: self._top_k]
        return [NodeWithScore(node=self._nodes[pid], score=score) for pid, score in ranked]


class LexicalRetriever(BaseRetriever):
    """Best BM25 matches (Dutch stemming and stop words).

    On an English or French question it searches only the question's numbers, dates,
    abbreviations and article numbers ("458ter", "2016/679"): Dutch stemming finds only
    accidental matches in its other words, and relative-score fusion would stretch those
    to full weight. The dense retrievers are multilingual and carry the rest.
    """

    def __init__(self, store: Store, nodes: PassageNodes, top_k: int):
        super().__init__()
        self._index = store.lexical
        self._nodes = nodes
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str
        if detect_language(query) != "nl":
            # Numbers, dates, abbreviations and article numbers mean the same in any language.
            query = " ".join(analyse(query).entities)
            if not query:
                return []
        results = []
        for passage_id, score in self._index.top(query, self._top_k):
            _record("lexical", passage_id, score)
            results.append(NodeWithScore(node=self._nodes[passage_id], score=score))
        return results


def _record(kind: str, passage_id: str, score: float) -> None:
    log = _raw_scores.get(None)
    if log is not None:
        log.setdefault(kind, {})[passage_id] = score


class HybridSearch:
    """Question in, ranked hits out."""

    def __init__(self, store: Store, embedder, settings: Settings):
        self.store = store
        self.embedder = embedder
        pool = max(settings.top_k * 2, 20)  # each retriever offers more than we keep
        nodes = PassageNodes(store.passages)
        self.fusion = QueryFusionRetriever(
            [
                DenseRetriever(store, embedder, nodes, pool),
                WindowRetriever(store, embedder, nodes, pool),
                LexicalRetriever(store, nodes, pool),
            ],
            llm=MockLLM(),
            mode=settings.fusion,
            retriever_weights=[settings.passage_weight, settings.window_weight, settings.lexical_weight],
            similarity_top_k=settings.top_k,
            num_queries=1,
            use_async=False,
        )
        self.settings = settings
        self._passage_terms: dict[str, frozenset[str]] = {}
        # One model cache keyed by text: a question without ubiquitous terms is searched
        # and matched as asked with the same vector, computed once.
        self.embed_full = lru_cache(maxsize=2048)(lambda text: tuple(embedder.get_query_embedding(text)))
        self.embed_query = lru_cache(maxsize=1024)(self._embed_query)

    def _embed_query(self, question: str) -> tuple[float, ...]:
        # The dense side sees the question without the words nearly every passage
        # contains ("LIVC-R"); BM25 discounts them by itself. A question that would keep
        # fewer than two content words ("Wie zit de LIVC-R voor?" -> "Wie zit de voor?")
        # is searched as asked.
        stripped = without_terms(question, self.store.manifest.ubiquitous_terms)
        if stripped != question and len(content_stems(stripped)) < self.settings.min_stripped_words:
            stripped = question
        return self.embed_full(stripped)

    def clear_caches(self) -> None:
        """Empty the query-embedding caches: the next question runs the model again."""
        self.embed_query.cache_clear()
        self.embed_full.cache_clear()

    def cache_sizes(self) -> dict[str, int]:
        """The query-embedding caches (LRU, keyed by text) and how many entries each keeps."""
        return {
            "embed_query": self.embed_query.cache_info().maxsize,
            "embed_full": self.embed_full.cache_info().maxsize,
        }

    def retrieve(self, question: str) -> Retrieval:
        """The top passages for `question`, best first, with raw scores attached, the
        vectors searched with, what the question asks for and its Q&A match."""
        searched = self.embed_query(question)
        asked = np.asarray(self.embed_full(question), dtype=np.float32)
        reading = analyse(question)
        log: dict = {}
        token = _raw_scores.set(log)
        try:
            with reaching_store(self.settings):
                fused = self.fusion.retrieve(QueryBundle(query_str=question, embedding=list(searched)))
        finally:
            _raw_scores.reset(token)
        dense, lexical = log.get("dense", {}), log.get("lexical", {})
        hits = [
            Hit(
                passage=self.store.by_id[n.node.node_id],
                score=float(n.score or 0.0),
                dense=dense.get(n.node.node_id),
                lexical=lexical.get(n.node.node_id),
            )
            for n in fused
        ]
        hits, faq = match_question(self.store, asked, self._rerank(reading, hits), self.settings)
        vector = np.asarray(searched, dtype=np.float32)
        return Retrieval(question, hits, vector, asked, reading, self.store.vocabulary, faq)

    def _rerank(self, reading: Reading, hits: list[Hit]) -> list[Hit]:
        """Hits reordered by their fused score plus `coverage_weight` x the share of the
        question's content (its Dutch stems and its language-independent terms, each
        weighted by rarity) found in the passage and its headings."""
        weight = self.settings.coverage_weight
        if not weight or not reading.stems:
            return hits
        idf = self.store.vocabulary.idf
        for hit in hits:
            hit.score += weight * share_found(reading, self._terms(hit.passage.id), idf)
        return sorted(hits, key=lambda h: -h.score)

    def _terms(self, passage_id: str) -> frozenset[str]:
        terms = self._passage_terms.get(passage_id)
        if terms is None:
            p = self.store.by_id[passage_id]
            terms = self._passage_terms[passage_id] = frozenset(tokenize(p.embed_text))
        return terms
