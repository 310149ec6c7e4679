"""The run: every scale in a temporary folder, one after the other (`run_bench`,
`measure_scale`), the gold questions it asks, and the summary and notes of the result."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ...core.errors import GoldError
from ...core.settings import Settings
from .baseline import Baseline, measure_baseline
from .build import timed_build
from .config import BLAS_THREAD_VARIABLES, SCHEMA, BenchConfig, BenchError
from .corpus import prepare_corpus
from .embedding import BenchEmbedding
from .generation import measure_generation
from .latency import measure_latency, measure_model_threads, query_cache_info, same_text_share
from .report import write_outputs
from .serving import measure_http
from .speed import speed_figures


def run_bench(config: BenchConfig, settings: Settings, log: Callable[[str], None] | None = None) -> dict:
    """Measure everything `config` asks for; write the JSON and the plot into
    `config.out_dir` and return the result."""
    from ...core.documents import load_corpus
    from ...core.embeddings import make_embedder
    from ...core.index import forget_embedded_clients

    log = log or (lambda message: None)
    if not config.scales or config.scales[0] != 1 or sorted(set(config.scales)) != list(config.scales):
        raise BenchError("scales must start with 1 and increase, e.g. 1,10,100")
    started, wall, load_before = time.perf_counter(), datetime.now(UTC), _load_average()
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
            entry, answers, baseline_ms = measure_scale(
                config, scaled, embedder, rows, scale, log, naive if scale == 1 else None
            )
            entry["corpus"] = corpus_info
            if scale == 1:
                log("x1: quality of our answers and of the baseline's")
                baseline = measure_baseline(rows, answers, documents, naive, baseline_ms, entry)
                if settings.llm_url:
                    log(f"x1: generated answers with the model at llm_url over {len(rows)} questions")
                    entry["generation"] = measure_generation(scaled.replace(llm_url=settings.llm_url), embedder, rows)
                del naive, documents
                questions = {
                    "gold": str(config.gold),
                    "n": len(rows),
                    "in_scope": sum(_in_scope(r) for r in rows),
                    "ids": [r.get("id") for r in rows],
                }
            del answers
            forget_embedded_clients()  # let go of the index: the app opens it next, in its own process
            entry["http"] = measure_http(config, scaled, folder, rows, scale, log)
            entry["load_average"] = {"start": load_start, "end": _load_average()}
            scales.append(entry)
            shutil.rmtree(folder, ignore_errors=True)
    notes += _notes(config, corpus_info)
    hot = hot_path(scales)
    result = {
        "schema": SCHEMA,
        "kind": "livc-bench",
        "started_at": wall.isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "quick": config.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            # other work on the machine skews every figure: the 1-minute load before and after
            "load_average": {"start": load_before, "end": _load_average()},
            # BLAS threads of the model's matrix products (unset: one per core)
            "blas_threads": {k: os.environ.get(k) for k in BLAS_THREAD_VARIABLES},
        },
        "embedder": embedder.model_id,
        "settings": {
            k: v
            for k, v in settings.as_dict().items()
            if k in ("fusion", "top_k", "chunk_words", "concurrency", "queue_size", "embed_batch_size")
        },
        "questions": questions,
        "hot_path": hot,
        # the figures the speed work is measured by, each beside its target (None: not measured, with why)
        "speed": speed_figures(scales[0], baseline, hot, os.cpu_count()),
        "scales": scales,
        "baseline": baseline,
        "notes": notes,
    }
    write_outputs(result, config.out_dir)
    return result


def measure_scale(
    config: BenchConfig,
    settings: Settings,
    embedder: BenchEmbedding,
    rows: list[dict],
    scale: int,
    log: Callable[[str], None],
    baseline: Baseline | None = None,
) -> tuple[dict, list, list[float]]:
    """Build (cold, warm, rebuild) and in-process latency at one scale (the `baseline`'s
    beside it); also returns the (answer, ms) pairs of the new-question ask() calls, for
    the quality score, and the baseline's latencies."""
    from ...core.assistant import Assistant

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
    entry = {
        "scale": scale,
        "passages": cold["passages"],
        "documents": cold["documents"],
        "vectors": "model" if scale == 1 else "derived",
        "index_mb": round(_folder_bytes(settings.index_dir) / 2**20, 1),
        "build": {"cold": cold, "warm": warm, "rebuild_cached": rebuild},
    }
    opened = time.perf_counter()
    assistant = Assistant.open(settings, embedder=embedder)
    entry["open_seconds"] = round(time.perf_counter() - opened, 3)
    entry["query_cache"] = query_cache_info(assistant.search_engine)
    entry["dense_query_is_question"] = same_text_share(assistant, rows)
    log(f"x{scale}: query latency over {len(rows)} questions")
    entry["latency_ms"], answers, baseline_ms = measure_latency(assistant, rows, embedder, baseline)
    if scale == 1:
        log("x1: query embeddings with BLAS threads as they are and with one")
        entry["blas_threads"] = measure_model_threads(embedder.model, [r["question"] for r in rows])
    return entry, answers, baseline_ms


def _bench_settings(settings: Settings, folder: Path) -> Settings:
    """The user's settings, pointed at the temporary corpus and index (embedded Chroma)."""
    changes: dict[str, Any] = {"corpus_dir": folder / "corpus", "index_dir": folder / "index"}
    if getattr(settings, "chroma_url", ""):
        changes["chroma_url"] = ""
    if settings.llm_url:  # the model is measured on its own (generation.py), the pipeline without it
        changes["llm_url"] = ""
    return settings.replace(**changes)


def _load_rows(gold: Path) -> list[dict]:
    from ..evaluation import load_gold

    try:
        return load_gold(gold)
    except GoldError as exc:
        raise BenchError(str(exc)) from None


def _in_scope(row: dict) -> bool:
    from ..evaluation import in_scope

    return in_scope(row)


def _pick_rows(rows: list[dict], corpus_dir: Path, n: int) -> list[dict]:
    """All rows, or `n` of them: in-scope rows with a source in the (sliced) corpus first,
    and one out-of-scope row."""
    if not n or n >= len(rows):
        return rows
    from ...core.documents import load_corpus
    from ..evaluation import row_sources

    known = {(s.doc, h) for d in load_corpus(corpus_dir)[0] for s in d.sections for h in (s.heading, *s.path)}
    covered = [r for r in rows if _in_scope(r) and any((d, s) in known for d, s in row_sources(r))]
    outside = [r for r in rows if not _in_scope(r)][:1]
    rest = [r for r in rows if r not in covered and r not in outside]
    picked = (covered[: n - len(outside)] + outside + rest)[:n]
    return sorted(picked, key=rows.index)


def hot_path(scales: list[dict]) -> dict:
    """What the in-process measurement says about caching on the hot path."""
    first = scales[0]["latency_ms"]
    return {
        "query_embedding_cache": scales[0].get("query_cache") or None,
        "dense_query_is_question": scales[0].get("dense_query_is_question"),
        "query_embedding_blas_threads": scales[0].get("blas_threads"),
        "model_calls_per_new_question": {
            "retrieval": first["retrieval"]["new"]["model_calls_per_question"],
            "end_to_end": first["end_to_end"]["new"]["model_calls_per_question"],
        },
        "query_texts_per_new_question": {  # texts embedded: a call may embed several
            "retrieval": first["retrieval"]["new"]["query_texts_per_question"],
            "end_to_end": first["end_to_end"]["new"]["query_texts_per_question"],
        },
        "model_calls_per_repeated_question": {
            "retrieval": first["retrieval"]["cached"]["model_calls_per_question"],
            "end_to_end": first["end_to_end"]["cached"]["model_calls_per_question"],
        },
    }


def _notes(config: BenchConfig, corpus: dict) -> list[str]:
    notes = [
        "Measured: every time, count and memory figure. Derived (scales above 1): the vectors of the synthetic "
        "copies, so their cold builds ran without the model; 'embedding_extrapolated_s' = texts embedded / texts per "
        "second of the model measured in the 1x cold build, and 'estimated_seconds_with_model' = measured build "
        "time - derivation time + that.",
        "Query embeddings are always computed by the model, at every scale; 'new' = query-embedding cache emptied "
        "first, 'cached' = the same questions asked again.",
        "HTTP: every request carries a distinct question (no query-cache hits); livc serve in a subprocess, rate limit "
        "off, its own log file; peak RSS = VmHWM of the server process after the load.",
        "Quality is scored at 1x only (the copies at larger scales are not gold sources).",
    ]
    if config.quick:
        notes.append(
            f"Quick run: first ~{config.slice_words} words of each Markdown document "
            f"({', '.join(corpus.get('documents', []))}), {config.questions} questions, short HTTP phases; "
            "figures have few samples and quality is not comparable with a full run."
        )
    return notes


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
