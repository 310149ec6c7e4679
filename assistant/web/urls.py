"""Every URL the web floor hands out, built in one place.

Paths carry the app's root path (behind a proxy the app lives under a prefix that the proxy
strips); ``absolute()`` makes one absolute for a client, as that client reached the app.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urljoin

from ..core.settings import Settings

DOCUMENTS_PATH = "/documenten"  # the document viewer (assistant.web.viewer)
QUOTE_FRAGMENT = "citaat"  # the viewer's id of the first quoted sentence it marks
MAX_QUOTE_CHARS = 2000  # a longer quote goes into the viewer's link cut to this (still marking its first sentences)
API_PREFIX = "/api/v1"  # the REST API (assistant.web.api)


def home_url(settings: Settings) -> str:
    """The chat's page, with the app's root path: "/" or "/livc/"."""
    return settings.root_path.rstrip("/") + "/"


def app_path(settings: Settings, path: str) -> str:
    """An app route (``"/openapi.json"``) with the app's root path in front."""
    return f"{settings.root_path.rstrip('/')}{path}"


def document_url(settings: Settings, doc: str, anchor: str | None = None, page: int | None = None) -> str:
    """The viewer's URL of a document (and section), with the app's root path. A PDF is
    served as it is and opens at `page` (``#page=N``, which browsers' PDF viewers follow)."""
    url = app_path(settings, f"{DOCUMENTS_PATH}/{quote(doc)}")
    if doc.lower().endswith(".pdf"):
        return f"{url}#page={page}" if page else url
    return f"{url}#{quote(anchor)}" if anchor else url


def quote_url(settings: Settings, doc: str, anchor: str, quoted: str, page: int | None = None) -> str:
    """The viewer's URL of a section with the quoted sentences marked (and scrolled to):
    ``/documenten/<doc>?sectie=<anchor>&citaat=<quote>#citaat``. For a PDF, a page with the
    quoted sentences above the PDF opened at its page (``?citaat=<quote>&pagina=N``)."""
    if not quoted.strip():
        return document_url(settings, doc, anchor, page)
    url = app_path(settings, f"{DOCUMENTS_PATH}/{quote(doc)}")
    if doc.lower().endswith(".pdf"):
        return f"{url}?{urlencode({'citaat': quoted[:MAX_QUOTE_CHARS], 'pagina': page or 1})}"
    query = urlencode({"sectie": anchor or "", "citaat": quoted[:MAX_QUOTE_CHARS]})
    return f"{url}?{query}#{QUOTE_FRAGMENT}"


def absolute(base: str | None, path: str) -> str:
    """`path` (with root path) as an absolute URL under `base` ("http://host:port"), or
    `path` itself when there is no base or it cannot be joined."""
    if not base:
        return path
    try:
        return urljoin(base.rstrip("/") + "/", path)
    except ValueError:
        return path


def request_origin(request) -> str | None:
    """ "scheme://host:port" as the client reached us (a Starlette request), or None."""
    try:
        return f"{request.url.scheme}://{request.url.netloc}"
    except ValueError:
        return None
