"""What the index holds, document by document, against the corpus folder as it is now
(``livc documents``), and rebuilding whenever the corpus changes (``livc index --watch``)."""

from __future__ import annotations

import threading

from ..documents import corpus_files
from ..errors import DocumentError, StoreError
from ..settings import Settings
from .build import build_index, hash_files
from .store import read_manifest


def watch_index(
    settings: Settings,
    embedder,
    interval: float = 5.0,
    progress: bool = False,
    report=None,
    stop: threading.Event | None = None,
) -> None:
    """Rebuild whenever the corpus changes, checking every `interval` seconds, until `stop`
    is set (or the process is interrupted). `report(BuildReport | StoreError)` hears every
    round; a failed round leaves the served index as it was and the next round tries again."""
    stop = stop or threading.Event()
    while True:
        try:
            outcome = build_index(settings, embedder, progress=progress)
        except StoreError as exc:
            outcome = exc
        if report:
            report(outcome)
        if stop.wait(interval):
            return


def document_status(settings: Settings) -> dict | None:
    """What the current generation holds, document by document, compared with the corpus
    folder as it is now: each indexed document's state is "indexed", "changed" (the file
    differs from the indexed version) or "removed"; files not in the index are listed as
    "new" or "skipped" (with the reason). None when there is no index."""
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        return None
    try:
        files, unsupported = corpus_files(settings.corpus_dir)
    except DocumentError:
        files, unsupported = [], []
    hashes, unreadable = hash_files(files)
    documents = []
    for entry in manifest.documents:
        sha = hashes.pop(entry["name"], None)
        state = "removed" if sha is None else ("indexed" if sha == entry["sha256"] else "changed")
        documents.append({**entry, "state": state})
    failed = {d["name"]: d for d in manifest.skipped}
    not_indexed = []
    for name, sha in sorted(hashes.items()):
        before = failed.get(name)
        if before and before["sha256"] == sha:
            not_indexed.append({"name": name, "state": "skipped", "reason": before["reason"]})
        else:
            not_indexed.append({"name": name, "state": "new"})
    not_indexed += [{"name": n, "state": "skipped", "reason": r} for n, r in sorted(unsupported + unreadable)]
    return {
        "generation": manifest.generation,
        "built_at": manifest.built_at,
        "passages": manifest.passages,
        "documents": documents,
        "not_indexed": not_indexed,
    }
