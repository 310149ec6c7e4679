"""`BenchEmbedding`: the configured embedder with its calls counted and timed, which can
record vectors at 1x and replay them, or derive them for the synthetic copies without the model."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from ...core.embeddings import query_embeddings
from .config import BenchError
from .corpus import _stable, variant_text

NOISE = 0.05  # norm of the noise added to a derived vector (unit vectors; cosine to the original ~0.999)


class BenchEmbedding(BaseEmbedding):
    """The configured embedder, with its calls counted and timed.

    Modes: ``model`` passes everything to the model; ``record`` does too and remembers each
    (kind, text) and its vector (the 1x build); ``replay`` gives a recorded text its vector
    back and passes the others to the model; ``derive`` runs no model: a text recorded at
    1x gets its vector back, a variant of one (`prepare_variants`) gets its original's vector
    plus a little noise seeded by the text, and anything else (counted as ``fallback``) the
    mean vector plus noise. `model_id` is the model's own, so the app serves a derived index
    without rebuilding it.
    """

    mode: str = "model"
    _inner: Any = PrivateAttr()
    _known: dict = PrivateAttr(default_factory=dict)
    _variants: dict = PrivateAttr(default_factory=dict)
    _mean: Any = PrivateAttr(default=None)
    _stats: dict = PrivateAttr(default_factory=dict)

    def __init__(self, inner: BaseEmbedding, **kwargs: Any) -> None:
        super().__init__(
            model_name=getattr(inner, "model_name", "bench"),
            embed_batch_size=getattr(inner, "embed_batch_size", 32),
            **kwargs,
        )
        self._inner = inner
        self._stats = {
            "model_calls": 0,
            "query_calls": 0,
            "query_texts": 0,
            "model_texts": 0,
            "model_seconds": 0.0,
            "derived_texts": 0,
            "derive_seconds": 0.0,
            "fallback_texts": 0,
        }

    @property
    def model_id(self) -> str:
        return getattr(self._inner, "model_id", type(self._inner).__name__)

    @property
    def dim(self) -> int:
        return int(self._inner.dim)

    @property
    def model(self) -> BaseEmbedding:
        """The embedder this one wraps."""
        return self._inner

    def stats(self) -> dict:
        return dict(self._stats)

    def prepare_variants(self, copies: int) -> None:
        """Map the variant texts of copies 1..`copies` to their originals' vectors."""
        if not self._known:
            raise BenchError("no vectors recorded at 1x to derive from")
        self._variants = {
            (kind, variant_text(text, k)): vector
            for k in range(1, copies + 1)
            for (kind, text), vector in self._known.items()
        }
        mean = np.mean(np.stack(list(self._known.values())), axis=0)
        self._mean = mean / np.linalg.norm(mean)

    def forget_variants(self) -> None:
        """Drop the variant map (up to 99 copies of every text at 100x)."""
        self._variants = {}

    def _model(self, kind: str, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        if kind == "query":
            vectors = query_embeddings(self._inner, texts)
        else:
            vectors = self._inner.get_text_embedding_batch(texts)
        self._stats["model_seconds"] += time.perf_counter() - started
        self._stats["model_calls"] += 1
        self._stats["query_calls"] += kind == "query"
        self._stats["query_texts"] += len(texts) if kind == "query" else 0
        self._stats["model_texts"] += len(texts)
        if self.mode == "record":
            for text, vector in zip(texts, vectors):
                self._known[(kind, text)] = np.asarray(vector, dtype=np.float32)
        return vectors

    def _derive(self, kind: str, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        out = []
        for text in texts:
            vector = self._known.get((kind, text))
            if vector is None:
                base = self._variants.get((kind, text))
                if base is None:
                    self._stats["fallback_texts"] += 1
                    base = self._mean
                rng = np.random.default_rng(_stable(text))
                noise = rng.standard_normal(base.shape[0]).astype(np.float32)
                vector = base + noise * (NOISE / np.linalg.norm(noise))
                vector = vector / np.linalg.norm(vector)
            out.append(vector.tolist())
        self._stats["derive_seconds"] += time.perf_counter() - started
        self._stats["derived_texts"] += len(texts)
        return out

    def _replay(self, kind: str, texts: list[str]) -> list[list[float]]:
        found = [self._known.get((kind, text)) for text in texts]
        missing = [text for text, vector in zip(texts, found) if vector is None]
        computed = iter(self._model(kind, missing) if missing else [])
        return [vector.tolist() if vector is not None else next(computed) for vector in found]

    def _embed(self, kind: str, texts: list[str]) -> list[list[float]]:
        if self.mode == "derive":
            return self._derive(kind, texts)
        return self._replay(kind, texts) if self.mode == "replay" else self._model(kind, texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embed("query", [query])[0]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def get_query_embeddings(self, queries: list[str]) -> list[list[float]]:
        return self._embed("query", list(queries))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embed("passage", [text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embed("passage", list(texts))
