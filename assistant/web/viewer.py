"""The document viewer: a corpus document as clean HTML under ``/documenten``.

Each heading carries the same anchor as the passages cut from it (``Passage.anchor``), so a
source link (``assistant.web.urls.document_url``) lands on its section; a PDF is served as it
is. Only documents of the corpus are served, looked up by exact file name: no path from a
request ever reaches the file system. The pages load nothing: styles inline
(``static/viewer.css``), no scripts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, HTMLResponse
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..core.chunking import split_sentences
from ..core.documents import Document, DocumentError, corpus_files, load_corpus, slugify
from ..core.messages import (
    VIEWER_BACK,
    VIEWER_DOCUMENTS,
    VIEWER_NOT_FOUND_HEADING,
    VIEWER_NOT_FOUND_TEXT,
    VIEWER_PDF_OPEN,
    VIEWER_PDF_QUOTE,
)
from ..core.messages import VIEWER_NOT_FOUND_TITLE as NOT_FOUND_TITLE
from ..core.settings import Settings
from .static import read_text
from .urls import DOCUMENTS_PATH, MAX_QUOTE_CHARS, QUOTE_FRAGMENT, document_url, home_url

# The viewer's pages load nothing: no scripts, no outside fonts, styles inline. Stricter
# than the chat's policy; SecurityHeaders keeps a route's own policy and adds the framing rule.
VIEWER_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
CSS = read_text("viewer.css")


def viewer_router(settings: Settings) -> APIRouter:
    """``/documenten`` (the list) and ``/documenten/{name}`` (one document, or a PDF)."""
    router = APIRouter(include_in_schema=False)
    library = Library(settings.corpus_dir)
    home = home_url(settings)

    @router.get(DOCUMENTS_PATH, response_class=HTMLResponse)
    @router.get(DOCUMENTS_PATH + "/", response_class=HTMLResponse)
    def document_list() -> HTMLResponse:
        items = "".join(
            f'<li><a href="{html.escape(document_url(settings, d.name))}">{html.escape(d.title)}</a></li>'
            for d in library.documents()
        )
        body = f'<h1>{VIEWER_DOCUMENTS}</h1><ul class="doclist">{items}</ul>'
        return _page(VIEWER_DOCUMENTS, body, home)

    @router.get(DOCUMENTS_PATH + "/{name}", response_class=HTMLResponse)
    def document_page(
        name: str,
        sectie: str = Query("", max_length=500),
        citaat: str = Query("", max_length=MAX_QUOTE_CHARS + 100),
        pagina: int = Query(1, ge=1, le=100_000),
    ) -> HTMLResponse:
        if name.lower().endswith(".pdf"):
            if citaat.strip():
                return pdf_quote_page(library, settings, name, citaat, pagina, home)
            return pdf_response(library, name, home)
        document = library.get(name)
        if document is None:
            return _not_found(home)
        return _page(
            document.title,
            render_document(document.text, anchor_map(document), sectie, citaat),
            home,
            where=document.title.split(":", 1)[0],
        )

    return router


def pdf_response(library: Library, name: str, home: str):
    """The PDF file itself, shown inline, when `name` is exactly a PDF of the corpus."""
    path = library.file(name)
    if path is None:
        return _not_found(home)
    return FileResponse(path, media_type="application/pdf", filename=name, content_disposition_type="inline")


def pdf_quote_page(library: Library, settings: Settings, name: str, quoted: str, page: int, home: str):
    """A page with the quoted sentences above the PDF, framed at `page`. Only sentences found
    in the PDF's own text are shown: text from the link alone never reaches the page."""
    document = library.get(name)
    if document is None:
        return _not_found(home)
    found = _sentences_in(document.text, quoted)
    quote_html = "".join(f"<p><mark>{html.escape(s)}</mark></p>" for s in found)
    src = html.escape(f"{document_url(settings, name)}#page={page}")
    body = (
        f"<h1>{html.escape(document.title)}</h1>"
        f'<p class="pdf-page">{VIEWER_PDF_QUOTE.format(page=page)}</p>'
        + (f'<blockquote class="pdf-quote" id="{QUOTE_FRAGMENT}">{quote_html}</blockquote>' if found else "")
        + f'<iframe class="pdf" title="{html.escape(document.title)}" src="{src}"></iframe>'
        f'<p><a href="{src}">{VIEWER_PDF_OPEN}</a></p>'
    )
    response = _page(document.title, body, home, where=document.title.split(":", 1)[0])
    response.headers["Content-Security-Policy"] = VIEWER_CSP.replace(
        "default-src 'none';", "default-src 'none'; frame-src 'self';"
    )
    return response


def _sentences_in(text: str, quoted: str) -> list[str]:
    """The quote's sentences (plain) that the document's text holds, in the quote's order."""
    plain = _plain(text)
    return [s for s in quote_sentences(quoted) if s in plain]


@dataclass
class Library:
    """The corpus documents that may be shown, re-read on each request (the folder is
    small), so the viewer always matches the files the index was built from."""

    folder: Path

    def documents(self) -> list[Document]:
        try:
            return load_corpus(self.folder)[0]
        except DocumentError:
            return []

    def get(self, name: str) -> Document | None:
        return next((d for d in self.documents() if d.name == name), None)

    def file(self, name: str) -> Path | None:
        """The corpus file called exactly `name` (found by listing the folder, never by
        joining a path from the request), or None."""
        try:
            return next((p for p in corpus_files(self.folder)[0] if p.name == name), None)
        except DocumentError:
            return None


def anchor_map(document: Document) -> dict[int, str]:
    """Character offset of each section's heading line -> its anchor."""
    return {s.start: s.anchor for s in document.sections}


def render_document(text: str, anchors: dict[int, str], section: str = "", quoted: str = "") -> str:
    """Markdown to HTML (raw HTML in the source is escaped, not passed through); each
    heading gets the anchor of the section it starts, or a unique slug of its text. Given a
    section's anchor and a quote from it, the quoted sentences of that section are marked
    (``<mark>``, the first with id "citaat", where the link lands) and its heading too."""
    return _render(text, tuple(sorted(anchors.items())), section, quoted)


@lru_cache(maxsize=64)
def _render(text: str, anchors: tuple[tuple[int, str], ...], section: str = "", quoted: str = "") -> str:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
    tokens = _parse_with_anchors(md, text, anchors)
    if section:
        mark_quote(tokens, section, quoted)
    return md.renderer.render(tokens, md.options, {})


def _parse_with_anchors(md: MarkdownIt, text: str, anchors: tuple[tuple[int, str], ...]) -> list:
    tokens = md.parse(text)
    line_starts = [0]
    for line in text.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    by_offset = dict(anchors)
    used = set(by_offset.values())
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or not token.map:
            continue
        anchor = by_offset.get(line_starts[token.map[0]])
        if anchor is None:
            anchor = _unique(slugify(tokens[i + 1].content), used)
        token.attrSet("id", anchor)
        used.add(anchor)
    return tokens


# ---------------------------------------------------------------------------
# Marking the quoted sentences of a section. The quote is only compared with the
# document's own text: it never reaches the page, and the marks are our own tags.

_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_EMPHASIS = re.compile(r"\*\*|__|`|(?<!\w)\*(?!\s)|(?<!\s)\*(?!\w)")
MIN_SENTENCE = 12  # characters: shorter pieces of a quote ("Ja.") would mark too much


def mark_quote(tokens: list, section: str, quoted: str) -> None:
    """Mark, in the section whose heading has id `section`, the sentences of `quoted`."""
    span = _section_span(tokens, section)
    if span is None:
        return
    first, end = span
    tokens[first].attrJoin("class", "cited")
    wanted = quote_sentences(quoted)
    marked = False
    for token in tokens[first:end]:
        if token.type == "inline" and token.children:
            marked = _mark_inline(token, wanted, first_id=not marked) or marked
    if not marked:  # the quote is not (or no longer) there: land on the heading
        _land_on_heading(tokens, first)


def quote_sentences(quoted: str) -> list[str]:
    """The quote's sentences as plain text (list marks, emphasis and spacing taken out)."""
    out = []
    for line in quoted.splitlines():
        for sentence in split_sentences(_LIST_MARK.sub("", line)):
            plain = _plain(sentence)
            if len(plain) >= MIN_SENTENCE:
                out.append(plain)
    return out


def _plain(text: str) -> str:
    return " ".join(_EMPHASIS.sub("", text).split())


def _section_span(tokens: list, section: str) -> tuple[int, int] | None:
    """[heading_open of the section with id `section`, the next heading of its level or higher)."""
    start = next(
        (i for i, t in enumerate(tokens) if t.type == "heading_open" and t.attrGet("id") == section),
        None,
    )
    if start is None:
        return None
    level = tokens[start].tag
    end = next(
        (i for i in range(start + 1, len(tokens)) if tokens[i].type == "heading_open" and tokens[i].tag <= level),
        len(tokens),
    )
    return start, end


def _mark_inline(token, wanted: list[str], first_id: bool) -> bool:
    """Wrap the pieces of `token`'s text that belong to a wanted sentence in <mark>."""
    plain, where = _plain_text(token.children)
    hits: set[tuple[int, int]] = set()  # (child index, character) inside a quoted sentence
    for sentence in wanted:
        at = plain.find(sentence)
        while at >= 0:
            hits.update(where[k] for k in range(at, at + len(sentence)) if where[k] is not None)
            at = plain.find(sentence, at + len(sentence))
    if not hits:
        return False
    children = []
    for ci, child in enumerate(token.children):
        if child.type not in ("text", "code_inline"):
            children.append(child)
            continue
        for piece, inside in _runs(child.content, {pos for c, pos in hits if c == ci}):
            if not inside:
                children.append(_copy(child, piece))
                continue
            opening = f'<mark id="{QUOTE_FRAGMENT}">' if first_id else "<mark>"
            first_id = False
            children.extend([_html(child, opening), _copy(child, piece), _html(child, "</mark>")])
    token.children = children
    return True


def _plain_text(children: list) -> tuple[str, list]:
    """The text of an inline token's children with spacing collapsed, and for each of its
    characters the (child index, position) it came from (None for a line break)."""
    chars: list[str] = []
    where: list = []
    for ci, child in enumerate(children):
        if child.type in ("softbreak", "hardbreak"):
            pieces = [(" ", None)]
        elif child.type in ("text", "code_inline"):
            pieces = [(ch, (ci, pos)) for pos, ch in enumerate(child.content)]
        else:
            continue
        for ch, origin in pieces:
            ch = " " if ch.isspace() else ch
            if ch == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(ch)
            where.append(origin)
    return "".join(chars), where


def _runs(text: str, inside: set[int]):
    """`text` cut into (piece, inside) runs by whether each character is in `inside`."""
    start = 0
    for pos in range(1, len(text) + 1):
        if pos == len(text) or (pos in inside) != (start in inside):
            yield text[start:pos], start in inside
            start = pos


def _copy(token, content: str):
    clone = Token(token.type, token.tag, token.nesting)
    clone.content = content
    clone.markup = token.markup
    return clone


def _html(token, markup: str):
    tag = Token("html_inline", "", 0)
    tag.content = markup
    return tag


def _land_on_heading(tokens: list, at: int) -> None:
    anchor = Token("html_block", "", 0)
    anchor.content = f'<span id="{QUOTE_FRAGMENT}"></span>\n'
    tokens.insert(at, anchor)


def _unique(slug: str, used: set[str]) -> str:
    candidate, n = slug, 1
    while candidate in used:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate


# The words are in the catalogue (assistant.core.messages), the markup here.
NOT_FOUND_BODY = f"<h1>{VIEWER_NOT_FOUND_HEADING}</h1><p>{VIEWER_NOT_FOUND_TEXT}</p>"
BACK_TO_CHAT = VIEWER_BACK


def _not_found(home: str) -> HTMLResponse:
    return _page(NOT_FOUND_TITLE, NOT_FOUND_BODY, home, status=404)


def _page(title: str, body: str, home: str, status: int = 200, where: str = "") -> HTMLResponse:
    page = page_html(title, body, home, where=where)
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": VIEWER_CSP})


def page_html(title: str, body: str, home: str, where: str = "", style: str = "") -> str:
    """A page of the document viewer's kind (the viewer, /beheer): the bar back to the chat
    at `home`, optionally naming `where` one is, then `body`; `style` adds to viewer.css."""
    return f"""<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · LIVC-assistent</title>
<style>
{CSS}{style}</style>
</head>
<body>
<header class="bar"><a href="{html.escape(home)}">{BACK_TO_CHAT}</a>{
        f'<span class="where">{html.escape(where)}</span>' if where else ""
    }</header>
<main class="doc">
{body}
</main>
</body>
</html>"""
