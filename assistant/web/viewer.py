"""The document viewer: a corpus document as clean HTML under ``/documenten``.

Each heading carries the same anchor as the passages cut from it (``Passage.anchor``), so a
source link (``assistant.web.urls.document_url``) lands on its section; a PDF is served as it
is. Only documents of the corpus are served, looked up by exact file name: no path from a
request ever reaches the file system. The pages load nothing: styles inline
(``static/viewer.css``), no scripts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse
from markdown_it import MarkdownIt

from ..core.documents import Document, DocumentError, corpus_files, load_corpus, slugify
from ..core.messages import VIEWER_BACK, VIEWER_DOCUMENTS, VIEWER_NOT_FOUND_HEADING, VIEWER_NOT_FOUND_TEXT
from ..core.messages import VIEWER_NOT_FOUND_TITLE as NOT_FOUND_TITLE
from ..core.settings import Settings
from .static import read_text
from .urls import DOCUMENTS_PATH, document_url, home_url

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
    def document_page(name: str) -> HTMLResponse:
        if name.lower().endswith(".pdf"):
            return pdf_response(library, name, home)
        document = library.get(name)
        if document is None:
            return _not_found(home)
        return _page(
            document.title,
            render_document(document.text, anchor_map(document)),
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


def render_document(text: str, anchors: dict[int, str]) -> str:
    """Markdown to HTML (raw HTML in the source is escaped, not passed through); each
    heading gets the anchor of the section it starts, or a unique slug of its text."""
    return _render(text, tuple(sorted(anchors.items())))


@lru_cache(maxsize=16)
def _render(text: str, anchors: tuple[tuple[int, str], ...]) -> str:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
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
    return md.renderer.render(tokens, md.options, {})


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
    page = f"""<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · LIVC-assistent</title>
<style>
{CSS}</style>
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
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": VIEWER_CSP})
