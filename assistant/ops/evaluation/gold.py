"""Gold files: reading and checking them (`load_gold`, `load_sets`), and what a row says:
in scope or not, its acceptable sources, its type and language."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...core.documents import Document
from ...core.errors import GoldError

UNTYPED = "untyped"
DEFAULT_LANG = "nl"
POOLED = "pooled"


def load_gold(path: Path) -> list[dict]:
    """Read a JSONL gold file. Blank lines are skipped; unknown keys are kept and ignored.

    Fails early with the offending line, because a silently skipped row would change
    every metric without anyone noticing.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldError(f"{path}: cannot be read ({exc})") from None
    rows = []
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            rows.append(_parse_gold_line(path, lineno, line))
    if not rows:
        raise GoldError(f"{path}: no questions")
    return rows


def _parse_gold_line(path: Path, lineno: int, line: str) -> dict:
    where = f"{path}, line {lineno}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise GoldError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise GoldError(f"{where}: expected a JSON object")
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        raise GoldError(f"{where}: missing 'question'")
    terms = row.get("must_contain") or []
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise GoldError(f"{where}: 'must_contain' must be a list of strings")
    if row.get("source_doc") == "" or (row.get("type") == "out-of-scope" and row.get("source_doc") is not None):
        # read as in scope, the row would count as a missed answer in every metric
        raise GoldError(f"{where}: 'source_doc' names a document, or is null for an out-of-scope row")
    sources = row.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, dict) and "doc" in s for s in sources):
        raise GoldError(f'{where}: \'sources\' must be a list of {{"doc", "section"}} objects')
    return row


def in_scope(row: dict) -> bool:
    """A row is in scope when it names a source document."""
    return row.get("source_doc") is not None


def row_sources(row: dict) -> list[tuple[str, str | None]]:
    """The (doc, section) pairs that count as a correct source for the row.

    A section of None (a row naming only a document) accepts any section of that document.
    """
    if row.get("sources"):
        return [(s["doc"], s.get("section")) for s in row["sources"]]
    doc = row.get("source_doc")
    if doc is None:
        return []
    sections = row.get("source_sections") or [row.get("source_section")]
    return [(doc, section) for section in sections]


def source_matches(row: dict, doc: str, section: str, path: Sequence[str]) -> bool:
    """Whether a passage (its document, own heading and heading path) is a source of the row."""
    headings = {section, *path}
    return any(d == doc and (s is None or s in headings) for d, s in row_sources(row))


def unknown_sources(rows: Iterable[dict], documents: Iterable[Document]) -> list[str]:
    """Gold sources that name no heading in the corpus: a typo there silently zeroes a row."""
    known = {(s.doc, h) for d in documents for s in d.sections for h in (s.heading, *s.path)}
    docs = {doc for doc, _ in known}
    return sorted(
        {
            f"{doc}#{section}" if section is not None else doc
            for row in rows
            for doc, section in row_sources(row)
            if (doc, section) not in known and not (section is None and doc in docs)
        }
    )


def _row_type(row: dict) -> str:
    return str(row.get("type") or UNTYPED)


def row_lang(row: dict) -> str:
    """The question's language as the gold row states it; "nl" when it does not."""
    return str(row.get("lang") or DEFAULT_LANG).lower()


@dataclass
class GoldSet:
    """One gold file: the name its results go under, its path and its rows."""

    name: str
    path: Path
    rows: list[dict]


def load_sets(paths: Sequence[Path]) -> list[GoldSet]:
    """Read each gold file and name it by its file name without suffix; a name taken
    by an earlier file (or "pooled") gets "-2", "-3", ... added."""
    sets: list[GoldSet] = []
    taken = {POOLED}
    for path in paths:
        path = Path(path)
        base = path.name.removesuffix(".jsonl") or path.stem
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        sets.append(GoldSet(name, path, load_gold(path)))
    return sets
