"""The metrics, shared by ours and the baseline: both are reduced to one `Outcome` per
gold row, and `score_rows` scores them alike (hit@k, mrr@10, fact recall, citations,
abstention, confidence), per type and per language too."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ...core.answer import without_markers
from .. import harness
from .gold import _row_type, in_scope, row_lang

MAX_K = 10  # hits considered for hit@k and mrr@10
REPORT_KS = (1, 3, 5)
HIGH = "high"
_WORDISH = re.compile(r"\w")


@dataclass
class Outcome:
    """What a system did on one gold row, reduced to what the metrics need."""

    hit_matches: list[bool]  # per ranked hit, best first: does it match the row?
    text: str  # the answer text ("" when abstained)
    abstained: bool = False
    cited_matches: list[bool] = field(default_factory=list)  # per citation: does it match?
    latency_ms: float = 0.0
    confidence: str = HIGH  # "high" | "low"; an abstention is "low" whatever this says

    @property
    def confident(self) -> bool:
        """Answered (not abstained) with high confidence."""
        return not self.abstained and self.confidence == HIGH

    @property
    def first_match_rank(self) -> int | None:
        return next((i for i, m in enumerate(self.hit_matches, start=1) if m), None)


def normalise(text: str) -> str:
    """Case-fold, NFKC-normalise and collapse whitespace, for lenient term matching."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def facts_found(row: dict, outcome: Outcome) -> bool:
    """Whether the answer contains every must_contain term; an abstention never does."""
    if outcome.abstained:
        return False
    text = normalise(outcome.text)
    return all(normalise(term) in text for term in row.get("must_contain") or [])


def citation_hit(row: dict, outcome: Outcome) -> bool | None:
    """Whether an answered in-scope row cites a matching passage; None when not applicable."""
    if not in_scope(row) or outcome.abstained:
        return None
    return any(outcome.cited_matches)


def correct(row: dict, outcome: Outcome) -> bool:
    """An answer that is right: in scope, every must_contain term found and a matching
    citation. An abstention, and any answer to an out-of-scope row, is not."""
    return in_scope(row) and facts_found(row, outcome) and bool(citation_hit(row, outcome))


def count_words(text: str) -> int:
    """Words in an answer: whitespace-separated tokens with a letter or digit, not
    counting ``[n]`` citation markers (nor the lone punctuation they leave behind)."""
    return sum(1 for token in without_markers(text).split() if _WORDISH.search(token))


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def hit_at(ranks: list[int | None], k: int) -> float | None:
    """Share of rows whose first matching hit is within the first k."""
    return _share([r is not None and r <= k for r in ranks])


def retrieval_metrics(ranks: list[int | None]) -> dict[str, float | None]:
    """hit@1/3/5 and mrr@10 from the first-match ranks of the in-scope rows."""
    metrics = {f"hit@{k}": hit_at(ranks, k) for k in REPORT_KS}
    metrics[f"mrr@{MAX_K}"] = _mean([1 / r if r is not None and r <= MAX_K else 0.0 for r in ranks])
    return metrics


def answer_metrics(rows: list[dict], outcomes: list[Outcome]) -> dict[str, float | None]:
    """Answer quality and abstention metrics.

    fact_recall, answered_rate: over in-scope rows; citation_hit, answer_words: over
    answered in-scope rows; abstain_recall: over out-of-scope rows; abstain_precision:
    over abstentions (1.0 when there are none); confident_rate: over in-scope rows;
    confident_precision: over high-confidence answers, out-of-scope rows included (see
    the package docstring). An empty denominator gives None.
    """
    pairs = list(zip(rows, outcomes))
    scoped = [(r, o) for r, o in pairs if in_scope(r)]
    answered = [(r, o) for r, o in scoped if not o.abstained]
    abstentions = [r for r, o in pairs if o.abstained]
    confident = [(r, o) for r, o in pairs if o.confident]
    return {
        "fact_recall": _share([facts_found(r, o) for r, o in scoped]),
        "citation_hit": _share([bool(citation_hit(r, o)) for r, o in answered]),
        "answered_rate": _share([not o.abstained for _, o in scoped]),
        "abstain_recall": _share([o.abstained for r, o in pairs if not in_scope(r)]),
        "abstain_precision": _share([not in_scope(r) for r in abstentions]) if abstentions else 1.0,
        "answer_words": _mean([count_words(o.text) for _, o in answered]),
        "confident_rate": _share([o.confident for _, o in scoped]),
        "confident_precision": _share([correct(r, o) for r, o in confident]),
    }


def score_rows(rows: list[dict], outcomes: list[Outcome]) -> dict[str, dict]:
    """Retrieval and answer metrics for one system over a set of rows."""
    ranks = [o.first_match_rank for r, o in zip(rows, outcomes) if in_scope(r)]
    return {"retrieval": _rounded(retrieval_metrics(ranks)), "answers": _rounded(answer_metrics(rows, outcomes))}


def scores_by_type(rows: list[dict], outcomes: list[Outcome]) -> dict[str, dict]:
    """`score_rows` per question type, flattened to one dict per type."""
    return _scores_by(rows, outcomes, _row_type)


def scores_by_lang(rows: list[dict], outcomes: list[Outcome]) -> dict[str, dict]:
    """`score_rows` per question language (a row's ``lang``, "nl" when absent), flattened."""
    return _scores_by(rows, outcomes, row_lang)


def _scores_by(rows: list[dict], outcomes: list[Outcome], key) -> dict[str, dict]:
    groups: dict[str, dict] = {}
    for value in sorted({key(r) for r in rows}):
        picked = [(r, o) for r, o in zip(rows, outcomes) if key(r) == value]
        scores = score_rows([r for r, _ in picked], [o for _, o in picked])
        groups[value] = {**scores["retrieval"], **scores["answers"]}
    return groups


def hit_curve(rows: list[dict], outcomes: list[Outcome], max_k: int = MAX_K) -> list[float | None]:
    """hit@k for k = 1..max_k, for the plot."""
    ranks = [o.first_match_rank for r, o in zip(rows, outcomes) if in_scope(r)]
    return [hit_at(ranks, k) for k in range(1, max_k + 1)]


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (`harness.percentile`: linear interpolation) in ms rounded to
    0.1, None for no values."""
    value = harness.percentile(values, q)
    return None if value is None else round(value, 1)


def _rounded(metrics: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items()}
