"""Documents: load source files into `Section`s along their heading tree.

One loader per file type, registered in ``LOADERS`` by suffix; each returns the
document's sections in reading order. Only Markdown ships now; PDF, DOCX and HTML
loaders slot in beside it with the same signature.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

FAQ_HEADING = re.compile(r"^Vraag\s+\d+\s*[:.]\s*(?P<question>.+)$", re.IGNORECASE)
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})")


class DocumentError(Exception):
    """A file that cannot be read as a document; the message says why."""


@dataclass(frozen=True)
class Section:
    """One heading and the text under it, up to the next heading of any level."""

    doc: str  # file name, e.g. "draaiboek-livc-r.md"
    title: str  # the document's title
    heading: str  # this section's own heading text
    path: tuple[str, ...]  # headings from the chapter down to this one (document title excluded)
    anchor: str  # stable, URL-safe id of the heading within the document
    text: str  # the body, verbatim from the source (without the heading line)
    level: int  # heading level (1 = document title)
    order: int  # position in the document
    kind: str = "guide"  # "guide" or "faq"
    question: str | None = None  # for FAQ sections: the question asked
    page: int | None = None  # only for paged sources (PDF)
    start: int = 0  # character offsets of the section (heading included) in the source text
    end: int = 0


@dataclass(frozen=True)
class Document:
    """A loaded source file."""

    name: str  # file name
    title: str
    sha256: str  # hash of the file's bytes
    text: str  # the full source text
    sections: tuple[Section, ...]


def slugify(text: str) -> str:
    """GitHub-style heading anchor: lowercase, accents kept as plain letters, dashes for spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_]+", "-", text).strip("-") or "sectie"


def load_markdown(path: Path) -> Document:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    sections = parse_markdown(path.name, text)
    if not sections:
        raise DocumentError(f"{path.name}: the file is empty")
    return Document(path.name, sections[0].title, hashlib.sha256(raw).hexdigest(), text, tuple(sections))


def parse_markdown(doc: str, text: str) -> list[Section]:
    """Split Markdown text into sections. Text before the first heading, or a file without
    headings, becomes a section headed by the document title (the file name's stem)."""
    headings = list(_find_headings(text))
    title = next((h for _, _, lvl, h in headings if lvl == 1), None) or Path(doc).stem
    bounds = headings + [(len(text), len(text), 0, "")]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, heading) of open ancestors, title excluded
    anchors: dict[str, int] = {}

    preamble = text[: bounds[0][0]]
    if preamble.strip():
        sections.append(_section(doc, title, title, (), 1, preamble, 0, len(preamble), anchors, 0))

    for i, (start, body_start, level, heading) in enumerate(headings):
        end = bounds[i + 1][0]
        body = text[body_start:end]
        if level == 1 and heading == title and i == 0:
            path: tuple[str, ...] = ()
        else:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            path = tuple(h for _, h in stack)
        if not body.strip() and not path:
            continue
        sections.append(_section(doc, title, heading, path, level, body, start, end, anchors, len(sections)))
    return [s for s in sections if s.text.strip() or s.kind == "faq"]


def _section(doc, title, heading, path, level, body, start, end, anchors, order) -> Section:
    slug = slugify(heading)
    seen = anchors.get(slug, 0)
    anchors[slug] = seen + 1
    anchor = slug if seen == 0 else f"{slug}-{seen}"
    faq = FAQ_HEADING.match(heading)
    return Section(
        doc=doc,
        title=title,
        heading=heading,
        path=path or (heading,),
        anchor=anchor,
        text=body.strip("\n"),
        level=level,
        order=order,
        kind="faq" if faq else "guide",
        question=faq.group("question").strip() if faq else None,
        start=start,
        end=end,
    )


def _find_headings(text: str):
    """Yield (start, body_start, level, heading text) for ATX headings outside code fences."""
    fence = ""  # the marker of the open code fence; a fence closes only with its own kind
    offset = 0
    for line in text.split("\n"):
        line_end = offset + len(line) + 1
        if fence:
            closing = line.strip()
            if len(closing) >= len(fence) and closing == fence[0] * len(closing):
                fence = ""
        elif f := _FENCE.match(line):
            fence = f.group("fence")
        elif m := _HEADING.match(line):
            heading = _strip_inline(m.group("text"))
            if heading:
                yield offset, min(line_end, len(text)), len(m.group("hashes")), heading
        offset = line_end


def _strip_inline(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


LOADERS: dict[str, Callable[[Path], Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
}

# Files in the corpus folder that are documentation about the corpus, not corpus.
IGNORED_NAMES = {"SOURCES.md", "README.md"}


def load_corpus(folder: Path) -> tuple[list[Document], list[tuple[str, str]]]:
    """Load every supported file in `folder` (not recursive).

    Returns the documents and the skipped files as (name, reason) pairs; a broken
    file is skipped with its reason and never stops the others.
    """
    if not folder.is_dir():
        raise DocumentError(f"corpus folder not found: {folder}")
    documents: list[Document] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in IGNORED_NAMES or not path.is_file():
            continue
        loader = LOADERS.get(path.suffix.lower())
        if loader is None:
            skipped.append((path.name, f"unsupported file type {path.suffix or '(none)'}"))
            continue
        try:
            documents.append(loader(path))
        except DocumentError as exc:
            skipped.append((path.name, str(exc).removeprefix(f"{path.name}: ")))
    return documents, skipped
