"""Rate limiting for the API: at most ``rate_limit`` requests per ``rate_window`` seconds
for each user (or, without a login, each client address).

A sliding window: each key keeps the times of its recent requests, so a burst is cut off
exactly at the limit and the key is free again as soon as its oldest request leaves the
window. One busy user never slows anyone else down; refused requests are not counted,
so a client that keeps hammering is let in again on time. Kept in memory: the app is
one process (embedded Chroma is single-process anyway).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..core.errors import ApiError
from ..core.messages import RATE_LIMITED
from .auth import USER_KEY

MAX_KEYS = 10_000  # beyond this many tracked keys, idle ones are dropped


@dataclass
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until the next request would be allowed


@dataclass
class RateLimiter:
    limit: int  # requests per window; 0 = unlimited
    window: float  # seconds
    clock: object = time.monotonic
    _seen: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, key: str) -> Verdict:
        """Count a request for `key`, or refuse it with the wait until a slot frees up."""
        if self.limit <= 0:
            return Verdict(True)
        now = self.clock()
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                wait = times[0] + self.window - now
                return Verdict(False, max(1, math.ceil(wait)))
            times.append(now)
            if len(self._seen) > MAX_KEYS:
                self._forget_idle(now)
        return Verdict(True)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]


def client_key(user: str | None, address: str | None) -> str:
    """What a request is counted against: its user if known, else its client address."""
    return f"user:{user}" if user else f"addr:{address or 'unknown'}"


def request_key(request) -> str:
    """`client_key` of an HTTP request: its signed-on user, else its client address."""
    return client_key(request.scope.get(USER_KEY), (request.scope.get("client") or ("",))[0])


def count_request(limiter: RateLimiter, request) -> None:
    """Count `request`; over the limit, ApiError 429 (rate_limited) with Retry-After."""
    verdict = limiter.hit(request_key(request))
    if not verdict.allowed:
        raise ApiError(
            429,
            "rate_limited",
            RATE_LIMITED.format(seconds=verdict.retry_after),
            {"Retry-After": str(verdict.retry_after)},
        )
