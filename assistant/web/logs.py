"""Structured logging: one JSON object per line, and no question text unless the operator asks.

Questions may hold case details, so by default a log line about an answer holds only
what an operator needs to see the service work: the event, mode, whether it abstained,
the cited passage ids, timings and which kinds of personal data were masked. With
``log_questions`` on, the question and answer text are added, masked by the personal-data
guard first. Every other message (a library's, an exception's trace) is masked as well
before it is written, so a stray message cannot carry a phone number into the file.

``configure_logging(settings)`` installs the JSON-lines handler on the root logger: on
standard error, or appended to ``settings.log_file``. ``capture_stderr()`` (app.py calls it
once it serves) turns whatever else is written to standard error into log records too:
Gradio prints a failed event's traceback there itself (``traceback.print_exc()``), and its
message quotes the raw inputs ("Received inputs: [...]"), which must not pass unmasked.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from ..core.privacy import mask_text
from ..core.settings import Settings
from ..core.types import Answer

_HANDLER_FLAG = "_livc_json"


class Event:
    """A structured log message: a name and JSON-friendly fields. ``str()`` gives the
    JSON object, so any handler (pytest's caplog too) sees the same content."""

    def __init__(self, name: str, **fields):
        self.name = name
        self.fields = fields

    def as_dict(self) -> dict:
        return {"event": self.name, **self.fields}

    def __str__(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, default=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, then the event's fields, or the
    message (masked) for ordinary records; a trace under "exception", masked too."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if isinstance(record.msg, Event) and not record.args:
            data.update(record.msg.as_dict())
        else:
            data["message"] = mask_text(record.getMessage())
        if record.exc_info:
            data["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, level: int = logging.INFO) -> logging.Handler:
    """Send every log record through the JSON-lines formatter: to ``settings.log_file``
    (appended) or standard error. Calling it again replaces the handler it installed."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(handler)
        handler.close()
    if settings.log_file:
        path = Path(settings.log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(
            getattr(sys.stderr, "stream", sys.stderr) if isinstance(sys.stderr, StderrToLog) else sys.stderr
        )
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx notes every request at INFO: with a Chroma server, one line per vector search.
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))
    return handler


class StderrToLog(io.TextIOBase):
    """Standard error as log records: each line written becomes a WARNING of the "stderr"
    logger, so the JSON formatter masks it and writes it where the log goes. A record that
    cannot be written (a failing handler, or none configured) reaches the real stream
    masked, never raw, and never loops back here."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self._buffer = ""
        self._lock = threading.Lock()
        self._inside = threading.local()

    @property
    def encoding(self):
        return getattr(self.stream, "encoding", "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    def write(self, text: str) -> int:
        if getattr(self._inside, "active", False):
            self.stream.write(mask_text(text))
            return len(text)
        with self._lock:
            *lines, self._buffer = (self._buffer + text).split("\n")
        for line in lines:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        if rest:
            self._emit(rest)
        self.stream.flush()

    def _emit(self, line: str) -> None:
        if not line.strip():
            return
        self._inside.active = True
        try:
            logging.getLogger("stderr").warning("%s", line.rstrip())
        finally:
            self._inside.active = False


def capture_stderr() -> StderrToLog:
    """Send everything written to standard error from now on through the log (see
    StderrToLog); the JSON handler of configure_logging keeps writing to the real stream."""
    if not isinstance(sys.stderr, StderrToLog):
        sys.stderr = StderrToLog(sys.stderr)
    return sys.stderr


def answer_event(answer: Answer, settings: Settings, **extra) -> Event:
    """The log event for one answer: ids, timings and modes; text only with log_questions,
    and then masked."""
    cited = answer.suggestions if answer.abstained else answer.citations
    fields = {
        "mode": answer.mode,
        "abstained": answer.abstained,
        "citations": [c.passage.id for c in cited],
        "docs": sorted({c.passage.doc for c in cited}),
        "timings_ms": {k: round(v, 1) for k, v in answer.timings.items()},
        "masked": list(answer.masked),
        **extra,
    }
    if settings.log_questions:
        fields["question"] = mask_text(answer.question)
        fields["answer"] = mask_text(answer.text)
    return Event("answered", **fields)


def log_answer(logger: logging.Logger, answer: Answer, settings: Settings, **extra) -> None:
    """Log one answer as a structured event (see answer_event)."""
    logger.info(answer_event(answer, settings, **extra))
