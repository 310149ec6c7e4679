"""The ``generation`` figures of ``livc eval`` with a model configured (``llm_url``): how many
answers the model wrote, how often and why it fell back to the extractive answer, the share
of its sentences that passed the check, and the time to the first shown sentence and in all."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..harness import percentile


def generation_figures(answers: list[Any]) -> dict | None:
    """The figures over `answers` (None when no answer went to a model). Only answers sent to
    the model count for the rates (abstentions and Q&A entries are never sent);
    ``answered_by_model`` is the share of all questions whose answer the model wrote."""
    sent = [a.generation for a in answers if getattr(a, "generation", None)]
    if not sent:
        return None
    generated = [g for g in sent if g["generated"]]
    n_sentences = sum(g["sentences"] for g in sent)
    first = [g["first_sentence_ms"] for g in generated if g["first_sentence_ms"] is not None]
    written = [g["first_written_ms"] for g in sent if g.get("first_written_ms") is not None]
    total = [g["total_ms"] for g in sent]
    return {
        "n_sent": len(sent),
        "answered_by_model": round(len(generated) / len(answers), 4),
        "fallback_rate": round(1 - len(generated) / len(sent), 4),
        "fallback_reasons": dict(Counter(g["reason"] for g in sent if not g["generated"]).most_common()),
        "supported_sentence_rate": round(sum(g["passed"] for g in sent) / n_sentences, 4) if n_sentences else None,
        "sentence_failures": dict(sum((Counter(g.get("failures", {})) for g in sent), Counter()).most_common()),
        "first_sentence_ms": _p(first),
        # The model's own speed, whether or not its first sentence passed: the time to it.
        "first_written_ms": _p(written),
        "total_ms": _p(total),
    }


def _p(values: list[float]) -> dict:
    return {"p50": _round(percentile(values, 50)), "p95": _round(percentile(values, 95))}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
