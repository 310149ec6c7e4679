"""A streaming chat-completions client for any OpenAI-compatible server (llama.cpp, Ollama,
vLLM, OpenAI) and Azure OpenAI.

One request per answer, streamed (server-sent events), with an explicit ``max_tokens`` and
three deadlines: to connect, to the first word (which is also the longest silence allowed
after it) and for the whole reply. A stream is never retried: a retry would show the user a
second, different beginning. Every failure is a `GenerationError` with a short reason; its
message names the server's status or the kind of failure, never the key or any text.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from ..errors import GenerationError
from ..settings import Settings


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask: the URL, the headers (with the key) and the model's name."""

    url: str
    headers: dict[str, str]
    model: str

    def __repr__(self) -> str:  # the headers hold the key
        return f"Endpoint({self.url!r}, model={self.model!r})"


def endpoint(settings: Settings) -> Endpoint:
    """The chat-completions endpoint the settings name: ``{llm_url}/chat/completions``, or
    for Azure ``{llm_url}/openai/deployments/{llm_model}/chat/completions?api-version=...``."""
    base, key = settings.llm_url.rstrip("/"), settings.api_key()
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if settings.llm_api_flavor == "azure":
        url = f"{base}/openai/deployments/{settings.llm_model}/chat/completions?api-version={settings.llm_api_version}"
        if key:
            headers["api-key"] = key
    else:
        url = f"{base}/chat/completions"
        if key:
            headers["Authorization"] = f"Bearer {key}"
    return Endpoint(url, headers, settings.llm_model)


@dataclass
class Deadlines:
    connect: float
    first_token: float
    total: float

    @classmethod
    def of(cls, settings: Settings) -> Deadlines:
        return cls(settings.llm_connect_timeout, settings.llm_first_token_timeout, settings.llm_total_timeout)


class ChatClient:
    """Streams the text of one chat completion at a time (thread-safe: one httpx client)."""

    def __init__(self, settings: Settings):
        self.endpoint = endpoint(settings)
        self.deadlines = Deadlines.of(settings)
        self.max_tokens = settings.llm_max_tokens
        self.temperature = settings.llm_temperature
        d = self.deadlines
        # read: the longest wait for any bytes, so a silent server is noticed within it.
        timeout = httpx.Timeout(connect=d.connect, read=d.first_token, write=d.connect, pool=d.connect)
        # No retries (httpx's transport retries only failed connects, and 0 turns even that
        # off); no proxy from the environment: the operator names the server.
        self._http = httpx.Client(timeout=timeout, transport=httpx.HTTPTransport(retries=0), trust_env=False)

    def close(self) -> None:
        self._http.close()

    def stream(self, messages: list[dict[str, str]], stop: threading.Event | None = None) -> Iterator[str]:
        """The reply's text as it arrives. Closing the iterator (or setting `stop`) closes
        the connection, which tells the server to stop generating."""
        body = {
            "messages": messages,
            "stream": True,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }
        if self.endpoint.model:
            body["model"] = self.endpoint.model
        started = time.monotonic()
        try:
            with self._http.stream("POST", self.endpoint.url, json=body, headers=self.endpoint.headers) as response:
                _check_status(response)
                yield from self._deltas(response, started, stop)
        except httpx.ConnectTimeout:
            raise GenerationError("connect", "model server: no connection within the deadline") from None
        except httpx.ConnectError:
            raise GenerationError("connect", "model server: cannot connect") from None
        except httpx.ReadTimeout:
            raise GenerationError("timeout", "model server: no data within the first-token deadline") from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            raise GenerationError("cut_off", "model server: the stream broke off") from None
        except httpx.HTTPError as exc:
            raise GenerationError("http", f"model server: {type(exc).__name__}") from None

    def _deltas(self, response: httpx.Response, started: float, stop: threading.Event | None) -> Iterator[str]:
        finished, first = False, True
        for line in response.iter_lines():
            if stop is not None and stop.is_set():
                return
            elapsed = time.monotonic() - started
            if elapsed > self.deadlines.total:
                raise GenerationError("timeout", "model server: the reply took longer than the total deadline")
            if not line.startswith("data:"):
                continue  # comments (": ping"), event names, blank separators
            data = line[5:].strip()
            if data == "[DONE]":
                return
            text, reason = _chunk(data)
            if text:
                if first and elapsed > self.deadlines.first_token:
                    raise GenerationError("timeout", "model server: the first word came after the deadline")
                first = False
                yield text
            finished = finished or reason is not None
        if not finished:
            raise GenerationError("cut_off", "model server: the stream ended before the reply did")


def _check_status(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    if response.status_code == 429:
        raise GenerationError("rate_limited", "model server: HTTP 429 (rate limited)")
    if response.status_code in (401, 403):
        raise GenerationError("unauthorized", f"model server: HTTP {response.status_code} (check llm_api_key)")
    raise GenerationError(f"http_{response.status_code}", f"model server: HTTP {response.status_code}")


def _chunk(data: str) -> tuple[str, str | None]:
    """The text and the finish reason of one streamed chunk."""
    try:
        chunk = json.loads(data)
        choice = (chunk.get("choices") or [{}])[0]
    except (ValueError, AttributeError, TypeError, IndexError):
        raise GenerationError("bad_stream", "model server: a chunk that is not chat-completion JSON") from None
    if not isinstance(choice, dict):
        return "", None
    delta = choice.get("delta") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    return (text if isinstance(text, str) else ""), choice.get("finish_reason")
