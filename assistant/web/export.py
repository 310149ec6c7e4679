"""Export of a conversation with its sources, as Markdown or as a Word file.

The page sends the records it keeps (``assistant.web.keep``) to ``POST /gesprek/export``;
the file is built from them alone, never from logs or anything kept on the server, and
nothing of it is stored. The route is one of the app's own: the same sign-on and the
same-origin rule as every route outside the API (``assistant.web.guard``), a body of at
most EXPORT_MAX_BYTES and the per-user rate limit.

Texts from the records are data: in Markdown a "<" that could open a tag is written as an
entity, in Word every text is a run of plain text. Links to the sources are rebuilt from
each source's document and section (``assistant.web.urls``), never taken from the record.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime

from docx import Document as WordDocument
from docx.enum.dml import MSO_THEME_COLOR_INDEX
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ..core.messages import (
    ABSTAIN_TEXT,
    ABSTAIN_TITLE,
    EXPORT_ABOUT,
    EXPORT_DATE,
    EXPORT_FAILED,
    EXPORT_NEAREST,
    EXPORT_QUESTION,
    EXPORT_TITLE,
    EXPORT_TOO_LARGE,
    FAQ_ANSWER_FROM,
    LOW_CONFIDENCE_LABEL,
    PAGE,
    PAGES,
    RATE_LIMITED,
    SOURCE,
    SOURCES,
)
from ..core.settings import Settings
from .keep import KeptAnswer, KeptPassage, read_records
from .ratelimit import RateLimiter, request_key
from .urls import absolute, document_url, request_origin

EXPORT_PATH = "/gesprek/export"
EXPORT_MAX_BYTES = 4_000_000  # MAX_TURNS answers with their passages fit in well under this
FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}


def export_router(settings: Settings) -> APIRouter:
    """``POST /gesprek/export`` ``{"format": "md" | "docx", "turns": [record, ...]}``: the file."""
    router = APIRouter(include_in_schema=False)
    limiter = RateLimiter(settings.rate_limit, settings.rate_window)

    @router.post(EXPORT_PATH)
    async def export(request: Request) -> Response:
        verdict = limiter.hit(request_key(request))
        if not verdict.allowed:
            message = RATE_LIMITED.format(seconds=verdict.retry_after)
            return _refusal(429, "rate_limited", message, {"Retry-After": str(verdict.retry_after)})
        body = await _read_capped(request, EXPORT_MAX_BYTES)
        if body is None:
            return _refusal(413, "too_large", EXPORT_TOO_LARGE)
        try:
            data = json.loads(body)
        except ValueError:
            return _refusal(400, "invalid_json", EXPORT_FAILED)
        kind = data.get("format") if isinstance(data, dict) else None
        if kind not in FORMATS:
            return _refusal(422, "invalid_request", EXPORT_FAILED)
        turns = read_records(data.get("turns"))
        if not turns:
            return _refusal(422, "invalid_request", EXPORT_FAILED)
        now = datetime.now()
        origin = request_origin(request)
        content = (
            markdown_export(turns, settings, origin, now) if kind == "md" else word_export(turns, settings, origin, now)
        )
        media, ext = FORMATS[kind]
        name = f"livc-gesprek-{now:%Y%m%d-%H%M}.{ext}"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    return router


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` bytes (read no further)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refusal(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


# ---------------------------------------------------------------------------
# What an exported answer says, in both formats


def source_line(c: KeptPassage) -> str:
    """ "Draaiboek LIVC-R: … › 7. Dataverwerking › 7.5 Bewaring, p. 4" """
    path = " › ".join(c.section_path) or c.section
    page = ""
    if c.page:
        page = ", " + (
            PAGES.format(page=c.page, end=c.page_end)
            if c.page_end and c.page_end != c.page
            else PAGE.format(page=c.page)
        )
    return f"{c.title} › {path}{page}"


def source_link(c: KeptPassage, settings: Settings, origin: str | None) -> str:
    """The section in the document viewer, absolute as the client reached the app."""
    return absolute(origin, document_url(settings, c.document, c.anchor or None, c.page))


def answer_heads(turn: KeptAnswer) -> list[str]:
    """The lines above an answer's text: its notice, language note and how sure it is."""
    heads = [t for t in (turn.notice, turn.language_note) if t]
    if turn.abstained:
        heads.append(ABSTAIN_TITLE)
    elif turn.confidence == "low":
        heads.append(LOW_CONFIDENCE_LABEL)
    if turn.mode == "faq" and turn.citations and not turn.abstained:
        heads.append(f"{FAQ_ANSWER_FROM} · {turn.citations[0].section}")
    return heads


def _stamp(now: datetime) -> str:
    return EXPORT_DATE.format(date=f"{now:%d-%m-%Y}", time=f"{now:%H:%M}")


# ---------------------------------------------------------------------------
# Markdown

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _md_text(text: str) -> str:
    """A text as Markdown that shows it as typed: no "<" that could open HTML."""
    return _TAG_START.sub("&lt;", text)


def _md_line(text: str) -> str:
    """One-line text (a question, a title) as Markdown: also no heading, list or quote mark."""
    return re.sub(r"^([#>*+\-]|\d+[.)])", r"\\\1", _md_text(" ".join(text.split())))


def markdown_export(turns: list[KeptAnswer], settings: Settings, origin: str | None, now: datetime) -> bytes:
    out = [f"# {EXPORT_TITLE}", "", f"{_stamp(now)} {EXPORT_ABOUT}", ""]
    for k, turn in enumerate(turns, 1):
        out += [f"## {EXPORT_QUESTION.format(n=k)}: {_md_line(turn.question)}", ""]
        out += [f"*{_md_line(head)}*" for head in answer_heads(turn)]
        out.append("")
        if turn.abstained:
            out += [ABSTAIN_TEXT, ""]
            if turn.suggestions:
                out += [f"{EXPORT_NEAREST}", ""]
                out += [f"- {_md_line(source_line(c))}: <{source_link(c, settings, origin)}>" for c in turn.suggestions]
                out.append("")
            continue
        out += [_md_text(turn.text.strip()), ""]
        if turn.citations:
            out += [f"**{SOURCES if len(turn.citations) != 1 else SOURCE}**", ""]
            for c in turn.citations:
                out.append(f"[{c.n}] {_md_line(source_line(c))}  ")
                out.append(f"<{source_link(c, settings, origin)}>")
                if c.quote.strip():
                    out += [""] + [f"> {_md_text(line)}" for line in c.quote.strip().splitlines() if line.strip()]
                out.append("")
    return ("\n".join(out).rstrip() + "\n").encode("utf-8")


# ---------------------------------------------------------------------------
# Word (python-docx)

_ITEM = re.compile(r"^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$")
_BOLD = re.compile(r"(\*\*[^*]+\*\*)")


def word_export(turns: list[KeptAnswer], settings: Settings, origin: str | None, now: datetime) -> bytes:
    doc = WordDocument()
    doc.core_properties.title = EXPORT_TITLE
    doc.core_properties.language = "nl-BE"
    _dutch(doc)
    doc.add_heading(EXPORT_TITLE, level=1)
    doc.add_paragraph(f"{_stamp(now)} {EXPORT_ABOUT}")
    for k, turn in enumerate(turns, 1):
        doc.add_heading(f"{EXPORT_QUESTION.format(n=k)}: {' '.join(turn.question.split())}", level=2)
        for head in answer_heads(turn):
            doc.add_paragraph().add_run(head).italic = True
        if turn.abstained:
            doc.add_paragraph(ABSTAIN_TEXT)
            if turn.suggestions:
                doc.add_paragraph(EXPORT_NEAREST)
                for c in turn.suggestions:
                    item = doc.add_paragraph(style="List Bullet")
                    item.add_run(source_line(c) + ": ")
                    _hyperlink(item, source_link(c, settings, origin))
            continue
        _word_answer(doc, turn.text)
        if turn.citations:
            doc.add_heading(SOURCES if len(turn.citations) != 1 else SOURCE, level=3)
            for c in turn.citations:
                line = doc.add_paragraph()
                line.add_run(f"[{c.n}] ").bold = True
                line.add_run(source_line(c) + " ")
                _hyperlink(line, source_link(c, settings, origin))
                if c.quote.strip():
                    doc.add_paragraph(" ".join(c.quote.split()), style="Quote")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _word_answer(doc, text: str) -> None:
    """An answer's Markdown as Word paragraphs: list items as lists, **bold** as bold, [n] as text."""
    for block in re.split(r"\n\s*\n", text.strip()):
        para = None
        for line in block.split("\n"):
            line = re.sub(r"^\s*>\s?", "", line)
            if not line.strip():
                continue
            item = _ITEM.match(line)
            if item:
                para = doc.add_paragraph(style="List Bullet" if item.group(1) else "List Number")
                _runs(para, item.group(3))
                para = None
                continue
            if para is None:
                para = doc.add_paragraph()
            else:
                para.add_run(" ")
            _runs(para, line.strip())


def _runs(paragraph, text: str) -> None:
    for part in _BOLD.split(text):
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            paragraph.add_run(part[2:-2]).bold = True
        elif part:
            paragraph.add_run(part)


def _dutch(doc) -> None:
    """Spelling and screen readers: the document's language is Dutch (Belgium)."""
    rpr = doc.styles["Normal"].element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "nl-BE")
    rpr.append(lang)


def _hyperlink(paragraph, url: str) -> None:
    """A clickable link (python-docx has no API for one): a w:hyperlink run with the URL as text."""
    part = paragraph.part
    rel = part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = paragraph.add_run(url)
    run.font.underline = True
    run.font.color.theme_color = MSO_THEME_COLOR_INDEX.HYPERLINK
    link.append(run._r)
    paragraph._p.append(link)
