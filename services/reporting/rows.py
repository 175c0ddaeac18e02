"""The one way a projection handler writes read-model rows (``Rows``), and the one answer to a row that is missing.

Temporal tables: an entity's *current* row is the one with ``valid_to`` NULL; a change closes it and inserts the
next version, valid from the event's time and in force from the event's in-force day (``shared.in_force``, set on
``Rows.in_force`` by the projection before the handlers run), with the columns the event itself set
(``own_changes``). A handler reads rows only through ``current``/``current_ids`` (never row counts: the live
consumer may pipeline the statements).

Every new version also refolds the entity's in-force segments (``<table>_in_force``, ``in_force_segments``): each
event's own change applied in in-force order (tie: recorded order), so a back-dated decision entered after an
undated fact does not carry that fact back to its date. The segments that change are closed on the recorded axis
and inserted anew; the others stay.

A column that accrues over events (a sum, a count, a JSON whole of keyed parts) is not set by a handler but changed
by an ``Accrual`` (``Add``, ``Patch``, ``Append``, ``Remove``): the version's value is the accrual applied to the
entity's previous row, and its own change is the accrual itself, which the fold applies to the value in force before
it, so two contributions entered out of date order each count from their own day."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from services.reporting.temporal import in_force_table, sorted_json, timestamp
from shared.consumer import Rejected
from shared.envelope import Envelope
from shared.readstore import Tx

_NOT_FOLDED = frozenset({"version", "valid_from", "valid_to", "in_force_from", "own_changes"})
"""A version's columns that say when it is, not what the entity is."""

_OWN_CHANGES: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[str, ...], str]] = {}
"""The columns a handler passed (and those of them it accrued): those it set, as folded and as stored
(``own_changes``)."""


class Accruing:
    """What every accrual is (one ``isinstance`` tells a handler's value from an accrual)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Add(Accruing):
    """Add ``amount`` to a summed column: an int to an INTEGER count, a Decimal to a TEXT decimal (money, days)."""

    amount: int | Decimal

    @property
    def empty(self) -> Any:
        return 0 if isinstance(self.amount, int) else "0"

    def applied_to(self, before: Any, state: Mapping[str, Any]) -> Any:
        if isinstance(self.amount, int):
            return (before or 0) + self.amount
        return str(Decimal(before or 0) + self.amount)

    def stored(self) -> list[Any]:
        return ["add", self.amount if isinstance(self.amount, int) else str(self.amount)]


Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Patch(Accruing):
    """Set (or drop) the parts of a JSON object column that an event changed (a body's quorum in the rules' bodies
    by id), each part a path of keys to a leaf: two events changing different parts each change only their own."""

    set: tuple[tuple[Path, Any], ...] = ()
    drop: tuple[Path, ...] = ()

    @classmethod
    def between(cls, before: str | None, after: str) -> Patch:
        """What changes JSON object ``before`` into ``after``."""
        changed: list[tuple[Path, Any]] = []
        dropped: list[Path] = []

        def walk(old: Any, new: Any, path: Path) -> None:
            if isinstance(old, dict) and isinstance(new, dict):
                for key, value in new.items():
                    if key not in old:
                        changed.append(((*path, key), value))
                    else:
                        walk(old[key], value, (*path, key))
                dropped.extend((*path, key) for key in old if key not in new)
            elif old != new:
                changed.append((path, new))

        walk(json.loads(before or "{}"), json.loads(after), ())
        return cls(tuple(changed), tuple(dropped))

    @property
    def empty(self) -> Any:
        return "{}"

    def applied_to(self, before: Any, state: Mapping[str, Any]) -> Any:
        whole: Any = json.loads(before or "{}")
        for path, value in self.set:
            if not path:
                whole = value
                continue
            part = whole
            for key in path[:-1]:
                part = part.setdefault(key, {})
            part[path[-1]] = value
        for path in self.drop:
            part = whole
            for key in path[:-1]:
                part = part.get(key, {})
            part.pop(path[-1], None)
        return json.dumps(whole, sort_keys=True)

    def stored(self) -> list[Any]:
        return ["patch", [[list(path), value] for path, value in self.set], [list(path) for path in self.drop]]


@dataclass(frozen=True, slots=True)
class Append(Accruing):
    """Add an item to the end of a JSON list column (a target's reporting intervals)."""

    item: Any

    @property
    def empty(self) -> Any:
        return "[]"

    def applied_to(self, before: Any, state: Mapping[str, Any]) -> Any:
        return json.dumps([*json.loads(before or "[]"), self.item])

    def stored(self) -> list[Any]:
        return ["append", self.item]


@dataclass(frozen=True, slots=True)
class Remove(Accruing):
    """Take an item out of a JSON list column (a review's outstanding priorities)."""

    item: Any

    @property
    def empty(self) -> Any:
        return "[]"

    def applied_to(self, before: Any, state: Mapping[str, Any]) -> Any:
        return json.dumps([x for x in json.loads(before or "[]") if x != self.item])

    def stored(self) -> list[Any]:
        return ["remove", self.item]


@dataclass(frozen=True, slots=True)
class Latest(Accruing):
    """A column of the entity's latest dated fact (a project's latest report): ``value`` if its date ``on`` is on
    or after the one the entity holds (column ``by``), else what stands (this column's value, or column
    ``otherwise``'s: a report dated before the latest leaves the RAG as derived from the latest)."""

    value: Any
    on: str
    by: str = "last_reported_on"
    otherwise: str | None = None

    @property
    def empty(self) -> Any:
        return None

    def applied_to(self, before: Any, state: Mapping[str, Any]) -> Any:
        last = state.get(self.by)
        if last is None or self.on >= last:
            return self.value
        return before if self.otherwise is None else state.get(self.otherwise)

    def stored(self) -> list[Any]:
        return ["latest", self.value, self.on, self.by, self.otherwise]


Accrual = Add | Patch | Append | Remove | Latest
"""A change of a column that accrues over events: the version's value is it applied to the previous row; on the
in-force axis, to the value in force before its day."""



def _accrual(stored: list[Any]) -> Accrual:
    """An accrual from its ``stored()`` form (an entry of ``own_changes``)."""
    kind, *args = stored
    if kind == "add":
        return Add(args[0] if isinstance(args[0], int) else Decimal(args[0]))
    if kind == "patch":
        return Patch(tuple((tuple(path), value) for path, value in args[0]), tuple(tuple(p) for p in args[1]))
    if kind == "latest":
        return Latest(*args)
    return Append(args[0]) if kind == "append" else Remove(args[0])


_NONE: Mapping[str, Accrual] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Version:
    """One event's change of an entity, as the fold needs it: its in-force day, when it was recorded, and what it
    set (``whole``: a whole new row, every column; else only these columns) and accrued (``accruals``)."""

    day: str
    recorded: str
    version: int
    values: Mapping[str, Any]
    whole: bool
    accruals: Mapping[str, Accrual] = field(default_factory=lambda: _NONE)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Version:
        """From a stored version row (``own_changes``: NULL for a whole row; else a JSON list of the columns set, of
        ``[column, *accrual]`` for a column accrued, and ``"*"`` for every other column)."""
        own = row["own_changes"]
        if own is None:
            return cls.made(row, None)
        entries = json.loads(own)
        accruals = {e[0]: _accrual(e[1:]) for e in entries if isinstance(e, list)}
        names = None if "*" in entries else [e for e in entries if isinstance(e, str)]
        return cls.made(row, names, accruals)

    @classmethod
    def made(cls, row: Mapping[str, Any], own: Iterable[str] | None,
             accruals: Mapping[str, Accrual] = _NONE) -> Version:
        """From a version row, the columns its event set (None: every one) and those it accrued."""
        if own is None:
            values = {c: v for c, v in row.items() if c not in _NOT_FOLDED and c not in accruals}
        else:
            values = {c: row[c] for c in own}
        return cls(row["in_force_from"], row["valid_from"], row["version"], values, own is None, accruals)

    def applied_to(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The entity once this change is applied to ``state``."""
        after = dict(self.values) if self.whole else {**state, **self.values}
        for column, accrual in self.accruals.items():
            after[column] = accrual.applied_to(state.get(column), state)
        return after


def in_force_segments(versions: Iterable[Version]) -> list[dict[str, Any]]:
    """An entity's segments on the in-force axis, from its versions: each event's own change folded in in-force
    order (tie: recorded order). The entity is in force from the earliest day of any of its facts (a report dated
    2013 on a project entered today says the project was there in 2013), as its first recorded version made it,
    save what that version accrued (a project's opening commitments), which counts from its own day.
    Each segment: the entity's columns, ``in_force_from`` and the ``version`` of the last change folded into it."""
    ordered = sorted(versions, key=lambda v: (v.recorded, v.version))
    if not ordered:
        return []
    made, earliest = ordered[0], min(v.day for v in ordered)
    steps = [replace(made, day=earliest, values={**made.values, **{c: a.empty for c, a in made.accruals.items()}},
                     accruals=_NONE)]
    if made.accruals:
        steps.append(replace(made, values={}, whole=False))
    steps += ordered[1:]
    steps.sort(key=lambda v: (v.day, v.recorded, v.version))  # stable: the made entity before what it accrued
    segments: list[dict[str, Any]] = []
    state: dict[str, Any] = {}
    for v in steps:
        state = v.applied_to(state)
        segment = {**state, "version": v.version, "in_force_from": v.day}
        if segments and segments[-1]["in_force_from"] == segment["in_force_from"]:
            segments[-1] = segment
        else:
            segments.append(segment)
    return segments


def _same(segment: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return all(other.get(c) == v for c, v in segment.items() if c not in ("valid_from", "valid_to", "own_changes"))


def segment_changes(segments: Sequence[dict[str, Any]], open_segments: Sequence[Mapping[str, Any]]
                    ) -> tuple[list[Mapping[str, Any]], list[dict[str, Any]]]:
    """What refolding does to the segments the record shows: the open ones to close, the new ones to insert (an
    entity's open segments start on distinct days, so each is compared with the new one of its day only)."""
    by_day = {s["in_force_from"]: s for s in segments}
    kept = {o["in_force_from"] for o in open_segments
            if (s := by_day.get(o["in_force_from"])) is not None and _same(s, o)}
    return ([o for o in open_segments if o["in_force_from"] not in kept],
            [s for s in segments if s["in_force_from"] not in kept])


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
        # Current rows as read in this event's transaction since the last write to their table: the change feed,
        # the handler and its checks each ask for the same row (up to three reads of it per event).
        self._read: dict[tuple[str, str], Mapping[str, Any] | None] = {}

    def _wrote(self, table: str) -> None:
        """Forget what was read of ``table``: a write to it may have changed it."""
        if self._read:
            self._read = {key: row for key, row in self._read.items() if key[0] != table}

    # -- the primitives (the rebuild keeps them in memory)

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """A row; of a temporal table, a whole new version of its entity (its own change is every column)."""
        self._write(table, row, None)

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Rows with the same columns."""
        if rows and _opens(rows[0]):
            for row in rows:
                self._write(table, row, None)
        elif rows:
            columns = list(rows[0])
            self._wrote(table)
            self._tx.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                 [[row[c] for c in columns] for row in rows])

    def _write(self, table: str, row: Mapping[str, Any], own: Iterable[str] | None,
               before: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        """Insert ``row``; an open version of a temporal row with its in-force day and its own change (``own``: the
        columns its event set; None, every one; an ``Accrual`` applied to ``before``, the previous row), and the
        entity's segments refolded. The row as inserted."""
        if not _opens(row):
            self._insert(table, row)
            return row
        version, names, accruals = self._version(row, own, before)
        self._insert(table, version)
        change = Version.made(version, names, accruals)
        self._keep(table, version["id"], change)
        self._refold(table, version["id"], change)
        return version

    def _version(self, row: Mapping[str, Any], own: Iterable[str] | None, before: Mapping[str, Any] | None
                 ) -> tuple[dict[str, Any], tuple[str, ...] | None, Mapping[str, Accrual]]:
        """The version row with its in-force day, its accruals applied and its own change; the columns of that
        change (None: all) and its accruals."""
        names: tuple[str, ...] | None
        own_changes: str | None
        if own is None:
            accrued = tuple(sorted(c for c, v in row.items() if isinstance(v, Accruing)))
            names, own_changes = None, None
        else:
            # A handler passes the same columns each time, accrued or not: their names are said once as JSON.
            key = tuple(own)
            accrued = tuple(c for c in key if isinstance(row[c], Accruing))
            if (known := _OWN_CHANGES.get((key, accrued))) is None:
                names = tuple(sorted(set(key) - _NOT_FOLDED - set(accrued)))
                known = _OWN_CHANGES[key, accrued] = (names, json.dumps(names))
            names, own_changes = known
        if not accrued:
            return {**row, "in_force_from": self.in_force or row.get("in_force_from"), "own_changes": own_changes}, \
                names, _NONE
        # An accrual's amount is the event's own: said in full each time.
        accruals: dict[str, Accrual] = {c: row[c] for c in sorted(accrued)}
        was = before or {}
        own_changes = sorted_json([*(("*",) if names is None else names),
                                   *([c, *a.stored()] for c, a in accruals.items())])
        return ({**row, **{c: a.applied_to(was.get(c), was) for c, a in accruals.items()},
                 "in_force_from": self.in_force or row.get("in_force_from"), "own_changes": own_changes},
                names, accruals)

    def _keep(self, table: str, entity_id: str, change: Version) -> None:
        """Keep an entity's change for its next refold (here its table keeps it)."""

    def _refold(self, table: str, entity_id: str, change: Version) -> None:
        """The entity's segments once its ``change`` (a version just inserted) is folded in: those that changed
        closed when it was recorded, the new ones open. A change in force on or after every earlier one (the usual
        case: history entered in order) changes the last segment only, so the entity's versions are not read."""
        segments, at = in_force_table(table), change.recorded
        last = self._last_segment(segments, entity_id)
        if last is not None and change.day >= last["in_force_from"]:
            if last["in_force_from"] == change.day:
                self._close_segment(segments, entity_id, change.day, at)
            # The last segment's columns that say when it is are all replaced.
            self._insert(segments, {**change.applied_to(last), "version": change.version,
                                    "in_force_from": change.day, "valid_from": at, "valid_to": None,
                                    "own_changes": None})
            return
        # With no last segment there is no open one (the last is the latest of them): not read again.
        close, insert = segment_changes(in_force_segments(self._versions_of(table, entity_id)),
                                        [] if last is None else self._open_segments(segments, entity_id))
        for segment in close:
            self._close_segment(segments, entity_id, segment["in_force_from"], at)
        for segment in insert:
            self._insert(segments, {**segment, "valid_from": at, "valid_to": None, "own_changes": None})

    def _last_segment(self, segments: str, entity_id: str) -> Mapping[str, Any] | None:
        found = self._tx.query(f"SELECT * FROM {segments} WHERE id = ? AND valid_to IS NULL"
                               " ORDER BY in_force_from DESC LIMIT 1", [entity_id])
        return found[0] if found else None

    def _open_segments(self, segments: str, entity_id: str) -> Sequence[Mapping[str, Any]]:
        return self._tx.query(f"SELECT * FROM {segments} WHERE id = ? AND valid_to IS NULL", [entity_id])

    def _versions_of(self, table: str, entity_id: str) -> list[Version]:
        return [Version.of(row) for row in self._tx.query(f"SELECT * FROM {table} WHERE id = ?", [entity_id])]

    def _close_segment(self, segments: str, entity_id: str, day: str, at: str) -> None:
        self._wrote(segments)
        self._tx.execute(f"UPDATE {segments} SET valid_to = ? WHERE id = ? AND valid_to IS NULL"
                         " AND in_force_from = ?", (at, entity_id, day))

    def _insert(self, table: str, row: Mapping[str, Any]) -> None:
        self._wrote(table)
        self._tx.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         list(row.values()))

    def current(self, table: str, entity_id: str) -> Mapping[str, Any] | None:
        key = (table, entity_id)
        if key in self._read:
            row = self._read[key]
        else:
            found = self._tx.query(f"SELECT * FROM {table} WHERE id = ? AND valid_to IS NULL", [entity_id])
            row = self._read[key] = found[0] if found else None
        return None if row is None else dict(row)  # a copy: a caller's change of it is not what was read

    def in_force_before(self, table: str, entity_id: str, day: str) -> Mapping[str, Any] | None:
        """The entity as the record now shows it in force on the day before ``day`` (its open segment from the
        latest day before it): what stood before the facts of ``day`` that an event takes back."""
        before = [s for s in self._open_segments(in_force_table(table), entity_id) if s["in_force_from"] < day]
        return max(before, key=lambda s: s["in_force_from"]) if before else None

    def current_ids(self, table: str, **equal: Any) -> list[str]:
        """The ids of the current rows whose columns have these values."""
        where = "".join(f" AND {column} = ?" for column in equal)
        return [row["id"] for row in self._tx.query(f"SELECT id FROM {table} WHERE valid_to IS NULL{where}",
                                                    list(equal.values()))]

    def close(self, table: str, entity_id: str, at: str) -> None:
        """End the validity of an entity's current row and of its segments (a new row then says what is true from
        ``at``, and refolds them)."""
        self._close_version(table, entity_id, at)
        self._wrote(in_force_table(table))
        self._tx.execute(f"UPDATE {in_force_table(table)} SET valid_to = ? WHERE id = ? AND valid_to IS NULL",
                         (at, entity_id))

    def _close_version(self, table: str, entity_id: str, at: str) -> None:
        """End the validity of an entity's current row only (its next version refolds its segments)."""
        self._wrote(table)
        self._tx.execute(f"UPDATE {table} SET valid_to = ? WHERE id = ? AND valid_to IS NULL", (at, entity_id))

    def carry(self, table: str, columns: Sequence[str], entity_id: str, at: str, changes: Mapping[str, Any]) -> None:
        """Close the entity's current row and insert a copy of it with ``changes``, in two statements the database
        runs on its own: a pipelined batch does not wait for a reply to read the row. Only for an entity known to
        exist (an id ``current_ids`` gave, a part of a row just read): nothing is read, so nothing is checked.
        ``changes`` include the new row's version and ``valid_from``."""
        if any(isinstance(v, Accruing) for v in changes.values()):
            raise ValueError("an accrual needs the row it accrues to: revise, not carry")
        self._close_version(table, entity_id, at)
        values, names, _ = self._version({**changes, "valid_to": None}, changes, None)
        columns = [*columns, *(c for c in ("own_changes",) if c not in columns)]
        select = ", ".join("?" if column in values else column for column in columns)
        self._wrote(table)
        self._tx.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table}"
                         " WHERE id = ? AND valid_to = ? ORDER BY version DESC LIMIT 1",
                         [*(values[c] for c in columns if c in values), entity_id, at])
        self._refold(table, entity_id, Version.made(values, names))

    def count(self, table: str, key: str) -> None:
        """Add one to a counter row ``(key, n)`` (e.g. ``event_counts``)."""
        self._wrote(table)
        self._tx.execute(f"INSERT INTO {table} (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET"
                         f" n = {table}.n + 1", (key,))

    # -- temporal rows, made of the primitives

    def put(self, table: str, envelope: Envelope, row: Mapping[str, Any]) -> None:
        """The entity's row from this event on (``row`` has its id): any current row closed, this one open (an
        ``Accrual`` in it applies to nothing: a put reads no row)."""
        at = timestamp(envelope.time)
        self._close_version(table, row["id"], at)
        self._write(table, {**row, "version": envelope.sequence, "valid_from": at, "valid_to": None}, None)

    def existing(self, table: str, entity_id: str, envelope: Envelope) -> Mapping[str, Any]:
        """The entity's current row, which ``envelope``'s event needs: ``MissingRow`` if there is none."""
        found = self.current(table, entity_id)
        if found is None:
            raise MissingRow(f"{envelope.type} of {envelope.subject} changes {table} {entity_id}, which no applied "
                             "event made")
        return found

    def revise(self, table: str, entity_id: str, envelope: Envelope, current: Mapping[str, Any] | None = None, /,
               **changes: Any) -> Mapping[str, Any]:
        """The entity's next version: its current row (``current``, when the caller has just read it) carried
        forward with ``changes`` (an ``Accrual`` applied to it), versioned by this event (unless ``changes`` give
        the version its own aggregate counts), the old one closed. A missing row is ``MissingRow``."""
        if current is None:
            current = self.existing(table, entity_id, envelope)
        at = timestamp(envelope.time)
        self._close_version(table, entity_id, at)
        row = {**current, "version": envelope.sequence, **changes, "valid_from": at, "valid_to": None}
        return self._write(table, row, changes, current)


def _opens(row: Mapping[str, Any]) -> bool:
    """Whether ``row`` is a new open version of a temporal table's entity."""
    return "valid_from" in row and row.get("valid_to") is None


def rows(tx: Tx) -> Rows:
    """The handlers' view of ``tx``: its own (a rebuild's transaction keeps rows in memory) or statements on it."""
    own: Rows | None = getattr(tx, "rows", None)
    return own if own is not None else Rows(tx)
