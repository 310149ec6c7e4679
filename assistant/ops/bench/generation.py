"""With a model configured (``llm_url``): time to the first shown sentence and in all of
generated answers at x1, over the bench's questions (``generation`` in the JSON). The other
figures are measured without the model, so they stay comparable with runs that have none."""

from __future__ import annotations

from typing import Any

from ...core.settings import Settings
from ..evaluation.generation import generation_figures


def measure_generation(settings: Settings, embedder: Any, rows: list[dict]) -> dict:
    """Every question asked once with the model; the figures of `livc eval`'s ``generation``."""
    from ...core.assistant import Assistant

    assistant = Assistant.open(settings, embedder=embedder)
    answers = [assistant.ask(row["question"], history=row.get("history")) for row in rows]
    return generation_figures(answers) or {"n_sent": 0, "note": "no question was sent to the model"}
