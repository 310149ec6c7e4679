"""livc eval --verifier (assistant/ops/evaluation/verifier.py): the verification set built
from a corpus, and precision and recall of the sentence check on it."""

from __future__ import annotations

import json

from helpers import build_small_index

from assistant.core.assistant import Assistant
from assistant.ops.evaluation.verifier import build_cases, negate, rewrites, run_verifier_eval


def test_rewrites_and_negations():
    import random

    kinds = dict(
        rewrites("Volgens de wet, die in 2018 verscheen, moet de burgemeester de cel ook voorzitten.", random.Random(1))
    )
    assert set(kinds) == {"word_order", "synonym", "dropped_clause"}
    assert "dient" in kinds["synonym"] or "eveneens" in kinds["synonym"]
    assert negate("De cel is een overleg.") == "De cel is geen overleg."
    assert negate("De cel is niet bevoegd.") == "De cel is bevoegd."


def test_the_verifier_eval_on_the_small_corpus(tmp_path, small_cache, embedder):
    settings = build_small_index(tmp_path, small_cache, embedder)
    assistant = Assistant.open(settings, embedder=embedder)
    cases = build_cases(assistant.store.passages)
    assert {c.positive for c in cases} == {True, False}
    out = run_verifier_eval(assistant, report_dir=tmp_path / "report")
    v = out["verifier"]
    assert set(v) >= {"precision", "recall", "n_positive", "n_negative", "by_kind", "thresholds", "calibration"}
    assert v["n_positive"] + v["n_negative"] == len(cases)
    assert json.loads((tmp_path / "report" / "verifier.json").read_text())["verifier"]["recall"] == v["recall"]
