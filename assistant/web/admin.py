"""The maintainer page ``/beheer``: what an operator needs without a terminal, read-only.

- the indexed documents with version, date, pages and passages (as ``livc documents``);
- the feedback users gave, newest first, with its CSV export (``/beheer/feedback.csv``, as
  ``livc feedback --csv``);
- the last ``livc eval`` report (``eval/reports/latest/report.md``) with its plots, served
  from that folder by exact file name (``/beheer/rapport/<name>``).

Who may see it: behind the same sign-on as the rest (``assistant.web.auth``); with ``auth =
"none"`` (nobody signs on) only a client on this machine (127.0.0.1 or ::1). Nothing here
changes the index or the store. Like the document viewer, its pages run no script and every
text in them (feedback notes, questions, report lines) is escaped.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from markdown_it import MarkdownIt

from ..core.index import document_status
from ..core.messages import (
    ADMIN_DOCUMENTS,
    ADMIN_DOCUMENTS_COLUMNS,
    ADMIN_EVAL,
    ADMIN_EVAL_NONE,
    ADMIN_FEEDBACK,
    ADMIN_FEEDBACK_COLUMNS,
    ADMIN_FEEDBACK_CSV,
    ADMIN_FEEDBACK_NONE,
    ADMIN_INDEX,
    ADMIN_LOCAL_ONLY,
    ADMIN_NO_INDEX,
    ADMIN_STATES,
    ADMIN_TITLE,
)
from ..core.settings import Settings
from .feedback import FeedbackStore, feedback_path
from .urls import app_path, home_url
from .viewer import page_html

ADMIN_PATH = "/beheer"
REPORT_DIR = Path("eval/reports/latest")  # where `livc eval` writes by default (relative to the working folder)
PLOT_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}
FEEDBACK_SHOWN = 200  # newest records on the page; the CSV holds all
ADMIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"
LOCAL = {"127.0.0.1", "::1"}
# Beside viewer.css, which every page of the viewer's kind has (viewer.page_html).
STYLE = """
.doc { max-width: 80rem; } td { font-size: .9rem; } figure img { max-width: 100%; }
.report h1 { font-size: 1.3rem; }
"""


def admin_router(settings: Settings, report_dir: Path = REPORT_DIR) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    store = FeedbackStore(feedback_path(settings))

    @router.get(ADMIN_PATH, response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        if not allowed(request, settings):
            return _page(ADMIN_TITLE, f"<h1>{ADMIN_TITLE}</h1><p>{ADMIN_LOCAL_ONLY}</p>", settings, status=403)
        body = "".join(
            [
                f"<h1>{ADMIN_TITLE}</h1>",
                documents_html(settings),
                feedback_html(store, settings),
                report_html(report_dir, settings),
            ]
        )
        return _page(ADMIN_TITLE, body, settings)

    @router.get(ADMIN_PATH + "/feedback.csv")
    def feedback_csv(request: Request) -> Response:
        if not allowed(request, settings):
            return Response(ADMIN_LOCAL_ONLY, status_code=403, media_type="text/plain; charset=utf-8")
        out = io.StringIO()
        store.export_csv(out)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="livc-feedback.csv"', "Cache-Control": "no-store"},
        )

    @router.get(ADMIN_PATH + "/rapport/{name}")
    def plot(name: str, request: Request) -> Response:
        if not allowed(request, settings):
            return Response(ADMIN_LOCAL_ONLY, status_code=403, media_type="text/plain; charset=utf-8")
        path = report_file(report_dir, name)
        if path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type=PLOT_TYPES[path.suffix.lower()])

    return router


def allowed(request: Request, settings: Settings) -> bool:
    """Signed in (the sign-on in front already refused everyone else), or, with nobody signing
    on, a client on this machine."""
    if settings.auth != "none":
        return True
    return (request.scope.get("client") or ("",))[0] in LOCAL


def report_file(folder: Path, name: str) -> Path | None:
    """The plot of the report folder called exactly `name` (found by listing the folder)."""
    try:
        return next(
            (p for p in folder.iterdir() if p.name == name and p.suffix.lower() in PLOT_TYPES and p.is_file()),
            None,
        )
    except OSError:
        return None


def _table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th scope='col'>{c}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def documents_html(settings: Settings) -> str:
    status = document_status(settings)
    if status is None:
        return f"<h2>{ADMIN_DOCUMENTS}</h2><p>{ADMIN_NO_INDEX}</p>"
    rows = [
        [
            d["name"],
            d["title"],
            d.get("format", ""),
            d.get("pages") or "",
            d.get("passages", 0),
            d.get("date") or "",
            d["sha256"][:12],
            ADMIN_STATES.get(d["state"], d["state"]),
        ]
        for d in status["documents"]
    ]
    rows += [
        [
            d["name"],
            "",
            "",
            "",
            "",
            "",
            "",
            ADMIN_STATES.get(d["state"], d["state"]) + (f": {d['reason']}" if d.get("reason") else ""),
        ]
        for d in status["not_indexed"]
    ]
    intro = ADMIN_INDEX.format(
        generation=html.escape(str(status["generation"])),
        built=html.escape(str(status["built_at"])),
        passages=status["passages"],
    )
    return f"<h2>{ADMIN_DOCUMENTS}</h2><p>{intro}</p>{_table(ADMIN_DOCUMENTS_COLUMNS, rows)}"


def feedback_html(store: FeedbackStore, settings: Settings) -> str:
    records = store.list(limit=FEEDBACK_SHOWN)
    link = f'<p><a href="{html.escape(app_path(settings, ADMIN_PATH + "/feedback.csv"))}">{ADMIN_FEEDBACK_CSV}</a></p>'
    if not records:
        return f"<h2>{ADMIN_FEEDBACK}</h2><p>{ADMIN_FEEDBACK_NONE}</p>"
    rows = [
        [
            f.created_at,
            "+1" if f.rating > 0 else "-1",
            f.reason or "",
            f.note or "",
            f.question or "",
            " ".join(f.answer.split())[:300],
            "; ".join(f"[{c.get('n')}] {c.get('doc')} — {c.get('section')}" for c in f.citations),
        ]
        for f in records
    ]
    return f"<h2>{ADMIN_FEEDBACK}</h2>{link}{_table(ADMIN_FEEDBACK_COLUMNS, rows)}"


def report_html(folder: Path, settings: Settings) -> str:
    report = folder / "report.md"
    try:
        text = report.read_text(encoding="utf-8")
    except OSError:
        return f"<h2>{ADMIN_EVAL}</h2><p>{ADMIN_EVAL_NONE}</p>"
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    rendered = md.render(text)  # raw HTML in the report is escaped, not passed through
    plots = "".join(
        f'<figure><img src="{html.escape(app_path(settings, f"{ADMIN_PATH}/rapport/{p.name}"))}" '
        f'alt="{html.escape(p.stem)}"><figcaption>{html.escape(p.name)}</figcaption></figure>'
        for p in sorted(folder.iterdir())
        if p.suffix.lower() in PLOT_TYPES and p.is_file()
    )
    return f'<h2>{ADMIN_EVAL}</h2><div class="report">{rendered}</div>{plots}'


def _page(title: str, body: str, settings: Settings, status: int = 200) -> HTMLResponse:
    page = page_html(title, body, home_url(settings), style=STYLE)
    return HTMLResponse(
        page, status_code=status, headers={"Content-Security-Policy": ADMIN_CSP, "Cache-Control": "no-store"}
    )
