"""Retrieval's parts: the fusion (LlamaIndex's formulas, computed on ids and scores) and
the vector search (in memory for a small collection, Chroma for a large one or a server's),
which must give the same rankings and so the same answers."""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
from helpers import ROOT, HashEmbedding, settings_for, write_small_corpus
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.core.assistant import Assistant
from assistant.core.index import build_index, open_index
from assistant.core.index.vectors import ChromaVectors, MemoryVectors
from assistant.core.retrieval import fuse
from assistant.core.settings import FUSION_MODES


class Fixed(BaseRetriever):
    """A LlamaIndex retriever that returns a given ranking."""

    def __init__(self, ranking):
        super().__init__()
        self._ranking = ranking

    def _retrieve(self, query_bundle):
        return [NodeWithScore(node=TextNode(id_=pid, text=pid), score=score) for pid, score in self._ranking]


def random_rankings(rng: random.Random) -> list[list[tuple[str, float]]]:
    ids = [f"p{i}" for i in range(30)]
    rankings = []
    for _ in range(3):
        chosen = rng.sample(ids, rng.randint(0, 12))
        scores = [round(rng.uniform(-1, 5), rng.choice([1, 6])) for _ in chosen]  # rounding makes ties
        rankings.append(sorted(zip(chosen, scores), key=lambda item: -item[1]))
    return rankings


@pytest.mark.parametrize("mode", FUSION_MODES)
def test_fusion_gives_llamaindexs_scores_and_order(mode):
    rng = random.Random(7)
    for _ in range(200):
        rankings = random_rankings(rng)
        weights = [rng.uniform(0.1, 1) for _ in rankings]
        theirs = QueryFusionRetriever(
            [Fixed(r) for r in rankings],
            llm=MockLLM(),
            mode=mode,
            retriever_weights=weights,
            similarity_top_k=100,
            num_queries=1,
            use_async=False,
        ).retrieve(QueryBundle("q"))
        ours = fuse(rankings, [w / sum(weights) for w in weights], mode)
        assert [pid for pid, _ in ours] == [n.node.node_id for n in theirs]
        assert [score for _, score in ours] == [n.score for n in theirs]


def test_memory_search_is_exact_and_best_first():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    search = MemoryVectors([f"v{i}" for i in range(500)], vectors)
    query = rng.normal(size=16)
    cosines = vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))
    expected = [f"v{i}" for i in np.argsort(-cosines)[:20]]
    found = search.nearest(query, 20)
    assert [i for i, _ in found] == expected
    assert [c for _, c in found] == pytest.approx(sorted(cosines, reverse=True)[:20], abs=1e-6)
    assert len(search.nearest(query, 1000)) == 500 and search.nearest(query, 0) == []
    assert MemoryVectors([], np.zeros((0, 16))).nearest(query, 5) == []


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """The small corpus indexed with the fake model: mechanics, not meaning."""
    base = tmp_path_factory.mktemp("retrieval")
    write_small_corpus(base / "corpus")
    settings = settings_for(base / "corpus", base / "index")
    embedder = HashEmbedding()
    build_index(settings, embedder, progress=False)
    return settings, embedder


def test_a_small_collection_is_searched_in_memory_a_large_one_by_chroma(small_index):
    settings, _ = small_index
    store = open_index(settings)
    assert isinstance(store.passage_search, MemoryVectors) and isinstance(store.window_search, MemoryVectors)
    assert len(store.passage_search) == len(store.passages)
    assert len(store.window_search) == sum(len(p.sentences) for p in store.passages)
    chroma = open_index(dataclasses.replace(settings, memory_search_limit=len(store.passages) - 1))
    assert isinstance(chroma.passage_search, ChromaVectors) and isinstance(chroma.window_search, ChromaVectors)
    assert len(chroma.passage_search) == len(store.passages)


def test_memory_and_chroma_rank_the_same_passages_with_the_same_cosines(small_index):
    settings, embedder = small_index
    memory = open_index(settings)
    chroma = open_index(dataclasses.replace(settings, memory_search_limit=0))
    for question in ("Wie zit de cel voor?", "Wat is een casusoverleg?", "beroepsgeheim gedeeld", "Hoe lang?"):
        vector = np.asarray(embedder.get_query_embedding(question), dtype=np.float32)
        for a, b in ((memory.passage_search, chroma.passage_search), (memory.window_search, chroma.window_search)):
            ours, theirs = a.nearest(vector, 50), b.nearest(vector, 50)
            assert {i for i, _ in ours} == {i for i, _ in theirs}
            by_id = dict(theirs)
            assert all(abs(c - by_id[i]) < 1e-5 for i, c in ours)


GOLD_SAMPLE = 24  # questions of each dev set, spread over the file


@pytest.mark.usefixtures("corpus_index")
def test_answers_are_the_same_searched_in_memory_or_by_chroma(corpus_index, embedder):
    """Per question of a sample of both dev sets, with the real model and the shipped
    guide: the same answer text, citations, confidence and hit order either way; fused
    scores agree within 1e-4 (float32 rounding in a different order)."""
    rows = []
    for name in ("gold-dev.jsonl", "gold-dev2.jsonl"):
        lines = (ROOT / "eval" / name).read_text(encoding="utf-8").splitlines()
        rows += [json.loads(line) for line in lines[:: max(1, len(lines) // GOLD_SAMPLE)]]
    memory = corpus_index.assistant
    chroma = Assistant.open(dataclasses.replace(corpus_index.settings, memory_search_limit=0), embedder=embedder)
    assert isinstance(memory.store.passage_search, MemoryVectors)
    assert isinstance(chroma.store.passage_search, ChromaVectors)
    for row in rows:
        a, b = memory.ask(row["question"]), chroma.ask(row["question"])
        assert (a.text, a.confidence, a.abstained, a.mode) == (b.text, b.confidence, b.abstained, b.mode), row["id"]
        assert [c.passage.id for c in a.citations] == [c.passage.id for c in b.citations], row["id"]
        assert [h.passage.id for h in a.hits] == [h.passage.id for h in b.hits], row["id"]
        assert all(abs(x.score - y.score) < 1e-4 for x, y in zip(a.hits, b.hits)), row["id"]


class CountingModel:
    """The real model with its query calls counted, and the texts each call embedded."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def get_query_embeddings(self, queries: list[str]) -> list[list[float]]:
        self.calls.append(list(queries))
        return self.model.get_query_embeddings(queries)

    def get_query_embedding(self, query: str) -> list[float]:
        return self.get_query_embeddings([query])[0]


@pytest.mark.usefixtures("corpus_index")
def test_a_new_question_runs_the_model_once_and_a_repeated_one_not_at_all(corpus_index, embedder):
    """The question as asked (the Q&A match, abstention) and its form without "LIVC-R" (the
    dense rankings) are two texts, embedded in one call; a compound question's parts join
    that call; the vectors are kept for the next time the question comes."""
    from assistant.core.answer import split_question
    from assistant.core.retrieval import HybridSearch

    model = CountingModel(embedder)
    engine = HybridSearch(corpus_index.assistant.store, model, corpus_index.settings)
    question = "Welke partners nodigt de burgemeester uit in de LIVC-R?"
    retrieval = engine.retrieve(question)
    assert model.calls == [[question, "Welke partners nodigt de burgemeester uit ?"]]
    assert not np.array_equal(retrieval.vector, retrieval.asked)
    engine.retrieve(question)
    assert len(model.calls) == 1

    compound = "Wie zit de LIVC-R voor, en wie maakt het verslag van de vergadering op?"
    parts = split_question(compound)
    whole, *each = engine.retrieve_all([compound, *parts])
    assert len(parts) == 2 and len(model.calls) == 2 and len(model.calls[1]) >= 3
    assert [h.passage.id for h in each[1].hits] == [h.passage.id for h in engine.retrieve(parts[1]).hits]
    assert len(model.calls) == 2 and whole.question == compound


def test_the_texts_a_question_embeds_are_what_retrieval_embeds(corpus_index, embedder):
    """`query_texts` (what the bench counts) is the engine's own rule: the question without
    "LIVC-R", unless too little of it is left ("Wie zit de voor?"), after spelling
    correction; exactly the texts the model is asked for."""
    from assistant.core.retrieval import HybridSearch

    engine = HybridSearch(corpus_index.assistant.store, CountingModel(embedder), corpus_index.settings)
    for question, texts in [
        ("Welke partners nodigt de burgemeester uit in de LIVC-R?", 2),
        ("Wie zit de LIVC-R voor?", 1),
        ("Welke partners nodigt de burgemeester uit?", 1),
    ]:
        assert len(engine.query_texts(question)) == texts, question
        model = CountingModel(embedder)
        HybridSearch(corpus_index.assistant.store, model, corpus_index.settings).retrieve(question)
        assert model.calls == [engine.query_texts(question)], question
