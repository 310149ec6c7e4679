"""The security headers of every response, and the script nonce of the chat's page.

``SecurityHeaders`` wraps the whole app: every response, error pages included, carries a
Content-Security-Policy (with the framing rule of ``assistant.web.embed``), ``nosniff``
and a Referrer-Policy. A page with inline scripts of its own (the chat, see
``assistant.web.chatpage``) gets a nonce per request: the middleware that writes the
scripts puts it in the request's scope under NONCE_KEY, and the policy names it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

from ..core.messages import SERVER_ERROR
from ..core.settings import Settings
from .auth import route_path
from .embed import frame_ancestors

log = logging.getLogger("livc.web")

# The chat (Gradio 6) as measured in Chromium (tests/web/test_security.py): its module script,
# fonts, styles and the server-sent answers all come from this origin. Its page has inline
# scripts (Gradio's config and start-up code, ours from assistant.web.chatpage), so the page's
# scripts carry a nonce made per request (NONCE_KEY); no 'unsafe-inline' and no 'unsafe-eval'
# for scripts. Styles need 'unsafe-inline': Gradio writes its theme into <style> elements at
# run time and sets style attributes in its markup.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'"
)
# Everything else that is not a page (JSON, scripts, styles, fonts, images) runs nothing if
# opened as a document. A PDF keeps only the framing rule: the browser's PDF viewer must run.
QUIET_CSP = "default-src 'none'"
NONCE_KEY = "livc.csp_nonce"  # scope key: the nonce of the page's own inline scripts (assistant.web.chatpage)
REFERRER_POLICY = "no-referrer"  # no link or request from any page tells where it came from


def new_nonce() -> str:
    """A fresh script nonce for one page."""
    return secrets.token_urlsafe(18)


def with_nonce(page: bytes, nonce: str) -> bytes:
    """Every <script> tag of `page` with a nonce attribute."""
    return re.sub(rb"<script(?=[\s>])", b'<script nonce="' + nonce.encode("ascii") + b'"', page)


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


async def server_error(scope, send) -> None:
    """A 500 in Dutch: JSON for the API, plain text otherwise."""
    if route_path(scope).startswith("/api/"):
        data, kind = json.dumps({"code": "internal_error", "message": SERVER_ERROR}).encode(), b"application/json"
    else:
        data, kind = SERVER_ERROR.encode("utf-8"), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
