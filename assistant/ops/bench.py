"""Benchmark: what the assistant costs to build, to ask and to serve, at 1x, 10x and 100x
the corpus, beside the naive LlamaIndex baseline of the evaluation (``livc bench``).

`run_bench(config, settings)` measures, for each scale, in a temporary folder (the user's
index is never read or written; the corpus is copied):

- **Index build**: *cold* (a fresh index folder, empty embedding cache), *warm* (nothing
  changed: `build_index` only checks and returns ``changed=False``) and *rebuild* (``force``:
  every document read and every generation file written again, every vector from the
  cache). Seconds and passages/s.
- **Query latency** (p50/p95/p99 in ms) over the gold questions, after a warm-up question:
  *retrieval* (`Assistant.search`) and *end to end* (`Assistant.ask`), each for a *new*
  question (the query-embedding LRU emptied first, so the model runs) and right after for
  the same question again (*cached*: the LRU answers). The model calls per question are
  counted, which shows what the cache saves. Each question goes through every variant
  (and, at 1x, the baseline) before the next one: the machine may be shared, and a burst
  of other work then slows all columns alike instead of one of them.
- **Serving**: the real app (``app.py``) in a subprocess on a free 127.0.0.1 port, without
  rate limit and with its own log file; seconds from start to the first ``/readyz`` 200,
  then 1, 4 and 16 concurrent clients POSTing ``/api/v1/ask``, each level bounded in
  requests and seconds. Every question sent to a server is distinct (a gold question with
  one of a few neutral lead-ins), so none is served from the query cache: the figures are
  those of officials asking new questions. Peak memory is the server's ``VmHWM`` (peak
  resident set size) from ``/proc``, read after the load.
- **Baseline** (at 1x): the naive pipeline of `evaluation.run_baseline` with the same
  model, in the same process, over the same questions. Its retriever is built once the way
  run_baseline builds it (its constants): that is its build time (splitting, embedding,
  in-memory index), and its query latency is measured beside ours, question by question.
  Quality: the evaluation's metrics (`evaluation.score_rows`) for our new-question answers
  and for `run_baseline` itself (its chunk vectors replayed, not embedded again). Ratios
  ours/baseline, and differences for the quality shares.
- **Hot path** (at 1x): the query-embedding caches of the engine, model calls per new and
  per repeated question, the share of questions whose dense query is the question itself,
  and one query embedding with BLAS threads as they are and limited to one, alone and four
  at a time (`measure_blas_threads`, with threadpoolctl when it is installed).

**Scaling.** A larger scale adds synthetic variants of every text document: copy *k*
renames the file and rotates the digits and the vowels of about a third of its plain
lower-case words (a deterministic choice per word and copy; abbreviations are left
alone), so sentences, passages and headings keep their shape but every copy has its own
words, numbers, ids and BM25 vocabulary. Embedding 100x the corpus with the model would
take hours, so above 1x the build runs with `BenchEmbedding` in *derive* mode: each text
gets the vector the model gave its original at 1x, plus a little deterministic noise. The
build then does everything except running the model (reading, chunking, cache lookups and
writes, Chroma, BM25, the generation files), and the JSON says which figures are measured
and which embedding time is *extrapolated* (texts embedded / texts per second measured at
1x). Query embeddings are always computed by the model, so latency and serving at 10x and
100x are real: Chroma, BM25 and fusion over 10x and 100x the passages and windows. Answer
quality is only scored at 1x (the copies are not sources of the gold questions).

**--quick** (`BenchConfig.quick`): scales 1 and 10, the first ``slice_words`` words of
each Markdown document (cut at a heading), a handful of gold questions whose sources lie
in that slice, and short HTTP phases; every section of the JSON is still there, with fewer
samples. Everything is cold: no cache is copied in.

Found while writing it: a build with more than 5,461 passages or sentence windows failed
(Chroma's embedded client takes at most that many nodes per request); `index._write_collection`
now writes in batches of ``get_max_batch_size()``, so 100x builds like any other.

Output: a plain-text table (`format_table`), ``bench-<timestamp>.json`` and
``latest.json``, and ``bench.png``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ..core.chunking import ABBREVIATIONS
from ..core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent
APP = ROOT / "app.py"
WARM_UP = "Wat is een LIVC-R?"  # asked before any measurement (the app asks it at start too)
# Lead-ins that make each question sent to a server distinct without changing what it asks.
LEAD_INS = ("", "Graag kort: ", "Een vraag: ", "Ik vraag me af: ", "Even nagaan: ", "Nog een vraag: ",
            "Praktisch: ", "Voor ons team: ")
TEXT_SUFFIXES = (".md", ".html", ".htm")  # formats whose synthetic variants are written as text
QUALITY_KEYS = ("hit@1", "hit@3", "hit@5", "mrr@10", "fact_recall", "citation_hit", "answered_rate",
                "abstain_recall", "abstain_precision", "answer_words")
NOISE = 0.05  # norm of the noise added to a derived vector (unit vectors; cosine to the original ~0.999)
SCHEMA = 1
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class BenchError(RuntimeError):
    """The benchmark cannot run; the message says why."""


@dataclass
class BenchConfig:
    """What to measure and how much of it."""

    out_dir: Path = Path("bench")
    gold: Path = Path("eval/gold-dev.jsonl")
    scales: tuple[int, ...] = (1, 10, 100)
    quick: bool = False
    questions: int = 0  # 0: every gold question
    http_clients: tuple[int, ...] = (1, 4, 16)
    http_requests: int = 48  # per level (at least one per client)
    http_seconds: float = 30.0  # per level: no request starts after this
    slice_words: int = 0  # 0: whole documents; else the first ~N words of each Markdown document
    ready_timeout: float = 900.0  # seconds a server may take to answer /readyz
    config_file: Path | None = None  # passed on to app.py

    @classmethod
    def make(cls, quick: bool = False, **overrides: Any) -> "BenchConfig":
        """The full run, or with `quick` the one that fits in about a minute; `overrides`
        (None values ignored) change single fields."""
        base = cls(scales=(1, 10), quick=True, questions=6, http_requests=6, http_seconds=3.0,
                   slice_words=400) if quick else cls()
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


# ---------------------------------------------------------------- the run


def run_bench(config: BenchConfig, settings: Settings, log: Callable[[str], None] | None = None) -> dict:
    """Measure everything `config` asks for; write the JSON and the plot into
    `config.out_dir` and return the result."""
    from ..core.documents import load_corpus
    from ..core.embeddings import make_embedder

    log = log or (lambda message: None)
    if not config.scales or config.scales[0] != 1 or sorted(set(config.scales)) != list(config.scales):
        raise BenchError("scales must start with 1 and increase, e.g. 1,10,100")
    started, wall, load_before = time.perf_counter(), datetime.now(timezone.utc), _load_average()
    rows_all = _load_rows(config.gold)
    embedder = BenchEmbedding(make_embedder(settings))
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="livc-bench-") as tmp:
        work = Path(tmp)
        scales, baseline, corpus_info = [], None, {}
        for scale in config.scales:
            log(f"x{scale}: corpus")
            load_start = _load_average()
            folder = work / f"x{scale}"
            corpus_info = prepare_corpus(settings.corpus_dir, folder / "corpus", scale, config.slice_words)
            scaled = _bench_settings(settings, folder)
            if scale == 1:  # the same questions at every scale
                rows = _pick_rows(rows_all, folder / "corpus", config.questions)
            if scale == 1:
                log("x1: building the naive LlamaIndex baseline")
                documents = load_corpus(folder / "corpus")[0]
                naive = Baseline.build_for(documents, embedder.model)
            entry, answers, baseline_ms = measure_scale(config, scaled, embedder, rows, scale, log,
                                                        naive if scale == 1 else None)
            entry["corpus"] = corpus_info
            if scale == 1:
                log("x1: quality of our answers and of the baseline's")
                baseline = measure_baseline(rows, answers, documents, naive, baseline_ms, entry)
                del naive, documents
                questions = {"gold": str(config.gold), "n": len(rows), "in_scope": sum(_in_scope(r) for r in rows),
                             "ids": [r.get("id") for r in rows]}
            del answers
            _release_chroma()  # the app opens this index next, in its own process
            entry["http"] = measure_http(config, scaled, folder, rows, scale, log)
            entry["load_average"] = {"start": load_start, "end": _load_average()}
            scales.append(entry)
            shutil.rmtree(folder, ignore_errors=True)
    notes += _notes(config, corpus_info)
    result = {
        "schema": SCHEMA,
        "kind": "livc-bench",
        "started_at": wall.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "quick": config.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    # other work on the machine skews every figure: the 1-minute load before and after
                    "load_average": {"start": load_before, "end": _load_average()},
                    # BLAS threads of the model's matrix products (unset: one per core)
                    "blas_threads": {k: os.environ.get(k) for k in BLAS_THREAD_VARIABLES}},
        "embedder": embedder.model_id,
        "settings": {k: v for k, v in settings.as_dict().items()
                     if k in ("fusion", "top_k", "chunk_words", "concurrency", "queue_size", "embed_batch_size")},
        "questions": questions,
        "hot_path": hot_path(scales),
        "scales": scales,
        "baseline": baseline,
        "notes": notes,
    }
    write_outputs(result, config.out_dir)
    return result


def measure_scale(config: BenchConfig, settings: Settings, embedder: "BenchEmbedding", rows: list[dict],
                  scale: int, log: Callable[[str], None], baseline: "Baseline | None" = None
                  ) -> tuple[dict, list, list[float]]:
    """Build (cold, warm, rebuild) and in-process latency at one scale (the `baseline`'s
    beside it); also returns the (answer, ms) pairs of the new-question ask() calls, for
    the quality score, and the baseline's latencies."""
    from ..core.assistant import Assistant

    if scale == 1:
        embedder.mode = "record"
    else:
        log(f"x{scale}: deriving vectors for the synthetic copies")
        embedder.prepare_variants(scale - 1)
        embedder.mode = "derive"
    log(f"x{scale}: cold build")
    cold = timed_build(settings, embedder)
    embedder.forget_variants()  # every vector is in the cache now
    log(f"x{scale}: warm build and rebuild from cached vectors")
    warm = timed_build(settings, embedder)
    rebuild = timed_build(settings, embedder, force=True)
    embedder.mode = "model"  # questions are always embedded by the model
    entry = {"scale": scale, "passages": cold["passages"], "documents": cold["documents"],
             "vectors": "model" if scale == 1 else "derived",
             "index_mb": round(_folder_bytes(settings.index_dir) / 2**20, 1),
             "build": {"cold": cold, "warm": warm, "rebuild_cached": rebuild}}
    opened = time.perf_counter()
    assistant = Assistant.open(settings, embedder=embedder)
    entry["open_seconds"] = round(time.perf_counter() - opened, 3)
    entry["query_cache"] = query_cache_info(assistant.search_engine)
    entry["dense_query_is_question"] = same_text_share(assistant, rows)
    log(f"x{scale}: query latency over {len(rows)} questions")
    entry["latency_ms"], answers, baseline_ms = measure_latency(assistant, rows, embedder, baseline)
    if scale == 1:
        log("x1: query embeddings with BLAS threads as they are and with one")
        entry["blas_threads"] = measure_blas_threads(embedder.model, [r["question"] for r in rows])
    return entry, answers, baseline_ms


def _release_chroma() -> None:
    """Drop this process's cached Chroma clients (and with them the index files they hold)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except (ImportError, AttributeError):
        pass


def _bench_settings(settings: Settings, folder: Path) -> Settings:
    """The user's settings, pointed at the temporary corpus and index (embedded Chroma)."""
    changes: dict[str, Any] = {"corpus_dir": folder / "corpus", "index_dir": folder / "index"}
    if getattr(settings, "chroma_url", ""):
        changes["chroma_url"] = ""
    return settings.replace(**changes)


# ---------------------------------------------------------------- corpus and variants


def prepare_corpus(source: Path, dest: Path, scale: int, slice_words: int = 0) -> dict:
    """Copy the documents of `source` to `dest` (the first `slice_words` words of each
    Markdown document when given; other formats are then left out) and write `scale` - 1
    synthetic variants of each text document (PDF and Word files are copied once, not
    varied). Returns what the folder holds."""
    from ..core.documents import corpus_files

    files, _ = corpus_files(source)
    dest.mkdir(parents=True, exist_ok=True)
    originals, left_out, not_copied = [], [], []
    for path in files:
        text_like = path.suffix.lower() in TEXT_SUFFIXES
        if slice_words and path.suffix.lower() != ".md":
            left_out.append(path.name)
            continue
        if not text_like and scale > 1:
            not_copied.append(path.name)
        if slice_words:
            (dest / path.name).write_text(slice_markdown(path.read_text(encoding="utf-8"), slice_words), encoding="utf-8")
        else:
            shutil.copyfile(path, dest / path.name)
        originals.append(path.name)
        if text_like:
            text = (dest / path.name).read_text(encoding="utf-8")
            for k in range(1, scale):
                (dest / f"{path.stem}--x{k:03d}{path.suffix}").write_text(variant_text(text, k), encoding="utf-8")
    if not originals:
        raise BenchError(f"no documents to benchmark in {source}")
    return {"source": str(source), "documents": originals, "copies_per_document": scale - 1,
            "sliced_to_words": slice_words or None, "left_out": left_out, "not_copied": not_copied}


def slice_markdown(text: str, words: int) -> str:
    """The start of a Markdown document: its lines until `words` words are reached, then
    up to the next heading, so no section is cut in half."""
    kept, count = [], 0
    for line in text.splitlines():
        if count >= words and line.startswith("#"):
            break
        kept.append(line)
        count += len(line.split())
    return "\n".join(kept) + "\n"


_WORD = re.compile(r"\b[a-z]{5,}\b")
_DIGIT = re.compile(r"\d")
_VOWELS = str.maketrans("aeiou", "eioua")


def variant_text(text: str, k: int) -> str:
    """Copy `k` of a text: digits rotated by k, and the vowels of about a third of the plain
    lower-case words (5+ letters, not abbreviations) rotated. Word by word and independent
    of context, so the variant of a passage is the passage of the variant."""
    def word(m: re.Match) -> str:
        w = m.group(0)
        if w in ABBREVIATIONS or _stable(f"{k}\0{w}") % 3:
            return w
        return w.translate(_VOWELS)

    return _DIGIT.sub(lambda m: str((int(m.group(0)) + k) % 10), _WORD.sub(word, text))


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


class BenchEmbedding(BaseEmbedding):
    """The configured embedder, with its calls counted and timed.

    Modes: ``model`` passes everything to the model; ``record`` does too and remembers each
    (kind, text) and its vector (the 1x build); ``replay`` gives a recorded text its vector
    back and passes the others to the model; ``derive`` runs no model: a text recorded at
    1x gets its vector back, a variant of one (`prepare_variants`) gets its original's vector
    plus a little noise seeded by the text, and anything else (counted as ``fallback``) the
    mean vector plus noise. `model_id` is the model's own, so the app serves a derived index
    without rebuilding it.
    """

    mode: str = "model"
    _inner: Any = PrivateAttr()
    _known: dict = PrivateAttr(default_factory=dict)
    _variants: dict = PrivateAttr(default_factory=dict)
    _mean: Any = PrivateAttr(default=None)
    _stats: dict = PrivateAttr(default_factory=dict)

    def __init__(self, inner: BaseEmbedding, **kwargs: Any) -> None:
        super().__init__(model_name=getattr(inner, "model_name", "bench"),
                         embed_batch_size=getattr(inner, "embed_batch_size", 32), **kwargs)
        self._inner = inner
        self._stats = {"model_calls": 0, "query_calls": 0, "model_texts": 0, "model_seconds": 0.0,
                       "derived_texts": 0, "derive_seconds": 0.0, "fallback_texts": 0}

    @property
    def model_id(self) -> str:
        return getattr(self._inner, "model_id", type(self._inner).__name__)

    @property
    def dim(self) -> int:
        return int(self._inner.dim)

    @property
    def model(self) -> BaseEmbedding:
        """The embedder this one wraps."""
        return self._inner

    def stats(self) -> dict:
        return dict(self._stats)

    def prepare_variants(self, copies: int) -> None:
        """Map the variant texts of copies 1..`copies` to their originals' vectors."""
        if not self._known:
            raise BenchError("no vectors recorded at 1x to derive from")
        self._variants = {(kind, variant_text(text, k)): vector
                          for k in range(1, copies + 1) for (kind, text), vector in self._known.items()}
        mean = np.mean(np.stack(list(self._known.values())), axis=0)
        self._mean = mean / np.linalg.norm(mean)

    def forget_variants(self) -> None:
        """Drop the variant map (up to 99 copies of every text at 100x)."""
        self._variants = {}

    def _model(self, kind: str, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        if kind == "query":
            vectors = [self._inner.get_query_embedding(texts[0])]
        else:
            vectors = self._inner.get_text_embedding_batch(texts)
        self._stats["model_seconds"] += time.perf_counter() - started
        self._stats["model_calls"] += 1
        self._stats["query_calls"] += kind == "query"
        self._stats["model_texts"] += len(texts)
        if self.mode == "record":
            for text, vector in zip(texts, vectors):
                self._known[(kind, text)] = np.asarray(vector, dtype=np.float32)
        return vectors

    def _derive(self, kind: str, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        out = []
        for text in texts:
            vector = self._known.get((kind, text))
            if vector is None:
                base = self._variants.get((kind, text))
                if base is None:
                    self._stats["fallback_texts"] += 1
                    base = self._mean
                rng = np.random.default_rng(_stable(text))
                noise = rng.standard_normal(base.shape[0]).astype(np.float32)
                vector = base + noise * (NOISE / np.linalg.norm(noise))
                vector = vector / np.linalg.norm(vector)
            out.append(vector.tolist())
        self._stats["derive_seconds"] += time.perf_counter() - started
        self._stats["derived_texts"] += len(texts)
        return out

    def _replay(self, kind: str, texts: list[str]) -> list[list[float]]:
        found = [self._known.get((kind, text)) for text in texts]
        missing = [text for text, vector in zip(texts, found) if vector is None]
        computed = iter([v for text in missing for v in self._model(kind, [text])] if kind == "query"
                        else self._model(kind, missing) if missing else [])
        return [vector.tolist() if vector is not None else next(computed) for vector in found]

    def _embed(self, kind: str, texts: list[str]) -> list[list[float]]:
        if self.mode == "derive":
            return self._derive(kind, texts)
        return self._replay(kind, texts) if self.mode == "replay" else self._model(kind, texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed("query", [query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed("passage", [text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed("passage", list(texts))


# ---------------------------------------------------------------- builds


def timed_build(settings: Settings, embedder: BenchEmbedding, force: bool = False) -> dict:
    """One `build_index` call: wall time, what it embedded, and (for derived vectors) the
    time the model would have taken."""
    from ..core.index import build_index

    before = embedder.stats()
    started = time.perf_counter()
    report = build_index(settings, embedder, progress=False, force=force)
    seconds = time.perf_counter() - started
    after = embedder.stats()
    passages = report.manifest.passages
    out = {
        "seconds": round(seconds, 3),
        "changed": report.changed,
        "passages": passages,
        "documents": len(report.manifest.documents),
        "passages_per_s": round(passages / seconds, 1),
        "texts_embedded": report.embedded,
        "texts_from_cache": report.reused,
        "model_seconds": round(after["model_seconds"] - before["model_seconds"], 3),
        "derived_texts": after["derived_texts"] - before["derived_texts"],
        "derive_seconds": round(after["derive_seconds"] - before["derive_seconds"], 3),
        "fallback_vectors": after["fallback_texts"] - before["fallback_texts"],
    }
    if out["texts_embedded"] and out["model_seconds"] > 0:
        out["texts_per_s"] = round(out["texts_embedded"] / out["model_seconds"], 2)
    return out


def extrapolate(build: dict, texts_per_s: float) -> None:
    """Add to a build with derived vectors the model time its texts would have cost at the
    rate measured at 1x, and the build time with it."""
    if not build["derived_texts"]:
        return
    model = build["derived_texts"] / texts_per_s
    estimate = build["seconds"] - build["derive_seconds"] + model
    build["embedding_extrapolated_s"] = round(model, 1)
    build["estimated_seconds_with_model"] = round(estimate, 1)
    build["estimated_passages_per_s"] = round(build["passages"] / estimate, 2)


# ---------------------------------------------------------------- latency


def measure_latency(assistant: Any, rows: list[dict], embedder: BenchEmbedding,
                    baseline: "Baseline | None" = None) -> tuple[dict, list, list[float]]:
    """p50/p95/p99 of retrieval and of whole answers, for new and for repeated questions,
    and the time of the very first question (the warm-up) of a freshly opened assistant.

    Each question is measured every way (and by the `baseline`, if given) before the next
    one, so that a burst of other work on the machine hits every column alike. Returns the
    figures, the (answer, ms) pairs of the new-question ask() calls and the baseline's ms."""
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
    answers, baseline_ms = [], []
    for row in rows:
        for name, state in keys:
            if state == "new":
                clear_query_cache(assistant)
            before = embedder.stats()["query_calls"]
            started = time.perf_counter()
            result = calls[name](row)
            times[(name, state)].append((time.perf_counter() - started) * 1000)
            model_calls[(name, state)] += embedder.stats()["query_calls"] - before
            if (name, state) == ("end_to_end", "new"):
                answers.append((result, times[(name, state)][-1]))
        if baseline:
            started = time.perf_counter()
            baseline.retrieve(row["question"])
            baseline_ms.append((time.perf_counter() - started) * 1000)
    out: dict[str, Any] = {"first_question": _ms(first)}
    for name, state in keys:
        out.setdefault(name, {})[state] = {
            **percentiles(times[(name, state)]),
            "model_calls_per_question": round(model_calls[(name, state)] / len(rows), 2),
            "samples_ms": [round(t, 1) for t in times[(name, state)]],  # in gold order, to find slow questions
        }
    return out, answers, baseline_ms


def measure_blas_threads(model: BaseEmbedding, questions: list[str], workers: int = 4) -> dict | None:
    """Query embeddings with the BLAS library's own number of threads (one per core) and
    with one, alone and `workers` at a time (as the API's worker threads answer), alternating
    in small groups so both see the same machine. numpy's OpenBLAS lets its threads spin
    while they wait for each other, which costs dearly when every core is busy. None
    without threadpoolctl (it comes with the test extra)."""
    try:
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return None
    default = max((i.get("num_threads", 1) for i in threadpool_info() if i.get("user_api") == "blas"), default=None)
    alone: dict[str, list[float]] = {"default": [], "one": []}
    together: dict[str, list[float]] = {"default": [], "one": []}
    walls = {"default": 0.0, "one": 0.0}

    def embed(question: str) -> float:
        started = time.perf_counter()
        model.get_query_embedding(question)
        return (time.perf_counter() - started) * 1000

    groups = [questions[i:i + 2 * workers] for i in range(0, len(questions), 2 * workers)]
    with ThreadPoolExecutor(workers) as pool:
        for n, group in enumerate(groups):
            for label in (("default", "one") if n % 2 == 0 else ("one", "default")):
                with threadpool_limits(limits=None if label == "default" else 1, user_api="blas"):
                    alone[label] += [embed(q) for q in group]
                    started = time.perf_counter()
                    together[label] += list(pool.map(embed, group))
                    walls[label] += time.perf_counter() - started
    return {
        "blas_threads_default": default,
        "alone_ms": {label: percentiles(values) for label, values in alone.items()},
        f"{workers}_at_once": {label: {"per_call_ms": percentiles(together[label]),
                                       "calls_per_s": round(len(together[label]) / walls[label], 2)}
                               for label in together},
    }


def clear_query_cache(assistant: Any) -> bool:
    """Empty the query-embedding LRU of the engine in use; False when there is none."""
    cleared = False
    for name in ("embed_query", "embed_full"):
        clear = getattr(getattr(assistant.search_engine, name, None), "cache_clear", None)
        if clear:
            clear()
            cleared = True
    return cleared


def query_cache_info(engine: Any) -> dict:
    """What the engine caches of query embeddings (functools.lru_cache), if anything."""
    info = {}
    for name in ("embed_query", "embed_full"):
        cache = getattr(getattr(engine, name, None), "cache_info", None)
        if cache:
            info[name] = {"maxsize": cache().maxsize}
    return info


def same_text_share(assistant: Any, rows: list[dict]) -> float:
    """Share of the questions whose dense query (the question without the words nearly every
    passage holds, see HybridSearch) is the question itself. A new question needs two
    embeddings (dense query, question as asked); for these questions they are of one text,
    so an engine that caches by text runs the model once (compare model calls per question)."""
    from ..core.assistant import clean_question
    from ..core.lexical import without_terms

    terms = assistant.store.manifest.ubiquitous_terms
    questions = [clean_question(r["question"]) for r in rows]
    return round(sum(without_terms(q, terms) == q for q in questions) / len(questions), 3)


def percentiles(values: list[float]) -> dict:
    """n, p50, p95, p99, mean and max of millisecond values."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    array = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(array, [50, 95, 99])
    return {"n": len(values), "p50": _ms(p50), "p95": _ms(p95), "p99": _ms(p99), "mean": _ms(array.mean()),
            "max": _ms(array.max())}


def _ms(value: float) -> float:
    return round(float(value), 3)


# ---------------------------------------------------------------- baseline


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
    def build_for(cls, documents: list, model: BaseEmbedding) -> "Baseline":
        """Split, embed and index `documents` as run_baseline does (its constants)."""
        from llama_index.core import Document as LIDocument, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from .evaluation import BASELINE_CHUNK_OVERLAP, BASELINE_CHUNK_SIZE, MAX_K

        embedder = BenchEmbedding(model)
        embedder.mode = "record"  # run_baseline later gets these vectors back instead of embedding again
        started = time.perf_counter()
        splitter = SentenceSplitter(chunk_size=BASELINE_CHUNK_SIZE, chunk_overlap=BASELINE_CHUNK_OVERLAP)
        nodes = splitter.get_nodes_from_documents([LIDocument(text=d.text, metadata={"doc": d.name}) for d in documents])
        retriever = VectorStoreIndex(nodes, embed_model=embedder).as_retriever(similarity_top_k=MAX_K)
        seconds = time.perf_counter() - started
        embedder.mode = "model"
        build = {"seconds": round(seconds, 3), "chunks": len(nodes), "texts_embedded": embedder.stats()["model_texts"],
                 "model_seconds": round(embedder.stats()["model_seconds"], 3), "cache": False}
        return cls(retriever, embedder, build)

    def retrieve(self, question: str) -> list:
        return self.retriever.retrieve(question)


def measure_baseline(rows: list[dict], answers: list, documents: list, baseline: Baseline, baseline_ms: list[float],
                     ours: dict) -> dict:
    """The baseline beside ours at 1x: its build and its latency (measured beside ours),
    and the evaluation's quality metrics for both: ours from `answers` (our new-question
    ask() calls), the baseline's from `evaluation.run_baseline` itself (over the vectors
    already embedded for the retriever)."""
    from .evaluation import answer_outcome, run_baseline, score_rows

    our_scores = score_rows(rows, [answer_outcome(r, a, ms) for r, (a, ms) in zip(rows, answers)])
    before = baseline.embedder.stats()["query_calls"]
    baseline.embedder.mode = "replay"
    try:
        outcomes = run_baseline(rows, documents, baseline.embedder)
    finally:
        baseline.embedder.mode = "model"
    base = {
        "build": baseline.build,
        "latency_ms": {"retrieval": percentiles(baseline_ms)},
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


# ---------------------------------------------------------------- serving


def measure_http(config: BenchConfig, settings: Settings, folder: Path, rows: list[dict], scale: int,
                 log: Callable[[str], None]) -> dict:
    """Start the app on the scale's index, time it to ready, load it at each client level,
    then read its peak memory and stop it."""
    if not APP.is_file():
        raise BenchError(f"the HTTP measurement runs {APP}, which is not there (install from the repository)")
    log(f"x{scale}: starting the app")
    server = Server.start(settings, folder, config)
    try:
        ready = server.wait_ready(config.ready_timeout)
        rss_ready = server.memory()["rss_mb"]
        questions = distinct_questions([r["question"] for r in rows])
        for q in (next(questions), next(questions)):  # connections and worker threads up
            server.ask(q)
        levels = []
        for clients in config.http_clients:
            log(f"x{scale}: {clients} concurrent client(s)")
            levels.append(load(server, clients, max(config.http_requests, clients), config.http_seconds, questions))
        memory = server.memory()
        return {"ready_seconds": round(ready, 2), "rss_ready_mb": rss_ready, "peak_rss_mb": memory["peak_rss_mb"],
                "concurrency_setting": settings.concurrency, "levels": levels}
    finally:
        server.stop()


@dataclass
class Server:
    """The app in a subprocess on a free 127.0.0.1 port."""

    process: subprocess.Popen
    port: int
    log_path: Path
    started: float

    @classmethod
    def start(cls, settings: Settings, folder: Path, config: BenchConfig) -> "Server":
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("LIVC_PORT", "LIVC_HOST")}
        env.update({"LIVC_RATE_LIMIT": "0", "LIVC_AUTH": "none", "LIVC_ROOT_PATH": "", "LIVC_CHROMA_URL": "",
                    "LIVC_LOG_FILE": str(folder / "server-log.jsonl"), "LIVC_FEEDBACK_DB": str(folder / "feedback.sqlite"),
                    "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
        command = [sys.executable, str(APP), "--host", "127.0.0.1", "--port", str(port),
                   "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
        if config.config_file:
            command += ["--config", str(config.config_file)]
        log_path = folder / "server.out"
        with open(log_path, "wb") as out:
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        return cls(process, port, log_path, started)

    def wait_ready(self, timeout: float) -> float:
        """Seconds from start until /readyz answers 200."""
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                raise BenchError(f"the app stopped before it was ready: {self._tail()}")
            try:
                status, _ = self.request("GET", "/readyz", timeout=5)
                if status == 200:
                    return time.perf_counter() - self.started
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise BenchError(f"the app was not ready after {timeout:.0f} s: {self._tail()}")

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 300,
                connection: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
        conn = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if connection is None:
                conn.close()

    def ask(self, question: str, connection: http.client.HTTPConnection | None = None) -> int:
        return self.request("POST", "/api/v1/ask", {"question": question}, connection=connection)[0]

    def memory(self) -> dict:
        """Resident memory now and at its peak (VmRSS, VmHWM), in MB."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = round(int(rest.split()[0]) / 1024, 1)
        return {"rss_mb": values.get("VmRSS"), "peak_rss_mb": values.get("VmHWM")}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no output)"
        return " | ".join(lines[-3:]) or "(no output)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def distinct_questions(questions: list[str]):
    """An endless supply of distinct questions: each gold question with each lead-in, then
    numbered repeats (only after len(questions) * len(LEAD_INS))."""
    round_ = 0
    while True:
        for lead in LEAD_INS:
            for q in questions:
                text = lead + (q[0].lower() + q[1:] if lead else q)
                yield text if round_ == 0 else f"{text} ({round_})"
        round_ += 1


def load(server: Server, clients: int, requests: int, seconds: float, questions) -> dict:
    """`clients` threads, each on its own connection, ask until `requests` were sent or
    `seconds` have passed; requests/s over the wall time and latency of the answered ones."""
    lock = threading.Lock()
    state = {"left": requests, "latencies": [], "errors": {}}
    deadline = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
        try:
            while True:
                with lock:
                    if state["left"] <= 0 or time.perf_counter() > deadline:
                        return
                    state["left"] -= 1
                    question = next(questions)
                started = time.perf_counter()
                try:
                    status = server.ask(question, connection=conn)
                except (OSError, http.client.HTTPException) as exc:
                    status = type(exc).__name__
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if status == 200:
                        state["latencies"].append(elapsed)
                    else:
                        state["errors"][str(status)] = state["errors"].get(str(status), 0) + 1
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    done = len(state["latencies"])
    return {"clients": clients, "requests": done + sum(state["errors"].values()), "ok": done,
            "errors": state["errors"], "seconds": round(wall, 3), "requests_per_s": round(done / wall, 3),
            "latency_ms": percentiles(state["latencies"])}


# ---------------------------------------------------------------- questions


def _load_rows(gold: Path) -> list[dict]:
    from .evaluation import GoldError, load_gold

    try:
        return load_gold(gold)
    except GoldError as exc:
        raise BenchError(str(exc)) from None


def _in_scope(row: dict) -> bool:
    from .evaluation import in_scope

    return in_scope(row)


def _pick_rows(rows: list[dict], corpus_dir: Path, n: int) -> list[dict]:
    """All rows, or `n` of them: in-scope rows with a source in the (sliced) corpus first,
    and one out-of-scope row."""
    if not n or n >= len(rows):
        return rows
    from ..core.documents import load_corpus
    from .evaluation import row_sources

    known = {(s.doc, h) for d in load_corpus(corpus_dir)[0] for s in d.sections for h in (s.heading, *s.path)}
    covered = [r for r in rows if _in_scope(r) and any((d, s) in known for d, s in row_sources(r))]
    outside = [r for r in rows if not _in_scope(r)][:1]
    rest = [r for r in rows if r not in covered and r not in outside]
    picked = (covered[: n - len(outside)] + outside + rest)[:n]
    return sorted(picked, key=rows.index)


# ---------------------------------------------------------------- summary, notes, output


def hot_path(scales: list[dict]) -> dict:
    """What the in-process measurement says about caching on the hot path."""
    first = scales[0]["latency_ms"]
    return {
        "query_embedding_cache": scales[0].get("query_cache") or None,
        "dense_query_is_question": scales[0].get("dense_query_is_question"),
        "query_embedding_blas_threads": scales[0].get("blas_threads"),
        "model_calls_per_new_question": {"retrieval": first["retrieval"]["new"]["model_calls_per_question"],
                                         "end_to_end": first["end_to_end"]["new"]["model_calls_per_question"]},
        "model_calls_per_repeated_question": {"retrieval": first["retrieval"]["cached"]["model_calls_per_question"],
                                              "end_to_end": first["end_to_end"]["cached"]["model_calls_per_question"]},
    }


def _notes(config: BenchConfig, corpus: dict) -> list[str]:
    notes = [
        "Measured: every time, count and memory figure. Derived (scales above 1): the vectors of the synthetic "
        "copies, so their cold builds ran without the model; 'embedding_extrapolated_s' = texts embedded / texts per "
        "second of the model measured in the 1x cold build, and 'estimated_seconds_with_model' = measured build "
        "time - derivation time + that.",
        "Query embeddings are always computed by the model, at every scale; 'new' = query-embedding cache emptied "
        "first, 'cached' = the same questions asked again.",
        "HTTP: every request carries a distinct question (no query-cache hits); app.py in a subprocess, rate limit "
        "off, its own log file; peak RSS = VmHWM of the server process after the load.",
        "Quality is scored at 1x only (the copies at larger scales are not gold sources).",
    ]
    if config.quick:
        notes.append(f"Quick run: first ~{config.slice_words} words of each Markdown document "
                     f"({', '.join(corpus.get('documents', []))}), {config.questions} questions, short HTTP phases; "
                     "figures have few samples and quality is not comparable with a full run.")
    return notes


def finish(result: dict) -> dict:
    """Derived figures that need the whole run (extrapolated build times)."""
    rate = result["scales"][0]["build"]["cold"].get("texts_per_s")
    for entry in result["scales"]:
        if rate:
            extrapolate(entry["build"]["cold"], rate)
    return result


def write_outputs(result: dict, out_dir: Path) -> dict[str, Path]:
    """bench-<timestamp>.json, latest.json and bench.png in `out_dir`."""
    finish(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    paths = {"json": out_dir / f"bench-{stamp}.json", "latest": out_dir / "latest.json", "plot": out_dir / "bench.png"}
    paths["json"].write_text(text, encoding="utf-8")
    paths["latest"].write_text(text, encoding="utf-8")
    plot(result, paths["plot"])
    result["files"] = {k: str(v) for k, v in paths.items()}
    return paths


def format_table(result: dict) -> str:
    """The result as a plain-text table."""
    scales, load = result["scales"], result["machine"].get("load_average", {})
    head = ["", *[f"x{s['scale']}" for s in scales]]
    lines = [f"LIVC-assistent benchmark, {result['started_at']}, {result['machine']['cpus']} CPUs, {result['embedder']}"
             + (" (QUICK: corpus slice, few samples)" if result["quick"] else ""),
             f"{result['questions']['n']} gold questions ({result['questions']['in_scope']} in scope); "
             f"run took {result['seconds']:.0f} s; load average {_f(load.get('start'))} at start, "
             f"{_f(load.get('end'))} at end (other work on the machine slows every figure)", ""]
    rows: list[list[str]] = [["Index build", *[""] * len(scales)],
                             ["  passages", *[str(s["passages"]) for s in scales]],
                             ["  vectors", *[s["vectors"] for s in scales]]]
    rows.append(["  cold, measured (s)", *[_f(s["build"]["cold"]["seconds"]) for s in scales]])
    rows.append(["  cold, with model (s)", *[_f(s["build"]["cold"].get("estimated_seconds_with_model",
                                                                        s["build"]["cold"]["seconds"])) for s in scales]])
    rows.append(["  cold passages/s (model)", *[_f(s["build"]["cold"].get("estimated_passages_per_s",
                                                                           s["build"]["cold"]["passages_per_s"])) for s in scales]])
    rows.append(["  warm, unchanged (s)", *[_f(s["build"]["warm"]["seconds"]) for s in scales]])
    rows.append(["  rebuild, cached vectors (s)", *[_f(s["build"]["rebuild_cached"]["seconds"]) for s in scales]])
    rows.append(["  index on disk (MB)", *[_f(s["index_mb"]) for s in scales]])
    rows.append(["Latency ms p50/p95/p99", *[""] * len(scales)])
    rows.append(["  Assistant.open() (s)", *[_f(s["open_seconds"]) for s in scales]])
    rows.append(["  first ask() after open", *[_f(s["latency_ms"].get("first_question")) for s in scales]])
    for name, label in (("retrieval", "search"), ("end_to_end", "ask()")):
        for state in ("new", "cached"):
            rows.append([f"  {label}, {state} question", *[_pct(s["latency_ms"][name][state]) for s in scales]])
    rows.append(["HTTP /api/v1/ask", *[""] * len(scales)])
    rows.append(["  start -> ready (s)", *[_f(s["http"]["ready_seconds"]) for s in scales]])
    rows.append(["  peak RSS (MB)", *[_f(s["http"]["peak_rss_mb"]) for s in scales]])
    for i, clients in enumerate(level["clients"] for level in scales[0]["http"]["levels"]):
        rows.append([f"  {clients:>2} client(s): req/s", *[_f(s["http"]["levels"][i]["requests_per_s"]) for s in scales]])
        rows.append(["      p50/p95 ms", *[_pct(s["http"]["levels"][i]["latency_ms"], ("p50", "p95"))
                                           for s in scales]])
        errors = [sum(s["http"]["levels"][i]["errors"].values()) for s in scales]
        if any(errors):
            rows.append(["      errors", *[str(e) for e in errors]])
    lines += _columns([head, *rows])
    lines += ["", *_hot_path_lines(result["hot_path"]), "", *_baseline_lines(result), "",
              *(f"- {n}" for n in result["notes"])]
    return "\n".join(lines)


def _hot_path_lines(hot: dict) -> list[str]:
    new, repeated = hot["model_calls_per_new_question"], hot["model_calls_per_repeated_question"]
    caches = ", ".join(f"{name} (maxsize {info['maxsize']})" for name, info in (hot["query_embedding_cache"] or {}).items())
    lines = ["Hot path (x1)",
             f"  query-embedding LRU: {caches or 'none'}",
             f"  model calls per new question: search {_f(new['retrieval'])}, ask() {_f(new['end_to_end'])}; "
             f"per repeated question: {_f(repeated['retrieval'])}, {_f(repeated['end_to_end'])}",
             f"  share of questions whose dense query is the question itself (one text to embed): "
             f"{_f(hot['dense_query_is_question'])}"]
    blas = hot.get("query_embedding_blas_threads")
    if blas:
        key = next(k for k in blas if k.endswith("_at_once"))
        lines.append(f"  one query embedding, p50 ms, BLAS threads {blas['blas_threads_default']} vs 1: alone "
                     f"{_f(blas['alone_ms']['default']['p50'])} vs {_f(blas['alone_ms']['one']['p50'])}; "
                     f"{key.split('_')[0]} at once {_f(blas[key]['default']['per_call_ms']['p50'])} vs "
                     f"{_f(blas[key]['one']['per_call_ms']['p50'])} ({_f(blas[key]['default']['calls_per_s'])} vs "
                     f"{_f(blas[key]['one']['calls_per_s'])} calls/s)")
    return lines


def _baseline_lines(result: dict) -> list[str]:
    b = result["baseline"]
    ours, base = result["scales"][0], b["baseline"]
    lat, blat = ours["latency_ms"], base["latency_ms"]["retrieval"]
    rows = [["Ours vs naive LlamaIndex baseline (x1)", "ours", "baseline", "ours/base"]]
    for label, key, state, p in (("search, new question p50 ms", "retrieval", "new", "p50"),
                                 ("search, new question p95 ms", "retrieval", "new", "p95"),
                                 ("ask(), new question p50 ms", "end_to_end", "new", "p50"),
                                 ("ask(), new question p95 ms", "end_to_end", "new", "p95"),
                                 ("ask(), repeated question p50 ms", "end_to_end", "cached", "p50")):
        rows.append([label, _f(lat[key][state][p]), _f(blat[p]), _f(b["ratios"]["latency"][f"{key}_{state}_{p}"])])
    rows.append(["cold build s (texts embedded)", f"{_f(ours['build']['cold']['seconds'])} ({ours['build']['cold']['texts_embedded']})",
                 f"{_f(base['build']['seconds'])} ({base['build']['texts_embedded']})", _f(b["ratios"]["build_cold"])])
    for key in QUALITY_KEYS:
        rows.append([key, _f(b["quality"]["ours"][key]), _f(b["quality"]["baseline"][key]), _f(b["ratios"]["quality"][key])])
    return _columns(rows)


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip()
            for r in rows]


def _f(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def _pct(p: dict, keys: tuple[str, ...] = ("p50", "p95", "p99")) -> str:
    return "/".join(_f(p[k]) for k in keys)


def plot(result: dict, path: Path) -> None:
    """Six panels: build time, latency and HTTP throughput, HTTP latency and memory against
    the scale, and ours against the baseline."""
    from matplotlib.figure import Figure

    scales = result["scales"]
    xs = [s["scale"] for s in scales]
    fig = Figure(figsize=(15, 8.5), layout="constrained")
    axes = fig.subplots(2, 3)
    fig.suptitle(f"LIVC-assistent benchmark {result['started_at']}" + (" (quick)" if result["quick"] else ""))

    ax = axes[0][0]
    for label, get in (("cold, measured", lambda b: b["cold"]["seconds"]),
                       ("cold, with model (extrapolated above x1)",
                        lambda b: b["cold"].get("estimated_seconds_with_model", b["cold"]["seconds"])),
                       ("warm, nothing changed", lambda b: b["warm"]["seconds"]),
                       ("rebuild, cached vectors", lambda b: b["rebuild_cached"]["seconds"])):
        ax.plot(xs, [get(s["build"]) for s in scales], marker="o", label=label)
    _log_axes(ax, "Index build", "seconds")

    ax = axes[0][1]
    for name, label in (("retrieval", "search"), ("end_to_end", "ask()")):
        for state, style in (("new", "-"), ("cached", "--")):
            for p, marker in (("p50", "o"), ("p95", "^")):
                ax.plot(xs, [s["latency_ms"][name][state][p] for s in scales], linestyle=style, marker=marker,
                        label=f"{label} {state} {p}")
    _log_axes(ax, "Query latency in process", "ms")

    ax = axes[0][2]
    for s in scales:
        levels = s["http"]["levels"]
        ax.plot([lv["clients"] for lv in levels], [lv["requests_per_s"] for lv in levels], marker="o", label=f"x{s['scale']}")
    ax.set(title="HTTP /api/v1/ask throughput", xlabel="concurrent clients", ylabel="requests/s", xscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

    ax = axes[1][0]
    for s in scales:
        levels = s["http"]["levels"]
        ax.plot([lv["clients"] for lv in levels], [lv["latency_ms"]["p50"] for lv in levels], marker="o",
                label=f"x{s['scale']} p50")
        ax.plot([lv["clients"] for lv in levels], [lv["latency_ms"]["p95"] for lv in levels], marker="^",
                linestyle="--", label=f"x{s['scale']} p95")
    ax.set(title="HTTP latency", xlabel="concurrent clients", ylabel="ms", xscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

    ax = axes[1][1]
    positions = range(len(xs))
    ax.bar(positions, [s["http"]["peak_rss_mb"] for s in scales], 0.5, color="C0", label="peak RSS (MB)")
    ax.set(title="Serving process", xlabel="corpus scale", ylabel="peak RSS (MB)")
    ax.set_xticks(positions, [f"x{x}" for x in xs])
    twin = ax.twinx()
    twin.plot(positions, [s["http"]["ready_seconds"] for s in scales], marker="s", color="C1", label="start -> ready (s)")
    twin.set_ylim(bottom=0)
    twin.set_ylabel("start -> ready (s)")
    ax.legend(loc="upper left", fontsize="small")
    twin.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)

    _plot_baseline(axes[1][2], result["baseline"])
    fig.savefig(path, dpi=100)


def _log_axes(ax, title: str, ylabel: str) -> None:
    xs = sorted({int(x) for line in ax.get_lines() for x in line.get_xdata()})
    ax.set(title=title, xlabel="corpus scale", ylabel=ylabel, xscale="log", yscale="log")
    ax.set_xticks(xs, [f"x{x}" for x in xs])
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small")


def _plot_baseline(ax, baseline: dict) -> None:
    keys = ["hit@1", "hit@5", "mrr@10", "fact_recall", "citation_hit", "abstain_recall"]
    ours = [baseline["quality"]["ours"][k] or 0 for k in keys]
    base = [baseline["quality"]["baseline"][k] or 0 for k in keys]
    xs = np.arange(len(keys))
    ax.bar(xs - 0.2, ours, 0.4, label="ours")
    ax.bar(xs + 0.2, base, 0.4, label="baseline")
    ax.set_xticks(xs, keys, rotation=20, ha="right")
    ratio = baseline["ratios"]["latency"]["end_to_end_new_p50"]
    ax.set(ylim=(0, 1.1), ylabel="share", title=f"Ours vs naive baseline (x1)\nask() p50, new question: {_f(ratio)}x")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, axis="y")


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
