"""The run: every gold question asked once, our answers reduced to outcomes beside the
baseline's, and the result object (`run_eval`; its JSON shape is in the package docstring)."""

from __future__ import annotations

import importlib.metadata
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core.errors import GoldError
from .baseline import _progress, run_baseline
from .generation import generation_figures
from .gold import GoldSet, _row_type, in_scope, load_sets, row_lang, source_matches, unknown_sources
from .metrics import (
    Outcome,
    citation_hit,
    correct,
    count_words,
    facts_found,
    hit_curve,
    percentile,
    score_rows,
    scores_by_lang,
    scores_by_type,
)
from .report import _write_reports, write_json


def ask_all(assistant: Any, rows: list[dict], progress: bool = True) -> list[tuple[Any, float]]:
    """Ask every gold question; returns (Answer, wall-clock ms) pairs."""
    results = []
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        answer = assistant.ask(row["question"], history=row.get("history"))
        results.append((answer, (time.perf_counter() - started) * 1000))
        _progress(progress, "assistant", i, len(rows))
    return results


def answer_outcome(row: dict, answer: Any, wall_ms: float) -> Outcome:
    """Reduce one of our answers to an Outcome."""
    return Outcome(
        hit_matches=[_passage_matches(row, h.passage) for h in answer.hits],
        text=answer.text or "",
        abstained=bool(answer.abstained),
        cited_matches=[_passage_matches(row, c.passage) for c in answer.citations],
        latency_ms=float(answer.timings.get("total", wall_ms)),
        confidence=answer_confidence(answer),
    )


def answer_confidence(answer: Any) -> str:
    """ "high" or "low" as the answer says; an abstention is always "low"."""
    return "low" if answer.abstained else str(answer.confidence)


def _passage_matches(row: dict, passage: Any) -> bool:
    return source_matches(row, passage.doc, passage.section, passage.section_path)


def question_detail(row: dict, answer: Any, outcome: Outcome, set_name: str = "") -> dict:
    """The per-question record kept in the JSON, for reading failures afterwards."""
    return {
        "id": row.get("id"),
        "set": set_name,
        "type": _row_type(row),
        "lang": row_lang(row),
        "question": row["question"],
        "in_scope": in_scope(row),
        "abstained": outcome.abstained,
        "confidence": "low" if outcome.abstained else outcome.confidence,
        "mode": answer.mode,
        "first_match_rank": outcome.first_match_rank,
        "facts_found": facts_found(row, outcome),
        "citation_hit": citation_hit(row, outcome),
        "correct": correct(row, outcome),
        "answer_words": count_words(outcome.text),
        "latency_ms": round(outcome.latency_ms, 1),
        "cited_sections": [f"{c.passage.doc}#{c.passage.section}" for c in answer.citations],
        "answer_text": outcome.text,
    }


@dataclass
class Scored:
    """Rows of one or more gold sets with what each system did on them."""

    gold: str | list[str]  # the gold file(s), as recorded in settings.gold
    rows: list[dict]
    sets: list[str]  # per row: the name of its gold set
    answers: list  # per row: our Answer
    outcomes: list[Outcome]  # per row: ours
    baseline: list[Outcome] | None  # per row: the baseline's, when it ran

    def subset(self, name: str, gold: str) -> Scored:
        keep = [i for i, s in enumerate(self.sets) if s == name]
        pick = lambda values: [values[i] for i in keep]  # noqa: E731
        return Scored(
            gold,
            pick(self.rows),
            pick(self.sets),
            pick(self.answers),
            pick(self.outcomes),
            pick(self.baseline) if self.baseline is not None else None,
        )

    def curves(self) -> dict[str, list]:
        curves = {"ours": hit_curve(self.rows, self.outcomes)}
        if self.baseline is not None:
            curves["baseline"] = hit_curve(self.rows, self.baseline)
        return curves


def run_eval(
    assistant: Any,
    gold_path: Path | Sequence[Path],
    report_dir: Path | None = None,
    json_path: Path | None = None,
    with_baseline: bool = True,
    progress: bool = True,
) -> dict:
    """Score the assistant (and the naive baseline) on one or several gold files; write
    JSON and report.

    One file (a path, or a list of one) gives the single result object; several give
    ``{"sets": {name: result}, "pooled": result}`` (see the module docstring). Every
    question is asked once; the baseline is built once for all rows. The JSON goes to
    `json_path` and, when `report_dir` is given, to ``report_dir/report.json`` beside
    the Markdown report and its plots. Returns the result.
    """
    paths = [Path(gold_path)] if isinstance(gold_path, (str, Path)) else [Path(p) for p in gold_path]
    if not paths:
        raise GoldError("no gold file given")
    sets = load_sets(paths)
    scored = _score_all(assistant, sets, with_baseline, progress)
    if len(sets) == 1:
        result = _result(assistant, scored.subset(sets[0].name, str(sets[0].path)))
    else:
        result = {
            "sets": {s.name: _result(assistant, scored.subset(s.name, str(s.path))) for s in sets},
            "pooled": _result(assistant, scored),
        }
    for target in [json_path, report_dir and Path(report_dir) / "report.json"]:
        if target:
            write_json(result, Path(target))
    if report_dir:
        _write_reports(result, Path(report_dir), scored, sets)
    return result


def _score_all(assistant: Any, sets: list[GoldSet], with_baseline: bool, progress: bool) -> Scored:
    rows = [r for s in sets for r in s.rows]
    names = [s.name for s in sets for _ in s.rows]
    documents = list(assistant.documents)
    for source in unknown_sources(rows, documents):
        print(f"warning: gold source not found in the corpus: {source}", file=sys.stderr)
    answered = ask_all(assistant, rows, progress)
    outcomes = [answer_outcome(r, a, ms) for r, (a, ms) in zip(rows, answered)]
    base = run_baseline(rows, documents, assistant.embedder, progress=progress) if with_baseline else None
    gold = [str(s.path) for s in sets] if len(sets) > 1 else str(sets[0].path)
    return Scored(gold, rows, names, [a for a, _ in answered], outcomes, base)


def _result(assistant: Any, scored: Scored) -> dict:
    rows, outcomes = scored.rows, scored.outcomes
    scores = score_rows(rows, outcomes)
    n_in = sum(in_scope(r) for r in rows)
    latencies = [o.latency_ms for o in outcomes]
    return {
        "n": len(rows),
        "n_in_scope": n_in,
        "n_out_of_scope": len(rows) - n_in,
        "retrieval": scores["retrieval"],
        "answers": scores["answers"],
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95)},
        "by_type": scores_by_type(rows, outcomes),
        "by_lang": scores_by_lang(rows, outcomes),
        "baseline": score_rows(rows, scored.baseline) if scored.baseline is not None else None,
        "settings": run_settings(assistant, scored.gold),
        # With a model configured (llm_url) only: the generated answers' figures.
        **({"generation": generation_figures(scored.answers)} if assistant.settings.llm_url else {}),
        "questions": [question_detail(r, a, o, s) for r, a, o, s in zip(rows, scored.answers, outcomes, scored.sets)],
    }


def run_settings(assistant: Any, gold: str | list[str]) -> dict:
    """The settings behind a run, so two reports can be told apart; ``gold`` is the
    gold file, or the list of them for pooled figures."""
    return {
        **assistant.settings.as_dict(),
        "gold": gold if isinstance(gold, list) else str(gold),
        "embedder": getattr(assistant.embedder, "model_id", type(assistant.embedder).__name__),
        "versions": {name: _version(name) for name in ("llama-index-core", "chromadb")},
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None
