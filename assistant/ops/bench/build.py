"""Index build timing: one `build_index` call measured (`timed_build`), and the model time
a build with derived vectors would have cost (`extrapolate`)."""

from __future__ import annotations

import time

from ...core.settings import Settings
from .embedding import BenchEmbedding


def timed_build(settings: Settings, embedder: BenchEmbedding, force: bool = False) -> dict:
    """One `build_index` call: wall time, what it embedded, and (for derived vectors) the
    time the model would have taken."""
    from ...core.index import build_index

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
