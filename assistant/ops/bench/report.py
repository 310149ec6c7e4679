"""The benchmark's output: derived figures (`finish`), the JSON files and the plot
(`write_outputs`, `plot`), the plain-text table (`format_table`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .build import extrapolate
from .config import QUALITY_KEYS
from .speed import speed_lines


def finish(result: dict) -> dict:
    """Derived figures that need the whole run (extrapolated build times)."""
    rate = result["scales"][0]["build"]["cold"].get("texts_per_s")
    for entry in result["scales"]:
        if rate:
            extrapolate(entry["build"]["cold"], rate)
    return result


def write_outputs(result: dict, out_dir: Path) -> dict[str, Path]:
    """bench-<timestamp>.json, latest.json and bench.png in `out_dir`."""
    finish(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    paths = {"json": out_dir / f"bench-{stamp}.json", "latest": out_dir / "latest.json", "plot": out_dir / "bench.png"}
    paths["json"].write_text(text, encoding="utf-8")
    paths["latest"].write_text(text, encoding="utf-8")
    plot(result, paths["plot"])
    result["files"] = {k: str(v) for k, v in paths.items()}
    return paths


def format_table(result: dict) -> str:
    """The result as a plain-text table."""
    scales, load = result["scales"], result["machine"].get("load_average", {})
    head = ["", *[f"x{s['scale']}" for s in scales]]
    lines = [
        f"LIVC-assistent benchmark, {result['started_at']}, {result['machine']['cpus']} CPUs, {result['embedder']}"
        + (" (QUICK: corpus slice, few samples)" if result["quick"] else ""),
        f"{result['questions']['n']} gold questions ({result['questions']['in_scope']} in scope); "
        f"run took {result['seconds']:.0f} s; load average {_f(load.get('start'))} at start, "
        f"{_f(load.get('end'))} at end (other work on the machine slows every figure)",
        "",
    ]
    rows: list[list[str]] = [
        ["Index build", *[""] * len(scales)],
        ["  passages", *[str(s["passages"]) for s in scales]],
        ["  vectors", *[s["vectors"] for s in scales]],
    ]
    rows.append(["  cold, measured (s)", *[_f(s["build"]["cold"]["seconds"]) for s in scales]])
    rows.append(
        [
            "  cold, with model (s)",
            *[
                _f(s["build"]["cold"].get("estimated_seconds_with_model", s["build"]["cold"]["seconds"]))
                for s in scales
            ],
        ]
    )
    rows.append(
        [
            "  cold passages/s (model)",
            *[
                _f(s["build"]["cold"].get("estimated_passages_per_s", s["build"]["cold"]["passages_per_s"]))
                for s in scales
            ],
        ]
    )
    rows.append(["  warm, unchanged (s)", *[_f(s["build"]["warm"]["seconds"]) for s in scales]])
    rows.append(["  rebuild, cached vectors (s)", *[_f(s["build"]["rebuild_cached"]["seconds"]) for s in scales]])
    rows.append(["  index on disk (MB)", *[_f(s["index_mb"]) for s in scales]])
    rows.append(["Latency ms p50/p95/p99", *[""] * len(scales)])
    rows.append(["  Assistant.open() (s)", *[_f(s["open_seconds"]) for s in scales]])
    rows.append(["  first ask() after open", *[_f(s["latency_ms"].get("first_question")) for s in scales]])
    for name, label in (("retrieval", "search"), ("end_to_end", "ask()")):
        for state in ("new", "cached"):
            rows.append([f"  {label}, {state} question", *[_pct(s["latency_ms"][name][state]) for s in scales]])
    rows.append(
        [
            "  one query embedding, new text",
            *[
                _pct(s["latency_ms"]["query_embedding"]["new"]) if "query_embedding" in s["latency_ms"] else "-"
                for s in scales
            ],
        ]
    )
    rows.append(["HTTP /api/v1/ask", *[""] * len(scales)])
    rows.append(["  start -> ready (s)", *[_f(s["http"]["ready_seconds"]) for s in scales]])
    rows.append(["  peak RSS (MB)", *[_f(s["http"]["peak_rss_mb"]) for s in scales]])
    for i, clients in enumerate(level["clients"] for level in scales[0]["http"]["levels"]):
        rows.append(
            [f"  {clients:>2} client(s): req/s", *[_f(s["http"]["levels"][i]["requests_per_s"]) for s in scales]]
        )
        rows.append(["      p50/p95 ms", *[_pct(s["http"]["levels"][i]["latency_ms"], ("p50", "p95")) for s in scales]])
        errors = [sum(s["http"]["levels"][i]["errors"].values()) for s in scales]
        if any(errors):
            rows.append(["      errors", *[str(e) for e in errors]])
    lines += _columns([head, *rows])
    lines += [
        "",
        *speed_lines(result.get("speed")),
        "",
        *_hot_path_lines(result["hot_path"]),
        "",
        *_baseline_lines(result),
        "",
        *(f"- {n}" for n in result["notes"]),
    ]
    return "\n".join(lines)


def _hot_path_lines(hot: dict) -> list[str]:
    new, repeated = hot["model_calls_per_new_question"], hot["model_calls_per_repeated_question"]
    texts = hot.get("query_texts_per_new_question") or {"retrieval": None, "end_to_end": None}
    caches = ", ".join(
        f"{name} (maxsize {info['maxsize']})" for name, info in (hot["query_embedding_cache"] or {}).items()
    )
    lines = [
        "Hot path (x1)",
        f"  query-embedding LRU: {caches or 'none'}",
        f"  model calls per new question: search {_f(new['retrieval'])}, ask() {_f(new['end_to_end'])}; "
        f"per repeated question: {_f(repeated['retrieval'])}, {_f(repeated['end_to_end'])}",
        f"  texts embedded per new question (one call may embed several): "
        f"search {_f(texts['retrieval'])}, ask() {_f(texts['end_to_end'])}",
        f"  share of questions whose dense query is the question itself (one text to embed): "
        f"{_f(hot['dense_query_is_question'])}",
    ]
    blas = hot.get("query_embedding_blas_threads")
    if blas:
        key = next(k for k in blas if k.endswith("_at_once"))
        lines.append(
            f"  one query embedding, p50 ms, model threads (BLAS, OpenMP) {blas['blas_threads_default']} vs 1: alone "
            f"{_f(blas['alone_ms']['default']['p50'])} vs {_f(blas['alone_ms']['one']['p50'])}; "
            f"{key.split('_')[0]} at once {_f(blas[key]['default']['per_call_ms']['p50'])} vs "
            f"{_f(blas[key]['one']['per_call_ms']['p50'])} ({_f(blas[key]['default']['calls_per_s'])} vs "
            f"{_f(blas[key]['one']['calls_per_s'])} calls/s)"
        )
    return lines


def _baseline_lines(result: dict) -> list[str]:
    b = result["baseline"]
    ours, base = result["scales"][0], b["baseline"]
    lat, blat = ours["latency_ms"], base["latency_ms"]["retrieval"]
    rows = [["Ours vs naive LlamaIndex baseline (x1)", "ours", "baseline", "ours/base"]]
    for label, key, state, p in (
        ("search, new question p50 ms", "retrieval", "new", "p50"),
        ("search, new question p95 ms", "retrieval", "new", "p95"),
        ("ask(), new question p50 ms", "end_to_end", "new", "p50"),
        ("ask(), new question p95 ms", "end_to_end", "new", "p95"),
        ("ask(), repeated question p50 ms", "end_to_end", "cached", "p50"),
    ):
        rows.append([label, _f(lat[key][state][p]), _f(blat[p]), _f(b["ratios"]["latency"][f"{key}_{state}_{p}"])])
    rows.append(
        [
            "cold build s (texts embedded)",
            f"{_f(ours['build']['cold']['seconds'])} ({ours['build']['cold']['texts_embedded']})",
            f"{_f(base['build']['seconds'])} ({base['build']['texts_embedded']})",
            _f(b["ratios"]["build_cold"]),
        ]
    )
    for key in QUALITY_KEYS:
        rows.append(
            [key, _f(b["quality"]["ours"][key]), _f(b["quality"]["baseline"][key]), _f(b["ratios"]["quality"][key])]
        )
    return _columns(rows)


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows
    ]


def _f(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def _pct(p: dict, keys: tuple[str, ...] = ("p50", "p95", "p99")) -> str:
    return "/".join(_f(p[k]) for k in keys)


def plot(result: dict, path: Path) -> None:
    """Six panels: build time, latency and HTTP throughput, HTTP latency and memory against
    the scale, and ours against the baseline."""
    from matplotlib.figure import Figure

    scales = result["scales"]
    xs = [s["scale"] for s in scales]
    fig = Figure(figsize=(15, 8.5), layout="constrained")
    axes = fig.subplots(2, 3)
    fig.suptitle(f"LIVC-assistent benchmark {result['started_at']}" + (" (quick)" if result["quick"] else ""))

    ax = axes[0][0]
    for label, get in (
        ("cold, measured", lambda b: b["cold"]["seconds"]),
        (
            "cold, with model (extrapolated above x1)",
            lambda b: b["cold"].get("estimated_seconds_with_model", b["cold"]["seconds"]),
        ),
        ("warm, nothing changed", lambda b: b["warm"]["seconds"]),
        ("rebuild, cached vectors", lambda b: b["rebuild_cached"]["seconds"]),
    ):
        ax.plot(xs, [get(s["build"]) for s in scales], marker="o", label=label)
    _log_axes(ax, "Index build", "seconds")

    ax = axes[0][1]
    for name, label in (("retrieval", "search"), ("end_to_end", "ask()")):
        for state, style in (("new", "-"), ("cached", "--")):
            for p, marker in (("p50", "o"), ("p95", "^")):
                ax.plot(
                    xs,
                    [s["latency_ms"][name][state][p] for s in scales],
                    linestyle=style,
                    marker=marker,
                    label=f"{label} {state} {p}",
                )
    _log_axes(ax, "Query latency in process", "ms")

    ax = axes[0][2]
    for s in scales:
        levels = s["http"]["levels"]
        ax.plot(
            [lv["clients"] for lv in levels],
            [lv["requests_per_s"] for lv in levels],
            marker="o",
            label=f"x{s['scale']}",
        )
    ax.set(title="HTTP /api/v1/ask throughput", xlabel="concurrent clients", ylabel="requests/s", xscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

    ax = axes[1][0]
    for s in scales:
        levels = s["http"]["levels"]
        ax.plot(
            [lv["clients"] for lv in levels],
            [lv["latency_ms"]["p50"] for lv in levels],
            marker="o",
            label=f"x{s['scale']} p50",
        )
        ax.plot(
            [lv["clients"] for lv in levels],
            [lv["latency_ms"]["p95"] for lv in levels],
            marker="^",
            linestyle="--",
            label=f"x{s['scale']} p95",
        )
    ax.set(title="HTTP latency", xlabel="concurrent clients", ylabel="ms", xscale="log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")

    ax = axes[1][1]
    positions = range(len(xs))
    ax.bar(positions, [s["http"]["peak_rss_mb"] for s in scales], 0.5, color="C0", label="peak RSS (MB)")
    ax.set(title="Serving process", xlabel="corpus scale", ylabel="peak RSS (MB)")
    ax.set_xticks(positions, [f"x{x}" for x in xs])
    twin = ax.twinx()
    twin.plot(
        positions, [s["http"]["ready_seconds"] for s in scales], marker="s", color="C1", label="start -> ready (s)"
    )
    twin.set_ylim(bottom=0)
    twin.set_ylabel("start -> ready (s)")
    ax.legend(loc="upper left", fontsize="small")
    twin.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)

    _plot_baseline(axes[1][2], result["baseline"])
    fig.savefig(path, dpi=100)


def _log_axes(ax, title: str, ylabel: str) -> None:
    xs = sorted({int(x) for line in ax.get_lines() for x in line.get_xdata()})
    ax.set(title=title, xlabel="corpus scale", ylabel=ylabel, xscale="log", yscale="log")
    ax.set_xticks(xs, [f"x{x}" for x in xs])
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="x-small")


def _plot_baseline(ax, baseline: dict) -> None:
    keys = ["hit@1", "hit@5", "mrr@10", "fact_recall", "citation_hit", "abstain_recall"]
    ours = [baseline["quality"]["ours"][k] or 0 for k in keys]
    base = [baseline["quality"]["baseline"][k] or 0 for k in keys]
    xs = np.arange(len(keys))
    ax.bar(xs - 0.2, ours, 0.4, label="ours")
    ax.bar(xs + 0.2, base, 0.4, label="baseline")
    ax.set_xticks(xs, keys, rotation=20, ha="right")
    ratio = baseline["ratios"]["latency"]["end_to_end_new_p50"]
    ax.set(ylim=(0, 1.1), ylabel="share", title=f"Ours vs naive baseline (x1)\nask() p50, new question: {_f(ratio)}x")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3, axis="y")
