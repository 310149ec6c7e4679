"""Nearest vectors for a query: in memory when the collection is small, else from Chroma.

A guide's few thousand vectors fit in a few MB, and one exact matrix product over them
takes far less than a millisecond, against a few milliseconds for a Chroma query plus its
LlamaIndex wrapper. Chroma stays the store of record: the in-memory copy is read from it
when a generation is opened, and collections above ``memory_search_limit`` vectors, or
held by a Chroma server (``chroma_url``), are searched there (``docs/benchmark.md``
gives the measured crossover).

Both searches return the same thing: ``(id, cosine)`` pairs, best first.
"""

from __future__ import annotations

import numpy as np

from ..chunking import Passage
from ..errors import StoreError
from ..settings import Settings
from .chroma import reaching_store


class MemoryVectors:
    """Exact cosine search over vectors held as one normalised float32 matrix."""

    def __init__(self, ids: list[str], vectors: np.ndarray):
        self.ids = ids
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1) if ids else np.zeros((0, 1), np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._matrix = matrix / np.where(norms == 0, 1, norms)  # once, when the generation opens

    def __len__(self) -> int:
        return len(self.ids)

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        if not self.ids or k <= 0:
            return []
        q = np.asarray(query, dtype=np.float32)
        cosines = self._matrix @ (q / (np.linalg.norm(q) or 1.0))
        k = min(k, len(self.ids))
        top = np.argpartition(-cosines, k - 1)[:k] if k < len(self.ids) else np.arange(len(self.ids))
        top = top[np.argsort(-cosines[top], kind="stable")]
        return [(self.ids[i], float(cosines[i])) for i in top]


class ChromaVectors:
    """Cosine search in a Chroma collection (HNSW; with the beam the index sets, exact)."""

    def __init__(self, settings: Settings, collection):
        self._settings = settings
        self._collection = collection

    def __len__(self) -> int:
        with reaching_store(self._settings):
            return self._collection.count()

    def nearest(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        with reaching_store(self._settings):
            found = self._collection.query(
                query_embeddings=[np.asarray(query, dtype=np.float32).tolist()], n_results=k, include=["distances"]
            )
        # The collection's space is cosine: distance = 1 - cosine.
        return [(i, 1.0 - float(d)) for i, d in zip(found["ids"][0], found["distances"][0])]


def passage_vectors(settings: Settings, collection, passages: list[Passage]) -> MemoryVectors | ChromaVectors:
    """The search over the whole passages of a generation: its vectors read into memory
    from `collection` when they are few enough and the collection is this process's own."""
    passage_ids = [p.id for p in passages]
    if settings.chroma_url or len(passage_ids) > settings.memory_search_limit:
        return ChromaVectors(settings, collection)
    with reaching_store(settings):
        stored = collection.get(include=["embeddings"])
    rows = dict(zip(stored["ids"], stored["embeddings"]))
    if set(rows) != set(passage_ids):
        raise StoreError(f"the index in {settings.index_dir} is damaged (its vectors and passages differ)")
    return MemoryVectors(passage_ids, np.asarray([rows[i] for i in passage_ids], dtype=np.float32))


def window_vectors(settings: Settings, collection, passages: list[Passage], vectors: np.ndarray):
    """The search over the sentence windows: the copy the generation keeps beside its
    passages (vectors.npz, the same vectors as `collection`, row by row in the order of
    build.sentence_windows) when it is small enough."""
    window_ids = [window_id(p.id, i) for p in passages for i in range(len(p.sentences))]
    if settings.chroma_url or len(window_ids) > settings.memory_search_limit:
        return ChromaVectors(settings, collection)
    return MemoryVectors(window_ids, vectors)


def window_id(passage_id: str, sentence: int) -> str:
    """The id of a sentence window, in Chroma and in memory."""
    return f"{passage_id}:{sentence}"


def window_passage(window: str) -> str:
    """The passage id of a sentence window's id."""
    return window.rsplit(":", 1)[0]
