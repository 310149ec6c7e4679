"""Who is asking: one ASGI middleware in front of the whole app (chat, API, embed page,
documents), so no page or route can forget to check.

The operator picks one mode (setting ``auth``):

- ``none``: everyone who reaches the port may ask. The default, meant for 127.0.0.1.
- ``header``: single sign-on at the reverse proxy. The proxy authenticates the user and
  passes the user name in ``auth_header`` (default ``X-Remote-User``). The header is
  honoured only on connections from ``trusted_proxies``; anything else is 401. The app
  sets no cookie, so an embedded chat needs no third-party cookie either.
- ``basic``: HTTP Basic against ``users_file`` (lines ``user:scrypt$n$r$p$salt$hash``).
  A check costs about 60 ms of scrypt, so it never runs on the event loop: at most
  HASH_WORKERS checks run at once in their own threads (HASH_QUEUE more may wait, the
  rest get a 429), an unknown user name is checked against a dummy hash (the reply
  takes as long as for a known one, so names cannot be guessed from timing), and after
  FAILURE_LIMIT failed attempts within FAILURE_WINDOW seconds from one address, or for
  one user name, further attempts get a Dutch 429 with ``Retry-After`` without any
  hashing. A browser that already signed in (a verified pair is remembered) is not
  locked out by someone else guessing its user's password.

In every mode, programs may send ``Authorization: Bearer <token>``; ``api_tokens`` holds
only the tokens' SHA-256 hashes. A token that is sent but unknown is always a 401.

Connections from ``trusted_proxies`` also have their ``X-Forwarded-For``,
``X-Forwarded-Proto`` and ``X-Forwarded-Host`` applied here (so uvicorn runs with
``proxy_headers=False``: the peer address must still be known when the SSO header is
judged). Only when a proxy is configured (``proxy_configured``: ``trusted_proxies`` set
by the operator, or a sign-on mode): in mode ``none`` the default loopback entries alone
are no proxy, so a local client of an app without one cannot pick its own address. The user
and client address end up in ``scope["livc.user"]`` and ``scope["client"]``, where the
rate limiter finds them.

``livc auth token NAME`` makes an API token and its config entry; ``livc auth password USER``
prints a users-file line (both in assistant.ops.cli, with the helpers here).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import math
import secrets
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import AuthError
from ..core.messages import SIGN_IN_MESSAGES as MESSAGES
from ..core.messages import SIGN_IN_TITLE
from ..core.settings import Settings

log = logging.getLogger("livc.auth")

USER_KEY = "livc.user"  # scope key: the authenticated user ("alice", "token:monitoring"), or None
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/widget.js"})  # no data, needed before login
MAX_USER_CHARS = 200

# scrypt cost for users-file passwords: about 50 ms per check, so guessing is slow; a
# verified pair is remembered, so the many asset requests of a page don't pay it again.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
HASH_WORKERS = 2  # password checks running at once, each in its own thread (never on the event loop)
HASH_QUEUE = 32  # checks that may wait for a worker; beyond that a request gets a 429 at once
FAILURE_LIMIT = 10  # failed sign-ins per address, and per user name, within FAILURE_WINDOW seconds
FAILURE_WINDOW = 300.0
MAX_TRACKED = 10_000  # addresses and names whose failures are remembered; idle ones go first
# The Dutch messages (MESSAGES, by reason) and the page's title are in assistant.core.messages.


# ---------------------------------------------------------------------------
# Hashes


def hash_token(token: str) -> str:
    """The hex SHA-256 of an API token: tokens are long random strings, so a fast hash
    is enough; the config never holds the token itself."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "livc_" + secrets.token_urlsafe(32)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A users-file hash: ``scrypt$n$r$p$salt$hash`` (salt and hash base64)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches a ``scrypt$...`` hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=2**27,
        )
    except (ValueError, binascii.Error):
        return False
    return hmac.compare_digest(actual, expected)


def read_users(path: Path) -> dict[str, str]:
    """user -> password hash, from lines ``user:scrypt$...`` (# comments and blank lines skipped)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AuthError(f"cannot read users_file {path}: {exc.strerror or exc}") from None
    users = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, stored = line.partition(":")
        if not sep or not user or not _well_formed(stored):
            raise AuthError(f"{path}:{number}: expected 'user:scrypt$...' (livc auth password USER)")
        users[user] = stored
    if not users:
        raise AuthError(f"users_file {path} holds no users (livc auth password USER makes a line)")
    return users


def _well_formed(stored: str) -> bool:
    """A hash as hash_password writes it: scrypt, three numbers, salt and hash in base64."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:4]):
        return False
    try:
        return bool(base64.b64decode(parts[4], validate=True)) and bool(base64.b64decode(parts[5], validate=True))
    except (ValueError, binascii.Error):
        return False


# ---------------------------------------------------------------------------
# Deciding who asks


@dataclass
class Failures:
    """Failed sign-ins per key (an address, a user name) in a sliding window: `wait(keys)`
    says how long until every key is under the limit again (0: an attempt may be made);
    `add(keys)` records a failure. ``limit`` 0 turns it off."""

    limit: int = FAILURE_LIMIT
    window: float = FAILURE_WINDOW
    clock: object = time.monotonic
    _seen: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, keys: list[str]) -> int:
        if self.limit <= 0:
            return 0
        now, longest = self.clock(), 0.0
        with self._lock:
            for key in keys:
                times = self._seen.get(key)
                while times and times[0] <= now - self.window:
                    times.popleft()
                if times and len(times) >= self.limit:
                    longest = max(longest, times[-self.limit] + self.window - now)
        return max(1, math.ceil(longest)) if longest > 0 else 0

    def add(self, keys: list[str]) -> None:
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            for key in keys:
                times = self._seen.setdefault(key, deque(maxlen=self.limit))
                times.append(now)
            if len(self._seen) > MAX_TRACKED:
                for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
                    del self._seen[key]
                while len(self._seen) > MAX_TRACKED:  # all recent: drop the oldest keys
                    del self._seen[next(iter(self._seen))]


@dataclass
class Gate:
    """The access rules of one app: mode, trusted proxies, users, token hashes."""

    mode: str
    header: str
    proxies: list
    tokens: dict[str, str]  # sha256 hex -> token name
    users: dict[str, str] = field(default_factory=dict)
    failures: Failures = field(default_factory=Failures)
    _verified: dict[str, str] = field(default_factory=dict)  # hash of "user:password" -> user
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _dummy: str = ""  # a hash of a random password, checked for unknown user names
    _pool: ThreadPoolExecutor | None = None
    _pending: int = 0  # password checks running or waiting

    @classmethod
    def from_settings(cls, settings: Settings) -> Gate:
        tokens = {}
        for entry in settings.api_tokens:
            name, _, digest = entry.partition(":")
            tokens[digest] = name
        users = read_users(Path(settings.users_file)) if settings.auth == "basic" else {}
        proxies = (
            [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
            if proxy_configured(settings)
            else []
        )
        gate = cls(settings.auth, settings.auth_header.lower(), proxies, tokens, users)
        if settings.auth == "basic":
            gate._dummy = _dummy_like(next(iter(users.values())))
            gate._pool = ThreadPoolExecutor(HASH_WORKERS, thread_name_prefix="livc-password")
        return gate

    def trusts(self, address: str | None) -> bool:
        """Whether a connection from `address` comes from a configured proxy."""
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    async def check(
        self, headers: dict[str, str], from_proxy: bool, address: str | None = None
    ) -> tuple[str | None, str | None, int]:
        """(user, None, 0) when the request may pass (user None in mode none), else
        (None, reason, retry_after) with reason one of "invalid_token", "header", "basic"
        or "throttled" (then retry_after > 0 seconds)."""
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            name = self.tokens.get(hash_token(credentials.strip()))
            return (f"token:{name}", None, 0) if name else (None, "invalid_token", 0)
        if self.mode == "header":
            name = headers.get(self.header, "").strip() if from_proxy else ""
            return (name, None, 0) if _plausible_user(name) else (None, "header", 0)
        if self.mode == "basic":
            if scheme.lower() != "basic":
                return None, "basic", 0
            return await self._basic(credentials, address)
        return None, None, 0

    async def _basic(self, credentials: str, address: str | None) -> tuple[str | None, str | None, int]:
        try:
            user, sep, password = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None, "basic", 0
        if not sep or not user:
            return None, "basic", 0
        stored = self.users.get(user)
        key = hashlib.sha256(f"{user}\0{password}\0{stored}".encode()).hexdigest()
        with self._lock:
            if stored and self._verified.get(key) == user:  # this browser signed in already
                return user, None, 0
        keys = [f"addr:{address or 'unknown'}", f"user:{user[:MAX_USER_CHARS]}"]
        wait = self.failures.wait(keys)
        if wait:
            return None, "throttled", wait
        with self._lock:
            if self._pending >= HASH_WORKERS + HASH_QUEUE:
                return None, "throttled", 1
            self._pending += 1
        try:
            # The same work for a name that does not exist: the reply cannot tell them apart.
            matched = await asyncio.get_running_loop().run_in_executor(
                self._pool, check_password, password, stored or self._dummy
            )
        finally:
            with self._lock:
                self._pending -= 1
        if not (matched and stored):
            self.failures.add(keys)
            return None, "basic", 0
        with self._lock:
            if len(self._verified) > 1000:
                self._verified.clear()
            self._verified[key] = user
        return user, None, 0


def _dummy_like(stored: str) -> str:
    """A hash of a random password with the cost parameters of `stored` (a real user's),
    so checking it takes as long."""
    _, n, r, p, salt, digest = stored.split("$")
    password = secrets.token_bytes(16)
    new_salt = secrets.token_bytes(len(base64.b64decode(salt)) or 16)
    value = hashlib.scrypt(
        password, salt=new_salt, n=int(n), r=int(r), p=int(p), dklen=len(base64.b64decode(digest)) or 32, maxmem=2**27
    )
    return "$".join(["scrypt", n, r, p, base64.b64encode(new_salt).decode(), base64.b64encode(value).decode()])


def proxy_configured(settings: Settings) -> bool:
    """Whether forwarded headers may count: `trusted_proxies` set by the operator, or a
    sign-on mode (`header`: the proxy sets the user; `basic`: usually behind the same
    local proxy, whose client addresses the per-address throttling needs). In mode `none`
    the default (the loopback addresses) alone is no proxy: an app on 127.0.0.1 would
    otherwise let every local client name its own address in X-Forwarded-For, and so dodge
    the rate limit."""
    return settings.auth != "none" or settings.sources.get("trusted_proxies", "default") != "default"


def _plausible_user(name: str) -> bool:
    return 0 < len(name) <= MAX_USER_CHARS and name.isprintable()


# ---------------------------------------------------------------------------
# The middleware


class Access:
    """ASGI middleware: apply forwarded headers from trusted proxies, then let a request
    through with its user in ``scope["livc.user"]`` or answer 401 (JSON for the API,
    a Dutch page otherwise)."""

    def __init__(self, app, settings: Settings, gate: Gate | None = None):
        self.app = app
        self.gate = gate or Gate.from_settings(settings)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        peer = (scope.get("client") or (None, 0))[0]
        from_proxy = self.gate.trusts(peer)
        scope = apply_forwarded(scope, headers) if from_proxy else scope
        if route_path(scope) in PUBLIC_PATHS or _preflight(scope, headers):
            await self.app({**scope, USER_KEY: None}, receive, send)
            return
        user, reason, retry_after = await self.gate.check(headers, from_proxy, (scope.get("client") or (None,))[0])
        if reason:
            log.info("refused %s %s (%s)", scope.get("method", "WS"), route_path(scope), reason)
            await refuse(scope, receive, send, reason, retry_after)
            return
        await self.app({**scope, USER_KEY: user}, receive, send)


def apply_forwarded(scope: dict, headers: dict[str, str]) -> dict:
    """The scope as the proxy's client sent it: client address, scheme and host."""
    scope = dict(scope)
    forwarded_for = [a.strip() for a in headers.get("x-forwarded-for", "").split(",") if a.strip()]
    if forwarded_for:
        scope["client"] = (forwarded_for[-1], 0)  # the address our proxy saw
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        secure = proto == "https"
        scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
    host = headers.get("x-forwarded-host", "").split(",")[0].strip()
    if host and host.isprintable():
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"host"] + [(b"host", host.encode("latin-1"))]
    return scope


async def refuse(scope, receive, send, reason: str, retry_after: int = 0) -> None:
    """401 with a Dutch message (429 with Retry-After after too many failed sign-ins):
    JSON for the API and programs, HTML for people."""
    message = MESSAGES[reason].format(seconds=retry_after)
    status, code = (429, "rate_limited") if reason == "throttled" else (401, _CODES.get(reason, "unauthorized"))
    headers = [(b"cache-control", b"no-store")]
    if reason == "basic":
        headers.append((b"www-authenticate", b'Basic realm="LIVC-assistent", charset="UTF-8"'))
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    if _wants_json(scope):
        body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode("utf-8")
        headers.append((b"content-type", b"application/json"))
    else:
        body = _PAGE.format(title=SIGN_IN_TITLE, message=html.escape(message)).encode("utf-8")
        headers.append((b"content-type", b"text/html; charset=utf-8"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_CODES = {"invalid_token": "invalid_token"}


def _headers(scope) -> dict[str, str]:
    """Request headers, lower-case names; a repeated header keeps its first value."""
    out: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        out.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    return out


def route_path(scope) -> str:
    """The path inside the app, without the root path a proxy may have kept."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path


def _preflight(scope, headers: dict[str, str]) -> bool:
    """A CORS preflight: browsers send it without credentials; the CORS layer answers it."""
    return scope.get("method") == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


def _wants_json(scope) -> bool:
    route = route_path(scope)
    accept = _headers(scope).get("accept", "")
    return route.startswith("/api/") or route == "/openapi.json" or "text/html" not in accept


_PAGE = """<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · LIVC-assistent</title>
<style>body{{font:17px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1f2328;background:#fafafa}}
main{{max-width:32rem;margin:0 auto;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem 1.5rem}}
h1{{font-size:1.3rem;color:#1d4f91}}</style></head>
<body><main><h1>{title}</h1><p>{message}</p></main></body></html>"""
