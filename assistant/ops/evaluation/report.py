"""What a run prints and writes: the summary lines, the JSON, and the Markdown reports with
their plots (one per gold set, the pooled one, and an overview of several sets)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .gold import POOLED
from .metrics import HIGH, MAX_K, hit_at

if TYPE_CHECKING:
    from .gold import GoldSet
    from .run import Scored


def is_multi(result: dict) -> bool:
    """Whether an eval result holds several gold sets (``sets`` and ``pooled``)."""
    return "sets" in result and "pooled" in result


# The figures of the printed summary and of the overview report, in order.
SUMMARY_KEYS = (
    ("retrieval", "hit@1"),
    ("retrieval", "hit@5"),
    ("retrieval", "mrr@10"),
    ("answers", "fact_recall"),
    ("answers", "citation_hit"),
    ("answers", "abstain_recall"),
    ("answers", "answered_rate"),
    ("answers", "confident_rate"),
    ("answers", "confident_precision"),
)


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


def write_json(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


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
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Embedder: `{result['pooled']['settings'].get('embedder')}`",
        *[
            f"- [{name}]({name}/report.md): `{results[name]['settings'].get('gold')}`"
            if name != POOLED
            else f"- [{name}]({name}/report.md): all {results[name]['n']} questions together"
            for name in names
        ],
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
            lines.append(
                f"| {name if label == 'ours' else ''} | {r['n'] if label == 'ours' else ''} | {label} | {cells} |"
            )
    return "\n".join(lines + [""])


_CONFIDENCE_NOTE = (
    "confident_rate: share of in-scope questions answered with high confidence; "
    "confident_precision: share of high-confidence answers that are right (in scope, every "
    "must_contain term, a matching citation). The baseline has no confidence: every one of "
    "its answers counts as high confidence."
)


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
    ax.set(
        xlabel="k",
        ylabel="hit@k (in-scope questions)",
        ylim=(0, 1.02),
        xticks=range(1, MAX_K + 1),
        title="Retrieval: share with a correct source in the top k",
    )
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
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- Gold file: {_gold_names(s.get('gold'))} — {result['n']} questions "
        f"({result['n_in_scope']} in scope, {result['n_out_of_scope']} out of scope)",
        f"- Embedder: `{s.get('embedder')}`",
        f"- Latency per question: p50 {_fmt_ms(result['latency_ms']['p50'])}, "
        f"p95 {_fmt_ms(result['latency_ms']['p95'])}",
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
