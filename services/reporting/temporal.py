"""Time on read-model rows: one sortable text form of a moment, and the rows true at a moment (``asOf``)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from shared.contracts import Fact

_last_stamp: tuple[datetime | None, str] = (None, "")


def timestamp(moment: datetime) -> str:
    """One sortable text form for both engines: UTC, microseconds."""
    global _last_stamp
    last = _last_stamp  # one read: consumers in other threads replace it
    if last[0] is moment:  # an event's handlers ask for its time several times over
        return last[1]
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    stamp = aware.astimezone(UTC).isoformat(timespec="microseconds")
    _last_stamp = (moment, stamp)
    return stamp


def as_of_clause(as_of: datetime | None) -> tuple[str, list[Any]]:
    """The rows true at ``as_of`` (the current rows when None)."""
    if as_of is None:
        return "valid_to IS NULL", []
    at = timestamp(as_of)
    return "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", [at, at]


# json.dumps(value, sort_keys=True)'s C encoder, built once (json.dumps builds one per call). Without its check for
# circular references: what it encodes came from JSON, or is built by a handler, and cannot refer to itself.
_SORTED_JSON = None if c_make_encoder is None else c_make_encoder(
    None, json.JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", True, False, True)


def sorted_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True)``."""
    if _SORTED_JSON is None or isinstance(value, str):
        return json.dumps(value, sort_keys=True)
    return "".join(_SORTED_JSON(value, 0))


def decision_json(fact: Fact) -> str | None:
    """The decision an event carries, as stored on the rows it made."""
    if fact.decision is None:
        return None
    return json.dumps(asdict(fact.decision), default=str, sort_keys=True)
