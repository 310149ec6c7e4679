"""Ingestion speed (``livc bench-ingest``): how fast documents are read, cut into passages and indexed.

    livc bench-ingest                 # generated corpus (see below), no embedding
    livc bench-ingest --embed         # ... and a full index build, cold and warm
    livc bench-ingest DIR [--embed]   # your own documents
    livc bench-ingest --json out.json # the figures as JSON too

Without DIR it generates the official formats from the shipped Markdown (tests/docgen.py,
needs the test extra for reportlab): the draaiboek and the Q&A sheet as PDF, a 300-page
regulation PDF, a Word regulation and an intranet page. It reports, per format, pages/s
and documents/s for reading (pypdf, python-docx, html.parser) and passages/s for
chunking; with --embed, a build into a fresh index (every text embedded: passages/s,
texts/s) and a forced rebuild of it (every document read again, every vector from the
cache). `measure()` is the reusable part.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from .harness import ROOT


def generate(folder: Path) -> None:
    """The generated benchmark corpus."""
    sys.path.insert(0, str(ROOT / "tests"))
    import docgen

    corpus = ROOT / "corpus"
    docgen.markdown_pdf((corpus / "draaiboek-livc-r.md").read_text(encoding="utf-8"), folder / "draaiboek-livc-r.pdf")
    docgen.markdown_pdf(
        (corpus / "vraag-en-antwoord-livc-r.md").read_text(encoding="utf-8"), folder / "vraag-en-antwoord-livc-r.pdf"
    )
    docgen.long_pdf(folder / "reglement-300-paginas.pdf", 300)
    docgen.sample_docx(folder / "huishoudelijk-reglement.docx")
    docgen.sample_html(folder / "intranet.html")


def measure(folder: Path, embed: bool = False, settings=None) -> dict:
    """Reading and chunking speed per format for the documents in `folder`; with `embed`,
    also a cold and a warm index build (into a temporary index folder)."""
    from ..core.chunking import chunk_sections
    from ..core.documents import LOADERS, corpus_files

    files, skipped = corpus_files(folder)
    per_format: dict[str, dict] = {}
    for path in files:
        started = time.perf_counter()
        document = LOADERS[path.suffix.lower()](path, None)  # the loader itself: no cache
        read = time.perf_counter()
        passages = chunk_sections(list(document.sections))
        chunked = time.perf_counter()
        row = per_format.setdefault(
            document.format, {"documents": 0, "pages": 0, "passages": 0, "read_s": 0.0, "chunk_s": 0.0}
        )
        row["documents"] += 1
        row["pages"] += document.pages
        row["passages"] += len(passages)
        row["read_s"] += read - started
        row["chunk_s"] += chunked - read
    for row in per_format.values():
        row["pages_per_s"] = round(row["pages"] / row["read_s"], 1) if row["pages"] else None
        row["documents_per_s"] = round(row["documents"] / row["read_s"], 2)
        row["passages_per_s_chunking"] = round(row["passages"] / max(row["chunk_s"], 1e-9), 1)
        row["read_s"], row["chunk_s"] = round(row["read_s"], 3), round(row["chunk_s"], 4)
    result = {"folder": str(folder), "formats": per_format, "skipped": skipped}
    if embed:
        result["build"] = _builds(folder, settings)
    return result


def _builds(folder: Path, settings=None) -> dict:
    from ..core.embeddings import make_embedder
    from ..core.index import build_index
    from ..core.settings import Settings

    out = {}
    with tempfile.TemporaryDirectory() as index:
        s = (settings or Settings()).replace(corpus_dir=folder, index_dir=Path(index))
        embedder = make_embedder(s)
        for label, force in (("cold", False), ("warm", True)):
            report = build_index(s, embedder, progress=False, force=force)
            m = report.manifest
            texts = report.embedded + report.reused
            out[label] = {
                "seconds": round(report.seconds, 1),
                "documents": len(m.documents),
                "pages": report.pages,
                "passages": m.passages,
                "texts_embedded": report.embedded,
                "texts_from_cache": report.reused,
                "pages_per_s": round(report.pages / report.seconds, 1),
                "passages_per_s": round(m.passages / report.seconds, 1),
                "texts_per_s": round(texts / report.seconds, 1),
            }
    return out


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``livc bench-ingest`` (beside --corpus, --index and --config)."""
    parser.add_argument("folder", nargs="?", type=Path, help="documents to measure (default: a generated corpus)")
    parser.add_argument("--embed", action="store_true", help="also build an index: cold (all embedded) and warm")
    parser.add_argument("--json", type=Path, dest="json_path", help="write the figures to this file")


def command(args, settings=None) -> int:
    """``livc bench-ingest``: measure, print a table per format (and the builds), write --json."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp)
            generate(folder)
        result = measure(folder, embed=args.embed, settings=settings)
    print(f"{'format':<9}{'docs':>5}{'pages':>7}{'passages':>10}{'read s':>9}{'pages/s':>9}{'passages/s (chunk)':>20}")
    for fmt, row in sorted(result["formats"].items()):
        print(
            f"{fmt:<9}{row['documents']:>5}{row['pages']:>7}{row['passages']:>10}{row['read_s']:>9.2f}"
            f"{row['pages_per_s'] or '-':>9}{row['passages_per_s_chunking']:>20}"
        )
    for label, row in result.get("build", {}).items():
        print(
            f"build ({label}): {row['seconds']} s, {row['documents']} documents, {row['pages']} pages, "
            f"{row['passages']} passages: {row['pages_per_s']} pages/s, {row['passages_per_s']} passages/s, "
            f"{row['texts_per_s']} texts/s ({row['texts_embedded']} embedded, {row['texts_from_cache']} from cache)"
        )
    for name, reason in result["skipped"]:
        print(f"skipped {name}: {reason}")
    if args.json_path:
        args.json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0
