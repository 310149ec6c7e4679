"""``livc load-test``: many clients at once for a while against a LIVC-assistent, then the figures.

    livc load-test --url http://127.0.0.1:7860 [--clients 50] [--seconds 60]
                   [--warmup 10] [--pid PID] [--json FILE]
    livc load-test --start [--corpus DIR] [--index DIR] [--config FILE] [...]

Each client is a thread with its own keep-alive connection that sends one request after
the other: mostly questions (``POST /api/v1/ask``, varied, some with a conversation history,
some with personal data for the guard to mask), searches (``GET /api/v1/search``), health
checks (``GET /healthz``) and now and then the chat page itself (``GET /``). A warm-up
round comes first and is not counted. Reported: requests, failures (any answer other than
200, or a broken connection), latency percentiles, requests per second and, given the
server's process id on this machine, its resident memory (RSS) after the warm-up, at the
end and at its peak, and the CPU seconds it used. Standard library only.

Run the server with the rate limit off (``LIVC_RATE_LIMIT=0``): all clients come from one
address. ``--start`` does that itself: it serves the given corpus and index in a subprocess
on a free 127.0.0.1 port (`assistant.ops.harness`, rate limit off, the index as it is) and
measures that process. Latency is reported, never judged: it depends on the machine; its
percentiles are those of `harness.percentile` (linear interpolation, as everywhere).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

from .harness import ROOT, AppProcess, cpu_seconds, percentile, rss_mb

GOLD = ROOT / "eval" / "gold-dev.jsonl"

# Beside the gold questions: follow-ups, questions the guide does not cover, and questions
# with (invented) personal data, so every path of Assistant.ask() is under load.
EXTRA_QUESTIONS = [
    "Wie zit de LIVC-R voor?",
    "Hoe lang bewaren we de verslagen?",
    "Kan ik anoniem een zorg melden?",
    "Wat is het verschil tussen een LIVC-R en een Local Task Force?",
    "Hoe vraag ik een parkeervergunning aan?",
    "Wanneer wordt het containerpark geopend?",
    "Mag ik mevrouw Peeters vertellen wat de cel over haar zoon besliste?",
    "Mijn cliënt belde me op 0470 12 34 56. Mag ik dat in de LIVC-R vertellen?",
    "Who chairs the LIVC-R?",
]
FOLLOW_UPS = [
    ("En wie zit die voor?", ["Wat is een LIVC-R?"]),
    ("Wie is daar verantwoordelijk voor?", ["Wat is de OCAD-lijst?"]),
    ("Welke veiligheidsmachtiging moet hij hebben?", ["Wie vertegenwoordigt de politie?"]),
]
SEARCHES = [
    "bewaartermijn verslagen",
    "beroepsgeheim",
    "samenstelling",
    "information officer",
    "casusoverleg",
    "afsluiten casus",
    "OCAD",
    "burgemeester",
]
# What a client sends, by weight: mostly questions, as the intranet would.
MIX = [("ask", 70), ("search", 15), ("health", 10), ("page", 5)]


def questions() -> list[str]:
    """The gold questions (when the eval folder is there) and the extra ones."""
    found = []
    if GOLD.exists():
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line)["question"])
    return found + EXTRA_QUESTIONS


@dataclass
class Result:
    kind: str
    status: int  # 0: no answer (connection error)
    seconds: float
    error: str = ""


@dataclass
class Client:
    """One simulated user: a connection, a random mix of requests, a list of results."""

    number: int
    host: str
    port: int
    prefix: str
    asked: list[str]
    results: list[Result] = field(default_factory=list)

    def __post_init__(self):
        self.random = random.Random(self.number)
        self.conn: http.client.HTTPConnection | None = None

    def run_until(self, deadline: float, record: bool) -> None:
        while time.monotonic() < deadline:
            result = self.one()
            if record:
                self.results.append(result)
        self.close()

    def one(self) -> Result:
        kind = self.random.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
        method, path, body, check = self.request(kind)
        started = time.perf_counter()
        try:
            status, data = self.send(method, path, body)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Result(kind, 0, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
        took = time.perf_counter() - started
        if status != 200:
            return Result(kind, status, took, data[:200].decode("utf-8", "replace"))
        return Result(kind, status, took, "" if check(data) else f"unexpected body: {data[:200]!r}")

    def request(self, kind: str):
        """(method, path, JSON body or None, check of a 200's body) for one kind of request."""
        if kind == "ask":
            if self.random.random() < 0.2:
                question, history = self.random.choice(FOLLOW_UPS)
            else:
                question, history = self.random.choice(self.asked), []
            return "POST", "/api/v1/ask", {"question": question, "history": history}, _has_text
        if kind == "search":
            q = quote(self.random.choice(SEARCHES))
            return "GET", f"/api/v1/search?q={q}&k=5", None, lambda d: b'"results"' in d
        if kind == "health":
            return "GET", "/healthz", None, lambda d: b'"ok"' in d
        return "GET", "/", None, lambda d: b"LIVC-assistent" in d

    def send(self, method: str, path: str, body) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if payload else {}
        self.conn.request(method, self.prefix + path, body=payload, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _has_text(data: bytes) -> bool:
    try:
        return isinstance(json.loads(data).get("text"), str)
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# The server's memory (harness.rss_mb, harness.cpu_seconds read /proc)


class MemoryWatch:
    """Samples a process's RSS twice a second in a thread, for its peak."""

    def __init__(self, pid: int):
        self.pid, self.peak, self.stop = pid, rss_mb(pid), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __enter__(self) -> MemoryWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss_mb(self.pid))


# ---------------------------------------------------------------------------
# Running and reporting


def run(url: str, clients: int = 50, seconds: float = 60, warmup: float = 10, pid: int | None = None) -> dict:
    """Warm up, then `clients` clients for `seconds` against the app at `url`; the report."""
    parsed = urlparse(url)
    pool = [Client(n, parsed.hostname, parsed.port or 80, parsed.path.rstrip("/"), questions()) for n in range(clients)]
    _phase(pool, warmup, record=False)
    memory = {"rss_start_mb": rss_mb(pid), "cpu_start": cpu_seconds(pid)} if pid else {}
    if pid:
        with MemoryWatch(pid) as watch:
            elapsed = _phase(pool, seconds, record=True)
        memory.update(
            rss_end_mb=rss_mb(pid), rss_peak_mb=watch.peak, cpu_seconds=cpu_seconds(pid) - memory["cpu_start"]
        )
    else:
        elapsed = _phase(pool, seconds, record=True)
    figures = report([r for c in pool for r in c.results], clients, seconds, elapsed, memory)
    figures["clients_answered"] = sum(any(r.status == 200 and not r.error for r in c.results) for c in pool)
    return figures


def _phase(pool: list[Client], seconds: float, record: bool) -> float:
    """Every client sends requests until `seconds` have passed (and finishes the one it is in)."""
    started = time.monotonic()
    deadline = started + seconds
    threads = [threading.Thread(target=c.run_until, args=(deadline, record), daemon=True) for c in pool]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def latency(results: list[Result]) -> dict:
    ms = [r.seconds * 1000 for r in results]
    return {
        "requests": len(results),
        "p50_ms": _ms(ms, 50),
        "p95_ms": _ms(ms, 95),
        "p99_ms": _ms(ms, 99),
        "max_ms": round(max(ms, default=0.0), 1),
    }


def _ms(values: list[float], q: float) -> float:
    """The q-th percentile of `values` rounded to 0.1 ms (0 for none)."""
    return round(percentile(values, q) or 0.0, 1)


def report(results: list[Result], clients: int, seconds: float, elapsed: float, memory: dict) -> dict:
    failed = [r for r in results if r.status != 200 or r.error]
    out = {
        "clients": clients,
        "seconds": seconds,
        "elapsed_seconds": round(elapsed, 1),
        **latency(results),
        "requests_per_second": round(len(results) / elapsed, 2) if elapsed else 0.0,
        "failures": len(failed),
        "statuses": _count(str(r.status) for r in results),
        "errors": _count(f"{r.kind} {r.status}: {r.error}"[:160] for r in failed),
        "by_kind": {kind: latency([r for r in results if r.kind == kind]) for kind, _ in MIX},
    }
    if memory:
        out.update(
            {
                "rss_start_mb": round(memory["rss_start_mb"], 1),
                "rss_end_mb": round(memory["rss_end_mb"], 1),
                "rss_peak_mb": round(memory["rss_peak_mb"], 1),
                "rss_growth_mb": round(memory["rss_end_mb"] - memory["rss_start_mb"], 1),
                "server_cpu_seconds": round(memory["cpu_seconds"], 1),
            }
        )
    return out


def _count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def summary(figures: dict) -> str:
    """The figures in a few lines, for people."""
    lines = [
        f"{figures['clients']} clients, {figures['seconds']:g} s: {figures['requests']} requests, "
        f"{figures['failures']} failed, {figures['requests_per_second']} requests/s",
        f"latency p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
        f"max {figures['max_ms']} ms",
    ]
    for kind, k in figures["by_kind"].items():
        lines.append(
            f"  {kind:6} {k['requests']:5} requests, p50 {k['p50_ms']} ms, p95 {k['p95_ms']} ms, p99 {k['p99_ms']} ms"
        )
    if "rss_start_mb" in figures:
        lines.append(
            f"server RSS {figures['rss_start_mb']} MB after warm-up, {figures['rss_end_mb']} MB at the end "
            f"(+{figures['rss_growth_mb']} MB), peak {figures['rss_peak_mb']} MB; "
            f"{figures['server_cpu_seconds']} CPU s"
        )
    return "\n".join(lines)


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``livc load-test`` (beside --corpus, --index and --config)."""
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="where the app runs (with its root path)")
    parser.add_argument(
        "--start",
        action="store_true",
        help="instead of --url: serve --corpus and --index in a subprocess on a free 127.0.0.1 port "
        "(rate limit off, the index as it is) and measure that process",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10, help="seconds of load before counting")
    parser.add_argument("--pid", type=int, help="the server's process id (same machine), for its memory and CPU")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the figures to this file")


def command(args, settings) -> int:
    """``livc load-test``: the figures printed (and written with --json); 1 when a request failed."""
    if args.start:
        with (
            tempfile.TemporaryDirectory(prefix="livc-load-") as tmp,
            start_app(settings, Path(tmp), args.config) as app,
        ):
            figures = run(app.url, args.clients, args.seconds, args.warmup, app.pid)
    else:
        figures = run(args.url, args.clients, args.seconds, args.warmup, args.pid)
    print(summary(figures))
    if args.json_path:
        args.json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if figures["failures"] == 0 else 1


def start_app(settings, folder: Path, config: Path | None = None) -> AppProcess:
    """The app on `settings`' corpus and index, rate limit off, its log and feedback in `folder`."""
    env = {k: v for k, v in os.environ.items() if k not in ("LIVC_PORT", "LIVC_HOST")}
    env.update(
        {
            "LIVC_RATE_LIMIT": "0",
            "LIVC_BUILD_ON_START": "false",
            "LIVC_LOG_FILE": str(folder / "app.jsonl"),
            "LIVC_FEEDBACK_DB": str(folder / "feedback.sqlite"),
        }
    )
    args = ["--corpus", settings.corpus_dir, "--index", settings.index_dir, *(["--config", config] if config else [])]
    return AppProcess(args, env=env, output=folder / "app.out")
