"""Index: build, persist and open the searchable store.

Layout of the index folder::

    manifest.json        what the current generation holds (written last, atomically)
    chroma/              Chroma PersistentClient; two collections per generation (or, with
                         ``chroma_url``, those collections live in a Chroma server that
                         several app processes share, and this folder is not used)
    gen-<id>/            passages.json, BM25 index, sentence and Q&A-question vectors
    embed-cache.sqlite   vectors by (model, kind, text) hash, so rebuilds embed only new text
    build.lock           held while a build runs: one build at a time, across processes

A build writes a complete new generation next to the old one and switches by replacing
``manifest.json``; until then readers keep the old generation, and a build that dies
half-way (an exception, a crash, a kill) leaves it untouched. The generation served
before the switch is kept until the next build, so a process still answering from it
(the app, while ``livc index --watch`` rebuilds) keeps working until it notices the new
manifest (``Assistant.reload_if_changed``); older and failed generations are removed.

Only changed documents are read again: a document whose file hash is unchanged takes
its passages from the generation being replaced, and unchanged text is never embedded
twice (the embedding cache).

Damage is named, never a bare library error: a vector store file (``chroma/chroma.sqlite3``)
that SQLite cannot read, a damaged embedding cache (safe to delete: it only saves
embedding time), an index folder the build may not write. ``livc index --force`` rebuilds
from nothing when a part cannot be opened: a damaged ``chroma/`` is moved aside to
``chroma.damaged-<time>`` and a fresh one is written (the old one served nothing any more;
it is removed once the new generation is switched in, and kept if the build fails), and a
damaged cache is replaced by an empty one.

The package, by concern (callers import from here):

- ``store``: the manifest, the opened generation (`Store`, with the caches made once per
  generation) and opening it (`open_index`, `read_manifest`, `manifest_stamp`);
- ``build``: the incremental build, the build lock and the generation switch;
- ``embedding_cache``: vectors by text hash in SQLite;
- ``chroma``: the Chroma client with its retries, its collections and the errors of a
  store that cannot be reached or is damaged (the only module that imports Chroma);
- ``vectors``: the nearest passages or sentence windows to a query vector, searched in
  memory for a small collection (read from Chroma when the generation opens), by Chroma
  for a large one or a Chroma server's;
- ``status``: what the index holds against the corpus folder, and ``--watch``.
"""

from .build import BuildReport, build_index, build_lock, offtopic_passages, sentence_windows
from .chroma import (
    chroma_client,
    collection_names,
    forget_embedded_clients,
    reaching_store,
    sqlite_damage,
    store_damage,
    store_reachable,
)
from .embedding_cache import EmbeddingCache
from .status import document_status, watch_index
from .store import INDEX_FORMAT, Manifest, Store, manifest_stamp, open_index, read_manifest

__all__ = [
    "INDEX_FORMAT",
    "BuildReport",
    "EmbeddingCache",
    "Manifest",
    "Store",
    "build_index",
    "build_lock",
    "chroma_client",
    "collection_names",
    "document_status",
    "forget_embedded_clients",
    "manifest_stamp",
    "offtopic_passages",
    "open_index",
    "reaching_store",
    "read_manifest",
    "sentence_windows",
    "sqlite_damage",
    "store_damage",
    "store_reachable",
    "watch_index",
]
