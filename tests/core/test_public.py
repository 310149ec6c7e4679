"""The library's public surface: `from assistant import ...` gives the names a program needs,
and every error the project raises on purpose is caught by one `except LivcError`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import assistant
from assistant.core import errors


def test_every_public_name_is_the_class_of_its_module():
    from assistant.core.assistant import Assistant
    from assistant.core.settings import Settings
    from assistant.core.types import Answer

    assert assistant.Assistant is Assistant and assistant.Settings is Settings and assistant.Answer is Answer
    assert all(getattr(assistant, name) is not None for name in assistant.__all__)
    assert set(dir(assistant)) == set(assistant.__all__)


def test_a_name_that_is_not_public_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'HybridSearch'"):
        assistant.HybridSearch  # noqa: B018 - the access is the test


def test_every_project_error_is_a_livc_error():
    project_errors = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)]
    assert len(project_errors) >= 12
    assert all(issubclass(c, assistant.LivcError) for c in project_errors)


def test_importing_the_package_loads_no_pipeline():
    # `livc --help` and `livc config` must not wait for LlamaIndex and Chroma to load.
    code = "import sys, assistant; print(any(m.startswith(('llama_index', 'chromadb')) for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_the_documented_example_answers_with_citations(small_corpus):
    built = assistant.Assistant.open(small_corpus.settings, build=True)  # build: bring the index up to date
    answer = built.ask("Wie zit de cel voor?")
    assert answer.citations and "burgemeester" in answer.text.lower()
