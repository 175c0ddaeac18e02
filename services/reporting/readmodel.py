"""Temporal read models: every row knows from when to when it was true, so any question can be asked ``asOf``.

This module holds what every reporting module shares: the event log (history of every aggregate), the temporal
helpers, and the handle on the store. Each context's tables live in its own module (strategy, coordination,
delivery), listed in ``services.reporting.modules``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from shared.contracts import Fact
from shared.envelope import Envelope
from shared.partnership import PartnershipDefinition, load
from shared.readstore import ReadStore, Tx

Handlers = dict[str, Callable[[Tx, Envelope, Fact], None]]

DDL = [
    "CREATE TABLE IF NOT EXISTS event_log ("
    " subject TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL,"
    " time TEXT NOT NULL, actor TEXT NOT NULL, actor_organisation TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " correlation_id TEXT NOT NULL, decision TEXT, data TEXT NOT NULL,"
    " PRIMARY KEY (subject, version))",
    "CREATE INDEX IF NOT EXISTS event_log_time ON event_log (time)",
    # A counter, not a set: applying an event twice would show, so it also witnesses exactly-once in effect.
    "CREATE TABLE IF NOT EXISTS event_counts (type TEXT PRIMARY KEY, n INTEGER NOT NULL)",
]


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


def close_current(tx: Tx, table: str, entity_id: str, at: str) -> None:
    """End the validity of an entity's current row (a new row then says what is true from ``at``)."""
    tx.execute(f"UPDATE {table} SET valid_to = ? WHERE id = ? AND valid_to IS NULL", (at, entity_id))


class Rows:
    """What a handler may do to read-model rows, said once for both ways of applying events: here as statements in
    the live consumer's transaction; during a rebuild, on Python dicts (``services.reporting.rebuild``), so the
    rebuild runs the very same handlers without a database round trip per event.

    Temporal tables: an entity's *current* row is the one with ``valid_to`` NULL. A handler reads rows only
    through ``current``/``current_ids`` (never row counts: the live consumer may pipeline the statements)."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        self._tx.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows with the same columns."""
        if rows:
            columns = list(rows[0])
            self._tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                 [[row[c] for c in columns] for row in rows])

    def current(self, table: str, entity_id: str) -> Mapping[str, Any] | None:
        found = self._tx.query(f"SELECT * FROM {table} WHERE id = ? AND valid_to IS NULL", [entity_id])
        return found[0] if found else None

    def current_ids(self, table: str, **equal: Any) -> list[str]:
        """The ids of the current rows whose columns have these values."""
        where = "".join(f" AND {column} = ?" for column in equal)
        return [row["id"] for row in self._tx.query(f"SELECT id FROM {table} WHERE valid_to IS NULL{where}",
                                                    list(equal.values()))]

    def close(self, table: str, entity_id: str, at: str) -> None:
        close_current(self._tx, table, entity_id, at)

    def carry(self, table: str, columns: Sequence[str], entity_id: str, at: str, changes: Mapping[str, Any]) -> None:
        """Close the entity's current row and insert a copy of it with ``changes`` (nothing if it is unknown), in
        two statements the database runs on its own: a pipelined batch does not wait for a reply to read the row.
        ``changes`` include the new row's version and ``valid_from``."""
        self.close(table, entity_id, at)
        values = {**changes, "valid_to": None}
        select = ", ".join("?" if column in values else column for column in columns)
        self._tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table}"
                         " WHERE id = ? AND valid_to = ? ORDER BY version DESC LIMIT 1",
                         [*(values[c] for c in columns if c in values), entity_id, at])

    def count(self, table: str, key: str) -> None:
        """Add one to a counter row ``(key, n)`` (e.g. ``event_counts``)."""
        self._tx.execute(f"INSERT INTO {table} (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET"
                         f" n = {table}.n + 1", (key,))


def rows(tx: Tx) -> Rows:
    """The handlers' view of ``tx``: its own (a rebuild's transaction keeps rows in memory) or statements on it."""
    own: Rows | None = getattr(tx, "rows", None)
    return own if own is not None else Rows(tx)


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
    if fact.decision is None:
        return None
    return json.dumps(asdict(fact.decision), default=str, sort_keys=True)


def log_event(tx: Tx, envelope: Envelope, fact: Fact) -> None:
    into = rows(tx)
    into.insert("event_log", {
        "subject": envelope.subject, "version": envelope.sequence, "type": envelope.type, "source": envelope.source,
        "time": timestamp(envelope.time), "actor": envelope.actor, "actor_organisation": envelope.actororganisation,
        "actor_role": envelope.actorrole, "correlation_id": envelope.correlationid, "decision": decision_json(fact),
        "data": sorted_json(envelope.data)})
    into.count("event_counts", envelope.type)


class ReportingReadModel:
    """The reporting store with every module's tables."""

    def __init__(self, store: ReadStore, ddl: list[str]) -> None:
        self.store = store
        store.migrate([*DDL, *ddl])

    @property
    def partnership(self) -> PartnershipDefinition:
        """The partnership this deployment is configured with (``PARTNERSHIP_PARTNERSHIP_FILE``), as the services'."""
        return load(self.store.settings.partnership_file)

    def history(self, aggregate_id: str) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM event_log WHERE subject = ? ORDER BY version", [aggregate_id])
        for row in rows:
            row["data"] = json.loads(row["data"])
            row["decision"] = json.loads(row["decision"]) if row["decision"] else None
        return rows

    def event_count(self) -> int:
        rows = self.store.query("SELECT COUNT(*) AS n FROM event_log")
        return int(rows[0]["n"])

    def event_counts(self) -> dict[str, int]:
        """How many events of each type were applied (each exactly once)."""
        return {row["type"]: int(row["n"]) for row in self.store.query("SELECT type, n FROM event_counts")}
