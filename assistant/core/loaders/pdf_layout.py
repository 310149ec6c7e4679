"""A PDF's lines turned into its outline: running headers and footers dropped, then
headings (numbering and type), paragraphs and list items recovered, each with its pages
(see `assistant.core.loaders.pdf` for the whole method)."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from ..documents import FAQ_HEADING
from .outline import Outline

# "2.3 Artikel 458ter ..." / "5. Samenstelling" (not "2018. Dat jaar": at most two digits a part)
NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,4})\.?\s+(?P<rest>[^\W\d_].*)$")
KEYWORD = re.compile(
    r"^(?P<word>(?i:hoofdstuk|deel|titel|afdeling|onderafdeling|bijlage|artikel|art\.))\s+"
    r"(?P<num>[0-9IVXLC]+[a-z]*)\b\s*[.:–—-]?\s*(?P<rest>.*)$"
)
KEYWORD_LEVELS = {"deel": 2, "titel": 2, "hoofdstuk": 2, "bijlage": 2, "afdeling": 3, "onderafdeling": 4}
BULLET = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·\uf0b7\uf0a7\uf076\uf0d8\uf0fc]\s*|[-–—*]\s+)(?P<rest>\S.*)$")
ORDERED = re.compile(r"^(?P<marker>(?:\d{1,3}|[a-z])[.)])\s+(?P<rest>\S.*)$")
PAGE_NUMBER = re.compile(
    r"^(?:(?:pagina|pag\.?|blz\.?|p\.|page)\s*)?[-–—(]?\s*(?:\d{1,4}|[ivxlc]{1,6})\s*[-–—)]?"
    r"(?:\s*(?:/|van|of|de|sur)\s*\d{1,4})?$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.;,:]$")
CAPITAL_WORD = re.compile(r"^(?:[^\W\d_]+(?:['’-][^\W\d_]+)*[:,]?|\d{1,3}[.)]?|[IVXLC]+[.)]?|[–—-]|\(?[^\W\d_]+\)?)$")
ABBREVIATION_END = re.compile(r"(?:\b[A-Z]\.){2,}$")
EDGE_LINES = 3  # how many lines at the top and bottom of a page may be running text
EDGE_BAND = 0.2  # ... and how far into the page (share of its height) they may stand


@dataclass
class Line:
    """One line of text as laid out on a page."""

    text: str
    page: int
    x: float
    y: float  # baseline, PDF units from the bottom
    end: float  # x where the last character ends
    size: float  # font size (character-weighted)
    bold: bool  # (nearly) all of it in a bold face
    chars: int = 0
    bold_chars: int = 0
    size_sum: float = 0.0

    def add(self, text: str, size: float, bold: bool) -> None:
        n = len(text.strip())
        self.text += text
        self.chars += n
        self.bold_chars += n if bold else 0
        self.size_sum += size * n
        if self.chars:
            self.size = self.size_sum / self.chars
            self.bold = self.bold_chars >= 0.9 * self.chars


@dataclass
class Page:
    number: int
    lines: list[Line]
    top: float
    bottom: float


@dataclass
class Block:
    """A heading or a paragraph under construction: its lines, each with its page."""

    kind: str  # "heading" | "paragraph" | "item"
    lines: list[Line] = field(default_factory=list)
    marker: str = ""
    level: int = 0
    text: str = ""
    pages: list[tuple[int, int]] = field(default_factory=list)


# ---------------------------------------------------------------- running headers and footers


def drop_running_lines(pages: list[Page]) -> list[Line]:
    """All lines in reading order, without running headers, footers and page numbers.

    A line at the top or bottom edge of a page is running text when the same text stands
    at that edge on at least 40 % of the pages (two at least), a number that follows the
    page number counting as the same ("Pagina 3 van 40" on page 3 is "Pagina 4 van 40"
    on page 4), or when it is a bare page number ("12", "- 12 -", "iv").
    """
    with_text = [p for p in pages if p.lines]
    need = max(2, math.ceil(0.4 * len(with_text)))
    tops, bottoms = Counter(), Counter()
    for page in with_text:
        top, bottom = _edges(page)
        tops.update({_running_key(ln) for ln in top})
        bottoms.update({_running_key(ln) for ln in bottom})
    kept: list[Line] = []
    for page in pages:
        top, bottom = _edges(page)
        drop = _edge_run(top, tops, need) | _edge_run(bottom, bottoms, need)
        kept.extend(ln for ln in page.lines if id(ln) not in drop)
    return kept


def _edges(page: Page) -> tuple[list[Line], list[Line]]:
    """The lines that may be running text: near the top (from the top down) and near the
    bottom (from the bottom up)."""
    band = EDGE_BAND * (page.top - page.bottom)
    ordered = sorted(page.lines, key=lambda ln: -ln.y)
    top = [ln for ln in ordered[:EDGE_LINES] if ln.y >= page.top - band]
    bottom = [ln for ln in reversed(ordered[-EDGE_LINES:]) if ln.y <= page.bottom + band]
    return top, bottom


def _edge_run(lines: list[Line], counts: Counter, need: int) -> set[int]:
    """The running lines at one edge, from the edge inwards up to the first line of content."""
    drop = set()
    for line in lines:
        if counts[_running_key(line)] >= need or PAGE_NUMBER.match(line.text):
            drop.add(id(line))
        else:
            break
    return drop


def _running_key(line: Line) -> str:
    """The line's text with each number near the page number written relative to it."""

    def relative(m: re.Match) -> str:
        offset = int(m.group()) - line.page
        return f"<p{offset:+d}>" if abs(offset) <= 10 else m.group()

    return re.sub(r"\d{1,4}", relative, line.text.lower()).strip()


# ---------------------------------------------------------------- headings, paragraphs, lists


@dataclass
class _Style:
    body: float  # the body text size
    leading: float  # usual distance between two lines of a paragraph
    plain: bool  # one size and weight throughout: headings must come from numbering alone


def build_outline(lines: list[Line]) -> Outline:
    """Group the lines into headings, paragraphs and list items, in reading order."""
    style = _measure(lines)
    words = _vocabulary(lines)
    blocks = _blocks(lines, style, words)
    _assign_levels(blocks, style)
    outline = Outline()
    for block in blocks:
        if block.kind == "heading":
            outline.heading(block.level, block.text, block.lines[0].page)
        elif block.kind == "item":
            outline.item(block.marker, block.text, block.pages)
        else:
            outline.paragraph(block.text, block.pages)
    return outline


def _measure(lines: list[Line]) -> _Style:
    sizes = Counter()
    for ln in lines:
        sizes[round(ln.size * 2) / 2] += len(ln.text)
    body = sizes.most_common(1)[0][0] if sizes else 10.0
    gaps = [
        a.y - b.y
        for a, b in zip(lines, lines[1:])
        if a.page == b.page and abs(a.size - body) < 0.6 and abs(b.size - body) < 0.6 and 0 < a.y - b.y < 3 * body
    ]
    leading = statistics.median(gaps) if gaps else 1.2 * body
    plain = not any(_styled(ln, body) for ln in lines)
    return _Style(body, leading, plain)


def _styled(line: Line, body: float) -> bool:
    return line.size >= body + 0.9 or line.bold


def _vocabulary(lines: list[Line]) -> set[str]:
    """Every word of the document, lowercased: tells a hyphenated word from a compound."""
    return {w.lower() for ln in lines for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", ln.text)}


def _blocks(lines: list[Line], style: _Style, words: set[str]) -> list[Block]:
    blocks: list[Block] = []
    numbering = _Numbering()
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = _heading_kind(line, style, numbering)
        if kind:
            group = _heading_lines(lines, i, kind, style)
            text = _join([ln.text for ln in group], words)
            if _is_heading(text, kind, _styled(line, style.body)):
                if kind == "numbered":
                    numbering.accept(NUMBERED.match(text).group("num"))
                blocks.append(Block("heading", group, text=text, marker=kind))
                i += len(group)
                continue
        _add_text_line(blocks, line, style, words)
        i += 1
    for block in blocks:
        if block.kind != "heading":
            block.text, block.pages = _join_with_pages(block.lines, words, block.marker)
    return blocks


def _heading_kind(line: Line, style: _Style, numbering: _Numbering) -> str:
    """What makes `line` a candidate heading: "faq", "numbered", "keyword", "styled" or ""."""
    text = line.text
    words = len(text.split())
    # A short line in capitals ("HOOFDSTUK 2 – WERKING") is set off like a heading.
    capitals = text.isupper() and 1 < words <= 12 and all(CAPITAL_WORD.match(w) for w in text.split())
    styled = (_styled(line, style.body) or capitals) and words <= 30
    if BULLET.match(text) and not NUMBERED.match(text):
        return ""
    if FAQ_HEADING.match(text):
        return "faq"
    m = NUMBERED.match(text)
    if m and (styled or style.plain) and numbering.fits(m.group("num")):
        return "numbered"
    k = KEYWORD.match(text)
    if k and k.group("word")[0].isupper() and (styled or (style.plain and len(text.split()) <= 10)):
        return "keyword"
    return "styled" if styled and (text[0].isalnum() or text[0] in "\"'“‘(") else ""


def _heading_lines(lines: list[Line], i: int, kind: str, style: _Style) -> list[Line]:
    """A heading and the lines it wraps onto: same page and type, close below, not a heading
    of their own. A heading set like body text only wraps when it is a question ("Vraag 6:
    Ik werk bij het OCMW. Kan ik ...?"), up to its question mark."""
    first = lines[i]
    loose = style.plain or not _styled(first, style.body)
    group = [first]
    for nxt in lines[i + 1 : i + 4]:
        last = group[-1]
        if nxt.page != last.page or not 0 < last.y - nxt.y <= 1.9 * max(last.size, nxt.size):
            break
        if FAQ_HEADING.match(nxt.text) or NUMBERED.match(nxt.text) or KEYWORD.match(nxt.text):
            break
        ended = last.text.rstrip().endswith("?") if kind == "faq" else last.text.rstrip().endswith(("?", ":", "."))
        if ended or (loose and kind != "faq"):
            break
        if not loose and (abs(nxt.size - last.size) > 0.5 or nxt.bold != last.bold):
            break
        group.append(nxt)
    if loose and not group[-1].text.rstrip().endswith("?"):
        return [first]
    return group


def _is_heading(text: str, kind: str, styled: bool) -> bool:
    """A candidate stays a heading when it reads like one: short, and not a sentence
    (a set-off number may end on an abbreviation: "4.4 ... de Strategie T.E.R.")."""
    n = len(text.split())
    if sum(c.isalpha() for c in text) < 2:  # a bare number, a symbol: never a heading
        return False
    if kind == "faq":
        return n <= 60
    if text.endswith("?"):
        return n <= 40
    if n > 25:
        return False
    if text.endswith(".") and (ABBREVIATION_END.search(text) or (styled and kind in ("numbered", "keyword"))):
        return True
    return not SENTENCE_END.search(text)


class _Numbering:
    """The last section number seen; a plain PDF's numbered line is a heading only when its
    number can follow it (2.3 may follow 2.2, 2.2.4, or precede 2.3.1; "1." in a list under
    2.3 cannot)."""

    def __init__(self):
        self.last: tuple[int, ...] | None = None

    def fits(self, number: str) -> bool:
        n = tuple(int(p) for p in number.split("."))
        if self.last is None:
            return n[-1] <= 1 or len(n) == 1
        last = self.last
        if n == last + (1,):
            return True
        return any(n == last[:k] + (last[k] + 1,) for k in range(len(last)))

    def accept(self, number: str) -> None:
        self.last = tuple(int(p) for p in number.split("."))


def _add_text_line(blocks: list[Block], line: Line, style: _Style, words: set[str]) -> None:
    """Continue the open paragraph or list item with `line`, or open a new one."""
    bullet, ordered = BULLET.match(line.text), ORDERED.match(line.text)
    if bullet or ordered:
        m = bullet or ordered
        marker = "-" if bullet else m.group("marker")
        blocks.append(
            Block(
                "item",
                [Line(m.group("rest"), line.page, line.x, line.y, line.end, line.size, line.bold)],
                marker=marker,
            )
        )
        return
    last = blocks[-1] if blocks else None
    if last is not None and last.kind == "item" and line.page == last.lines[-1].page and line.x < last.lines[0].x - 2:
        last = None  # back at the margin after a list: a new paragraph
    if last is not None and last.kind != "heading" and _continues(last.lines[-1], line, style):
        last.lines.append(line)
    else:
        blocks.append(Block("paragraph", [line]))


def _continues(prev: Line, line: Line, style: _Style) -> bool:
    """Does `line` continue the paragraph that `prev` ends? On the same page: when it
    follows at the usual line distance; on the next page: when `prev` ended mid-sentence."""
    if line.page != prev.page:
        return line.page == prev.page + 1 and not re.search(r"[.!?:]$", prev.text)
    gap = prev.y - line.y
    return 0 < gap <= 1.3 * style.leading and abs(line.size - prev.size) < 1.0


def _join(texts: list[str], words: set[str]) -> str:
    return _join_with_pages([Line(t, 0, 0, 0, 0, 0, False) for t in texts], words)[0]


def _join_with_pages(lines: list[Line], words: set[str], marker: str = "") -> tuple[str, list[tuple[int, int]]]:
    """The lines as one paragraph, hyphenation at line ends undone, and (offset, page)
    where each of its pages starts."""
    text, pages = "", []
    for line in lines:
        piece = line.text
        if text:
            text, piece = _glue(text, piece, words)
        if not pages or pages[-1][1] != line.page:
            pages.append((len(text), line.page))
        text += piece
    return text.removesuffix("\u00ad"), pages


def _glue(left: str, right: str, words: set[str]) -> tuple[str, str]:
    """Join two lines. A word hyphenated at the line end is mended ("verwer-" + "king" →
    "verwerking"); the hyphen stays when the document writes the word with it elsewhere,
    after an abbreviation ("OCMW-personeel"), between two equal vowels ("zee-egel") and
    before a capital or digit ("LIVC-" + "R"). Everything else gets a space."""
    if left.endswith("\u00ad"):
        return left[:-1], right
    m = re.search(r"([^\W\d_]+)-$", left)
    if not m:
        return left, " " + right
    head, tail = m.group(1), re.match(r"[^\W\d_]+", right)
    if not tail or not right[0].islower():
        return left, right
    hyphenated = f"{head}-{tail.group(0)}".lower()
    vowels = head[-1].lower() in "aeiou" and head[-1].lower() == right[0]
    if hyphenated in words or head.isupper() or vowels:
        return left, right
    return left[:-1], right


def _assign_levels(blocks: list[Block], style: _Style) -> None:
    """Heading levels: from the numbering ("2.3" is level 3, "Hoofdstuk 5" level 2), else from
    the type: a style that numbered headings use gets their level; a larger one sits above
    them, a smaller one below; the one largest heading on the first page is the title."""
    headings = [b for b in blocks if b.kind == "heading"]
    known: dict[tuple[float, bool], int] = {}
    structural = 1
    for b in headings:
        key = _style_key(b.lines[0])
        if b.marker == "numbered":
            b.level = NUMBERED.match(b.text).group("num").count(".") + 2
        elif b.marker == "keyword":
            word = KEYWORD.match(b.text).group("word").lower()
            b.level = KEYWORD_LEVELS.get(word, structural + 1)
            if word in KEYWORD_LEVELS:
                structural = b.level
        else:
            continue
        known.setdefault(key, b.level)
    title = _title_block(headings, style)
    if title is not None:
        title.level = 1
    for b in headings:
        if b.level:
            continue
        key = _style_key(b.lines[0])
        b.level = known.get(key) or _level_by_size(key, known, headings)


def _title_block(headings: list[Block], style: _Style) -> Block | None:
    """The title: the first heading, on the first page it has text, in a size no other heading has."""
    if not headings:
        return None
    first = headings[0]
    sizes = Counter(_style_key(b.lines[0]) for b in headings)
    biggest = max(b.lines[0].size for b in headings)
    if (
        first.lines[0].page <= 2
        and first.lines[0].size >= biggest - 0.1
        and sizes[_style_key(first.lines[0])] == 1
        and first.lines[0].size > style.body + 0.9
        and first.marker not in ("numbered", "faq")
    ):
        return first
    return None


def _level_by_size(key: tuple[float, bool], known: dict[tuple[float, bool], int], headings: list[Block]) -> int:
    size, bold = key
    above = [lvl for (s, b), lvl in known.items() if s > size + 0.4 or (abs(s - size) <= 0.4 and b and not bold)]
    if above:
        return min(max(above) + 1, 6)
    below = [lvl for (s, b), lvl in known.items() if s < size - 0.4]
    if below:
        return max(min(below) - 1, 2)
    sizes = sorted({k for k in (_style_key(b.lines[0]) for b in headings)}, reverse=True)
    return min(2 + sizes.index(key), 6)


def _style_key(line: Line) -> tuple[float, bool]:
    return round(line.size * 2) / 2, line.bold
