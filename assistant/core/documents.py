"""Documents: load source files into `Section`s along their heading tree.

One loader per file type, registered in ``LOADERS`` by suffix; each returns the
document's sections in reading order. Markdown is parsed here; PDF, DOCX and HTML
live in ``assistant.core.loaders`` and write their text as Markdown first (headings,
list items, table rows), so every format shares one section parser, one anchor
scheme and one document viewer. A paged source also records where each page
starts, and every section knows the pages its text runs over.

Every document has a date: the one it states itself (a Markdown front matter block
``---`` / ``date: 2021-07`` / ``---``, or ``datum:``; PDF metadata; Word core
properties; an HTML ``<meta name="date">``), else the file's modification time. It is
kept as ISO text, "2021-07-01" or, for a month only, "2021-07" (`parse_date`), and
shown in Dutch as "1 juli 2021" or "juli 2021" (`display_date`).
"""

from __future__ import annotations

import bisect
import hashlib
import importlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from .errors import DocumentError

FAQ_HEADING = re.compile(r"^Vraag\s+\d+\s*[:.]\s*(?P<question>.+)$", re.IGNORECASE)
# A question heading in a Q&A document without "Vraag N:" ("3. Mag de politie ...?", "V: ...?").
_QUESTION_LEAD = re.compile(r"^(?:(?:vraag|v|q)\s*\d*\s*[:.)]\s*|\d{1,3}\s*[.):]\s*)", re.IGNORECASE)
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})")
# A YAML-style block at the very top of a Markdown file, closed by "---" or "...".
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?P<block>.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FIELD = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)[ \t]*:[ \t]*(?P<value>.*?)[ \t]*$")
DATE_FIELDS = ("date", "datum")
MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
_ISO_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?(?:$|[T ])")
_DUTCH_DATE = re.compile(
    r"^(?:(?P<day>\d{1,2})\s+)?(?P<month>" + "|".join(MONTHS) + r")\s+(?P<year>\d{4})$", re.IGNORECASE
)


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
    page: int | None = None  # only for paged sources (PDF): the page the heading is on
    start: int = 0  # character offsets of the section (heading included) in the source text
    end: int = 0
    # Paged sources: (offset in `text`, page) where the body's pages start, the first at 0.
    page_breaks: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page that character `offset` of `text` is on (None for unpaged sources)."""
        if not self.page_breaks:
            return self.page
        i = bisect.bisect_right([o for o, _ in self.page_breaks], offset) - 1
        return self.page_breaks[max(i, 0)][1]


@dataclass(frozen=True)
class Document:
    """A loaded source file."""

    name: str  # file name
    title: str
    sha256: str  # hash of the file's bytes
    text: str  # the full source text (for PDF, DOCX and HTML: as Markdown)
    sections: tuple[Section, ...]
    format: str = "markdown"  # "markdown", "pdf", "docx" or "html"
    pages: int = 0  # paged sources only
    # The version's date, ISO ("2021-07-01", or "2021-07" for a month): what the document
    # states (front matter, metadata), else the file's modification time.
    date: str = ""


def slugify(text: str) -> str:
    """GitHub-style heading anchor: lowercase, accents kept as plain letters, dashes for spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s_]+", "-", text).strip("-") or "sectie"


def load_markdown(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
    """A Markdown file as a document; `progress` is accepted for the loader signature."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fields, text = split_front_matter(text)
    sections = parse_markdown(path.name, text)
    if not sections:
        raise DocumentError(f"{path.name}: the file is empty")
    return document_of(path, raw, text, sections, date=stated_date(fields) or file_date(path))


def document_of(path: Path, raw: bytes, text: str, sections, **fields) -> Document:
    """The Document of a file: titled by its first section, versioned by the hash of its bytes."""
    return Document(path.name, sections[0].title, hashlib.sha256(raw).hexdigest(), text, tuple(sections), **fields)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """A front matter block at the top of Markdown text, as its fields (keys lowercased,
    quotes taken off) and the text after it. Only simple ``key: value`` lines are read;
    indented or list lines are passed over. Text that does not open with such a block
    (a thematic break ``---`` followed by prose, say) comes back whole, with no fields."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group("block").split("\n"):
        if not line.strip() or line.lstrip().startswith("#") or line[:1] in (" ", "\t", "-"):
            continue
        field = _FIELD.match(line)
        if field is None:
            return {}, text
        fields[field.group("key").lower()] = field.group("value").strip("'\"")
    return (fields, text[match.end() :]) if fields else ({}, text)


def stated_date(fields: dict[str, str]) -> str:
    """The date a front matter block states (``date:`` or ``datum:``), ISO; "" for none."""
    return next((d for d in (parse_date(fields.get(k, "")) for k in DATE_FIELDS) if d), "")


def parse_date(text: str) -> str:
    """A date as a document states it, as ISO text: "2021-07-15", "2021-07-15T10:00:00Z"
    and "15 juli 2021" give "2021-07-15"; "2021-07" and "juli 2021" give "2021-07";
    "2021" gives "2021". Anything else, or an impossible date, gives ""."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = match.group("year"), match.group("month"), match.group("day")
    elif match := _DUTCH_DATE.match(text):
        year, day = match.group("year"), match.group("day")
        month = str(MONTHS.index(match.group("month").lower()) + 1)
    else:
        return ""
    try:
        datetime(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return ""
    return "-".join([year] + ([f"{int(month):02d}"] if month else []) + ([f"{int(day):02d}"] if day else []))


def display_date(iso: str) -> str:
    """An ISO date (`parse_date`) in Dutch: "1 juli 2021", "juli 2021" or "2021". Text
    that is not such a date is returned as it is."""
    match = _ISO_DATE.match(iso or "")
    if not match or parse_date(iso) != iso:
        return iso or ""
    year, month, day = match.group("year"), match.group("month"), match.group("day")
    if not month:
        return year
    words = [MONTHS[int(month) - 1], year]
    return " ".join(([str(int(day))] if day else []) + words)


def parse_markdown(doc: str, text: str, title: str | None = None) -> list[Section]:
    """Split Markdown text into sections. Text before the first heading, or a file without
    headings, becomes a section headed by the document title (`title`, else the first
    level-1 heading, else the file name's stem). In a Q&A document every question
    heading is one FAQ entry (see `mark_questions`). A front matter block at the top
    (`split_front_matter`) is no part of any section; offsets stay those of `text`."""
    begin = len(text) - len(split_front_matter(text)[1])
    headings = [h for h in _find_headings(text) if h[0] >= begin]
    first = next((h for _, _, lvl, h in headings if lvl == 1), None)
    title = title or first or Path(doc).stem
    bounds = headings + [(len(text), len(text), 0, "")]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []  # (level, heading) of open ancestors, title excluded
    anchors: dict[str, int] = {}

    preamble = text[begin : bounds[0][0]]
    if preamble.strip():
        sections.append(_section(doc, title, title, (), 1, preamble, begin, bounds[0][0], anchors, 0))

    for i, (start, body_start, level, heading) in enumerate(headings):
        end = bounds[i + 1][0]
        body = text[body_start:end]
        if level == 1 and heading in (title, first) and i == 0:
            path: tuple[str, ...] = ()
        else:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            path = tuple(h for _, h in stack)
        if not body.strip() and not path:
            continue
        sections.append(_section(doc, title, heading, path, level, body, start, end, anchors, len(sections)))
    return mark_questions([s for s in sections if s.text.strip() or s.kind == "faq"])


def mark_questions(sections: list[Section]) -> list[Section]:
    """Q&A in any format: where sections under one parent are mostly headed by questions
    (at least two, and half of them), each question heading is a FAQ entry, numbered
    "Vraag N:" or not ("3. Mag de politie ...?", a bold question in a Word file). A
    guide with the odd question as a heading stays a guide."""
    groups: dict[tuple[str, ...], list[Section]] = {}
    for s in sections:
        groups.setdefault(s.path[:-1], []).append(s)
    marked: set[int] = set()
    for group in groups.values():
        questions = [s for s in group if s.kind == "guide" and s.heading.rstrip().endswith("?")]
        faq = sum(1 for s in group if s.kind == "faq")
        if len(questions) >= 2 and (len(questions) + faq) * 2 >= len(group):
            marked.update(id(s) for s in questions)
    return [
        replace(s, kind="faq", question=_QUESTION_LEAD.sub("", s.heading).strip()) if id(s) in marked else s
        for s in sections
    ]


def assign_pages(sections: list[Section], text: str, marks: list[tuple[int, int]]) -> list[Section]:
    """Give each section of a paged source its page (the heading's) and the page breaks
    inside its body. `marks` are (offset in `text`, page) where each page's text starts."""
    if not marks:
        return sections
    offsets = [o for o, _ in marks]

    def page_at(offset: int) -> int:
        return marks[max(bisect.bisect_right(offsets, offset) - 1, 0)][1]

    out = []
    for s in sections:
        body = text.find(s.text, s.start) if s.text else s.start
        body = s.start if body < 0 else body
        breaks = [(0, page_at(body))] + [(o - body, p) for o, p in marks if body < o < body + len(s.text)]
        out.append(replace(s, page=page_at(s.start), page_breaks=tuple(breaks)))
    return out


# What a document title or heading may cost: it is embedded with every passage under it
# (and with each of their sentence windows) and returned with every citation, so a
# 160 kB title would be embedded hundreds of times and fill every search reply. Longer
# ones are cut at a word and end in "…"; the document viewer still shows the source whole.
MAX_HEADING_CHARS = 200


def short_heading(text: str, limit: int = MAX_HEADING_CHARS) -> str:
    """`text` if it fits in `limit` characters, else its first words up to that, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _section(doc, title, heading, path, level, body, start, end, anchors, order) -> Section:
    title, heading, path = short_heading(title), short_heading(heading), tuple(short_heading(h) for h in path)
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


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None


def file_date(path: Path) -> str:
    """The file's modification date (ISO), for a source without a date of its own."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC).date().isoformat()
    except OSError:
        return ""


def _lazy(module: str, name: str) -> Callable[..., Document]:
    """A loader imported on first use, so reading Markdown never imports pypdf or python-docx."""

    def load(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
        return getattr(importlib.import_module(module, __package__), name)(path, progress)

    load.__name__ = name
    return load


# Every loader takes (path, progress=None) and returns a Document or raises DocumentError;
# `progress(done, total)` reports pages as they are read.
LOADERS: dict[str, Callable[..., Document]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".pdf": _lazy(".loaders.pdf", "load_pdf"),
    ".docx": _lazy(".loaders.docx", "load_docx"),
    ".html": _lazy(".loaders.html", "load_html"),
    ".htm": _lazy(".loaders.html", "load_html"),
}

# What to say about formats that come up but cannot be read.
UNSUPPORTED_HINTS = {
    ".doc": "old Word format: save it as .docx or PDF",
    ".odt": "OpenDocument text: save it as .docx or PDF",
    ".rtf": "save it as .docx or PDF",
    ".pages": "save it as .docx or PDF",
    ".txt": "plain text: save it as Markdown (.md)",
}

# Files in the corpus folder that are documentation about the corpus, not corpus.
IGNORED_NAMES = {"SOURCES.md", "README.md"}


def corpus_files(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files of `folder` (not recursive) that a loader can read, in name order, and
    the others as (name, reason). Hidden files and the corpus's own notes are left out.
    A link to a file outside the folder is skipped: neither the index nor the document
    viewer ever reads anything but the corpus. Each real file is read once: a link (or a
    hard link) to a file that is listed already is skipped, and the file itself is kept
    rather than a link to it."""
    if not folder.is_dir():
        raise DocumentError(f"corpus folder not found: {folder}")
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    root = folder.resolve()
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in IGNORED_NAMES or not path.is_file():
            continue
        if not _inside(path, root):
            skipped.append((path.name, "a link to a file outside the corpus folder"))
            continue
        suffix = path.suffix.lower()
        if suffix in LOADERS:
            files.append(path)
        else:
            hint = UNSUPPORTED_HINTS.get(suffix)
            skipped.append((path.name, f"unsupported file type {suffix or '(none)'}" + (f" ({hint})" if hint else "")))
    files, copies = _one_per_file(files)
    return files, sorted(skipped + copies)


def _one_per_file(files: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """`files` with every real file once (the file itself before any link to it, else the
    first link by name), and the others as (name, reason)."""
    by_file: dict[tuple[int, int], list[Path]] = {}
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        by_file.setdefault((st.st_dev, st.st_ino), []).append(path)
    kept, copies = [], []
    for same in by_file.values():
        first = min(same, key=lambda p: (p.is_symlink(), p.name))
        kept.append(first)
        copies += [(p.name, f"the same file as {first.name}, which is indexed") for p in same if p is not first]
    return sorted(kept), copies


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, links followed, is a file within the folder `root`."""
    try:
        return path.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes (the document's identity in the index)."""
    return hashlib.sha256(read_bytes(path)).hexdigest()


_CACHE: OrderedDict[tuple[str, str], Document | DocumentError] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 16


def load_document(path: Path, progress: Callable[[int, int], None] | None = None) -> Document:
    """Load one file with the loader for its suffix. Parsed documents (and the reasons a
    file could not be read) are kept by (name, hash), so the viewer and repeated loads do
    not parse an unchanged PDF again."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise DocumentError(f"{path.name}: unsupported file type {path.suffix or '(none)'}")
    raw = read_bytes(path)
    if not raw.strip():
        raise DocumentError(f"{path.name}: the file is empty")
    key = (path.name, hashlib.sha256(raw).hexdigest())
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            cached = _CACHE[key]
            if isinstance(cached, DocumentError):
                raise DocumentError(str(cached))
            return cached
    try:
        document = loader(path, progress)
    except Exception as exc:  # noqa: BLE001 - a parser's surprise is one file's problem, never the corpus's
        error = (
            exc
            if isinstance(exc, DocumentError)
            else DocumentError(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})".splitlines()[0])
        )
        with _CACHE_LOCK:
            _CACHE[key] = error
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        raise DocumentError(str(error)) from None
    with _CACHE_LOCK:
        _CACHE[(path.name, document.sha256)] = document
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return document


def load_corpus(
    folder: Path, progress: Callable[[str, int, int], None] | None = None
) -> tuple[list[Document], list[tuple[str, str]]]:
    """Load every supported file in `folder` (not recursive).

    Returns the documents and the skipped files as (name, reason) pairs; a broken
    file is skipped with its reason and never stops the others. `progress(name, done,
    total)` reports the pages of each document as they are read.
    """
    files, skipped = corpus_files(folder)
    documents: list[Document] = []
    for path in files:
        try:
            report = (lambda done, total, name=path.name: progress(name, done, total)) if progress else None
            documents.append(load_document(path, report))
        except DocumentError as exc:
            skipped.append((path.name, str(exc).removeprefix(f"{path.name}: ")))
    skipped.sort()
    return documents, skipped
