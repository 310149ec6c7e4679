"""Every error the project raises on purpose, under one base: ``except LivcError`` catches
them all, and each carries a message meant for whoever reads it (one line; Dutch where a
user of the chat or the API sees it, English for the operator).

::

    LivcError
    ├── SettingsError        a setting the assistant cannot use             (also a ValueError)
    │   └── AuthError        a users file or token setting                  (web.auth)
    ├── DocumentError        a file that cannot be read as a document
    ├── EmbedderError        the configured embedder cannot be loaded       (also a RuntimeError)
    ├── StoreError           the index cannot be built or opened            (also a RuntimeError)
    │   └── StoreUnavailable the vector store cannot be reached now
    ├── GenerationError      the model server did not give a usable reply   (core.generation)
    ├── QuestionError        a question the assistant cannot take           (also a ValueError)
    │   └── PersonalDataError    personal data, with the guard set to refuse
    ├── ApiError             an API error answered as {"code", "message"}   (web.api)
    ├── BodyTooLarge         a request body over its limit, answered 413    (web.guard)
    ├── GoldError            a gold file that cannot be used                (ops.evaluation; also a ValueError)
    └── BenchError           the benchmark cannot run                       (ops.bench; also a RuntimeError)

The second bases (ValueError, RuntimeError) are those the classes had before they were
gathered here, so code that catches those still catches them.

It imports nothing of the project but the wording of the refusal, so every floor (core,
web, ops) can import it.
"""

from __future__ import annotations

from .privacy import refusal


class LivcError(Exception):
    """The base of every project error; its message says what is wrong and what to do."""


class SettingsError(LivcError, ValueError):
    """A setting has a value the assistant cannot use."""


class AuthError(SettingsError):
    """A users file or token setting that cannot be used (a settings error: the app
    refuses to start with one, in one line)."""


class DocumentError(LivcError):
    """A file that cannot be read as a document; the message says why."""


class EmbedderError(LivcError, RuntimeError):
    """The configured embedder cannot be loaded."""


class StoreError(LivcError, RuntimeError):
    """The index cannot be built or opened; the message says why."""


class StoreUnavailable(StoreError):
    """The vector store cannot be reached now (a Chroma server that is down or hangs):
    worth trying again later, unlike a missing or damaged index."""


class GenerationError(LivcError):
    """The model server gave no usable reply (unreachable, an HTTP error, a deadline passed,
    a broken stream). `reason` is a short stable code for the log and the evaluation
    (``connect``, ``timeout``, ``http_500``, ``rate_limited``, ``cut_off``, ...); the message
    is for the operator and never holds the key or the reply's text. The answer then falls
    back to the extractive one."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class QuestionError(LivcError, ValueError):
    """A question the assistant cannot take; the message is Dutch and meant for the user."""


class PersonalDataError(QuestionError):
    """The question holds personal data and the guard is set to refuse it. The message
    names the kinds of data found, never the data."""

    def __init__(self, kinds: list[str]):
        super().__init__(refusal(kinds))
        self.kinds = kinds


class ApiError(LivcError):
    """An error answered as ``{"code", "message"}``; the message is Dutch."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class BodyTooLarge(LivcError):
    """A request body over the limit it is read with; the chat's guard answers 413 with its
    own Dutch message (the message here, for the operator, names the limit)."""

    def __init__(self, limit: int):
        super().__init__(f"the request body is over {limit} bytes")
        self.limit = limit


class GoldError(LivcError, ValueError):
    """A gold file that cannot be used; the message names the file and line."""


class BenchError(LivcError, RuntimeError):
    """The benchmark cannot run; the message says why."""
