"""Outline: the structure a loader recovered from a file, written out as Markdown.

Loaders add blocks in reading order (headings, paragraphs, list items, tables) and, for
paged sources, say on which page each piece of text stands. ``document()`` turns the
result into a `Document` through the Markdown parser, so sections, anchors and FAQ
entries follow the same rules for every format, and each section learns its pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..documents import Document, assign_pages, document_of, parse_markdown
from ..errors import DocumentError

# Characters that would make a line mean something else in Markdown when they start it.
_LINE_START = re.compile(r"^(#|>|\||```|~~~|[-*+](?=\s)|=+\s*$|-+\s*$)")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str) -> str:
    """One line of running text: ligatures spelled out, soft hyphens and zero-width
    characters dropped, all whitespace (tabs, non-breaking spaces, newlines) one space."""
    text = _INVISIBLE.sub("", text.translate(_LIGATURES))
    return re.sub(r"\s+", " ", text).strip()


def escape_line(text: str) -> str:
    """Keep a paragraph a paragraph: a leading '#', '>', '|', fence or bullet is escaped."""
    return "\\" + text if _LINE_START.match(text) else text


@dataclass
class Outline:
    """Markdown under construction, with the offsets where pages start."""

    parts: list[str] = field(default_factory=list)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (offset, page) of each page's first text
    length: int = 0
    last_kind: str = ""

    def heading(self, level: int, text: str, page: int | None = None) -> None:
        """A heading; level 1 is the document title."""
        text = clean_text(text).rstrip("#").strip()
        if text:
            self._block("#" * max(1, min(level, 6)) + " ", text, "heading", [(0, page)])

    def paragraph(self, text: str, pages: list[tuple[int, int]] | None = None) -> None:
        """A paragraph, written on one line. With `pages` ((offset in `text`, page) where
        its pages start) the text must already be clean (see `clean_text`)."""
        self._text("", text, "paragraph", pages)

    def item(self, marker: str, text: str, pages: list[tuple[int, int]] | None = None) -> None:
        """A list item: `marker` is "-" for a bullet or its own number ("3.", "2.1.", "b)")."""
        self._text(marker + " ", text, "item", pages)

    def table(self, rows: list[list[str]], page: int | None = None) -> None:
        """Rows of cells as a Markdown table (the first row is the header), a row a line."""
        rows = [[clean_text(c).replace("|", "\\|") for c in row] for row in rows]
        rows = [r for r in rows if any(r)]
        if not rows:
            return
        width = max(len(r) for r in rows)
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "---|" * width)
        self._block("", "\n".join(lines), "table", [(0, page)])

    def _text(self, prefix: str, text: str, kind: str, pages) -> None:
        if pages is None:
            text, pages = clean_text(text), [(0, None)]
        if not text:
            return
        if not prefix:
            escaped = escape_line(text)
            prefix, text = escaped[: len(escaped) - len(text)], text
        self._block(prefix, text, kind, pages)

    def _block(self, prefix: str, text: str, kind: str, pages) -> None:
        """Append a block: list items follow each other line by line, all else after a blank line."""
        sep = "" if not self.parts else ("\n" if kind == "item" and self.last_kind == "item" else "\n\n")
        start = self.length + len(sep) + len(prefix)
        for offset, page in pages:
            if page is not None and (not self.marks or self.marks[-1][1] != page):
                self.marks.append((start + offset if offset else start - len(prefix), page))
        block = sep + prefix + text
        self.parts.append(block)
        self.length += len(block)
        self.last_kind = kind

    def text(self) -> str:
        return "".join(self.parts)

    def document(self, path: Path, raw: bytes, title: str | None, fmt: str, pages: int = 0, date: str = "") -> Document:
        """The Document these blocks make; raises DocumentError when no text was found."""
        text = self.text()
        sections = parse_markdown(path.name, text, title=title or None)
        if not sections:
            raise DocumentError(f"{path.name}: no text found")
        if pages:
            sections = assign_pages(sections, text, self.marks)
        return document_of(path, raw, text, sections, format=fmt, pages=pages, date=date)
