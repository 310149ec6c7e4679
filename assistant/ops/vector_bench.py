"""Where searching vectors in memory stops paying (``livc bench-vectors``): the crossover
behind the ``memory_search_limit`` setting.

    livc bench-vectors                          # 1,000 / 10,000 / 25,000 / 50,000 vectors
    livc bench-vectors --sizes 1000,100000 --json out.json

For each size, random unit vectors of the model's width (384) go into an embedded Chroma
collection built as the index builds its own (cosine space, the same HNSW settings) and into
`index.vectors.MemoryVectors`; then the same random queries ask both for the index's pool of
neighbours (60: three times two times top_k, the window ranking's), each the way the app
asks it (`MemoryVectors.nearest`, `ChromaVectors.nearest`). Reported per size: p50
and p95 of a query, each way, their ratio, the memory the in-memory copy takes and the
seconds it took to read it out of Chroma. The model's matrix library runs on
``model_threads`` threads, as in the app.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .harness import percentile

DEFAULT_SIZES = (1_000, 10_000, 25_000, 50_000)
DIM, QUERIES, NEIGHBOURS = 384, 60, 60


def measure(sizes=DEFAULT_SIZES, settings=None, log=print) -> dict:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from ..core.embeddings import limit_threads
    from ..core.index.chroma import HNSW, forget_embedded_clients
    from ..core.index.vectors import ChromaVectors, MemoryVectors
    from ..core.settings import Settings

    settings = settings or Settings()
    limit_threads(settings.model_threads)
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
        for n in sizes:
            log(f"{n} vectors")
            vectors = rng.normal(size=(n, DIM)).astype(np.float32)
            ids = [f"v{i}" for i in range(n)]
            collection = client.create_collection(f"bench{n}", configuration={"hnsw": HNSW})
            batch = client.get_max_batch_size()
            for start in range(0, n, batch):
                collection.add(ids=ids[start : start + batch], embeddings=vectors[start : start + batch])
            # Opened again, as the app opens an index that a build wrote.
            forget_embedded_clients()
            client = chromadb.PersistentClient(path=tmp, settings=ChromaSettings(anonymized_telemetry=False))
            collection = client.get_collection(f"bench{n}")
            started = time.perf_counter()
            stored = collection.get(include=["embeddings"])
            memory = MemoryVectors(stored["ids"], np.asarray(stored["embeddings"]))
            read_s = time.perf_counter() - started
            queries = rng.normal(size=(QUERIES, DIM)).astype(np.float32)
            in_memory = [_ms(memory.nearest, q, NEIGHBOURS) for q in queries]
            chroma = ChromaVectors(settings, collection)  # what the app asks Chroma, the same way
            in_chroma = [_ms(chroma.nearest, q, NEIGHBOURS) for q in queries]
            client.delete_collection(f"bench{n}")
            rows.append(_row(n, in_memory, in_chroma, read_s, memory))
    return {"dim": DIM, "queries": QUERIES, "neighbours": NEIGHBOURS, "sizes": rows}


def _ms(call, *args, **kwargs) -> float:
    started = time.perf_counter()
    call(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def _row(n: int, in_memory: list[float], in_chroma: list[float], read_s: float, memory) -> dict:
    p50_memory, p50_chroma = percentile(in_memory, 50), percentile(in_chroma, 50)
    return {
        "vectors": n,
        "memory_ms": {"p50": round(p50_memory, 3), "p95": round(percentile(in_memory, 95), 3)},
        "chroma_ms": {"p50": round(p50_chroma, 3), "p95": round(percentile(in_chroma, 95), 3)},
        "memory_vs_chroma_p50": round(p50_memory / p50_chroma, 3),
        "memory_mb": round(memory._matrix.nbytes / 1e6, 1),
        "read_from_chroma_s": round(read_s, 2),
    }


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(int(s) for s in text.split(",")),
        default=DEFAULT_SIZES,
        help="collection sizes, comma-separated (default 1000,10000,25000,50000)",
    )
    parser.add_argument("--json", type=Path, dest="json_path", help="write the figures to this file")


def command(args, settings=None) -> int:
    import sys

    result = measure(args.sizes, settings, log=lambda m: print(f"bench-vectors: {m}", file=sys.stderr, flush=True))
    print(f"{'vectors':>9}{'memory p50':>12}{'chroma p50':>12}{'memory/chroma':>15}{'MB':>7}{'read s':>8}")
    for row in result["sizes"]:
        print(
            f"{row['vectors']:>9}{row['memory_ms']['p50']:>12.2f}{row['chroma_ms']['p50']:>12.2f}"
            f"{row['memory_vs_chroma_p50']:>15.2f}{row['memory_mb']:>7}{row['read_from_chroma_s']:>8}"
        )
    if args.json_path:
        args.json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0
