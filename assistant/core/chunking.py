"""Chunking: turn `Section`s into `Passage`s, the unit that is indexed, retrieved and cited.

A passage is a run of whole sentences (or list items, or table rows) from one section;
it never crosses a section boundary. A Q&A entry is always exactly one passage. Every
sentence is kept verbatim from the source, so a quoted sentence can be found in the
document as it stands. A passage of a paged source (PDF) knows the page its first
sentence is on and the page its last one ends on.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .documents import Section

# Abbreviations after which a period does not end a sentence (lowercased, without the period).
ABBREVIATIONS = {
    "art",
    "artt",
    "sw",
    "bv",
    "bijv",
    "o.a",
    "nr",
    "nrs",
    "vb",
    "m.a.w",
    "d.w.z",
    "i.p.v",
    "t.a.v",
    "m.b.t",
    "e.a",
    "enz",
    "etc",
    "cf",
    "zgn",
    "resp",
    "ca",
    "incl",
    "excl",
    "evt",
    "dhr",
    "mevr",
    "mr",
    "dr",
    "prof",
    "blz",
    "p",
    "pp",
    "hfst",
    "par",
    "al",
    "lid",
    "b.s",
    "kb",
    "k.b",
    "ko",
    "wvs",
    "ger",
    "strafv",
    "sv",
    "bw",
    "b.w",
    "vnl",
    "t.e.m",
    "t/m",
    "jan",
    "feb",
    "febr",
    "mrt",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dec",
    "st",
    "min",
    "max",
    "nl",
    "fr",
    "e.d",
    "o.m",
    "z",
    "zie",
    "vgl",
}

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
# A candidate sentence end: terminal punctuation, optional closing quote/bracket, then space.
_BOUNDARY = re.compile(r"[.!?…][\"'”’)\]]*(?=\s+)")


MAX_TERM_WORDS = 6  # an unnumbered sub-heading this short names the term its section defines


@dataclass
class Passage:
    """A citable piece of a section, with everything a citation needs."""

    id: str  # stable: hash of document, anchor and text
    doc: str
    title: str
    section: str  # the section's own heading
    section_path: list[str]  # headings from the chapter down
    anchor: str
    kind: str  # "guide" or "faq"
    text: str  # shown to the user: verbatim source lines, no heading
    sentences: list[str] = field(default_factory=list)  # the text's sentences, each verbatim
    question: str | None = None  # FAQ entries: the question
    page: int | None = None  # paged sources: the page the passage starts on
    order: int = 0  # position in the corpus, for reading order
    page_end: int | None = None  # paged sources: the page it ends on (= page for one page)
    doc_sha256: str = ""  # the version of the document it was cut from: hash of the file
    doc_date: str = ""  # ... and its date (ISO)

    @property
    def embed_text(self) -> str:
        """The text that is embedded and indexed: the heading path gives context the
        passage text alone lacks ("Wie zit voor?" is answered under "5.2 De burgemeester")."""
        return f"{' › '.join(self.section_path)}\n{self.text}"

    @property
    def terms(self) -> tuple[str, ...]:
        """The term (and its abbreviation) an unnumbered sub-heading of a few words names
        ("Potentieel gewelddadige extremist (PGE)" names both; "6.2 Gedeeld beroepsgeheim in
        het casusoverleg" and "Wat mag gedeeld worden?" name none): its section defines it."""
        heading = self.section.strip()
        if (
            self.kind != "guide"
            or len(self.section_path) < 2
            or len(heading.split()) > MAX_TERM_WORDS
            or re.match(r"^[\dIVX]+\b|.*[?:]$", heading)
        ):
            return ()
        inner = re.findall(r"\(([^)]*)\)", heading)
        return tuple(t for t in (re.sub(r"\s*\([^)]*\)", "", heading).strip(), *inner) if t)

    @property
    def is_preface(self) -> bool:
        """The text under the document's own title, before its first section: it speaks
        about the document (who wrote it, for whom), not about the subject."""
        return self.section == self.title

    def sentence_pair(self, i: int) -> str:
        """Sentence i and the next one: the text of sentence i's window, without its headings."""
        return " ".join(self.sentences[i : i + 2])

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def split_sentences(text: str) -> list[str]:
    """Split a block of text into sentences, each a verbatim substring of `text`.

    Periods after known abbreviations (art., Sw., bv., o.a., nr.), initials, ordinals and
    inside numbers do not end a sentence; a sentence ends only before a capital, digit,
    quote or bracket.
    """
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if not _ends_sentence(text, m.start(), end):
            continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


_NEXT_CHAR = re.compile(r"\s*(\S)")
_LAST_WORD = re.compile(r"(\S+)$")
# The word before a period is read from this many characters: more than any abbreviation,
# and a bounded look keeps splitting linear in the length of a huge section.
_LOOKBACK = 64


def _ends_sentence(text: str, punct: int, end: int) -> bool:
    following = _NEXT_CHAR.match(text, end)
    if not following:
        return True
    nxt = following.group(1)
    if not (nxt.isupper() or nxt.isdigit() or nxt in "\"'“‘([§*"):
        return False
    if text[punct] != ".":
        return True
    word = _LAST_WORD.search(text, max(0, punct - _LOOKBACK), punct)
    if not word:
        return True
    token = word.group(1).lstrip("(\"'“‘").lower()
    if token in ABBREVIATIONS or token.rstrip(".") in ABBREVIATIONS:
        return False
    if len(token) == 1 and token.isalpha():  # an initial: "J. Jambon"
        return False
    if token == "§" or token.endswith("§"):
        return False
    return True


def section_units(text: str) -> list[str]:
    """The citable units of a section body: sentences of paragraphs, whole list items and
    table rows (each verbatim). Table rules and blank lines are dropped."""
    units: list[str] = []
    paragraph: list[str] = []

    def flush():
        if paragraph:
            units.extend(split_sentences(" ".join(line.strip() for line in paragraph)))
            paragraph.clear()

    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or _TABLE_RULE.match(stripped):
            flush()
        elif is_line(stripped):
            flush()
            units.append(stripped)
        else:
            paragraph.append(
                stripped.removeprefix("> ").removeprefix(">").strip() if stripped.startswith(">") else stripped
            )
    flush()
    return [u for u in units if re.search(r"\w", u)]


def chunk_sections(sections: list[Section], chunk_words: int = 160) -> list[Passage]:
    """Group each section's units into passages of about `chunk_words` words.

    A Q&A section is one passage whatever its length. Guide sections are cut only
    between units; the last piece joins its predecessor when it would be tiny, so no
    passage is a lone orphan sentence.
    """
    passages: list[Passage] = []
    for section in sections:
        units = section_units(section.text)
        if not units:
            continue
        pages = unit_pages(section, units)
        groups = [units] if section.kind == "faq" else _group(units, chunk_words)
        done = 0
        for group in groups:
            passage = _passage(section, group, len(passages))
            if section.page is not None:
                passage.page, passage.page_end = pages[done][0], pages[done + len(group) - 1][1]
            done += len(group)
            passages.append(passage)
    return passages


def unit_pages(section: Section, units: list[str]) -> list[tuple[int | None, int | None]]:
    """(first page, last page) of each unit of a paged section: found in the section text
    in order (whitespace-insensitive); a unit that cannot be found takes its predecessor's."""
    if section.page is None:
        return [(None, None)] * len(units)
    flat, index = _flatten(section.text)
    out, cursor, last = [], 0, section.page_at(0)
    for unit in units:
        needle = re.sub(r"\s+", " ", unit).strip()
        at = flat.find(needle, cursor)
        if at < 0:
            out.append((last, last))
            continue
        start, end = index[at], index[at + len(needle) - 1]
        cursor = at + len(needle)
        first, last = section.page_at(start), section.page_at(end)
        out.append((first, last))
    return out


def _flatten(text: str) -> tuple[str, list[int]]:
    """`text` with each whitespace run as one space, and the source offset of each character."""
    chars, index = [], []
    for m in re.finditer(r"\s+|\S+", text):
        if m.group().isspace():
            chars.append(" ")
            index.append(m.start())
        else:
            chars.append(m.group())
            index.extend(range(m.start(), m.end()))
    return "".join(chars), index


def _group(units: list[str], chunk_words: int) -> list[list[str]]:
    groups: list[list[str]] = [[]]
    words = 0
    for unit in units:
        n = len(unit.split())
        if groups[-1] and words + n > chunk_words:
            groups.append([])
            words = 0
        groups[-1].append(unit)
        words += n
    if len(groups) > 1 and sum(len(u.split()) for u in groups[-1]) < chunk_words // 4:
        groups[-2].extend(groups.pop())
    return groups


def _passage(section: Section, units: list[str], order: int) -> Passage:
    text = "\n".join(units) if any(is_line(u) for u in units) else " ".join(units)
    digest = hashlib.sha256(f"{section.doc}\n{section.anchor}\n{text}".encode()).hexdigest()[:16]
    return Passage(
        id=digest,
        doc=section.doc,
        title=section.title,
        section=section.heading,
        section_path=list(section.path),
        anchor=section.anchor,
        kind=section.kind,
        text=text,
        sentences=units,
        question=section.question,
        page=section.page,
        order=order,
    )


def is_line(unit: str) -> bool:
    """A list item ("- ...", "2. ...") or a table row: a line of its own, not running text.
    A bold run-in label ("**De omzendbrief van 2015.** ...") is running text."""
    return is_row(unit) or bool(_LIST_ITEM.match(unit.lstrip()))


def is_row(unit: str) -> bool:
    """A table row ("| 2016 | ... |")."""
    return unit.lstrip().startswith("|")
