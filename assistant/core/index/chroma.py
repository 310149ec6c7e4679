"""The Chroma client with its retries, the generations' collections, and what is wrong
when the vector store cannot be reached or opened. The only module that imports Chroma
(``chromadb`` and LlamaIndex's Chroma vector store)."""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import sys
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import StoreError, StoreUnavailable
from ..messages import STORE_SET_ASIDE
from ..settings import Settings

# A guide has hundreds of passages, not millions: a wide search beam makes the HNSW search
# exact and its results reproducible from build to build.
HNSW = {"space": "cosine", "ef_construction": 400, "ef_search": 400, "max_neighbors": 32}
COLLECTIONS = ("passages_", "windows_")  # one of each per generation: passages_<generation>, windows_<generation>
log = logging.getLogger(__package__)


def collection(settings: Settings, name: str):
    """The Chroma collection `name`; StoreError when it is missing."""
    with reaching_store(settings):
        client = chroma_client(settings)
        if name not in collection_names(client):
            raise StoreError(
                f"the index in {settings.index_dir} misses its vector collection: run 'livc index --force'"
            )
        return client.get_collection(name)


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
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=ChromaSettings(anonymized_telemetry=False),
            )
            # The client waits forever by default; a server that hangs must fail the
            # question (503), not hold a worker.
            client._server._session.timeout = httpx.Timeout(settings.chroma_timeout)
            client.heartbeat()
            return client
        except (ValueError, *_store_errors()) as exc:  # HttpClient says ValueError for "no server"
            if time.monotonic() + pause > deadline:
                raise StoreUnavailable(
                    f"the Chroma server at {settings.chroma_url} cannot be reached "
                    f"(tried for {settings.chroma_connect_wait:g} s: {exc}); start it with "
                    "'chroma run --path DIR --port N' or correct chroma_url"
                ) from None
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
        raise StoreUnavailable(
            f"the vector store at {settings.chroma_url} is unavailable ({type(exc).__name__})"
        ) from exc


def _embedded_store_problem(settings: Settings, exc: Exception) -> str:
    """What is wrong with the embedded store in index_dir/chroma, in one line."""
    folder = settings.index_dir / "chroma"
    damage = store_damage(settings)
    if damage:
        return (
            f"the vector store file {folder / 'chroma.sqlite3'} is damaged ({damage}): "
            "run 'livc index --force' to rebuild the index from the documents"
        )
    if not os.access(folder, os.W_OK) or not _writable(folder):
        return (
            f"the vector store in {folder} cannot be opened: embedded Chroma needs write access to that "
            "folder even to read (for read-only replicas use a Chroma server: chroma_url)"
        )
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


def set_aside_damaged_store(settings: Settings) -> Path | None:
    """Before a forced build: move a damaged embedded store (see store_damage) out of the
    way, so the build writes a fresh one. Returns where it went."""
    damage = store_damage(settings)
    if damage is None:
        return None
    folder = settings.index_dir / "chroma"
    aside = settings.index_dir / f"chroma.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    folder.rename(aside)
    forget_embedded_clients()
    log.warning(
        "the vector store file %s is damaged (%s): moved to %s, building a new one",
        folder / "chroma.sqlite3",
        damage,
        aside,
    )
    print(
        STORE_SET_ASIDE.format(file=folder / "chroma.sqlite3", damage=damage, aside=aside.name),
        file=sys.stderr,
        flush=True,
    )
    return aside


def forget_embedded_clients() -> None:
    """Chroma keeps one client per folder in the process (holding its files); a moved folder
    needs a new one, and another process may open the index once this one lets go."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except (ImportError, AttributeError):
        pass


def collection_names(client) -> list[str]:
    """The names of the collections `client` holds."""
    return [c if isinstance(c, str) else c.name for c in client.list_collections()]


def has_collections(settings: Settings, generation: str) -> bool:
    """Whether both collections of `generation` are in the store."""
    names = collection_names(chroma_client(settings))
    return all(prefix + generation in names for prefix in COLLECTIONS)


def remove_collections(settings: Settings, keep: set[str]) -> None:
    """Delete the collections of every generation not in `keep`."""
    client = chroma_client(settings)
    for name in collection_names(client):
        prefix = next((p for p in COLLECTIONS if name.startswith(p)), None)
        if prefix and name.removeprefix(prefix) not in keep:
            client.delete_collection(name)


def write_collection(settings: Settings, name: str, nodes: list) -> None:
    """Write `nodes` (LlamaIndex TextNodes with their vectors) as the collection `name`, replacing one of that name."""
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chroma_client(settings)
    if name in collection_names(client):
        client.delete_collection(name)
    collection = client.create_collection(name, configuration={"hnsw": HNSW})
    store = ChromaVectorStore(chroma_collection=collection)
    # The wrapper sends up to 41,665 nodes at once; Chroma takes get_max_batch_size() (5,461
    # embedded), which a corpus of a few thousand sentence windows already exceeds.
    batch = client.get_max_batch_size()
    for start in range(0, len(nodes), batch):
        store.add(nodes[start : start + batch])
