"""Measuring follow-up detection (`assistant.core.followup`) on a follow-up gold file:
``livc eval --followup [eval/followup-dev.jsonl]``.

A row is a gold row (see assistant.ops.evaluation) with a `history`: the earlier
questions. ``"followup": false`` marks a negative pair, a question that stands alone
after an unrelated one and must not be rewritten; any other row is a follow-up.
"""

from __future__ import annotations

from pathlib import Path

from ..core.followup import Vocabulary, contextualize


def is_followup(row: dict) -> bool:
    """Whether a follow-up gold row leans on its history (the default) or stands alone."""
    return row.get("followup", True) is not False


def search_query(row: dict, vocabulary: Vocabulary | None) -> str:
    """What the assistant searches for the row: `contextualize()` of its question and
    history. The row counts as *detected* as a follow-up when this differs from the
    question (the chat then shows "Gelezen als vervolg op uw vorige vraag" unless
    another notice takes its place)."""
    return contextualize(row["question"], row.get("history"), vocabulary)


def detection_scores(truth: list[bool], found: list[bool]) -> dict:
    """Precision and recall of follow-up detection, and the share of standalone
    questions left as they were (``standalone_kept``); None for an empty denominator.
    `truth` says which rows are follow-ups, `found` which were read as one."""
    pairs = list(zip(truth, found))
    tp = sum(t and f for t, f in pairs)
    fp = sum(f and not t for t, f in pairs)
    fn = sum(t and not f for t, f in pairs)
    tn = sum(not t and not f for t, f in pairs)

    def share(a: int, b: int) -> float | None:
        return round(a / (a + b), 4) if a + b else None

    return {
        "precision": share(tp, fp),
        "recall": share(tp, fn),
        "standalone_kept": share(tn, fp),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def compare(assistant, gold_path: Path) -> dict:
    """Score a follow-up gold file.

    Returns ``{"n", "n_followup", "n_standalone", "detection", "with_context",
    "without_context", "standalone", "questions"}``: ``detection`` as in
    `detection_scores`; ``with_context`` and ``without_context`` the evaluation's
    retrieval and answer metrics of the follow-ups asked with their history and as bare
    questions; ``standalone`` the same two for the negative pairs (where the history
    should change nothing); ``questions`` one record per row with its query."""
    from .evaluation import answer_outcome, load_gold, score_rows

    rows = load_gold(gold_path)
    vocabulary = assistant.store.vocabulary
    queries = [search_query(r, vocabulary) for r in rows]
    found = [q != r["question"] for r, q in zip(rows, queries)]
    truth = [is_followup(r) for r in rows]
    outcomes: dict[bool, list] = {}
    for use_history in (True, False):
        outcomes[use_history] = []
        for row in rows:
            answer = assistant.ask(row["question"], row.get("history") if use_history else None)
            outcomes[use_history].append(answer_outcome(row, answer, answer.timings.get("total", 0.0)))

    def scores(kind: bool, use_history: bool) -> dict:
        picked = [(r, o) for r, o, t in zip(rows, outcomes[use_history], truth) if t is kind]
        return score_rows([r for r, _ in picked], [o for _, o in picked])

    return {
        "n": len(rows),
        "n_followup": sum(truth),
        "n_standalone": len(rows) - sum(truth),
        "detection": detection_scores(truth, found),
        "with_context": scores(True, True),
        "without_context": scores(True, False),
        "standalone": {"with_context": scores(False, True), "without_context": scores(False, False)},
        "questions": [
            {
                "id": r.get("id"),
                "history": r.get("history") or [],
                "question": r["question"],
                "followup": t,
                "detected": f,
                "query": q,
                "first_match_rank": o.first_match_rank,
            }
            for r, q, t, f, o in zip(rows, queries, truth, found, outcomes[True])
        ],
        "gold": str(gold_path),
    }


def run_followup_eval(
    assistant, gold_path: Path, report_dir: Path | None = None, json_path: Path | None = None
) -> dict:
    """`compare`, written as JSON to `json_path` and, with `report_dir`, to
    ``followup.json`` and ``followup.md`` in it. Returns the result."""
    from .evaluation import write_json

    result = compare(assistant, Path(gold_path))
    targets = [json_path] + ([Path(report_dir) / "followup.json"] if report_dir else [])
    for target in targets:
        if target:
            write_json(result, Path(target))
    if report_dir:
        (Path(report_dir) / "followup.md").write_text(followup_markdown(result), encoding="utf-8")
    return result


def format_followup(result: dict) -> str:
    """The measurement as a few plain lines: detection, then retrieval with and without
    the history for the follow-ups and for the standalone questions."""
    d = result["detection"]
    lines = [
        f"follow-up gold: {result['gold']} (n={result['n']}: {result['n_followup']} follow-ups, "
        f"{result['n_standalone']} standalone)",
        f"detection        precision={_f(d['precision'])}  recall={_f(d['recall'])}  "
        f"standalone_kept={_f(d['standalone_kept'])}  (tp={d['tp']} fp={d['fp']} fn={d['fn']} tn={d['tn']})",
    ]
    for title, group in (("follow-ups", result), ("standalone", result["standalone"])):
        for label in ("with_context", "without_context"):
            r, a = group[label]["retrieval"], group[label]["answers"]
            lines.append(
                f"{title + ' ' + label:<32} hit@1={_f(r['hit@1'])}  hit@5={_f(r['hit@5'])}  "
                f"mrr@10={_f(r['mrr@10'])}  fact_recall={_f(a['fact_recall'])}  "
                f"citation_hit={_f(a['citation_hit'])}"
            )
    lines += [
        f"misread as follow-up: {q['id']}: {q['question']} -> {q['query']}"
        for q in result["questions"]
        if q["detected"] and not q["followup"]
    ]
    lines += [
        f"missed follow-up: {q['id']}: {q['question']}"
        for q in result["questions"]
        if q["followup"] and not q["detected"]
    ]
    return "\n".join(lines)


def followup_markdown(result: dict) -> str:
    """The measurement as a Markdown report."""
    d = result["detection"]
    lines = [
        "# LIVC-assistent: follow-up questions",
        "",
        f"- Gold file: `{result['gold']}` — {result['n']} questions ({result['n_followup']} follow-ups, "
        f"{result['n_standalone']} standalone questions asked after an unrelated one)",
        "- Detected: the search query (`contextualize` of question and history) differs from the question.",
        "",
        "## Detection",
        "",
        "| precision | recall | standalone kept | tp | fp | fn | tn |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {_f(d['precision'])} | {_f(d['recall'])} | {_f(d['standalone_kept'])} | {d['tp']} | {d['fp']} | "
        f"{d['fn']} | {d['tn']} |",
        "",
        "## Retrieval and answers",
        "",
        "| questions | history | hit@1 | hit@5 | mrr@10 | fact_recall | citation_hit |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for title, group in (("follow-ups", result), ("standalone", result["standalone"])):
        for label in ("with_context", "without_context"):
            r, a = group[label]["retrieval"], group[label]["answers"]
            lines.append(
                f"| {title} | {label.replace('_', ' ')} | {_f(r['hit@1'])} | {_f(r['hit@5'])} | "
                f"{_f(r['mrr@10'])} | {_f(a['fact_recall'])} | {_f(a['citation_hit'])} |"
            )
    lines += ["", "## Misreads and misses", ""]
    wrong = [q for q in result["questions"] if q["detected"] != q["followup"]]
    lines += [
        f"- **{q['id']}** ({'follow-up missed' if q['followup'] else 'standalone misread'}): "
        f"{' / '.join(q['history'])} → {q['question']} — searched as: {q['query']}"
        for q in wrong
    ] or ["None."]
    return "\n".join(lines + [""])


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"
