"""Putting the assistant on intranet pages: the embed page, the widget script, and the
two policies that decide which other sites may use them.

- ``/embed``: a compact chat (no header; fits a 360x560 frame) for an ``<iframe>``.
- ``/widget.js``: one ``<script>`` tag adds a floating "Vraag het draaiboek" button and
  panel (Shadow DOM; see ``static/widget.js``). The /embed page is that same script,
  filling the page, so there is one chat client to keep right.
- Framing: every response's Content-Security-Policy ends in ``frame-ancestors 'self'``
  plus the origins in ``frame_origins`` (``frame_ancestors()``, put in place by
  ``assistant.web.app.SecurityHeaders``); browsers refuse to show the app inside a page of
  any other origin.
- CORS on ``/api/``: only ``allowed_origins`` may call the API from a browser (with the
  user's credentials, so the intranet's sign-on goes along); everyone else is refused.
  Every other route (the chat and Gradio's routes included) answers only its own origin:
  ``assistant.web.guard`` refuses the rest and takes Gradio's own CORS headers off.

Both files are static and load nothing else, so nothing comes from a CDN.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.middleware.cors import CORSMiddleware

from ..core.settings import Settings
from .auth import route_path

STATIC = resources.files("assistant.web") / "static"
EMBED_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'"
)


def embed_router() -> APIRouter:
    """``/embed`` and ``/widget.js``, read from the package's static folder."""
    router = APIRouter(include_in_schema=False)
    page = (STATIC / "embed.html").read_text(encoding="utf-8")
    script = (STATIC / "widget.js").read_text(encoding="utf-8")

    @router.get("/embed")
    def embed() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": EMBED_CSP, "Cache-Control": "no-cache"})

    @router.get("/widget.js")
    def widget() -> Response:
        return Response(
            script, media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "public, max-age=300"}
        )

    return router


def frame_ancestors(settings: Settings) -> str:
    """The CSP directive naming who may frame the app: this origin and the configured ones."""
    return " ".join(["frame-ancestors", "'self'", *settings.frame_origins])


class ApiCors:
    """CORS for ``/api/`` only, from ``allowed_origins`` only (Starlette's CORSMiddleware).
    Other paths are same-origin only; ``assistant.web.guard`` enforces that for them."""

    def __init__(self, app, settings: Settings):
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(settings.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Authorization", "Accept"],
            expose_headers=["Retry-After"],
            max_age=600,
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and route_path(scope).startswith("/api/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
