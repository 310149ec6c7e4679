"""The chat page's own script, and the middleware that puts it in the page with a nonce.

The page runs under a Content-Security-Policy without 'unsafe-eval' or 'unsafe-inline'
scripts (``assistant.web.headers``): our script (``static/chat.js``, PAGE_SCRIPT) goes into
the page's <head> with the request's nonce, like Gradio's own inline scripts.
"""

from __future__ import annotations

import json

from ..core.messages import (
    ABSTAIN_TEXT,
    ABSTAIN_TITLE,
    CHAT_PAGE_TEXT,
    CHAT_TRANSLATIONS,
    FAQ_ANSWER_FROM,
    LOW_CONFIDENCE_LABEL,
)
from .headers import NONCE_KEY, new_nonce, with_nonce
from .static import read_text

# Our script (static/chat.js) in the chat page, before Gradio's own (it runs at the top of <head>):
# - Gradio takes its interface language from navigator.language when the page starts;
#   this says "nl-BE" first, so the interface is Dutch in a browser set to English too.
# - A marker is a link "#bron-<turn>-<n>"; clicking it (or pressing Enter on it) opens
#   the folded block holding that card, scrolls the card into view and flashes it.
# - The copy button of a message copies the answer as plain text with its numbered sources
#   (Gradio copies the message's HTML source; ours is written to the clipboard just after).
# - The conversation is kept in the tab's sessionStorage and restored after a reload; the
#   export buttons send it to POST gesprek/export (assistant.web.export).
# - After a thumbs down the reasons appear (Gradio adds #livc-reason to the page); on a
#   small screen they would sit below the fold, so they are scrolled into view.
# Its words come from the catalogue, as JSON ("<" escaped, so no text can end the script).
PAGE_TEXT = {
    **CHAT_PAGE_TEXT,
    "abstainTitle": ABSTAIN_TITLE,
    "abstainText": ABSTAIN_TEXT,
    "faq": FAQ_ANSWER_FROM,
    "low": LOW_CONFIDENCE_LABEL,
    "copyButton": CHAT_TRANSLATIONS["chatbot.copy_message"],
}
_TEXT_JSON = json.dumps(PAGE_TEXT, ensure_ascii=False).replace("<", "\\u003c")
PAGE_SCRIPT = (
    b"<script>window.LIVC_TEXT = "
    + _TEXT_JSON.encode("utf-8")
    + b";\n"
    + read_text("chat.js").encode("utf-8")
    + b"</script>"
)


class ChatPage:
    """ASGI middleware for the chat page itself (GET of `paths`, not its assets or API):
    puts PAGE_SCRIPT at the top of its <head> and gives every <script> of the page the
    request's nonce, which it hands to ``assistant.web.headers.SecurityHeaders`` (scope key
    NONCE_KEY) for the page's Content-Security-Policy.

    Every script of this page is Gradio's template or ours: the config Gradio writes into
    it is JSON with "<" escaped, so no text can open a script of its own there. The page
    is asked uncompressed so the HTML can be edited.
    """

    def __init__(self, app, paths: set[str]):
        self.app = app
        self.paths = paths

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        nonce = new_nonce()
        scope = {
            **scope,
            NONCE_KEY: nonce,
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"],
        }
        start: dict = {}
        chunks: list[bytes] = []

        async def edit(message):
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", [])]
            kinds = {k.lower(): v for k, v in headers}
            if b"text/html" in kinds.get(b"content-type", b"") and b"content-encoding" not in kinds:
                body = with_nonce(body.replace(b"<head>", b"<head>" + PAGE_SCRIPT, 1), nonce)
                headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, edit)


# Gradio's Source Sans Pro SemiBold file holds only a few dozen glyphs, so bold text
