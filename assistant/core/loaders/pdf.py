"""PDF loader: text per page with pypdf (BSD), the heading tree recovered from numbering and type.

A PDF has no headings, paragraphs or lists, only positioned runs of text. This module
rebuilds them:

- runs on one baseline form a line; pypdf's font data gives each line its size and
  weight, and glyph widths tell a word gap from a kerning step;
- running headers and footers (lines at the top or bottom of many pages, page numbers
  counted as one text) and page numbers are dropped;
- a line is a heading when its numbering says so ("2.3 Artikel 458ter …", "Hoofdstuk 5",
  "Vraag 4: …") and its type agrees, or when it is set larger or bold; its level follows
  the numbering, else the type size;
- lines join into paragraphs and list items, words hyphenated across a line end are
  joined again ("verwer-" + "king"), compounds keep their hyphen ("LIVC-" + "R");
- every piece of text remembers its page, so each passage can cite its page.

Scanned PDFs (no text layer), encrypted, damaged and empty PDFs raise DocumentError
with a reason an operator can act on.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Callable
from pathlib import Path

from ..documents import Document, file_date, read_bytes
from ..errors import DocumentError
from .outline import clean_text
from .pdf_layout import Line, Page, build_outline, drop_running_lines

log = logging.getLogger(__name__)

TOC_LINE = re.compile(r"(?:\.\s?){4,}\s*\d{1,4}\s*$|…{2,}\s*\d{1,4}\s*$")


# ---------------------------------------------------------------- entry point


def load_pdf(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
    """A text PDF as a document whose sections know their pages."""
    raw = read_bytes(path)
    reader = _open(path, raw)
    total = len(reader.pages)
    pages, fonts = [], _Fonts()
    for number, page in enumerate(reader.pages, 1):
        pages.append(read_page(page, number, fonts))
        if progress:
            progress(number, total)
    if not any(p.lines for p in pages):
        raise DocumentError(f"{path.name}: {_why_no_text(reader)}")
    lines = drop_running_lines(pages)
    outline = build_outline(lines)
    return outline.document(path, raw, metadata_title(reader, path), "pdf", total, _date(reader) or file_date(path))


def _open(path: Path, raw: bytes):
    """A PdfReader with its pages, or DocumentError: damaged, encrypted, or without pages."""
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # damaged files warn a lot; we give one reason
    if not raw.lstrip()[:1024].count(b"%PDF"):
        raise DocumentError(f"{path.name}: not a PDF file (no PDF header)")
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted and not _decrypt(reader):
            raise DocumentError(
                f"{path.name}: encrypted PDF: it needs a password to open; save an unprotected copy to index it"
            )
        count = len(reader.pages)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on a broken file
        raise DocumentError(f"{path.name}: damaged PDF, cannot be read ({type(exc).__name__})") from None
    if count == 0:
        raise DocumentError(f"{path.name}: the PDF has no pages")
    return reader


def _decrypt(reader) -> bool:
    """Open a PDF that is encrypted without a user password (an owner password only
    restricts printing or copying); False when a password is needed."""
    try:
        return bool(reader.decrypt(""))
    except Exception:  # noqa: BLE001 - e.g. AES without a crypto library: treat as locked
        return False


def _why_no_text(reader) -> str:
    images = 0
    for page in reader.pages:
        try:
            xobjects = page.get("/Resources", {}).get("/XObject", {}) or {}
            images += sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
        except Exception:  # noqa: BLE001
            continue
    if images:
        return "no text layer: the PDF holds scanned images and needs OCR before it can be indexed"
    return "no text found in the PDF"


def metadata_title(reader, path: Path) -> str | None:
    """The title in the PDF's metadata, unless it is a word processor's placeholder."""
    try:
        title = clean_text(str((reader.metadata or {}).get("/Title") or ""))
    except Exception:  # noqa: BLE001
        return None
    junk = ("untitled", "naamloos", "microsoft word", "powerpoint", "document1", "doc1")
    if (
        len(title) < 4
        or title.lower().startswith(junk)
        or title.lower() == path.stem.lower()
        or re.search(r"\.(docx?|pdf|odt|rtf)$", title, re.I)
    ):
        return None
    return title


def _date(reader) -> str:
    try:
        meta = reader.metadata
        when = meta and (meta.modification_date or meta.creation_date)
        return when.date().isoformat() if when else ""
    except Exception:  # noqa: BLE001 - malformed dates are common
        return ""


# ---------------------------------------------------------------- lines of a page


def read_page(page, number: int, fonts: _Fonts | None = None) -> Page:
    """The page's text lines in content order, each with position, size and weight."""
    box = page.mediabox
    top, bottom = float(box.top), float(box.bottom)
    lines: list[Line] = []
    fonts = fonts or _Fonts()

    def visit(text, cm, tm, font, size):
        text = (text or "").lstrip("\n")
        if not text.strip():
            return
        m = _multiply(tm, cm)
        x, y = m[4], m[5]
        height = abs(size * math.hypot(m[2], m[3])) or abs(size) or 1.0
        width_scale = abs(size * math.hypot(m[0], m[1]))
        bold = fonts.bold(font)
        for k, piece in enumerate(text.split("\n")):
            if piece.strip():
                _place(
                    lines,
                    piece,
                    x if k == 0 else None,
                    y - k * 1.2 * height,
                    height,
                    fonts.width(font, piece) * width_scale,
                    bold,
                    number,
                )

    try:
        page.extract_text(visitor_text=visit)
    except Exception as exc:  # noqa: BLE001 - one unreadable page does not sink the document
        log.warning("page %d: text cannot be read (%s)", number, type(exc).__name__)
    for line in lines:  # a soft hyphen at the end marks a hyphenated word: keep it for _glue
        soft = line.text.rstrip().endswith("\u00ad")
        line.text = clean_text(line.text) + ("\u00ad" if soft else "")
    return Page(number, [ln for ln in lines if ln.text and not TOC_LINE.search(ln.text)], top, bottom)


def _place(
    lines: list[Line], text: str, x: float | None, y: float, size: float, width: float, bold: bool, page: int
) -> None:
    """Add a run of text to the line it continues (same baseline, further right), or start one."""
    for line in reversed(lines[-3:]):
        same_row = abs(line.y - y) <= 0.4 * max(size, line.size)
        if same_row and (x is None or x >= line.end - 0.5 * size):
            gap = (x - line.end) if x is not None else size
            spaced = line.text.endswith(" ") or text.startswith(" ")
            line.add(("" if spaced or gap < 0.15 * size else " ") + text, size, bold)
            line.end = (x if x is not None else line.end) + width
            return
    x = x if x is not None else (lines[-1].x if lines else 0.0)
    line = Line("", page, x, y, x + width, size, bold)
    line.add(text, size, bold)
    lines.append(line)


def _multiply(a, b) -> list[float]:
    """The product of two PDF matrices [a b c d e f]."""
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


class _Fonts:
    """Weight and glyph widths of the fonts a document uses, looked up once per font."""

    def __init__(self):
        self._bold: dict[object, bool] = {}
        self._metrics: dict[object, object] = {}
        self._keep: dict[int, object] = {}  # fonts keyed by id() stay alive, so their ids are not reused

    def _key(self, font):
        ref = getattr(font, "indirect_reference", None)
        if ref is not None:
            return ref.idnum, ref.generation
        self._keep[id(font)] = font
        return id(font)

    def bold(self, font) -> bool:
        if not font:
            return False
        key = self._key(font)
        if key not in self._bold:
            self._bold[key] = _is_bold(font)
        return self._bold[key]

    def width(self, font, text: str) -> float:
        """Width of `text` in ems (glyph widths from the font; half an em a character otherwise)."""
        key = self._key(font) if font else None
        if font and key not in self._metrics:
            self._metrics[key] = _metrics(font)
        metrics = self._metrics.get(key)
        if metrics is not None:
            try:
                return metrics.get_text_width(text) / 1000
            except Exception:  # noqa: BLE001
                pass
        return 0.5 * len(text)


def _metrics(font):
    try:  # pypdf's font model (glyph widths by character); private in pypdf 6-7, so guarded
        from pypdf.generic._font import Font
    except ImportError:
        return None
    try:
        return Font.from_font_resource(font)
    except Exception:  # noqa: BLE001
        return None


def _is_bold(font) -> bool:
    name = str(font.get("/BaseFont", "")).lower()
    if re.search(r"bold|black|heavy|semibold|demi", name):
        return True
    try:
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        return float(descriptor.get("/FontWeight", 400)) >= 600 or bool(int(descriptor.get("/Flags", 0)) & (1 << 18))
    except Exception:  # noqa: BLE001
        return False
