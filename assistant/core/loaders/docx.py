"""Word loader (python-docx, MIT): heading styles give the section tree.

- "Heading N" / "Kop N" (or a paragraph outline level) is a heading of level N + 1;
  "Title" / "Titel" is the document title;
- a table becomes Markdown rows under the heading it stands under, one row a line, so
  each row is a citable unit that stays with its section;
- numbered and bulleted lists keep their numbers: Word stores only the numbering rule,
  so the numbers are counted here ("1.", "2.", "a)", "2.3" for a numbered heading);
- a paragraph that is wholly bold and asks a question ("Wie mag het verslag inkijken?")
  heads the answer under it, so a Q&A part becomes one FAQ entry per question;
- tables of contents are skipped (they repeat the headings).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from ..documents import Document, file_date, read_bytes
from ..errors import DocumentError
from .outline import Outline, clean_text

HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*(\d)$", re.IGNORECASE)
TITLE_STYLES = {"title", "titel"}
TOC_STYLE = re.compile(r"^(?:toc|inhoudsopgave|table of contents)", re.IGNORECASE)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def load_docx(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
    """A .docx file as a document."""
    raw = read_bytes(path)
    word = _open(path, raw)
    outline = Outline()
    _Walker(word, outline).walk(word.element.body)
    if progress:
        progress(1, 1)
    props = word.core_properties
    when = props.modified or props.created
    title = clean_text(props.title or "") or None
    return outline.document(
        path,
        raw,
        title if title and len(title) >= 4 else None,
        "docx",
        date=when.date().isoformat() if when else file_date(path),
    )


def _open(path: Path, raw: bytes):
    import docx

    if not raw.startswith(b"PK"):
        raise DocumentError(f"{path.name}: not a Word document (.docx); an old .doc file must be saved as .docx")
    try:
        return docx.Document(io.BytesIO(raw))
    except Exception as exc:  # noqa: BLE001 - a ZIP of something else, a damaged package
        raise DocumentError(
            f"{path.name}: not a Word document (.docx): the archive holds no readable document ({type(exc).__name__})"
        ) from None


class _Walker:
    """Visits the body in reading order and writes headings, paragraphs, items and tables."""

    def __init__(self, word, outline: Outline):
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        self.word, self.outline = word, outline
        self.Paragraph, self.Table = Paragraph, Table
        self.numbers = _ListNumbers(word)
        self.level = 1  # level of the last styled heading

    def walk(self, element) -> None:
        for child in element.iterchildren():
            tag = child.tag.removeprefix(W)
            if tag == "p":
                self.paragraph(self.Paragraph(child, self.word))
            elif tag == "tbl":
                self.table(self.Table(child, self.word))
            elif tag == "sdt":
                content = child.find(f"{W}sdtContent")
                if content is not None and not _is_toc(child):
                    self.walk(content)

    def paragraph(self, p) -> None:
        style = p.style.name if p.style is not None else ""
        if TOC_STYLE.match(style):
            return
        text = clean_text(p.text)
        level = _heading_level(p, style)
        label = self.numbers.label(p)
        if not text:
            return
        if level:
            self.level = level
            self.outline.heading(level, f"{label} {text}" if label and label != "-" else text)
        elif label:
            self.outline.item(label, text)
        elif _all_bold(p) and _reads_as_heading(text):
            self.outline.heading(min(self.level + 1, 6), text)
        else:
            self.outline.paragraph(text)

    def table(self, table) -> None:
        rows = []
        for row in table.rows:
            cells, seen = [], set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # a merged cell is listed once per grid column
                    continue
                seen.add(id(cell._tc))
                cells.append(cell.text)
            rows.append(cells)
        self.outline.table(rows)


def _heading_level(p, style: str) -> int:
    """1 for the title, N + 1 for "Heading N" or outline level N - 1, else 0."""
    if style.lower() in TITLE_STYLES:
        return 1
    if m := HEADING_STYLE.match(style):
        return min(int(m.group(1)) + 1, 6)
    level = _outline_level(p._p.pPr)
    s = p.style
    while level is None and s is not None:
        level = _outline_level(s.element.pPr)
        s = s.base_style
    return min(level + 2, 6) if level is not None and level < 9 else 0


def _outline_level(ppr) -> int | None:
    node = ppr.find(f"{W}outlineLvl") if ppr is not None else None
    return int(node.get(f"{W}val")) if node is not None else None


def _is_toc(sdt) -> bool:
    gallery = sdt.find(f"{W}sdtPr/{W}docPartObj/{W}docPartGallery")
    return gallery is not None and "contents" in (gallery.get(f"{W}val") or "").lower()


def _all_bold(p) -> bool:
    runs = [r for r in p.runs if r.text.strip()]
    return bool(runs) and all(_bold(r, p) for r in runs)


def _bold(run, p) -> bool:
    if run.bold is not None:
        return run.bold
    for style in (run.style, p.style):
        while style is not None:
            if style.font.bold is not None:
                return style.font.bold
            style = style.base_style
    return False


def _reads_as_heading(text: str) -> bool:
    """A bold paragraph heads what follows when it is a question, or short and not a sentence."""
    words = len(text.split())
    return (text.endswith("?") and words <= 40) or (words <= 15 and not re.search(r"[.;,:]$", text))


class _ListNumbers:
    """Word's list numbering, counted: the label ("3.", "b)", "2.1", "-") of each list paragraph."""

    FORMATS = {
        "decimal": str,
        "decimalZero": lambda n: f"{n:02d}",
        "lowerLetter": lambda n: _letters(n),
        "upperLetter": lambda n: _letters(n).upper(),
        "lowerRoman": lambda n: _roman(n).lower(),
        "upperRoman": lambda n: _roman(n),
    }

    def __init__(self, word):
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            numbering = word.part.numbering_part.element
        except Exception:  # noqa: BLE001 - a document without lists has no numbering part
            return
        abstract = {a.get(f"{W}abstractNumId"): a for a in numbering.findall(f"{W}abstractNum")}
        for num in numbering.findall(f"{W}num"):
            ref = num.find(f"{W}abstractNumId")
            definition = abstract.get(ref.get(f"{W}val")) if ref is not None else None
            if definition is not None:
                self.levels[num.get(f"{W}numId")] = {
                    int(lvl.get(f"{W}ilvl")): (
                        _val(lvl, "numFmt", "decimal"),
                        _val(lvl, "lvlText", ""),
                        int(_val(lvl, "start", "1")),
                    )
                    for lvl in definition.findall(f"{W}lvl")
                }

    def label(self, p) -> str | None:
        num_id, ilvl = self._numbering(p)
        levels = self.levels.get(num_id or "")
        if not levels or ilvl not in levels:
            return None
        counters = self.counters.setdefault(num_id, [0] * 10)
        fmt, pattern, start = levels[ilvl]
        counters[ilvl] = counters[ilvl] + 1 if counters[ilvl] else start
        for deeper in range(ilvl + 1, 10):
            counters[deeper] = 0
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return None

        def number(m):
            k = int(m.group(1)) - 1
            level_fmt = levels.get(k, ("decimal", "", 1))[0]
            return self.FORMATS.get(level_fmt, str)(counters[k] or levels.get(k, ("", "", 1))[2])

        label = re.sub(r"%(\d)", number, pattern or f"%{ilvl + 1}.").strip()
        return label or None

    @staticmethod
    def _numbering(p) -> tuple[str | None, int]:
        """(numId, level) from the paragraph, else from its style and the styles it is based on."""
        candidates = [p._p.pPr]
        style = p.style
        while style is not None:
            candidates.append(style.element.pPr)
            style = style.base_style
        for ppr in candidates:
            num_pr = ppr.find(f"{W}numPr") if ppr is not None else None
            if num_pr is not None:
                num_id = num_pr.find(f"{W}numId")
                ilvl = num_pr.find(f"{W}ilvl")
                if num_id is not None:
                    return num_id.get(f"{W}val"), int(ilvl.get(f"{W}val")) if ilvl is not None else 0
        return None, 0


def _val(element, child: str, default: str) -> str:
    node = element.find(f"{W}{child}")
    return node.get(f"{W}val", default) if node is not None else default


def _letters(n: int) -> str:
    out = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        out = chr(97 + r) + out
    return out


def _roman(n: int) -> str:
    values = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ]
    out = ""
    for value, letters in values:
        while n >= value:
            out += letters
            n -= value
    return out
