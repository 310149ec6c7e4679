"""The app in a subprocess, a free port, one percentile: shared by ``livc bench``,
``livc load-test``, ``livc eval`` and the tests.

Stable API (tests and tools import these names):

- ``free_port(host="127.0.0.1") -> int``: a TCP port nobody listens on right now.
- ``percentile(values, q) -> float | None``: THE percentile of this project, linear
  interpolation between the two nearest ranks (numpy's default ``method="linear"``,
  Hyndman & Fan type 7: rank ``(n - 1) * q / 100``); None for no values. Unrounded:
  each report rounds as it always did. ``percentiles(values, qs)`` gives several.
- ``serve_command() -> list[str]``: how the app is started (``python -m assistant.ops.cli
  serve``, what ``livc serve`` and ``python app.py`` run).
- ``AppProcess(args=(), *, env=None, output=None, host="127.0.0.1", port=None,
  command=None, cwd=None)``: the app on ``host:port`` (a free port when not given; ``--host``
  and ``--port`` are appended to the command line, after `args`), stdout and stderr in
  `output` (a temporary file when not given), `env` the whole environment of the child
  (``os.environ`` when not given; the repository is put on ``PYTHONPATH`` either way).
  ``start()``, ``wait_ready(timeout=300) -> seconds`` from start to the first
  ``GET /readyz`` 200 (the process is stopped and `AppNotReady` raised, with the tail of
  its output, when it exits first or the time runs out), ``ready()``, ``stop(timeout=20)``
  (SIGTERM, then SIGKILL), ``request(method, path, body=None, timeout=300,
  connection=None) -> (status, bytes)``, ``tail(lines=3)``, ``url``, ``port``, ``pid``,
  ``process``. ``with AppProcess(...) as app:`` starts it and waits until it is ready.
- ``stop_process(process, timeout=20)``: the same stop for any ``Popen``.
- ``rss_mb(pid)``, ``peak_rss_mb(pid)``, ``cpu_seconds(pid)``: a process's resident
  memory now and at its peak (VmRSS, VmHWM from ``/proc``, in MB) and CPU seconds used.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository (or the installed tree)
READY_PATH = "/readyz"


class AppNotReady(RuntimeError):
    """The app exited, or did not answer /readyz in time; the message ends with its output."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def percentile(values: Iterable[float], q: float) -> float | None:
    """The `q`-th percentile (0..100) of `values` by linear interpolation between the two
    nearest ranks (numpy's default); None when there are none."""
    values = list(values)
    if not values:
        return None
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


def percentiles(values: Iterable[float], qs: Sequence[float] = (50, 95, 99)) -> list[float | None]:
    """`percentile` for each of `qs`, in order."""
    values = list(values)
    return [percentile(values, q) for q in qs]


def serve_command() -> list[str]:
    """The command that serves the app (what ``livc serve`` runs), options to follow."""
    return [sys.executable, "-m", "assistant.ops.cli", "serve"]


def stop_process(process: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL if the process has not gone within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _proc_status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name == key:
            return int(rest.split()[0])
    raise RuntimeError(f"no {key} for process {pid}")


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` now, in MB (VmRSS)."""
    return _proc_status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of process `pid` so far, in MB (VmHWM)."""
    return _proc_status_kb(pid, "VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class AppProcess:
    """The app in a subprocess on `host`:`port` (see the module docstring)."""

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        output: Path | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
    ):
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.command = [*(command or serve_command()), *map(str, args), "--host", host, "--port", str(self.port)]
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.env = env
        self.cwd = cwd
        if output is None:
            handle, name = tempfile.mkstemp(prefix="livc-app-", suffix=".out")
            os.close(handle)
            output = Path(name)
        self.output = Path(output)
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> AppProcess:
        with open(self.output, "wb") as out:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return self

    def ready(self) -> bool:
        """Whether /readyz answers 200 now."""
        try:
            return self.request("GET", READY_PATH, timeout=5)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def wait_ready(self, timeout: float = 300, interval: float = 0.05) -> float:
        """Seconds from start until /readyz answered 200."""
        while time.perf_counter() - self.started < timeout:
            if self.process.poll() is not None:
                self.stop()
                raise AppNotReady(f"the app stopped before it was ready: {self.tail()}")
            if self.ready():
                return time.perf_counter() - self.started
            time.sleep(interval)
        self.stop()
        raise AppNotReady(f"the app was not ready after {timeout:.0f} s: {self.tail()}")

    def request(
        self,
        method: str,
        path: str,
        body: dict | None = None,
        timeout: float = 300,
        connection: http.client.HTTPConnection | None = None,
    ) -> tuple[int, bytes]:
        """One request (a JSON `body` when given) on `connection`, or on a new one closed after."""
        conn = connection or http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if connection is None:
                conn.close()

    def tail(self, lines: int = 3) -> str:
        """The last `lines` lines of its output, on one line."""
        try:
            text = self.output.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no output)"
        return " | ".join(text[-lines:]) or "(no output)"

    def stop(self, timeout: float = 20) -> None:
        stop_process(self.process, timeout)

    def __enter__(self) -> AppProcess:
        self.start()
        self.wait_ready()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
