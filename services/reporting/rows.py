"""The one way a projection handler writes read-model rows (``Rows``), and the one answer to a row that is missing.

Temporal tables: an entity's *current* row is the one with ``valid_to`` NULL; a change closes it and inserts the
next version, valid from the event's time and in force from the event's in-force day (``shared.in_force``, set on
``Rows.in_force`` by the projection before the handlers run; every open row a handler writes gets it). A handler
reads rows only through ``current``/``current_ids`` (never row counts: the live consumer may pipeline the
statements)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.reporting.temporal import timestamp
from shared.consumer import Rejected
from shared.envelope import Envelope
from shared.readstore import Tx


class MissingRow(Rejected):
    """An event changes an entity whose row was never made: events of one aggregate arrive in order, so its
    creation was never applied (dead-lettered, or never published). The event is dead-lettered too, with this
    reason, and leaves nothing behind."""


class Rows:
    """What a handler may do to read-model rows, said once for both ways of applying events: here as statements in
    the live consumer's transaction; during a rebuild, on Python dicts (``services.reporting.rebuild_rows``), so the
    rebuild runs the very same handlers without a database round trip per event."""

    in_force: str | None = None
    """The ISO day the event being applied is in force from: the ``in_force_from`` of every row version it opens."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def _in_force(self, row: Mapping[str, Any]) -> Mapping[str, Any]:
        """A new open version of a temporal row gets the event's in-force day (a copy of the current row would
        otherwise carry its predecessor's)."""
        if self.in_force is not None and "valid_from" in row and row.get("valid_to") is None:
            return {**row, "in_force_from": self.in_force}
        return row

    # -- the primitives (the rebuild keeps them in memory)

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        row = self._in_force(row)
        self._tx.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows with the same columns."""
        if rows:
            rows = [self._in_force(row) for row in rows]
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
        """End the validity of an entity's current row (a new row then says what is true from ``at``)."""
        self._tx.execute(f"UPDATE {table} SET valid_to = ? WHERE id = ? AND valid_to IS NULL", (at, entity_id))

    def carry(self, table: str, columns: Sequence[str], entity_id: str, at: str, changes: Mapping[str, Any]) -> None:
        """Close the entity's current row and insert a copy of it with ``changes``, in two statements the database
        runs on its own: a pipelined batch does not wait for a reply to read the row. Only for an entity known to
        exist (an id ``current_ids`` gave, a part of a row just read): nothing is read, so nothing is checked.
        ``changes`` include the new row's version and ``valid_from``."""
        self.close(table, entity_id, at)
        values = dict(self._in_force({**changes, "valid_to": None}))
        select = ", ".join("?" if column in values else column for column in columns)
        self._tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table}"
                         " WHERE id = ? AND valid_to = ? ORDER BY version DESC LIMIT 1",
                         [*(values[c] for c in columns if c in values), entity_id, at])

    def count(self, table: str, key: str) -> None:
        """Add one to a counter row ``(key, n)`` (e.g. ``event_counts``)."""
        self._tx.execute(f"INSERT INTO {table} (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET"
                         f" n = {table}.n + 1", (key,))

    # -- temporal rows, made of the primitives

    def put(self, table: str, envelope: Envelope, row: Mapping[str, Any]) -> None:
        """The entity's row from this event on (``row`` has its id): any current row closed, this one open."""
        at = timestamp(envelope.time)
        self.close(table, row["id"], at)
        self.insert(table, {**row, "version": envelope.sequence, "valid_from": at, "valid_to": None})

    def existing(self, table: str, entity_id: str, envelope: Envelope) -> Mapping[str, Any]:
        """The entity's current row, which ``envelope``'s event needs: ``MissingRow`` if there is none."""
        found = self.current(table, entity_id)
        if found is None:
            raise MissingRow(f"{envelope.type} of {envelope.subject} changes {table} {entity_id}, which no applied "
                             "event made")
        return found

    def revise(self, table: str, entity_id: str, envelope: Envelope, current: Mapping[str, Any] | None = None, /,
               **changes: Any) -> dict[str, Any]:
        """The entity's next version: its current row (``current``, when the caller has just read it) carried
        forward with ``changes``, versioned by this event, the old one closed. A missing row is ``MissingRow``."""
        if current is None:
            current = self.existing(table, entity_id, envelope)
        at = timestamp(envelope.time)
        self.close(table, entity_id, at)
        row = {**current, **changes, "version": envelope.sequence, "valid_from": at, "valid_to": None}
        self.insert(table, row)
        return row


def rows(tx: Tx) -> Rows:
    """The handlers' view of ``tx``: its own (a rebuild's transaction keeps rows in memory) or statements on it."""
    own: Rows | None = getattr(tx, "rows", None)
    return own if own is not None else Rows(tx)
