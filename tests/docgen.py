"""Generate test documents in the official formats from the shipped Markdown (never committed).

- ``markdown_pdf``: a multi-page A4 PDF laid out like an official guide (reportlab, BSD):
  a running header and a "Pagina N van M" footer on every page, numbered headings in
  bold at larger sizes, bold lead-ins, bullet and numbered lists, words hyphenated at
  line ends. It returns where everything landed (`PdfLayout`), so tests know the page
  each heading and each line is on.
- ``sample_docx``: a Word file with heading styles, a table, numbered and bulleted lists
  and bold questions (python-docx).
- ``sample_html``: an intranet page with navigation, scripts, styles and a Q&A block.
- small broken files: encrypted, scanned (image only), empty, zero pages, corrupt.

The ingestion benchmark (livc bench-ingest) reuses these generators.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

FONT_DIR = Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf"  # DejaVu ships with matplotlib
HEADER = "Draaiboek LIVC-R — versie juli 2021"
PAGE_W, PAGE_H = 595.0, 842.0
LEFT, RIGHT, TOP, BOTTOM = 60.0, 60.0, 78.0, 70.0
BODY, LEADING = 10.5, 14.5
SIZES = {1: 20.0, 2: 16.0, 3: 13.0, 4: 11.5}
_fonts_registered = False


def _register_fonts() -> None:
    global _fonts_registered
    if _fonts_registered:
        return
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("DejaVu", str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Oblique", str(FONT_DIR / "DejaVuSans-Oblique.ttf")))
    _fonts_registered = True


@dataclass
class PdfLayout:
    """Where the generator put things: pages are numbered from 1."""

    pages: int = 0
    headings: dict[str, int] = field(default_factory=dict)  # heading text -> page
    lines: list[tuple[int, str]] = field(default_factory=list)  # (page, drawn text) in order
    hyphenated: list[str] = field(default_factory=list)  # words split over two lines

    def page_of(self, text: str) -> int:
        """The page on which `text` starts (whitespace and hyphenation ignored)."""
        wanted = _squash(text)[:40]
        flat, starts = "", []
        for page, line in self.lines:
            starts.append((len(flat), page))
            flat += _squash(line.removesuffix("-")) if line.endswith("-") and not line.endswith(" -") else _squash(line)
        at = flat.find(wanted)
        assert at >= 0, f"not in the PDF: {text[:60]!r}"
        return [p for o, p in starts if o <= at][-1]


def _squash(text: str) -> str:
    return re.sub(r"[\s\u00ad]+", "", text.replace("*", ""))


# ---------------------------------------------------------------- Markdown to PDF


def _blocks(markdown: str):
    """(kind, level, text) for headings, paragraphs, items, table rows and quotes. A front
    matter block is not printed: it describes the file, it is not its text."""
    from assistant.core.documents import split_front_matter

    markdown = split_front_matter(markdown)[1]
    paragraph: list[str] = []
    out = []

    def flush():
        if paragraph:
            out.append(("p", 0, " ".join(paragraph)))
            paragraph.clear()

    for line in markdown.splitlines():
        s = line.strip()
        if not s:
            flush()
        elif m := re.match(r"^(#{1,6})\s+(.*)$", s):
            flush()
            out.append(("h", len(m.group(1)), m.group(2)))
        elif re.match(r"^\|?\s*-{2,}", s):
            continue
        elif s.startswith("|"):
            flush()
            out.append(("row", 0, [c.strip() for c in s.strip("|").split("|")]))
        elif m := re.match(r"^(\s*)([-*]|\d+\.)\s+(.*)$", line):
            flush()
            out.append(("li", len(m.group(1)) // 2, (m.group(2), m.group(3))))
        elif s.startswith(">"):
            paragraph.append(s.lstrip("> "))
        else:
            paragraph.append(s)
    flush()
    return out


def _runs(text: str) -> list[tuple[str, bool, bool]]:
    """(word, bold, glued to the previous word) for each word: **bold** spans are bold, and
    punctuation right after a bold span sticks to it ("**officer**, die")."""
    words, previous = [], " "
    for k, part in enumerate(re.split(r"\*\*", text)):
        glued = bool(words) and not part[:1].isspace() and not previous[-1:].isspace()
        for i, w in enumerate(part.split()):
            words.append((w, k % 2 == 1, i == 0 and glued))
        previous = part or previous
    return words


class _Writer:
    def __init__(self, canvas, layout: PdfLayout, hyphenate: bool):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.c, self.layout, self.hyphenate, self.width = canvas, layout, hyphenate, stringWidth
        self.page, self.y = 1, PAGE_H - TOP
        self.ops: list[list] = [[]]  # per page: (font, size, x, y, text)

    def new_page(self):
        self.ops.append([])
        self.page += 1
        self.y = PAGE_H - TOP

    def need(self, height: float):
        if self.y - height < BOTTOM:
            self.new_page()

    def heading(self, level: int, text: str):
        size = SIZES.get(level, 11.5)
        self.y -= {1: 0, 2: 16, 3: 10}.get(level, 8)
        self.need(size * 3)
        self.layout.headings[text] = self.page
        for line in self.wrap([(w, True, False) for w in text.split()], PAGE_W - LEFT - RIGHT, size):
            self.y -= size * 1.3
            self.draw_line(line, LEFT, size)
        self.y -= 6

    def paragraph(self, runs, x: float = LEFT, marker: str = "", italic: bool = False):
        lines = self.wrap(runs, PAGE_W - RIGHT - x, BODY)
        for k, line in enumerate(lines):
            self.need(LEADING)
            self.y -= LEADING
            if k == 0 and marker:
                self.ops[-1].append(("DejaVu", BODY, x - 14, self.y, marker))
            self.draw_line(line, x, BODY, italic)
        self.y -= 6

    def wrap(self, runs, width: float, size: float) -> list[list[tuple[str, bool]]]:
        lines, line, used = [], [], 0.0
        space = self.width(" ", "DejaVu", size)
        queue = list(runs)
        while queue:
            word, bold, glued = queue.pop(0)
            w = self.width(word, "DejaVu-Bold" if bold else "DejaVu", size)
            extra = w + (space if line and not glued else 0)
            if used + extra <= width or not line:
                line.append((word, bold, glued and bool(line)))
                used += extra
                continue
            split = None if glued or not self.hyphenate else self.split(word, bold, size, width - used - space)
            if split:
                line.append((split[0], bold, False))
                queue.insert(0, (split[1], bold, False))
                self.layout.hyphenated.append(word)
            else:
                if glued and line:  # punctuation glued to the last word moves with it
                    queue.insert(0, line.pop()[:2] + (False,))
                queue.insert(0, (word, bold, glued))
            lines.append(line)
            line, used = [], 0.0
        if line:
            lines.append(line)
        return lines

    def split(self, word: str, bold: bool, size: float, room: float):
        """Hyphenate a long lowercase word so its head fits in `room`; compounds break
        only at their own hyphen before a capital ("LIVC-" + "R")."""
        font = "DejaVu-Bold" if bold else "DejaVu"
        m = re.match(r"^([A-Z]{2,}-)([A-Z].*)$", word)
        if m and self.width(m.group(1), font, size) <= room:
            return m.group(1), m.group(2)
        core = re.match(r"^([a-zà-ÿ]+)([a-zà-ÿ]+)([.,;:]?)$", word)
        if not core or len(word) < 9 or "-" in word:
            return None
        letters = word.rstrip(".,;:")
        for cut in range(len(letters) - 3, 3, -1):
            head, tail = letters[:cut], letters[cut:] + word[len(letters) :]
            if head[-1] in "aeiou" and head[-1] == tail[0]:
                continue
            if self.width(head + "-", font, size) <= room:
                return head + "-", tail
        return None

    def draw_line(self, line, x: float, size: float, italic: bool = False):
        text = ""
        for k, (word, bold, glued) in enumerate(line):
            font = "DejaVu-Bold" if bold else ("DejaVu-Oblique" if italic else "DejaVu")
            piece = word if k == 0 or glued else " " + word
            self.ops[-1].append((font, size, x, self.y, piece))
            x += self.width(piece, font, size)
            text += piece
        self.layout.lines.append((self.page, text))


def markdown_pdf(
    markdown: str, path: Path, title: str | None = None, header: str = HEADER, hyphenate: bool = True, encrypt=None
) -> PdfLayout:
    """Lay `markdown` out as an A4 PDF at `path`; returns where each heading and line went."""
    from reportlab.pdfgen import canvas as pdfcanvas

    _register_fonts()
    layout = PdfLayout()
    c = pdfcanvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), encrypt=encrypt, invariant=1)
    writer = _Writer(c, layout, hyphenate)
    for kind, level, value in _blocks(markdown):
        if kind == "h":
            writer.heading(level, value.replace("**", ""))
        elif kind == "p":
            writer.paragraph(_runs(value))
        elif kind == "li":
            marker, text = value
            writer.paragraph(_runs(text), LEFT + 16 + 16 * level, "•" if marker in "-*" else marker)
        elif kind == "row":
            writer.paragraph(_runs(" — ".join(c for c in value if c)))
    layout.pages = len(writer.ops)
    for number, ops in enumerate(writer.ops, 1):
        c.setFont("DejaVu", 8)
        c.drawString(LEFT, PAGE_H - 40, header)
        c.drawCentredString(PAGE_W / 2, 36, f"Pagina {number} van {layout.pages}")
        for font, size, x, y, text in ops:
            c.setFont(font, size)
            c.drawString(x, y, text)
        c.showPage()
    if title:
        c.setTitle(title)
    c.setAuthor("LIVC-assistent tests")
    c.save()
    return layout


# ---------------------------------------------------------------- small PDFs, good and bad


def simple_pdf(path: Path, pages: list[list[tuple[str, float, bool]]], title: str | None = None, encrypt=None) -> None:
    """A PDF whose pages hold the given lines: (text, size, bold), top down."""
    from reportlab.pdfgen import canvas as pdfcanvas

    _register_fonts()
    c = pdfcanvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), encrypt=encrypt, invariant=1)
    for lines in pages:
        y = PAGE_H - TOP
        for text, size, bold in lines:
            y -= size * 1.4
            c.setFont("DejaVu-Bold" if bold else "DejaVu", size)
            c.drawString(LEFT, y, text)
        c.showPage()
    if title:
        c.setTitle(title)
    c.save()


def long_pdf(path: Path, pages: int) -> None:
    """A regulation of `pages` pages, two articles a page (article k on page (k + 1) // 2),
    with a running header and bare page numbers."""
    from reportlab.pdfgen import canvas as pdfcanvas

    _register_fonts()
    c = pdfcanvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1)
    for n in range(1, pages + 1):
        c.setFont("DejaVu", 8)
        c.drawString(LEFT, PAGE_H - 40, "Huishoudelijk reglement LIVC-R Voorbeeldstad")
        c.drawCentredString(PAGE_W / 2, 36, str(n))
        for half, article in enumerate((2 * n - 1, 2 * n)):
            top = PAGE_H - TOP - 20 - half * 330
            c.setFont("DejaVu-Bold", 13)
            c.drawString(LEFT, top, f"Artikel {article}. Bepaling nummer {article}")
            c.setFont("DejaVu", BODY)
            for k in range(3):
                c.drawString(
                    LEFT,
                    top - 24 - k * LEADING,
                    f"Regel {k + 1} van artikel {article}: de cel bespreekt dossier {article * 10 + k} "
                    "in beslotenheid.",
                )
        c.showPage()
    c.save()


def scanned_pdf(path: Path) -> None:
    """A 'scanned' page: an image of text, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as pdfcanvas

    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    for k in range(30):
        draw.rectangle([40, 40 + k * 24, 40 + (k * 37) % 500 + 60, 52 + k * 24], fill=0)
    c = pdfcanvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H))
    c.drawImage(ImageReader(image), 0, 0, PAGE_W, PAGE_H)
    c.showPage()
    c.save()


def zero_page_pdf(path: Path) -> None:
    from pypdf import PdfWriter

    with open(path, "wb") as out:
        PdfWriter().write(out)


def encryption(user: str = "", owner: str = "eigenaar"):
    """reportlab's standard (RC4) encryption with the given passwords."""
    from reportlab.lib.pdfencrypt import StandardEncryption

    return StandardEncryption(user, owner, canCopy=0)


# ---------------------------------------------------------------- Word


def sample_docx(path: Path, title: str = "Huishoudelijk reglement LIVC-R Sint-Niklaas") -> None:
    """A local regulation in Word: heading styles, a table under its heading, a numbered
    and a bulleted list, and a Q&A part whose questions are bold paragraphs."""
    from datetime import datetime

    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.modified = datetime(2024, 3, 15, 10, 0, 0)
    d.add_paragraph(title, style="Title")
    d.add_heading("Hoofdstuk 1. Samenstelling", level=1)
    d.add_paragraph("De cel bestaat uit vaste leden en leden op uitnodiging. De burgemeester zit de cel voor.")
    d.add_heading("Vaste leden", level=2)
    for text in (
        "de burgemeester of zijn vertegenwoordiger;",
        "de korpschef van de politiezone Waasland-Noord;",
        "de LIVC-coördinator van de stad.",
    ):
        d.add_paragraph(text, style="List Number")
    d.add_heading("Contactpersonen", level=2)
    d.add_paragraph("De volgende tabel geeft de contactpersonen per dienst.")
    table = d.add_table(rows=1, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Dienst", "Contactpersoon", "Telefoon")):
        cell.text = text
    for row in (
        ("Preventiedienst", "An Peeters", "03 760 90 00"),
        ("Politie", "Jan Claes", "03 760 91 11"),
        ("OCMW", "Sara Janssens", "03 778 60 00"),
    ):
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    d.add_heading("Hoofdstuk 2. Werking", level=1)
    d.add_paragraph("De cel vergadert elke tweede dinsdag van de maand in het stadhuis.")
    for text in ("agenda versturen", "dossiers voorbereiden", "verslag bezorgen"):
        d.add_paragraph(text, style="List Bullet")
    d.add_heading("Hoofdstuk 3. Vragen en antwoorden", level=1)
    for question, answer in (
        ("Wie mag het verslag inkijken?", "Alleen de vaste leden mogen het verslag inkijken, op het secretariaat."),
        ("Hoe lang bewaren we de verslagen?", "De verslagen worden vijf jaar bewaard en daarna vernietigd."),
        ("Wat als een lid verhinderd is?", "Een verhinderd lid laat zich vervangen door een aangeduide collega."),
    ):
        p = d.add_paragraph()
        p.add_run(question).bold = True
        d.add_paragraph(answer)
    d.save(str(path))


# ---------------------------------------------------------------- HTML


SAMPLE_HTML = """<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Intranet: LIVC-R in onze stad</title>
<meta name="dcterms.modified" content="2024-02-01">
<style>body { font-family: sans-serif; } .geheim { display: none }</style>
<script>var tracking = "dit is script en geen tekst"; document.write("geen inhoud");</script>
</head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/nieuws">Nieuws</a></li><li>Menu-item zonder inhoud</li></ul></nav></header>
<main>
<h1>LIVC-R in onze stad</h1>
<p>De <strong>lokale integrale veiligheidscel</strong> van onze stad komt maandelijks samen.
Ze wordt voorgezeten door de burgemeester.</p>
<h2>Wie zit er aan tafel?</h2>
<p>Naast de vaste leden nodigt de burgemeester partners uit:</p>
<ol><li>het OCMW;</li><li>het CLB;</li><li>de jeugddienst.</li></ol>
<h2>Contact</h2>
<table><tr><th>Dienst</th><th>E-mail</th></tr><tr><td>Preventie</td><td>preventie@stad.be</td></tr></table>
<h2>Veelgestelde vragen</h2>
<details><summary>Mag ik als leerkracht deelnemen?</summary><p>Ja, op uitnodiging van de burgemeester.</p></details>
<details><summary>Wordt de politie altijd ingelicht?</summary><p>Nee, alleen wat nodig is voor de veiligheid.</p></details>
<details><summary>Krijg ik een verslag?</summary><p>U ontvangt een beknopt verslag van de coördinator.</p></details>
<script>console.log("ook dit script hoort er niet in");</script>
</main>
<footer>© Stad Voorbeeld · <a href="/privacy">Privacy</a></footer>
</body>
</html>
"""


def sample_html(path: Path) -> None:
    path.write_text(SAMPLE_HTML, encoding="utf-8")


def not_a_docx(path: Path) -> None:
    """A ZIP archive with a .docx name that holds something else."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("foto's/vakantie.txt", "dit is geen Word-document")
    path.write_bytes(buffer.getvalue())
