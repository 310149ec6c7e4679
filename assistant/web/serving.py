"""How ``app.py`` runs uvicorn: its options, and the timeouts uvicorn does not have.

uvicorn (0.54) has an idle timeout between requests (``timeout_keep_alive``), a cap on
open connections and tasks (``limit_concurrency``, beyond it 503) and a grace period at
shutdown (``timeout_graceful_shutdown``), but no limit on how long or how large a
request's headers may be: a client that sends one header line every few seconds keeps a
connection (and its memory) forever. ``HeaderLimits`` is uvicorn's httptools protocol
with both: the request line and headers must be complete within HEADER_TIMEOUT seconds
and MAX_HEADER_BYTES bytes, else the connection is closed (too large: uvicorn's own 400).
Request bodies get their timeout in ``assistant.web.guard`` (BODY_TIMEOUT).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 15.0  # seconds from the first byte of a request (or the connection) to its last header
MAX_HEADER_BYTES = 64 * 1024  # request line plus headers
KEEP_ALIVE = 5  # seconds an idle connection stays open between requests
MAX_CONNECTIONS = 1000  # open connections (each chat tab holds two streams) or running requests; then 503
GRACEFUL_SHUTDOWN = 10  # seconds open answer streams get when the app is stopped


class HeaderLimits(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header timeout and a header size limit."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        self._header_timer = None
        self._header_bytes = 0
        super().connection_made(transport)
        self._start_header_timer()

    def connection_lost(self, exc) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._start_header_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()

    def _count(self, n: int) -> None:
        self._header_bytes += n
        if self._header_bytes > MAX_HEADER_BYTES:
            raise ValueError("request headers too large")  # httptools turns this into uvicorn's 400

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._headers_too_slow)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(settings) -> dict:
    """The keyword arguments of ``uvicorn.run`` for `settings` (see the module docstring).
    Forwarded headers are applied by ``assistant.web.auth``, only from a configured proxy, after
    it has seen the real peer address: uvicorn leaves the client address alone. No log
    configuration of uvicorn's own: its loggers go through the JSON-lines handler."""
    return dict(
        host=settings.host,
        port=settings.port,
        log_level="warning",
        proxy_headers=False,
        log_config=None,
        http=HeaderLimits,
        timeout_keep_alive=KEEP_ALIVE,
        limit_concurrency=MAX_CONNECTIONS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )
