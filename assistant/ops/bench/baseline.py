"""The naive LlamaIndex baseline beside ours at 1x: built once as `evaluation.run_baseline`
builds it, its latency measured question by question beside ours, quality and ratios."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from .config import QUALITY_KEYS
from .embedding import BenchEmbedding
from .latency import ms_summary


@dataclass
class Baseline:
    """The naive LlamaIndex pipeline of the evaluation (`evaluation.run_baseline`), built
    once at 1x with the same model so that its query latency can be measured question by
    question beside ours. Its embedder is a second `BenchEmbedding` over the same model,
    so its counts stay apart from ours."""

    retriever: Any
    embedder: BenchEmbedding
    build: dict

    @classmethod
    def build_for(cls, documents: list, model: BaseEmbedding) -> Baseline:
        """Split, embed and index `documents` as run_baseline does (its constants)."""
        from llama_index.core import Document as LIDocument
        from llama_index.core import VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from ..evaluation import BASELINE_CHUNK_OVERLAP, BASELINE_CHUNK_SIZE, MAX_K

        embedder = BenchEmbedding(model)
        embedder.mode = "record"  # run_baseline later gets these vectors back instead of embedding again
        started = time.perf_counter()
        splitter = SentenceSplitter(chunk_size=BASELINE_CHUNK_SIZE, chunk_overlap=BASELINE_CHUNK_OVERLAP)
        nodes = splitter.get_nodes_from_documents(
            [LIDocument(text=d.text, metadata={"doc": d.name}) for d in documents]
        )
        retriever = VectorStoreIndex(nodes, embed_model=embedder).as_retriever(similarity_top_k=MAX_K)
        seconds = time.perf_counter() - started
        embedder.mode = "model"
        build = {
            "seconds": round(seconds, 3),
            "chunks": len(nodes),
            "texts_embedded": embedder.stats()["model_texts"],
            "model_seconds": round(embedder.stats()["model_seconds"], 3),
            "cache": False,
        }
        return cls(retriever, embedder, build)

    def retrieve(self, question: str) -> list:
        return self.retriever.retrieve(question)


def measure_baseline(
    rows: list[dict], answers: list, documents: list, baseline: Baseline, baseline_ms: list[float], ours: dict
) -> dict:
    """The baseline beside ours at 1x: its build and its latency (measured beside ours),
    and the evaluation's quality metrics for both: ours from `answers` (our new-question
    ask() calls), the baseline's from `evaluation.run_baseline` itself (over the vectors
    already embedded for the retriever)."""
    from ..evaluation import answer_outcome, run_baseline, score_rows

    our_scores = score_rows(rows, [answer_outcome(r, a, ms) for r, (a, ms) in zip(rows, answers)])
    before = baseline.embedder.stats()["query_calls"]
    baseline.embedder.mode = "replay"
    try:
        outcomes = run_baseline(rows, documents, baseline.embedder)
    finally:
        baseline.embedder.mode = "model"
    base = {
        "build": baseline.build,
        "latency_ms": {"retrieval": ms_summary(baseline_ms)},
        "model_calls_per_question": round((baseline.embedder.stats()["query_calls"] - before) / len(rows), 2),
    }
    quality = {"ours": _flat(our_scores), "baseline": _flat(score_rows(rows, outcomes))}
    return {
        "description": "evaluation.run_baseline: SentenceSplitter 1024/200 chunks of each whole document in an "
        "in-memory VectorStoreIndex, dense top-10 only, answer = first 120 words of the top chunk, "
        "never abstains; same model, same questions, same process, at 1x. Its latency is measured "
        "question by question beside ours (retriever built as run_baseline builds it); its quality "
        "comes from run_baseline itself.",
        "baseline": base,
        "quality": quality,
        "ratios": ratios(ours, base, quality),
    }


def _flat(scores: dict) -> dict:
    merged = {**scores["retrieval"], **scores["answers"]}
    return {k: merged.get(k) for k in QUALITY_KEYS}


def ratios(ours: dict, base: dict, quality: dict) -> dict:
    """ours / baseline for latency, build time and quality (None where the baseline is 0
    or missing), and ours - baseline for quality."""
    lat, base_lat = ours["latency_ms"], base["latency_ms"]["retrieval"]
    latency = {}
    for name in ("retrieval", "end_to_end"):
        for state in ("new", "cached"):
            for p in ("p50", "p95"):
                latency[f"{name}_{state}_{p}"] = _ratio(lat[name][state][p], base_lat[p])
    return {
        "latency": latency,
        "build_cold": _ratio(ours["build"]["cold"]["seconds"], base["build"]["seconds"]),
        "quality": {k: _ratio(quality["ours"][k], quality["baseline"][k]) for k in QUALITY_KEYS},
        "quality_difference": {k: _diff(quality["ours"][k], quality["baseline"][k]) for k in QUALITY_KEYS},
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 4)
