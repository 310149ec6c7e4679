"""The speed figures of a run at 1x, each beside its target (`speed_figures`, ``speed`` in the
JSON), and their rows in the table (`speed_lines`): what the speed work is measured by.

1. model calls per new question end to end (``hot_path``), target at most 1.05;
2. ask() new-question p50 / the naive baseline's p50 (``baseline.ratios``), at most 1.0;
3. ask() new-question p50 / one query embedding's p50 (``latency_ms.query_embedding.new``,
   measured beside ask(), question by question), at most 1.15;
4. HTTP ``/api/v1/ask`` p50 at 1 client / ask() p50, at most 1.2;
5. HTTP requests/s at 16 clients (distinct new questions) x ask() p50 in seconds: the cores
   put to use (at most the machine's), at least 1.5.

Figures 4 and 5 divide by the ask() p50 of the bench's own process, measured minutes before
the server's, in another process: on a shared machine that alone moves them by 10-20 %. Two
companion figures (`COMPANIONS`) use the server's own ask() time for the same requests
(``timings.total`` of each answer, ``server_ask_ms`` of a level):

4b. HTTP p50 at 1 client / the server's ask() p50 for those requests: the web layer alone;
5b. HTTP requests/s at 16 clients x the server's mean ask() time at 1 client, in seconds:
    cores put to use by Little's law (work done per second in seconds of one question's
    service time; a mean, as a rate is).

A figure that the run cannot give (no HTTP level of 1 or 16 clients, no baseline, fewer than
`MIN_SAMPLES` samples behind a p50 or a rate, a question sent twice) is None with the reason.
"""

from __future__ import annotations

from typing import Any

MIN_SAMPLES = 20  # samples behind a p50 (and requests behind a rate) for a figure to be given
LOAD_CLIENTS = 16  # the load level of figure 5

# key: (label in the table, "at_most" or "at_least", bound)
FIGURES: dict[str, tuple[str, str, float]] = {
    "model_calls_per_new_question": ("model calls per new question (ask())", "at_most", 1.05),
    "ask_p50_vs_baseline_p50": ("ask() new p50 / naive baseline p50", "at_most", 1.0),
    "ask_p50_vs_query_embedding_p50": ("ask() new p50 / one query embedding p50", "at_most", 1.15),
    "http_1_client_p50_vs_ask_p50": ("HTTP p50 at 1 client / ask() new p50", "at_most", 1.2),
    "cores_put_to_use": (f"HTTP req/s at {LOAD_CLIENTS} clients x ask() p50 s (cores used)", "at_least", 1.5),
}

# The same-process companions of figures 4 and 5 (see the module's docstring).
COMPANIONS: dict[str, tuple[str, str, float]] = {
    "http_1_client_p50_vs_server_ask_p50": ("HTTP p50 at 1 client / the server's ask() p50", "at_most", 1.2),
    "cores_put_to_use_server_ask": (
        f"HTTP req/s at {LOAD_CLIENTS} clients x the server's mean ask() s at 1 client",
        "at_least",
        1.5,
    ),
}


def speed_figures(entry: dict, baseline: dict | None, hot_path: dict, cpus: int | None) -> dict:
    """The five figures for the scale `entry` (the first, 1x) of a run, each
    ``{"value", "target", "met", "reason", "inputs"}``; ``value`` None means not measured
    in this run and ``reason`` says why."""
    latency = entry["latency_ms"]
    ask = latency["end_to_end"]["new"]
    embedding = (latency.get("query_embedding") or {}).get("new")
    levels = {level["clients"]: level for level in (entry.get("http") or {}).get("levels", [])}
    ask_p50, ask_short = ask["p50"], _short("ask() new-question", ask["n"])
    out: dict[str, Any] = {"scale": entry["scale"], "min_samples": MIN_SAMPLES, "cpus": cpus}

    calls = hot_path["model_calls_per_new_question"]["end_to_end"]
    texts = (hot_path.get("query_texts_per_new_question") or {}).get("end_to_end")
    out["model_calls_per_new_question"] = _figure(
        "model_calls_per_new_question",
        calls,
        None if ask["n"] else "no questions",
        {"questions": ask["n"], "texts_per_question": texts},
    )

    if baseline is None:
        value, reason, inputs = None, "no baseline in this run", {}
    else:
        base = baseline["baseline"]["latency_ms"]["retrieval"]
        value = baseline["ratios"]["latency"]["end_to_end_new_p50"]
        reason = ask_short or _short("baseline", base["n"])
        inputs = {"ask_p50_ms": ask_p50, "baseline_p50_ms": base["p50"], "samples": ask["n"]}
    out["ask_p50_vs_baseline_p50"] = _figure("ask_p50_vs_baseline_p50", value, reason, inputs)

    if embedding is None:
        value, reason, inputs = None, "no query embedding measured in this run", {}
    else:
        value = _ratio(ask_p50, embedding["p50"])
        reason = ask_short or _short("query embedding", embedding["n"])
        inputs = {"ask_p50_ms": ask_p50, "query_embedding_p50_ms": embedding["p50"], "samples": embedding["n"]}
    out["ask_p50_vs_query_embedding_p50"] = _figure("ask_p50_vs_query_embedding_p50", value, reason, inputs)

    one = levels.get(1)
    if one is None:
        value, reason, inputs = None, "no HTTP level of 1 client in this run", {}
    else:
        value = _ratio(one["latency_ms"]["p50"], ask_p50)
        reason = ask_short or _short("HTTP 1-client", one["ok"])
        inputs = {"http_p50_ms": one["latency_ms"]["p50"], "ask_p50_ms": ask_p50, "requests": one["ok"]}
    out["http_1_client_p50_vs_ask_p50"] = _figure("http_1_client_p50_vs_ask_p50", value, reason, inputs)

    many = levels.get(LOAD_CLIENTS)
    load_reason = _load_reason(many)
    if many is None:
        value, reason, inputs = None, load_reason, {}
    else:
        rate = many["requests_per_s"]
        value = None if ask_p50 is None else round(rate * ask_p50 / 1000, 3)
        reason = ask_short or load_reason
        inputs = {"requests_per_s": rate, "ask_p50_ms": ask_p50, "requests": many["ok"], "cpus": cpus}
    out["cores_put_to_use"] = _figure("cores_put_to_use", value, reason, inputs)
    out.update(_companions(one, many, load_reason))
    return out


def _load_reason(many: dict | None) -> str | None:
    """Why the 16-client level cannot give a rate (None when it can)."""
    if many is None:
        return f"no HTTP level of {LOAD_CLIENTS} clients in this run"
    if short := _short(f"HTTP {LOAD_CLIENTS}-client", many["ok"]):
        return short
    if many.get("new_questions") != many["requests"]:
        return f"{many['requests']} requests but {many.get('new_questions')} new distinct questions"
    return None


def _companions(one: dict | None, many: dict | None, load_reason: str | None) -> dict:
    """Figures 4b and 5b, from the server's own ask() times (`server_ask_ms` of the 1-client level)."""
    served = (one or {}).get("server_ask_ms") or {}
    if one is None:
        reason = "no HTTP level of 1 client in this run"
    else:
        reason = _short("server ask() time at 1 client", served.get("n"))
    web = None if reason else _ratio(one["latency_ms"]["p50"], served["p50"])
    inputs = {"http_p50_ms": (one or {}).get("latency_ms", {}).get("p50"), "server_ask_p50_ms": served.get("p50")}
    out = {"http_1_client_p50_vs_server_ask_p50": _figure("http_1_client_p50_vs_server_ask_p50", web, reason, inputs)}
    cores_reason = reason or load_reason
    rate = (many or {}).get("requests_per_s")
    cores = None if cores_reason else round(rate * served["mean"] / 1000, 3)
    inputs = {"requests_per_s": rate, "server_ask_mean_ms": served.get("mean")}
    out["cores_put_to_use_server_ask"] = _figure("cores_put_to_use_server_ask", cores, cores_reason, inputs)
    return out


def speed_lines(speed: dict | None) -> list[str]:
    """The figures as table rows: label, figure ("–" when not measured), target; the reasons
    for the missing ones below."""
    if not speed:
        return []
    rows = [[f"Speed (x{speed['scale']})", "figure", "target", "met"]]
    missing = []
    for key, (label, _, _) in {**FIGURES, **COMPANIONS}.items():
        f = speed.get(key)
        if f is None:  # a run written before the companions existed
            continue
        if key == "cores_put_to_use" and speed.get("cpus"):
            label = f"{label[:-1]}, of {speed['cpus']})"
        rows.append([f"  {label}", _num(f["value"]), _target(f["target"]), _met(f["met"])])
        if f["value"] is None:
            missing.append(f"  – {label}: {f['reason']}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    return [line.rstrip() for line in lines] + missing


def _figure(key: str, value: float | None, reason: str | None, inputs: dict) -> dict:
    if reason or value is None:
        value, reason = None, reason or "not measured"
    _, side, bound = {**FIGURES, **COMPANIONS}[key]
    met = None if value is None else (value <= bound if side == "at_most" else value >= bound)
    return {"value": value, "target": {side: bound}, "met": met, "reason": reason, "inputs": inputs}


def _short(what: str, n: int | None) -> str | None:
    return f"{n or 0} {what} samples, fewer than {MIN_SAMPLES}" if (n or 0) < MIN_SAMPLES else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _target(target: dict) -> str:
    ((side, bound),) = target.items()
    return f"{'≤' if side == 'at_most' else '≥'} {bound:.2f}"


def _met(met: bool | None) -> str:
    return "–" if met is None else ("yes" if met else "no")
