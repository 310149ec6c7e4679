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

import importlib.metadata
import json
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..core.documents import Document, Section

MAX_K = 10  # hits considered for hit@k and mrr@10
REPORT_KS = (1, 3, 5)
BASELINE_CHUNK_SIZE = 1024
BASELINE_CHUNK_OVERLAP = 200
BASELINE_ANSWER_WORDS = 120
UNTYPED = "untyped"
DEFAULT_LANG = "nl"
POOLED = "pooled"
HIGH = "high"
_MARKER = re.compile(r"\[\d+\]")
_WORDISH = re.compile(r"\w")


class GoldError(ValueError):
    """A gold file that cannot be used; the message names the file and line."""


# ---------------------------------------------------------------------------
# Gold rows and source matching


def load_gold(path: Path) -> list[dict]:
    """Read a JSONL gold file. Blank lines are skipped; unknown keys are kept and ignored.

    Fails early with the offending line, because a silently skipped row would change
    every metric without anyone noticing.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot be read ({exc})") from None
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            rows.append(_parse_gold_line(path, lineno, line))
    if not rows:
        raise GoldError(f"{path}: no questions")
    return rows


def _parse_gold_line(path: Path, lineno: int, line: str) -> dict:
    where = f"{path}, line {lineno}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise GoldError(f"{where}: expected a JSON object")
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        raise GoldError(f"{where}: missing 'question'")
    terms = row.get("must_contain") or []
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise GoldError(f"{where}: 'must_contain' must be a list of strings")
    sources = row.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, dict) and "doc" in s for s in sources):
        raise GoldError(f"{where}: 'sources' must be a list of {{\"doc\", \"section\"}} objects")
    return row


def in_scope(row: dict) -> bool:
    """A row is in scope when it names a source document."""
    return row.get("source_doc") is not None


def row_sources(row: dict) -> list[tuple[str, str | None]]:
    """The (doc, section) pairs that count as a correct source for the row.

    A section of None (a row naming only a document) accepts any section of that document.
    """
    if row.get("sources"):
        return [(s["doc"], s.get("section")) for s in row["sources"]]
    doc = row.get("source_doc")
    if doc is None:
        return []
    sections = row.get("source_sections") or [row.get("source_section")]
    return [(doc, section) for section in sections]


def source_matches(row: dict, doc: str, section: str, path: Sequence[str]) -> bool:
    """Whether a passage (its document, own heading and heading path) is a source of the row."""
    headings = {section, *path}
    return any(d == doc and (s is None or s in headings) for d, s in row_sources(row))


def unknown_sources(rows: Iterable[dict], documents: Iterable[Document]) -> list[str]:
    """Gold sources that name no heading in the corpus: a typo there silently zeroes a row."""
    known = {(s.doc, h) for d in documents for s in d.sections for h in (s.heading, *s.path)}
    docs = {doc for doc, _ in known}
    return sorted({
        f"{doc}#{section}" if section is not None else doc
        for row in rows for doc, section in row_sources(row)
        if (doc, section) not in known and not (section is None and doc in docs)
    })


# ---------------------------------------------------------------------------
# Per-row outcomes and metrics shared by ours and the baseline


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
    return sum(1 for token in _MARKER.sub(" ", text).split() if _WORDISH.search(token))


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
    the module docstring). An empty denominator gives None.
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
    """The q-th percentile (linear interpolation), None for no values."""
    if not values:
        return None
    import numpy as np

    return round(float(np.percentile(values, q)), 1)


def _row_type(row: dict) -> str:
    return str(row.get("type") or UNTYPED)


def row_lang(row: dict) -> str:
    """The question's language as the gold row states it; "nl" when it does not."""
    return str(row.get("lang") or DEFAULT_LANG).lower()


def _rounded(metrics: dict[str, float | None]) -> dict[str, float | None]:
    return {k: None if v is None else round(v, 4) for k, v in metrics.items()}


# ---------------------------------------------------------------------------
# Our assistant


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


# ---------------------------------------------------------------------------
# Baseline: naive LlamaIndex pipeline


def run_baseline(rows: list[dict], documents: list[Document], embed_model: Any,
                 top_k: int = MAX_K, progress: bool = False) -> list[Outcome]:
    """A naive dense pipeline for comparison: SentenceSplitter(1024/200) chunks of each
    whole document in an in-memory VectorStoreIndex, top-k only. Its answer is the start
    of the first chunk; it cites that chunk and never abstains. It has no notion of
    confidence: every answer counts as high confidence. No LLM is built."""
    from llama_index.core import Document as LIDocument, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=BASELINE_CHUNK_SIZE, chunk_overlap=BASELINE_CHUNK_OVERLAP)
    nodes = splitter.get_nodes_from_documents(
        [LIDocument(text=d.text, metadata={"doc": d.name}) for d in documents])
    by_name = {d.name: d for d in documents}
    sections = {n.node_id: _overlapped_sections(n, by_name[n.metadata["doc"]]) for n in nodes}
    retriever = VectorStoreIndex(nodes, embed_model=embed_model).as_retriever(similarity_top_k=top_k)

    outcomes = []
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        found = [r.node for r in retriever.retrieve(row["question"])]
        latency = (time.perf_counter() - started) * 1000
        matches = [_sections_match(row, sections[n.node_id]) for n in found]
        text = " ".join(found[0].get_content().split()[:BASELINE_ANSWER_WORDS]) if found else ""
        outcomes.append(Outcome(matches, text, False, matches[:1], latency))
        _progress(progress, "baseline", i, len(rows))
    return outcomes


def _overlapped_sections(node: Any, document: Document) -> list[Section]:
    """The document's sections that a chunk overlaps, by character offsets."""
    start, end = _char_span(node, document.text)
    if start is None:
        return []
    return [s for s in document.sections if s.start < end and start < s.end]


def _char_span(node: Any, text: str) -> tuple[int | None, int | None]:
    """The chunk's offsets in the source; located by search when the splitter left none."""
    start, end = node.start_char_idx, node.end_char_idx
    content = node.get_content()
    if start is not None and end is not None and text[start:end] == content:
        return start, end
    found = text.find(content, start or 0)
    if found < 0:
        found = text.find(content)
    return (found, found + len(content)) if found >= 0 else (None, None)


def _sections_match(row: dict, sections: list[Section]) -> bool:
    return any(source_matches(row, s.doc, s.heading, s.path) for s in sections)


# ---------------------------------------------------------------------------
# The run


@dataclass
class GoldSet:
    """One gold file: the name its results go under, its path and its rows."""

    name: str
    path: Path
    rows: list[dict]


@dataclass
class Scored:
    """Rows of one or more gold sets with what each system did on them."""

    gold: str | list[str]  # the gold file(s), as recorded in settings.gold
    rows: list[dict]
    sets: list[str]  # per row: the name of its gold set
    answers: list  # per row: our Answer
    outcomes: list[Outcome]  # per row: ours
    baseline: list[Outcome] | None  # per row: the baseline's, when it ran

    def subset(self, name: str, gold: str) -> "Scored":
        keep = [i for i, s in enumerate(self.sets) if s == name]
        pick = lambda values: [values[i] for i in keep]  # noqa: E731
        return Scored(gold, pick(self.rows), pick(self.sets), pick(self.answers), pick(self.outcomes),
                      pick(self.baseline) if self.baseline is not None else None)

    def curves(self) -> dict[str, list]:
        curves = {"ours": hit_curve(self.rows, self.outcomes)}
        if self.baseline is not None:
            curves["baseline"] = hit_curve(self.rows, self.baseline)
        return curves


def load_sets(paths: Sequence[Path]) -> list[GoldSet]:
    """Read each gold file and name it by its file name without suffix; a name taken
    by an earlier file (or "pooled") gets "-2", "-3", ... added."""
    sets: list[GoldSet] = []
    taken = {POOLED}
    for path in paths:
        path = Path(path)
        base = path.name.removesuffix(".jsonl") or path.stem
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        sets.append(GoldSet(name, path, load_gold(path)))
    return sets


def run_eval(assistant: Any, gold_path: Path | Sequence[Path], report_dir: Path | None = None,
             json_path: Path | None = None, with_baseline: bool = True, progress: bool = True) -> dict:
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
        "questions": [question_detail(r, a, o, s)
                      for r, a, o, s in zip(rows, scored.answers, outcomes, scored.sets)],
    }


def is_multi(result: dict) -> bool:
    """Whether an eval result holds several gold sets (``sets`` and ``pooled``)."""
    return "sets" in result and "pooled" in result


# The figures of the printed summary and of the overview report, in order.
SUMMARY_KEYS = (("retrieval", "hit@1"), ("retrieval", "hit@5"), ("retrieval", "mrr@10"),
                ("answers", "fact_recall"), ("answers", "citation_hit"), ("answers", "abstain_recall"),
                ("answers", "answered_rate"), ("answers", "confident_rate"), ("answers", "confident_precision"))


def summary_lines(result: dict) -> list[str]:
    """The printed summary: one line per gold set, then the pooled one when there are
    several; each figure as ours, or "ours/baseline" when the baseline ran."""
    if is_multi(result):
        parts = [*result["sets"].items(), (POOLED, result["pooled"])]
    else:
        parts = [(Path(str(result["settings"].get("gold", ""))).stem or "gold", result)]
    width = max(len(name) for name, _ in parts)
    legend = ["(figures: ours/baseline)"] if any(r.get("baseline") for _, r in parts) else []
    return legend + [f"{name:<{width}}  {_summary_line(r)}" for name, r in parts]


def _summary_line(result: dict) -> str:
    base = result.get("baseline")
    cells = [f"n={result['n']}"]
    for group, key in SUMMARY_KEYS:
        ours = _fmt2(result[group].get(key))
        cells.append(f"{key}={ours}/{_fmt2(base[group].get(key))}" if base else f"{key}={ours}")
    return "  ".join(cells)


def _fmt2(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


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


def write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _progress(enabled: bool, label: str, i: int, n: int) -> None:
    if enabled:
        print(f"\r{label}: {i}/{n}", end="\n" if i == n else "", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Report


def _write_reports(result: dict, report_dir: Path, scored: Scored, sets: list[GoldSet]) -> None:
    """One set: its report in `report_dir`. Several: a report per set in a subfolder
    named after it and the pooled one in ``pooled/`` (each with its report.json), and
    an overview ``report.md`` in `report_dir` that links them."""
    if not is_multi(result):
        write_report(result, report_dir, scored.curves())
        return
    parts = [(s.name, result["sets"][s.name], scored.subset(s.name, str(s.path))) for s in sets]
    for name, part, subset in parts + [(POOLED, result["pooled"], scored)]:
        write_json(part, report_dir / name / "report.json")
        write_report(part, report_dir / name, subset.curves())
    (report_dir / "report.md").write_text(_overview_markdown(result), encoding="utf-8")


def _overview_markdown(result: dict) -> str:
    """The overview of a run over several gold sets: headline figures of each set and
    the pooled ones, ours beside the baseline, with links to each set's report."""
    names = list(result["sets"]) + [POOLED]
    results = {**result["sets"], POOLED: result["pooled"]}
    keys = [(g, k) for g, k in SUMMARY_KEYS] + [("answers", "answer_words")]
    header = "| set | n | system | " + " | ".join(k for _, k in keys) + " |"
    lines = [
        "# LIVC-assistent evaluation: several gold sets",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Embedder: `{result['pooled']['settings'].get('embedder')}`",
        *[f"- [{name}]({name}/report.md): `{results[name]['settings'].get('gold')}`" if name != POOLED
          else f"- [{name}]({name}/report.md): all {results[name]['n']} questions together" for name in names],
        "",
        _CONFIDENCE_NOTE,
        "",
        header,
        "|---|---:|---|" + "---:|" * len(keys),
    ]
    for name in names:
        r = results[name]
        systems = [("ours", r)] + ([("baseline", r["baseline"])] if r.get("baseline") else [])
        for label, scores in systems:
            cells = " | ".join(_fmt(scores[g].get(k)) for g, k in keys)
            lines.append(f"| {name if label == 'ours' else ''} | {r['n'] if label == 'ours' else ''} | {label} | {cells} |")
    return "\n".join(lines + [""])


_CONFIDENCE_NOTE = ("confident_rate: share of in-scope questions answered with high confidence; "
                    "confident_precision: share of high-confidence answers that are right (in scope, every "
                    "must_contain term, a matching citation). The baseline has no confidence: every one of "
                    "its answers counts as high confidence.")


def write_report(result: dict, report_dir: Path, curves: dict[str, list] | None = None) -> Path:
    """Write report.md and its PNG plots into `report_dir`; returns the Markdown path.

    `curves` maps a system name to hit@1..10; without it, ours is rebuilt from the
    per-question ranks in `result`.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    if curves is None:
        ranks = [q["first_match_rank"] for q in result["questions"] if q["in_scope"]]
        curves = {"ours": [hit_at(ranks, k) for k in range(1, MAX_K + 1)]}
    _plot_hit_curve(curves, report_dir / "hit_at_k.png")
    _plot_by_type(result["by_type"], report_dir / "by_type.png")
    _plot_latency([q["latency_ms"] for q in result["questions"]], result["latency_ms"], report_dir / "latency.png")
    path = report_dir / "report.md"
    path.write_text(_markdown(result), encoding="utf-8")
    return path


def _figure(width: float = 6.4, height: float = 4.0):
    # A bare Figure renders PNG through Agg without touching pyplot's global backend.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _plot_hit_curve(curves: dict[str, list], path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    for name, values in curves.items():
        ks = [k for k, v in enumerate(values, start=1) if v is not None]
        ax.plot(ks, [v for v in values if v is not None], marker="o", label=name)
    ax.set(xlabel="k", ylabel="hit@k (in-scope questions)", ylim=(0, 1.02), xticks=range(1, MAX_K + 1),
           title="Retrieval: share with a correct source in the top k")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=120)


def _plot_by_type(by_type: dict[str, dict], path: Path) -> None:
    metrics = ["hit@5", "fact_recall", "citation_hit", "abstain_recall"]
    types = list(by_type)
    fig = _figure(max(6.4, 1.3 * len(types) + 2))
    ax = fig.subplots()
    width = 0.8 / len(metrics)
    for j, metric in enumerate(metrics):
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(types))]
        shown = [(x, by_type[t][metric]) for x, t in zip(xs, types) if by_type[t][metric] is not None]
        bars = ax.bar([x for x, _ in shown], [v for _, v in shown], width, label=metric, color=f"C{j}")
        ax.bar_label(bars, fmt="%.2f", fontsize="x-small", rotation=90, padding=2)
    ax.set_xticks(range(len(types)), types, rotation=20, ha="right")
    ax.set(ylim=(0, 1.2), ylabel="share", title="Results per question type (no bar: not applicable)")
    ax.legend(fontsize="small", ncols=len(metrics), loc="upper center")
    fig.savefig(path, dpi=120)


def _plot_latency(latencies: list[float], marks: dict[str, float | None], path: Path) -> None:
    fig = _figure()
    ax = fig.subplots()
    ax.hist(latencies, bins=min(20, max(1, len(latencies))), color="tab:blue", edgecolor="white")
    for (name, value), style in zip(marks.items(), ("--", ":")):
        if value is not None:
            ax.axvline(value, color="black", linestyle=style, label=f"{name} {value:.0f} ms")
    ax.set(xlabel="latency per question (ms)", ylabel="questions", title="Answer latency")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if any(v is not None for v in marks.values()):
        ax.legend()
    fig.savefig(path, dpi=120)


def _markdown(result: dict) -> str:
    """The human-readable report: headline metrics, per type, and the failures."""
    s = result["settings"]
    lines = [
        "# LIVC-assistent evaluation",
        "",
        f"- Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Gold file: {_gold_names(s.get('gold'))} — {result['n']} questions "
        f"({result['n_in_scope']} in scope, {result['n_out_of_scope']} out of scope)",
        f"- Embedder: `{s.get('embedder')}`",
        f"- Latency per question: p50 {_fmt_ms(result['latency_ms']['p50'])}, p95 {_fmt_ms(result['latency_ms']['p95'])}",
        "",
        "## Headline metrics",
        "",
        *_comparison_table(result),
        "",
        "![hit@k](hit_at_k.png)",
        "",
        _CONFIDENCE_NOTE,
        "",
        "## Per question type",
        "",
        *_type_table(result["by_type"]),
        "",
        "![per type](by_type.png)",
        "",
        "## Per language",
        "",
        *_type_table(result.get("by_lang") or {}, "lang"),
        "",
        "## Latency",
        "",
        "![latency](latency.png)",
        "",
        "## Questions to look at",
        "",
        *_failures(result["questions"]),
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(s, ensure_ascii=False, indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def _comparison_table(result: dict) -> list[str]:
    base = result.get("baseline") or {}
    lines = ["| metric | ours | baseline |", "|---|---:|---:|"]
    for group in ("retrieval", "answers"):
        for key, value in result[group].items():
            lines.append(f"| {key} | {_fmt(value)} | {_fmt(base.get(group, {}).get(key))} |")
    return lines


def _type_table(by_type: dict[str, dict], label: str = "type") -> list[str]:
    if not by_type:
        return ["(no questions)"]
    keys = list(next(iter(by_type.values())))
    lines = [f"| {label} | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    lines += [f"| {t} | " + " | ".join(_fmt(m[k]) for k in keys) + " |" for t, m in by_type.items()]
    return lines


def _failures(questions: list[dict]) -> list[str]:
    """In-scope questions without a correct source in the top 5 or missing facts, and
    out-of-scope questions that were answered; a wrong answer given with high
    confidence says so, since that is the one an official would act on."""
    lines = []
    for q in questions:
        problems = []
        if q["in_scope"]:
            if q["first_match_rank"] is None or q["first_match_rank"] > 5:
                problems.append(f"first correct source at rank {q['first_match_rank']}")
            if not q["facts_found"]:
                problems.append("abstained" if q["abstained"] else "facts missing")
            if q["citation_hit"] is False:
                problems.append("no correct citation")
        elif not q["abstained"]:
            problems.append("answered an out-of-scope question")
        if problems and q.get("confidence") == HIGH and not q["abstained"] and not q.get("correct"):
            problems.append("**wrong with high confidence**")
        if problems:
            where = ", ".join(v for v in (q["type"], q.get("lang")) if v)
            lines.append(f"- **{q['id']}** ({where}): {q['question']} — {'; '.join(problems)}")
    return lines or ["None."]


def _gold_names(gold: str | list[str] | None) -> str:
    files = gold if isinstance(gold, list) else [gold]
    return ", ".join(f"`{g}`" for g in files)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _fmt_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"
