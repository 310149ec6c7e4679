"""The app factory: ``create_app()`` puts the web floor together; nothing in the package
imports this module (``app.py`` and ``livc serve`` call it, then mount the chat on it).

The FastAPI app holds the document viewer (``assistant.web.viewer``), ``/healthz`` and
``/readyz``, the REST API and its docs (``assistant.web.api``), the embed page and widget
(``assistant.web.embed``); the Gradio chat (``assistant.web.chat``) is mounted on it at "/".
In front of all of it, innermost first: the chat's guard (``assistant.web.guard``: origins,
Gradio's routes, sizes and the rate limit), one access check (``assistant.web.auth``), CORS
for the API, and ``assistant.web.headers.SecurityHeaders``: every response, error pages
included, carries a Content-Security-Policy, ``nosniff`` and a Referrer-Policy.
"""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from ..core.assistant import Assistant
from ..core.index import store_reachable
from ..core.messages import NOT_LOADED, UNAVAILABLE_TEXT
from ..core.settings import Settings
from .admin import admin_router
from .api import api_router, docs_router, install_error_handlers
from .auth import Access, Gate
from .embed import ApiCors, embed_router
from .feedback import feedback_router
from .guard import Guard
from .headers import SecurityHeaders
from .ratelimit import RateLimiter
from .schemas import MAX_BODY_CHARS
from .viewer import viewer_router

API_DESCRIPTION = (
    "The LIVC-assistent answers questions from the LIVC-R draaiboek and its vraag-en-antwoordfiche with "
    "quoted, cited passages. Errors are JSON {code, message}: `code` is stable, `message` is Dutch."
)


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """The FastAPI app with the document viewer, health checks, embed page and widget,
    and (given a loaded `assistant`) the REST API; mount the UI on it next."""
    # Behind a proxy the API lives under root_path: the OpenAPI description says so, so that
    # /docs and generated clients call the right URLs (the proxy strips the prefix).
    prefix = urlparse(settings.root_path).path.rstrip("/")
    app = FastAPI(
        title="LIVC-assistent",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        servers=[{"url": prefix}] if prefix else None,
    )
    install_error_handlers(app)
    app.include_router(viewer_router(settings))
    app.include_router(admin_router(settings))
    _add_health(app, assistant)
    limiter = RateLimiter(settings.rate_limit, settings.rate_window)  # the API's and the chat's questions
    if assistant is not None:
        app.include_router(feedback_router(settings, limiter))  # before the API's catch-all route
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


def _add_health(app: FastAPI, assistant: Assistant | None) -> None:
    # /healthz runs on the event loop: it answers while every worker thread is answering questions.
    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The index is loaded and questions can be answered",
        responses={503: {"description": "not ready"}},
    )
    def ready() -> JSONResponse:
        if assistant is None:
            return JSONResponse({"status": "not_ready", "message": NOT_LOADED}, status_code=503)
        if not store_reachable(assistant.settings):
            return JSONResponse({"status": "store_unavailable", "message": UNAVAILABLE_TEXT}, status_code=503)
        manifest = assistant.store.manifest
        return JSONResponse(
            {
                "status": "ready",
                "passages": manifest.passages,
                "documents": len(manifest.documents),
                "built_at": manifest.built_at,
            }
        )
