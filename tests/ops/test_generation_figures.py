"""The generation figures of livc eval and livc bench (assistant/ops/evaluation/generation.py)."""

from __future__ import annotations

from types import SimpleNamespace

from assistant.ops.evaluation.generation import generation_figures


def _answer(generated: bool, reason=None, sentences=2, passed=2, first=100.0, total=900.0):
    g = {"generated": generated, "reason": reason, "sentences": sentences, "passed": passed}
    g.update(first_sentence_ms=first if generated else None, total_ms=total, failures={} if generated else {"fact": 1})
    return SimpleNamespace(generation=g)


def test_figures_over_the_answers_sent_to_the_model():
    answers = [
        _answer(True),
        _answer(False, "first_sentence", sentences=1, passed=0),
        _answer(False, "timeout", sentences=0, passed=0),
        SimpleNamespace(generation=None),  # an abstention: never sent
    ]
    f = generation_figures(answers)
    assert f["n_sent"] == 3 and f["answered_by_model"] == 0.25 and f["fallback_rate"] == round(2 / 3, 4)
    assert f["fallback_reasons"] == {"first_sentence": 1, "timeout": 1}
    assert f["supported_sentence_rate"] == round(2 / 3, 4)
    assert f["first_sentence_ms"] == {"p50": 100.0, "p95": 100.0} and f["total_ms"]["p50"] == 900.0
    assert generation_figures([SimpleNamespace(generation=None)]) is None
