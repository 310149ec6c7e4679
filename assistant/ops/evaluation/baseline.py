"""The naive LlamaIndex baseline: SentenceSplitter(1024/200) chunks of each whole
document, dense top-k, the start of the first chunk as its answer, never abstains."""

from __future__ import annotations

import sys
import time
from typing import Any

from ...core.documents import Document, Section
from .gold import source_matches
from .metrics import MAX_K, Outcome

BASELINE_CHUNK_SIZE = 1024
BASELINE_CHUNK_OVERLAP = 200
BASELINE_ANSWER_WORDS = 120


def run_baseline(
    rows: list[dict], documents: list[Document], embed_model: Any, top_k: int = MAX_K, progress: bool = False
) -> list[Outcome]:
    """A naive dense pipeline for comparison: SentenceSplitter(1024/200) chunks of each
    whole document in an in-memory VectorStoreIndex, top-k only. Its answer is the start
    of the first chunk; it cites that chunk and never abstains. It has no notion of
    confidence: every answer counts as high confidence. No LLM is built."""
    from llama_index.core import Document as LIDocument
    from llama_index.core import VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=BASELINE_CHUNK_SIZE, chunk_overlap=BASELINE_CHUNK_OVERLAP)
    nodes = splitter.get_nodes_from_documents([LIDocument(text=d.text, metadata={"doc": d.name}) for d in documents])
    by_name = {d.name: d for d in documents}
    sections = {n.node_id: _overlapped_sections(n, by_name[n.metadata["doc"]]) for n in nodes}
    retriever = VectorStoreIndex(nodes, embed_model=embed_model).as_retriever(similarity_top_k=top_k)

    outcomes = []
    for i, row in enumerate(rows, start=1):
        started = time.perf_counter()
        found = [r.node for r in retriever.retrieve(row["question"])]
        latency = (time.perf_counter() - started) * 1000
        matches = [_sections_match(row, sections[n.node_id]) for n in found]
        text = " ".join(found[0].get_content().split()[:BASELINE_ANSWER_WORDS]) if found else ""
        outcomes.append(Outcome(matches, text, False, matches[:1], latency))
        _progress(progress, "baseline", i, len(rows))
    return outcomes


def _overlapped_sections(node: Any, document: Document) -> list[Section]:
    """The document's sections that a chunk overlaps, by character offsets."""
    start, end = _char_span(node, document.text)
    if start is None:
        return []
    return [s for s in document.sections if s.start < end and start < s.end]


def _char_span(node: Any, text: str) -> tuple[int | None, int | None]:
    """The chunk's offsets in the source; located by search when the splitter left none."""
    start, end = node.start_char_idx, node.end_char_idx
    content = node.get_content()
    if start is not None and end is not None and text[start:end] == content:
        return start, end
    found = text.find(content, start or 0)
    if found < 0:
        found = text.find(content)
    return (found, found + len(content)) if found >= 0 else (None, None)


def _sections_match(row: dict, sections: list[Section]) -> bool:
    return any(source_matches(row, s.doc, s.heading, s.path) for s in sections)


def _progress(enabled: bool, label: str, i: int, n: int) -> None:
    if enabled:
        print(f"\r{label}: {i}/{n}", end="\n" if i == n else "", file=sys.stderr, flush=True)
