"""The embedding cache: vectors by hash of (model, kind, text) in ``embed-cache.sqlite``,
so a rebuild embeds only new text."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..errors import StoreError
from ..messages import BUILD_TEXT_UNIT, CACHE_REPLACED

log = logging.getLogger(__package__)


class EmbeddingCache:
    """Vectors by hash of (model, kind, text) in SQLite, so unchanged text is never re-embedded.

    A damaged cache file is a StoreError that names it and says it is safe to delete;
    with `replace_damaged` (a forced build) it is replaced by an empty one instead."""

    def __init__(self, path: Path, embedder, replace_damaged: bool = False):
        self.path = path
        self.embedder = embedder
        self.embedded = 0
        self.reused = 0
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not replace_damaged or isinstance(exc, sqlite3.OperationalError):
                raise self._error(exc) from None
            log.warning("the embedding cache %s is damaged (%s): starting an empty one", path, exc)
            print(CACHE_REPLACED.format(path=path, error=exc), file=sys.stderr, flush=True)
            path.unlink()
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as again:
                raise self._error(again) from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            db.execute("SELECT key FROM vectors LIMIT 1").fetchall()
        except BaseException:
            db.close()
            raise
        return db

    def _error(self, exc: sqlite3.DatabaseError) -> StoreError:
        if isinstance(exc, sqlite3.OperationalError):  # locked, read-only, no space: not damage
            return StoreError(f"cannot use the embedding cache {self.path} ({exc})")
        return StoreError(
            f"the embedding cache {self.path} is damaged ({exc}): it is safe to delete (it only "
            "saves time: the next build embeds every text again), or run 'livc index --force'"
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._db.close()

    def embed(self, texts: list[str], kind: str, progress: bool, label: str) -> np.ndarray:
        try:
            return self._embed(texts, kind, progress, label)
        except sqlite3.DatabaseError as exc:  # damage further in than the first page
            raise self._error(exc) from None

    def _embed(self, texts: list[str], kind: str, progress: bool, label: str) -> np.ndarray:
        keys = [hashlib.sha256(f"{self.embedder.model_id}\0{kind}\0{t}".encode()).hexdigest() for t in texts]
        found = dict(self._lookup(set(keys)))
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in found}.items())
        batch = max(1, getattr(self.embedder, "embed_batch_size", 32))
        bar = tqdm(total=len(missing), desc=label, unit=BUILD_TEXT_UNIT, disable=not progress or not missing)
        for i in range(0, len(missing), batch):
            chunk = missing[i : i + batch]
            vectors = self._compute([t for _, t in chunk], kind)
            rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for (k, _), v in zip(chunk, vectors)]
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.commit()
            found.update((k, np.frombuffer(b, dtype=np.float32)) for k, b in rows)
            bar.update(len(chunk))
        bar.close()
        self.embedded += len(missing)
        self.reused += len(texts) - len(missing)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def _compute(self, texts: list[str], kind: str) -> list[list[float]]:
        if kind == "query":
            return [self.embedder.get_query_embedding(t) for t in texts]
        return self.embedder.get_text_embedding_batch(texts)

    def _lookup(self, keys: set[str]):
        keys = list(keys)
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            marks = ",".join("?" * len(part))
            for key, blob in self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                yield key, np.frombuffer(blob, dtype=np.float32)
