"""The web floor's static files: the chat page's stylesheet and script (``chat.css``,
``chat.js``, inlined by ``assistant.web.chat`` and ``assistant.web.chatpage``), the document
viewer's stylesheet (``viewer.css``), the widget (``widget.js``) and its embed page
(``embed.html``). They are read once, at import, from the installed package."""

from __future__ import annotations

from importlib import resources


def read_text(name: str) -> str:
    """The file `name` of this folder, as text."""
    return (resources.files(__name__) / name).read_text(encoding="utf-8")
