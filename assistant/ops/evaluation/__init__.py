"""Evaluation: run a gold set through the assistant and a naive baseline, score both.

The gold set is JSON Lines, one question per line. A row is *in scope* when its
``source_doc`` is not null; its acceptable sources are its ``sources`` list, or else
``source_doc`` with each of ``source_sections`` (or ``source_section``). A passage
matches a row when it comes from a source's document and the source's section is the
passage's own heading or any heading above it.

A row may carry ``lang`` (the question's language, "nl" when absent) and ``type``;
the results are broken down by both (``by_lang``, ``by_type``).

Both systems are reduced to the same per-row `Outcome`, so one set of metric functions
(`score_rows`) scores ours and the baseline alike. `run_eval` writes the results as
JSON (keys fixed: other tools read it) and, optionally, a Markdown report with plots.

Confidence. Every answer of ours is "high" or "low" (`Answer.confidence`; an
abstention counts as "low"). An answer is *correct* when its row is in scope, it has
every ``must_contain`` term and it cites a matching passage. ``confident_rate`` is the
share of in-scope rows answered with high confidence, ``confident_precision`` the share
of all high-confidence answers (out-of-scope rows included, where such an answer is
always wrong) that are correct; None without any. The baseline knows no confidence:
every one of its answers counts as high confidence, so its ``confident_rate`` equals
its ``answered_rate`` and its ``confident_precision`` is the share of its answers that
are correct.

The JSON. With one gold file the result is one object::

    {"n", "n_in_scope", "n_out_of_scope", "retrieval", "answers", "latency_ms",
     "by_type", "by_lang", "baseline": {"retrieval", "answers"} | null, "settings",
     "questions": [{"id", "set", "type", "lang", "question", "confidence", ...}]}

With several (``livc eval --gold a.jsonl --gold b.jsonl``) each file is scored on its
own and all rows together::

    {"sets": {"a": <result as above>, "b": <result>}, "pooled": <result>}

where a set is named by its file name without ``.jsonl`` (made unique when two files
share one) and the pooled result's ``settings.gold`` lists every file. The report
folder then holds ``report.json`` (that object) and ``report.md`` (one table of
every set and the pooled figures) and a subfolder per set and ``pooled/``, each with
the report of one result.
"""

from __future__ import annotations

from ...core.errors import GoldError
from .baseline import (  # noqa: F401 - tested directly
    BASELINE_ANSWER_WORDS,
    BASELINE_CHUNK_OVERLAP,
    BASELINE_CHUNK_SIZE,
    _overlapped_sections,
    _sections_match,
    run_baseline,
)
from .gold import (
    DEFAULT_LANG,
    POOLED,
    GoldSet,
    in_scope,
    load_gold,
    load_sets,
    row_lang,
    row_sources,
    source_matches,
    unknown_sources,
)
from .metrics import (
    HIGH,
    MAX_K,
    Outcome,
    answer_metrics,
    citation_hit,
    correct,
    count_words,
    facts_found,
    hit_at,
    hit_curve,
    normalise,
    percentile,
    retrieval_metrics,
    score_rows,
    scores_by_lang,
    scores_by_type,
)
from .report import SUMMARY_KEYS, is_multi, summary_lines, write_json, write_report
from .run import Scored, answer_confidence, answer_outcome, ask_all, question_detail, run_eval, run_settings

__all__ = [
    "BASELINE_ANSWER_WORDS",
    "BASELINE_CHUNK_OVERLAP",
    "BASELINE_CHUNK_SIZE",
    "DEFAULT_LANG",
    "HIGH",
    "MAX_K",
    "POOLED",
    "SUMMARY_KEYS",
    "GoldError",
    "GoldSet",
    "Outcome",
    "Scored",
    "answer_confidence",
    "answer_metrics",
    "answer_outcome",
    "ask_all",
    "citation_hit",
    "correct",
    "count_words",
    "facts_found",
    "hit_at",
    "hit_curve",
    "in_scope",
    "is_multi",
    "load_gold",
    "load_sets",
    "normalise",
    "percentile",
    "question_detail",
    "retrieval_metrics",
    "row_lang",
    "row_sources",
    "run_baseline",
    "run_eval",
    "run_settings",
    "score_rows",
    "scores_by_lang",
    "scores_by_type",
    "source_matches",
    "summary_lines",
    "unknown_sources",
    "write_json",
    "write_report",
]
