"""Serving: the app (``livc serve``) in a subprocess through `assistant.ops.harness`,
start-to-ready, a load generator of distinct questions at 1, 4 and 16 clients, peak memory."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ...core.settings import Settings
from ..harness import AppNotReady, AppProcess, peak_rss_mb, rss_mb
from .config import BenchConfig, BenchError
from .latency import ms_summary

# Lead-ins that make each question sent to a server distinct without changing what it asks.
LEAD_INS = (
    "",
    "Graag kort: ",
    "Een vraag: ",
    "Ik vraag me af: ",
    "Even nagaan: ",
    "Nog een vraag: ",
    "Praktisch: ",
    "Voor ons team: ",
)


def measure_http(
    config: BenchConfig, settings: Settings, folder: Path, rows: list[dict], scale: int, log: Callable[[str], None]
) -> dict:
    """Start the app on the scale's index, time it to ready, load it at each client level,
    then read its peak memory and stop it."""
    log(f"x{scale}: starting the app")
    server = start_app(settings, folder, config)
    try:
        try:
            ready = server.wait_ready(config.ready_timeout)
        except AppNotReady as exc:
            raise BenchError(str(exc)) from None
        rss_ready = memory(server)["rss_mb"]
        sent: list[str] = []  # every question sent to this server, in order
        questions = _recorded(distinct_questions([r["question"] for r in rows]), sent)
        for q in (next(questions), next(questions)):  # connections and worker threads up
            ask(server, q)
        levels = []
        for clients in config.http_clients:
            log(f"x{scale}: {clients} concurrent client(s)")
            before = len(sent)
            level = load(server, clients, max(config.http_requests, clients), config.http_seconds, questions)
            # questions of this level sent once and never before to this server (== requests: all new)
            level["new_questions"] = len(set(sent[before:]) - set(sent[:before]))
            levels.append(level)
        peak = memory(server)
        return {
            "ready_seconds": round(ready, 2),
            "rss_ready_mb": rss_ready,
            "peak_rss_mb": peak["peak_rss_mb"],
            "concurrency_setting": settings.concurrency,
            "levels": levels,
        }
    finally:
        server.stop()


def start_app(settings: Settings, folder: Path, config: BenchConfig) -> AppProcess:
    """The app (`harness.AppProcess`) on the scale's corpus and index, started: rate limit
    and sign-on off, embedded Chroma, its own log, feedback database and console output."""
    env = {k: v for k, v in os.environ.items() if k not in ("LIVC_PORT", "LIVC_HOST")}
    env.update(
        {
            "LIVC_RATE_LIMIT": "0",
            "LIVC_AUTH": "none",
            "LIVC_ROOT_PATH": "",
            "LIVC_CHROMA_URL": "",
            "LIVC_LLM_URL": "",  # throughput of the pipeline; a model is measured on its own (generation.py)
            "LIVC_LOG_FILE": str(folder / "server-log.jsonl"),
            "LIVC_FEEDBACK_DB": str(folder / "feedback.sqlite"),
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    args = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    if config.config_file:
        args += ["--config", str(config.config_file)]
    return AppProcess(args, env=env, output=folder / "server.out").start()


def ask(server: AppProcess, question: str, connection: http.client.HTTPConnection | None = None) -> int:
    """POST one question to /api/v1/ask; the status."""
    return answer(server, question, connection)[0]


def answer(
    server: AppProcess, question: str, connection: http.client.HTTPConnection | None = None
) -> tuple[int, float | None]:
    """POST one question to /api/v1/ask; the status and the server's own ask() time in ms
    (the answer's ``timings.total``; None when the reply has none)."""
    status, body = server.request("POST", "/api/v1/ask", {"question": question}, connection=connection)
    try:
        total = json.loads(body)["timings"]["total"] if status == 200 else None
    except (ValueError, KeyError, TypeError):
        total = None
    return status, total if isinstance(total, (int, float)) else None


def memory(server: AppProcess) -> dict:
    """The server's resident memory now and at its peak (VmRSS, VmHWM), in MB."""
    return {"rss_mb": round(rss_mb(server.pid), 1), "peak_rss_mb": round(peak_rss_mb(server.pid), 1)}


def distinct_questions(questions: list[str]):
    """An endless supply of distinct questions: each gold question with each lead-in, then
    numbered repeats (only after len(questions) * len(LEAD_INS))."""
    questions = list(dict.fromkeys(questions))
    round_ = 0
    while True:
        for lead in LEAD_INS:
            for q in questions:
                text = lead + (q[0].lower() + q[1:] if lead else q)
                yield text if round_ == 0 else f"{text} ({round_})"
        round_ += 1


def _recorded(questions, sent: list[str]):
    """`questions`, each appended to `sent` as it is handed out."""
    for q in questions:
        sent.append(q)
        yield q


def load(server: AppProcess, clients: int, requests: int, seconds: float, questions) -> dict:
    """`clients` threads, each on its own connection, ask until `requests` were sent or
    `seconds` have passed; requests/s over the wall time, the latency of the answered ones
    and the server's own ask() time for them (`server_ask_ms`): what the web layer adds is
    the difference, measured on the same requests at the same moment."""
    lock = threading.Lock()
    state = {"left": requests, "latencies": [], "server_ms": [], "errors": {}}
    deadline = time.perf_counter() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=600)
        try:
            while True:
                with lock:
                    if state["left"] <= 0 or time.perf_counter() > deadline:
                        return
                    state["left"] -= 1
                    question = next(questions)
                started = time.perf_counter()
                try:
                    status, server_ms = answer(server, question, connection=conn)
                except (OSError, http.client.HTTPException) as exc:
                    status, server_ms = type(exc).__name__, None
                    conn.close()
                    conn = http.client.HTTPConnection(server.host, server.port, timeout=600)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if status == 200:
                        state["latencies"].append(elapsed)
                        if server_ms is not None:
                            state["server_ms"].append(server_ms)
                    else:
                        state["errors"][str(status)] = state["errors"].get(str(status), 0) + 1
        finally:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    done = len(state["latencies"])
    return {
        "clients": clients,
        "requests": done + sum(state["errors"].values()),
        "ok": done,
        "errors": state["errors"],
        "seconds": round(wall, 3),
        "requests_per_s": round(done / wall, 3),
        "latency_ms": ms_summary(state["latencies"]),
        "server_ask_ms": ms_summary(state["server_ms"]),
    }
