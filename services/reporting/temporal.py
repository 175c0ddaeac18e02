"""Time on read-model rows: one sortable text form of a moment, and the rows true on the two axes: as recorded at
a moment (``asOf``) and in force on a day (``inForceOn``, ``shared.in_force``).

A temporal table holds one row per event that changed an entity: its recorded interval ``[valid_from, valid_to)``
(the moments the record showed this version as the entity's latest), ``in_force_from`` (the day its event is in
force from) and ``own_changes`` (the columns the event itself set). The recorded axis reads those rows.

The in-force axis reads the table's *segments* (``<table>_in_force``, ``services.reporting.rows``): the entity as in
force from ``in_force_from`` until the next segment's day, each event's own change folded in in-force order (tie:
recorded order), and bitemporal: a segment is valid on the recorded axis from the event that wrote it until one that
changed it. So on a day, as recorded at a moment, the entity is its segment recorded then with the latest
``in_force_from`` on or before the day."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
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


@dataclass(frozen=True)
class At:
    """A point on both axes, where a query takes one ``as_of``: recorded by ``as_of`` (now when None), in force on
    ``in_force_on``. Nested GraphQL fields and dataloader keys carry it as they carry a plain ``as_of``."""

    as_of: datetime | None
    in_force_on: date


When = datetime | At | None
"""What a query's ``as_of`` may be: a moment on the recorded axis, a point on both axes, or now."""


def at(as_of: datetime | None, in_force_on: date | None) -> When:
    """The point a query with ``asOf`` and ``inForceOn`` asks about (a plain ``as_of`` when no day is given)."""
    return as_of if in_force_on is None else At(as_of, in_force_on)


def recorded_moment(when: When) -> datetime | None:
    """The recorded-axis part of ``when``."""
    return when.as_of if isinstance(when, At) else when


def in_force_day(when: When) -> date | None:
    """The in-force part of ``when``."""
    return when.in_force_on if isinstance(when, At) else None


def in_force_table(table: str) -> str:
    """The table of ``table``'s in-force segments."""
    return f"{table}_in_force"


def source(table: str, as_of: When, in_force_on: date | None = None, alias: str | None = None) -> str:
    """What a query reads ``table``'s rows from at ``as_of`` (and ``in_force_on``): the table itself on the recorded
    axis; on the in-force axis its segments, called by the table's name (or ``alias``), so that the clauses of
    ``as_of_clause`` and any column the query names read them unchanged."""
    day = as_of.in_force_on if isinstance(as_of, At) else in_force_on
    if day is None:
        return table if alias is None else f"{table} {alias}"
    return f"{in_force_table(table)} {alias or table}"


def as_of_clause(as_of: When, in_force_on: date | None = None, table: str | None = None
                 ) -> tuple[str, list[Any]]:
    """The rows true at ``as_of`` (the current rows when None); with ``in_force_on`` (or an ``At``), the segments
    the record at ``as_of`` (now when None) shows in force on that day (``table`` names the table; the query reads
    ``source(table, ...)``)."""
    moment, day = (as_of.as_of, as_of.in_force_on) if isinstance(as_of, At) else (as_of, in_force_on)
    if day is None:
        if moment is None:
            return "valid_to IS NULL", []
        at = timestamp(moment)
        return "valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)", [at, at]
    if table is None:
        raise ValueError("an in-force clause names its table")
    return in_force_clause(table, moment, day)


def _recorded_at(t: str, as_of: datetime | None) -> tuple[str, list[Any]]:
    """Rows of ``t`` the record showed at ``as_of`` (now when None)."""
    if as_of is None:
        return f"{t}.valid_to IS NULL", []
    at = timestamp(as_of)
    return f"{t}.valid_from <= ? AND ({t}.valid_to IS NULL OR {t}.valid_to > ?)", [at, at]


def in_force_clause(table: str, as_of: datetime | None, in_force_on: date, alias: str | None = None
                    ) -> tuple[str, list[Any]]:
    """``as_of_clause`` on the in-force axis, over ``table``'s segments (``source``; called ``alias`` in the query,
    if given): a segment recorded at ``as_of`` and in force by ``in_force_on``, with no later-starting segment of its
    entity that is too (the ``(id, in_force_from)`` index answers the probe)."""
    day = in_force_on.isoformat()
    t = alias or table
    recorded, params = _recorded_at(t, as_of)
    later, later_params = _recorded_at("later", as_of)
    return (f"{recorded} AND {t}.in_force_from <= ? AND NOT EXISTS (SELECT 1 FROM {in_force_table(table)} later"
            f" WHERE later.id = {t}.id AND later.in_force_from > {t}.in_force_from AND later.in_force_from <= ?"
            f" AND {later})", [*params, day, day, *later_params])


def recorded_clause(as_of: When, in_force_on: date | None = None, *, at: str = "at",
                    on: str | None = None) -> tuple[str, list[Any]]:
    """For a log table (one row per event, never changed): the rows recorded by ``as_of`` (column ``at``) whose
    business date ``on`` (a column of ISO dates) is on or before ``in_force_on``. Always a clause (``1 = 1``)."""
    moment, day = (as_of.as_of, as_of.in_force_on) if isinstance(as_of, At) else (as_of, in_force_on)
    clause, params = "1 = 1", []
    if moment is not None:
        clause += f" AND {at} <= ?"
        params.append(timestamp(moment))
    if day is not None:
        if on is None:
            raise ValueError("an in-force clause on a log table names its date column")
        clause += f" AND {on} <= ?"
        params.append(day.isoformat())
    return clause, params


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
