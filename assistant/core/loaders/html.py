"""Web page loader (the standard library's html.parser): headings give the tree.

Navigation, scripts, styles, forms and embedded media are dropped; when the page marks
its content (<main>, <article>, role="main") only that is read, otherwise site headers,
footers and sidebars are dropped too. <h1>-<h6> become headings, <ol>/<ul> items keep
their numbers, tables become rows under their heading, and a question in a <summary>,
a <dt> or a wholly bold paragraph heads the answer after it (Q&A pages).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from ..documents import Document, file_date, parse_date
from ..errors import DocumentError
from .outline import Outline, clean_text

SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "math",
    "nav",
    "iframe",
    "object",
    "embed",
    "button",
    "select",
    "textarea",
    "form",
    "canvas",
    "video",
    "audio",
    "head",
}
CHROME = {"header", "footer", "aside"}  # site furniture, unless inside the marked content
CHROME_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search"}
BLOCKS = {
    "p",
    "div",
    "section",
    "blockquote",
    "pre",
    "address",
    "figure",
    "figcaption",
    "dd",
    "center",
    "article",
    "main",
    "body",
    "hr",
}
QUESTION_HOLDERS = {"summary", "dt"}
VOID = {"br", "img", "meta", "link", "input", "hr", "wbr", "source", "area", "base", "col", "embed", "param", "track"}
DATE_META = (
    "dcterms.modified",
    "last-modified",
    "article:modified_time",
    "dc.date",
    "dcterms.date",
    "date",
    "dcterms.created",
    "dcterms.issued",
    "article:published_time",
)


def load_html(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
    """An HTML page as a document."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    text = decode(raw)
    parser = _Reader(marked=bool(re.search(r"<(main|article)\b|role\s*=\s*[\"']?main", text, re.IGNORECASE)))
    parser.feed(text)
    parser.close()
    parser.finish()
    if progress:
        progress(1, 1)
    title = parser.first_h1 or clean_text(parser.title) or None
    return parser.outline.document(path, raw, title, "html", date=parser.date or file_date(path))


def decode(raw: bytes) -> str:
    """The page's text: UTF-8 (with or without BOM), else the declared charset, else Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = re.search(rb"charset\s*=\s*[\"']?([\w-]+)", raw[:4096], re.IGNORECASE)
    for encoding in ([declared.group(1).decode("ascii")] if declared else []) + ["cp1252"]:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("latin-1")


class _Reader(HTMLParser):
    """Streams the page into an Outline, one block at a time."""

    def __init__(self, marked: bool):
        super().__init__(convert_charrefs=True)
        self.outline = Outline()
        self.marked = marked  # the page marks its content: read only inside it
        self.content_depth = 0
        self.skip: list[str] = []  # open elements whose text is dropped
        self.text: list[str] = []
        self.bold_chars = 0
        self.bold_depth = 0
        self.block = "paragraph"  # what the open text becomes: paragraph, heading, item, question
        self.heading_level = 0
        self.section_level = 1  # level of the last <hN>, for questions under it
        self.lists: list[list] = []  # [tag, next number] per open list
        self.item_marker = ""
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.title = ""
        self.in_title = False
        self.first_h1 = ""
        self.date = ""

    # ------------------------------------------------------------ tags

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            self._meta(attrs)
        if tag == "title":
            self.in_title = True
        if tag in VOID:
            if tag == "br":
                self._data(" ")
            return
        if (
            self.skip
            or tag in SKIP
            or (attrs.get("role") in CHROME_ROLES)
            or (tag in CHROME and not self.content_depth)
            or attrs.get("hidden") is not None
            or attrs.get("aria-hidden") == "true"
        ):
            self.skip.append(tag)
            return
        if tag in ("main", "article") or attrs.get("role") == "main":
            self.content_depth += 1
        if self.marked and not self.content_depth:
            return
        self._open(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            elif tag in self.skip:
                del self.skip[len(self.skip) - 1 - self.skip[::-1].index(tag) :]
            return
        if self.marked and not self.content_depth:
            return
        self._close(tag)
        if tag in ("main", "article") and self.content_depth:
            self.content_depth -= 1

    def handle_data(self, data):
        if self.in_title:
            self.title += data
            return
        if self.skip or (self.marked and not self.content_depth):
            return
        self._data(data)

    # ------------------------------------------------------------ structure

    def _open(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.block, self.heading_level = "heading", int(tag[1])
        elif tag in ("ul", "ol"):
            self._flush()
            start = attrs.get("start") or "1"
            self.lists.append([tag, int(start) if start.isdigit() else 1])
        elif tag == "li":
            self._flush()
            self.block, self.item_marker = "item", self._next_marker()
        elif tag in QUESTION_HOLDERS:
            self._flush()
            self.block = "question"
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []
        elif tag in BLOCKS:
            self._flush()
        elif tag in ("b", "strong"):
            self.bold_depth += 1

    def _close(self, tag):
        if re.fullmatch(r"h[1-6]", tag) or tag == "li" or tag in QUESTION_HOLDERS or tag in BLOCKS:
            self._flush()
        elif tag in ("ul", "ol") and self.lists:
            self._flush()
            self.lists.pop()
        elif tag in ("td", "th") and self.table is not None and self.cell is not None:
            if not self.table:
                self.table.append([])
            self.table[-1].append(" ".join(self.cell))
            self.cell = None
        elif tag == "table" and self.table is not None:
            self.outline.table(self.table)
            self.table = None
        elif tag in ("b", "strong") and self.bold_depth:
            self.bold_depth -= 1

    def _data(self, data):
        if self.cell is not None:
            self.cell.append(data)
            return
        if self.table is not None:
            return
        self.text.append(data)
        if self.bold_depth:
            self.bold_chars += len(data.strip())

    def _next_marker(self) -> str:
        if not self.lists or self.lists[-1][0] == "ul":
            return "-"
        number = self.lists[-1][1]
        self.lists[-1][1] += 1
        return f"{number}."

    def _flush(self):
        """Write the open text as the block it is in, then start a plain paragraph."""
        text = clean_text("".join(self.text))
        whole_bold = text and self.bold_chars >= len(text.replace(" ", "")) * 0.9
        if text:
            if self.block == "heading":
                self.outline.heading(self.heading_level, text)
                self.section_level = self.heading_level
                if self.heading_level == 1 and not self.first_h1:
                    self.first_h1 = text
            elif self.block == "item":
                self.outline.item(self.item_marker, text)
            elif (self.block == "question" and text.endswith("?")) or (whole_bold and text.endswith("?")):
                self.outline.heading(min(self.section_level + 1, 6), text)
            else:
                self.outline.paragraph(text)
        self.text, self.bold_chars = [], 0
        if self.block != "item" or text:
            self.block = "paragraph"

    def _meta(self, attrs):
        name = (attrs.get("name") or attrs.get("property") or attrs.get("http-equiv") or "").lower()
        content = attrs.get("content") or ""
        if name in DATE_META and not self.date:
            self.date = parse_date(content)  # "" for a value that is no date: the next one may be

    def finish(self):
        self._flush()
        if self.table is not None:
            self.outline.table(self.table)
            self.table = None
