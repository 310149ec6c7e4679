"""The web app around the chat: a FastAPI application with the document viewer.

``create_app()`` returns the FastAPI app that ``app.py`` serves; the Gradio chat
(``assistant.web.chat``) is mounted on it at "/". Beside it: the REST API and its docs
(``assistant.web.api``), the embed page and widget (``assistant.web.embed``), ``/healthz`` and
``/readyz``; in front of all of it, the chat's guard (``assistant.web.guard``: origins,
Gradio's routes, sizes and the rate limit), one access check (``assistant.web.auth``), CORS
for the API and ``SecurityHeaders``: every response, error pages included, carries a
Content-Security-Policy (with the framing rule of ``assistant.web.embed``), ``nosniff`` and a
Referrer-Policy.

The document viewer shows a corpus document as clean HTML, each heading carrying the
same anchor as the passages cut from it (``Passage.anchor``), so a source
link lands on its section. Only documents of the corpus are served, looked up by exact
file name: no path from a request ever reaches the file system.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlparse

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from markdown_it import MarkdownIt

from .auth import route_path
from ..core.documents import Document, DocumentError, corpus_files, load_corpus, slugify
from .embed import frame_ancestors
from ..core.settings import Settings

if TYPE_CHECKING:
    from ..core.assistant import Assistant

log = logging.getLogger("livc.web")

DOCUMENTS_PATH = "/documenten"

# The viewer's pages load nothing: no scripts, no outside fonts, styles inline. Stricter
# than the chat's policy; SecurityHeaders keeps a route's own policy and adds the framing rule.
VIEWER_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; "
              "form-action 'none'")

# The chat (Gradio 6) as measured in Chromium (tests/test_security.py): its module script,
# fonts, styles and the server-sent answers all come from this origin. Its page has inline
# scripts (Gradio's config and start-up code, ours from assistant.web.chat), so the page's scripts
# carry a nonce made per request (NONCE_KEY); no 'unsafe-inline' and no 'unsafe-eval' for
# scripts. Styles need 'unsafe-inline': Gradio writes its theme into <style> elements at run
# time and sets style attributes in its markup.
PAGE_CSP = ("default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'")
# Everything else that is not a page (JSON, scripts, styles, fonts, images) runs nothing if
# opened as a document. A PDF keeps only the framing rule: the browser's PDF viewer must run.
QUIET_CSP = "default-src 'none'"
NONCE_KEY = "livc.csp_nonce"  # scope key: the nonce of the page's own inline scripts (assistant.web.chat)
REFERRER_POLICY = "no-referrer"  # no link or request from any page tells where it came from


def create_app(settings: Settings, assistant: "Assistant | None" = None) -> FastAPI:
    """The FastAPI app with the document viewer, health checks, embed page and widget,
    and (given a loaded `assistant`) the REST API; mount the UI on it next."""
    from .api import MAX_BODY_CHARS, api_router, docs_router, install_error_handlers
    from .auth import Access, Gate
    from .embed import ApiCors, embed_router
    from .guard import Guard
    from .ratelimit import RateLimiter

    # Behind a proxy the API lives under root_path: the OpenAPI description says so, so that
    # /docs and generated clients call the right URLs (the proxy strips the prefix).
    prefix = urlparse(settings.root_path).path.rstrip("/")
    app = FastAPI(title="LIVC-assistent", version="1", description=API_DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json", servers=[{"url": prefix}] if prefix else None)
    install_error_handlers(app)
    _add_viewer(app, settings)
    _add_health(app, assistant)
    limiter = RateLimiter(settings.rate_limit, settings.rate_window)  # the API's and the chat's questions
    if assistant is not None:
        app.include_router(api_router(assistant, settings, limiter))
    app.include_router(docs_router(settings))
    app.include_router(embed_router())
    # Innermost first: the chat's guard (origins, Gradio routes, sizes, rate; it needs the
    # user), the access check, then CORS for the API (which answers preflights and marks
    # 401s), then the security headers on every response (401s and errors too).
    app.add_middleware(Guard, fastapi_app=app, limiter=limiter, max_question_chars=MAX_BODY_CHARS)
    app.add_middleware(Access, settings=settings, gate=Gate.from_settings(settings))  # a bad users_file fails here
    app.add_middleware(ApiCors, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)
    return app


API_DESCRIPTION = (
    "The LIVC-assistent answers questions from the LIVC-R draaiboek and its vraag-en-antwoordfiche with "
    "quoted, cited passages. Errors are JSON {code, message}: `code` is stable, `message` is Dutch."
)


def _add_health(app: FastAPI, assistant: "Assistant | None") -> None:
    from ..core.assistant import UNAVAILABLE_TEXT
    from ..core.index import store_reachable

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["health"], summary="The index is loaded and questions can be answered",
             responses={503: {"description": "not ready"}})
    def ready() -> JSONResponse:
        if assistant is None:
            return JSONResponse({"status": "not_ready", "message": "De index is niet geladen."}, status_code=503)
        if not store_reachable(assistant.settings):
            return JSONResponse({"status": "store_unavailable", "message": UNAVAILABLE_TEXT}, status_code=503)
        manifest = assistant.store.manifest
        return JSONResponse({"status": "ready", "passages": manifest.passages, "documents": len(manifest.documents),
                             "built_at": manifest.built_at})


def _add_viewer(app: FastAPI, settings: Settings) -> None:
    library = Library(settings.corpus_dir)
    home = settings.root_path.rstrip("/") + "/"

    @app.get(DOCUMENTS_PATH, response_class=HTMLResponse, include_in_schema=False)
    @app.get(DOCUMENTS_PATH + "/", response_class=HTMLResponse, include_in_schema=False)
    def document_list() -> HTMLResponse:
        items = "".join(
            f'<li><a href="{html.escape(document_url(settings, d.name))}">{html.escape(d.title)}</a></li>'
            for d in library.documents())
        body = f"<h1>Documenten</h1><ul class=\"doclist\">{items}</ul>"
        return _page("Documenten", body, home)

    @app.get(DOCUMENTS_PATH + "/{name}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(name: str) -> HTMLResponse:
        if name.lower().endswith(".pdf"):
            return pdf_response(library, name, home)
        document = library.get(name)
        if document is None:
            return _page("Niet gevonden", "<h1>Document niet gevonden</h1>"
                         "<p>Dit document hoort niet bij de gids van de assistent.</p>", home, status=404)
        return _page(document.title, render_document(document.text, anchor_map(document)), home,
                     where=document.title.split(":", 1)[0])


def document_url(settings: Settings, doc: str, anchor: str | None = None, page: int | None = None) -> str:
    """The viewer's URL of a document (and section), with the app's root path. A PDF is
    served as it is and opens at `page` (``#page=N``, which browsers' PDF viewers follow)."""
    url = f"{settings.root_path.rstrip('/')}{DOCUMENTS_PATH}/{quote(doc)}"
    if doc.lower().endswith(".pdf"):
        return f"{url}#page={page}" if page else url
    return f"{url}#{quote(anchor)}" if anchor else url


def pdf_response(library: "Library", name: str, home: str):
    """The PDF file itself, shown inline, when `name` is exactly a PDF of the corpus."""
    path = library.file(name)
    if path is None:
        return _page("Niet gevonden", "<h1>Document niet gevonden</h1>"
                     "<p>Dit document hoort niet bij de gids van de assistent.</p>", home, status=404)
    return FileResponse(path, media_type="application/pdf", filename=name, content_disposition_type="inline")


class SecurityHeaders:
    """ASGI middleware around the whole app: every HTTP response gets one
    Content-Security-Policy, ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and,
    when only this origin may frame the app, ``X-Frame-Options: SAMEORIGIN``.

    The policy is the route's own when it set one (viewer, embed page, API docs), else
    PAGE_CSP for HTML (with the request's script nonce, when the page has one), no extra
    rule for a PDF, QUIET_CSP for the rest; the framing rule (``frame-ancestors`` from
    ``frame_origins``) replaces whatever the policy said about framing. An exception that
    escapes the app is logged and answered here with a Dutch 500 carrying the same headers
    (Starlette's error middleware, outside this one, would answer without them)."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.framing = frame_ancestors(settings)
        self.same_origin_only = not settings.frame_origins

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def secured(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": self.headers(message.get("headers", []), scope.get(NONCE_KEY))}
            await send(message)

        try:
            await self.app(scope, receive, secured)
        except Exception:
            if started:  # half an answer is out: only closing the connection tells the client
                raise
            log.exception("unhandled error in %s %s", scope.get("method"), route_path(scope))
            await server_error(scope, secured)

    def headers(self, headers: list, nonce: str | None = None) -> list:
        """The response's headers with the security set in place of any it had."""
        ours = {b"content-security-policy", b"x-content-type-options", b"referrer-policy", b"x-frame-options"}
        own = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-security-policy"), None)
        kind = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
        out = [(k, v) for k, v in headers if k.lower() not in ours]
        out.append((b"content-security-policy", self.policy(own, kind, nonce).encode("latin-1")))
        out.append((b"x-content-type-options", b"nosniff"))
        out.append((b"referrer-policy", REFERRER_POLICY.encode()))
        if self.same_origin_only:
            out.append((b"x-frame-options", b"SAMEORIGIN"))
        return out

    def policy(self, own: str | None, kind: str, nonce: str | None) -> str:
        """The route's policy or the default for its content type, with our framing rule."""
        if own is None:
            if kind.startswith("text/html"):
                own = PAGE_CSP.format(nonce=f" 'nonce-{nonce}'" if nonce else "")
            else:
                own = "" if kind.startswith("application/pdf") else QUIET_CSP
        kept = [d.strip() for d in own.split(";") if d.strip() and not d.strip().startswith("frame-ancestors")]
        return "; ".join([*kept, self.framing])


SERVER_ERROR = "Er ging iets mis in de LIVC-assistent. Probeer het later opnieuw."


async def server_error(scope, send) -> None:
    """A 500 in Dutch: JSON for the API, plain text otherwise."""
    if route_path(scope).startswith("/api/"):
        data, kind = json.dumps({"code": "internal_error", "message": SERVER_ERROR}).encode(), b"application/json"
    else:
        data, kind = SERVER_ERROR.encode("utf-8"), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 500,
                "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


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


def _page(title: str, body: str, home: str, status: int = 200, where: str = "") -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · LIVC-assistent</title>
<style>{_CSS}</style>
</head>
<body>
<header class="bar"><a href="{html.escape(home)}">← Terug naar de LIVC-assistent</a>{
    f'<span class="where">{html.escape(where)}</span>' if where else ""}</header>
<main class="doc">
{body}
</main>
</body>
</html>"""
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": VIEWER_CSP})


_CSS = """
:root { color-scheme: light; --accent: #1d4f91; --mark: #fff3b0; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2328; background: #fafafa; }
.bar { position: sticky; top: 0; background: var(--accent); padding: .6rem 1rem; z-index: 1; }
.bar { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .25rem 1rem; }
.bar a { color: #fff; text-decoration: none; font-weight: 600; }
.bar .where { color: #dbe6f5; }
.bar a:focus-visible { outline: 3px solid #ffd24d; outline-offset: 2px; }
.doc { max-width: 46rem; margin: 0 auto; padding: 1rem 1.25rem 4rem; background: #fff; min-height: 100vh; }
h1, h2, h3, h4 { line-height: 1.3; scroll-margin-top: 4rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.35rem; margin-top: 2.2rem; } h3 { font-size: 1.12rem; margin-top: 1.8rem; }
:target { background: var(--mark); outline: 4px solid var(--mark); border-radius: 2px; }
blockquote { margin: 1rem 0; padding: .5rem 1rem; border-left: 4px solid #c8d3e3; background: #f4f7fb; }
table { border-collapse: collapse; width: 100%; display: block; overflow-x: auto; font-size: .95rem; }
th, td { border: 1px solid #d0d7de; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f0f3f6; }
a { color: var(--accent); }
.doclist li { margin: .4rem 0; }
"""
