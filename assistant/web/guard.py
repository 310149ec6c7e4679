"""The chat's own (Gradio) routes under the same rules as the API: one ASGI middleware,
inside the access check (``assistant.web.auth``), so it sees the signed-in user and the
client address as the trusted proxy forwarded them.

- **Origins.** A request that carries an ``Origin`` other than the app's own is refused
  (403) on every route outside ``/api/``; there the API's CORS (``allowed_origins``,
  ``assistant.web.embed.ApiCors``) decides. Whatever ``Access-Control-*`` header Gradio adds
  to a response (it echoes any origin, with credentials, when the Host is not localhost)
  is taken off, so no other site can read a chat route or ask through it.
- **Only the routes the chat uses.** Of Gradio's routes only the chat page, its files and
  the few API routes its page calls are served (GRADIO_ROUTES); everything else (upload,
  deep links, ``file=`` fetches of outside URLs, streams, call/, MCP, monitoring, ...) is a
  404 before Gradio sees it. ``/?deep_link=...`` is refused too.
- **Size.** A chat request body over CHAT_MAX_BODY bytes is refused (413) while it comes
  in, and a question (any text value in ``data``) longer than the API accepts
  (``api.MAX_BODY_CHARS``) is refused before Gradio keeps anything. Reading any request's
  body stalls for at most BODY_TIMEOUT seconds (408).
- **Rate.** Every question the chat queues (``queue/join``) counts in the same limiter as
  the API (``rate_limit`` per ``rate_window`` per user, or client address); over it: 429
  with ``Retry-After``, and Gradio's page shows the Dutch message.
- **One user's conversation.** Gradio keys a conversation by the ``session_hash`` its page
  makes up. Here that hash is bound to the signed-in user: Gradio sees an HMAC of user and
  hash, so another user who sends the same hash reaches a different, empty session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
from urllib.parse import parse_qsl, urlencode

from starlette.routing import Match, Mount

from ..core.errors import BodyTooLarge
from ..core.messages import GUARD_MESSAGES as MESSAGES
from ..core.messages import RATE_LIMITED
from .auth import USER_KEY, route_path
from .ratelimit import RateLimiter, client_key

CHAT_MAX_BODY = 1_000_000  # bytes: a question plus the conversation the page sends back with it
BODY_TIMEOUT = 30.0  # seconds a request body may take to arrive (the next part of it, that is)

# Gradio's routes that the chat page uses (method, path); every other Gradio path is a 404.
GRADIO_ROUTES = [
    ("GET", r"/"),
    ("GET", r"/config/?"),
    ("GET", r"/theme\.css"),
    ("GET", r"/manifest\.json"),
    ("GET", r"/favicon\.ico"),
    ("GET", r"/robots\.txt"),
    ("GET", r"/assets/[^\x00]+"),
    ("GET", r"/static/[^\x00]+"),
    ("GET", r"/gradio_api/info/?"),
    ("GET", r"/gradio_api/queue/status"),
    ("GET", r"/gradio_api/queue/data"),
    ("GET", r"/gradio_api/heartbeat/[^/]+"),
    ("POST", r"/gradio_api/queue/join"),
    ("POST", r"/gradio_api/run/predict"),
    ("POST", r"/gradio_api/cancel"),
]
_ROUTES = [(method, re.compile(pattern)) for method, pattern in GRADIO_ROUTES]
_HEARTBEAT = re.compile(r"(/gradio_api/heartbeat/)([^/]+)$")


class Guard:
    """ASGI middleware in front of the chat (see the module docstring). `fastapi_app` is
    the app whose own routes (API, viewer, docs, embed, health) pass untouched apart from
    the origin rule; every other path belongs to the mounted Gradio app."""

    def __init__(self, app, fastapi_app, limiter: RateLimiter, max_question_chars: int, secret: bytes | None = None):
        self.app = app
        self.fastapi_app = fastapi_app
        self.limiter = limiter
        self.max_question_chars = max_question_chars
        self.secret = secret or secrets.token_bytes(32)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        api = path.startswith("/api/")
        if not api and foreign_origin(scope):
            await respond(scope, send, 403, "origin")
            return
        if scope["type"] == "websocket":  # the chat uses none; the app's own routes neither
            if not self.ours(path):
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        if _has_body(scope):
            receive = timed(receive)
        if api:
            await self.app(scope, receive, send)
            return
        send = without_cors(send)
        if self.ours(path):
            await self.app(scope, receive, send)
            return
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        if not any(m == method and pattern.fullmatch(path) for m, pattern in _ROUTES) or _deep_link(scope):
            await respond(scope, send, 404, "not_found")
            return
        scope = self.bind_session(scope)
        if scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(scope, receive, CHAT_MAX_BODY)
        except BodyTooLarge:
            await respond(scope, send, 413, "too_large")
            return
        except TimeoutError:
            await respond(scope, send, 408, "timeout")
            return
        try:
            data = json.loads(body)
        except ValueError:
            await respond(scope, send, 400, "invalid_request")
            return
        if not isinstance(data, dict):
            await respond(scope, send, 400, "invalid_request")
            return
        if self.oversized(data):
            await respond(scope, send, 413, "too_large")
            return
        if path.endswith("/queue/join"):  # a question on its way to an answer
            user, address = scope.get(USER_KEY), (scope.get("client") or ("",))[0]
            verdict = self.limiter.hit(client_key(user, address))
            if not verdict.allowed:
                await rate_limited(scope, send, verdict.retry_after)
                return
        if isinstance(data.get("session_hash"), str):
            data["session_hash"] = self.session(scope, data["session_hash"])
        await self.app(scope, replay(json.dumps(data).encode("utf-8"), receive), send)

    def ours(self, path: str) -> bool:
        """Whether `path` is one of the FastAPI app's own routes (not the Gradio mount)."""
        probe = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": [], "query_string": b""}
        for route in self.fastapi_app.router.routes:
            if isinstance(route, Mount):
                continue
            try:
                match, _ = route.matches(probe)
            except Exception:  # noqa: BLE001 - a route that cannot judge the probe is not this path's
                continue
            if match != Match.NONE:
                return True
        return False

    def oversized(self, data: dict) -> bool:
        """A text value in the event's data (the question) longer than the API accepts."""
        values = data.get("data")
        return isinstance(values, list) and any(isinstance(v, str) and len(v) > self.max_question_chars for v in values)

    def session(self, scope, session_hash: str) -> str:
        """The session Gradio sees: the page's hash bound to the signed-in user. Without a
        sign-on (auth none) everyone who reaches the port is the same party: unchanged."""
        user = scope.get(USER_KEY)
        if not user:
            return session_hash
        digest = hmac.new(self.secret, f"{user}\0{session_hash}".encode(), hashlib.sha256).hexdigest()
        return digest[:32]

    def bind_session(self, scope) -> dict:
        """The session hash in the query string and the heartbeat path, bound to the user."""
        if not scope.get(USER_KEY):
            return scope
        scope = dict(scope)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if any(k == "session_hash" for k, _ in query):
            query = [(k, self.session(scope, v) if k == "session_hash" else v) for k, v in query]
            scope["query_string"] = urlencode(query).encode("latin-1")
        m = _HEARTBEAT.search(scope["path"])
        if m:
            scope["path"] = scope["path"][: m.start(2)] + self.session(scope, m.group(2))
            scope["raw_path"] = scope["path"].encode("utf-8")
        return scope


def _deep_link(scope) -> bool:
    return any(k == "deep_link" for k, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1")))


# ---------------------------------------------------------------------------
# Origins


def foreign_origin(scope) -> bool:
    """Whether the request carries an Origin that is not this app's own (host and port
    as the client addressed us; "null" and malformed origins are foreign)."""
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    host = _header(scope, b"host") or ""
    return _host_port(origin, from_origin=True) != _host_port(host, scheme=scope.get("scheme", "http"))


_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _host_port(value: str, from_origin: bool = False, scheme: str = "http") -> tuple[str, str] | None:
    """("host", "port") with the scheme's default port left out, so that
    "https://a.be" and Host "a.be" (behind a TLS proxy) agree; None when malformed."""
    value = value.strip().lower()
    if from_origin:
        m = re.fullmatch(r"(https?)://([^/?#@\s]+)", value)
        if not m:
            return None
        scheme, value = m.groups()
    m = re.fullmatch(r"(\[[0-9a-f:.]+\]|[^:\[\]/\s]+)(?::(\d{1,5}))?", value)
    if not m:
        return None
    host, port = m.group(1), m.group(2) or ""
    if port in _DEFAULT_PORTS.values():
        port = ""
    return host.rstrip("."), port


def without_cors(send):
    """`send` that takes any Access-Control-* header off a response (Gradio's own CORS)."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if not k.lower().startswith(b"access-control-")]
            message = {**message, "headers": headers}
        await send(message)

    return wrapped


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


# ---------------------------------------------------------------------------
# Bodies


def _has_body(scope) -> bool:
    """Whether the request announces a body (a length above 0, or chunks)."""
    length = _header(scope, b"content-length")
    return _header(scope, b"transfer-encoding") is not None or (length is not None and length.strip() not in ("", "0"))


def timed(receive):
    """`receive` that gives up (TimeoutError) when the next part of the request body
    takes longer than BODY_TIMEOUT; once the body is in, it waits as long as needed
    (streamed answers wait on it for the client to go away). No task of its own, so a
    caller that only peeks (Starlette's is_disconnected, in a cancelled scope) still
    gets a message that is already there."""
    done = False

    async def wrapped():
        nonlocal done
        if done:
            return await receive()
        async with asyncio.timeout(BODY_TIMEOUT):
            message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            done = True
        return message

    return wrapped


async def read_body(scope, receive, limit: int) -> bytes:
    """The whole request body, refusing (BodyTooLarge) as soon as it passes `limit` bytes."""
    declared = _header(scope, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise TimeoutError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes, receive):
    """A `receive` that hands the app `body` once, then passes on what the client sends."""
    sent = False

    async def wrapped():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


# ---------------------------------------------------------------------------
# Answers


async def respond(scope, send, status: int, reason: str, headers: list | None = None) -> None:
    """A refusal as JSON: ``detail`` (what Gradio's page shows), ``code`` and ``message``."""
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    message = MESSAGES[reason]
    body = json.dumps({"code": reason, "message": message, "detail": message}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def rate_limited(scope, send, retry_after: int) -> None:
    message = RATE_LIMITED.format(seconds=retry_after)
    body = json.dumps({"code": "rate_limited", "message": message, "detail": message}, ensure_ascii=False).encode(
        "utf-8"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(retry_after).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
