"""What a benchmark run measures (`BenchConfig`) and the constants the modules of the
benchmark share. `BenchError` lives in `assistant.core.errors`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.errors import BenchError  # noqa: F401 - the benchmark's error, imported from here by its modules

WARM_UP = "Wat is een LIVC-R?"  # asked before any measurement (the app asks it at start too)
QUALITY_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "fact_recall",
    "citation_hit",
    "answered_rate",
    "abstain_recall",
    "abstain_precision",
    "answer_words",
)
SCHEMA = 1
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class BenchConfig:
    """What to measure and how much of it."""

    out_dir: Path = Path("bench")
    gold: Path = Path("eval/gold-dev.jsonl")
    scales: tuple[int, ...] = (1, 10, 100)
    quick: bool = False
    questions: int = 0  # 0: every gold question
    http_clients: tuple[int, ...] = (1, 4, 16)
    http_requests: int = 160  # per level (at least one per client); 48 left 3 per client at 16, about 1 s
    http_seconds: float = 30.0  # per level: no request starts after this
    slice_words: int = 0  # 0: whole documents; else the first ~N words of each Markdown document
    ready_timeout: float = 900.0  # seconds a server may take to answer /readyz
    config_file: Path | None = None  # passed on to the app (livc serve --config)

    @classmethod
    def make(cls, quick: bool = False, **overrides: Any) -> BenchConfig:
        """The full run, or with `quick` the one that fits in about a minute; `overrides`
        (None values ignored) change single fields."""
        base = (
            cls(scales=(1, 10), quick=True, questions=6, http_requests=6, http_seconds=3.0, slice_words=400)
            if quick
            else cls()
        )
        return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
