"""The REST API, version 1, under ``/api/v1``: the same ``Assistant.ask()`` as the chat.

- ``POST /api/v1/ask`` ``{"question": ..., "history": [earlier questions]}``: the answer
  text (Markdown with ``[n]`` markers), ``abstained``, ``mode``, citations (n, document,
  title, section path, page, URL to the section in the document viewer, quoted text),
  suggestions when the guide does not cover the question, timings, a notice,
  ``confidence`` (high, or low: "Mogelijk relevant — controleer de bron"), the question's
  ``language`` and, for an English or French question, a ``language_note``.
- ``GET /api/v1/search?q=...&k=...``: the ranked passages behind an answer, with scores.
- ``GET /api/v1/documents``: what is indexed (title, file, version hash, indexed at).

Errors are JSON ``{"code": <stable English code>, "message": <Dutch sentence>}``; bad
input is a 4xx, never a 500. The OpenAPI description is at ``/openapi.json`` and a
Swagger UI at ``/docs``, served from the files that the ``fastapi-offline`` package ships
(FastAPI's default page loads Swagger from a CDN; this one loads nothing from outside).

Questions are answered in a worker thread through the assistant's one concurrency gate,
shared with the chat: at most ``concurrency`` at a time in the whole process, with at most
``queue_size`` waiting; beyond that the API says "busy" (503) rather than piling up. The
question text is logged only when ``log_questions`` is on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import threading
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..core.assistant import MAX_QUESTION_CHARS, Assistant, clean_question
from ..core.errors import ApiError, PersonalDataError, QuestionError, StoreUnavailable
from ..core.gate import Gate
from ..core.generation import Listener
from ..core.messages import (
    API_BUSY,
    API_FILE_NOT_FOUND,
    API_INVALID_JSON,
    API_METHOD_NOT_ALLOWED,
    API_NOT_FOUND,
    FIELD_HISTORY_ITEM,
    FIELD_NAMES,
    FIELD_UNKNOWN,
    HTTP_CODES,
    HTTP_OTHER,
    PROBLEM_OTHER,
    PROBLEMS,
    REQUEST_INVALID,
    UNAVAILABLE_TEXT,
    VALIDATION,
)
from ..core.settings import Settings
from ..core.types import Answer
from .logs import log_answer
from .ratelimit import RateLimiter, count_request
from .schemas import (
    ERRORS,
    MAX_BODY_CHARS,
    AnswerOut,
    AskRequest,
    DocumentOut,
    DocumentsOut,
    ErrorBody,
    SearchOut,
    answer_out,
    hit_out,
)
from .urls import API_PREFIX, absolute, app_path, document_url, request_origin

log = logging.getLogger("livc.api")

PREFIX = API_PREFIX
BUSY = API_BUSY


# ---------------------------------------------------------------------------
# Errors


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors with Dutch messages for the API; other paths keep FastAPI's defaults."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StoreUnavailable)
    async def store_down(request: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("vector store unavailable: %s", exc)
        return error_response(503, "store_unavailable", UNAVAILABLE_TEXT, {"Retry-After": "30"})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if not _is_api(request):
            return await request_validation_exception_handler(request, exc)
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "invalid_json", API_INVALID_JSON)
        return error_response(422, "invalid_request", dutch_validation_message(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        code, message = HTTP_CODES.get(exc.status_code, HTTP_OTHER)
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))


def _is_api(request: Request) -> bool:
    path = request.scope.get("path", "")
    return path.startswith(PREFIX) or f"{PREFIX}/" in path


def dutch_validation_message(errors: list[dict]) -> str:
    """One Dutch sentence for the first validation error (FastAPI's are English), from the
    catalogue's VALIDATION, FIELD_NAMES and PROBLEMS."""
    if not errors:
        return REQUEST_INVALID
    error = errors[0]
    where = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    name = FIELD_NAMES.get(where[0], FIELD_UNKNOWN.format(field=where[0])) if where else FIELD_NAMES["body"]
    if len(where) > 1 and where[0] == "history":
        name = FIELD_HISTORY_ITEM.format(n=where[1])
    ctx = error.get("ctx") or {}
    problem = PROBLEMS.get(error.get("type", ""), PROBLEM_OTHER)
    problem = problem.format(max_length=ctx.get("max_length"), ge=ctx.get("ge"), le=ctx.get("le"))
    return VALIDATION.format(field=name, problem=problem)


# ---------------------------------------------------------------------------
# Questions


def earlier_questions(history: list[str]) -> list[str]:
    """The history as the assistant takes it: each question cleaned; unusable ones left out
    (they are context, not the question)."""
    out = []
    for item in history:
        try:
            out.append(clean_question(item))
        except QuestionError:
            continue
    return out


# ---------------------------------------------------------------------------
# The routes


class Workers:
    """Questions through the assistant's one gate (``assistant.core.gate``), which the chat's
    answers share: at most ``concurrency`` at once, waiting on the event loop (no thread
    held), the work in a worker thread; with the gate crowded (``queue_size`` waiting too)
    the answer is "busy" at once."""

    def __init__(self, gate: Gate):
        self.gate = gate

    async def run(self, fn, *args):
        if self.gate.crowded():
            raise ApiError(503, "busy", BUSY, {"Retry-After": "30"})
        await self.gate.acquire()
        try:
            return await run_in_threadpool(self.gate.holding(fn), *args)
        finally:
            self.gate.release()


def api_router(assistant: Assistant, settings: Settings, limiter: RateLimiter | None = None) -> APIRouter:
    """The /api/v1 routes over one loaded assistant; `limiter` is shared with the chat's
    questions (``assistant.web.guard``), one budget per user."""
    limiter = limiter or RateLimiter(settings.rate_limit, settings.rate_window)
    workers = Workers(assistant.gate)

    def rate_limited(request: Request) -> None:
        count_request(limiter, request)

    router = APIRouter(prefix=PREFIX, tags=["api"], dependencies=[Depends(rate_limited)], responses=ERRORS)

    @router.post(
        "/ask",
        response_model=AnswerOut,
        summary="Answer a question from the guide, with citations",
        responses={
            200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},  # with "stream": true
            503: {"model": ErrorBody, "description": "busy"},
        },
    )
    async def ask(body: AskRequest, request: Request) -> AnswerOut:
        question = _clean(body.question)
        history = earlier_questions(body.history)
        if body.stream:
            return await stream_answer(assistant, workers, settings, question, history, request_origin(request))
        try:
            answer = await workers.run(assistant.ask, question, history)
        except PersonalDataError as exc:  # privacy_guard "refuse": the message names kinds, never data
            raise ApiError(422, "personal_data", str(exc)) from None
        except QuestionError as exc:
            raise ApiError(422, "invalid_question", str(exc)) from None
        _log_answer(answer, settings)
        return answer_out(answer, settings, request_origin(request))

    @router.get("/search", response_model=SearchOut, summary="The ranked passages for a query, with scores")
    async def search(
        request: Request,
        q: Annotated[str, Query(max_length=MAX_BODY_CHARS, description="the question or search words")],
        k: Annotated[int, Query(ge=1, le=50, description="at most this many results")] = 10,
    ) -> SearchOut:
        query = _clean(q)
        try:  # personal data is masked (or refused) as in /ask, and never echoed back
            shown, hits = await workers.run(assistant.search_masked, query)
        except PersonalDataError as exc:
            raise ApiError(422, "personal_data", str(exc)) from None
        origin = request_origin(request)
        return SearchOut(query=shown, results=[hit_out(i, h, settings, origin) for i, h in enumerate(hits[:k], 1)])

    @router.get("/documents", response_model=DocumentsOut, summary="The documents in the index")
    def documents(request: Request) -> DocumentsOut:
        manifest, origin = assistant.store.manifest, request_origin(request)
        return DocumentsOut(
            built_at=manifest.built_at,
            documents=[
                DocumentOut(
                    file=d["name"],
                    title=d["title"],
                    sha256=d["sha256"],
                    passages=d.get("passages", 0),
                    indexed_at=manifest.built_at,
                    url=absolute(origin, document_url(settings, d["name"])),
                )
                for d in manifest.documents
            ],
        )

    @router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str) -> None:
        if rest.strip("/") in ("ask", "search", "documents"):
            raise ApiError(405, "method_not_allowed", API_METHOD_NOT_ALLOWED)
        raise ApiError(404, "not_found", API_NOT_FOUND)

    return router


# ---------------------------------------------------------------------------
# Streaming: POST /api/v1/ask with "stream": true

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy may hold events back


def sse(event: str, data: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream_answer(
    assistant: Assistant, workers: Workers, settings: Settings, question: str, history: list[str], origin: str | None
) -> StreamingResponse:
    """The answer as server-sent events: each generated sentence as it passes the check
    ("sentence"), then "citations" and the whole "answer"; "discard" first when the answer
    fell back to the extractive one after sentences were sent. Refusals that need no
    answer (busy, personal data with the guard set to refuse) are plain JSON errors, as
    without streaming. A client that goes away stops the stream to the model."""
    if workers.gate.crowded():
        raise ApiError(503, "busy", BUSY, {"Retry-After": "30"})
    try:
        assistant.guard(question)
    except PersonalDataError as exc:
        raise ApiError(422, "personal_data", str(exc)) from None
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()
    listener = Listener(
        on_sentence=lambda text: loop.call_soon_threadsafe(queue.put_nowait, ("sentence", text)), stop=stop
    )

    async def answer() -> None:
        try:
            queue.put_nowait(("answer", await workers.run(assistant.ask, question, history, listener)))
        except ApiError as exc:
            queue.put_nowait(("error", {"code": exc.code, "message": exc.message}))
        except PersonalDataError as exc:
            queue.put_nowait(("error", {"code": "personal_data", "message": str(exc)}))
        except QuestionError as exc:
            queue.put_nowait(("error", {"code": "invalid_question", "message": str(exc)}))
        except StoreUnavailable:
            queue.put_nowait(("error", {"code": "store_unavailable", "message": UNAVAILABLE_TEXT}))
        except Exception:  # the stream has begun: the client gets an error event, the log the trace
            log.exception("answering a streamed question failed")
            queue.put_nowait(("error", {"code": HTTP_OTHER[0], "message": HTTP_OTHER[1]}))

    async def events():
        task = asyncio.create_task(answer())
        sent = 0
        try:
            while True:
                kind, data = await queue.get()
                if kind == "sentence":
                    sent += 1
                    yield sse("sentence", {"n": sent, "text": data})
                    continue
                if kind == "answer":
                    if sent and data.mode != "generative":
                        yield sse("discard", {"sentences": sent})
                    body = answer_out(data, settings, origin).model_dump(mode="json")
                    _log_answer(data, settings)
                    yield sse("citations", body["citations"])
                    yield sse("answer", body)
                else:
                    yield sse("error", data)
                return
        finally:
            stop.set()  # the client left or the answer is done: close the stream to the model
            if not task.done():
                task.add_done_callback(lambda t: t.exception())  # its outcome is no one's any more

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _clean(question: str) -> str:
    try:
        return clean_question(question)
    except QuestionError as exc:
        code = "question_too_long" if len(question) > MAX_QUESTION_CHARS else "invalid_question"
        raise ApiError(422, code, str(exc)) from None


def _log_answer(answer: Answer, settings: Settings) -> None:
    """One structured log line per API answer, the same as the chat's (assistant.web.logs): ids,
    timings and modes; the question text, masked, only if the operator enabled that."""
    log_answer(log, answer, settings, source="api")


# ---------------------------------------------------------------------------
# Swagger UI, served locally


SWAGGER_FILES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon.png": "image/png"}
# Scripts: the bundle from this origin and the page's one inline script by its hash (no
# 'unsafe-inline'); Swagger UI styles its parts inline.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def docs_router(settings: Settings) -> APIRouter:
    """``/docs``: Swagger UI over /openapi.json with its files from the fastapi-offline package."""
    router = APIRouter(include_in_schema=False)
    folder = resources.files("fastapi_offline") / "static"
    page = get_swagger_ui_html(
        openapi_url=app_path(settings, "/openapi.json"),
        title="LIVC-assistent API",
        swagger_js_url=app_path(settings, "/docs/swagger-ui-bundle.js"),
        swagger_css_url=app_path(settings, "/docs/swagger-ui.css"),
        swagger_favicon_url=app_path(settings, "/docs/favicon.png"),
        swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 0},
    ).body
    policy = DOCS_CSP.format(hashes=script_hashes(page.decode("utf-8")))

    @router.get("/docs")
    def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    @router.get("/docs/{name}")
    def asset(name: str) -> Any:
        if name not in SWAGGER_FILES:
            return JSONResponse({"code": "not_found", "message": API_FILE_NOT_FOUND}, status_code=404)
        return FileResponse(
            str(folder / name), media_type=SWAGGER_FILES[name], headers={"Cache-Control": "public, max-age=86400"}
        )

    return router


def script_hashes(page: str) -> str:
    """CSP sources ('sha256-...') for the inline scripts of `page`, so they may run and no other."""
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    return " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode('utf-8')).digest()).decode()}'" for s in scripts
    )
