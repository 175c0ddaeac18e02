"""Structured logging: one JSON object per line, with whatever context a call passes in ``extra``."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from opentelemetry import trace

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
"""The correlation id of the request or event being handled; every log line written meanwhile carries it."""


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if "correlation_id" not in entry and (current := correlation_id.get()) is not None:
            entry["correlation_id"] = current
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry.setdefault("trace_id", format(span.trace_id, "032x"))
            entry.setdefault("span_id", format(span.span_id, "016x"))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the one configure() saw: a command run
    in-process (by a test harness, say) must not leave a handler bound to a stream that is closed after it, on
    which every later record of a library's background thread fails with "I/O operation on closed file"."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(level: str = "INFO") -> None:
    handler = _CurrentStderr()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "eventsourcing"):
        logging.getLogger(noisy).setLevel("WARNING")
